import json

import pytest
import torch
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.data.patterns import PLUS_PATTERN, X_PATTERN, pattern_samples
from memristorch.experiments.onchip_3x3 import OnChip3x3Config, run


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


def test_small_onchip_run_orders_reset_and_errors():
    config = OnChip3x3Config(
        seeds=2,
        epochs=150,
        n_test=400,
        materials=["knowm-cr"],
        conductance_error_levels=[0.0, 0.3],
        train_noise_levels=[0.0, 0.1],
        input_noise_levels=[0.0, 1.0],
    )
    results = run(config)
    s = results.summary
    assert s["software_clean_accuracy"] == 1.0
    assert s["reset_time_factor"]["knowm-cr"] > 2.0  # the 200 ms reset dominates programming time
    assert s["reset_energy_factor"]["knowm-cr"] > 1.0
    assert s["knowm-cr/no_reset"]["accuracy"] > 0.9
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
    } <= set(results.tables)
    assert {
        "materials",
        "train-noise",
        "conductance-error",
        "input-noise",
        "device_iv",
        "pulse_response",
    } <= set(results.figures)
    # program-and-verify: ≥ 99 % at 10 % tolerance, and tighter tolerances cost more pulses
    stats = results.tables["verify_stats"]
    assert stats[0]["tolerance"] == 0.1 and stats[0]["converged_fraction"] >= 0.99
    assert [r["mean_pulses"] for r in stats] == sorted(r["mean_pulses"] for r in stats)
    # lobes shrink with frequency (1 → 100 Hz with τ = 20 ms)
    lobes = [r["lobe_area_va"] for r in results.tables["device_iv"]]
    assert lobes[0] > lobes[-1]


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
    assert (out / "materials.csv").exists() and (out / "materials.png").exists()


def test_differential_cells_use_two_devices_per_weight():
    config = OnChip3x3Config(
        seeds=1, epochs=100, n_test=200, materials=["knowm-cr"], parts=["materials"], cell="differential"
    )
    results = run(config)
    row = results.tables["materials"][0]
    assert row["accuracy"] > 0.9
    single = run(config.model_copy(update={"cell": "single"})).tables["materials"][0]
    assert (row["devices"], single["devices"]) == (60, 30)
