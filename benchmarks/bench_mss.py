"""Vectorized metastable-switch integration: step N devices through T time steps of a shared sine drive.

Run: ``python benchmarks/bench_mss.py [--devices 1000000] [--steps 1000] [--dtype float64]``. Prints the wall time and
device-steps per second; the loop runs over time steps only, each step advancing every device at once.
"""

from __future__ import annotations

import argparse
import time

import torch

from memristorch.devices.mss import MSSDevice, sine_waveform


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--d2d", type=float, default=0.1, help="log-normal D2D spread of the model parameters"
    )
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = MSSDevice(d2d_std=args.d2d, dtype=args.dtype)
    state = device.init_state((args.devices,), torch.Generator().manual_seed(0))
    t, v = sine_waveform(0.5, 1e3, 1e-3, 1e-3 / args.steps)
    start = time.perf_counter()
    result = device.apply_waveform(state, t, v)
    elapsed = time.perf_counter() - start
    print(
        f"{args.devices:,} devices x {args.steps:,} steps (D2D {args.d2d}, {args.dtype}): {elapsed:.2f} s, "
        f"{args.devices * args.steps / elapsed:.3g} device-steps/s; mean energy {result.energy_j.mean():.3g} J, "
        f"mean final x {result.state['x'].mean():.4f}"
    )


if __name__ == "__main__":
    main()
