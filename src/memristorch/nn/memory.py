"""Memory a network needs at inference, in bits, layer by layer.

Counting rule (stated once, used by every study): a real weight or bias is ``real_bits`` (32) bits; a binary weight
is 1 bit and a ternary weight 2 bits (one 2T2R cell pair holds either); a batch-norm layer is stored as the affine
map it becomes at inference, a scale and a shift per channel (its running statistics folded in), 2 × ``real_bits``
per channel. Running statistics, the batch counter and activations are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .binary import QUANTIZED_LAYERS

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass(frozen=True)
class LayerMemory:
    name: str
    kind: str
    parameters: int
    bits: int


def memory_bits(model: nn.Module, real_bits: int = 32) -> list[LayerMemory]:
    """One row per module that stores something (see the module docstring for the counting rule)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not isinstance(real_bits, int) or not 1 <= real_bits <= 64:
        raise ValueError(f"real_bits must be an integer in [1, 64]; got {real_bits!r}")
    rows = []
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        if not own:
            continue
        if isinstance(module, _BATCH_NORMS):
            channels = module.num_features
            rows.append(LayerMemory(name, "batch-norm", 2 * channels, 2 * channels * real_bits))
            continue
        bits = 0
        for pname, p in own.items():
            per = real_bits
            if pname == "weight" and isinstance(module, QUANTIZED_LAYERS):
                per = 1 if module.levels == 2 else 2
            bits += p.numel() * per
        kind = (
            "binary" if isinstance(module, QUANTIZED_LAYERS) and module.levels == 2 else type(module).__name__
        )
        rows.append(LayerMemory(name, kind, sum(p.numel() for p in own.values()), bits))
    return rows


def total_bits(model: nn.Module, real_bits: int = 32, prefix: str = "") -> int:
    """Total of :func:`memory_bits` over modules whose name starts with ``prefix`` (all by default)."""
    return sum(r.bits for r in memory_bits(model, real_bits) if r.name.startswith(prefix))
