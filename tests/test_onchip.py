import json
import math
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.data.patterns import (
    HORIZONTAL_BARS,
    PLUS_PATTERN,
    VERTICAL_BARS,
    X_PATTERN,
    PatternTask,
    pattern_samples,
)
from memristorch.experiments import get_experiment
from memristorch.experiments.onchip_3x3 import OnChip3x3Config, run
from memristorch.runner import load_config
from memristorch.runner.study import execute


def test_pattern_generator_is_seeded_balanced_and_noisy():
    a = pattern_samples(100, 0.1, generator=torch.Generator().manual_seed(0))
    b = pattern_samples(100, 0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert int(a[1].sum()) == 50
    clean, labels = pattern_samples(10)
    for x, y in zip(clean, labels, strict=True):
        assert tuple(int(v) for v in x) == (X_PATTERN if y == 1 else PLUS_PATTERN)
    with pytest.raises(ValueError, match="noise"):
        pattern_samples(10, noise=-1.0)


def test_x_plus_bayes_limit_is_the_closed_form():
    """X against + is linearly separable: the best classifier under pixel noise s scores Φ(√8 / (2 s))."""
    x, y = pattern_samples(400_000, 0.7, generator=torch.Generator().manual_seed(0))
    direction = torch.tensor(X_PATTERN, dtype=torch.float32) - torch.tensor(PLUS_PATTERN, dtype=torch.float32)
    midpoint = 0.5 * torch.tensor([a + b for a, b in zip(X_PATTERN, PLUS_PATTERN, strict=True)])
    bayes = float((((x - midpoint) @ direction > 0).long() == y).double().mean())
    closed_form = 0.5 * (1 + math.erf(math.sqrt(8) / (2 * 0.7) / math.sqrt(2)))
    assert closed_form == pytest.approx(0.978, abs=5e-4)
    assert bayes == pytest.approx(closed_form, abs=1e-3)


def test_bars_task_draws_every_bar_and_needs_a_hidden_layer():
    task = PatternTask.named("bars", "bipolar")
    x, y = pattern_samples(600, generator=torch.Generator().manual_seed(0), task=task)
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    seen = {(int(label), tuple(int(v > 0) for v in row)) for row, label in zip(x, y, strict=True)}
    assert seen == {(1, bar) for bar in VERTICAL_BARS} | {(0, bar) for bar in HORIZONTAL_BARS}
    # no single neuron separates them: the three bars of each class sum to the same image
    assert torch.equal(torch.tensor(VERTICAL_BARS).sum(0), torch.tensor(HORIZONTAL_BARS).sum(0))
    # noise is a fraction of the pixel swing, which is 2 for bipolar pixels
    noisy, _ = pattern_samples(20_000, 0.1, generator=torch.Generator().manual_seed(1), task=task)
    assert (noisy - noisy.sign()).std().item() == pytest.approx(0.2, rel=0.03)
    with pytest.raises(ValueError, match="task"):
        PatternTask.named("digits")
    with pytest.raises(ValueError, match="pixels"):
        PatternTask.named("bars", "ternary")


def test_small_onchip_run_orders_reset_and_errors():
    config = OnChip3x3Config(
        seeds=2,
        epochs=150,
        n_test=400,
        materials=["knowm-cr"],
        conductance_error_levels=[0.0, 0.3],
        train_noise_levels=[0.0, 0.1],
        input_noise_levels=[0.0, 1.0],
        retrain_levels=[0.3],
    )
    results = run(config)
    s = results.summary
    assert s["software_clean_accuracy"] == 1.0
    assert s["reset_time_factor"]["knowm-cr"] > 2.0  # the 200 ms reset dominates programming time
    assert s["reset_energy_factor"]["knowm-cr"] > 1.0
    # the programmed chip matches the software network it was programmed from, within a point
    assert s["knowm-cr/no_reset"]["accuracy"] > s["software_noisy_accuracy"] - 0.01
    errors = s["conductance-error_accuracy"]
    assert errors["0.0"] > errors["0.3"]
    noise = s["input-noise_accuracy"]
    assert noise["0.0"] > noise["1.0"]
    assert {
        "materials",
        "train-noise",
        "conductance-error",
        "input-noise",
        "verify_stats",
        "device_iv",
        "retraining",
    } <= set(results.tables)
    assert {
        "materials_time",
        "materials_energy",
        "train-noise",
        "conductance-error",
        "input-noise",
        "device_iv",
        "pulse_response",
        "retraining",
    } <= set(results.figures)
    # program-and-verify: ≥ 99 % at 5 % tolerance, and tighter tolerances cost more pulses
    stats = results.tables["verify_stats"]
    fixed = [r for r in stats if r["width_step_down"] == 1.0]
    adaptive = [r for r in stats if r["width_step_down"] == 0.5]
    assert fixed[1]["tolerance"] == 0.05 and fixed[1]["converged_fraction"] >= 0.99
    assert [r["mean_pulses"] for r in fixed] == sorted(r["mean_pulses"] for r in fixed)
    # at 1 % the adaptive width meets every reachable target, fixed pulses do not, and it takes fewer pulses
    assert adaptive[-1]["tolerance"] == 0.01 and adaptive[-1]["converged_reachable_fraction"] == 1.0
    assert fixed[-1]["converged_reachable_fraction"] < 1.0
    assert adaptive[-1]["mean_pulses"] < fixed[-1]["mean_pulses"]
    # lobes shrink with frequency (1 → 100 Hz with τ = 20 ms)
    lobes = [r["lobe_area_va"] for r in results.tables["device_iv"]]
    assert lobes[0] > lobes[-1]


def test_calibration_is_two_board_knobs_that_carry_over_to_every_material():
    """The calibration fits a time scale and a set-up power on Cr; given those two numbers as configuration (no
    calibration part), a run lands on the study's Cr figures, and W and C are predictions of the same board: τ,
    pulse and read times scale together, so they take the same pulses as unscaled and their time scales linearly."""
    config = OnChip3x3Config(seeds=2, epochs=100, n_test=200, parts=["calibration", "materials"])
    s = run(config).summary
    calibration = s["calibration"]
    assert (
        0 < calibration["device_energy_share"] < 0.05
    )  # the board's power carries the energy, not the devices
    assert s["fastest_material"] == "knowm-cr" and s["least_energy_material"] == "knowm-cr"
    knobs = {"time_scale": calibration["time_scale"], "system_power_w": calibration["system_power_w"]}
    fixed = run(config.model_copy(update={"parts": ["materials"], **knobs})).summary
    assert fixed["knowm-cr/no_reset"]["training_time_s"] == pytest.approx(2.4, rel=1e-6)
    assert fixed["knowm-cr/no_reset"]["energy_j"] == pytest.approx(18.9e-3, rel=1e-6)
    raw = run(config.model_copy(update={"parts": ["materials"]})).summary
    assert raw["board"] == {"time_scale": 1.0, "system_power_w": 0.0}
    for material in ("knowm-w", "knowm-c"):
        scaled, unscaled = fixed[f"{material}/no_reset"], raw[f"{material}/no_reset"]
        assert scaled["pulses"] == unscaled["pulses"], material
        assert scaled["training_time_s"] == pytest.approx(
            calibration["time_scale"] * unscaled["training_time_s"], rel=1e-9
        ), material


def test_calibration_rejects_an_energy_below_the_devices_own():
    config = OnChip3x3Config(seeds=1, epochs=50, parts=["calibration"], calibration_energy_j=1e-9)
    with pytest.raises(ValueError, match="calibration_energy_j"):
        run(config)


def test_training_noise_helps_then_hurts():
    """Inverted U of the training-noise sweep at levels a study would use, not only at an absurd 200 %: σ = 0.3
    beats no noise, and the decline is already there at σ = 1.5 (3-seed sweep: 97.7 ± 0.1 against 94.3 ± 0.8 %)."""
    config = OnChip3x3Config(parts=["train-noise"], train_noise_levels=[0.0, 0.3, 1.5])
    accuracy = run(config).summary["train-noise_accuracy"]
    assert accuracy["0.3"] > accuracy["0.0"] + 0.005
    assert accuracy["0.3"] > accuracy["1.5"] + 0.015


def test_bars_task_tolerates_moderate_training_noise_and_is_hurt_by_more():
    """On the task that needs the hidden layer, σ = 0.2 costs (almost) nothing and σ = 0.5 eats the capacity.

    With named seed streams (3 base seeds × 5 chips) the "moderate noise helps" half of the inverted U does not
    hold on this task (see the README); what holds on every seed tried is asserted here.
    """
    path = Path(__file__).parents[1] / "configs" / "onchip-3x3-bars.yaml"
    overrides = {"parts": ["train-noise"], "train_noise_levels": [0.0, 0.2, 0.5]}
    config = load_config(OnChip3x3Config, path, overrides)
    accuracy = run(config).summary["train-noise_accuracy"]
    assert accuracy["0.2"] > accuracy["0.0"] - 0.03
    assert accuracy["0.2"] > accuracy["0.5"] + 0.1


def test_noise_trained_network_degrades_more_slowly_with_conductance_error():
    config = OnChip3x3Config(seeds=3, parts=["conductance-error"], conductance_error_levels=[0.0, 0.1, 0.3])
    s = run(config).summary
    trained, untrained = s["conductance-error_accuracy"], s["conductance-error_accuracy_untrained_noise"]
    assert trained["0.1"] > trained["0.0"] - 0.02  # 10 % costs less than 2 points
    assert trained["0.3"] > untrained["0.3"]


def test_retraining_recovers_from_persistent_conductance_errors():
    config = OnChip3x3Config(seeds=3, parts=["retraining"], retrain_levels=[0.3], retrain_margin=0.0)
    results = run(config)
    row = results.tables["retraining"][0]
    assert row["retrained_fraction"] >= 0.6 and row["retrain_pulses"] > 0 and row["retrain_energy_j"] > 0
    assert row["accuracy_after"] > row["accuracy_before"] + 0.02
    # with a wide margin nothing is retrained and nothing changes
    config = config.model_copy(update={"retrain_margin": 1.0})
    row = run(config).tables["retraining"][0]
    assert row["retrained_fraction"] == 0.0 and row["accuracy_after"] == row["accuracy_before"]


def test_interrupted_study_resumes_from_its_finished_parts(tmp_path, monkeypatch):
    import memristorch.experiments.onchip_3x3 as onchip

    config = OnChip3x3Config(
        seeds=2,
        epochs=50,
        n_test=200,
        materials=["knowm-cr"],
        parts=["calibration", "materials", "input-noise"],
    )
    spec = get_experiment("onchip-3x3")
    first, _ = execute(spec, config, tmp_path)
    parts = tmp_path / "checkpoints"
    assert (parts / "part_calibration.pt").exists() and (parts / "part_materials.pt").exists()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a checkpointed part ran again")

    monkeypatch.setattr(onchip, "materials", must_not_run)
    monkeypatch.setattr(onchip, "calibrate", must_not_run)
    (parts / "part_input-noise.pt").unlink()  # as if interrupted during the last part
    resumed, _ = execute(spec, config, tmp_path, resume=True)
    assert resumed.summary == first.summary
    assert resumed.tables == first.tables
    with pytest.raises(ValueError, match="another configuration"):
        execute(spec, config.model_copy(update={"seeds": 3}), tmp_path, resume=True)


def test_cli_rejects_a_pulse_count_preset_as_material(tmp_path):
    result = CliRunner().invoke(
        app,
        ["run", "onchip-3x3", "-s", "materials=[soft-bounds]", "-s", "seeds=1", "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 2 and "time-domain" in result.output


def test_cli_writes_results(tmp_path):
    out = tmp_path / "run"
    args = [
        "run",
        "onchip-3x3",
        "--out",
        str(out),
        "-s",
        "seeds=1",
        "-s",
        "epochs=50",
        "-s",
        "parts=[materials]",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())["summary"]
    for material in ("knowm-w", "knowm-cr", "knowm-c"):
        for mode in ("reset", "no_reset"):
            assert {"accuracy", "training_time_s", "energy_j"} <= set(summary[f"{material}/{mode}"])
    assert (out / "materials.csv").exists() and (out / "materials_time.png").exists()
    assert (
        out / "checkpoints" / "part_materials.pt"
    ).exists()  # the CLI passes its run folder: parts are checkpointed


def test_differential_cells_use_two_devices_per_weight():
    config = OnChip3x3Config(
        seeds=1, epochs=100, n_test=200, materials=["knowm-cr"], parts=["materials"], cell="differential"
    )
    results = run(config)
    row = results.tables["materials"][0]
    assert row["accuracy"] > 0.9
    single = run(config.model_copy(update={"cell": "single"})).tables["materials"][0]
    assert (row["devices"], single["devices"]) == (60, 30)


def test_cycle_to_cycle_noise_and_incremental_amplitude_options():
    base = dict(seeds=1, epochs=50, n_test=200, materials=["knowm-cr"], parts=["materials"])
    noisy = run(OnChip3x3Config(**base, n_switches=2000)).tables["materials"][0]  # behind the 1 kΩ resistor
    ispp = run(OnChip3x3Config(**base, ispp_step_v=0.1)).tables["materials"][0]
    fixed = run(OnChip3x3Config(**base)).tables["materials"][0]
    # C2C noise converges the devices the mean-field chip converges (targets outside a device's D2D window
    # converge in neither)
    assert noisy["converged_fraction"] == fixed["converged_fraction"] >= 0.9
    # the MSS switching rate saturates at 1/τ well above V_on: rising amplitudes cost energy, not pulses
    assert ispp["converged_fraction"] == fixed["converged_fraction"] and ispp["pulses"] == fixed["pulses"]
    assert ispp["device_energy_j"] > 1.1 * fixed["device_energy_j"]
    # cycle-to-cycle noise makes pulses land off their mean: programming takes a different pulse count
    assert noisy["pulses"] != fixed["pulses"]
