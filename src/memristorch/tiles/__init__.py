"""Tiles: one weight matrix on an array, its reads, writes and their cost."""

from .config import WRITE_SCHEMES, TileConfig
from .periphery import PeripheryConfig, quantize_ste
from .tile import AnalogTile

__all__ = ["AnalogTile", "PeripheryConfig", "TileConfig", "WRITE_SCHEMES", "quantize_ste"]
