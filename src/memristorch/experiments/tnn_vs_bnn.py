"""``tnn-vs-bnn``: ternary vs binarized MLPs at equal width, and what ternary-read errors cost (Laborieux et al.,
AICAS 2020, arXiv 2005.01973; IEEE TCAS-I 2021, arXiv 2007.14234).

Both networks share width, training and seeds; the TNN's weights are sign(W_h)·1{|W_h| > Δ} stored in a 2T2R pair
with 0 = (HRS, HRS) and read once by a near-threshold PCSA. Three error conditions on the TNN:

* the read-error rates the :class:`~memristorch.cells.binary_rram.TernaryPCSACell` model gives at
  ``compliance_current_a``/``reset_voltage_v`` (0 → ±1 dominant, sign inversions negligible);
* a sweep of symmetric ternary-read errors (0 → ±1 and ±1 → 0 each at rate r, no sign flips);
* sign flips of the non-zero weights at the same rate r — the error the scheme's physics avoids.

The BNN sees sign flips at rate r too, for comparison.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .. import plots
from ..cells.binary_rram import TernaryPCSACell
from ..cells.bit_errors import SignFlips, TernaryReadErrors
from ..devices.binary_rram import BinaryRRAM, ProgrammingCondition
from ..nn.binary import quantized_layers
from ..runner.progress import progress_bar
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from .bnn_common import (
    BNNTraining,
    Width,
    accuracy,
    accuracy_under_errors,
    build_network,
    load_split,
    replicate_seed,
    steps_per_training,
    train_bnn,
    trained_model,
)


class TNNvsBNNConfig(BNNTraining):
    """Configuration of ``tnn-vs-bnn`` (CPU defaults: 2×512, 5 epochs, 3 seeds)."""

    hidden: list[Width] = Field(default_factory=lambda: [512, 512], min_length=1, max_length=16)
    seeds: int = Field(3, ge=1, le=20)
    delta: float = Field(0.7, ge=0, le=10, description="ternary threshold Δ as a fraction of mean |W_h|")
    error_rates: list[Annotated[float, Field(ge=0, le=0.5)]] = Field(
        min_length=1, default_factory=lambda: [1e-3, 3e-3, 1e-2]
    )
    compliance_current_a: float = Field(
        40e-6, gt=0, le=1e-2, description="programming condition of the modelled read"
    )
    reset_voltage_v: float = Field(1.65, gt=0, le=10)
    threshold_sigma: float = Field(
        0.1, ge=0, le=10, description="read-to-read spread of the PCSA threshold (ln R)"
    )
    draws: int = Field(5, ge=1, le=1000)


def run(config: TNNvsBNNConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "tnn-vs-bnn", config)
    import torch

    torch.set_num_threads(config.threads)
    for r in config.error_rates:
        if not 0.0 <= r <= 0.5:
            raise ValueError(f"error_rates entries must lie in [0, 0.5], got {r}")
    cell = TernaryPCSACell(BinaryRRAM(), threshold_sigma=config.threshold_sigma)
    condition = ProgrammingCondition(config.compliance_current_a, config.reset_voltage_v)
    modelled = cell.error_rates(condition)
    data, x, y = load_split(config)
    test_x, test_y = data.test.x, data.test.y
    results = {k: [] for k in ("bnn", "tnn", "tnn_modelled_read", "zero_fraction")}
    sweep = {(kind, r): [] for r in config.error_rates for kind in ("tnn_read", "tnn_sign", "bnn_sign")}
    total = steps_per_training(len(y), config) * 2 * config.seeds
    with progress_bar() as progress:
        task = progress.add_task("tnn-vs-bnn training", total=total)
        for replicate in range(config.seeds):
            seed = replicate_seed(config, replicate)
            settings = config.model_copy(update={"seed": seed})
            models = {}
            for kind in ("binary", "ternary"):
                models[kind], _ = trained_model(
                    store,
                    f"{kind}_rep{replicate}",
                    lambda k=kind, s=seed: build_network(
                        config,
                        data,
                        weights=k,
                        delta=config.delta,
                        seed=s,
                    ),
                    lambda m, s=settings: train_bnn(m, x, y, s, None, progress, task),
                )
            bnn, tnn = models["binary"], models["ternary"]
            results["bnn"].append(accuracy(bnn, test_x, test_y))
            results["tnn"].append(accuracy(tnn, test_x, test_y))
            weights = torch.cat([m.quantized_weight().detach().flatten() for m in quantized_layers(tnn)])
            results["zero_fraction"].append(float((weights == 0).float().mean()))
            results["tnn_modelled_read"].append(
                accuracy_under_errors(tnn, test_x, test_y, TernaryReadErrors(**modelled), config.draws, seed)[
                    0
                ]
            )
            for r in config.error_rates:
                channels = {
                    "tnn_read": (tnn, TernaryReadErrors(p_zero_to_nonzero=r, p_nonzero_to_zero=r)),
                    "tnn_sign": (tnn, SignFlips(r)),
                    "bnn_sign": (bnn, SignFlips(r)),
                }
                for kind, (model, channel) in channels.items():
                    sweep[(kind, r)].append(
                        accuracy_under_errors(model, test_x, test_y, channel, config.draws, seed)[0]
                    )
    bnn_mean, bnn_std = mean_std(results["bnn"])
    tnn_mean, tnn_std = mean_std(results["tnn"])
    read_mean, _ = mean_std(results["tnn_modelled_read"])
    rows = [
        {"network": "bnn", "errors": "none", "rate": 0.0, "accuracy": bnn_mean, "accuracy_std": bnn_std},
        {"network": "tnn", "errors": "none", "rate": 0.0, "accuracy": tnn_mean, "accuracy_std": tnn_std},
        {
            "network": "tnn",
            "errors": "modelled PCSA read",
            "rate": modelled["p_zero_to_nonzero"],
            "accuracy": read_mean,
            "accuracy_std": mean_std(results["tnn_modelled_read"])[1],
        },
    ]
    labels = {
        "tnn_read": "TNN, ternary-read errors",
        "tnn_sign": "TNN, sign flips",
        "bnn_sign": "BNN, sign flips",
    }
    series = {label: [] for label in labels.values()}
    spreads = {label: [] for label in labels.values()}
    for r in config.error_rates:
        for kind, label in labels.items():
            mean, std = mean_std(sweep[(kind, r)])
            series[label].append(mean)
            spreads[label].append(std)
            rows.append(
                {
                    "network": kind.split("_")[0],
                    "errors": label,
                    "rate": r,
                    "accuracy": mean,
                    "accuracy_std": std,
                }
            )
    summary = {
        "tnn_test_accuracy": tnn_mean,
        "tnn_test_accuracy_std": tnn_std,
        "bnn_test_accuracy": bnn_mean,
        "bnn_test_accuracy_std": bnn_std,
        "tnn_minus_bnn_pts": 100 * (tnn_mean - bnn_mean),
        "tnn_zero_fraction": mean_std(results["zero_fraction"])[0],
        "modelled_read_error_rates": modelled,
        "modelled_read_error_cost_pts": 100 * (tnn_mean - read_mean),
        "ternary_read_error_cost_pts": {
            f"{r:g}": 100 * (tnn_mean - series[labels["tnn_read"]][i])
            for i, r in enumerate(config.error_rates)
        },
        "tnn_sign_flip_cost_pts": {
            f"{r:g}": 100 * (tnn_mean - series[labels["tnn_sign"]][i])
            for i, r in enumerate(config.error_rates)
        },
        "seeds": config.seeds,
        "hidden": config.hidden,
    }
    figures = {
        "accuracy_vs_error_rate": plots.sweep_xy(
            config.error_rates,
            series,
            f"error rate per weight (mean ± std over {config.seeds} seeds)",
            "test accuracy",
            log_x=True,
            errors=spreads,
        ),
        "tnn_vs_bnn": plots.grouped_bars(
            ["error-free"],
            {"BNN": [bnn_mean], "TNN": [tnn_mean]},
            f"test accuracy at equal width (mean ± std, n = {config.seeds} seeds)",
            errors={"BNN": [bnn_std], "TNN": [tnn_std]},
            y_label="test accuracy",
        ),
    }
    return Results(summary=summary, tables={"accuracy": rows}, figures=figures)
