"""Fit the generic pulsed family to measured conductance-vs-pulse traces of many devices over many cycles.

The CSV has a header row and the columns ``device, cycle, polarity, conductance_s``. Each row is one read. Within a
(device, cycle) the first read may have polarity 0 (the read before any pulse); every other row is one pulse of
polarity +1 (potentiate) or −1 (depress) followed by a read. Rows of one device and cycle must be in pulse order.

Reading the model backwards from one pulse to the next, per device:

* ``soft_bounds`` — g' = (1 − s_up) g + s_up g_max after an up pulse and g' = (1 − s_down) g + s_down g_min after a
  down pulse. Both are straight lines in (g, g'), so a least-squares line through the up pulses gives s_up and g_max,
  and one through the down pulses gives s_down and g_min.
* ``linear`` — g' = g ± s (g_max − g_min), clipped at the bounds. The bounds are the device's extreme reads, and the
  steps are the mean change of the pulses that did not end on a bound.

Across devices, the means give ``g_min_s``, ``g_max_s``, ``n_states`` (from the mean step) and ``asymmetry``. The
relative spread of the per-device bounds (of g_max alone for soft bounds, whose g_min is an extrapolation) and steps
gives ``d2d_bounds_std`` and ``d2d_step_std``. The relative
spread of each pulse's change around its device's fitted line gives ``c2c_std``, since the model multiplies each
step by 1 + σ_c2c ξ. Reads are taken to be noise-free: read noise would show up as C2C. The ``exponential``
response is not fitted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from .fit import read_csv_rows
from .pulsed import PulsedDevice, PulsedDeviceParams

COLUMNS = ("device", "cycle", "polarity", "conductance_s")


@dataclass(frozen=True)
class PulseTraces:
    """Consecutive read pairs (g before, g after) of every pulse, with the pulse's polarity and device index."""

    before_s: np.ndarray
    after_s: np.ndarray
    polarity: np.ndarray
    device: np.ndarray
    devices: list[str]
    reads_s: np.ndarray
    read_device: np.ndarray


@dataclass(frozen=True)
class PulsedFit:
    params: PulsedDeviceParams
    per_device: dict[str, np.ndarray]
    rms_relative_error: float


def read_pulse_traces(path: str | Path) -> PulseTraces:
    """Read a traces CSV (module docstring); raises ``ValueError`` naming what is wrong."""
    path = Path(path)
    rows = read_csv_rows(path)
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise ValueError(
            f"{path}: the pulsed-family fit needs columns {','.join(COLUMNS)}; missing {', '.join(missing)} "
            f"(got {', '.join(rows[0])})"
        )
    try:
        polarity = np.array([float(r["polarity"]) for r in rows])
        conductance = np.array([float(r["conductance_s"]) for r in rows])
    except ValueError as error:
        raise ValueError(f"{path}: non-numeric polarity or conductance_s ({error})") from None
    if not np.isin(polarity, (-1.0, 0.0, 1.0)).all():
        bad = sorted(set(polarity[~np.isin(polarity, (-1.0, 0.0, 1.0))].tolist()))[:5]
        raise ValueError(
            f"{path}: polarity must be +1 (potentiate), −1 (depress) or 0 (read before any pulse); got {bad} — "
            "a pulse number is not a polarity"
        )
    if not np.isfinite(conductance).all() or (conductance < 0).any():
        raise ValueError(f"{path}: conductance_s must be finite and ≥ 0 siemens")
    keys = [(r["device"], r["cycle"]) for r in rows]
    names = list(dict.fromkeys(r["device"] for r in rows))
    index = {name: i for i, name in enumerate(names)}
    before, after, pol, dev = [], [], [], []
    for k in range(1, len(rows)):
        if keys[k] != keys[k - 1]:
            continue  # a new (device, cycle) starts: its first read has nothing before it
        if polarity[k] == 0:
            raise ValueError(
                f"{path}: row {k + 2} has polarity 0 inside a cycle; only a cycle's first read may"
            )
        before.append(conductance[k - 1])
        after.append(conductance[k])
        pol.append(polarity[k])
        dev.append(index[rows[k]["device"]])
    if len(before) < 4:
        raise ValueError(f"{path}: need at least 4 pulses to fit, got {len(before)}")
    read_device = np.array([index[r["device"]] for r in rows])
    return PulseTraces(
        np.array(before), np.array(after), np.array(pol), np.array(dev), names, conductance, read_device
    )


def _line(x: np.ndarray, y: np.ndarray, device: str) -> tuple[float, float]:
    """Least-squares slope and intercept of y on x."""
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError(
            f"device {device!r}: needs at least two pulses of each polarity from different conductances"
        )
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def fit_pulsed(
    traces: PulseTraces, response: str = "soft_bounds", base: PulsedDeviceParams | None = None
) -> PulsedFit:
    """Fit ``response`` ("soft_bounds" or "linear") to the traces; pulse settings come from ``base``."""
    if response not in ("soft_bounds", "linear"):
        raise ValueError(
            f"response must be 'soft_bounds' or 'linear' (exponential is not fitted), got {response!r}"
        )
    base = base or PulsedDeviceParams()
    n = len(traces.devices)
    g_min, g_max, s_up, s_down = (np.empty(n) for _ in range(4))
    relative_residuals = []
    for d in range(n):
        name = traces.devices[d]
        mine = traces.device == d
        up, down = mine & (traces.polarity > 0), mine & (traces.polarity < 0)
        g0, g1 = traces.before_s, traces.after_s
        if response == "soft_bounds":
            a_up, b_up = _line(g0[up], g1[up], name)
            a_down, b_down = _line(g0[down], g1[down], name)
            s_up[d], s_down[d] = 1.0 - a_up, 1.0 - a_down
            g_max[d], g_min[d] = b_up / s_up[d], b_down / s_down[d]
            predicted_up = g0[up] + s_up[d] * (g_max[d] - g0[up])
            predicted_down = g0[down] - s_down[d] * (g0[down] - g_min[d])
        else:
            reads = traces.reads_s[traces.read_device == d]
            g_min[d], g_max[d] = reads.min(), reads.max()
            window = g_max[d] - g_min[d]
            # a pulse whose mean step would cross a bound is clipped there: keep only the pulses that stay inside
            # (judged with a first, median estimate of the step)
            rough_up = float(np.median(g1[up] - g0[up]))
            rough_down = float(np.median(g0[down] - g1[down]))
            inside_up = up & (g0 + rough_up < g_max[d]) & (g1 < g_max[d])
            inside_down = down & (g0 - rough_down > g_min[d]) & (g1 > g_min[d])
            if not (inside_up.any() and inside_down.any()):
                raise ValueError(
                    f"device {name!r}: no pulse of one polarity stays inside the window to measure"
                )
            s_up[d] = float(np.mean(g1[inside_up] - g0[inside_up])) / window
            s_down[d] = float(np.mean(g0[inside_down] - g1[inside_down])) / window
            up, down = inside_up, inside_down
            predicted_up = g0[up] + s_up[d] * window
            predicted_down = g0[down] - s_down[d] * window
        for sel, predicted in ((up, predicted_up), (down, predicted_down)):
            change = predicted - g0[sel]
            # a step that barely moves (at a soft bound) carries no measurable relative noise
            keep = np.abs(change) > 1e-3 * (g_max[d] - g_min[d])
            relative_residuals.append((g1[sel][keep] - predicted[keep]) / change[keep])
    if (
        not (np.isfinite(g_min).all() and np.isfinite(g_max).all())
        or (s_up <= 0).any()
        or (s_down <= 0).any()
    ):
        raise ValueError(
            "the traces do not look like the chosen response (a fitted step or bound is not positive)"
        )
    residuals = np.concatenate(relative_residuals)
    step = 0.5 * (s_up.mean() + s_down.mean())
    asymmetry = (s_up.mean() - s_down.mean()) / (s_up.mean() + s_down.mean())
    step_spread = np.concatenate([s_up / s_up.mean() - 1.0, s_down / s_down.mean() - 1.0])
    # the model draws both bounds with one relative spread; a soft-bounds g_min is an extrapolation (the traces
    # approach it only geometrically) and small, so its relative scatter is mostly estimation noise: use g_max there
    if response == "soft_bounds":
        bound_spread = g_max / g_max.mean() - 1.0
    else:
        bound_spread = np.concatenate([g_min / g_min.mean() - 1.0, g_max / g_max.mean() - 1.0])
    params = replace(
        base,
        response=response,
        g_min_s=float(g_min.mean()),
        g_max_s=float(g_max.mean()),
        n_states=max(2, int(round(1.0 / step + 1.0))),
        asymmetry=float(asymmetry),
        nonlinearity_up=0.0,
        nonlinearity_down=0.0,
        d2d_step_std=float(np.sqrt(np.mean(step_spread**2))) if n > 1 else 0.0,
        d2d_bounds_std=float(np.sqrt(np.mean(bound_spread**2))) if n > 1 else 0.0,
        c2c_std=float(residuals.std()),
    )
    per_device = {"g_min_s": g_min, "g_max_s": g_max, "step_up": s_up, "step_down": s_down}
    return PulsedFit(params, per_device, float(np.sqrt(np.mean(residuals**2))))


def simulate_pulse_traces(
    device: PulsedDevice,
    path: str | Path,
    devices: int = 100,
    cycles: int = 3,
    pulses_per_phase: int = 200,
    seed: int = 0,
) -> Path:
    """Write a traces CSV from ``device`` itself: each cycle ``pulses_per_phase`` up pulses then as many down, from
    the bottom of each device's window, read after every pulse (the synthetic data the fit is tested on)."""
    generator = torch.Generator().manual_seed(seed)
    state = device.init_state((devices,), generator)
    up = torch.ones(devices, dtype=torch.float64)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for cycle in range(cycles):
            start = device.conductance(state).tolist()
            signs, reads = [], []
            for sign in [1.0] * pulses_per_phase + [-1.0] * pulses_per_phase:
                state = device.apply_pulses(state, (sign * up).to(state["u"].dtype), generator)
                signs.append(int(sign))
                reads.append(device.conductance(state))
            table = torch.stack(reads, dim=1).tolist()  # devices × pulses
            for d in range(devices):
                writer.writerow([f"d{d}", cycle, 0, repr(start[d])])
                writer.writerows(
                    [f"d{d}", cycle, sign, repr(g)] for sign, g in zip(signs, table[d], strict=True)
                )
    return path
