"""Reduced-width CIFAR-10 conv BNN reproductions (slow: run with `make test-slow`)."""

from pathlib import Path

import pytest

from memristorch.experiments import get_experiment
from memristorch.runner import load_config

from .conftest import require_dataset

pytestmark = pytest.mark.slow

CIFAR = {
    "conv_channels": [16, 16, 32, 32, 64, 64],
    "conv_fc": [128],
    "epochs": 4,
    "train_subset": 20000,
    "test_subset": 2000,
    "draws": 1,
}


def test_cifar10_conv_bnn_ber_sweep():
    require_dataset("cifar10")
    spec = get_experiment("bnn-ber")
    config = load_config(
        spec.config, overrides={**CIFAR, "datasets": ["cifar10"], "bers": [0, 1e-4, 1e-3, 1e-2, 4e-2, 1e-1]}
    )
    summary = spec.run(config).summary
    (entry,) = summary.values()
    standard = entry["standard"]
    assert standard["error_free_accuracy"] > 0.45
    assert standard["loss_at_1e-4_pts"] <= 1.0
    # the 5-point drop falls inside the sweep: under 5 points lost at 1e-3, more than 5 by 1e-1 (not at its ends)
    assert 1e-3 < standard["ber_at_5pt_drop"] < 1e-1


def test_cifar10_tnn_beats_bnn():
    require_dataset("cifar10")
    spec = get_experiment("tnn-vs-bnn")
    config = load_config(spec.config, overrides={**CIFAR, "dataset": "cifar10", "seeds": 2})
    summary = spec.run(config).summary
    # the study: on CIFAR-10 TNNs clearly beat BNNs of the same architecture
    assert summary["tnn_test_accuracy"] > summary["bnn_test_accuracy"]
    assert summary["modelled_read_error_cost_pts"] < 1.0


def test_cifar10_weakreset_ablation():
    """The documented CIFAR-10 run (configs/weakreset-bnn-cifar10.yaml, 3 seeds, ~45 min): the orderings that held.

    Measured (README, 2026-12-03): ideal 50.3 ± 1.2, mean 45.1 ± 1.8, mean + D2D 35.2 ± 2.6, full 28.5 ± 3.7 %. The
    paper's removal ordering (removing D2D recovers the most) appears but inside the spread, so it is not asserted.
    """
    require_dataset("cifar10")
    spec = get_experiment("weakreset-bnn")
    config = load_config(
        spec.config, Path(__file__).resolve().parents[1] / "configs" / "weakreset-bnn-cifar10.yaml"
    )
    accuracy = spec.run(config).summary["test_accuracy"]
    assert accuracy["ideal"] > 0.45
    assert accuracy["mean"] - accuracy["mean+d2d"] > 0.05  # D2D is what costs the mean model most
    assert (
        accuracy["mean"] - accuracy["mean+d2d"] > accuracy["mean+d2d"] - accuracy["full"]
    )  # more than RTN + 1/f
    assert accuracy["ideal"] - accuracy["full"] > 0.10
