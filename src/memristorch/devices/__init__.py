"""Device models: the physics of one device type, vectorized over tensors of devices."""

from .base import DeviceModel, DeviceState
from .binary_rram import BinaryRRAM, BinaryRRAMParams, ProgrammingCondition
from .families import BitErrorMemory, OneWayPulsedDevice
from .mram import STMRAM, MRAMWrite, STMRAMParams
from .mss import MSSBoard, MSSDevice, MSSNumerics, MSSParams, MSSPhysics
from .presets import PRESETS, Preset, get_device
from .pulsed import PulsedDevice, PulsedDeviceParams

__all__ = [
    "BinaryRRAM",
    "BinaryRRAMParams",
    "BitErrorMemory",
    "MRAMWrite",
    "OneWayPulsedDevice",
    "ProgrammingCondition",
    "STMRAM",
    "STMRAMParams",
    "DeviceModel",
    "DeviceState",
    "MSSDevice",
    "MSSBoard",
    "MSSNumerics",
    "MSSParams",
    "MSSPhysics",
    "PRESETS",
    "Preset",
    "PulsedDevice",
    "PulsedDeviceParams",
    "get_device",
]
