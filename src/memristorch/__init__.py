"""memristorch: neural networks on simulated memristive hardware, in PyTorch."""

from . import cells, devices, nn, optim, tiles
from .devices import get_device
from .ledger import summarize
from .nn import MemConv2d, MemLinear, calibrate, convert, evaluate_over_time, program, program_and_verify
from .optim import InSituSGD
from .tiles import PeripheryConfig, TileConfig, VerifyConfig

__version__ = "0.1.0"

__all__ = [
    "InSituSGD",
    "MemConv2d",
    "MemLinear",
    "PeripheryConfig",
    "TileConfig",
    "VerifyConfig",
    "calibrate",
    "cells",
    "convert",
    "devices",
    "evaluate_over_time",
    "get_device",
    "nn",
    "optim",
    "program",
    "program_and_verify",
    "summarize",
    "tiles",
]
