"""Device models: the physics of one device type, vectorized over tensors of devices."""

from .base import DeviceModel, DeviceState
from .mss import MSSDevice, MSSParams
from .presets import PRESETS, Preset, get_device
from .pulsed import PulsedDevice, PulsedDeviceParams

__all__ = [
    "DeviceModel",
    "DeviceState",
    "MSSDevice",
    "MSSParams",
    "PRESETS",
    "Preset",
    "PulsedDevice",
    "PulsedDeviceParams",
    "get_device",
]
