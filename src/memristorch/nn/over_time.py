"""Accuracy of a converted network read at times after programming: the inference-over-time study.

Each repeat is another chip of the same devices: every tile redraws its per-device drift parameters, then the network
is read at each time (drifted conductances, with the drift model's time-dependent read noise drawn once per time
point, read noise per forward pass) and scored. Repeats draw in order from one generator seeded by ``seed``, so a
call is reproducible; each tile's own random stream is restored afterwards. The tiles are left read at programming
time (0 s), their drift parameters as the last repeat drew them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..tiles.drift import parse_duration
from .convert import tiles
from .layers import _MemLayer


@dataclass(frozen=True)
class OverTime:
    """Accuracy per read time: mean and sample std over ``n`` repeats, and every repeat's value."""

    times_s: list[float]
    mean: list[float]
    std: list[float]
    n: int
    per_repeat: list[list[float]]

    def as_dict(self) -> dict:
        return {
            "times_s": self.times_s,
            "mean": self.mean,
            "std": self.std,
            "n": self.n,
            "per_repeat": self.per_repeat,
        }


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    correct = 0
    for i in range(0, len(y), batch_size):
        correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    return correct / len(y)


@torch.no_grad()
def evaluate_over_time(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    times: list[float | str],
    repeats: int = 3,
    compensate: bool = False,
    seed: int = 0,
    batch_size: int = 1024,
) -> OverTime:
    """Top-1 accuracy of ``model`` read at each of ``times`` ("1s", "1h", "1d", "1y" or seconds) after programming.

    Every tile needs a drift model (``TileConfig.drift``). ``compensate`` applies global drift compensation per tile
    (a calibration read rescales its output). Returns mean ± std over ``repeats`` chips.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, _MemLayer)]
    if not layers:
        raise ValueError("the model holds no memristive layers: convert it first (memristorch.convert)")
    missing = [name for name, m in model.named_modules() if isinstance(m, _MemLayer) and m.tile.drift is None]
    if missing:
        raise ValueError(
            f"layers {', '.join(missing)} have no drift model (TileConfig.drift); cannot read over time"
        )
    seconds = [parse_duration(t) for t in times]
    if not seconds:
        raise ValueError("times must list at least one read time")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an integer ≥ 1, got {repeats!r}")
    if len(inputs) != len(targets) or len(targets) == 0:
        raise ValueError(
            f"inputs and targets must be non-empty and of one length, got {len(inputs)} and {len(targets)}"
        )
    generator = torch.Generator().manual_seed(int(seed))
    was_training = model.training
    model.eval()
    analog = list(tiles(model))
    saved_streams = [tile.generator.get_state() for tile in analog]
    per_repeat = []
    try:
        for _ in range(repeats):
            for tile in analog:  # another chip: its drift draws, and its own stream for the read noise
                tile.redraw_drift(generator)
                seed_of_chip = torch.randint(0, 2**62, (1,), generator=generator, device=generator.device)
                tile.generator.manual_seed(int(seed_of_chip))
            row = []
            for t in seconds:
                for layer in layers:
                    layer.read_at(t, compensate, generator)
                row.append(_accuracy(model, inputs, targets, batch_size))
            per_repeat.append(row)
    finally:
        for layer in layers:
            layer.read_at(0.0)
        for tile, saved in zip(analog, saved_streams, strict=True):  # the tiles' own streams go on as before
            tile.generator.set_state(saved)
        model.train(was_training)
    columns = list(zip(*per_repeat, strict=True))
    mean = [sum(c) / len(c) for c in columns]
    std = [
        math.sqrt(sum((v - m) ** 2 for v in c) / (len(c) - 1)) if len(c) > 1 else 0.0
        for c, m in zip(columns, mean, strict=True)
    ]
    return OverTime(seconds, mean, std, repeats, per_repeat)
