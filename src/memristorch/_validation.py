"""Parameter checks shared by every layer: each raises ``ValueError`` naming the field and its allowed range."""

from __future__ import annotations

import math
import numbers
import warnings

import torch


def check_finite(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check ``low <= value <= high`` (or strict, as asked) and that ``value`` is finite."""
    value = check_finite(name, value)
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{hb}, got {value!r}")
    return value


def check_int(name: str, value: int, low: int | None = None, high: int | None = None) -> int:
    """Check that ``value`` is an integer (Python or NumPy; not a bool or a float) with ``low <= value <= high``."""
    wrong_type = isinstance(value, bool) or not isinstance(value, numbers.Integral)
    if wrong_type or (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


#: Most pulses one call may plan or apply to one device: counts travel in float32, exact as integers up to 2**24.
MAX_PULSES_PER_CALL = 2**24


def check_pulse_counts(pulses, shape: tuple[int, ...], name: str = "pulses") -> None:
    """Raise unless ``pulses`` is a tensor shaped ``shape`` of whole, signed counts with magnitude ≤ 2**24."""
    if not isinstance(pulses, torch.Tensor) or pulses.dtype == torch.bool or pulses.is_complex():
        kind = type(pulses).__name__ if not isinstance(pulses, torch.Tensor) else f"{pulses.dtype} tensor"
        raise TypeError(
            f"{name} must be an integer or floating torch.Tensor of signed pulse counts, got {kind}"
        )
    if tuple(pulses.shape) != tuple(shape):
        raise ValueError(f"{name} shape {tuple(pulses.shape)} must match the devices {tuple(shape)}")
    if pulses.numel() == 0:
        return
    bad = pulses.abs() > MAX_PULSES_PER_CALL
    if pulses.dtype.is_floating_point:
        bad |= pulses != pulses.round()  # NaN and fractions; inf is caught by the magnitude
    if bool(bad.any()):
        raise ValueError(
            f"{name} must be whole numbers in [-{MAX_PULSES_PER_CALL}, {MAX_PULSES_PER_CALL}] (no NaN or inf); "
            f"{int(bad.sum())} entries are not; no device was changed"
        )


def check_conductances(target_s, shape: tuple[int, ...], name: str = "target_s") -> None:
    """Raise unless ``target_s`` is a tensor of conductances ≥ 0 (siemens) shaped ``shape``, with no NaN.

    Targets are clamped to each device's window, so +inf asks for the top of it (program-and-verify uses that).
    """
    if not isinstance(target_s, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of conductances in siemens, got {type(target_s).__name__}"
        )
    if tuple(target_s.shape) != tuple(shape):
        raise ValueError(f"{name} shape {tuple(target_s.shape)} must match the devices {tuple(shape)}")
    if target_s.numel() and not bool((target_s >= 0).all()):  # NaN compares False
        raise ValueError(f"{name} must be ≥ 0 siemens (no NaN); no device was changed")


def warn_if_absolute(name: str, value: float, reference: str) -> None:
    """Warn when a relative field holds a value that looks like an absolute one (e.g. siemens passed as a fraction).

    A relative noise below 1e-4 of ``reference`` is negligible; such a value is far more likely a conductance or
    current meant in physical units, which would silently give no effect.
    """
    if 0 < value < 1e-4:
        warnings.warn(
            f"{name}={value:g} is relative to {reference} (a fraction, not siemens): {value:g} of {reference} is "
            "negligible — if you meant an absolute value, divide it by the preset's g_max_s",
            stacklevel=4,
        )


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_finite_tensor(name: str, tensor: torch.Tensor) -> None:
    """Raise if ``tensor`` holds NaN or inf.

    The fast path is one reduction: a sum is finite whenever every element is (barring float overflow, which the
    exact element-wise check below then rules out).
    """
    if torch.isfinite(tensor.sum()):
        return
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        count = int(bad.sum())
        raise ValueError(
            f"{name} holds {count} non-finite value(s) (NaN or inf); nothing was applied and device state is unchanged"
        )
