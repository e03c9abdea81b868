"""The 3×3 two-class pattern tasks of the on-chip learning study (Eslami et al. 2024, arXiv 2408.14680; assumed).

The study's image set is not public; two candidates consistent with its description (two classes of
3×3 binary images, 30 memristors, 4 neurons) are built in:

* ``"x-plus"`` (default): "X" (corners and centre) against "+" (centre cross), one prototype per class. The two
  classes are linearly separable, so a single neuron already solves it, and with Gaussian pixel noise of std ``s``
  (in units of the pixel swing) no classifier beats ``Φ(√8 / (2 s))`` — 97.8 % at ``s = 0.7``.
* ``"bars"``: any of the three vertical bars against any of the three horizontal bars. Every pixel is on in one
  bar of each class, so no single neuron separates them: the task needs the hidden layer.

Samples are prototypes with additive Gaussian pixel noise of std ``noise`` (a fraction of the pixel swing) and
optional random pixel flips. Pixels are ``unipolar`` ({0, 1}, a pixel either drives the read voltage or not) or
``bipolar`` ({−1, +1}, ±V on the row). Labels: 1 for the first class, 0 for the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_choice, check_range

X_PATTERN = (1, 0, 1, 0, 1, 0, 1, 0, 1)
PLUS_PATTERN = (0, 1, 0, 1, 1, 1, 0, 1, 0)
VERTICAL_BARS = tuple(tuple(int(col == j) for row in range(3) for col in range(3)) for j in range(3))
HORIZONTAL_BARS = tuple(tuple(int(row == i) for row in range(3) for col in range(3)) for i in range(3))

TASKS = {"x-plus": ((X_PATTERN,), (PLUS_PATTERN,)), "bars": (VERTICAL_BARS, HORIZONTAL_BARS)}
PIXELS = ("unipolar", "bipolar")


@dataclass(frozen=True)
class PatternTask:
    """Two classes of 0/1 prototypes (label 1 first) and the pixel encoding."""

    classes: tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]
    pixels: str = "unipolar"

    def __post_init__(self) -> None:
        check_choice("pixels", self.pixels, PIXELS)
        if len(self.classes) != 2 or not all(self.classes):
            raise ValueError("classes must be two non-empty tuples of prototypes")
        if len({len(p) for cls in self.classes for p in cls}) != 1:
            raise ValueError("every prototype must have the same number of pixels")

    @classmethod
    def named(cls, name: str, pixels: str = "unipolar") -> PatternTask:
        check_choice("task", name, tuple(TASKS))
        return cls(TASKS[name], pixels)

    @property
    def swing(self) -> float:
        return 2.0 if self.pixels == "bipolar" else 1.0


def pattern_samples(
    n: int,
    noise: float = 0.0,
    flip_probability: float = 0.0,
    generator: torch.Generator | None = None,
    task: PatternTask | str = "x-plus",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy samples (float, shape ``(n, pixels)``) and their labels (0/1), classes balanced and shuffled.

    Within a class each sample's prototype is drawn uniformly (no draw when the class has one prototype).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    check_range("noise", noise, 0.0)
    check_range("flip_probability", flip_probability, 0.0, 1.0)
    if isinstance(task, str):
        task = PatternTask.named(task)
    labels = torch.arange(n) % 2
    labels = labels[torch.randperm(n, generator=generator)]
    first, second = (torch.tensor(c, dtype=torch.float32) for c in task.classes)
    if len(first) == 1 and len(second) == 1:
        x = torch.where(labels[:, None] == 1, first[0], second[0])
    else:
        pick = torch.randint(0, len(first) * len(second), (n,), generator=generator)
        x = torch.where(labels[:, None] == 1, first[pick % len(first)], second[pick % len(second)])
    if flip_probability > 0:
        flips = torch.rand(x.shape, generator=generator) < flip_probability
        x = torch.where(flips, 1.0 - x, x)
    if task.pixels == "bipolar":
        x = 2.0 * x - 1.0
    if noise > 0:
        x = x + noise * task.swing * torch.randn(x.shape, generator=generator)
    return x, labels
