"""Vectorized metastable-switch integration: step N devices through T time steps of a shared sine drive.

Run: ``python benchmarks/bench_mss.py [--devices 1000000] [--steps 1000] [--dtype float64]``. Prints the wall time and
device-steps per second; the loop runs over time steps only, each step advancing every device at once. In the same
run it times plain PyTorch doing the same physics written inline (rates, exact relaxation at the step's midpoint
voltage, current and trapezoid energy, on the same per-device parameter tensors) and prints the ratio.
"""

from __future__ import annotations

import argparse
import time

import torch

from memristorch.devices.mss import MSSDevice, sine_waveform


def plain_torch(
    state: dict, t: torch.Tensor, v: torch.Tensor, vt: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same integration written directly in PyTorch: the reference the model's overhead is measured against."""
    x = state["x"].clone()
    g_on, g_off = 1.0 / state["r_on_ohm"], 1.0 / state["r_off_ohm"]
    energy = torch.zeros_like(x)
    volts, steps = v.tolist(), t.diff().tolist()
    power = volts[0] ** 2 * (g_off + (g_on - g_off) * x)
    for k, dt in enumerate(steps):
        mid = 0.5 * (volts[k] + volts[k + 1])
        a = torch.sigmoid((mid - state["v_on_v"]) / vt) / state["tau_s"]
        b = torch.sigmoid(-(mid + state["v_off_v"]) / vt) / state["tau_s"]
        rate = a + b
        x_inf = a / rate
        x = x_inf + (x - x_inf) * torch.exp(-rate * dt)
        next_power = volts[k + 1] ** 2 * (g_off + (g_on - g_off) * x)
        energy += 0.5 * dt * (power + next_power)
        power = next_power
    return x, energy


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
    start = time.perf_counter()
    x_plain, energy_plain = plain_torch(state, t, v, device.params.thermal_voltage_v)
    plain = time.perf_counter() - start
    print(
        f"{args.devices:,} devices x {args.steps:,} steps (D2D {args.d2d}, {args.dtype}): {elapsed:.2f} s, "
        f"{args.devices * args.steps / elapsed:.3g} device-steps/s; mean energy {result.energy_j.mean():.3g} J, "
        f"mean final x {result.state['x'].mean():.4f}"
    )
    print(
        f"plain PyTorch, same physics inline: {plain:.2f} s; memristorch / plain = {elapsed / plain:.2f}; "
        f"max |Δx| {float((x_plain - result.state['x']).abs().max()):.1e}, "
        f"max relative Δenergy {float(((energy_plain - result.energy_j) / result.energy_j).abs().max()):.1e}"
    )


if __name__ == "__main__":
    main()
