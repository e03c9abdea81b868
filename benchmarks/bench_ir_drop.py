"""Cost of the IR-drop read: the circuit solve per array size, and a cached read against an ideal one.

Prints, for n × n crossbars, the seconds to solve the effective conductance matrix (done once per change of the
conductances), and the forward time of a MemLinear with and without wire resistance once solved, as a ratio in the
same run. Run: ``python benchmarks/bench_ir_drop.py [--sizes 32 64 128] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import time

import torch

import memristorch as mt
from memristorch.tiles.ir_drop import effective_conductances


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    for n in args.sizes:
        g = torch.rand(n, n, generator=generator, dtype=torch.float64) * 1e-4 + 1e-6
        solve = best_of(lambda g=g: effective_conductances(g, 1.0), args.repeats)
        x = torch.rand(256, n, generator=generator)
        layers = {}
        for r in (0.0, 1.0):
            periphery = mt.PeripheryConfig(read_noise=False, wire_resistance_ohm=r)
            layer = mt.MemLinear(n, n, config=mt.TileConfig(cell="differential", periphery=periphery)).eval()
            layer(x)  # solves once (with IR drop)
            layers[r] = layer
        with torch.no_grad():
            ideal = best_of(lambda f=layers[0.0], x=x: [f(x) for _ in range(100)], args.repeats)
            dropped = best_of(lambda f=layers[1.0], x=x: [f(x) for _ in range(100)], args.repeats)
        print(f"{n:4d} x {n:<4d} solve {solve:8.3f} s   cached read / ideal read {dropped / ideal:5.2f}x")


if __name__ == "__main__":
    main()
