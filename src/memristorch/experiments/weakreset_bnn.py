"""``weakreset-bnn``: BNN training with weak-RESET RRAM pairs as the weights, imperfections removed in turn (target 9).

Conditions (each over ``seeds`` seeds): the ideal software BNN (Adam on real hidden weights); the device mean model
without D2D; mean + D2D; the full model (D2D + RTN + 1/f); and the full model with D2D, RTN or 1/f removed. The
study's claim is the ordering: ideal ≥ mean without D2D > with D2D, and removing D2D recovers more accuracy than
removing RTN or 1/f. CPU defaults: 784-256-10 (scaled from 3000), batch 1000, 5 epochs; the paper's MLP is 3000 wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from .. import plots
from ..devices.weak_reset import WeakResetRRAM
from ..nn.binary import SignActivation
from ..nn.device_binary import WeakResetBinaryLinear
from ..optim import PulseAdam
from ..runner.progress import progress_bar
from ..runner.store import Results
from .bnn_common import BNNTraining, accuracy, build_bnn, load_split, mean_std, train_bnn

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


class WeakResetBNNConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    data_dir: str | None = None
    hidden: int = Field(256, ge=1)
    epochs: int = Field(5, ge=1)
    batch_size: int = Field(1000, ge=2)
    pulse_gain: float = Field(8.0, gt=0, description="Adam lr read as pulses (authors: 8; README 100)")
    max_pulses: int = Field(14, ge=1)
    software_lr: float = Field(8e-3, gt=0, description="Adam lr of batch-norm parameters")
    ideal_lr: float = Field(0.005, gt=0, description="Adam lr of the ideal software BNN")
    faithful: bool = False
    conditions: list[str] = Field(default_factory=lambda: list(CONDITIONS))
    seeds: int = Field(3, ge=1, le=20)
    train_subset: int | None = Field(None, ge=1)
    threads: int = Field(2, ge=1)


def build_device_bnn(n_in: int, hidden: int, n_out: int, device: WeakResetRRAM, seed: int, max_pulses: int):
    generator = torch.Generator().manual_seed(seed)
    return nn.Sequential(
        WeakResetBinaryLinear(n_in, hidden, device, generator, max_pulses),
        nn.BatchNorm1d(hidden),
        SignActivation(),
        WeakResetBinaryLinear(hidden, n_out, device, generator, max_pulses),
        nn.BatchNorm1d(n_out),
    )


def train_device_bnn(model, x, y, config: WeakResetBNNConfig, seed: int, progress=None, task=None) -> None:
    optimizer = PulseAdam(model.parameters(), lr=config.pulse_gain, software_lr=config.software_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.5)  # the authors' schedule
    generator = torch.Generator().manual_seed(seed + 17)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), config.batch_size):
            index = order[i : i + config.batch_size]
            if len(index) < 2:
                continue
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()
            if progress is not None:
                progress.advance(task)
        scheduler.step()
    model.eval()


def run(config: WeakResetBNNConfig, run_dir: Path | None = None, resume: bool = False) -> Results:
    torch.set_num_threads(config.threads)
    for name in config.conditions:
        if name not in CONDITIONS:
            raise ValueError(f"conditions entries must be among {', '.join(CONDITIONS)}; got {name!r}")
    settings = BNNTraining(
        dataset=config.dataset,
        data_dir=config.data_dir,
        hidden=[config.hidden],
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.ideal_lr,
        train_subset=config.train_subset,
    )
    data, x, y = load_split(settings)
    per_condition = {name: [] for name in config.conditions}
    pulses = {name: [] for name in config.conditions}
    steps = config.epochs * -(-len(y) // config.batch_size)
    with progress_bar() as progress:
        task = progress.add_task("weakreset-bnn", total=steps * len(config.conditions) * config.seeds)
        for seed in range(config.seeds):
            for name in config.conditions:
                flags = CONDITIONS[name]
                if flags is None:
                    model = build_bnn(data.n_features, [config.hidden], data.n_classes, seed=seed)
                    train_bnn(model, x, y, settings.model_copy(update={"seed": seed}), None, progress, task)
                    pulses[name].append(0)
                else:
                    d2d, rtn, pink = flags
                    device = WeakResetRRAM(d2d=d2d, rtn=rtn, pink=pink, faithful=config.faithful)
                    model = build_device_bnn(
                        data.n_features, config.hidden, data.n_classes, device, seed, config.max_pulses
                    )
                    train_device_bnn(model, x, y, config, seed, progress, task)
                    pulses[name].append(
                        sum(m.array.pulses_total for m in model if isinstance(m, WeakResetBinaryLinear))
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
        "device in the loop",
    )
    figure.axes[0].set_ylim(min(summary_acc.values()) - 0.05, 1.0)
    figure.axes[0].tick_params(axis="x", labelrotation=30)
    return Results(summary=summary, tables={"ablation": rows}, figures={"ablation": figure})
