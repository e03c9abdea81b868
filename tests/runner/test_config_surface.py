"""The config surface: every crash class and silent accept found by fuzzing the old CLI is a clean exit 2 now.

Each case names the field, the value and what is allowed, prints no traceback, and writes nothing.
"""

import json

import pytest
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.experiments import EXPERIMENTS
from memristorch.experiments.insitu_mlp import InSituMLPConfig
from memristorch.runner.config import describe_config, load_config, parse_overrides, unbounded_numbers

runner = CliRunner()
TINY = ["-s", "epochs=1", "-s", "hidden=[8]", "-s", "train_subset=64"]


def _rejected(args, *expected, out=None):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    for piece in expected:
        assert piece in text, (piece, result.output)
    if out is not None:
        assert not (out / "results.json").exists()
    return text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("epochs: [1\n", "not valid YAML"),
        ("epochs: 1\n\thidden: [8]\n", "not valid YAML"),
        (
            "epochs: !!python/object/apply:os.system ['echo pwned > /tmp/memristorch-pwned']\n",
            "not valid YAML",
        ),
        ("- 1\n- 2\n", "must hold a mapping"),
    ],
    ids=["malformed", "tab", "python-tag", "not-a-mapping"],
)
def test_bad_config_files_exit_2(tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    _rejected(["run", "insitu-mlp", "--config", str(path), "--out", str(tmp_path / "o")], expected)
    assert not (tmp_path / "o").exists()
    assert not (tmp_path.parent / "memristorch-pwned").exists()


def test_config_directory_and_missing_file_exit_2(tmp_path):
    _rejected(["run", "insitu-mlp", "--config", str(tmp_path)], "is a directory")
    _rejected(["run", "insitu-mlp", "--config", str(tmp_path / "nope.yaml")], "does not exist")


@pytest.mark.parametrize(
    ("experiment", "override", "expected"),
    [
        ("insitu-mlp", "hidden=[0]", "hidden.0"),
        ("insitu-mlp", "lr=1e300", "lr"),
        ("insitu-mlp", "threads=100000", "threads"),
        ("insitu-mlp", "batch_size=10000000", "batch_size"),
        ("insitu-mlp", "device_overrides.no_such_field=1", "no field 'no_such_field'"),
        ("insitu-mlp", "lr=nan", "lr: Input should be a finite number"),
        ("onchip-3x3", "iv_frequencies_hz=[0]", "iv_frequencies_hz.0"),
        ("onchip-3x3", "lr=inf", "lr: Input should be a finite number"),
        ("onchip-3x3", "retrain_levels=[.nan]", "retrain_levels.0: Input should be a finite number"),
        ("onchip-3x3", "train_noise_levels=[0.1, .inf]", "train_noise_levels.1"),
        ("onchip-3x3", "conductance_error_levels=[-0.1]", "conductance_error_levels.0"),
        ("onchip-3x3", "system_power_w=.inf", "system_power_w: Input should be a finite number"),
        ("weakreset-stats", "pulses=[-100]", "pulses.0"),
        ("bnn-ber", "bers=[0, .nan]", "bers.1"),
        ("meta-pmnist", "metas=[0, -1]", "metas.1"),
        ("insitu-mlp", "no_such_field=1", "valid fields:"),
        ("insitu-mlp", "seed=-1", "seed"),
    ],
)
def test_bad_overrides_exit_2_naming_field_value_and_range(tmp_path, experiment, override, expected):
    out = tmp_path / "o"
    _rejected(["run", experiment, "-s", override, "--out", str(out)], expected, out=out)
    assert not out.exists()


def test_errors_name_the_value_given_and_the_allowed_range():
    with pytest.raises(ValueError) as error:
        load_config(InSituMLPConfig, overrides={"epochs": 0})
    assert "epochs: Input should be greater than or equal to 1 (got 0); allowed: ≥ 1, ≤ 1000" in str(
        error.value
    )
    with pytest.raises(ValueError) as error:
        load_config(InSituMLPConfig, overrides={"cell": "triple"})
    assert "cell" in str(error.value) and "'single'" in str(error.value) and "'triple'" in str(error.value)


def test_a_bad_preset_file_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("family: mss\nparams: {r_on_ohm: 1000, wobble: 3}\n")
    out = tmp_path / "o"
    _rejected(
        ["run", "insitu-mlp", "-s", f"device={bad}", *TINY, "--out", str(out)], "unknown field(s) wobble"
    )
    bad.write_text("family: mss\nparams: [1, 2\n")
    _rejected(["run", "insitu-mlp", "-s", f"device={bad}", *TINY, "--out", str(out)], "cannot be read")
    assert not out.exists()  # a run that fails before it saved anything leaves no folder behind


def test_out_that_is_a_file_or_holds_a_run_is_refused(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    _rejected(["run", "insitu-mlp", *TINY, "--out", str(file)], "is a file")
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "insitu-mlp", *TINY, "--out", str(out)]).exit_code == 0
    first = (out / "results.json").read_text()
    _rejected(
        ["run", "insitu-mlp", *TINY, "--out", str(out)], "already holds a run", "--resume", "--overwrite"
    )
    assert (out / "results.json").read_text() == first  # nothing was overwritten
    (out / "stale.png").write_bytes(b"x")
    document = json.loads((out / "results.json").read_text())
    document["figures"]["stale"] = "stale.png"  # as if the old run had drawn a figure the new one does not
    (out / "results.json").write_text(json.dumps(document))
    result = runner.invoke(
        app, ["run", "insitu-mlp", *TINY, "-s", "lr=0.2", "--out", str(out), "--overwrite"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "results.json").read_text())["config"]["lr"] == 0.2
    assert not (out / "stale.png").exists()  # the old run's files went with it


def test_resume_with_another_config_names_what_changed(tmp_path):
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "insitu-mlp", *TINY, "--out", str(out)]).exit_code == 0
    _rejected(
        ["run", "insitu-mlp", *TINY, "-s", "lr=0.3", "-s", "device=linear", "--out", str(out), "--resume"],
        "another configuration",
        "lr: 0.1 → 0.3",
        "device: 'soft-bounds' → 'linear'",
    )
    # fewer epochs is another configuration too (it used to report epochs: 1 beside two history rows)
    _rejected(["run", "insitu-mlp", *TINY, "-s", "epochs=2", "--out", str(out), "--resume"], "epochs: 1 → 2")
    # threads do not change results: a resume may use another number of them
    result = runner.invoke(
        app, ["run", "insitu-mlp", *TINY, "-s", "threads=1", "--out", str(out), "--resume"]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("content", [b"", b"not a torch file at all"], ids=["empty", "garbage"])
def test_a_corrupt_checkpoint_on_resume_exits_2_with_the_way_out(tmp_path, content):
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "insitu-mlp", *TINY, "--out", str(out)]).exit_code == 0
    (out / "checkpoints" / "training.pt").write_bytes(content)
    _rejected(["run", "insitu-mlp", *TINY, "--out", str(out), "--resume"], "cannot be read", "--overwrite")


def test_dotted_overrides_and_list_values():
    assert parse_overrides(["device_overrides.read_noise_rel=0.02", "hidden=[256,128]", "a.b.c=x"]) == {
        "device_overrides": {"read_noise_rel": 0.02},
        "hidden": [256, 128],
        "a": {"b": {"c": "x"}},
    }
    config = load_config(InSituMLPConfig, overrides=parse_overrides(["device_overrides.read_noise_rel=0.02"]))
    assert config.device_overrides == {"read_noise_rel": 0.02}
    assert config.tile_config().device.read_noise_std_s > 0


def test_config_command_lists_every_field_with_type_default_range_and_doc():
    result = runner.invoke(app, ["config", "insitu-mlp"])
    assert result.exit_code == 0, result.output
    for field in InSituMLPConfig.model_fields:
        assert f"{field}:" in result.output
    rows = {row["field"]: row for row in describe_config(InSituMLPConfig)}
    assert rows["epochs"]["allowed"] == "≥ 1, ≤ 1000" and rows["epochs"]["default"] == "30"
    assert "learning rate" in rows["lr"]["doc"].lower()
    assert "'single'" in rows["cell"]["allowed"]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_numeric_field_of_every_experiment_is_bounded(name):
    assert unbounded_numbers(EXPERIMENTS[name].config) == []


def test_devices_show_writes_only_inside_out(tmp_path):
    preset = tmp_path / "presets" / "mine.yaml"
    preset.parent.mkdir()
    fitted = runner.invoke(app, ["devices", "show", "knowm-reference", "--out", str(tmp_path / "ref")])
    assert fitted.exit_code == 0, fitted.output
    from memristorch.devices import get_device
    from memristorch.devices.fit import write_preset

    write_preset(preset, get_device("knowm-cr").params, "test preset")
    out = tmp_path / "figures"
    result = runner.invoke(app, ["devices", "show", str(preset), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "mine.png").exists()
    assert sorted(p.name for p in preset.parent.iterdir()) == ["mine.yaml"]
