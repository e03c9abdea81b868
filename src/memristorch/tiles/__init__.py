"""Tiles: one weight matrix on an array, its reads, writes and their cost."""

from .config import WRITE_SCHEMES, TileConfig
from .periphery import PeripheryConfig, quantize_ste
from .programming import ProgramReport, VerifyConfig, program_and_verify
from .tile import AnalogTile

__all__ = [
    "AnalogTile",
    "PeripheryConfig",
    "ProgramReport",
    "TileConfig",
    "VerifyConfig",
    "WRITE_SCHEMES",
    "program_and_verify",
    "quantize_ste",
]
