"""``torch.nn`` layers whose weights live in a tile of simulated devices.

``weight`` is an ordinary parameter that mirrors what the devices hold. The forward pass runs through the tile's
periphery (input noise, DAC, read noise, ADC), so autograd sees exactly what the hardware read. Two ways to train:

* in situ — :class:`memristorch.optim.InSituSGD` turns each gradient step into pulses; the tile rewrites ``weight``
  with what the devices then hold;
* hardware-aware — any torch optimizer trains ``weight`` as float master weights through the noisy forward; call
  :meth:`program` afterwards to write them into the devices.

The bias stays digital (a float parameter added after the ADC), as in peripheral-bias designs where a bias column
would waste devices; it is trained by the ordinary rule.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..backing import attach
from ..tiles import AnalogTile, TileConfig


class _MemLayer(nn.Module):
    weight: nn.Parameter
    tile: AnalogTile

    def _check_input(self, x, features: int, dim: int) -> None:
        """The input must be a tensor of the weights' dtype and device with ``features`` along ``dim``, checked
        before any noise is drawn."""
        weight = self.weight
        if type(x) is not torch.Tensor and not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() < -dim or x.shape[dim] != features:
            raise ValueError(
                f"input of shape {tuple(x.shape)} must have {features} features in dimension {dim} for this layer"
            )
        if x.dtype != weight.dtype or x.device != weight.device:
            raise TypeError(
                f"input is {x.dtype} on {x.device} but the layer's weights are {weight.dtype} on "
                f"{weight.device}; cast the input (x.to(...)) or move the model (model.to(...))"
            )

    @torch.no_grad()
    def _book_read(self, x: torch.Tensor, outputs: int, apply) -> None:
        """Book one forward pass's reads in the ledger: ``apply(|x|, G)`` is the layer's own operation with the
        devices' conductances (summed over each weight's devices) in place of the weights, so Σ of it, times
        V_read² t_read / input_range, is the energy the arrays dissipate with inputs applied as amplitudes."""
        tile = self.tile
        periphery = tile.periphery
        g = tile.conductances().sum(0).to(x.dtype)
        array_energy = apply(x.detach().abs(), g).sum().double()
        array_energy *= periphery.read_voltage_v**2 * periphery.read_time_s / tile._ranges[0]
        mvms = outputs // self.weight.shape[0]
        inputs = mvms * (self.weight[0].numel())
        tile.ledger.record_reads(
            mvms,
            array_energy,
            periphery.conversion_energy_j(inputs, outputs),
            mvms * periphery.read_latency_s(),
        )

    def _attach_tile(self, config: TileConfig, program_init: bool = True) -> None:
        if not isinstance(config, TileConfig):
            raise TypeError(f"config must be a TileConfig or None, got {type(config).__name__}")
        if not isinstance(program_init, bool):
            raise TypeError(f"program_init must be True or False, got {program_init!r}")
        self.tile = AnalogTile(tuple(self.weight.shape), config)
        attach(self.weight, self.tile)
        if program_init:
            self.program()
        else:
            self.mirror()

    @torch.no_grad()
    def program(self, weight: torch.Tensor | None = None) -> None:
        """Write ``weight`` (default: the current float weight) into the devices, then mirror what they hold."""
        target = self.weight if weight is None else weight
        self.weight.copy_(self.tile.program(target))

    @torch.no_grad()
    def map_columns(self, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Per-output-column weight mapping: scale each output's weights so that its largest |weight| sits at the
        top of the window (``w_max``), program them, and keep the scales as the tile's digital column scale.

        From then on ``weight`` holds the weights in device units and the layer computes with
        ``weight × column_scale`` (per output); an all-zero output keeps scale 1. ``weight`` defaults to the current
        effective weights. Returns the scales.
        """
        target = self.effective_weight() if weight is None else weight.detach()
        if tuple(target.shape) != tuple(self.weight.shape):
            raise ValueError(f"weight must have shape {tuple(self.weight.shape)}, got {tuple(target.shape)}")
        peak = target.abs().reshape(target.shape[0], -1).amax(dim=1).float()
        scale = torch.where(peak > 0, peak / self.tile.cell.w_max, torch.ones_like(peak))
        self.tile.set_column_scale(None)
        self.program(target / scale.to(target.dtype).view(-1, *([1] * (target.dim() - 1))))
        self.tile.set_column_scale(scale)
        return scale

    def effective_weight(self) -> torch.Tensor:
        """The weights the layer computes with: ``weight`` times the tile's per-column scale (no noise)."""
        w = self.weight.detach()
        return w * self.tile.column_scale.to(w.dtype).view(-1, *([1] * (w.dim() - 1)))

    def program_and_verify(self, weight: torch.Tensor | None = None, config=None, settle: bool = True):
        """Program-and-verify ``weight`` (default: the current float weight) into the devices, booking its cost in
        the ledger, then mirror what they hold (after the devices settle by the tile's programming error, unless
        ``settle=False``); returns the tile's :class:`~memristorch.tiles.ProgramReport`."""
        target = self.weight if weight is None else weight
        report = self.tile.program_and_verify(target.detach(), config, settle)
        self.mirror()
        return report

    @torch.no_grad()
    def settle(self, error: float | None = None) -> None:
        """Let the devices settle by the tile's programming error (:meth:`AnalogTile.settle`), then mirror them."""
        self.tile.settle(error)
        self.mirror()

    @torch.no_grad()
    def mirror(self) -> None:
        """Set ``weight`` to what the devices hold now (after a write that bypassed the layer)."""
        self.weight.copy_(self.tile.effective_weight())

    @torch.no_grad()
    def read_at(
        self, t_s: float | str, compensate: bool = False, generator: torch.Generator | None = None
    ) -> None:
        """Read the devices ``t_s`` after programming (drift, ``TileConfig.drift``): ``weight`` mirrors what they
        hold then; ``compensate`` turns on global drift compensation (see :meth:`AnalogTile.weight_at`). ``0`` reads
        them as programmed again."""
        self.weight.copy_(self.tile.weight_at(t_s, compensate, generator))

    def _read_weight(self, tile: AnalogTile) -> torch.Tensor:
        """The weights a forward pass uses: the mirror (through the wires' IR drop if the tile has it, with the
        gradient passed straight to the mirror), plus hardware-aware training noise in training mode."""
        weight = self.weight
        if tile.has_ir_drop:
            weight = weight + (tile.read_weight().to(weight.dtype) - weight).detach()
        sigma = tile.config.training_weight_noise
        if not self.training or sigma == 0:
            return weight
        noise = torch.randn(weight.shape, generator=tile.generator, dtype=weight.dtype, device=weight.device)
        return weight + noise.mul_(self.weight.detach().abs().amax() * sigma)

    def __deepcopy__(self, memo):
        # nn.Parameter's own deepcopy drops attributes, so re-link the copied weight to the copied tile
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            new.__dict__[key] = copy.deepcopy(value, memo)
        attach(new.weight, new.tile)
        return new

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        attach(self.weight, self.tile)


class MemLinear(_MemLayer):
    """Drop-in for :class:`torch.nn.Linear` with device-stored weights."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        config: TileConfig | None = None,
        *,
        program_init: bool = True,
    ) -> None:
        """``program_init=True`` writes :class:`torch.nn.Linear`'s initial weights into the devices (an ideal write);
        ``False`` leaves the devices as fabricated (``init_state``) and ``weight`` mirrors what they hold — the
        starting point of a chip programmed by :meth:`program_and_verify` — without touching torch's global
        random stream (the bias then starts at zero)."""
        super().__init__()
        check_int("in_features", in_features, 1)
        check_int("out_features", out_features, 1)
        self.in_features, self.out_features = in_features, out_features
        if program_init is True:
            reference = nn.Linear(in_features, out_features, bias=bias)
            self.weight = nn.Parameter(reference.weight.detach().clone())
            self.bias = nn.Parameter(reference.bias.detach().clone()) if bias else None
        else:
            self.weight = nn.Parameter(torch.zeros(out_features, in_features))
            self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self._attach_tile(TileConfig() if config is None else config, program_init)

    @classmethod
    def from_float(cls, module: nn.Linear, config: TileConfig) -> MemLinear:
        layer = cls(module.in_features, module.out_features, module.bias is not None, config)
        with torch.no_grad():
            layer.program(module.weight)
            if module.bias is not None:
                layer.bias.copy_(module.bias)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x, self.in_features, -1)
        tile = self.tile
        x = tile.prepare_input(x)
        weight = self._read_weight(tile)
        # the digital bias commutes with the additive read noise: fuse it (not before an ADC or an output scale)
        if tile.periphery.adc_bits is None and not tile.compensated and not tile.column_scaled:
            y = F.linear(x, weight, self.bias)
            bias = None
        else:
            y, bias = F.linear(x, weight), self.bias
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) if tile.needs_input_norm else None
        y = tile.finish_output(y, norm)
        if tile.periphery.book_reads and tile._calibration is None:  # calibration reads are not inference
            self._book_read(x, y.numel(), F.linear)
        y = tile.digital_scale(y, -1)  # drift compensation, per-column mapping
        return y if bias is None else y + bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class _MemConv(_MemLayer):
    """Drop-in for ``torch.nn.Conv{1,2,3}d`` (zero padding) with device-stored weights; subclasses set the dims."""

    _float_type: type[nn.Module]
    _functional = None
    _dims = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        config: TileConfig | None = None,
    ) -> None:
        super().__init__()
        check_int("in_channels", in_channels, 1)
        check_int("out_channels", out_channels, 1)
        kernel = (kernel_size,) * self._dims if isinstance(kernel_size, int) else tuple(kernel_size)
        if any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in kernel):
            raise ValueError(f"kernel_size must be integers ≥ 1 in every dimension, got {kernel_size!r}")
        reference = self._float_type(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias
        )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = reference.kernel_size, reference.stride
        self.padding, self.dilation, self.groups = reference.padding, reference.dilation, groups
        self.weight = nn.Parameter(reference.weight.detach().clone())
        self.bias = nn.Parameter(reference.bias.detach().clone()) if bias else None
        self._attach_tile(TileConfig() if config is None else config)

    @classmethod
    def from_float(cls, module: nn.Module, config: TileConfig) -> _MemConv:
        if module.padding_mode != "zeros":
            raise ValueError(f"padding_mode must be 'zeros' for {cls.__name__}, got {module.padding_mode!r}")
        if isinstance(module.padding, str):
            raise ValueError(
                f"padding must be given as integers for {cls.__name__} (string padding is not supported)"
            )
        layer = cls(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.groups,
            module.bias is not None,
            config,
        )
        with torch.no_grad():
            layer.program(module.weight)
            if module.bias is not None:
                layer.bias.copy_(module.bias)
        return layer

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
        return type(self)._functional(x, weight, None, self.stride, self.padding, self.dilation, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x, self.in_channels, -(self._dims + 1))
        tile = self.tile
        x = tile.prepare_input(x)
        y = self._conv(x, self._read_weight(tile), self.groups)
        norm = None
        if tile.needs_input_norm:
            # ‖patch‖ of every receptive field, per group, by a convolution of x² with a ones kernel
            ones = x.new_ones((self.groups, self.in_channels // self.groups, *self.kernel_size))
            sq = self._conv(x.detach() ** 2, ones, self.groups).clamp_(min=0).sqrt_()
            # one group: (batch, 1, …) broadcasts over the output channels without a copy per channel
            norm = sq if self.groups == 1 else sq.repeat_interleave(self.out_channels // self.groups, dim=1)
        y = tile.finish_output(y, norm)
        if tile.periphery.book_reads and tile._calibration is None:  # calibration reads are not inference
            self._book_read(x, y.numel(), lambda a, g: self._conv(a, g, self.groups))
        y = tile.digital_scale(y, -(self._dims + 1))
        return y if self.bias is None else y + self.bias.view(1, -1, *([1] * self._dims))

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, groups={self.groups}, bias={self.bias is not None}"
        )


class MemConv1d(_MemConv):
    """Drop-in for :class:`torch.nn.Conv1d` (zero padding) with device-stored weights."""

    _float_type, _functional, _dims = nn.Conv1d, F.conv1d, 1


class MemConv2d(_MemConv):
    """Drop-in for :class:`torch.nn.Conv2d` (zero padding) with device-stored weights."""

    _float_type, _functional, _dims = nn.Conv2d, F.conv2d, 2


class MemConv3d(_MemConv):
    """Drop-in for :class:`torch.nn.Conv3d` (zero padding) with device-stored weights."""

    _float_type, _functional, _dims = nn.Conv3d, F.conv3d, 3
