"""Run store (manifest, fingerprint, atomic writes, strict JSON), named seed streams and the one mean ± std."""

import json
import math
import os

import numpy as np
import pytest
import torch

from memristorch.runner.seeds import derive_seed, stream
from memristorch.runner.stats import describe, mean_std
from memristorch.runner.store import (
    Results,
    RunStore,
    atomic_write_bytes,
    config_changes,
    fingerprint,
    strict_json,
)


def test_named_streams_never_collide_where_offsets_did():
    # offset arithmetic made stream 17 both "seed 16 + 1" and "seed 0 + 17"
    assert derive_seed(16, "training", 1) != derive_seed(0, "training", 17)
    seeds = {
        derive_seed(s, p, r) for s in range(20) for p in ("training", "chips", "init") for r in range(20)
    }
    assert len(seeds) == 20 * 3 * 20
    assert all(0 <= s < 2**63 for s in seeds)


def test_a_stream_is_the_same_on_every_call_and_machine():
    assert derive_seed(0, "training") == derive_seed(0, "training")
    a = torch.rand(5, generator=stream(3, "x", 2))
    b = torch.rand(5, generator=stream(3, "x", 2))
    assert torch.equal(a, b)
    # a fixed value: BLAKE2b of "0/training" — not Python's salted hash(), so it holds across processes
    assert (
        derive_seed(0, "training")
        == int.from_bytes(__import__("hashlib").blake2b(b"0/training", digest_size=8).digest(), "little") >> 1
    )
    with pytest.raises(TypeError):
        derive_seed(1.5, "x")
    with pytest.raises(ValueError):
        derive_seed(0, "")


def test_mean_std_is_the_sample_std_with_n():
    values = [0.9, 0.92, 0.95, 0.97, 0.99]
    mean, std = mean_std(values)
    assert std == pytest.approx(float(np.std(values, ddof=1)))
    assert std != pytest.approx(
        float(np.std(values, ddof=0)), rel=0.05
    )  # the two conventions differ by ~12 %
    assert describe(values) == {"mean": mean, "std": std, "n": 5}
    assert mean_std([0.5]) == (0.5, 0.0)
    with pytest.raises(ValueError):
        mean_std([])


def test_strict_json_writes_non_finite_numbers_as_null_and_flags_them(tmp_path):
    clean, bad = strict_json({"a": math.nan, "b": [1.0, math.inf], "c": {"d": -math.inf}, "e": 2})
    assert clean == {"a": None, "b": [1.0, None], "c": {"d": None}, "e": 2}
    assert bad == ["a", "b[1]", "c.d"]
    store = RunStore(tmp_path / "run", "test", {"x": 1})
    store.write_results(Results(summary={"accuracy": math.nan, "pulses": 3}))

    def refuse(text):
        raise AssertionError(f"non-strict JSON constant {text}")

    document = json.loads((tmp_path / "run" / "results.json").read_text(), parse_constant=refuse)
    assert document["summary"] == {"accuracy": None, "pulses": 3, "non_finite": ["accuracy"]}


def test_fingerprint_ignores_execution_fields_and_names_changes():
    base = {"lr": 0.1, "threads": 2, "data_dir": None, "device_overrides": {"c2c_std": 0.1}}
    assert fingerprint(base) == fingerprint({**base, "threads": 1, "data_dir": "/elsewhere"})
    assert fingerprint(base) != fingerprint({**base, "lr": 0.2})
    changes = config_changes(base, {**base, "lr": 0.2, "device_overrides": {"c2c_std": 0.2}})
    assert changes == ["device_overrides.c2c_std: 0.1 → 0.2", "lr: 0.1 → 0.2"]


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_bytes(path, b"old")

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new, half written")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temporary file left behind
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # the usual permissions, not mkstemp's


def test_store_refuses_resume_and_overwrite_together_and_loads_only_when_resuming(tmp_path):
    with pytest.raises(ValueError, match="exclude each other"):
        RunStore(tmp_path / "r", "t", {}, resume=True, overwrite=True)
    store = RunStore(tmp_path / "r", "t", {"a": 1})
    store.save("part", {"x": torch.ones(2)})
    assert store.load("part") is None  # a fresh run never reads old checkpoints
    resumed = RunStore(tmp_path / "r", "t", {"a": 1}, resume=True)
    assert torch.equal(resumed.load("part")["x"], torch.ones(2))
    with pytest.raises(ValueError, match="plain file name"):
        resumed.save("../escape", {})
    with pytest.raises(ValueError, match="holds a run of 't', not 'u'"):
        RunStore(tmp_path / "r", "u", {"a": 1}, resume=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        RunStore(tmp_path / "other", "t", {})


KILL_ARGS = ["run", "insitu-mlp", "-s", "epochs=30", "-s", "hidden=[32]", "-s", "batch_size=16"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("whole") / "run"
    subprocess.run(
        [sys.executable, "-m", "memristorch.cli", *KILL_ARGS, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("delay_s", [0.0, 1.0, 3.0])
def test_a_run_killed_at_any_moment_resumes_to_the_uninterrupted_results(tmp_path, uninterrupted, delay_s):
    """kill -9 ``delay_s`` after the run opened its folder (before, between or inside checkpoint writes),
    then --resume: the same numbers as a run never interrupted."""
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "memristorch.cli", *KILL_ARGS]
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [*command, "--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (killed / "run.json").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay_s)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "results.json").exists(), "the kill must land before the run finished"
    resumed = subprocess.run([*command, "--out", str(killed), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout[-2000:]
    a = json.loads((uninterrupted / "results.json").read_text())
    b = json.loads((killed / "results.json").read_text())
    for document in (a, b):
        document["summary"].pop("wall_time_s")
    assert b["summary"] == a["summary"]
    assert (killed / "history.csv").read_text() == (uninterrupted / "history.csv").read_text()
