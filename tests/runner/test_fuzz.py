"""Fuzzing the command line: generated overrides of every experiment at tiny sizes never end in a traceback.

Every example either runs (exit 0, ``results.json`` strict JSON) or is refused (exit 2, one-line error). Values are
drawn from each field's own type and bounds (boundary values, the tiny base value) and from a pool of hostile ones
(NaN, ±inf, negative, huge, wrong types, empty and poisoned lists). Derandomised, so CI runs the same examples.
"""

import json
import math
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.experiments import EXPERIMENTS

runner = CliRunner()
OUTCOMES: list[int] = []
SUBSETS = {"train_subset": 128, "test_subset": 64}
TINY_BNN = {"dataset": "digits", "hidden": [8], "epochs": 1, "batch_size": 32, **SUBSETS}
TINY_META = {"train_per_task": 100, "test_per_task": 50, "hidden": [8], "epochs_per_task": 1, "metas": [0.0]}
TINY_BIOSIGNAL = {
    "variants": ["float"],
    "widths": [1],
    "replicates": 1,
    "epochs": 1,
    "channels": [2],
    "kernels": [3],
    "hidden": 2,
    "conditions": 2,
    "iid_bers": [],
    "chip_draws": 1,
}
TINY = {
    "insitu-mlp": {"epochs": 1, "hidden": [8], "train_subset": 64, "batch_size": 32},
    "onchip-3x3": {
        "seeds": 1,
        "epochs": 20,
        "n_train": 20,
        "n_test": 50,
        "parts": ["materials"],
        "materials": ["knowm-cr"],
        "retrain_epochs": 5,
    },
    "bnn-ber": {**TINY_BNN, "datasets": ["digits"], "widths": [[8]], "bers": [0, 0.1], "draws": 1},
    "bnn-programming-energy": {**TINY_BNN, "conditions": 2, "draws": 1, "error_aware": False},
    "mram-energy": {},
    "bnn-system-energy": {"networks": ["mnist-mlp"]},
    "tnn-vs-bnn": {**TINY_BNN, "seeds": 1, "error_rates": [0.01], "draws": 1},
    "stochastic-inputs": {**TINY_BNN, "ks": [1, 2], "seeds": 1, "draws": 1},
    "ternary-pvt": {**TINY_BNN, "seeds": 1, "draws": 1, "supplies_v": [0.6], "temperatures_k": [300.0]},
    "weakreset-stats": {
        "devices": 1000,
        "rtn_devices": 100,
        "rtn_pulses": 10,
        "pink_devices": 4,
        "pink_steps": 64,
        "pulses": [0, 100],
    },
    "weakreset-bnn": {
        "dataset": "digits",
        "hidden": 8,
        "epochs": 1,
        "seeds": 1,
        "conditions": ["ideal", "mean"],
        "train_subset": 128,
    },
    "meta-pmnist": {
        **TINY_META,
        "dataset": "digits",
        "tasks": 2,
        "metas": [0.0, 1.0],
        "importance_flips": 10,
    },
    "meta-mnist-fmnist": TINY_META,
    "ecg-bnn": {
        **TINY_BIOSIGNAL,
        "train_records": [101],
        "test_records": [100],
        "rr_levels": 2,
    },
    "eeg-bnn": {**TINY_BIOSIGNAL, "tasks": ["A-E"], "window": 4097, "stride": 4097},
    "meta-stream": {**TINY_META, "dataset": "digits", "tasks": 2},
    "inference-drift": {
        "dataset": "digits",
        "architecture": "mlp",
        "hidden": [8],
        "epochs": 1,
        "train_subset": 64,
        "test_subset": 50,
        "times": ["1s", "1y"],
        "repeats": 1,
    },
}
HOSTILE = [
    math.nan,
    math.inf,
    -math.inf,
    -1,
    0,
    -(10**12),
    10**30,
    1e300,
    "abc",
    "",
    None,
    True,
    [],
    [math.nan],
    [-1],
    [[]],
    {"a": 1},
]
#: fields whose large valid values would make a tiny run long; only their base and lower bound are tried
SIZES = (
    "epochs",
    "n_",
    "devices",
    "pulses",
    "steps",
    "subset",
    "per_task",
    "tasks",
    "seeds",
    "threads",
    "draws",
    "replicates",
    "widths",
    "channels",
    "hidden",
    "conditions",
    "records",
    "window",
    "stride",
    "rr_levels",
)


def _yaml(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _boundaries(config, field: str) -> list:
    info = config.model_fields[field]
    values = []
    for item in info.metadata:
        for attr in ("ge", "gt", "le", "lt"):
            bound = getattr(item, attr, None)
            if bound is None:
                continue
            if attr in ("le", "lt") and any(s in field for s in SIZES):
                continue
            values.append(bound)
            if attr == "gt":
                values.append(bound + 1e-9 if isinstance(bound, float) else bound + 1)
    return values


def _value_for(config, field: str, base: dict):
    """Half the draws from the field's own boundaries and base value, half hostile."""
    valid = _boundaries(config, field) + ([base[field]] if field in base else [])
    if not valid:
        return st.sampled_from(HOSTILE)
    return st.one_of(st.sampled_from(valid), st.sampled_from(HOSTILE))


def _check_run(name: str, overrides: dict) -> None:
    out = Path(tempfile.mkdtemp(prefix="fuzz-")) / "run"
    try:
        args = ["run", name, "--out", str(out)]
        for key, value in {**TINY[name], **overrides}.items():
            args += ["-s", f"{key}={_yaml(value)}"]
        result = runner.invoke(app, args)
        OUTCOMES.append(result.exit_code)
        assert result.exit_code in (0, 2), (args, result.output, result.exception)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args}: {result.exception!r}") from result.exception
        assert "Traceback" not in result.output
        if result.exit_code == 0:

            def no_constants(text):
                raise AssertionError(f"results.json holds {text}: not strict JSON")

            document = json.loads((out / "results.json").read_text(), parse_constant=no_constants)
            assert document["experiment"] == name
        else:
            assert "error:" in result.output
            assert not (out / "results.json").exists()
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_fuzzed_overrides_run_or_exit_2(name):
    config = EXPERIMENTS[name].config
    fields = [f for f in config.model_fields if f not in ("data_dir",)]

    @settings(
        max_examples=15,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data):
        chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2, unique=True))
        overrides = {f: data.draw(_value_for(config, f, TINY[name]), label=f) for f in chosen}
        _check_run(name, overrides)

    check()


def test_the_tiny_base_configs_run():
    """The fuzzer's base points are valid runs (else every example would be a rejection)."""
    for name in ("insitu-mlp", "weakreset-stats", "mram-energy"):
        _check_run(name, {})


def test_the_fuzzer_both_runs_and_refuses():
    """The same strategy on insitu-mlp yields real runs and refusals both (else it would fuzz nothing)."""
    config = EXPERIMENTS["insitu-mlp"].config
    fields = [f for f in config.model_fields if f != "data_dir"]
    OUTCOMES.clear()

    @settings(max_examples=25, derandomize=True, deadline=None, database=None)
    @given(data=st.data())
    def check(data):
        field = data.draw(st.sampled_from(fields))
        _check_run("insitu-mlp", {field: data.draw(_value_for(config, field, TINY["insitu-mlp"]))})

    check()
    assert OUTCOMES.count(0) >= 5 and OUTCOMES.count(2) >= 5, OUTCOMES
