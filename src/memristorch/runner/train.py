"""The one minibatch training loop of every study, with callbacks for progress, evaluation and checkpoints.

Each epoch draws one permutation of the training samples from the run's batch-order stream and walks it in
minibatches; ``step(index)`` does the study's forward, backward and optimizer step for those sample indices and
returns the summed loss (a float64 tensor, added up on the device: no host sync per step). Batches smaller than
``min_batch`` (batch-norm needs two samples) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._validation import check_range


def train_epochs(
    step: Callable[[torch.Tensor], torch.Tensor | float],
    n_samples: int,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    start_epoch: int = 0,
    min_batch: int = 1,
    after_batch: Callable[[], None] | None = None,
    after_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train epochs ``start_epoch … epochs − 1``; returns the mean loss of each (summed step losses / samples).

    ``after_batch()`` runs after every step (e.g. a progress bar), ``after_epoch(epoch, mean_loss)`` after every
    epoch (evaluation, a scheduler step, a checkpoint: the generator's state is then that of the next epoch).
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("epochs", epochs, 0),
        ("batch_size", batch_size, 1),
    ):
        check_range(name, value, low)
    if not 0 <= start_epoch <= epochs:
        raise ValueError(f"start_epoch must lie in [0, {epochs}], got {start_epoch}")
    losses: list[float] = []
    for epoch in range(start_epoch, epochs):
        order = torch.randperm(n_samples, generator=generator)
        total = 0.0
        for i in range(0, n_samples, batch_size):
            index = order[i : i + batch_size]
            if len(index) < min_batch:
                continue
            total = total + step(index)
            if after_batch is not None:
                after_batch()
        mean_loss = float(total) / n_samples
        losses.append(mean_loss)
        if after_epoch is not None:
            after_epoch(epoch, mean_loss)
    return losses


def batches_per_epoch(n_samples: int, batch_size: int, min_batch: int = 1) -> int:
    """How many steps one epoch of :func:`train_epochs` takes."""
    full, rest = divmod(n_samples, batch_size)
    return full + (1 if rest >= min_batch and rest > 0 else 0)


def train_minibatches(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    n_samples: int,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    min_batch: int = 1,
    scheduler=None,
    after_step: Callable[[], None] | None = None,
    after_batch: Callable[[], None] | None = None,
) -> list[float]:
    """The usual :func:`train_epochs` step: zero the gradients, ``loss_of(index)``, backward, optimizer step, then
    ``after_step()`` (e.g. weight clipping); ``scheduler.step()`` after every epoch. The model trains in train mode
    and is left in eval mode; returns the mean loss of each epoch."""
    model.train()

    def step(index: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(index)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        return loss.detach().double() * len(index)

    losses = train_epochs(
        step,
        n_samples,
        epochs=epochs,
        batch_size=batch_size,
        generator=generator,
        min_batch=min_batch,
        after_batch=after_batch,
        after_epoch=(lambda epoch, loss: scheduler.step()) if scheduler is not None else None,
    )
    model.eval()
    return losses
