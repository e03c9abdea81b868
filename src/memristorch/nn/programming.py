"""Writing a whole converted model into its devices: ideal programming or program-and-verify, with one report."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..tiles import ProgramReport, VerifyConfig
from .layers import _MemLayer


def _layers(model: nn.Module) -> dict[str, _MemLayer]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = {name: m for name, m in model.named_modules() if isinstance(m, _MemLayer)}
    if not layers:
        raise ValueError("the model holds no memristive layers: convert it first (memristorch.convert)")
    return layers


@dataclass(frozen=True)
class ModelProgramReport:
    """Program-and-verify of every layer: each layer's :class:`ProgramReport`, and their totals."""

    layers: dict[str, ProgramReport]

    def summary(self) -> dict[str, float]:
        """Totals over layers (programmed one after another: times add), device-weighted shares and errors."""
        parts = {name: report.summary() for name, report in self.layers.items()}
        devices = sum(p["devices"] for p in parts.values())

        def weighted(key: str) -> float:
            return sum(p[key] * p["devices"] for p in parts.values()) / devices

        return {
            "layers": len(parts),
            "devices": devices,
            "converged_fraction": weighted("converged_fraction"),
            "unreachable": sum(p["unreachable"] for p in parts.values()),
            "pulses": sum(p["pulses"] for p in parts.values()),
            "max_pulses": max(p["max_pulses"] for p in parts.values()),
            "reads": sum(p["reads"] for p in parts.values()),
            "time_s": sum(p["time_s"] for p in parts.values()),
            "energy_j": sum(p["energy_j"] for p in parts.values()),
            "mean_abs_relative_error": weighted("mean_abs_relative_error"),
        }


@torch.no_grad()
def program(model: nn.Module) -> None:
    """Ideal write of every memristive layer's current float weight into its devices (not booked in the ledgers);
    each layer then mirrors what its devices hold."""
    for layer in _layers(model).values():
        layer.program()


def program_and_verify(
    model: nn.Module, config: VerifyConfig | None = None, settle: bool = True
) -> ModelProgramReport:
    """Program-and-verify every memristive layer's current float weight, layer by layer, booking pulses, reads,
    time and energy in each tile's ledger; returns the per-layer reports and their totals. Tiles with a
    programming error then settle by it, unless ``settle=False``.

    The configuration is checked before any layer is written, so a bad one changes nothing.
    """
    layers = _layers(model)
    if config is not None and not isinstance(config, VerifyConfig):
        raise TypeError(f"config must be a VerifyConfig or None, got {type(config).__name__}")
    if not isinstance(settle, bool):
        raise TypeError(f"settle must be True or False, got {settle!r}")
    return ModelProgramReport(
        {name: layer.program_and_verify(config=config, settle=settle) for name, layer in layers.items()}
    )
