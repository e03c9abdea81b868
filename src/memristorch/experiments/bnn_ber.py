"""``bnn-ber``: accuracy of BNN MLPs against the bit-error rate of their weight memory (Hirtzlin et al.,
AICAS 2019, arXiv 1904.03652; Front. Neurosci. 13:1383, 2020).

For every data set and width, two networks are trained: a standard BNN, and an error-aware one that sees i.i.d.
sign flips at ``train_ber`` on every training pass (Hirtzlin et al., AICAS 2019). Each is then programmed into
``draws`` simulated chips per BER (the flips drawn once per chip, as stored errors) and tested. Reported: accuracy vs
BER (mean ± std over chips and seeds) and, per network, the BER at which accuracy has fallen 1 and 5 points below
its error-free value (interpolated in log BER; the largest BER of the sweep when it never falls that far).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from .. import plots
from ..cells.bit_errors import SignFlips
from ..runner.progress import progress_bar
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from .bnn_common import (
    BNNTraining,
    Width,
    accuracy_under_errors,
    build_network,
    load_split,
    replicate_seed,
    steps_per_training,
    tolerated_ber,
    train_bnn,
    trained_model,
)


class BNNBerConfig(BNNTraining):
    """Configuration of ``bnn-ber``: CPU defaults (5 epochs, one seed); the papers train for hundreds of epochs."""

    datasets: list[str] = Field(default_factory=lambda: ["fashion-mnist", "mnist"])
    widths: list[list[Width]] = Field(
        max_length=16,
        default_factory=lambda: [[1024, 1024], [128, 128]],
        description="hidden widths: the wide and the narrow MLP",
    )
    bers: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 4e-2, 1e-1, 2e-1]
    )
    train_ber: float = Field(1e-2, ge=0, le=1, description="sign-flip rate seen during error-aware training")
    draws: int = Field(5, ge=1, le=1000, description="simulated chips per BER")
    seeds: int = Field(1, ge=1, le=20)

    @field_validator("bers")
    @classmethod
    def _check_bers(cls, value: list[float]) -> list[float]:
        for ber in value:
            if not 0.0 <= ber <= 1.0:
                raise ValueError(f"every BER must lie in [0, 1], got {ber}")
        if not any(b > 0 for b in value):
            raise ValueError("bers needs at least one nonzero BER")
        return sorted(value)

    @field_validator("datasets")
    @classmethod
    def _check_datasets(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in ("digits", "mnist", "fashion-mnist", "cifar10"):
                raise ValueError(
                    f"datasets entries must be digits, mnist, fashion-mnist or cifar10; got {name!r}"
                )
        return value


def run(config: BNNBerConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "bnn-ber", config)
    import torch

    torch.set_num_threads(config.threads)
    rows, summary, curves = [], {}, {}
    splits = {name: load_split(config.model_copy(update={"dataset": name})) for name in config.datasets}
    trainings = {"standard": 0.0, "error_aware": config.train_ber}

    def widths_of(name: str) -> list[list[int] | None]:
        # the conv BNN (cifar10, or architecture=conv) has one shape; the MLP widths apply to the others
        return [None] if config.model_copy(update={"dataset": name}).uses_conv() else config.widths

    total = sum(
        steps_per_training(len(splits[name][2]), config)
        * len(widths_of(name))
        * len(trainings)
        * config.seeds
        for name in config.datasets
    )
    with progress_bar() as progress:
        task = progress.add_task("bnn-ber training", total=total)
        for name in config.datasets:
            data, x, y = splits[name]
            for hidden in widths_of(name):
                if hidden is None:
                    width = (
                        "conv"
                        + "-".join(map(str, config.conv_channels))
                        + "-fc"
                        + "-".join(map(str, config.conv_fc))
                    )
                    hidden = config.hidden
                else:
                    width = "-".join(str(h) for h in hidden)
                entry = {}
                for training, train_ber in trainings.items():
                    per_ber = {ber: [] for ber in config.bers}
                    chip_std = {ber: [] for ber in config.bers}
                    for replicate in range(config.seeds):
                        seed = replicate_seed(config, replicate)
                        settings = config.model_copy(update={"dataset": name, "hidden": hidden, "seed": seed})
                        channel = SignFlips(train_ber) if train_ber > 0 else None
                        model, _ = trained_model(
                            store,
                            f"{name}_{width}_{training}_rep{replicate}",
                            lambda s=settings, d=data: build_network(s, d),
                            lambda m, s=settings, c=channel, xs=x, ys=y: train_bnn(
                                m, xs, ys, s, c, progress, task
                            ),
                        )
                        for ber in config.bers:
                            mean, spread = accuracy_under_errors(
                                model,
                                data.test.x,
                                data.test.y,
                                SignFlips(ber),
                                config.draws,
                                seed=seed,
                            )
                            per_ber[ber].append(mean)
                            chip_std[ber].append(spread)
                    accuracies, spreads = [], []
                    for ber in config.bers:
                        mean, std = mean_std(per_ber[ber])
                        accuracies.append(mean)
                        spreads.append(std)
                        rows.append(
                            {
                                "dataset": name,
                                "hidden": width,
                                "training": training,
                                "ber": ber,
                                "accuracy": mean,
                                "accuracy_std_over_seeds": std,
                                "accuracy_std_over_chips": float(sum(chip_std[ber]) / len(chip_std[ber])),
                                "n_seeds": config.seeds,
                            }
                        )
                    baseline = accuracies[0] if config.bers[0] == 0 else max(accuracies)
                    entry[training] = {
                        "error_free_accuracy": baseline,
                        "ber_at_1pt_drop": tolerated_ber(config.bers, accuracies, baseline, 0.01),
                        "ber_at_5pt_drop": tolerated_ber(config.bers, accuracies, baseline, 0.05),
                        "loss_at_1e-4_pts": _loss_at(config.bers, accuracies, baseline, 1e-4),
                    }
                    curves[f"{name} {width} {training}"] = (accuracies, spreads)
                summary[f"{name}/{width}"] = entry
    figure = plots.sweep_xy(
        [b if b > 0 else min(b for b in config.bers if b > 0) / 10 for b in config.bers],
        {label: acc for label, (acc, _) in curves.items()},
        "weight bit-error rate (0 plotted a decade below the smallest)",
        f"test accuracy (mean ± std over {config.seeds} seed(s))",
        log_x=True,
        errors={label: spread for label, (_, spread) in curves.items()},
    )
    return Results(summary=summary, tables={"accuracy_vs_ber": rows}, figures={"accuracy_vs_ber": figure})


def _loss_at(bers, accuracies, baseline, ber) -> float | None:
    """Accuracy loss in points at ``ber`` if the sweep contains it."""
    for b, a in zip(bers, accuracies, strict=True):
        if b == ber:
            return 100.0 * (baseline - a)
    return None
