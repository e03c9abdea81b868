"""In-situ SGD: each step's weight change is sent to the devices as pulses.

For a parameter stored in a tile the step is ``Δw = −lr · (g + weight_decay · w)`` (optionally through a momentum
buffer), handed to the tile, which plans and applies the pulses and rewrites the parameter with what the devices then
hold. Other parameters (digital biases, norms) take the same rule in float. The optimizer knows no physics.

Before anything is applied, every tile plans its step (:meth:`~memristorch.tiles.AnalogTile.plan_update`), which
checks it (finite, and no more pulses than one update can plan), and every other gradient is checked: a failure
anywhere raises ``ValueError`` and leaves every device, parameter, momentum buffer and random stream as it was (the
tiles planned before the failure take their draws back).
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from .._validation import check_range
from ..backing import backing_of, is_pulse_programmable
from ._steps import gradients_to_apply


class InSituSGD(Optimizer):
    """SGD whose device-stored parameters are updated by pulses (``torch.optim.Optimizer`` interface)."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        check_range("lr", lr, 0.0, low_inclusive=False)
        check_range("momentum", momentum, 0.0, 1.0, high_inclusive=False)
        check_range("weight_decay", weight_decay, 0.0)
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss, active = gradients_to_apply(self, closure, checked_by_tiles=True)
        planned = []
        try:
            for group, p in active:  # plan and check everything first ...
                direction = self._direction(group, p)
                tile = backing_of(p)
                if tile is not None and not is_pulse_programmable(tile):
                    raise TypeError(
                        f"InSituSGD cannot program a parameter stored in a {type(tile).__name__} (it takes pulse "
                        "counts, not weight changes); use PulseAdam for it. Nothing was applied"
                    )
                plan = None if tile is None else tile.plan_update(direction, -group["lr"])
                planned.append((group, p, direction, tile, plan))
        except Exception:  # whatever stopped the planning, nothing may stay half done
            for _, _, _, tile, plan in reversed(planned):  # the tiles planned so far take back their draws
                if plan is not None:
                    tile.discard_plan(plan)
            raise
        for group, p, direction, tile, plan in planned:  # ... then apply
            if group["momentum"]:
                self.state[p]["momentum_buffer"] = direction
            if tile is None:
                p.add_(direction, alpha=-group["lr"])
            else:
                tile.apply_plan(plan, weight=p)
        return loss

    def _direction(self, group: dict, p: torch.Tensor) -> torch.Tensor:
        """The descent direction (gradient, decayed and through momentum); the step is ``−lr`` times it.

        Nothing is stored: with momentum the result is the new momentum buffer, which :meth:`step` keeps once every
        parameter's step has passed its checks.
        """
        grad = p.grad
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        if group["momentum"]:
            buf = self.state[p].get("momentum_buffer")
            return grad.clone() if buf is None else buf.mul(group["momentum"]).add_(grad)
        return grad
