"""Time in-situ training and noisy inference against plain PyTorch, in the same process.

784-256-128-10 MLP, batch 64, 2 threads. Prints steps/s for: float SGD training, in-situ training on the
``soft-bounds`` preset (D2D and C2C noise on), float inference, and inference with read noise; and the ratios
(simulated time / float time). Run: ``python benchmarks/bench_insitu.py [--steps N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

import memristorch as mt


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def seconds_per_call(fn, steps: int, repeats: int) -> float:
    for _ in range(max(5, steps // 10)):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="soft-bounds")
    parser.add_argument("--lr", type=float, default=0.2, help="as in configs/insitu-mnist.yaml")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    x = torch.rand(64, 784)
    y = torch.randint(0, 10, (64,))
    float_model = mlp()
    float_opt = torch.optim.SGD(float_model.parameters(), lr=args.lr)
    config = mt.TileConfig(device=args.device, w_max=1.0)
    mem_model = mt.convert(mlp(), config)
    mem_opt = mt.InSituSGD(mem_model.parameters(), lr=args.lr)

    def train_step(model, opt):
        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

        return step

    def infer(model):
        @torch.no_grad()
        def run():
            model(x)

        return run

    # interleave the measurements so that machine noise hits both sides alike
    results: dict[str, list[float]] = {
        k: [] for k in ("float_train", "insitu_train", "float_infer", "noisy_infer")
    }
    fns = {
        "float_train": train_step(float_model, float_opt),
        "insitu_train": train_step(mem_model, mem_opt),
        "float_infer": infer(float_model),
        "noisy_infer": infer(mem_model),
    }
    for _ in range(args.repeats):
        for name, fn in fns.items():
            results[name].append(seconds_per_call(fn, args.steps, 1))
    best = {k: min(v) for k, v in results.items()}

    print(
        f"784-256-128-10 MLP, batch 64, {args.threads} threads, device preset {args.device!r}, torch {torch.__version__}"
    )
    print(f"{'case':<16}{'steps/s':>12}{'ms/step':>10}")
    for name, sec in best.items():
        print(f"{name:<16}{1 / sec:>12.1f}{sec * 1e3:>10.3f}")
    train_ratio = best["insitu_train"] / best["float_train"]
    infer_ratio = best["noisy_infer"] / best["float_infer"]
    print(f"in-situ training / float training time: {train_ratio:.2f}x  (target <= 2x)")
    print(f"noisy inference / float inference time: {infer_ratio:.2f}x  (target <= 1.3x)")
    ledger = mt.summarize(mem_model)
    pulses_per_step = ledger["pulses"] / max(1, ledger["updates"])
    print(
        f"lr {args.lr}: {pulses_per_step:.0f} pulses per step on {ledger['devices']} devices "
        f"({100 * pulses_per_step / ledger['devices']:.2f} % of devices, counting multi-pulse devices by pulses)"
    )


if __name__ == "__main__":
    main()
