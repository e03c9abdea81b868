"""On-chip learning with Knowm M-SDC memristors on the 3×3 two-class task (after Eslami et al. 2024).

The network is the assumed H1 topology of science.md §2.2: 9 inputs, 3 tanh hidden neurons, 1 comparator output,
no biases — 30 weights, one memristor each, read against a mid-window reference conductance with a per-layer gain
(the neuron's amplifier), so 30 memristors and 4 neurons (``cell="differential"``: a pair per weight, 60 devices). Weights are learned in software with multiplicative
Gaussian weight noise (relative σ_train) and noisy inputs, mapped to target conductances, and written by
program-and-verify with or without an initial 200 ms reset. Inference reads the programmed conductances with a
relative conductance error and feeds noisy inputs. Every number is a mean ± std over seeds.

Parts (``parts`` in the config): ``materials`` (time, energy, pulses, accuracy per preset and reset mode),
``train-noise``, ``conductance-error`` and ``input-noise`` sweeps. Absolute times and energies come from placeholder
presets (see ``memristorch list``); the comparisons between settings are what they show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from .. import plots
from ..cells import make_cell
from ..data.patterns import pattern_samples
from ..devices import get_device
from ..devices.base import DeviceModel
from ..runner.progress import progress_bar
from ..runner.store import Results
from ..tiles.programming import VerifyConfig, program_and_verify

PARTS = ("device-iv", "verify-stats", "materials", "train-noise", "conductance-error", "input-noise")


class OnChip3x3Config(BaseModel):
    """Configuration of ``onchip-3x3``; defaults are the CPU-sized reproduction (about a minute on 2 cores)."""

    model_config = ConfigDict(extra="forbid")

    parts: list[
        Literal["device-iv", "verify-stats", "materials", "train-noise", "conductance-error", "input-noise"]
    ] = Field(default_factory=lambda: list(PARTS))
    materials: list[str] = Field(default_factory=lambda: ["knowm-w", "knowm-cr", "knowm-c"])
    cell: Literal["single", "differential"] = Field(
        "single",
        description="one memristor per weight against a reference (30 devices), or a differential pair (60)",
    )
    series_resistance_ohm: float = Field(
        0.0, ge=0, description="programming series resistor (Knowm's board: 1 kΩ); energies then include it"
    )
    device_d2d_std: float = Field(0.1, ge=0, le=1, description="log-normal D2D spread of every MSS parameter")
    seeds: int = Field(5, ge=1, le=100)
    hidden: int = Field(3, ge=1, le=64)
    n_train: int = Field(200, ge=2)
    n_test: int = Field(1000, ge=2)
    epochs: int = Field(300, ge=1)
    lr: float = Field(0.05, gt=0)
    pixel_noise_train: float = Field(
        0.4, ge=0, description="input noise during training (fraction of pixel swing)"
    )
    input_noise: float = Field(
        0.7,
        ge=0,
        description="input noise at test (fraction of pixel swing; 0.7 puts software accuracy near 97 %)",
    )
    train_noise: float = Field(0.1, ge=0, description="relative multiplicative weight noise during training")
    conductance_error: float = Field(0.05, ge=0, description="relative conductance error at inference")
    tolerance: float = Field(0.05, gt=0, lt=1)
    max_pulses: int = Field(100, ge=1)
    read_time_s: float = Field(1e-3, ge=0)
    reset_duration_s: float = Field(0.2, gt=0)
    train_noise_levels: list[float] = Field(default_factory=lambda: [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
    conductance_error_levels: list[float] = Field(
        default_factory=lambda: [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]
    )
    input_noise_levels: list[float] = Field(default_factory=lambda: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    sweep_material: str = "knowm-cr"
    iv_frequencies_hz: list[float] = Field(default_factory=lambda: [1.0, 10.0, 100.0])
    iv_amplitude_v: float = Field(1.0, gt=0)
    verify_tolerances: list[float] = Field(default_factory=lambda: [0.1, 0.05, 0.02, 0.01])
    verify_devices: int = Field(300, ge=1)
    threads: int = Field(2, ge=1)


def train_weights(config: OnChip3x3Config, train_noise: float, seed: int) -> list[torch.Tensor]:
    """Software training of the 9–H–1 net with weight-noise injection; returns ``[W1 (H×9), W2 (1×H)]``."""
    g = torch.Generator().manual_seed(seed)
    x, y = pattern_samples(config.n_train, config.pixel_noise_train, generator=g)
    w1 = (torch.randn(config.hidden, 9, generator=g) * 0.5).requires_grad_(True)
    w2 = (torch.randn(1, config.hidden, generator=g) * 0.5).requires_grad_(True)
    opt = torch.optim.Adam([w1, w2], lr=config.lr)
    target = y.float()
    for _ in range(config.epochs):
        opt.zero_grad()
        noisy = [w * (1 + train_noise * torch.randn(w.shape, generator=g)) for w in (w1, w2)]
        logits = forward(x, noisy).squeeze(1)
        F.binary_cross_entropy_with_logits(4.0 * logits, target).backward()
        opt.step()
    return [w1.detach(), w2.detach()]


def forward(x: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """Pre-comparator output of the 9–H–1 network (hidden neurons saturate like op-amps: tanh)."""
    return torch.tanh(x @ weights[0].T) @ weights[1].T


def accuracy(weights: list[torch.Tensor], input_noise: float, n: int, seed: int) -> float:
    x, y = pattern_samples(n, input_noise, generator=torch.Generator().manual_seed(10_000 + seed))
    predicted = (forward(x, weights).squeeze(1) > 0).long()
    return float((predicted == y).double().mean())


def hardware_weights(
    device: DeviceModel,
    weights: list[torch.Tensor],
    config: OnChip3x3Config,
    reset: bool,
    conductance_error: float,
    seed: int,
) -> tuple[list[torch.Tensor], dict[str, float]]:
    """Program the devices of every layer to its trained weights, then read them back with conductance error.

    Each layer gets its own cell (its neuron's amplifier gain), scaled so the largest weight sits 10 % inside the
    device window; ``config.cell`` picks one device against a reference or a differential pair per weight.
    """
    g = torch.Generator().manual_seed(20_000 + seed)
    cells = [make_cell(config.cell, device, w_max=float(w.abs().max()) / 0.9) for w in weights]
    targets = torch.cat(
        [c.target_conductances(w.double()).reshape(-1) for c, w in zip(cells, weights, strict=True)]
    )
    state = device.init_state((len(targets),), g)
    verify = VerifyConfig(
        tolerance=config.tolerance,
        max_pulses=config.max_pulses,
        reset=reset,
        reset_duration_s=config.reset_duration_s,
        read_time_s=config.read_time_s,
    )
    state, report = program_and_verify(device, state, targets, verify, g)
    conductance = device.conductance(state)
    conductance = conductance * (
        1 + conductance_error * torch.randn(conductance.shape, generator=g, dtype=conductance.dtype)
    )
    result, start = [], 0
    for cell, w in zip(cells, weights, strict=True):
        n = cell.devices_per_weight * w.numel()
        read = conductance[start : start + n].reshape(cell.devices_per_weight, *w.shape)
        result.append(cell.weight(read).float())
        start += n
    return result, report.summary()


def _mean_std(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def _device(name: str, config: OnChip3x3Config) -> DeviceModel:
    if not hasattr(get_device(name), "hold"):
        raise ValueError(f"{name!r} is not a time-domain memristor preset (needs reset support)")
    return get_device(name, d2d_std=config.device_d2d_std, series_resistance_ohm=config.series_resistance_ohm)


def device_characteristics(config: OnChip3x3Config):
    """I–V loops of each material at several sine frequencies, and its response to 30 SET then 30 RESET pulses."""
    from ..devices.mss import sine_waveform

    rows, loops, traces = [], {}, {}
    for name in config.materials:
        device = _device(name, config.model_copy(update={"device_d2d_std": 0.0}))
        for f in config.iv_frequencies_hz:
            t, v = sine_waveform(config.iv_amplitude_v, f, 2.0 / f, 1.0 / (f * 1000))
            result = device.apply_waveform(device.init_state((1,)), t, v, record=True)
            i = result.current_a[1000:, 0].numpy()
            vv = v[1000:].numpy()
            lobe = abs(float(np.trapezoid(i[:501], vv[:501])))
            rows.append(
                {
                    "material": name,
                    "frequency_hz": f,
                    "lobe_area_va": lobe,
                    "energy_j": float(result.energy_j),
                }
            )
            loops[f"{name} {f:g} Hz"] = (vv, i)
        state = device.init_state((1,))
        g = [float(device.conductance(state))]
        for sign in [1.0] * 30 + [-1.0] * 30:
            state = device.apply_pulses(state, torch.tensor([sign]))
            g.append(float(device.conductance(state)))
        traces[name] = g
    return rows, plots.iv_loops(loops), plots.pulse_traces(traces)


def verify_statistics(config: OnChip3x3Config) -> list[dict]:
    """Program-and-verify of many devices to random mid-window targets at several tolerances, per material."""
    rows = []
    for name in config.materials:
        device = _device(name, config)
        g = torch.Generator().manual_seed(1)
        state = device.init_state((config.verify_devices,), g)
        low, high = device.g_min_s, device.g_max_s
        span = high - low
        targets = torch.empty(config.verify_devices, dtype=torch.float64).uniform_(
            low + 0.05 * span, high - 0.05 * span, generator=g
        )
        for tolerance in config.verify_tolerances:
            verify = VerifyConfig(
                tolerance=tolerance, max_pulses=config.max_pulses, read_time_s=config.read_time_s
            )
            _, report = program_and_verify(device, state, targets, verify, g)
            rows.append({"material": name, "tolerance": tolerance, **report.summary()})
    return rows


def run(config: OnChip3x3Config, run_dir: Path | None = None, resume: bool = False) -> Results:
    torch.set_num_threads(config.threads)
    tables: dict[str, list[dict]] = {}
    figures: dict = {}
    summary: dict = {}
    seeds = list(range(config.seeds))
    trained = {s: train_weights(config, config.train_noise, s) for s in seeds}
    summary["software_clean_accuracy"] = _mean_std(
        [accuracy(trained[s], 0.0, config.n_test, s) for s in seeds]
    )[0]
    summary["software_noisy_accuracy"] = _mean_std(
        [accuracy(trained[s], config.input_noise, config.n_test, s) for s in seeds]
    )[0]

    steps = len(config.materials) * 2 * config.seeds * ("materials" in config.parts)
    for part, levels in (
        ("train-noise", config.train_noise_levels),
        ("conductance-error", config.conductance_error_levels),
        ("input-noise", config.input_noise_levels),
    ):
        steps += len(levels) * config.seeds * (part in config.parts)
    if "device-iv" in config.parts:
        tables["device_iv"], figures["device_iv"], figures["pulse_response"] = device_characteristics(config)
    if "verify-stats" in config.parts:
        rows = verify_statistics(config)
        tables["verify_stats"] = rows
        figures["verify_stats"] = plots.sweep_xy(
            [r["tolerance"] for r in rows],
            {m: [r["mean_pulses"] for r in rows if r["material"] == m] for m in config.materials},
            "verify tolerance (relative)",
            "mean pulses per device",
            log_x=True,
        )
        summary["verify_converged_fraction"] = {
            f"{r['material']}@{r['tolerance']}": r["converged_fraction"] for r in rows
        }
    with progress_bar() as progress:
        task = progress.add_task("onchip-3x3", total=steps)

        if "materials" in config.parts:
            rows = []
            for name in config.materials:
                device = _device(name, config)
                for reset in (False, True):
                    per_seed = []
                    for s in seeds:
                        hw, report = hardware_weights(
                            device, trained[s], config, reset, config.conductance_error, s
                        )
                        per_seed.append(
                            {**report, "accuracy": accuracy(hw, config.input_noise, config.n_test, s)}
                        )
                        progress.advance(task)
                    row = {"material": name, "reset": reset}
                    for key in ("accuracy", "time_s", "energy_j", "pulses", "converged_fraction", "devices"):
                        row[key], row[f"{key}_std"] = _mean_std([r[key] for r in per_seed])
                    rows.append(row)
                    mode = "reset" if reset else "no_reset"
                    summary[f"{name}/{mode}"] = {
                        "accuracy": row["accuracy"],
                        "training_time_s": row["time_s"],
                        "energy_j": row["energy_j"],
                        "pulses": row["pulses"],
                    }
            tables["materials"] = rows
            no_reset = {r["material"]: r for r in rows if not r["reset"]}
            with_reset = {r["material"]: r for r in rows if r["reset"]}
            summary["reset_time_factor"] = {
                m: with_reset[m]["time_s"] / no_reset[m]["time_s"] for m in no_reset
            }
            summary["reset_energy_factor"] = {
                m: with_reset[m]["energy_j"] / no_reset[m]["energy_j"] for m in no_reset
            }
            figures["materials"] = plots.grouped_bars(
                [r["material"] for r in rows if not r["reset"]],
                {
                    "time, no reset (s)": [r["time_s"] for r in rows if not r["reset"]],
                    "time, reset (s)": [r["time_s"] for r in rows if r["reset"]],
                },
                "programming time of the 30 memristors",
            )

        device = _device(config.sweep_material, config)

        def sweep(part: str, levels: list[float], evaluate) -> None:
            rows = []
            for level in levels:
                values = []
                for s in seeds:
                    values.append(evaluate(level, s))
                    progress.advance(task)
                mean, std = _mean_std(values)
                rows.append({"level": level, "accuracy": mean, "accuracy_std": std})
            tables[part] = rows
            figures[part] = plots.sweep(
                [r["level"] for r in rows],
                [r["accuracy"] for r in rows],
                [r["accuracy_std"] for r in rows],
                part,
            )
            summary[f"{part}_best_level"] = max(rows, key=lambda r: r["accuracy"])["level"]
            summary[f"{part}_accuracy"] = {str(r["level"]): r["accuracy"] for r in rows}

        if "train-noise" in config.parts:

            def by_train_noise(level: float, s: int) -> float:
                hw, _ = hardware_weights(
                    device, train_weights(config, level, s), config, False, config.conductance_error, s
                )
                return accuracy(hw, config.input_noise, config.n_test, s)

            sweep("train-noise", config.train_noise_levels, by_train_noise)
        if "conductance-error" in config.parts:

            def by_conductance_error(level: float, s: int) -> float:
                hw, _ = hardware_weights(device, trained[s], config, False, level, s)
                return accuracy(hw, config.input_noise, config.n_test, s)

            sweep("conductance-error", config.conductance_error_levels, by_conductance_error)
        if "input-noise" in config.parts:

            def by_input_noise(level: float, s: int) -> float:
                hw, _ = hardware_weights(device, trained[s], config, False, config.conductance_error, s)
                return accuracy(hw, level, config.n_test, s)

            sweep("input-noise", config.input_noise_levels, by_input_noise)

    return Results(summary=summary, tables=tables, figures=figures)
