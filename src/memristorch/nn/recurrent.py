"""RNN, LSTM and GRU layers whose input and recurrent weight matrices live in tiles (one MemLinear each per layer).

Each time step reads the input projection W_ih x_t and the recurrent projection W_hh h_(t−1) through their tiles —
periphery, drift, IR drop and read cost included — and applies the nonlinearity or gates of ``torch.nn.RNN`` /
``torch.nn.LSTM`` / ``torch.nn.GRU`` in float (the gate nonlinearities and products are digital). Unidirectional, without LSTM projections; the time loop
runs in Python, one step after another, as the hardware would.
"""

from __future__ import annotations

import torch
from torch import nn

from ..tiles import TileConfig
from .layers import MemLinear


def unsupported_reason(module: nn.RNNBase) -> str | None:
    """Why this RNN/LSTM/GRU cannot go onto tiles (None if it can)."""
    try:
        _check_supported(module)
    except ValueError as error:
        return str(error)
    return None


def _check_supported(module: nn.RNNBase) -> None:
    if module.bidirectional:
        raise ValueError(f"{type(module).__name__}: bidirectional layers are not supported on tiles")
    if getattr(module, "proj_size", 0):
        raise ValueError("LSTM with proj_size > 0 is not supported on tiles")
    if not module.bias:
        raise ValueError(f"{type(module).__name__}: bias=False is not supported on tiles")


class _MemRecurrent(nn.Module):
    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        batch_first: bool = False,
        config: TileConfig | None = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        config = TileConfig() if config is None else config
        n = self.gates * hidden_size
        self.input_projections = nn.ModuleList(
            MemLinear(input_size if k == 0 else hidden_size, n, config=config.with_seed(config.seed + 2 * k))
            for k in range(num_layers)
        )
        self.recurrent_projections = nn.ModuleList(
            MemLinear(hidden_size, n, config=config.with_seed(config.seed + 2 * k + 1))
            for k in range(num_layers)
        )

    @classmethod
    def from_float(cls, module: nn.RNNBase, config: TileConfig):
        _check_supported(module)
        layer = cls(module.input_size, module.hidden_size, module.num_layers, module.batch_first, config)
        with torch.no_grad():
            for k in range(module.num_layers):
                ih, hh = layer.input_projections[k], layer.recurrent_projections[k]
                ih.program(getattr(module, f"weight_ih_l{k}"))
                hh.program(getattr(module, f"weight_hh_l{k}"))
                ih.bias.copy_(getattr(module, f"bias_ih_l{k}"))
                hh.bias.copy_(getattr(module, f"bias_hh_l{k}"))
        return layer

    def _sequence(self, x: torch.Tensor) -> tuple[torch.Tensor, bool]:
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, unbatched

    def _output(self, y: torch.Tensor, unbatched: bool) -> torch.Tensor:
        if unbatched:
            return y.squeeze(1)
        return y.transpose(0, 1) if self.batch_first else y

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, batch_first={self.batch_first}"


class MemLSTM(_MemRecurrent):
    """Drop-in for :class:`torch.nn.LSTM` (unidirectional, no projections): gates i, f, g, o as torch orders them."""

    gates = 4

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        x, unbatched = self._sequence(x)
        steps, batch = x.shape[0], x.shape[1]
        zeros = x.new_zeros(self.num_layers, batch, self.hidden_size)
        h0, c0 = (zeros, zeros) if state is None else (s if not unbatched else s.unsqueeze(1) for s in state)
        hs, cs = [], []
        for k in range(self.num_layers):
            h, c = h0[k], c0[k]
            ih, hh = self.input_projections[k], self.recurrent_projections[k]
            projected = ih(x.reshape(steps * batch, -1)).reshape(
                steps, batch, -1
            )  # all steps' inputs at once
            outputs = []
            for t in range(steps):
                i, f, g, o = (projected[t] + hh(h)).chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outputs.append(h)
            x = torch.stack(outputs)
            hs.append(h)
            cs.append(c)
        h_n, c_n = torch.stack(hs), torch.stack(cs)
        if unbatched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._output(x, unbatched), (h_n, c_n)


class _MemSingleState(_MemRecurrent):
    """A recurrent layer whose only state is h (RNN, GRU); subclasses define one time step."""

    def _step(self, projected: torch.Tensor, hh: MemLinear, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        x, unbatched = self._sequence(x)
        steps, batch = x.shape[0], x.shape[1]
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, batch, self.hidden_size)
        elif unbatched:
            h0 = h0.unsqueeze(1)
        hs = []
        for k in range(self.num_layers):
            h = h0[k]
            ih, hh = self.input_projections[k], self.recurrent_projections[k]
            projected = ih(x.reshape(steps * batch, -1)).reshape(steps, batch, -1)
            outputs = []
            for t in range(steps):
                h = self._step(projected[t], hh, h)
                outputs.append(h)
            x = torch.stack(outputs)
            hs.append(h)
        h_n = torch.stack(hs)
        return self._output(x, unbatched), (h_n.squeeze(1) if unbatched else h_n)


class MemGRU(_MemSingleState):
    """Drop-in for :class:`torch.nn.GRU` (unidirectional): gates r, z, n as torch orders them."""

    gates = 3

    def _step(self, projected, hh, h):
        xr, xz, xn = projected.chunk(3, dim=1)
        hr, hz, hn = hh(h).chunk(3, dim=1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * h


class MemRNN(_MemSingleState):
    """Drop-in for :class:`torch.nn.RNN` (unidirectional, with biases): h_t = act(W_ih x_t + W_hh h_(t−1) + b),
    act ``tanh`` or ``relu`` (digital)."""

    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._set_nonlinearity(nonlinearity)

    def _set_nonlinearity(self, nonlinearity: str) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self._activation = torch.tanh if nonlinearity == "tanh" else torch.relu

    @classmethod
    def from_float(cls, module: nn.RNN, config: TileConfig) -> MemRNN:
        layer = super().from_float(module, config)
        layer._set_nonlinearity(module.nonlinearity)
        return layer

    def _step(self, projected, hh, h):
        return self._activation(projected + hh(h))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, nonlinearity={self.nonlinearity!r}"
