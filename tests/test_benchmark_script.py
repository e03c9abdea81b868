"""The benchmark script runs and reports both ratios (no wall-clock assertion: these machines are noisy)."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_insitu.py"


def test_benchmark_reports_ratios():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "5", "--repeats", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"in-situ training / float training time: \d+\.\d+x", out), out
    assert re.search(r"noisy inference / float inference time: \d+\.\d+x", out), out
    assert re.search(r"\d+ pulses per step", out), out
