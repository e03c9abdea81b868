"""Swap the weight layers of any model (Linear, Conv, RNN/LSTM/GRU, attention) for their memristive counterparts."""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from torch import nn

from ..tiles import AnalogTile, TileConfig
from .attention import MemMultiheadAttention, attention_unsupported_reason
from .layers import MemConv1d, MemConv2d, MemConv3d, MemLinear, _MemLayer
from .recurrent import MemGRU, MemLSTM, MemRNN, unsupported_reason
from .tiled import TiledMemConv, TiledMemLinear, conv_split_reason

_LOG = logging.getLogger("memristorch.convert")

# exact types only: subclasses (e.g. attention's out_proj) may be used by their parents in ways a swap would break
_REPLACEMENTS: dict[type, type] = {
    nn.Linear: MemLinear,
    nn.Conv1d: MemConv1d,
    nn.Conv2d: MemConv2d,
    nn.Conv3d: MemConv3d,
    nn.LSTM: MemLSTM,
    nn.GRU: MemGRU,
    nn.RNN: MemRNN,
    nn.MultiheadAttention: MemMultiheadAttention,
}


#: layer types that hold weight matrices but have no memristive counterpart yet: left in float, with a warning
_LEFT_IN_FLOAT = (
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.RNNCellBase,
    nn.Bilinear,
    nn.Embedding,
    nn.EmbeddingBag,
)


def _unsupported(module: nn.Module) -> str | None:
    """Why a layer of a convertible type still cannot go onto tiles (None if it can, or is not such a layer)."""
    if type(module) in (nn.LSTM, nn.GRU, nn.RNN):
        return unsupported_reason(module)
    if type(module) is nn.MultiheadAttention:
        return attention_unsupported_reason(module)
    return None


def convert(
    model: nn.Module,
    config: TileConfig | None = None,
    inplace: bool = False,
    *,
    weight_range: Literal["config", "per-layer", "per-column"] = "config",
    strict: bool = False,
    max_tile: tuple[int, int] | None = None,
    report: bool = False,
) -> nn.Module | tuple[nn.Module, list[ConversionEntry]]:
    """Return ``model`` with every ``nn.Linear``, ``nn.Conv1d/2d/3d``, ``nn.LSTM``, ``nn.GRU`` and
    ``nn.RNN``, ``nn.MultiheadAttention`` replaced by its memristive twin (recurrent layers: unidirectional, with biases, no
    projections; attention: one embed dim for q, k and v, with biases — its four projections on tiles).

    Float weights are written into the devices (ideal write) and the layers mirror what the devices then hold.
    Layer ``i`` (in module order) gets the random seed ``config.seed + i``, so conversions are reproducible.
    ``weight_range="per-layer"`` maps each layer's largest |weight| to the full conductance window (its own
    ``w_max``, the usual per-layer scale of analog inference) instead of ``config.w_max`` for all;
    ``"per-column"`` maps each output's largest |weight| to the full window and keeps one digital scale per output
    (:meth:`MemLinear.map_columns`; ``weight`` then holds device units) — for Linear and Conv layers and their tiled
    versions, while RNN/LSTM/GRU and attention projections fall back to per-layer, with a warning. Layers that hold
    weights but have no memristive version (transposed convs, RNN cells, embeddings, bilinear, and the unsupported
    variants above) stay in
    float: a warning names each, and ``strict=True`` raises instead. Normalisation layers are digital by design.
    ``max_tile=(rows, columns)`` splits every Linear and Conv whose matrix is larger than that (a conv's rows are
    its input channels × kernel positions) over a grid of tiles (:class:`TiledMemLinear`, :class:`TiledMemConv`:
    partial sums digitised per tile, added digitally); a conv that cannot be split (grouped, or one channel's
    kernel alone too large) stays on one oversized tile, with a warning naming it.
    ``report=True`` returns ``(model, entries)``: one :class:`ConversionEntry` per matrix layer (the types above and
    the left-float ones; normalisation layers are not listed) — what it became and on how many tiles, or why it
    stayed float; the same lines go to the ``memristorch.convert``
    logger at INFO level either way.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if config is not None and not isinstance(config, TileConfig):
        raise TypeError(f"config must be a TileConfig or None, got {type(config).__name__}")
    if max_tile is not None and (
        not isinstance(max_tile, (tuple, list))
        or len(max_tile) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in max_tile)
    ):
        raise ValueError(
            f"max_tile must be None or (max inputs, max outputs), two integers ≥ 1; got {max_tile!r}"
        )
    if weight_range not in ("config", "per-layer", "per-column"):
        raise ValueError(f"weight_range must be 'config', 'per-layer' or 'per-column', got {weight_range!r}")
    per_column = weight_range == "per-column"
    if not isinstance(report, bool):
        raise TypeError(f"report must be True or False, got {report!r}")
    if type(model) in _REPLACEMENTS:
        raise ValueError("convert needs a container module; wrap a single layer in nn.Sequential")
    config = config or TileConfig()
    left = [
        f"{name} ({type(m).__name__})" for name, m in model.named_modules() if isinstance(m, _LEFT_IN_FLOAT)
    ]
    left += [
        f"{n} ({type(m).__name__}: {_unsupported(m)})" for n, m in model.named_modules() if _unsupported(m)
    ]
    if left and strict:
        raise ValueError(
            f"convert(strict=True): no memristive version of {', '.join(left)}; they would stay float"
        )
    if not inplace:
        model = copy.deepcopy(model)
    counter = [0]
    entries: list[ConversionEntry] = []
    oversized: list[str] = []
    per_layer_instead: list[str] = []

    def layer_config(child: nn.Module) -> TileConfig:
        seeded = config.with_seed(config.seed + counter[0])
        if weight_range == "per-layer" or (per_column and type(child) not in _COLUMN_MAPPED):
            weights = [p.detach().abs().max() for n, p in child.named_parameters() if n.startswith("weight")]
            peak = float(max(weights)) if weights else 0.0
            if peak > 0:
                seeded = dataclasses.replace(seeded, w_max=peak)
        return seeded

    def swap(parent: nn.Module, prefix: str = "") -> None:
        for name, child in parent.named_children():
            replacement = _REPLACEMENTS.get(type(child))
            if replacement is not None and _unsupported(child):
                entries.append(
                    ConversionEntry(f"{prefix}{name}", type(child).__name__, "float", 0, _unsupported(child))
                )
                continue  # left in float, and named in the warning
            if isinstance(child, _LEFT_IN_FLOAT):
                entries.append(
                    ConversionEntry(
                        f"{prefix}{name}", type(child).__name__, "float", 0, "no memristive version"
                    )
                )
            if replacement is None:
                swap(child, f"{prefix}{name}.")
                continue
            layer_cfg = layer_config(child)
            columns = per_column and type(child) in _COLUMN_MAPPED
            is_conv = replacement in (MemConv1d, MemConv2d, MemConv3d)
            if replacement is MemLinear and _exceeds(max_tile, child.in_features, child.out_features):
                layer = TiledMemLinear.from_float(child, layer_cfg, *max_tile, per_column=columns)
            elif is_conv and _exceeds(max_tile, _conv_rows(child), child.out_channels):
                reason = conv_split_reason(child, max_tile[0])
                if reason is None:
                    layer = TiledMemConv.from_float(child, layer_cfg, *max_tile, per_column=columns)
                else:
                    oversized.append(f"{prefix}{name} ({type(child).__name__}: {reason})")
                    layer = replacement.from_float(child, layer_cfg)
            else:
                layer = replacement.from_float(child, layer_cfg)
            if columns and not isinstance(layer, (TiledMemLinear, TiledMemConv)):
                layer.map_columns(child.weight)
            elif per_column and not columns:
                per_layer_instead.append(f"{prefix}{name} ({type(child).__name__})")
            setattr(parent, name, layer)
            detail = f"w_max {layer_cfg.w_max:g}" + (", per-column scales" if columns else "")
            n_tiles = sum(isinstance(m, AnalogTile) for m in layer.modules())
            entries.append(
                ConversionEntry(
                    f"{prefix}{name}", type(child).__name__, type(layer).__name__, n_tiles, detail
                )
            )
            counter[0] += 1

    swap(model)
    for entry in entries:
        _LOG.info("%s", entry)
    if per_layer_instead:
        warnings.warn(
            f"convert(weight_range='per-column') mapped {len(per_layer_instead)} layer(s) per layer instead "
            f"(per-column scales are for Linear and Conv layers): {', '.join(per_layer_instead)}",
            stacklevel=2,
        )
    if oversized:
        warnings.warn(
            f"convert kept {len(oversized)} conv layer(s) larger than max_tile={tuple(max_tile)} on one tile: "
            f"{', '.join(oversized)}",
            stacklevel=2,
        )
    for name, module in model.named_modules():  # tiles know their layer's name (warnings, reports)
        if isinstance(module, _MemLayer):
            module.tile.name = name
    if left:
        warnings.warn(
            f"convert left {len(left)} weight layer(s) in float (no memristive version): {', '.join(left)}",
            stacklevel=2,
        )
    return (model, entries) if report else model


#: float layer types whose outputs ``weight_range="per-column"`` maps one by one
_COLUMN_MAPPED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class ConversionEntry:
    """What ``convert`` did with one weight layer: its path, its float type, what it became (a memristive layer
    type, or ``"float"``), on how many tiles, and a detail (weight range, or why it stayed float)."""

    name: str
    source: str
    became: str
    tiles: int
    detail: str

    def __str__(self) -> str:
        if self.became == "float":
            return f"{self.name} ({self.source}): left in float — {self.detail}"
        return f"{self.name} ({self.source}) → {self.became} on {self.tiles} tile(s), {self.detail}"


def _exceeds(max_tile: tuple[int, int] | None, rows: int, columns: int) -> bool:
    return max_tile is not None and (rows > max_tile[0] or columns > max_tile[1])


def _conv_rows(conv: nn.Module) -> int:
    """Array rows of a conv's unrolled weight matrix: input channels per group × kernel positions."""
    return conv.in_channels // conv.groups * math.prod(conv.kernel_size)


def tiles(model: nn.Module) -> Iterator[AnalogTile]:
    """Every tile in ``model``."""
    return (m for m in model.modules() if isinstance(m, AnalogTile))
