"""Hardware view of a trained binarized MLP: bit-packed XNOR-popcount with batch-norm folded into integer thresholds.

For ±1 vectors of length n packed one bit per element, the dot product is ``n − 2·popcount(x XOR w)`` — the count
of agreeing bits (XNOR) minus the disagreeing ones, which is what the 2T2R array's sense amplifiers and popcount
logic compute (Hirtzlin et al., Frontiers in Neuroscience 2019). A ternary weight adds a mask of its non-zero positions: the product counts +1
and −1 terms only where the mask is set, ``nnz − 2·popcount(mask AND (x XOR w))``.

Batch-norm (and any bias) after a hidden layer is a monotone function f of the integer pre-activation A, so the
neuron's binary output sign(f(A)) is a comparison of A with one integer: ``+1 ⇔ A ≥ τ`` when f increases,
``+1 ⇔ A ≤ τ`` when it decreases (negative BN scale), or a constant. :class:`PackedBNN` finds τ by bisection on the
network's own float modules, so the folded hardware evaluates the same function as the float network — exactly, bit
for bit (tested), because every pre-activation of ±1 products is an exact integer in float32. The last layer's
integer pre-activation goes through its float post-processing to give logits.

Supported: ``nn.Sequential`` (nested ones are flattened) of ``Flatten``, an optional first
:class:`~memristorch.nn.stochastic.StochasticBits`, then blocks ``BinaryLinear|TernaryLinear → [BatchNorm1d]
[Dropout] → SignActivation``, and a last quantized linear layer with optional BatchNorm1d. The first layer may take
real inputs (evaluated in float, as hardware with a fixed-point first layer would), binarized inputs, or stochastic
bit-planes (exact when k is a power of two; for other k, float rounding of the bit-plane mean can differ at a
threshold). Convolutional layers are not packed (yet).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import popcount
from .binary import BinaryLinear, SignActivation, TernaryLinear, binarize
from .stochastic import StochasticBits

_POST_TYPES = (nn.BatchNorm1d, nn.Dropout, nn.Identity)


def pack_bits(bits: torch.Tensor) -> np.ndarray:
    """Pack rows of booleans into uint64 words (little-endian bit order, zero padded to whole words)."""
    if bits.dtype != torch.bool:
        raise TypeError(f"pack_bits expects a bool tensor, got {bits.dtype}")
    return popcount.pack_signs_numpy(bits.cpu().numpy())


@dataclass
class _PackedLayer:
    layer: BinaryLinear | TernaryLinear
    post: list[nn.Module]
    weight_bits: np.ndarray
    mask_bits: np.ndarray | None
    nonzeros: np.ndarray  # non-zero weights per output row
    input_mode: str  # "real", "binary" (±1 packed), or "stochastic"
    scale: float  # pre-activation = integer A × scale (1/k for stochastic inputs)
    direction: np.ndarray | None = None  # hidden layers: +1 (output +1 iff A ≥ τ) or −1 (iff A ≤ τ)
    threshold: np.ndarray | None = None

    def __post_init__(self) -> None:
        # the compiled kernels read weights word-major: (words, outputs), contiguous
        self.weight_t = np.ascontiguousarray(self.weight_bits.T)
        self.mask_t = None if self.mask_bits is None else np.ascontiguousarray(self.mask_bits.T)


def _post_apply(layer: _PackedLayer, a: torch.Tensor, add_bias: bool = True) -> torch.Tensor:
    value = a * layer.scale if layer.scale != 1.0 else a
    if add_bias and layer.layer.bias is not None:
        value = value + layer.layer.bias.detach()
    for module in layer.post:
        value = module(value)
    return value


def _flatten_modules(model: nn.Module) -> list[nn.Module]:
    if isinstance(model, nn.Sequential):
        return [m for child in model for m in _flatten_modules(child)]
    return [model]


BACKENDS = ("auto", "numba", "numpy")


class PackedBNN:
    """Bit-packed XNOR-popcount evaluation of a trained binarized (or ternary) MLP, equal to its float evaluation.

    ``backend="numba"`` runs the compiled kernels of :mod:`memristorch.nn.popcount` (thresholds folded into the
    kernel, hidden activations kept packed); ``"numpy"`` runs the NumPy reference, word by word; ``"auto"`` takes
    numba when it is installed and warns when it falls back. Both give the float network's logits bit for bit.
    ``threads`` parallel workers (≥ 1) evaluate row blocks of the batch. Logits come back on the model's device.
    """

    def __init__(self, model: nn.Sequential, threads: int = 2, backend: str = "auto") -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module (an nn.Sequential), got {type(model).__name__}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "numba" and not popcount.AVAILABLE:
            raise ImportError("backend='numba' needs numba (pip install numba), which is not installed")
        if backend == "auto":
            if not popcount.AVAILABLE:
                warnings.warn(
                    "numba is not installed: PackedBNN falls back to the slower NumPy popcount (pip install numba)",
                    RuntimeWarning,
                    stacklevel=2,
                )
            backend = "numba" if popcount.AVAILABLE else "numpy"
        modules = _flatten_modules(model)
        self.model = model
        self.threads = threads
        self.backend = backend
        self.flatten = bool(modules) and isinstance(modules[0], nn.Flatten)
        if self.flatten:
            modules = modules[1:]
        self.stochastic: StochasticBits | None = None
        if modules and isinstance(modules[0], StochasticBits):
            self.stochastic = modules[0]
            modules = modules[1:]
        self.layers: list[_PackedLayer] = []
        i = 0
        while i < len(modules):
            layer = modules[i]
            if not isinstance(layer, (BinaryLinear, TernaryLinear)):
                raise ValueError(
                    f"PackedBNN cannot pack {type(layer).__name__} at position {i}: expected BinaryLinear or "
                    "TernaryLinear (convolutions are not packed)"
                )
            i += 1
            post: list[nn.Module] = []
            while i < len(modules) and isinstance(modules[i], _POST_TYPES):
                if isinstance(modules[i], nn.BatchNorm1d) and modules[i].running_mean is None:
                    raise ValueError(
                        "PackedBNN cannot fold a BatchNorm1d without running statistics (track_running_stats=False): "
                        "its output depends on the whole batch, so no fixed threshold exists"
                    )
                post.append(modules[i])
                i += 1
            ends_with_sign = i < len(modules) and isinstance(modules[i], SignActivation)
            if ends_with_sign:
                i += 1
            elif i < len(modules):
                raise ValueError(f"PackedBNN cannot fold {type(modules[i]).__name__} after a quantized layer")
            self.layers.append(self._pack_layer(layer, post, first=not self.layers))
            if not ends_with_sign and i < len(modules):
                raise ValueError("only the last quantized layer may end without SignActivation")
        if not self.layers:
            raise ValueError("PackedBNN found no quantized linear layer in the model")
        for layer in self.layers[:-1]:
            self._fold_threshold(layer)

    def _pack_layer(self, layer, post, first: bool) -> _PackedLayer:
        with torch.no_grad():
            was_training = layer.training
            layer.eval()
            w = layer.effective_weight().detach()
            layer.train(was_training)
        mode, scale = "binary", 1.0
        if first and self.stochastic is not None and self.stochastic.k is not None:
            mode, scale = "stochastic", 1.0 / self.stochastic.k
        elif first and (self.stochastic is not None or not layer.binarize_input):
            mode = "real"  # pixels, or StochasticBits with k=None (the deterministic input 2x − 1)
        ternary = isinstance(layer, TernaryLinear) or bool((w == 0).any())
        return _PackedLayer(
            layer=layer,
            post=post,
            weight_bits=pack_bits(w >= 0),
            mask_bits=pack_bits(w != 0) if ternary else None,
            nonzeros=(w != 0).sum(dim=1).cpu().numpy().astype(np.int64),
            input_mode=mode,
            scale=scale,
        )

    @torch.no_grad()
    def _fold_threshold(self, layer: _PackedLayer) -> None:
        """Integer threshold per neuron from the post-processing (bias, batch-norm), by bisection on its sign."""
        for module in layer.post:
            module.eval()
        n_in = layer.layer.in_features
        k = self.stochastic.k if layer.input_mode == "stochastic" else 1
        bound = n_in * k
        n_out = layer.layer.out_features

        def positive(a: np.ndarray) -> np.ndarray:
            at = torch.from_numpy(a.astype(np.float32)).reshape(1, -1).to(layer.layer.weight.device)
            return (_post_apply(layer, at) >= 0).reshape(-1).cpu().numpy()

        low_pos = positive(np.full(n_out, -bound))
        high_pos = positive(np.full(n_out, bound))
        increasing = ~low_pos & high_pos
        decreasing = low_pos & ~high_pos
        # find the smallest A in (−bound, bound] where pred(A) holds; pred = f ≥ 0 (increasing) or f < 0 (decreasing)
        lo = np.full(n_out, -bound, dtype=np.int64)
        hi = np.full(n_out, bound, dtype=np.int64)
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            pred = positive(mid) == increasing
            hi = np.where(pred, mid, hi)
            lo = np.where(pred, lo, mid)
        direction = np.where(decreasing, -1, 1).astype(np.int64)
        threshold = np.where(increasing, hi, -(hi - 1))  # decreasing: +1 iff A ≤ hi − 1 ⇔ −A ≥ −(hi − 1)
        threshold = np.where(low_pos & high_pos, -bound - 1, threshold)  # always +1
        threshold = np.where(~low_pos & ~high_pos, bound + 1, threshold)  # never +1
        layer.direction, layer.threshold = direction, threshold

    def _mismatches(self, bits: np.ndarray, layer: _PackedLayer, pool) -> np.ndarray:
        if self.backend == "numba":
            return popcount.mismatches(bits, layer.weight_t, layer.mask_t, self.threads)
        return popcount.mismatches_numpy(bits, layer.weight_bits, layer.mask_bits, pool)

    def _pack(self, h: torch.Tensor | np.ndarray) -> np.ndarray:
        """Packed ±1 words of a layer input: already packed, or the signs of a float tensor (sign(0) = +1)."""
        if isinstance(h, np.ndarray):
            return h
        values = h.detach().cpu().numpy()
        if self.backend == "numba" and values.dtype in (np.float32, np.float64):
            return popcount.pack_signs(values, self.threads)
        return popcount.pack_signs_numpy(values >= 0)

    def _integer_preactivation(self, layer: _PackedLayer, x, pool) -> np.ndarray:
        if layer.input_mode == "binary":
            return layer.nonzeros[None, :] - 2 * self._mismatches(self._pack(x), layer, pool)
        assert self.stochastic is not None
        x = x.detach().cpu()
        total = np.zeros((x.shape[0], layer.layer.out_features), dtype=np.int64)
        for _ in range(self.stochastic.k):  # one packed XNOR-popcount per bit-plane, counts summed
            plane = x > self.stochastic.uniforms(x)
            bits = popcount.pack_signs_numpy(plane.numpy())
            total += layer.nonzeros[None, :] - 2 * self._mismatches(bits, layer, pool)
        return total

    def _hidden_output(self, layer: _PackedLayer, h, pool) -> np.ndarray:
        """Packed ±1 outputs of a hidden layer: the integer pre-activation against its folded threshold."""
        if self.backend == "numba" and layer.input_mode == "binary":
            return popcount.threshold_layer(
                self._pack(h),
                layer.weight_t,
                layer.mask_t,
                layer.nonzeros,
                layer.direction,
                layer.threshold,
                self.threads,
            )
        a = self._integer_preactivation(layer, h, pool)
        return popcount.pack_signs_numpy((layer.direction[None, :] * a) >= layer.threshold[None, :])

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the network for a batch ``x`` (the same values the float network gives in eval mode)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        self.model.eval()
        if self.flatten:
            x = x.flatten(1)
        width = self.layers[0].layer.in_features
        if x.dim() != 2 or x.shape[1] != width:
            raise ValueError(
                f"x must be a batch of {width} inputs per row (after Flatten), got shape {tuple(x.shape)}"
            )
        pool_needed = self.backend == "numpy" and self.threads > 1
        with ThreadPoolExecutor(self.threads) if pool_needed else _NoPool() as pool:
            h: torch.Tensor | np.ndarray = x
            for index, layer in enumerate(self.layers):
                last = index == len(self.layers) - 1
                if layer.input_mode == "real":  # fixed-point first layer: in float, as the float network
                    pre = layer.layer(self.stochastic(x) if self.stochastic is not None else x)
                    a_float = _post_apply(layer, pre, add_bias=False)
                    if last:
                        return a_float
                    h = binarize(a_float)
                elif last:
                    a = self._integer_preactivation(layer, h, pool)
                    device = layer.layer.weight.device
                    return _post_apply(layer, torch.from_numpy(a.astype(np.float32)).to(device))
                else:
                    h = self._hidden_output(layer, h, pool)
        raise AssertionError("unreachable")

    def memory_bits(self) -> int:
        """Bits the array stores: one per binary weight, two per ternary weight (a 2T2R pair holds both)."""
        return sum(
            int(layer.layer.weight.numel()) * (2 if layer.mask_bits is not None else 1)
            for layer in self.layers
        )


class _NoPool:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
