"""Neural-network modules over tiles."""

from .convert import convert, tiles
from .layers import TILE_ATTRIBUTE, MemConv2d, MemLinear

__all__ = ["MemConv2d", "MemLinear", "TILE_ATTRIBUTE", "convert", "tiles"]
