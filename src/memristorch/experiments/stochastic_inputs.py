"""``stochastic-inputs``: BNNs whose first layer takes K stochastic bit-planes per pixel (Hirtzlin et al.,
IEEE Access 2019, arXiv 1906.00915).

For each K: an *adapted* BNN trained with fresh bit-planes on every pass, and the *non-adapted* reference — one BNN
trained on the real inputs' expectation 2x − 1 — tested with the same K bit-planes. The real-input BNN's own
accuracy is the ceiling. Each test draws ``draws`` independent bit streams. K is also the energy and latency proxy:
the first layer runs K XNOR-popcounts per input. Beside accuracy, the stated cost model of
:mod:`memristorch.costs` gives area and energy per inference of the network with a stochastic first layer at each
K against the standard BNN's fixed-point first layer (the study reports −62 % area and ×2.1 less energy for −1.4
points on Fashion-MNIST; every unit cost but the adder's is a placeholder, so the ratios here are the model's).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from .. import plots
from ..costs import UnitCosts, mlp_cost, with_overrides
from ..runner.progress import progress_bar
from ..runner.seeds import derive_seed
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from .bnn_common import (
    BNNTraining,
    Width,
    accuracy,
    build_network,
    load_split,
    replicate_seed,
    steps_per_training,
    train_bnn,
    trained_model,
)


class StochasticInputsConfig(BNNTraining):
    """Configuration of ``stochastic-inputs`` (CPU defaults: 2×512, 5 epochs, one seed, 3 test draws)."""

    hidden: list[Width] = Field(default_factory=lambda: [512, 512], min_length=1, max_length=16)
    ks: list[Annotated[int, Field(ge=1, le=1024)]] = Field(default_factory=lambda: [1, 2, 4, 8, 16])
    seeds: int = Field(1, ge=1, le=20)
    draws: int = Field(3, ge=1, le=1000)
    input_bits: int = Field(8, ge=1, le=16)
    """Pixel width (bits) of the standard BNN's fixed-point first layer and of the stochastic comparators."""
    lfsr_count: int = Field(1, ge=1, le=4096)
    """Shared LFSRs feeding the comparators (placeholder — calibrate)."""
    unit_costs: dict[str, float] = Field(default_factory=dict)
    """Overrides of :class:`memristorch.costs.UnitCosts` fields (µm², pJ)."""

    def units(self) -> UnitCosts:
        return with_overrides(UnitCosts, self.unit_costs, "unit_costs")

    @field_validator("ks")
    @classmethod
    def _check_ks(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("ks needs at least one K")
        for k in value:
            if k < 1:
                raise ValueError(f"every K (bit-planes per input) must be ≥ 1, got {k}")
        return sorted(value)


def _stochastic_accuracy(model, k: int, x, y, draws: int, seed: int) -> float:
    module = model[0]
    saved = module.k
    module.k = k
    values = []
    for d in range(draws):
        module.reseed(derive_seed(seed, "draw", d))
        values.append(accuracy(model, x, y))
    module.k = saved
    return float(sum(values) / len(values))


def run(config: StochasticInputsConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "stochastic-inputs", config)
    import torch

    torch.set_num_threads(config.threads)
    data, x, y = load_split(config)
    test_x, test_y = data.test.x, data.test.y
    real, adapted = [], {k: [] for k in config.ks}
    non_adapted = {k: [] for k in config.ks}
    total = steps_per_training(len(y), config) * (len(config.ks) + 1) * config.seeds
    with progress_bar() as progress:
        task = progress.add_task("stochastic-inputs training", total=total)
        for replicate in range(config.seeds):
            seed = replicate_seed(config, replicate)
            settings = config.model_copy(update={"seed": seed})

            def build(k, adapted_training, s=seed):
                return build_network(
                    config,
                    data,
                    stochastic_k=k,
                    stochastic_adapted=adapted_training,
                    stochastic_input=True,
                    seed=s,
                )

            def train(m, s=settings):
                return train_bnn(m, x, y, s, None, progress, task)

            reference, _ = trained_model(store, f"real_rep{replicate}", lambda: build(None, False), train)
            real.append(accuracy(reference, test_x, test_y))
            for k in config.ks:
                non_adapted[k].append(
                    _stochastic_accuracy(
                        reference, k, test_x, test_y, config.draws, derive_seed(seed, "reference-draws")
                    )
                )
                model, _ = trained_model(
                    store, f"adapted_k{k}_rep{replicate}", lambda k=k: build(k, True), train
                )
                adapted[k].append(
                    _stochastic_accuracy(
                        model, k, test_x, test_y, config.draws, derive_seed(seed, "adapted-draws")
                    )
                )
    real_mean, real_std = mean_std(real)
    widths = [data.n_features, *config.hidden, data.n_classes]
    units = config.units()
    fixed = mlp_cost(widths, "fixed-point", units, config.input_bits)
    rows = []
    for k in config.ks:
        a_mean, a_std = mean_std(adapted[k])
        n_mean, n_std = mean_std(non_adapted[k])
        rows.append(
            {
                "k": k,
                "adapted_accuracy": a_mean,
                "adapted_accuracy_std": a_std,
                "non_adapted_accuracy": n_mean,
                "non_adapted_accuracy_std": n_std,
                "real_input_accuracy": real_mean,
                "first_layer_xnor_popcounts_per_input": k,
                **_cost_columns(
                    mlp_cost(widths, "stochastic", units, config.input_bits, k, config.lfsr_count), fixed
                ),
            }
        )
    summary = {
        "real_input_accuracy": real_mean,
        "real_input_accuracy_std": real_std,
        "adapted_accuracy": {str(r["k"]): r["adapted_accuracy"] for r in rows},
        "non_adapted_accuracy": {str(r["k"]): r["non_adapted_accuracy"] for r in rows},
        "seeds": config.seeds,
        "hidden": config.hidden,
        "cost_fixed_point_first_layer": {
            "area_um2": fixed["total"].area_um2,
            "energy_pj": fixed["total"].energy_pj,
        },
        "area_saving_pct": {str(r["k"]): r["area_saving_pct"] for r in rows},
        "energy_factor": {str(r["k"]): r["energy_factor"] for r in rows},
        "accuracy_drop_pts": {str(r["k"]): 100 * (real_mean - r["adapted_accuracy"]) for r in rows},
    }
    figure = plots.sweep_xy(
        config.ks,
        {
            "adapted training": [r["adapted_accuracy"] for r in rows],
            "trained on real inputs": [r["non_adapted_accuracy"] for r in rows],
            "real-input BNN": [real_mean] * len(rows),
        },
        f"stochastic bit-planes per input K (mean ± std over {config.seeds} seed(s))",
        "test accuracy",
        log_x=True,
        errors={
            "adapted training": [r["adapted_accuracy_std"] for r in rows],
            "trained on real inputs": [r["non_adapted_accuracy_std"] for r in rows],
            "real-input BNN": [real_std] * len(rows),
        },
    )
    return Results(
        summary=summary,
        tables={"accuracy_vs_k": rows},
        figures={"accuracy_vs_k": figure, "cost_vs_k": _cost_figure(rows, config.ks)},
    )


def _cost_columns(stochastic: dict, fixed: dict) -> dict[str, float]:
    """Area and energy of the stochastic network and of its first layer, and the ratios to the fixed-point one."""
    total, first = stochastic["total"], stochastic["layer0"]
    return {
        "area_um2": total.area_um2,
        "energy_pj": total.energy_pj,
        "first_layer_area_um2": first.area_um2,
        "first_layer_energy_pj": first.energy_pj,
        "area_saving_pct": 100 * (1 - total.area_um2 / fixed["total"].area_um2),
        "first_layer_area_saving_pct": 100 * (1 - first.area_um2 / fixed["layer0"].area_um2),
        "energy_factor": fixed["total"].energy_pj / total.energy_pj,
        "first_layer_energy_factor": fixed["layer0"].energy_pj / first.energy_pj,
    }


def _cost_figure(rows: list[dict], ks: list[int]):
    import matplotlib.pyplot as plt

    fig, (area, energy) = plt.subplots(1, 2, figsize=(9, 3.3))
    for key, label in (("area_saving_pct", "whole network"), ("first_layer_area_saving_pct", "first layer")):
        area.plot(ks, [r[key] for r in rows], marker="o", label=label)
    area.axhline(62, color="k", ls=":", lw=0.8, label="study: 62 %")
    area.set_ylabel("area saved against fixed-point (%)")
    for key, label in (("energy_factor", "whole network"), ("first_layer_energy_factor", "first layer")):
        energy.plot(ks, [r[key] for r in rows], marker="o", label=label)
    energy.axhline(2.1, color="k", ls=":", lw=0.8, label="study: ×2.1")
    energy.axhline(1.0, color="grey", lw=0.6)
    energy.set_ylabel("energy: fixed-point / stochastic (×)")
    for ax in (area, energy):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("stochastic bit-planes per input K")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("stated cost model (memristorch.costs; unit costs partly placeholders)", fontsize=9)
    fig.tight_layout()
    return fig
