"""1D convolutional networks for biosignals in three variants, and their memory.

* ``float``: real weights and ReLU activations everywhere;
* ``classifier-binary``: the real convolutional feature extractor, then a dense classifier with ±1 weights and sign
  activations (its first layer takes the real features);
* ``full-binary``: every layer has ±1 weights and every hidden activation is a sign; the first convolution takes the
  real signal (as in the binarized networks of Penkovsky et al., DATE 2020, and Hubara et al. 2016).

Blocks are conv → batch-norm → activation → 2× max-pool for real layers and conv → max-pool → batch-norm → sign for
binary ones (the usual BNN order, pooling before the threshold). Optional extra inputs (e.g. coded RR intervals) join
the flattened features before the classifier.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ...nn.binary import BinaryConv1d, BinaryLinear, SignActivation
from ...runner.seeds import derive_seed

Variant = Literal["float", "classifier-binary", "full-binary"]
VARIANTS: tuple[str, ...] = ("float", "classifier-binary", "full-binary")


class BiosignalCNN(nn.Module):
    """Conv feature extractor (``features``) + dense classifier (``classifier``); input (batch, 1, length)."""

    def __init__(
        self,
        variant: Variant,
        length: int,
        n_classes: int,
        channels: list[int],
        kernels: list[int],
        hidden: int,
        n_extra: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        if len(channels) != len(kernels) or not channels:
            raise ValueError(
                f"channels and kernels must be non-empty and equally long; got {channels}, {kernels}"
            )
        torch.manual_seed(derive_seed(seed, "init"))
        self.variant = variant
        layers: list[nn.Module] = []
        width, size = 1, length
        for c, k in zip(channels, kernels, strict=True):
            if variant == "full-binary":
                layers += [BinaryConv1d(width, c, k, padding=k // 2, hidden_clip=1.0), nn.MaxPool1d(2)]
                layers += [nn.BatchNorm1d(c), SignActivation()]
            else:
                layers += [nn.Conv1d(width, c, k, padding=k // 2, bias=False), nn.BatchNorm1d(c), nn.ReLU()]
                layers.append(nn.MaxPool1d(2))
            width, size = c, size // 2
        if size < 1:
            raise ValueError(
                f"{len(channels)} pooling stages need an input of at least {2 ** len(channels)} samples"
            )
        self.features = nn.Sequential(*layers, nn.Flatten())
        n_in = width * size + n_extra
        if variant == "float":
            head = [
                nn.Linear(n_in, hidden, bias=False),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
                nn.Linear(hidden, n_classes),
            ]
        else:
            head = [BinaryLinear(n_in, hidden, hidden_clip=1.0), nn.BatchNorm1d(hidden), SignActivation()]
            head += [BinaryLinear(hidden, n_classes, hidden_clip=1.0), nn.BatchNorm1d(n_classes)]
        self.classifier = nn.Sequential(*head)
        self.n_extra = n_extra

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(x.unsqueeze(1) if x.dim() == 2 else x)
        if self.n_extra:
            if extra is None or extra.shape[1] != self.n_extra:
                raise ValueError(f"this network takes {self.n_extra} extra inputs per sample")
            features = torch.cat([features, extra.to(features.dtype)], dim=1)
        return self.classifier(features)


def scaled(widths: list[int], factor: int) -> list[int]:
    return [w * factor for w in widths]
