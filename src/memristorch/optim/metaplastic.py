"""Metaplastic Adam for binarized networks (Laborieux et al., Nature Communications 12, 2549, 2021).

The hidden weight W_h of a binary weight sign(W_h) doubles as its metaplastic state. Adam proposes a change −s; if
that change would shrink |W_h| toward zero (sign(W_h) = sign(s)), it is scaled by f_meta = 1 − tanh²(m·|W_h|), so
a weight that has grown large (consolidated) almost never flips sign again; changes that grow |W_h| are applied in
full. ``m = 0`` is plain Adam. Parameters of dimension 1 (batch-norm affine, biases) always take the plain step, and
hidden weights are not clipped. Weight decay is added to the gradient, as in the authors' optimizer.

``attenuation`` replaces f_meta: a callable ``(weight, step, meta) → factor`` applied where the step shrinks |W_h|.
It is the hook through which a device model can supply its own consolidation behaviour.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim import Optimizer

from .._validation import check_range
from ._steps import adam_step, check_adam_hyperparameters, gradients_to_apply


def tanh_attenuation(weight: torch.Tensor, step: torch.Tensor, meta: float) -> torch.Tensor:
    """f_meta = 1 − tanh²(meta·|W_h|)."""
    return 1.0 - torch.tanh(meta * weight.abs()).square()


class MetaplasticAdam(Optimizer):
    """Adam with metaplastic attenuation of the steps that move hidden weights toward zero."""

    def __init__(
        self,
        params,
        lr: float = 0.005,
        meta: float = 1.35,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-7,
        attenuation: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor] = tanh_attenuation,
    ) -> None:
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        check_range("meta", meta, 0.0)
        defaults = {"lr": lr, "meta": meta, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self.attenuation = attenuation

    @torch.no_grad()
    def step(self, closure=None):
        loss, active = gradients_to_apply(self, closure)
        for group, p in active:
            step = adam_step(self.state[p], p, group)
            if p.dim() > 1 and group["meta"] > 0:
                shrinks = torch.sign(p) == torch.sign(step)
                factor = self.attenuation(p, step, group["meta"])
                step = torch.where(shrinks, step * factor, step)
            p.sub_(step)
        return loss
