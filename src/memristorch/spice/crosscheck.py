"""Compare memristorch's MSS integration with ngspice on sine and pulse drives of Knowm's ``knowm.cir``
parameters (sine I–V, pulse trains, the series-resistor circuit).

``python -m memristorch.spice.crosscheck`` runs ngspice live and prints the differences;
``--write DIR`` stores decimated ngspice traces so the comparison also runs where ngspice is absent.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..devices.mss import MSSDevice, MSSParams
from ..tiles.ir_drop import crossbar_currents
from .netlist import Drive, pwl_source
from .network import simulate_crossbar_ir
from .ngspice import simulate_mss


@dataclass(frozen=True)
class Case:
    name: str
    params: MSSParams
    drive: Drive
    voltage: Callable[[np.ndarray], np.ndarray]


def _sine(amplitude: float, frequency: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: amplitude * np.sin(2 * np.pi * frequency * t)


def _pulse_corners(
    n_set=10, n_reset=10, amplitude=0.5, width=10e-6, edge=0.5e-6, period=50e-6, bias=0.05, delay=5e-6
):
    times, volts = [0.0], [bias]
    for k in range(n_set + n_reset):
        v = amplitude if k < n_set else -amplitude
        t0 = k * period + delay
        times += [t0, t0 + edge, t0 + edge + width, t0 + 2 * edge + width]
        volts += [bias, v, v, bias]
    times.append((n_set + n_reset) * period)
    volts.append(bias)
    return np.array(times), np.array(volts)


_PULSE_T, _PULSE_V = _pulse_corners()

CASES = {
    c.name: c
    for c in (
        Case("sine", MSSParams(), Drive("SIN(0 0.5 1k)", 3e-3, 1e-6, 1e-7), _sine(0.5, 1e3)),
        Case(
            "sine-generalized",
            MSSParams(phi=0.8, sfa_a=8e-4, sra_a=8e-4, sfb_per_v=4.0, srb_per_v=4.0),
            Drive("SIN(0 0.5 1k)", 3e-3, 1e-6, 1e-7),
            _sine(0.5, 1e3),
        ),
        Case(
            "pulses",
            MSSParams(),
            Drive(pwl_source(_PULSE_T, _PULSE_V), 1e-3, 0.1e-6, 0.05e-6),
            lambda t: np.interp(t, _PULSE_T, _PULSE_V),
        ),
        Case(
            "sine-generalized-series-1k",
            MSSParams(
                phi=0.8, sfa_a=8e-4, sra_a=8e-4, sfb_per_v=4.0, srb_per_v=4.0, series_resistance_ohm=1000.0
            ),
            Drive("SIN(0 1.0 1k)", 3e-3, 1e-6, 1e-7),
            _sine(1.0, 1e3),
        ),
        Case(
            "pulses-series-1k",
            MSSParams(series_resistance_ohm=1000.0),
            Drive(pwl_source(_PULSE_T, 2 * _PULSE_V), 1e-3, 0.1e-6, 0.05e-6),
            lambda t: np.interp(t, _PULSE_T, 2 * _PULSE_V),
        ),
    )
}


def memristorch_trace(case: Case, times_s: np.ndarray) -> np.ndarray:
    """Columns ``time, current, x`` from memristorch's exact-exponential integration on the given grid."""
    device = MSSDevice(case.params)
    t = torch.as_tensor(times_s, dtype=torch.float64)
    v = torch.as_tensor(case.voltage(times_s), dtype=torch.float64)
    result = device.apply_waveform(device.init_state((1,)), t, v, record=True)
    return np.stack([times_s, result.current_a[:, 0].numpy(), result.x[:, 0].numpy()], axis=1)


def compare(case: Case, reference: np.ndarray, integration_step_s: float | None = None) -> dict[str, float]:
    """Differences between memristorch and a reference trace (``time, current, x`` rows).

    memristorch integrates on the case's output grid (or ``integration_step_s``) and is sampled at the reference
    times. ``max_rel_current``: max |ΔI| / |I| where |I| > 1 % of its peak; ``peak_rel_current``: max |ΔI| / max |I|.
    """
    step = integration_step_s or case.drive.t_step_s
    grid = np.arange(0.0, case.drive.t_stop_s + 0.5 * step, step)
    ours = memristorch_trace(case, grid)
    current = np.interp(reference[:, 0], ours[:, 0], ours[:, 1])
    x = np.interp(reference[:, 0], ours[:, 0], ours[:, 2])
    ref_current = reference[:, 1]
    significant = np.abs(ref_current) > 0.01 * np.abs(ref_current).max()
    diff = np.abs(current - ref_current)
    return {
        "max_rel_current": float((diff[significant] / np.abs(ref_current[significant])).max()),
        "peak_rel_current": float(diff.max() / np.abs(ref_current).max()),
        "max_abs_x": float(np.abs(x - reference[:, 2]).max()),
        "final_x": float(x[-1]),
    }


def reference_path(folder: Path, case: str) -> Path:
    return folder / f"ngspice-{case}.csv"


def load_reference(folder: Path, case: str) -> np.ndarray:
    return np.loadtxt(reference_path(folder, case), delimiter=",", skiprows=1)


def write_reference(folder: Path, case: Case, decimate: int = 10) -> Path:
    trace = simulate_mss(case.params, case.drive)[::decimate]
    folder.mkdir(parents=True, exist_ok=True)
    path = reference_path(folder, case.name)
    np.savetxt(path, trace, delimiter=",", header="time_s,current_a,x", comments="", fmt="%.12g")
    return path


def ir_drop_case() -> tuple[torch.Tensor, torch.Tensor, float]:
    """A 4 × 6 crossbar (conductances 1–101 µS), inputs 0–0.3 V and 5 Ω wire segments: the IR-drop cross-check."""
    generator = torch.Generator().manual_seed(0)
    g = torch.rand(4, 6, generator=generator, dtype=torch.float64) * 1e-4 + 1e-6
    v = torch.rand(6, generator=generator, dtype=torch.float64) * 0.3
    return g, v, 5.0


def write_ir_reference(folder: Path) -> Path:
    g, v, r = ir_drop_case()
    currents = simulate_crossbar_ir(g, v, r).numpy()
    folder.mkdir(parents=True, exist_ok=True)
    path = reference_path(folder, "crossbar-ir")
    np.savetxt(
        path,
        np.column_stack([np.arange(len(currents)), currents]),
        delimiter=",",
        header="output,current_a",
        comments="",
        fmt="%.15g",
    )
    return path


def ir_drop_error(reference_a: np.ndarray) -> float:
    """Largest relative difference between memristorch's IR-drop read and ``reference_a`` (e.g. ngspice's)."""
    g, v, r = ir_drop_case()
    ours = crossbar_currents(g, v.unsqueeze(0), r)[0].numpy()
    return float(np.max(np.abs(ours - reference_a) / np.abs(reference_a)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="store decimated ngspice reference traces in this folder")
    args = parser.parse_args()
    for case in CASES.values():
        if args.write:
            print(f"wrote {write_reference(args.write, case)}")
        metrics = compare(case, simulate_mss(case.params, case.drive))
        print(f"{case.name:26s} " + "  ".join(f"{k} {v:.3g}" for k, v in metrics.items()))
    if args.write:
        print(f"wrote {write_ir_reference(args.write)}")
    g, v, r = ir_drop_case()
    print(
        f"{'crossbar IR drop (4x6, 5 ohm)':26s} max_rel_current_diff {ir_drop_error(simulate_crossbar_ir(g, v, r).numpy()):.3g}"
    )


if __name__ == "__main__":
    main()
