"""Setting each tile's DAC input range and ADC output range from data (periphery calibration).

With ranges left at their defaults, an 8-bit DAC or ADC clips hidden activations that exceed them and quantizes small
ones to a few levels — accuracy can collapse with no other symptom. :func:`calibrate` reads a few batches through the
model with every converter bypassed, records each tile's |inputs| and |analog outputs|, and sets each range to a
high percentile of what it saw (99.99 by default: an outlier in 10,000 clips, the rest keep full resolution).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .layers import _MemLayer


def _name_tiles(model: nn.Module) -> None:
    """Give every tile its layer's path in ``model``, so that warnings and reports name the layer."""
    for name, module in model.named_modules():
        if isinstance(module, _MemLayer):
            module.tile.name = name


@torch.no_grad()
def calibrate(
    model: nn.Module, batches: Iterable, percentile: float = 99.99
) -> dict[str, tuple[float, float]]:
    """Set every tile's (input_range, output_range) from the reads of ``batches``; returns them by layer name.

    ``batches`` yields input tensors, or (input, target) pairs as a DataLoader does. The model runs in eval mode
    (restored afterwards); the ranges travel in ``state_dict``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = {name: m for name, m in model.named_modules() if isinstance(m, _MemLayer)}
    if not layers:
        raise ValueError("the model holds no memristive layers: convert it first (memristorch.convert)")
    _name_tiles(model)
    was_training = model.training
    model.eval()
    seen = 0
    try:
        for layer in layers.values():
            layer.tile.start_calibration()
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            if not isinstance(x, torch.Tensor):
                raise TypeError(
                    f"batches must yield tensors or (input, target) pairs, got {type(x).__name__}"
                )
            model(x)
            seen += 1
        if seen == 0:
            raise ValueError("batches yielded nothing to calibrate on")
        return {name: layer.tile.finish_calibration(percentile) for name, layer in layers.items()}
    finally:
        for layer in layers.values():
            layer.tile._calibration = None  # a failure leaves no tile recording
        model.train(was_training)
