"""Binary layers whose weights are pairs of weak-RESET RRAM devices (device in the loop; Majumdar et al., IEEE TED 2021).

``weight`` is a ±1 parameter mirroring sign(R_BL − R_BLb) of the layer's :class:`WeakResetPairArray`; autograd gives
its gradient as for any linear or convolutional layer, and :class:`memristorch.optim.PulseAdam` turns the step into
pulses on the array, after which the parameter is rewritten from the devices. The device state travels in
``state_dict`` as the array's buffers (``<layer>.array.bl_t`` …); checkpoints that held it as extra state still load. The first layer takes real inputs; later layers receive ±1 activations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..backing import attach
from ..devices.families import OneWayPulsedDevice
from ..tiles.weak_reset_pair import WeakResetPairArray


class WeakResetBinaryLayer(nn.Module):
    """The pair array, its mirrored ±1 ``weight`` and the state_dict plumbing shared by the layer types."""

    def __init__(
        self,
        shape: tuple[int, ...],
        device: OneWayPulsedDevice,
        generator: torch.Generator | None,
        max_pulses: int,
    ) -> None:
        super().__init__()
        self.array = WeakResetPairArray(shape, device, generator, max_pulses)
        self.weight = nn.Parameter(self.array.weight())
        attach(self.weight, self.array)

    @torch.no_grad()
    def refresh(self) -> None:
        self.weight.copy_(self.array.weight())

    @torch.no_grad()
    def read_at(self, t_s: float | str, retention=None, seed: int = 0) -> None:
        """Mirror the weights the pairs hold ``t_s`` after programming (weak-RESET retention, see
        :meth:`WeakResetPairArray.weight_at`); ``read_at(0)`` reads them as programmed again."""
        self.weight.copy_(self.array.weight_at(t_s, retention, seed))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        # checkpoints from before the array was a module held its whole state as the layer's extra state
        legacy = state_dict.pop(prefix + "_extra_state", None)
        if legacy is not None:  # load it into the array, then let the array's own load see it as its buffers
            self.array.load_legacy_state(legacy)
            for key, value in self.array.state_dict().items():
                state_dict.setdefault(prefix + "array." + key, value)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
        attach(self.weight, self.array)


class WeakResetBinaryLinear(WeakResetBinaryLayer):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        device: OneWayPulsedDevice,
        generator: torch.Generator | None = None,
        max_pulses: int = 14,
    ) -> None:
        check_int("in_features", in_features, 1)
        check_int("out_features", out_features, 1)
        super().__init__((out_features, in_features), device, generator, max_pulses)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, device={self.array.device!r}"
        )


class WeakResetBinaryConv2d(WeakResetBinaryLayer):
    """A bias-free 2-D convolution with square kernels, every kernel weight a weak-RESET pair."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        device: OneWayPulsedDevice,
        generator: torch.Generator | None = None,
        max_pulses: int = 14,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        check_int("in_channels", in_channels, 1)
        check_int("out_channels", out_channels, 1)
        check_int("kernel_size", kernel_size, 1)
        check_int("stride", stride, 1)
        check_int("padding", padding, 0)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        super().__init__(shape, device, generator, max_pulses)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding = stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, device={self.array.device!r}"
        )
