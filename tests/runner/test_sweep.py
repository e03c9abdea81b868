"""Sweeps: serial, process pool and Ray give the same aggregated table; a sweep killed mid-way resumes to it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.experiments.insitu_mlp import InSituMLPConfig
from memristorch.runner.stats import mean_std
from memristorch.runner.sweep import parse_grid, plan_points, run_sweep

runner = CliRunner()
BASE = {"epochs": 3, "hidden": [16], "train_subset": 300, "batch_size": 32}
GRID = {"device_overrides.read_noise_rel": [0.0, 0.05]}


def _sweep(out, **kwargs):
    return run_sweep("insitu-mlp", out, base=BASE, grid=GRID, seeds=[0, 1], progress=False, **kwargs)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    result = _sweep(out)
    return out, result


def test_serial_sweep_aggregates_mean_and_sample_std_over_seeds(serial):
    out, result = serial
    rows = result["rows"]
    assert [r["device_overrides.read_noise_rel"] for r in rows] == [0.0, 0.05]
    assert all(r["n"] == 2 for r in rows)
    for row in rows:
        setting = row["device_overrides.read_noise_rel"]
        accuracies = []
        for seed in (0, 1):
            name = f"device_overrides.read_noise_rel={setting}__seed={seed}"
            document = json.loads((out / "points" / name / "results.json").read_text())
            assert document["config"]["seed"] == seed
            assert document["config"]["device_overrides"] == {"read_noise_rel": setting}
            accuracies.append(document["summary"]["test_accuracy"])
        assert (row["test_accuracy_mean"], row["test_accuracy_std"]) == mean_std(accuracies)
    assert "wall_time_s_mean" not in rows[0]  # machine time is no science and would differ between backends
    assert (out / "aggregate.md").read_text().count("\n") == 4
    assert (out / "device_overrides.read_noise_rel.png").stat().st_size > 5000


def test_ray_sweep_equals_the_serial_one(serial, tmp_path):
    out = tmp_path / "ray"
    _sweep(out, jobs=2, backend="ray")
    assert (out / "aggregate.csv").read_text() == (serial[0] / "aggregate.csv").read_text()


def test_process_pool_sweep_equals_the_serial_one(serial, tmp_path):
    out = tmp_path / "pool"
    _sweep(out, jobs=2, backend="local")
    assert (out / "aggregate.csv").read_text() == (serial[0] / "aggregate.csv").read_text()


def _cli_sweep(out: Path, *extra: str) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "memristorch.cli",
        "sweep",
        "insitu-mlp",
        "--out",
        str(out),
        "--seeds",
        "0,1",
    ]
    for key, value in BASE.items():
        args += ["-s", f"{key}={json.dumps(value)}"]
    args += ["--grid", "device_overrides.read_noise_rel=0.0,0.05", *extra]
    return args


def test_a_killed_ray_sweep_resumes_to_the_serial_table(serial, tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        _cli_sweep(out, "-s", "epochs=3", "--backend", "ray", "-j", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if list((out / "points").glob("*/results.json")):
                break
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver, its Ray workers and the local Ray services
        process.wait()
    finished = list((out / "points").glob("*/results.json"))
    assert 1 <= len(finished) < 4, "the kill must land mid-sweep"
    kept = {p: p.read_text() for p in finished}
    result = subprocess.run(
        _cli_sweep(out, "--backend", "ray", "-j", "2", "--resume"), capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "aggregate.csv").read_text() == (serial[0] / "aggregate.csv").read_text()
    assert all(path.read_text() == text for path, text in kept.items())  # finished points were not rerun


def test_resuming_another_sweep_is_refused(serial, tmp_path):
    out = tmp_path / "s"
    _sweep(out)
    result = runner.invoke(
        app, ["sweep", "insitu-mlp", "--out", str(out), "--resume", "--seeds", "3", "-s", "epochs=3"]
    )
    assert result.exit_code == 2 and "another sweep" in result.output
    result = runner.invoke(app, ["sweep", "insitu-mlp", "--out", str(out), "--seeds", "2"])
    assert result.exit_code == 2 and "already holds a sweep" in result.output


def test_bad_grids_fail_before_any_point_runs(tmp_path):
    with pytest.raises(ValueError, match="lr"):
        plan_points(InSituMLPConfig, {}, {"lr": [0.1, -1]}, [0])
    for args, expected in [
        (["--grid", "lr"], "key=v1,v2"),
        (["--grid", "lr=0.1", "--grid", "lr=0.2"], "twice"),
        (["--grid", "seed=1,2"], "--seeds"),
        (["--seeds", "0"], "[1, 1000]"),
        (["--seeds", "a,b"], "count"),
        (["--backend", "slurm"], "backend"),
        (["--address", "1.2.3.4:6379"], "--backend ray"),
        (["-j", "0"], "jobs"),
        (["--grid", "hidden=[0]"], "hidden.0"),
    ]:
        result = runner.invoke(app, ["sweep", "insitu-mlp", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2, (args, result.output)
        assert expected in " ".join(result.output.split()), (args, result.output)
        assert not (tmp_path / "x" / "points").exists()


def test_parse_grid_reads_yaml_values():
    assert parse_grid(["lr=0.1,0.3", "hidden=[64],[128,64]", "device=linear,soft-bounds"]) == {
        "lr": [0.1, 0.3],
        "hidden": [[64], [128, 64]],
        "device": ["linear", "soft-bounds"],
    }
