"""Accounting of what programming and reading cost: pulses, write cycles per device, time and energy; and, apart,
the matrix-vector products read for inference with their array, DAC and ADC energy and latency.

A :class:`Ledger` is a ``torch.nn.Module`` of buffers so that it travels inside ``state_dict`` with the devices it
counts. Energy and time accumulate in float64 tensors, write cycles (pulses received) per device in int64 (an update
plans at most 2**24 pulses per device, so the count cannot wrap around); the pulse total is their sum. Verify reads (program-and-verify) are counted too; their time and energy go into the same totals.
Nothing synchronises with the host in the training loop.
"""

from __future__ import annotations

import torch
from torch import nn


class Ledger(nn.Module):
    """Running totals for one array of devices shaped ``device_shape``."""

    def __init__(self, device_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))
        self.register_buffer("energy_j", torch.zeros((), dtype=torch.float64))
        self.register_buffer("time_s", torch.zeros((), dtype=torch.float64))
        self.register_buffer("write_cycles", torch.zeros(device_shape, dtype=torch.int64))
        self.register_buffer("reads", torch.zeros((), dtype=torch.int64))
        # inference reads (booked when the periphery's book_reads is on): matrix-vector products, their array,
        # DAC and ADC energy, and their latency — apart from the writes above
        self.register_buffer("mvms", torch.zeros((), dtype=torch.int64))
        self.register_buffer("read_energy_j", torch.zeros((), dtype=torch.float64))
        self.register_buffer("converter_energy_j", torch.zeros((), dtype=torch.float64))
        self.register_buffer("read_time_s", torch.zeros((), dtype=torch.float64))

    def record(self, flat_index: torch.Tensor, pulses: torch.Tensor, energy_j: torch.Tensor, time_s) -> None:
        """Add one update: signed ``pulses`` landed on flat device indices ``flat_index``."""
        self.record_update(energy_j, time_s)
        self.write_cycles.view(-1).index_add_(0, flat_index, pulses.to(torch.int64).abs_())

    def record_update(self, energy_j, time_s) -> None:
        """Add one update's energy and time, its write cycles already added to ``write_cycles`` by the caller
        (a device model's :meth:`~memristorch.devices.base.DeviceModel.pulse_at` does it as it applies them)."""
        self.updates.add_(1)
        self.energy_j.add_(energy_j)
        self.time_s.add_(time_s)

    def record_reads(self, mvms: int, array_energy_j, converter_energy_j: float, time_s: float) -> None:
        """Add ``mvms`` matrix-vector products: array read energy, DAC + ADC energy and their latency."""
        self.mvms.add_(mvms)
        self.read_energy_j.add_(array_energy_j)
        self.converter_energy_j.add_(converter_energy_j)
        self.read_time_s.add_(time_s)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # ledgers saved before reads were counted have no entries for them: they read as none
        state_dict.setdefault(prefix + "reads", torch.zeros((), dtype=torch.int64))
        state_dict.setdefault(prefix + "mvms", torch.zeros((), dtype=torch.int64))
        for name in ("read_energy_j", "converter_energy_j", "read_time_s"):
            state_dict.setdefault(prefix + name, torch.zeros((), dtype=torch.float64))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def summary(self) -> dict[str, float]:
        cycles = self.write_cycles.float()
        return {
            "pulses": int(self.write_cycles.sum(dtype=torch.int64)),
            "updates": int(self.updates),
            "reads": int(self.reads),
            "energy_j": float(self.energy_j),
            "time_s": float(self.time_s),
            "max_write_cycles": int(self.write_cycles.max()) if cycles.numel() else 0,
            "mean_write_cycles": float(cycles.mean()) if cycles.numel() else 0.0,
            "devices": int(cycles.numel()),
            "mvms": int(self.mvms),
            "read_energy_j": float(self.read_energy_j),
            "converter_energy_j": float(self.converter_energy_j),
            "read_time_s": float(self.read_time_s),
        }


def merge_summaries(summaries: list[dict[str, float]]) -> dict[str, float]:
    """Totals over several ledgers (pulses, time and energy add; per-device cycle figures take the max / mean)."""
    if not summaries:
        return {
            "pulses": 0,
            "updates": 0,
            "reads": 0,
            "energy_j": 0.0,
            "time_s": 0.0,
            "max_write_cycles": 0,
            "mean_write_cycles": 0.0,
            "devices": 0,
            "mvms": 0,
            "read_energy_j": 0.0,
            "converter_energy_j": 0.0,
            "read_time_s": 0.0,
        }
    devices = [s["devices"] for s in summaries]
    return {
        "pulses": sum(s["pulses"] for s in summaries),
        "updates": max(s["updates"] for s in summaries),
        "reads": sum(s["reads"] for s in summaries),
        "energy_j": sum(s["energy_j"] for s in summaries),
        "time_s": sum(s["time_s"] for s in summaries),
        "max_write_cycles": max(s["max_write_cycles"] for s in summaries),
        "mean_write_cycles": sum(s["mean_write_cycles"] * d for s, d in zip(summaries, devices, strict=True))
        / sum(devices),
        "devices": sum(devices),
        "mvms": sum(s["mvms"] for s in summaries),
        "read_energy_j": sum(s["read_energy_j"] for s in summaries),
        "converter_energy_j": sum(s["converter_energy_j"] for s in summaries),
        # the layers of a network read one after another: their latencies add
        "read_time_s": sum(s["read_time_s"] for s in summaries),
    }


def summarize(model: nn.Module) -> dict[str, float]:
    """Totals over every ledger inside ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return merge_summaries([m.summary() for m in model.modules() if isinstance(m, Ledger)])
