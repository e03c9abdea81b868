"""Tiles: one weight matrix on an array, its reads, writes and their cost."""

from .config import WRITE_SCHEMES, TileConfig
from .drift import (
    DriftModel,
    PowerLawDrift,
    RelaxationDrift,
    WeakResetRetention,
    ZeroBiasRelaxation,
    make_drift,
    parse_duration,
)
from .periphery import PeripheryConfig, quantize_ste
from .programming import ProgramReport, VerifyConfig, program_and_verify
from .programming_error import ProgrammingError
from .tile import AnalogTile
from .weak_reset_pair import WeakResetPairArray

__all__ = [
    "AnalogTile",
    "DriftModel",
    "PeripheryConfig",
    "PowerLawDrift",
    "ProgramReport",
    "ProgrammingError",
    "RelaxationDrift",
    "TileConfig",
    "VerifyConfig",
    "WeakResetPairArray",
    "WRITE_SCHEMES",
    "ZeroBiasRelaxation",
    "WeakResetRetention",
    "make_drift",
    "parse_duration",
    "program_and_verify",
    "quantize_ste",
]
