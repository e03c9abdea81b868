"""The one mean ± std convention of every study: sample standard deviation (ddof = 1), with n beside it."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample std (ddof = 1) of ``values``; the std of a single value is 0 (nothing to spread)."""
    array = np.asarray(list(values), dtype=float)
    if array.size == 0:
        raise ValueError("mean_std needs at least one value")
    mean = float(array.mean())
    std = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return mean, std


def describe(values: Iterable[float]) -> dict[str, float | int]:
    """``{"mean", "std", "n"}`` of ``values`` (sample std); non-finite values are kept and make the mean NaN."""
    array = [float(v) for v in values]
    mean, std = mean_std(array)
    return {"mean": mean, "std": std, "n": len(array)}


def format_mean_std(mean: float, std: float, n: int, scale: float = 1.0, digits: int = 3) -> str:
    """``"97.4 ± 0.3 (n=5)"``-style text; non-finite numbers print as ``nan``."""
    if not (math.isfinite(mean) and math.isfinite(std)):
        return f"nan (n={n})"
    return f"{mean * scale:.{digits}g} ± {std * scale:.2g} (n={n})"
