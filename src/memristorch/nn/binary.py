"""Binarized and ternary layers with real hidden weights, for BNNs/TNNs stored in binary memories.

Forward: the layer uses the quantized weight — ``sign(W_h)`` with ``sign(0) = +1`` (what a 2T2R cell or a latch
stores: there is no zero state; ``torch.sign`` would give 0) or, for ternary layers, ``sign(W_h)·1{|W_h| > Δ}``.
Backward: straight-through — the quantized weight passes its gradient to ``W_h`` unchanged (BinaryConnect), while
binarized activations pass it only where the pre-activation lies in [−1, 1] (Courbariaux/Hubara et al. 2016).

Hardware imperfections enter in two places:

* ``training_errors`` — a :class:`~memristorch.cells.bit_errors.BitErrorChannel` applied afresh on every training
  forward (error-aware training, Hirtzlin et al. AICAS 2019);
* :func:`store_weights` — program the quantized weights once through a channel, as a chip holds them; evaluation
  then uses those stored (possibly wrong) bits until :func:`clear_stored_weights`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_range
from ..cells.bit_errors import BitErrorChannel

DELTA_MODES = ("fixed", "relative")


def binarize(x: torch.Tensor) -> torch.Tensor:
    """±1 with sign(0) = +1, in ``x``'s dtype."""
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class _SignWeight(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return binarize(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class _SignActivation(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return binarize(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class _TernaryWeight(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, delta):
        return torch.where(x.abs() > delta, binarize(x), torch.zeros_like(x))

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def sign_activation(x: torch.Tensor) -> torch.Tensor:
    """Binarize activations (sign(0) = +1) with the gated straight-through gradient 1{|x| ≤ 1}."""
    return _SignActivation.apply(x)


class SignActivation(nn.Module):
    """Module form of :func:`sign_activation`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sign_activation(x)


class _QuantizedLayer(nn.Module):
    """Shared machinery: quantization, stored (programmed) weights, training-time errors, hidden-weight clipping."""

    weight: nn.Parameter
    levels: int = 2

    def _setup_quantized(self, binarize_input: bool, hidden_clip: float | None) -> None:
        self.binarize_input = bool(binarize_input)
        if hidden_clip is not None:
            check_range("hidden_clip", hidden_clip, 0.0, None, low_inclusive=False)
        self.hidden_clip = hidden_clip
        self.training_errors: BitErrorChannel | None = None
        self.error_generator: torch.Generator | None = None
        self.register_buffer("stored_weight", None, persistent=False)

    def quantized_weight(self) -> torch.Tensor:
        """The weight the memory should hold, differentiable through the straight-through estimator."""
        raise NotImplementedError

    def effective_weight(self) -> torch.Tensor:
        if self.stored_weight is not None and not self.training:
            return self.stored_weight
        w = self.quantized_weight()
        if self.training and self.training_errors is not None:
            w = self.training_errors(w, self.error_generator)
        return w

    @torch.no_grad()
    def clip_hidden_(self) -> None:
        if self.hidden_clip is not None:
            self.weight.clamp_(-self.hidden_clip, self.hidden_clip)

    def _prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        return binarize(x) if self.binarize_input else x

    def extra_repr(self) -> str:
        extra = f", binarize_input={self.binarize_input}" if self.binarize_input else ""
        return super().extra_repr() + extra


class _BinaryMixin(_QuantizedLayer):
    levels = 2

    def quantized_weight(self) -> torch.Tensor:
        return _SignWeight.apply(self.weight)


class _TernaryMixin(_QuantizedLayer):
    levels = 3

    def _setup_delta(self, delta: float, delta_mode: str) -> None:
        check_range("delta", delta, 0.0, None)
        self.delta = float(delta)
        self.delta_mode = check_choice("delta_mode", delta_mode, DELTA_MODES)

    def threshold(self) -> torch.Tensor:
        """Δ in hidden-weight units: fixed, or ``delta`` × mean |W_h| (Li & Liu's ternary weight networks)."""
        if self.delta_mode == "fixed":
            return torch.tensor(self.delta, dtype=self.weight.dtype, device=self.weight.device)
        return self.delta * self.weight.detach().abs().mean()

    def quantized_weight(self) -> torch.Tensor:
        return _TernaryWeight.apply(self.weight, self.threshold())


def _linear_init(self, in_features, out_features, bias, binarize_input, hidden_clip):
    nn.Linear.__init__(self, in_features, out_features, bias=bias)
    self._setup_quantized(binarize_input, hidden_clip)


class BinaryLinear(_BinaryMixin, nn.Linear):
    """Linear layer with ±1 weights (hidden real weights trained through the straight-through estimator).

    ``binarize_input=True`` binarizes the input too (hidden layers of a BNN receive ±1 already; the first layer of
    a fully binary network binarizes its pixels). ``hidden_clip`` bounds |W_h| after each step when
    :func:`clip_hidden_weights` is called (BinaryConnect clips to 1; metaplastic training leaves it unbounded).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = False,
        binarize_input: bool = False,
        hidden_clip: float | None = None,
    ) -> None:
        _linear_init(self, in_features, out_features, bias, binarize_input, hidden_clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self._prepare_input(x), self.effective_weight(), self.bias)


class TernaryLinear(_TernaryMixin, nn.Linear):
    """Linear layer with weights in {−1, 0, +1}: ``sign(W_h)`` where ``|W_h| > Δ``, else 0.

    ``delta_mode="fixed"`` uses Δ = ``delta``; ``"relative"`` uses Δ = ``delta`` × mean |W_h| (default 0.7, the rule of
    thumb of ternary weight networks, Li & Liu 2016; placeholder — tune per network).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = False,
        binarize_input: bool = False,
        hidden_clip: float | None = None,
        delta: float = 0.7,
        delta_mode: str = "relative",
    ) -> None:
        _linear_init(self, in_features, out_features, bias, binarize_input, hidden_clip)
        self._setup_delta(delta, delta_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self._prepare_input(x), self.effective_weight(), self.bias)


def _conv_init(self, base, args, kwargs, binarize_input, hidden_clip):
    kwargs.setdefault("bias", False)
    base.__init__(self, *args, **kwargs)
    self._setup_quantized(binarize_input, hidden_clip)


class BinaryConv1d(_BinaryMixin, nn.Conv1d):
    """:class:`torch.nn.Conv1d` with ±1 weights; arguments as Conv1d (bias off by default)."""

    def __init__(
        self, *args, binarize_input: bool = False, hidden_clip: float | None = None, **kwargs
    ) -> None:
        _conv_init(self, nn.Conv1d, args, kwargs, binarize_input, hidden_clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self._prepare_input(x), self.effective_weight(), self.bias)


class BinaryConv2d(_BinaryMixin, nn.Conv2d):
    """:class:`torch.nn.Conv2d` with ±1 weights; arguments as Conv2d (bias off by default)."""

    def __init__(
        self, *args, binarize_input: bool = False, hidden_clip: float | None = None, **kwargs
    ) -> None:
        _conv_init(self, nn.Conv2d, args, kwargs, binarize_input, hidden_clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self._prepare_input(x), self.effective_weight(), self.bias)


class TernaryConv2d(_TernaryMixin, nn.Conv2d):
    """:class:`torch.nn.Conv2d` with weights in {−1, 0, +1}; ``delta``/``delta_mode`` as :class:`TernaryLinear`."""

    def __init__(
        self,
        *args,
        binarize_input: bool = False,
        hidden_clip: float | None = None,
        delta: float = 0.7,
        delta_mode: str = "relative",
        **kwargs,
    ) -> None:
        _conv_init(self, nn.Conv2d, args, kwargs, binarize_input, hidden_clip)
        self._setup_delta(delta, delta_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(self._prepare_input(x), self.effective_weight(), self.bias)


QUANTIZED_LAYERS = (BinaryLinear, TernaryLinear, BinaryConv1d, BinaryConv2d, TernaryConv2d)


def quantized_layers(model: nn.Module) -> list[_QuantizedLayer]:
    return [m for m in model.modules() if isinstance(m, _QuantizedLayer)]


def clip_hidden_weights(model: nn.Module) -> None:
    """Clamp every quantized layer's hidden weights to its ``hidden_clip`` (no-op where it is None)."""
    for layer in quantized_layers(model):
        layer.clip_hidden_()


def set_training_errors(
    model: nn.Module, channel: BitErrorChannel | None, generator: torch.Generator | None = None
) -> None:
    """Apply ``channel`` to the quantized weights on every training forward (None turns it off)."""
    for layer in quantized_layers(model):
        layer.training_errors = channel
        layer.error_generator = generator


@torch.no_grad()
def store_weights(
    model: nn.Module, channel: BitErrorChannel | None = None, generator: torch.Generator | None = None
) -> None:
    """Program the quantized weights into the memory once, through ``channel``; evaluation then reads them."""
    for layer in quantized_layers(model):
        w = layer.quantized_weight().detach()
        layer.stored_weight = channel(w, generator) if channel is not None else w.clone()


def clear_stored_weights(model: nn.Module) -> None:
    for layer in quantized_layers(model):
        layer.stored_weight = None
