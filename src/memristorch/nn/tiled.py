"""A linear layer split over several tiles of a maximum size, its partial sums added digitally.

Arrays have a maximum size (rows × columns); a larger weight matrix is cut into blocks of at most ``max_inputs``
inputs × ``max_outputs`` outputs, each a :class:`MemLinear` with its own tile, periphery and ledger. Each block's
output — a partial sum over its inputs — passes its own ADC (when one is configured), and the partial sums of one
output range are then added in digital, as a tiled accelerator does. The digital bias is added once.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int
from ..tiles import TileConfig
from .layers import MemLinear


class TiledMemLinear(nn.Module):
    """Drop-in for :class:`torch.nn.Linear` over a grid of tiles; ``blocks[o][i]`` holds outputs block o × inputs
    block i."""

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
        config = TileConfig() if config is None else config
        self.in_features, self.out_features = in_features, out_features
        self.input_splits = [min(max_inputs, in_features - s) for s in range(0, in_features, max_inputs)]
        self.output_splits = [min(max_outputs, out_features - s) for s in range(0, out_features, max_outputs)]
        seed = iter(range(config.seed, config.seed + len(self.input_splits) * len(self.output_splits)))
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                MemLinear(n_in, n_out, bias=False, config=config.with_seed(next(seed)))
                for n_in in self.input_splits
            )
            for n_out in self.output_splits
        )
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    @classmethod
    def from_float(
        cls, module: nn.Linear, config: TileConfig, max_inputs: int = 256, max_outputs: int = 256
    ) -> TiledMemLinear:
        layer = cls(
            module.in_features, module.out_features, module.bias is not None, config, max_inputs, max_outputs
        )
        with torch.no_grad():
            rows = module.weight.split(layer.output_splits, dim=0)
            for row_blocks, row in zip(layer.blocks, rows, strict=True):
                for block, part in zip(row_blocks, row.split(layer.input_splits, dim=1), strict=True):
                    block.program(part)
            if module.bias is not None:
                layer.bias.copy_(module.bias)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = x.split(self.input_splits, dim=-1)
        y = torch.cat(
            [sum(block(part) for block, part in zip(row, parts, strict=True)) for row in self.blocks], dim=-1
        )
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        grid = f"{len(self.output_splits)}×{len(self.input_splits)}"
        return f"in_features={self.in_features}, out_features={self.out_features}, tiles={grid}"
