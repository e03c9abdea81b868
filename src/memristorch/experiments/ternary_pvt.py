"""``ternary-pvt``: the near-threshold single-sense ternary read under supply and temperature variation.

Laborieux et al. (AICAS 2020; TCAS-I 2021) report that reading a ternary weight from a 2T2R pair in one sense
operation at near-threshold supply is robust to process, voltage and temperature. Here the PCSA's effective
threshold moves with supply and temperature as :class:`~memristorch.cells.pvt.SenseAmpPVT` states (weak-inversion
drive, a self-timed sense window that tracks most of it, a static process offset per amplifier). At each
(V_DD, T) the cell's three error rates (0 → ±1, ±1 → 0, sign inversion) follow in closed form, and a trained TNN
(``seeds`` replicates) is read through them (``draws`` chips each). The same grid with a fixed sense window
(``tracking`` = 0) shows what the tracking buys. Every PVT parameter is a placeholder — calibrate.
"""

from __future__ import annotations

import math
from typing import Annotated

import matplotlib.pyplot as plt
import numpy as np
from pydantic import Field

from ..cells.binary_rram import TernaryPCSACell
from ..cells.bit_errors import TernaryReadErrors
from ..cells.pvt import SenseAmpPVT
from ..devices.binary_rram import BinaryRRAM, ProgrammingCondition
from ..runner.progress import progress_bar
from ..runner.seeds import derive_seed
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

ERROR_TYPES = ("p_zero_to_nonzero", "p_nonzero_to_zero", "p_sign")


class TernaryPVTConfig(BNNTraining):
    """Configuration of ``ternary-pvt`` (CPU defaults: the 2×512 Fashion-MNIST TNN of ``tnn-vs-bnn``, 3 seeds)."""

    hidden: list[Width] = Field(default_factory=lambda: [512, 512], min_length=1, max_length=16)
    seeds: int = Field(3, ge=1, le=20)
    """TNN replicates (independent named seed streams)."""
    delta: float = Field(0.7, ge=0, le=10)
    """Ternary threshold Δ as a fraction of mean |W_h|."""
    draws: int = Field(3, ge=1, le=1000)
    """Simulated chips per network and grid point (errors drawn once per chip)."""
    compliance_current_a: float = Field(40e-6, gt=0, le=1e-2)
    """SET compliance current of the programming condition (A), as in ``tnn-vs-bnn``."""
    reset_voltage_v: float = Field(1.65, gt=0, le=10)
    """RESET voltage of the programming condition (V)."""
    threshold_sigma: float = Field(0.1, ge=0, le=10)
    """Read-to-read spread of the PCSA threshold (std of ln R), as in ``tnn-vs-bnn``."""
    supplies_v: list[Annotated[float, Field(gt=0, le=5)]] = Field(
        default_factory=lambda: [0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8], min_length=1
    )
    """Supply voltages swept (V)."""
    temperatures_k: list[Annotated[float, Field(gt=0, le=1000)]] = Field(
        default_factory=lambda: [233.15, 300.0, 358.15, 398.15], min_length=1
    )
    """Temperatures swept (K): −40, 27, 85 and 125 °C, the industrial range."""
    nominal_supply_v: float = Field(0.6, gt=0, le=5)
    """Supply at which the threshold sits at the LRS/HRS midpoint (V). Placeholder — calibrate."""
    nominal_temperature_k: float = Field(300.0, gt=0, le=1000)
    """Temperature at which the threshold sits at the midpoint (K)."""
    tracking: float = Field(0.9, ge=0, le=1)
    """Share of the drive change the self-timed sense window follows. Placeholder — calibrate."""
    offset_sigma_ln: float = Field(0.1, ge=0, le=5)
    """Static per-amplifier threshold spread from process variation (ln R). Placeholder — calibrate."""
    compare_fixed_window: bool = True
    """Also read the grid with a fixed sense window (tracking 0), to show what the tracking buys."""

    def pvt(self, tracking: float | None = None) -> SenseAmpPVT:
        return SenseAmpPVT(
            nominal_supply_v=self.nominal_supply_v,
            nominal_temperature_k=self.nominal_temperature_k,
            tracking=self.tracking if tracking is None else tracking,
            offset_sigma_ln=self.offset_sigma_ln,
        )


def _grid_rates(
    config: TernaryPVTConfig, device: BinaryRRAM, condition: ProgrammingCondition, tracking: float
):
    """Error rates and threshold at every (V_DD, T) of the grid for one sense-window scheme."""
    pvt = config.pvt(tracking)
    nominal_ln = TernaryPCSACell(device).threshold_ln(condition)
    sigma = pvt.threshold_sigma(config.threshold_sigma)
    points = []
    for t in config.temperatures_k:
        for v in config.supplies_v:
            threshold_ohm = math.exp(nominal_ln + pvt.threshold_shift_ln(v, t))
            cell = TernaryPCSACell(device, threshold_ohm=threshold_ohm, threshold_sigma=sigma)
            points.append(
                {
                    "supply_v": v,
                    "temperature_k": t,
                    "threshold_ohm": threshold_ohm,
                    **cell.error_rates(condition),
                }
            )
    return points


def run(config: TernaryPVTConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "ternary-pvt", config)
    import torch

    torch.set_num_threads(config.threads)
    device = BinaryRRAM()
    condition = ProgrammingCondition(config.compliance_current_a, config.reset_voltage_v)
    schemes = {"self-timed": config.tracking}
    if config.compare_fixed_window:
        schemes["fixed"] = 0.0
    grids = {name: _grid_rates(config, device, condition, tracking) for name, tracking in schemes.items()}
    data, x, y = load_split(config)
    test_x, test_y = data.test.x, data.test.y
    clean: list[float] = []
    per_point: dict[tuple[str, int], list[float]] = {}
    n_points = sum(len(g) for g in grids.values())
    with progress_bar() as progress:
        train_task = progress.add_task(
            "ternary-pvt training", total=steps_per_training(len(y), config) * config.seeds
        )
        read_task = progress.add_task("ternary-pvt reads", total=n_points * config.seeds)
        for replicate in range(config.seeds):
            seed = replicate_seed(config, replicate)
            settings = config.model_copy(update={"seed": seed})
            tnn, _ = trained_model(
                store,
                f"tnn_rep{replicate}",
                lambda s=seed: build_network(config, data, weights="ternary", delta=config.delta, seed=s),
                lambda m, s=settings: train_bnn(m, x, y, s, None, progress, train_task),
            )
            clean.append(accuracy(tnn, test_x, test_y))
            for name, grid in grids.items():
                for i, point in enumerate(grid):
                    channel = TernaryReadErrors(**{k: point[k] for k in ERROR_TYPES})
                    value = accuracy_under_errors(
                        tnn, test_x, test_y, channel, config.draws, derive_seed(seed, "pvt", i)
                    )[0]
                    per_point.setdefault((name, i), []).append(value)
                    progress.advance(read_task)
    clean_mean, clean_std = mean_std(clean)
    rows = []
    for name, grid in grids.items():
        for i, point in enumerate(grid):
            mean, std = mean_std(per_point[(name, i)])
            rows.append(
                {
                    "window": name,
                    **point,
                    "accuracy": mean,
                    "accuracy_std": std,
                    "n_seeds": config.seeds,
                    "accuracy_loss_pts": 100 * (clean_mean - mean),
                }
            )
    # the grid point at the nominal supply and temperature, if the grid holds it (else no nominal rates)
    nominal = next(
        (
            r
            for r in rows
            if r["window"] == "self-timed"
            and r["supply_v"] == config.nominal_supply_v
            and r["temperature_k"] == config.nominal_temperature_k
        ),
        None,
    )
    summary = {
        "error_free_accuracy": clean_mean,
        "error_free_accuracy_std": clean_std,
        "seeds": config.seeds,
        "nominal_error_rates": None if nominal is None else {k: nominal[k] for k in ERROR_TYPES},
    }
    for name in grids:
        mine = [r for r in rows if r["window"] == name]
        worst = max(mine, key=lambda r: r["accuracy_loss_pts"])
        summary[name] = {
            "worst_accuracy_loss_pts": worst["accuracy_loss_pts"],
            "worst_at": {"supply_v": worst["supply_v"], "temperature_k": worst["temperature_k"]},
            "max_error_rate": {k: max(r[k] for r in mine) for k in ERROR_TYPES},
            "threshold_range_ohm": [
                min(r["threshold_ohm"] for r in mine),
                max(r["threshold_ohm"] for r in mine),
            ],
        }
    return Results(summary=summary, tables={"pvt": rows}, figures=_figures(rows, config, clean_mean))


def _figures(rows: list[dict], config: TernaryPVTConfig, clean: float) -> dict:
    colours = {t: f"C{i}" for i, t in enumerate(config.temperatures_k)}
    fig_rates, axes = plt.subplots(1, len(ERROR_TYPES), figsize=(12, 3.4), sharex=True)
    for ax, kind in zip(axes, ERROR_TYPES, strict=True):
        for t in config.temperatures_k:
            for window, style in (("self-timed", "-"), ("fixed", "--")):
                mine = [r for r in rows if r["window"] == window and r["temperature_k"] == t]
                if mine:
                    label = f"{t - 273.15:.0f} °C, {window} window"
                    values = np.maximum([r[kind] for r in mine], 1e-12)
                    ax.plot(
                        [r["supply_v"] for r in mine],
                        values,
                        style,
                        marker="o",
                        ms=3,
                        color=colours[t],
                        label=label,
                    )
        ax.set_yscale("log")
        ax.set_title(kind.replace("p_", "").replace("_", " ").replace("nonzero", "±1"), fontsize=9)
        ax.set_xlabel("supply V_DD (V)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("error rate per weight (floored at 1e-12)")
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig_rates.tight_layout()
    fig_acc, ax = plt.subplots(figsize=(6.5, 3.6))
    for t in config.temperatures_k:
        for window, style in (("self-timed", "-"), ("fixed", "--")):
            mine = [r for r in rows if r["window"] == window and r["temperature_k"] == t]
            if mine:
                ax.errorbar(
                    [r["supply_v"] for r in mine],
                    [100 * r["accuracy"] for r in mine],
                    yerr=[100 * r["accuracy_std"] for r in mine],
                    fmt=style,
                    marker="o",
                    ms=3,
                    capsize=2,
                    color=colours[t],
                    label=f"{t - 273.15:.0f} °C, {window}",
                )
    ax.axhline(100 * clean, color="k", lw=0.8, ls=":", label="no read errors")
    ax.set_xlabel("supply V_DD (V)")
    ax.set_ylabel(f"TNN test accuracy (%), mean ± std, n = {config.seeds}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return {"pvt_error_rates": fig_rates, "pvt_accuracy": fig_acc}
