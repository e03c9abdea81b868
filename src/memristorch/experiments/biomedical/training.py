"""Training and evaluation shared by the biosignal studies: class-weighted Adam, batched prediction, chips."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...cells.bit_errors import SignFlips
from ...nn.binary import clear_stored_weights, clip_hidden_weights, store_weights
from ...runner.seeds import stream
from ...runner.train import train_minibatches


def class_weights(y: torch.Tensor, n_classes: int, power: float, cap: float) -> torch.Tensor:
    """Loss weight of class c ∝ (1/n_c)^power, normalised so the mean weight per sample is 1, capped at ``cap`` ×
    the weight of the most frequent class (power 0: plain cross-entropy; 1: fully balanced)."""
    counts = torch.bincount(y, minlength=n_classes).double().clamp(min=1)
    w = counts.pow(-power)
    w = torch.minimum(w / w.min(), torch.tensor(float(cap), dtype=torch.float64))
    w = w / (w[y].mean())
    return w.float()


def train_network(
    model: nn.Module,
    x: torch.Tensor,
    extra: torch.Tensor | None,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weights: torch.Tensor | None,
    seed: int,
    after_batch: Callable[[], None] | None = None,
) -> list[float]:
    """Adam with a cosine schedule and weighted cross-entropy; hidden binary weights clipped to [−1, 1]."""
    generator = stream(seed, "training")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    def loss_of(index: torch.Tensor) -> torch.Tensor:
        out = model(x[index], extra[index] if extra is not None else None)
        return F.cross_entropy(out, y[index], weight=weights)

    return train_minibatches(
        model,
        optimizer,
        loss_of,
        len(y),
        epochs=epochs,
        batch_size=batch_size,
        generator=generator,
        min_batch=2,
        scheduler=scheduler,
        after_step=lambda: clip_hidden_weights(model),
        after_batch=after_batch,
    )


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, extra: torch.Tensor | None, batch: int = 4096) -> torch.Tensor:
    """Predicted class of every sample, in eval mode."""
    was_training = model.training
    model.eval()
    out = [
        model(x[i : i + batch], extra[i : i + batch] if extra is not None else None).argmax(1)
        for i in range(0, len(x), batch)
    ]
    model.train(was_training)
    return torch.cat(out)


def predictions_on_chips(
    model: nn.Module, x: torch.Tensor, extra: torch.Tensor | None, ber: float, draws: int, seed: int
) -> list[torch.Tensor]:
    """Predictions of ``draws`` chips, each holding the binary weights with i.i.d. sign flips at ``ber`` (the real
    weights of a partly binarized network stay exact: they are not in the RRAM array)."""
    generator = stream(seed, "chips")
    channel = SignFlips(min(1.0, float(ber)))
    out = []
    for _ in range(draws):
        store_weights(model, channel, generator)
        out.append(predict(model, x, extra))
    clear_stored_weights(model)
    return out
