"""Swap ``nn.Linear`` / ``nn.Conv2d`` layers of any model for their memristive counterparts."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from torch import nn

from ..tiles import AnalogTile, TileConfig
from .layers import MemConv2d, MemLinear

# exact types only: subclasses (e.g. attention's out_proj) may be used by their parents in ways a swap would break
_REPLACEMENTS: dict[type, type] = {nn.Linear: MemLinear, nn.Conv2d: MemConv2d}


def convert(model: nn.Module, config: TileConfig | None = None, inplace: bool = False) -> nn.Module:
    """Return ``model`` with every ``nn.Linear`` and ``nn.Conv2d`` replaced by ``MemLinear`` / ``MemConv2d``.

    Float weights are written into the devices (ideal write) and the layers mirror what the devices then hold.
    Layer ``i`` (in module order) gets the random seed ``config.seed + i``, so conversions are reproducible.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if config is not None and not isinstance(config, TileConfig):
        raise TypeError(f"config must be a TileConfig or None, got {type(config).__name__}")
    config = config or TileConfig()
    if not inplace:
        model = copy.deepcopy(model)
    counter = [0]

    def swap(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            replacement = _REPLACEMENTS.get(type(child))
            if replacement is None:
                swap(child)
                continue
            setattr(parent, name, replacement.from_float(child, config.with_seed(config.seed + counter[0])))
            counter[0] += 1

    if isinstance(model, (nn.Linear, nn.Conv2d)):
        raise ValueError("convert needs a container module; wrap a single layer in nn.Sequential")
    swap(model)
    return model


def tiles(model: nn.Module) -> Iterator[AnalogTile]:
    """Every tile in ``model``."""
    return (m for m in model.modules() if isinstance(m, AnalogTile))
