"""Standard stimulus for previewing a device: n potentiating pulses from the low bound, then n depressing ones."""

from __future__ import annotations

import numpy as np
import torch

from .base import DeviceModel


def pulse_train_response(
    device: DeviceModel, n_devices: int = 8, n_pulses: int = 100, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pulse numbers ``(2n+1,)`` and conductances ``(n_devices, 2n+1)`` of freshly sampled devices.

    The loop runs over pulses, not devices: every step advances all devices at once.
    """
    if n_devices < 1 or n_pulses < 1:
        raise ValueError(f"n_devices and n_pulses must be >= 1, got {n_devices}, {n_pulses}")
    generator = torch.Generator().manual_seed(seed)
    state = device.init_state((n_devices,), generator)
    state = device.set_conductance(state, torch.full((n_devices,), device.g_min_s))
    trace = [device.conductance(state)]
    for sign in (1.0, -1.0):
        step = torch.full((n_devices,), sign)
        for _ in range(n_pulses):
            state = device.apply_pulses(state, step, generator)
            trace.append(device.conductance(state))
    return np.arange(2 * n_pulses + 1), torch.stack(trace, dim=1).numpy()
