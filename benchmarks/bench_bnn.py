"""Bit-packed XNOR-popcount BNN inference against the float evaluation of the same network, in the same run.

Run: ``python benchmarks/bench_bnn.py [--hidden 1024 1024] [--batch 10000] [--repeats 5] [--weights binary]
[--backend auto]``. The network is a Fashion-MNIST-shaped BNN (784 inputs, binarized first-layer inputs so that every
layer is packed, batch-norm folded into integer thresholds) with random hidden weights and random batch-norm
statistics; speed does not depend on training. A float evaluation and a packed one alternate ``--repeats`` times
(each packed run right after its float run); the script prints the median times, the median ratio packed / float
with its range over repeats, and whether the outputs are bit-for-bit equal.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from memristorch.nn.binary import BinaryLinear, SignActivation, TernaryLinear
from memristorch.nn.packed import BACKENDS, PackedBNN


def build(hidden: list[int], weights: str, generator: torch.Generator) -> nn.Sequential:
    layer = BinaryLinear if weights == "binary" else TernaryLinear
    layers: list[nn.Module] = []
    width = 784
    for i, h in enumerate(hidden + [10]):
        layers.append(layer(width, h, binarize_input=i == 0))
        bn = nn.BatchNorm1d(h)
        with torch.no_grad():
            bn.running_mean.normal_(0, 5, generator=generator)
            bn.running_var.uniform_(10, 100, generator=generator)
        layers.append(bn)
        if i < len(hidden):
            layers.append(SignActivation())
        width = h
    return nn.Sequential(*layers).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024, 1024])
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", choices=("binary", "ternary"), default="binary")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = build(args.hidden, args.weights, generator)
    x = torch.rand(args.batch, 784, generator=generator) - 0.5
    start = time.perf_counter()
    packed = PackedBNN(model, threads=args.threads, backend=args.backend)
    compile_s = time.perf_counter() - start
    with torch.no_grad():
        reference = model(x)
    equal = torch.equal(packed(x), reference)  # also the warm-up (numba compiles or loads its cache here)
    float_times, packed_times, ratios = [], [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        with torch.no_grad():
            model(x)
        float_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        packed(x)
        packed_times.append(time.perf_counter() - start)
        ratios.append(packed_times[-1] / float_times[-1])
    f, p = statistics.median(float_times), statistics.median(packed_times)
    print(
        f"{args.weights} BNN 784-{'-'.join(map(str, args.hidden))}-10, batch {args.batch}, {args.threads} threads, "
        f"{packed.backend} backend, median of {args.repeats}: float {f * 1e3:.2f} ms, packed XNOR-popcount "
        f"{p * 1e3:.2f} ms (fold/pack once {compile_s * 1e3:.1f} ms)"
    )
    print(
        f"packed / float inference time: {statistics.median(ratios):.2f}x (range {min(ratios):.2f}–{max(ratios):.2f}, "
        f"{1 / statistics.median(ratios):.1f}x faster); outputs bit-for-bit equal: {equal}"
    )
    n_weights = sum(m.weight.numel() for m in model if isinstance(m, (BinaryLinear, TernaryLinear)))
    print(f"weight memory: {packed.memory_bits():,} bits packed vs {32 * n_weights:,} bits as float32")


if __name__ == "__main__":
    main()
