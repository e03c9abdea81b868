"""Shared optimizer plumbing: gradient checks before any change, and Adam moment bookkeeping."""

from __future__ import annotations

import torch

from .._validation import check_finite_tensor, check_range
from ..backing import backing_of, is_pulse_programmable


def check_adam_hyperparameters(
    lr: float, betas: tuple[float, float], eps: float, weight_decay: float
) -> None:
    check_range("lr", lr, 0.0, low_inclusive=False)
    check_range("betas[0]", betas[0], 0.0, 1.0, high_inclusive=False)
    check_range("betas[1]", betas[1], 0.0, 1.0, high_inclusive=False)
    check_range("eps", eps, 0.0, low_inclusive=False)
    check_range("weight_decay", weight_decay, 0.0)


def check_gradients(active) -> None:
    """All-or-nothing: a NaN/inf in any gradient raises before any parameter or device changes."""
    if active and not torch.isfinite(torch.stack([p.grad.sum() for _, p in active]).sum()):
        for _, p in active:
            check_finite_tensor("gradient", p.grad)


def _tile_checked(p: torch.Tensor) -> bool:
    array = backing_of(p)
    return array is not None and is_pulse_programmable(array)


def adam_step(state: dict, p: torch.Tensor, group: dict) -> torch.Tensor:
    """Update the moments of ``p`` and return Adam's step lr·m̂/(√v̂ + ε) (the change is minus this)."""
    grad = p.grad
    if group["weight_decay"]:
        grad = grad.add(p, alpha=group["weight_decay"])
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
    beta1, beta2 = group["betas"]
    state["step"] += 1
    state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
    state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias1 = 1 - beta1 ** state["step"]
    bias2 = 1 - beta2 ** state["step"]
    # the same arithmetic as torch.optim.Adam (so that meta = 0 reproduces it)
    denominator = (state["exp_avg_sq"].sqrt() / bias2**0.5).add_(group["eps"])
    return (state["exp_avg"] / denominator).mul_(group["lr"] / bias1)


def gradients_to_apply(optimizer, closure, checked_by_tiles: bool = False) -> tuple[object, list]:
    """Run ``closure`` (if any), then return its loss and the (group, parameter) pairs with finite gradients.

    Raises before anything changes if any gradient holds NaN or inf. ``checked_by_tiles``: the optimizer has the
    step of every parameter stored in a pulse-programmable tile checked by that tile's plan (which reads it anyway),
    so only the other gradients are checked here.
    """
    loss = None
    if closure is not None:
        with torch.enable_grad():
            loss = closure()
    active = [(group, p) for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    check_gradients([(g, p) for g, p in active if not _tile_checked(p)] if checked_by_tiles else active)
    return loss, active
