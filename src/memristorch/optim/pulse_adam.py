"""Adam whose steps on device-stored binary weights become weak-RESET pulses (Majumdar et al., IEEE TED 2021).

For a parameter backed by a :class:`~memristorch.tiles.weak_reset_pair.WeakResetPairArray`, Adam's change
−lr·m̂/(√v̂ + ε) is read as a signed pulse count: ``lr`` is the pulse gain (8 in the authors' code, 100 in their
README), and the array rounds, caps (±14) and applies it, after which the parameter is rewritten with the devices'
signs. Every other parameter (batch-norm affine, biases) takes a plain Adam step with ``software_lr``. The optimizer
simulates nothing: the array and its device model do.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from .._validation import check_range
from ..backing import backing_of, is_pulse_count_programmable
from ._steps import adam_step, check_adam_hyperparameters, gradients_to_apply


class PulseAdam(Optimizer):
    def __init__(
        self,
        params,
        lr: float = 8.0,
        software_lr: float = 8e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        check_adam_hyperparameters(lr, betas, eps, weight_decay)
        check_range("software_lr", software_lr, 0.0, low_inclusive=False)
        defaults = {
            "lr": lr,
            "software_lr": software_lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss, active = gradients_to_apply(self, closure)
        for _, p in active:  # every parameter checked before any is changed
            array = backing_of(p)
            if array is not None and not is_pulse_count_programmable(array):
                raise TypeError(
                    f"PulseAdam cannot program a parameter stored in a {type(array).__name__} (it takes weight "
                    "changes, not pulse counts); use InSituSGD for it. Nothing was applied"
                )
        for group, p in active:
            array = backing_of(p)
            if array is None:
                p.sub_(adam_step(self.state[p], p, {**group, "lr": group["software_lr"]}))
            else:
                array.apply_pulses(-adam_step(self.state[p], p, group))
                p.copy_(array.weight())
        return loss
