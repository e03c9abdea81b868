"""Binary linear layer whose weights are pairs of weak-RESET RRAM devices (device in the loop, science.md §3.2).

``weight`` is a ±1 parameter mirroring sign(R_BL − R_BLb) of the layer's :class:`WeakResetPairArray`; autograd gives
its gradient as for any linear layer, and :class:`memristorch.optim.PulseAdam` turns the step into pulses on the
array, after which the parameter is rewritten from the devices. The device state travels in ``state_dict`` (extra
state). The first layer takes real inputs; later layers receive ±1 activations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..devices.weak_reset import WeakResetRRAM
from ..tiles.weak_reset_pair import WeakResetPairArray

PAIR_ATTRIBUTE = "_memristorch_pair_array"


class WeakResetBinaryLinear(nn.Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        device: WeakResetRRAM,
        generator: torch.Generator | None = None,
        max_pulses: int = 14,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.array = WeakResetPairArray((out_features, in_features), device, generator, max_pulses)
        self.weight = nn.Parameter(self.array.weight())
        setattr(self.weight, PAIR_ATTRIBUTE, self.array)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    @torch.no_grad()
    def refresh(self) -> None:
        self.weight.copy_(self.array.weight())

    def get_extra_state(self):
        return self.array.state_dict()

    def set_extra_state(self, state) -> None:
        self.array.load_state_dict(state)
        setattr(self.weight, PAIR_ATTRIBUTE, self.array)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, device={self.array.device!r}"
        )
