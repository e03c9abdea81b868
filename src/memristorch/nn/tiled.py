"""Layers split over several tiles of a maximum size, their partial sums added digitally.

Arrays have a maximum size (rows × columns); a larger weight matrix is cut into blocks of at most ``max_inputs``
array rows × ``max_outputs`` columns, each a memristive layer with its own tile, periphery and ledger. Each block's
output — a partial sum over its inputs — passes its own ADC (when one is configured), and the partial sums of one
output range are then added in digital, as a tiled accelerator does. The digital bias is added once.

A linear layer's rows are its input features; a convolution's are its input channels × kernel positions (the
unrolled receptive field), so a conv block holds ``max_inputs // (kernel positions)`` input channels (at least one
channel: a kernel larger than ``max_inputs`` cannot be split and is refused). Grouped convolutions are not split.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_int
from ..tiles import TileConfig
from .layers import MemConv1d, MemConv2d, MemConv3d, MemLinear, _MemConv


def _splits(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


class _TiledLayer(nn.Module):
    """A grid of blocks: ``blocks[o][i]`` holds output block o × input block i; ``_dim`` is the feature axis."""

    _dim = -1
    input_splits: list[int]
    output_splits: list[int]

    def _build(self, config: TileConfig, make_block, out_features: int, bias: bool) -> None:
        seed = iter(range(config.seed, config.seed + len(self.input_splits) * len(self.output_splits)))
        self.blocks = nn.ModuleList(
            nn.ModuleList(make_block(n_in, n_out, config.with_seed(next(seed))) for n_in in self.input_splits)
            for n_out in self.output_splits
        )
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    @torch.no_grad()
    def _program_blocks(self, module: nn.Module, per_column: bool = False) -> None:
        """Write ``module``'s weight, block by block (each block's columns mapped on their own with
        ``per_column``, see :meth:`MemLinear.map_columns`), and copy its bias."""
        rows = module.weight.split(self.output_splits, dim=0)
        for row_blocks, row in zip(self.blocks, rows, strict=True):
            for block, part in zip(row_blocks, row.split(self.input_splits, dim=1), strict=True):
                block.map_columns(part) if per_column else block.program(part)
        if module.bias is not None:
            self.bias.copy_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dim = self._dim
        if not isinstance(x, torch.Tensor) or x.dim() < -dim or x.shape[dim] != sum(self.input_splits):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"input {shape} must have {sum(self.input_splits)} features in dimension {dim} for this layer"
            )
        parts = x.split(self.input_splits, dim=dim)
        y = torch.cat(
            [sum(block(part) for block, part in zip(row, parts, strict=True)) for row in self.blocks], dim=dim
        )
        if self.bias is None:
            return y
        return y + self.bias.view(-1, *([1] * (-dim - 1)))

    def _grid(self) -> str:
        return f"tiles={len(self.output_splits)}×{len(self.input_splits)}"


class TiledMemLinear(_TiledLayer):
    """Drop-in for :class:`torch.nn.Linear` over a grid of tiles of at most ``max_inputs`` × ``max_outputs``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        config: TileConfig | None = None,
        max_inputs: int = 256,
        max_outputs: int = 256,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            check_int(name, value, 1)
        check_int("max_inputs", max_inputs, 1)
        check_int("max_outputs", max_outputs, 1)
        self.in_features, self.out_features = in_features, out_features
        self.input_splits = _splits(in_features, max_inputs)
        self.output_splits = _splits(out_features, max_outputs)
        config = TileConfig() if config is None else config
        self._build(
            config, lambda n_in, n_out, c: MemLinear(n_in, n_out, bias=False, config=c), out_features, bias
        )

    @classmethod
    def from_float(
        cls,
        module: nn.Linear,
        config: TileConfig,
        max_inputs: int = 256,
        max_outputs: int = 256,
        per_column: bool = False,
    ) -> TiledMemLinear:
        layer = cls(
            module.in_features, module.out_features, module.bias is not None, config, max_inputs, max_outputs
        )
        layer._program_blocks(module, per_column)
        return layer

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, {self._grid()}"


_CONV_BLOCKS: dict[type, type[_MemConv]] = {nn.Conv1d: MemConv1d, nn.Conv2d: MemConv2d, nn.Conv3d: MemConv3d}


def conv_split_reason(module: nn.Module, max_inputs: int) -> str | None:
    """Why ``module`` (a Conv1d/2d/3d) cannot be split into blocks of ``max_inputs`` rows (None if it can)."""
    if module.groups != 1:
        return f"groups={module.groups} (grouped convolutions are not split)"
    positions = math.prod(module.kernel_size)
    if positions > max_inputs:
        return f"one input channel's kernel has {positions} positions, more than max_inputs={max_inputs}"
    return None


class TiledMemConv(_TiledLayer):
    """A ``torch.nn.Conv{1,2,3}d`` (zero padding, groups 1) over a grid of tiles: input channels in blocks of
    ``max_inputs // kernel positions``, output channels in blocks of ``max_outputs``. Build it with
    :meth:`from_float`."""

    _dim = 1

    def __init__(self, module: nn.Module, config: TileConfig, max_inputs: int, max_outputs: int) -> None:
        super().__init__()
        check_int("max_inputs", max_inputs, 1)
        check_int("max_outputs", max_outputs, 1)
        if type(module) not in _CONV_BLOCKS:
            raise TypeError(f"module must be an nn.Conv1d, Conv2d or Conv3d, got {type(module).__name__}")
        reason = conv_split_reason(module, max_inputs)
        if reason is not None:
            raise ValueError(f"cannot split {type(module).__name__} over tiles: {reason}")
        block_type = _CONV_BLOCKS[type(module)]
        self._dim = -(block_type._dims + 1)
        channels = max_inputs // math.prod(module.kernel_size)
        self.in_channels, self.out_channels = module.in_channels, module.out_channels
        self.kernel_size = module.kernel_size
        self.input_splits = _splits(module.in_channels, channels)
        self.output_splits = _splits(module.out_channels, max_outputs)

        def block(n_in: int, n_out: int, c: TileConfig) -> _MemConv:
            m = module
            return block_type(n_in, n_out, m.kernel_size, m.stride, m.padding, m.dilation, 1, False, c)

        self._build(config, block, module.out_channels, module.bias is not None)

    @classmethod
    def from_float(
        cls,
        module: nn.Module,
        config: TileConfig,
        max_inputs: int = 256,
        max_outputs: int = 256,
        per_column: bool = False,
    ) -> TiledMemConv:
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise ValueError("TiledMemConv needs padding_mode='zeros' and integer padding")
        layer = cls(module, config, max_inputs, max_outputs)
        layer._program_blocks(module, per_column)
        return layer

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, {self._grid()}"
