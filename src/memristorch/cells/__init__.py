"""Cells: how one weight is stored in devices and read by the circuit."""

from .cells import CELLS, Cell, DifferentialCell, SingleDeviceCell, make_cell

__all__ = ["CELLS", "Cell", "DifferentialCell", "SingleDeviceCell", "make_cell"]
