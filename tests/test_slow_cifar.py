"""Reduced-width CIFAR-10 conv BNN reproductions (slow: run with `make test-slow`)."""

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
    assert standard["ber_at_1pt_drop"] <= standard["ber_at_5pt_drop"]


def test_cifar10_tnn_at_least_matches_bnn():
    require_dataset("cifar10")
    spec = get_experiment("tnn-vs-bnn")
    config = load_config(spec.config, overrides={**CIFAR, "dataset": "cifar10", "seeds": 1})
    summary = spec.run(config).summary
    assert summary["tnn_test_accuracy"] >= summary["bnn_test_accuracy"] - 0.01
    assert summary["modelled_read_error_cost_pts"] < 1.0
