"""The skeleton both biosignal studies share: every variant × width × seed trained, scored, sized and put on chips.

A study supplies its data (train and test tensors), a scoring function of test predictions, and the name of its
headline score; this module trains each network (checkpointed in the run store), counts its memory, and evaluates
the binarized ones with their binary weights stored in 2T2R cells at each programming condition (the bit-error and
energy models of :mod:`memristorch.devices.binary_rram` and :class:`~memristorch.cells.binary_rram.TwoT2RCell`) and
at i.i.d. bit-error rates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import torch
from pydantic import Field

from ... import plots
from ...cells.binary_rram import TwoT2RCell
from ...devices.binary_rram import BinaryRRAM
from ...nn.memory import total_bits
from ...runner.config import StudyConfig
from ...runner.seeds import derive_seed
from ...runner.stats import describe, mean_std
from ...runner.store import RunStore
from ..bnn_common import trained_model
from ..bnn_programming_energy import programming_conditions
from .networks import VARIANTS, BiosignalCNN, Variant, scaled
from .training import class_weights, predict, predictions_on_chips, train_network

Multiplier = Annotated[int, Field(ge=1, le=64)]
Channels = Annotated[int, Field(ge=1, le=4096)]
Kernel = Annotated[int, Field(ge=1, le=255)]
Rate = Annotated[float, Field(ge=0, le=1)]


class BiosignalStudy(StudyConfig):
    """Settings shared by ``ecg-bnn`` and ``eeg-bnn``: networks, training, replicates and the chip evaluation."""

    data_dir: str | None = None
    """Data folder (else ``$MEMRISTORCH_DATA``)."""
    variants: list[Variant] = Field(default_factory=lambda: list(VARIANTS), min_length=1, max_length=3)
    """Network variants: float, classifier-binary (binary dense classifier), full-binary."""
    widths: list[Multiplier] = Field(default_factory=lambda: [1, 2, 4], min_length=1, max_length=6)
    """Channel-width multipliers applied to ``channels`` and ``hidden``."""
    replicates: int = Field(3, ge=1, le=50)
    """Seeds per variant and width (named seed streams derived from ``seed``)."""
    channels: list[Channels] = Field(default_factory=lambda: [8, 16, 32], min_length=1, max_length=8)
    """Convolution widths at ×1 (each followed by 2× max-pooling)."""
    kernels: list[Kernel] = Field(default_factory=lambda: [7, 5, 5], min_length=1, max_length=8)
    """Convolution kernel sizes (odd, 'same' padding)."""
    hidden: int = Field(32, ge=1, le=4096)
    """Hidden width of the dense classifier at ×1."""
    epochs: int = Field(4, ge=1, le=500)
    """Training epochs."""
    batch_size: int = Field(256, ge=2, le=65536)
    """Samples per minibatch."""
    lr_float: float = Field(0.003, gt=0, le=1)
    """Adam learning rate of the float network."""
    lr_binary: float = Field(0.005, gt=0, le=1)
    """Adam learning rate of the binarized networks (Laborieux et al. 2021 use 0.005)."""
    class_weight_power: float = Field(0.0, ge=0, le=1)
    """Loss weight per class ∝ (1/n_class)^power (0: plain cross-entropy, 1: fully balanced)."""
    class_weight_cap: float = Field(50.0, ge=1, le=1e6)
    """Largest class weight relative to the most frequent class."""
    current_min_a: float = Field(5e-6, gt=0, le=1e-2)
    """Weakest 2T2R programming compliance current (A) of the chip sweep."""
    current_max_a: float = Field(200e-6, gt=0, le=1e-2)
    """Strongest compliance current (A)."""
    reset_min_v: float = Field(1.2, gt=0, le=10)
    """RESET voltage (V) at the weakest condition, rising linearly in log current."""
    reset_max_v: float = Field(2.0, gt=0, le=10)
    """RESET voltage (V) at the strongest condition."""
    conditions: int = Field(6, ge=2, le=100)
    """Programming conditions of the chip sweep."""
    iid_bers: list[Rate] = Field(default_factory=lambda: [1e-4, 1e-3, 1e-2, 1e-1], max_length=20)
    """i.i.d. sign-flip rates of the binary weights also evaluated."""
    chip_draws: int = Field(2, ge=1, le=100)
    """Chips drawn per condition (each programmed once)."""
    chip_tolerance: float = Field(0.01, gt=0, lt=1)
    """Score drop (fraction) still counted as tolerated on the chip."""
    threads: int = Field(2, ge=1, le=256)
    """torch threads (does not change results)."""


@dataclass(frozen=True)
class Task:
    """One classification problem of a study: tensors, class names, the scoring of test predictions, the headline."""

    name: str
    classes: tuple[str, ...]
    x_train: torch.Tensor
    extra_train: torch.Tensor | None
    y_train: torch.Tensor
    x_test: torch.Tensor
    extra_test: torch.Tensor | None
    y_test: torch.Tensor
    score: Callable[[torch.Tensor], dict]
    headline: str
    widths: tuple[int, ...] | None = None
    variants: tuple[str, ...] | None = None


def flatten_scores(prefix: str, scores: dict) -> dict:
    out = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            for k, v in value.items():
                out[f"{prefix}{key}_{k}"] = v
        elif not isinstance(value, list):
            out[f"{prefix}{key}"] = value
    return out


def run_task(config: BiosignalStudy, store: RunStore, task: Task, progress, training_task) -> dict:
    """Train, score, size and chip-test every network of ``task``; returns rows and the per-network summary."""
    weights = class_weights(
        task.y_train, len(task.classes), config.class_weight_power, config.class_weight_cap
    )
    cell = TwoT2RCell(BinaryRRAM())
    conditions = programming_conditions(config)
    widths = task.widths or tuple(config.widths)
    variants = task.variants or tuple(config.variants)
    rows, chip_rows, confusions, summary = [], [], {}, {}
    for width in widths:
        for variant in variants:
            name = f"{variant}-x{width}"
            per_seed = []
            for replicate in range(config.replicates):
                seed = derive_seed(config.seed, f"{task.name}/{name}", replicate)
                lr = config.lr_float if variant == "float" else config.lr_binary

                def build(variant=variant, width=width, seed=seed):
                    return BiosignalCNN(
                        variant,
                        task.x_train.shape[-1],
                        len(task.classes),
                        scaled(config.channels, width),
                        config.kernels,
                        config.hidden * width,
                        n_extra=task.extra_train.shape[1] if task.extra_train is not None else 0,
                        seed=seed,
                    )

                def train(model, seed=seed, lr=lr):
                    return train_network(
                        model,
                        task.x_train,
                        task.extra_train,
                        task.y_train,
                        epochs=config.epochs,
                        batch_size=config.batch_size,
                        lr=lr,
                        weights=weights,
                        seed=seed,
                        after_batch=lambda: progress.advance(training_task),
                    )

                model, losses = trained_model(store, f"{task.name}-{name}-r{replicate}", build, train)
                scores = task.score(predict(model, task.x_test, task.extra_test))
                confusions.setdefault(name, scores.pop("confusion"))
                bits = total_bits(model)
                row = {"task": task.name, "network": name, "variant": variant, "width": width}
                row |= {
                    "replicate": replicate,
                    "memory_bits": bits,
                    "classifier_bits": total_bits(model, prefix="classifier"),
                }
                row |= {"final_loss": losses[-1]} | flatten_scores("", scores)
                rows.append(row)
                per_seed.append(row)
                if variant != "float":
                    chip_rows += _chip_rows(
                        config, task, model, name, replicate, scores[task.headline], cell, conditions
                    )
            summary[name] = {
                key: describe([r[key] for r in per_seed])
                for key in per_seed[0]
                if isinstance(per_seed[0][key], float) and key != "final_loss"
            } | {"memory_bits": per_seed[0]["memory_bits"], "classifier_bits": per_seed[0]["classifier_bits"]}
    return {"rows": rows, "chip_rows": chip_rows, "confusions": confusions, "summary": summary}


def _chip_rows(config, task, model, name, replicate, clean, cell, conditions) -> list[dict]:
    rows = []
    points = [("2T2R", c, cell.bit_error_rate(c), cell.energy_per_bit_j(c)) for c in conditions]
    points += [("iid", None, ber, None) for ber in config.iid_bers]
    for index, (kind, condition, ber, energy) in enumerate(points):
        seed = derive_seed(config.seed, f"{task.name}/{name}/chip", replicate, index)
        values = [
            task.score(p)[task.headline]
            for p in predictions_on_chips(model, task.x_test, task.extra_test, ber, config.chip_draws, seed)
        ]
        mean, std = mean_std(values)
        rows.append(
            {
                "task": task.name,
                "network": name,
                "replicate": replicate,
                "storage": kind,
                "compliance_current_a": condition.compliance_current_a if condition else None,
                "energy_per_bit_j": energy,
                "ber": ber,
                task.headline: mean,
                f"{task.headline}_std_over_chips": std,
                "clean": clean,
                "drop": clean - mean,
            }
        )
    return rows


def chip_summary(config: BiosignalStudy, chip_rows: list[dict], headline: str) -> dict:
    """Per network: the mean drop at each 2T2R condition and i.i.d. BER, and the weakest tolerated condition."""
    out = {}
    for name in sorted({r["network"] for r in chip_rows}):
        mine = [r for r in chip_rows if r["network"] == name]
        two = sorted({r["energy_per_bit_j"] for r in mine if r["storage"] == "2T2R"})
        per_energy = {}
        for energy in two:
            drops = [r["drop"] for r in mine if r["energy_per_bit_j"] == energy]
            ber = next(r["ber"] for r in mine if r["energy_per_bit_j"] == energy)
            per_energy[energy] = (ber, describe(drops))
        tolerated = [e for e, (_, d) in per_energy.items() if d["mean"] <= config.chip_tolerance]
        weakest = min(tolerated) if tolerated else None
        out[name] = {
            "weakest_tolerated_energy_per_bit_j": weakest,
            "ber_at_weakest_tolerated": per_energy[weakest][0] if weakest is not None else None,
            "energy_saving_vs_strongest": (max(two) / weakest) if weakest else None,
            "drop_at_weakest_condition": per_energy[min(two)][1],
            "ber_at_weakest_condition": per_energy[min(two)][0],
            "drop_at_iid_ber": {
                str(b): describe([r["drop"] for r in mine if r["storage"] == "iid" and r["ber"] == b])
                for b in config.iid_bers
            },
        }
    return out


def memory_figure(summary: dict, headline: str, label: str):
    """Headline score against memory bits, one series per variant, one point per width, error bars over seeds."""
    series: dict[str, list] = {}
    for name, entry in summary.items():
        variant = name.rsplit("-x", 1)[0]
        stats = entry[headline]
        series.setdefault(variant, []).append((entry["memory_bits"], stats["mean"], stats["std"]))
    return plots.memory_accuracy({k: sorted(v) for k, v in series.items()}, label)


def chip_figure(chip_rows: list[dict], headline: str, label: str):
    """Headline score against 2T2R programming energy per bit, per binarized network (mean over seeds)."""
    xs, ys = {}, {}
    for name in sorted({r["network"] for r in chip_rows}):
        energies = sorted(
            {r["energy_per_bit_j"] for r in chip_rows if r["network"] == name and r["storage"] == "2T2R"}
        )
        xs[name] = [e * 1e12 for e in energies]
        ys[name] = [
            mean_std([r[headline] for r in chip_rows if r["network"] == name and r["energy_per_bit_j"] == e])[
                0
            ]
            for e in energies
        ]
    return plots.curves_xy(xs, ys, "2T2R programming energy per bit (pJ)", label, log_x=True)


def training_steps(config: BiosignalStudy, tasks: list[Task]) -> int:
    from ...runner.train import batches_per_epoch

    total = 0
    for task in tasks:
        n = len(task.widths or config.widths) * len(task.variants or config.variants) * config.replicates
        total += n * config.epochs * batches_per_epoch(len(task.y_train), config.batch_size, min_batch=2)
    return total
