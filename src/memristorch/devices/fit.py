"""Fit the metastable-switch model to a user's measurements, and store the result as a preset file.

Two kinds of measurement, each a CSV with a header row:

* ``time_s, voltage_v, current_a`` — a voltage sweep (e.g. a sine) and the current it drew: the model is driven with
  the same waveform and its current compared sample by sample, relative to the peak measured current;
* ``pulse, conductance_s`` — the conductance read after each programming pulse (``pulse`` = +1 SET, −1 RESET; the
  first row may be 0 for the initial read), with the pulse settings of the preset being fitted: conductances are
  compared relative to their own size.

Fitted: ``R_on, R_off, V_on, V_off, τ`` and the initial state ``x0``, in log space for the positive ones, by
``scipy.optimize.least_squares``. The Jacobian is taken by finite differences evaluated in one vectorized call — each
perturbed parameter set is one more "device" of the batch. The fit error is the RMS of the relative residuals.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import yaml

from .base import field_names, renamed_fields
from .binary_rram import BinaryRRAM, BinaryRRAMParams
from .mram import STMRAM, STMRAMParams
from .mss import MSSDevice, MSSParams
from .pulsed import PulsedDevice, PulsedDeviceParams
from .weak_reset import WeakResetParams, WeakResetRRAM

FITTED = ("r_on_ohm", "r_off_ohm", "v_on_v", "v_off_v", "tau_s")


@dataclass(frozen=True)
class Measurement:
    kind: str  # "sweep" or "pulses"
    columns: dict[str, np.ndarray]


@dataclass(frozen=True)
class FitResult:
    params: MSSParams
    x0: float
    rms_relative_error: float
    initial_rms_relative_error: float
    evaluations: int


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a measurement CSV with a header row; raises ``ValueError`` if it has none."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path}: no data rows")
    return rows


def read_measurement(path: str | Path) -> Measurement:
    """Read a CSV of either kind (see the module docstring); raises ``ValueError`` naming what is wrong."""
    path = Path(path)
    rows = read_csv_rows(path)
    header = set(rows[0])
    for kind, needed in (
        ("sweep", ("time_s", "voltage_v", "current_a")),
        ("pulses", ("pulse", "conductance_s")),
    ):
        if set(needed) <= header:
            try:
                columns = {name: np.array([float(r[name]) for r in rows]) for name in needed}
            except ValueError as error:
                raise ValueError(f"{path}: non-numeric value ({error})") from None
            if not all(np.isfinite(c).all() for c in columns.values()):
                raise ValueError(f"{path}: values must be finite")
            if len(rows) < 3:
                raise ValueError(f"{path}: need at least 3 rows to fit")
            if kind == "pulses" and not np.isin(columns["pulse"], (-1.0, 0.0, 1.0)).all():
                raise ValueError(
                    f"{path}: the pulse column holds each pulse's polarity (+1 SET, −1 RESET, 0 the first read), "
                    f"got values up to {columns['pulse'].max():g} — a pulse number is not a polarity; for "
                    "conductance-vs-pulse traces of a pulsed device use device,cycle,polarity,conductance_s and "
                    "memristorch fit --family pulsed"
                )
            return Measurement(kind, columns)
    raise ValueError(
        f"{path}: columns must be time_s,voltage_v,current_a or pulse,conductance_s; got {sorted(header)}"
    )


def _batch_state(base: MSSParams, vectors: np.ndarray) -> dict[str, torch.Tensor]:
    """One device per row of ``vectors`` = [log R_on, log R_off, log V_on, log V_off, log τ, x0]."""
    v = torch.as_tensor(vectors, dtype=torch.float64)
    state = {name: torch.exp(v[:, i]) for i, name in enumerate(FITTED)}
    state["r_off_ohm"] = torch.maximum(state["r_off_ohm"], 1.001 * state["r_on_ohm"])
    state["x"] = v[:, 5].clamp(0.0, 1.0)
    return state


def _simulate(base: MSSParams, vectors: np.ndarray, data: Measurement) -> np.ndarray:
    """Model prediction for every parameter row, shaped ``(rows, samples)``."""
    device = MSSDevice(base)
    state = _batch_state(base, vectors)
    if data.kind == "sweep":
        result = device.apply_waveform(
            state,
            torch.as_tensor(data.columns["time_s"]),
            torch.as_tensor(data.columns["voltage_v"]),
            record=True,
        )
        return result.current_a.T.numpy()
    pulses = data.columns["pulse"]
    conductances = []
    for p in pulses:
        if p != 0:
            state = device.apply_pulses(state, torch.full((len(vectors),), float(np.sign(p))))
        conductances.append(device.conductance(state))
    return torch.stack(conductances, dim=1).numpy()


def fit_mss(data: Measurement, base: MSSParams | None = None, max_evaluations: int = 200) -> FitResult:
    """Least-squares fit of the MSS parameters to ``data``, starting from ``base`` (default: Knowm's example)."""
    from scipy.optimize import least_squares

    base = base or MSSParams()
    measured = data.columns["current_a" if data.kind == "sweep" else "conductance_s"]
    scale = np.abs(measured).max() if data.kind == "sweep" else np.abs(measured)
    if np.any(scale == 0):
        raise ValueError("measured values are all zero (sweep) or contain zero conductances (pulses)")

    def residuals_of(rows: np.ndarray) -> np.ndarray:
        return (_simulate(base, rows, data) - measured) / scale

    start = np.array([np.log(getattr(base, n)) for n in FITTED] + [base.x_init])
    lower = np.array([np.log(1.0), np.log(1.0), np.log(1e-3), np.log(1e-3), np.log(1e-12), 0.0])
    upper = np.array([np.log(1e9), np.log(1e9), np.log(5.0), np.log(5.0), np.log(1e3), 1.0])
    evaluations = [0]
    step = 1e-6

    def fun(vector: np.ndarray) -> np.ndarray:
        evaluations[0] += 1
        return residuals_of(vector[None, :])[0]

    def jac(vector: np.ndarray) -> np.ndarray:
        rows = np.repeat(vector[None, :], len(vector) + 1, axis=0)
        steps = np.where(vector + step <= upper, step, -step)
        rows[1:] += np.diag(steps)
        evaluations[0] += 1
        values = residuals_of(rows)
        return ((values[1:] - values[0]) / steps[:, None]).T

    initial = float(np.sqrt(np.mean(fun(start) ** 2)))
    solution = least_squares(
        fun, start, jac=jac, bounds=(lower, upper), max_nfev=max_evaluations, x_scale="jac"
    )
    fitted = {name: float(np.exp(solution.x[i])) for i, name in enumerate(FITTED)}
    fitted["r_off_ohm"] = max(fitted["r_off_ohm"], 1.001 * fitted["r_on_ohm"])
    x0 = float(np.clip(solution.x[5], 0.0, 1.0))
    params = replace(base, **fitted, x_init=x0)
    rms = float(np.sqrt(np.mean(solution.fun**2)))
    return FitResult(params, x0, rms, initial, evaluations[0])


#: preset-file families: the ``family:`` key → (device class, parameter class)
#: every family a preset file can hold, by its ``family:`` key: (device class, parameter class)
FAMILIES = {
    cls.family: (cls, params)
    for cls, params in (
        (MSSDevice, MSSParams),
        (PulsedDevice, PulsedDeviceParams),
        (WeakResetRRAM, WeakResetParams),
        (BinaryRRAM, BinaryRRAMParams),
        (STMRAM, STMRAMParams),
    )
}


def write_preset(path: str | Path, params, note: str) -> Path:
    """Store the parameters of any family (``FAMILIES``: fitted ones, or your own) as a preset file that
    ``get_device`` (and ``--set device=<file>``) accepts."""
    family = next((name for name, (_, kind) in FAMILIES.items() if isinstance(params, kind)), None)
    if family is None:
        raise TypeError(f"params must be one of {', '.join(k.__name__ for _, k in FAMILIES.values())}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump({"family": family, "note": note, "params": params.to_dict()}, sort_keys=False)
    )
    return path


def load_preset_file(path: str | Path):
    """Load a preset file written by :func:`write_preset`; any defect raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"preset file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"preset file {path} cannot be read ({detail})") from None
    if (
        not isinstance(document, dict)
        or document.get("family") not in FAMILIES
        or not isinstance(document.get("params"), dict)
    ):
        raise ValueError(
            f"{path}: a preset file needs 'family:' ({', '.join(FAMILIES)}) and a 'params' mapping"
        )
    device_class, params_class = FAMILIES[document["family"]]
    document["params"] = renamed_fields(params_class, document["params"])  # files written before a rename
    known = set(field_names(params_class))
    unknown = sorted(set(document["params"]) - known)
    if unknown:
        raise ValueError(
            f"{path}: params has unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    try:
        return device_class(params_class(**document["params"]))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
