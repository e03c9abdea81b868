import json

import pytest
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.experiments import get_experiment
from memristorch.experiments.insitu_mlp import InSituMLPConfig
from memristorch.runner import load_config
from memristorch.runner.store import RunStore
from memristorch.runner.study import execute

runner = CliRunner()


def test_run_writes_results_tables_and_figures(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["run", "insitu-mlp", "--out", str(out), "-s", "epochs=2", "-s", "hidden=[32]"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "results.json").read_text())
    summary = document["summary"]
    for key in ("test_accuracy", "float_test_accuracy", "energy_j", "pulses", "time_s", "max_write_cycles"):
        assert key in summary
    assert summary["pulses"] > 0 and summary["energy_j"] > 0 and summary["time_s"] > 0
    assert summary["test_accuracy"] > 0.5  # two epochs on digits already classify well above chance (10 %)
    assert (out / "history.csv").read_text().count("\n") == 3
    assert (out / "accuracy_per_epoch.png").stat().st_size > 1000
    assert (out / "conductance_histogram.png").stat().st_size > 1000
    assert "test_accuracy" in result.output


def test_resume_continues_where_the_run_stopped(tmp_path, monkeypatch):
    base = {"epochs": 2, "hidden": [16], "batch_size": 64}
    spec = get_experiment("insitu-mlp")
    whole, _ = execute(spec, InSituMLPConfig(**base), tmp_path / "whole")
    part = tmp_path / "part"
    real_save = RunStore.save

    def interrupted_after_epoch_1(self, key, state):
        real_save(self, key, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "save", interrupted_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        execute(spec, InSituMLPConfig(**base), part)
    monkeypatch.setattr(RunStore, "save", real_save)
    resumed, _ = execute(spec, InSituMLPConfig(**base), part, resume=True)
    assert resumed.tables["history"][:2] == whole.tables["history"][:2]
    for key in ("test_accuracy", "pulses", "energy_j", "time_s"):
        assert resumed.summary[key] == whole.summary[key]


def test_bad_config_names_the_field(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        load_config(InSituMLPConfig, overrides={"epochs": 0})
    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: -1\n")
    result = runner.invoke(app, ["run", "insitu-mlp", "--config", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "lr" in result.output
    result = runner.invoke(app, ["run", "insitu-mlp", "-s", "device=plutonium", "--out", str(tmp_path / "y")])
    assert result.exit_code == 2 and "device" in result.output
    result = runner.invoke(app, ["run", "no-such-thing"])
    assert result.exit_code == 2 and "experiment" in result.output


def test_list_and_devices_show(tmp_path):
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and "insitu-mlp" in result.output and "soft-bounds" in result.output
    result = runner.invoke(app, ["devices", "show", "exponential", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exponential.png").stat().st_size > 1000
