"""``weakreset-bnn``: BNN training with weak-RESET RRAM pairs as the weights, imperfections removed in turn (target 9).

Conditions (each over ``seeds`` seeds): the ideal software BNN (Adam on real hidden weights); the device mean model
without D2D; mean + D2D; the full model (D2D + RTN + 1/f); and the full model with D2D, RTN or 1/f removed. The
study's claim is the ordering: ideal ≥ mean without D2D > with D2D, and removing D2D recovers more accuracy than
removing RTN or 1/f. CPU defaults: 784-256-10 (scaled from 3000), batch 1000, 5 epochs; the paper's MLP is 3000 wide.
With ``dataset: cifar10`` the network is the VGG-like conv BNN (every conv and FC weight a weak-RESET pair, the first
conv on the real image); ``configs/weakreset-bnn-cifar10.yaml`` is the reported, reduced-width CIFAR-10 run.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from .. import plots
from ..devices.weak_reset import WeakResetRRAM
from ..nn.device_binary import WeakResetBinaryConv2d, WeakResetBinaryLayer, WeakResetBinaryLinear
from ..optim import PulseAdam
from ..runner.config import StudyConfig
from ..runner.progress import progress_bar
from ..runner.seeds import stream
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from ..runner.train import batches_per_epoch, train_minibatches
from .bnn_common import (
    BNNTraining,
    DatasetName,
    Width,
    accuracy,
    build_network,
    load_split,
    replicate_seed,
    train_bnn,
    trained_model,
)

#: condition → (d2d, rtn, pink); None = the ideal software BNN
CONDITIONS: dict[str, tuple[bool, bool, bool] | None] = {
    "ideal": None,
    "mean": (False, False, False),
    "mean+d2d": (True, False, False),
    "full": (True, True, True),
    "full-no-d2d": (False, True, True),
    "full-no-rtn": (True, False, True),
    "full-no-pink": (True, True, False),
}


class WeakResetBNNConfig(StudyConfig):
    dataset: DatasetName = "mnist"
    data_dir: str | None = None
    hidden: int = Field(256, ge=1, le=65536, description="hidden width of the MLP")
    architecture: Literal["auto", "mlp", "conv"] = Field(
        "auto", description="auto: the VGG-like conv BNN for cifar10, the MLP otherwise"
    )
    conv_channels: list[Width] = Field(
        default_factory=lambda: [32, 32, 64, 64, 128, 128],
        min_length=1,
        max_length=16,
        description="3×3 conv widths of the conv BNN, 2×2 max-pool after every second (the VGG-like BNN of "
        "Majumdar et al., IEEE TED 2021, at reduced width)",
    )
    conv_fc: list[Width] = Field(
        default_factory=lambda: [256], max_length=8, description="hidden FC widths of the conv BNN"
    )
    epochs: int = Field(5, ge=1, le=1000)
    batch_size: int = Field(1000, ge=2, le=65536)
    pulse_gain: float = Field(
        8.0, gt=0, le=1e4, description="Adam lr read as pulses (authors: 8; README 100)"
    )
    max_pulses: int = Field(14, ge=1, le=10_000)
    software_lr: float = Field(8e-3, gt=0, le=10, description="Adam lr of batch-norm parameters")
    ideal_lr: float = Field(0.005, gt=0, le=10, description="Adam lr of the ideal software BNN")
    faithful: bool = False
    conditions: list[str] = Field(default_factory=lambda: list(CONDITIONS))
    seeds: int = Field(3, ge=1, le=20)
    train_subset: int | None = Field(None, ge=2, le=10_000_000)
    test_subset: int | None = Field(None, ge=1, le=10_000_000)
    threads: int = Field(2, ge=1, le=256)

    def training(self) -> BNNTraining:
        """The shared BNN settings (data, network shape; the ideal BNN's Adam lr)."""
        return BNNTraining(
            dataset=self.dataset,
            data_dir=self.data_dir,
            hidden=[self.hidden],
            architecture=self.architecture,
            conv_channels=self.conv_channels,
            conv_fc=self.conv_fc,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.ideal_lr,
            train_subset=self.train_subset,
            test_subset=self.test_subset,
        )


def build_device_bnn(settings: BNNTraining, data, device: WeakResetRRAM, seed: int, max_pulses: int):
    """The BNN of ``settings`` (MLP or conv) with every weight layer on weak-RESET pairs."""
    generator = stream(seed, "devices")
    return build_network(
        settings,
        data,
        seed=seed,
        linear_layer=lambda a, b: WeakResetBinaryLinear(a, b, device, generator, max_pulses),
        conv_layer=lambda a, b: WeakResetBinaryConv2d(a, b, 3, device, generator, max_pulses, padding=1),
    )


def train_device_bnn(
    model, x, y, config: WeakResetBNNConfig, seed: int, progress=None, task=None
) -> list[float]:
    """Pulse Adam with the device in the loop; returns the loss per epoch."""
    optimizer = PulseAdam(model.parameters(), lr=config.pulse_gain, software_lr=config.software_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.5)  # the authors' schedule
    return train_minibatches(
        model,
        optimizer,
        lambda index: F.cross_entropy(model(x[index]), y[index]),
        len(y),
        epochs=config.epochs,
        batch_size=config.batch_size,
        generator=stream(seed, "training"),
        min_batch=2,
        scheduler=scheduler,
        after_batch=(lambda: progress.advance(task)) if progress is not None else None,
    )


def run(config: WeakResetBNNConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "weakreset-bnn", config)
    torch.set_num_threads(config.threads)
    for name in config.conditions:
        if name not in CONDITIONS:
            raise ValueError(f"conditions entries must be among {', '.join(CONDITIONS)}; got {name!r}")
    settings = config.training()
    data, x, y = load_split(settings)
    per_condition = {name: [] for name in config.conditions}
    pulses = {name: [] for name in config.conditions}
    steps = config.epochs * batches_per_epoch(len(y), config.batch_size, min_batch=2)
    with progress_bar() as progress:
        task = progress.add_task("weakreset-bnn", total=steps * len(config.conditions) * config.seeds)
        for replicate in range(config.seeds):
            seed = replicate_seed(config, replicate)
            for name in config.conditions:
                flags = CONDITIONS[name]
                key = f"{name}_rep{replicate}"
                if flags is None:
                    model, _ = trained_model(
                        store,
                        key,
                        lambda s=seed: build_network(settings, data, seed=s),
                        lambda m, s=seed: train_bnn(
                            m, x, y, settings.model_copy(update={"seed": s}), None, progress, task
                        ),
                    )
                    pulses[name].append(0)
                else:
                    d2d, rtn, pink = flags
                    device = WeakResetRRAM(d2d=d2d, rtn=rtn, pink=pink, faithful=config.faithful)
                    model, _ = trained_model(
                        store,
                        key,
                        lambda s=seed, d=device: build_device_bnn(settings, data, d, s, config.max_pulses),
                        lambda m, s=seed: train_device_bnn(m, x, y, config, s, progress, task),
                    )
                    pulses[name].append(
                        sum(m.array.pulses_total for m in model if isinstance(m, WeakResetBinaryLayer))
                    )
                per_condition[name].append(accuracy(model, data.test.x, data.test.y))
    rows = []
    summary_acc = {}
    for name in config.conditions:
        mean, std = mean_std(per_condition[name])
        summary_acc[name] = mean
        rows.append(
            {
                "condition": name,
                "accuracy": mean,
                "accuracy_std": std,
                "pulses": mean_std(pulses[name])[0],
                "per_seed": per_condition[name],
            }
        )
    summary = {
        "test_accuracy": summary_acc,
        "test_accuracy_std": {r["condition"]: r["accuracy_std"] for r in rows},
        "seeds": config.seeds,
        "hidden": config.hidden,
        "dataset": config.dataset,
    }
    if {"full", "full-no-d2d", "full-no-rtn", "full-no-pink"} <= set(config.conditions):
        summary["recovered_pts"] = {
            k: 100 * (summary_acc[f"full-no-{k}"] - summary_acc["full"]) for k in ("d2d", "rtn", "pink")
        }
    figure = plots.grouped_bars(
        config.conditions,
        {"test accuracy": [summary_acc[n] for n in config.conditions]},
        f"device in the loop (mean ± std, n = {config.seeds} seeds)",
        errors={"test accuracy": [r["accuracy_std"] for r in rows]},
        y_label="test accuracy",
    )
    figure.axes[0].set_ylim(min(summary_acc.values()) - 0.05, 1.0)
    figure.axes[0].tick_params(axis="x", labelrotation=30)
    return Results(summary=summary, tables={"ablation": rows}, figures={"ablation": figure})
