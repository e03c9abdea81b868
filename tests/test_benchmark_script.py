"""The benchmark scripts run and print their report format (not a performance test: no time is asserted, these
machines are noisy; the ratios themselves are read from `make bench`)."""

import json
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_benchmark(name: str, *args: str) -> str:
    """The printed report of ``benchmarks/<name>`` run with ``args``."""
    command = [sys.executable, str(BENCHMARKS / name), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_insitu_benchmark_script_prints_its_report_format():
    out = run_benchmark("bench_insitu.py", "--steps", "5", "--repeats", "1")
    assert re.search(r"in-situ training / float training time: \d+\.\d+x", out), out
    assert re.search(r"noisy inference / float inference time: \d+\.\d+x", out), out
    assert re.search(r"\d+ pulses per step", out), out


def test_bnn_benchmark_script_prints_ratio_and_equality():
    for backend in ("numba", "numpy"):
        out = run_benchmark(
            "bench_bnn.py", "--hidden", "128", "--batch", "200", "--repeats", "2", "--backend", backend
        )
        assert f"{backend} backend, median of 2" in out, out
        pattern = r"packed / float inference time: \d+\.\d+x \(range \d+\.\d+–\d+\.\d+, \d+\.\dx faster\); "
        assert re.search(pattern + r"outputs bit-for-bit equal: True", out), out


def test_mss_benchmark_script_prints_ratio_and_agrees_with_plain_torch():
    out = run_benchmark("bench_mss.py", "--devices", "2000", "--steps", "50")
    assert re.search(r"memristorch / plain = \d+\.\d+", out), out
    match = re.search(r"max \|Δx\| ([0-9.e+-]+), max relative Δenergy ([0-9.e+-]+)", out)
    assert match and float(match.group(1)) < 1e-9 and float(match.group(2)) < 1e-9, out


def test_ir_drop_benchmark_script_prints_solve_time_and_read_ratio():
    out = run_benchmark("bench_ir_drop.py", "--sizes", "8", "--repeats", "1")
    assert re.search(r"8 x 8\s+solve\s+\d+\.\d+ s\s+cached read / ideal read\s+\d+\.\d+x", out), out


def test_case_benchmark_prints_each_ratio_and_writes_json(tmp_path):
    out = run_benchmark(
        "bench_cases.py",
        "--cases",
        "mlp-infer-noise",
        "cnn-insitu",
        "bnn-packed-1",
        "--steps",
        "1",
        "--repeats",
        "2",
        "--json",
        str(tmp_path / "bench.json"),
    )
    assert re.search(r"mlp-infer-noise\s+\d+\.\d+x\s+\d+\.\d+–\d+\.\d+\s+—\s+\d+\.\d", out), out
    assert re.search(r"cnn-insitu\s+\d+\.\d+x\s+\d+\.\d+–\d+\.\d+\s+\d+\.\d+\s+\d+\.\d", out), out
    results = json.loads((tmp_path / "bench.json").read_text())["results"]
    assert re.search(r"bnn-packed-1\s+\d+\.\d+x\s+\d+\.\d+–\d+\.\d+\s+—\s+0\.1", out), out
    assert [r["case"] for r in results] == ["mlp-infer-noise", "cnn-insitu", "bnn-packed-1"]
    assert results[1]["repeats"] == 2 and results[2]["state_bytes_per_weight"] == 1 / 8


def test_gaussian_benchmark_script_prints_both_comparisons():
    out = run_benchmark("bench_gaussian.py", "--repeats", "2", "--steps", "8", "--shape", "64", "100")
    assert re.search(r"ziggurat \(standard_normal\)\s+\d+\.\d+ µs\s+/ torch.randn: \d+\.\d+x", out), out
    for name in ("read noise off", "read noise on"):
        assert re.search(name + r"\s+\d+\.\d+ µs\s+/ float: \d+\.\d+x", out), out
