"""Hardware view of a trained binarized MLP: bit-packed XNOR-popcount with batch-norm folded into integer thresholds.

For ±1 vectors of length n packed one bit per element, the dot product is ``n − 2·popcount(x XOR w)`` — the count
of agreeing bits (XNOR) minus the disagreeing ones, which is what the 2T2R array's sense amplifiers and popcount
logic compute (science.md §5, §10). A ternary weight adds a mask of its non-zero positions: the product counts +1
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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .binary import BinaryLinear, SignActivation, TernaryLinear, binarize
from .stochastic import StochasticBits

_POST_TYPES = (nn.BatchNorm1d, nn.Dropout, nn.Identity)


def pack_bits(bits: torch.Tensor) -> np.ndarray:
    """Pack rows of booleans into uint64 words (little-endian bit order, zero padded to whole words)."""
    if bits.dtype != torch.bool:
        raise TypeError(f"pack_bits expects a bool tensor, got {bits.dtype}")
    bits = bits.cpu().numpy()
    packed = np.packbits(bits, axis=-1, bitorder="little")
    pad = (-packed.shape[-1]) % 8
    if pad:
        packed = np.pad(packed, [(0, 0)] * (packed.ndim - 1) + [(0, pad)])
    return np.ascontiguousarray(packed).view(np.uint64)


def _chunk_mismatches(x: np.ndarray, w_t: np.ndarray, mask_t: np.ndarray | None) -> np.ndarray:
    """Word by word: XOR one column of input words with one row of (transposed) weight words, count, accumulate."""
    rows, n_out = x.shape[0], w_t.shape[1]
    acc = np.zeros((rows, n_out), dtype=np.uint16 if w_t.shape[0] * 64 < 65536 else np.int32)
    diff = np.empty((rows, n_out), dtype=np.uint64)
    count = np.empty((rows, n_out), dtype=np.uint8)
    for j in range(w_t.shape[0]):
        np.bitwise_xor(x[:, j, None], w_t[j][None, :], out=diff)
        if mask_t is not None:
            np.bitwise_and(diff, mask_t[j][None, :], out=diff)
        np.bitwise_count(diff, out=count)
        acc += count
    return acc.astype(np.int32)


def mismatches(
    x: np.ndarray, w: np.ndarray, mask: np.ndarray | None = None, pool: ThreadPoolExecutor | None = None
) -> np.ndarray:
    """popcount(x_b XOR w_j [AND mask_j]) for every input row b and weight row j, as int32 (B, N).

    ``w`` and ``mask`` are (N, words); the loop runs over words (a few to a few dozen) with whole (B, N) planes
    per step, so no (B, N, words) intermediate is ever built. Row blocks go to ``pool`` threads (NumPy releases the
    GIL in its element-wise loops).
    """
    w_t = np.ascontiguousarray(w.T)
    mask_t = np.ascontiguousarray(mask.T) if mask is not None else None
    n_out = w.shape[0]
    chunk = max(1, (1 << 18) // max(1, n_out))
    starts = range(0, x.shape[0], chunk)
    if pool is None:
        parts = [_chunk_mismatches(x[s : s + chunk], w_t, mask_t) for s in starts]
    else:
        parts = list(pool.map(lambda s: _chunk_mismatches(x[s : s + chunk], w_t, mask_t), starts))
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, n_out), dtype=np.int32)


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


class PackedBNN:
    """Bit-packed XNOR-popcount evaluation of a trained binarized (or ternary) MLP, equal to its float evaluation."""

    def __init__(self, model: nn.Sequential, threads: int = 2) -> None:
        modules = _flatten_modules(model)
        self.model = model
        self.threads = threads
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
            nonzeros=(w != 0).sum(dim=1).numpy().astype(np.int64),
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
            value = _post_apply(layer, torch.from_numpy(a.astype(np.float32)).reshape(1, -1))
            return (value >= 0).reshape(-1).numpy()

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

    def _integer_preactivation(self, layer: _PackedLayer, x, pool) -> np.ndarray:
        if layer.input_mode == "binary":
            bits = pack_bits(x >= 0)  # the ±1 convention: sign(0) = +1
            return layer.nonzeros[None, :] - 2 * mismatches(bits, layer.weight_bits, layer.mask_bits, pool)
        assert self.stochastic is not None
        total = np.zeros((x.shape[0], layer.layer.out_features), dtype=np.int64)
        for _ in range(self.stochastic.k):  # one packed XNOR-popcount per bit-plane, counts summed
            plane = x > torch.rand(x.shape, generator=self.stochastic.generator, dtype=x.dtype)
            bits = pack_bits(plane)
            total += layer.nonzeros[None, :] - 2 * mismatches(bits, layer.weight_bits, layer.mask_bits, pool)
        return total

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the network for a batch ``x`` (the same values the float network gives in eval mode)."""
        self.model.eval()
        if self.flatten:
            x = x.flatten(1)
        with ThreadPoolExecutor(self.threads) if self.threads > 1 else _NoPool() as pool:
            h: torch.Tensor | np.ndarray = x
            for index, layer in enumerate(self.layers):
                last = index == len(self.layers) - 1
                if (
                    layer.input_mode == "real"
                ):  # fixed-point first layer: evaluated in float, as the float network
                    pre = layer.layer(self.stochastic(x) if self.stochastic is not None else x)
                    a_float = _post_apply(layer, pre, add_bias=False)
                    if last:
                        return a_float
                    h = binarize(a_float)
                    continue
                a = self._integer_preactivation(layer, h, pool)
                if last:
                    return _post_apply(layer, torch.from_numpy(a.astype(np.float32)))
                out = (layer.direction[None, :] * a) >= layer.threshold[None, :]
                h = torch.from_numpy(np.where(out, 1.0, -1.0).astype(np.float32))
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
