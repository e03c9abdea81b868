"""Cells: how one weight is stored in devices and read by the circuit, and the bit errors of binary memories."""

from .binary_rram import OneT1RCell, TernaryPCSACell, TwoT2RCell
from .bit_errors import BitErrorChannel, SignFlips, TernaryReadErrors
from .cells import CELLS, Cell, DifferentialCell, SingleDeviceCell, make_cell

__all__ = [
    "BitErrorChannel",
    "CELLS",
    "Cell",
    "DifferentialCell",
    "OneT1RCell",
    "SignFlips",
    "SingleDeviceCell",
    "TernaryPCSACell",
    "TernaryReadErrors",
    "TwoT2RCell",
    "make_cell",
]
