"""What read noise costs an inference, and the compiled ziggurat against ``torch.randn``, in one process.

Two measurements, each in interleaved bursts (the two sides alternate ``--repeats`` times, so both see the same
machine state), median and range over repeats:

* the draw alone: ``memristorch._gaussian.standard_normal`` against ``torch.randn`` for ``--shape`` values on the
  same generator (default 256 × 394: one batch-256 forward of the 784-256-128-10 MLP's outputs);
* a batch-256 forward (``torch.no_grad``) of that MLP in float, converted with read noise off, and converted with
  read noise on (differential pairs of the soft-bounds preset).

Run: ``python benchmarks/bench_gaussian.py [--repeats 9] [--steps 200] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import memristorch as mt
from memristorch._gaussian import standard_normal


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    ).eval()


def burst(fn, steps: int) -> float:
    """Microseconds per call over ``steps`` calls."""
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps * 1e6


def interleaved(fns: dict, steps: int, repeats: int) -> dict[str, list[float]]:
    for fn in fns.values():  # warm up (compiles the ziggurat on first use)
        burst(fn, max(1, steps // 10))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(burst(fn, steps))
    return times


def report(title: str, times: dict[str, list[float]], reference: str) -> None:
    print(title)
    base = times[reference]
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        print(
            f"  {name:<28} {statistics.median(values):9.1f} µs   / {reference}: {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}–{max(ratios):.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shape", type=int, nargs=2, default=(256, 394))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shape = tuple(args.shape)
    generator = torch.Generator().manual_seed(0)
    draws = interleaved(
        {
            "torch.randn": lambda: torch.randn(shape, generator=generator),
            "ziggurat (standard_normal)": lambda: standard_normal(shape, generator),
        },
        args.steps,
        args.repeats,
    )
    report(f"standard normal draws, {shape[0]} x {shape[1]}, {args.threads} threads", draws, "torch.randn")

    torch.manual_seed(0)
    x = torch.rand(256, 784)
    reference = mlp()
    quiet = mt.convert(
        mlp(), mt.TileConfig(cell="differential", periphery=mt.PeripheryConfig(read_noise=False))
    ).eval()
    noisy = mt.convert(
        mlp(), mt.TileConfig(cell="differential", periphery=mt.PeripheryConfig(read_noise=True))
    ).eval()

    def forward(model):
        def step():
            with torch.no_grad():
                model(x)

        return step

    passes = interleaved(
        {"float": forward(reference), "read noise off": forward(quiet), "read noise on": forward(noisy)},
        args.steps // 4,
        args.repeats,
    )
    report("batch-256 forward of 784-256-128-10", passes, "float")


if __name__ == "__main__":
    main()
