"""The BNN/TNN/MRAM experiments: they run, report what the issue asks for, validate input and resume."""

import json

import pytest
import torch

from memristorch.cells.bit_errors import SignFlips
from memristorch.experiments import bnn_common, get_experiment
from memristorch.experiments.bnn_common import (
    BNNTraining,
    accuracy,
    accuracy_under_errors,
    build_bnn,
    tolerated_ber,
    train_bnn,
)
from memristorch.experiments.mram_energy import system_factor
from memristorch.runner import load_config
from memristorch.runner.store import RunStore
from memristorch.runner.study import execute

from .conftest import require_dataset

TINY = {"dataset": "digits", "epochs": 2, "hidden": [32, 32], "batch_size": 64}


def _run(name, tmp_path, **overrides):
    spec = get_experiment(name)
    config = load_config(spec.config, overrides=overrides)
    results, _ = execute(spec, config, tmp_path)
    return results, json.loads((tmp_path / "results.json").read_text())


def test_bnn_ber_runs_reports_tolerances_and_resumes(tmp_path, monkeypatch):
    overrides = {
        **TINY,
        "datasets": ["digits"],
        "widths": [[32, 32]],
        "bers": [0, 1e-3, 0.05, 0.3],
        "draws": 2,
    }
    results, document = _run("bnn-ber", tmp_path, **overrides)
    entry = results.summary["digits/32-32"]
    # a BNN loses under a point at BER 1e-3 and more than five by 5e-2 (standard training; over base seeds 0–2
    # the 1-point BER is 1.2–1.3e-3 and the 5-point one 2.1–3.3e-3) ...
    assert entry["standard"]["ber_at_1pt_drop"] >= 1e-3
    assert entry["standard"]["ber_at_5pt_drop"] < 0.05
    # ... and at BER 0.3 both networks are far below their error-free accuracy
    rows = results.tables["accuracy_vs_ber"]
    for training in ("standard", "error_aware"):
        assert entry[training]["error_free_accuracy"] > 0.6
        worst = next(r for r in rows if r["training"] == training and r["ber"] == 0.3)
        assert worst["accuracy"] < entry[training]["error_free_accuracy"] - 0.3
    assert (tmp_path / "accuracy_vs_ber.csv").exists() and (tmp_path / "accuracy_vs_ber.png").exists()
    assert document["figures"] == {"accuracy_vs_ber": "accuracy_vs_ber.png"}

    def no_training(*args, **kwargs):
        raise AssertionError("a resumed run must load its finished models, not train them again")

    monkeypatch.setattr("memristorch.experiments.bnn_ber.train_bnn", no_training)
    spec = get_experiment("bnn-ber")
    resumed, _ = execute(spec, load_config(spec.config, overrides=overrides), tmp_path, resume=True)
    assert resumed.summary == results.summary


def test_tnn_beats_bnn_at_equal_width_and_sign_flips_cost_more_than_ternary_read_errors(tmp_path):
    """At equal width the ternary network is the more accurate (at this size by 5.8–9.7 points over base seeds
    0–2), and a sign inversion costs more than a 0 ↔ ±1 read error at the same rate (1e-2)."""
    results, _ = _run("tnn-vs-bnn", tmp_path, **TINY, seeds=2, error_rates=[1e-3, 1e-2], draws=2)
    s = results.summary
    assert s["tnn_test_accuracy"] > s["bnn_test_accuracy"] + 0.02
    assert s["tnn_sign_flip_cost_pts"]["0.01"] > s["ternary_read_error_cost_pts"]["0.01"] + 0.5
    assert 0.2 < s["tnn_zero_fraction"] < 0.6  # Δ = 0.7·mean|W_h| zeroes a sizeable share, not all or none
    assert s["modelled_read_error_rates"]["p_sign"] < s["modelled_read_error_rates"]["p_zero_to_nonzero"]


def test_stochastic_inputs_accuracy_rises_with_k_and_adapted_training_helps(tmp_path):
    """More bit-planes, higher accuracy; and training on the bit-planes beats training on real inputs and testing
    on bit-planes (by 1.2–3.1 points at K = 1 and 16 over base seeds 0–2 at this size, 4 draws)."""
    results, _ = _run("stochastic-inputs", tmp_path, **{**TINY, "epochs": 3}, ks=[1, 16], draws=4)
    adapted = results.summary["adapted_accuracy"]
    non_adapted = results.summary["non_adapted_accuracy"]
    assert adapted["16"] > adapted["1"] + 0.05
    for k in ("1", "16"):
        assert adapted[k] > non_adapted[k] + 0.005, k
    with pytest.raises(
        ValueError,
        match=r"ks.0: Input should be greater than or equal to 1 \(got 0\); allowed: each entry ≥ 1",
    ):
        load_config(get_experiment("stochastic-inputs").config, overrides={"ks": [0, 2]})


def test_programming_energy_and_mram_experiments(tmp_path):
    results, _ = _run(
        "bnn-programming-energy", tmp_path / "rram", **TINY, conditions=6, error_aware=False, draws=1
    )
    s = results.summary
    assert s["2T2R"]["ber_at_strongest"] < 1e-3 * s["1T1R"]["ber_at_strongest"]
    # the BNN's tolerance lets 2T2R cells be programmed far more weakly (×14 here over base seeds 0–2; a factor
    # of 1 would mean no saving) and at least as weakly as 1T1R ones; the midway 1T1R reference saves less
    assert s["2T2R"]["standard_energy_factor"] > 5.0
    assert s["2T2R"]["standard_energy_factor"] >= s["1T1R"]["standard_energy_factor"]
    assert s["1T1R"]["standard_energy_factor"] >= s["1T1R-midway"]["standard_energy_factor"]
    mram, _ = _run("mram-energy", tmp_path / "mram")
    # writing at the BNN-tolerated WER 1e-3 instead of 1e-9 saves ×2.16 of the bit energy (its optimum at 2 I_c0,
    # unchanged by the WER fix above I_c0)
    assert mram.summary["bit_energy_factor"] == pytest.approx(2.16, abs=0.01)
    factors = list(mram.summary["system_factor"].values())
    assert all(
        a >= b for a, b in zip(factors, factors[1:], strict=False)
    )  # more non-write energy, less saving
    assert system_factor(2.0, 1.0, 0.0, 0.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="other_share"):
        system_factor(2.0, 1.0, 1.0, 0.0)


def test_bad_configuration_names_the_field():
    spec = get_experiment("bnn-ber")
    with pytest.raises(ValueError, match=r"bers.1: Input should be less than or equal to 1 \(got 1.5\)"):
        load_config(spec.config, overrides={"bers": [0.0, 1.5]})
    with pytest.raises(ValueError, match="train_ber"):
        load_config(spec.config, overrides={"train_ber": -0.1})
    with pytest.raises(ValueError, match="delta"):
        load_config(get_experiment("tnn-vs-bnn").config, overrides={"delta": -1})
    with pytest.raises(ValueError, match="hidden must list"):
        build_bnn(10, [], 2)


def test_tolerated_ber_interpolates_in_log_ber():
    bers = [0.0, 1e-4, 1e-3, 1e-2, 1e-1]
    acc = [0.90, 0.90, 0.895, 0.88, 0.70]
    assert tolerated_ber(bers, acc, 0.90, 0.01) == pytest.approx(10 ** (-3 + 0.5 / 1.5))
    assert (
        tolerated_ber(bers, acc, 0.90, 0.5) == 1e-1
    )  # never dropped that far: the sweep's end, a lower bound
    assert tolerated_ber(bers, [0.9, 0.5, 0.4, 0.3, 0.2], 0.9, 0.01) == 0.0


def test_fashion_mnist_bnn_learns_and_is_flat_to_ber_1e4():
    """A 784-256-256-10 BNN on the full Fashion-MNIST training set, 3 epochs (the wide net is in `bnn-ber`)."""
    data = require_dataset("fashion-mnist")
    settings = BNNTraining(dataset="fashion-mnist", hidden=[256, 256], epochs=3)
    model = build_bnn(784, settings.hidden, 10, seed=0)
    train_bnn(model, data.train.x, data.train.y, settings)
    clean = accuracy(model, data.test.x, data.test.y)
    assert clean > 0.85
    at_1e4, _ = accuracy_under_errors(model, data.test.x, data.test.y, SignFlips(1e-4), draws=5, seed=0)
    assert clean - at_1e4 <= 0.005
    at_1e1, _ = accuracy_under_errors(model, data.test.x, data.test.y, SignFlips(0.2), draws=2, seed=0)
    assert at_1e1 < clean - 0.02  # and the sweep is not flat everywhere: errors do cost at high BER


def test_trained_model_checkpoint_round_trip(tmp_path):
    calls = []

    def build():
        return build_bnn(64, [16], 10, seed=0)

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model[0].weight.fill_(0.5)
        return [1.0]

    config = {"what": "round trip"}
    store = RunStore(tmp_path, "test", config)
    model, losses = bnn_common.trained_model(store, "m", build, train)
    resumed = RunStore(tmp_path, "test", config, resume=True)
    again, losses_again = bnn_common.trained_model(resumed, "m", build, train)
    assert calls == [1] and losses_again == losses
    assert torch.equal(again[0].weight, model[0].weight)
