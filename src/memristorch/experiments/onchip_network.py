"""The 9–H–1 memristive network of the on-chip study: software training, programming the chip, retraining it.

Topology (assumed; Eslami et al. 2024, arXiv 2408.14680, give 30 memristors and 4 neurons, and 9–3–1 without bias
devices is the one two-layer split that fits): 9 inputs, H tanh hidden neurons (op-amps that saturate), 1 comparator
output, no biases; one memristor per weight against a mid-window reference (or a differential pair). Each layer has
its own gain (its neuron's amplifier), fixed when the chip is first programmed so that the largest weight sits 10 %
inside the device window.

Training noise (the study's software training step) is injected where the chosen ``noise_model`` puts it:
``"weight"`` multiplies every weight by ``1 + σ n``; ``"conductance"`` multiplies every *conductance* the weight maps
to by ``1 + σ n``, which is what a relative conductance error does on the chip (with one device against a reference,
the weight error then scales with G, not with |w|).

The chip itself is two :class:`~memristorch.nn.MemLinear` layers on the core's tiles. Conductance error at
inference is the tiles' :class:`~memristorch.tiles.ProgrammingError`: after program-and-verify each device settles
by a factor ``1 + e (√ρ a + √(1 − ρ) b)``, ``a`` fixed per device (its own systematic error), ``b`` drawn afresh at
every programming, ``ρ = error_persistence`` (placeholder — calibrate). Retraining (the study's last step) reads the
settled chip back, fine-tunes the weights in software through the measured per-device factors, and reprograms the
devices whose new target they miss; the persistent part of the error is then compensated, the fresh part is not.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..cells import Cell, make_cell
from ..data.patterns import PatternTask, pattern_samples
from ..devices.base import DeviceModel
from ..ledger import summarize
from ..nn import MemLinear, ModelProgramReport
from ..runner.seeds import derive_seed, stream
from ..tiles import ProgrammingError, ProgramReport, TileConfig, VerifyConfig

NoiseModel = Literal["weight", "conductance"]
#: logit scale of the comparator's training loss (steepness of the surrogate)
_LOGIT_SCALE = 4.0


def forward(x: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """Pre-comparator output of the 9–H–1 network (hidden neurons saturate like op-amps: tanh)."""
    return torch.tanh(x @ weights[0].T) @ weights[1].T


def accuracy(
    weights: list[torch.Tensor], input_noise: float, n: int, seed: int, task: PatternTask | str = "x-plus"
) -> float:
    """Comparator accuracy on ``n`` fresh test patterns with pixel noise ``input_noise`` (seeded by ``seed``)."""
    x, y = pattern_samples(n, input_noise, generator=stream(seed, "test-patterns"), task=task)
    predicted = (forward(x, weights).squeeze(1) > 0).long()
    return float((predicted == y).double().mean())


def _layer_w_max(w: torch.Tensor) -> float:
    """The layer gain: its largest weight sits 10 % inside the window."""
    return max(float(w.detach().abs().max()), 1e-12) / 0.9


def layer_cells(kind: str, device: DeviceModel, weights: list[torch.Tensor]) -> list[Cell]:
    """One cell per layer, its gain set by :func:`_layer_w_max`."""
    return [make_cell(kind, device, w_max=_layer_w_max(w)) for w in weights]


def _noisy(
    weights: list[torch.Tensor],
    sigma: float,
    noise_model: NoiseModel,
    generator: torch.Generator,
    cells: list[Cell] | None,
    factors: list[torch.Tensor] | None,
    cell_kind: str,
    device: DeviceModel | None,
) -> list[torch.Tensor]:
    """The weights one training step sees: through the chip's measured factors (if any), with training noise."""
    if factors is None and noise_model == "weight":
        return [w * (1 + sigma * torch.randn(w.shape, generator=generator)) for w in weights]
    if cells is None:
        if device is None:
            raise ValueError("noise_model='conductance' needs the device the weights will be stored in")
        cells = layer_cells(cell_kind, device, weights)
    out = []
    for i, (cell, w) in enumerate(zip(cells, weights, strict=True)):
        g = cell.target_conductances(w.double())
        if factors is not None:
            g = g * factors[i]
        if sigma > 0 and noise_model == "conductance":
            g = g * (1 + sigma * torch.randn(g.shape, generator=generator, dtype=g.dtype))
        seen = cell.weight(g).float()
        if sigma > 0 and noise_model == "weight":
            seen = seen * (1 + sigma * torch.randn(seen.shape, generator=generator))
        out.append(seen)
    return out


def train_weights(
    *,
    hidden: int,
    n_train: int,
    epochs: int,
    lr: float,
    pixel_noise: float,
    train_noise: float,
    noise_model: NoiseModel,
    seed: int,
    device: DeviceModel | None = None,
    cell_kind: str = "single",
    init: list[torch.Tensor] | None = None,
    cells: list[Cell] | None = None,
    factors: list[torch.Tensor] | None = None,
    task: PatternTask | str = "x-plus",
) -> list[torch.Tensor]:
    """Train the 9–H–1 net by Adam on noisy patterns with training noise; returns ``[W1 (H×9), W2 (1×H)]``.

    ``init``/``cells``/``factors`` turn this into chip-in-the-loop retraining: start from ``init``, keep the
    chip's layer gains (``cells``) and see every conductance multiplied by its measured factor.
    """
    g = stream(seed, "training")
    x, y = pattern_samples(n_train, pixel_noise, generator=g, task=task)
    if init is None:
        w1 = torch.randn(hidden, 9, generator=g) * 0.5
        w2 = torch.randn(1, hidden, generator=g) * 0.5
    else:
        w1, w2 = (w.clone() for w in init)
    params = [w1.requires_grad_(True), w2.requires_grad_(True)]
    opt = torch.optim.Adam(params, lr=lr)
    target = y.float()
    for _ in range(epochs):
        opt.zero_grad()
        seen = _noisy(params, train_noise, noise_model, g, cells, factors, cell_kind, device)
        F.binary_cross_entropy_with_logits(_LOGIT_SCALE * forward(x, seen).squeeze(1), target).backward()
        opt.step()
        if cells is not None:  # the chip's weight range is fixed: stay inside it
            with torch.no_grad():
                for cell, w in zip(cells, params, strict=True):
                    w.clamp_(-cell.w_max, cell.w_max)
    return [w.detach() for w in params]


class Chip(nn.Module):
    """The programmed network: one bias-free :class:`~memristorch.nn.MemLinear` per layer, each on its own tile.

    Every tile holds its layer's devices, cell (the layer gain, fixed here), ledger, generator and the persistent
    share of the conductance error (:class:`~memristorch.tiles.ProgrammingError`). The tiles carry the error's
    persistence; the study sweeps its size, so every :meth:`settle` names the level.
    """

    def __init__(
        self,
        device: DeviceModel,
        weights: list[torch.Tensor],
        *,
        cell_kind: str,
        persistence: float,
        seed: int,
    ) -> None:
        super().__init__()
        error = ProgrammingError(error=0.0, persistence=persistence)
        layers = []
        for i, w in enumerate(weights):
            config = TileConfig(
                device=device,
                cell=cell_kind,
                w_max=_layer_w_max(w),
                seed=derive_seed(seed, "programming", i),
                programming_error=error,
            )
            out_features, in_features = w.shape
            layers.append(MemLinear(in_features, out_features, bias=False, config=config, program_init=False))
        self.layers = nn.ModuleList(layers)
        self.programmed = [w.detach().clone() for w in weights]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-comparator output, read through the tiles (hidden neurons saturate: tanh)."""
        return self.layers[1](torch.tanh(self.layers[0](x)))

    @property
    def cells(self) -> list[Cell]:
        return [layer.tile.cell for layer in self.layers]

    def weights(self) -> list[torch.Tensor]:
        """The weights the chip computes with now (its conductances through the layer cells, noise-free)."""
        return [layer.weight.detach().clone() for layer in self.layers]

    def targets(self) -> list[torch.Tensor]:
        """The conductances the last programming aimed at, per layer ``(devices_per_weight, out, in)``."""
        result = []
        for layer, w in zip(self.layers, self.programmed, strict=True):
            dtype = layer.tile.conductances().dtype
            result.append(layer.tile.cell.target_conductances(w.to(dtype)))
        return result

    def program(self, weights: list[torch.Tensor], verify: VerifyConfig) -> ProgramReport:
        """Program-and-verify ``weights`` layer by layer (no settling yet: see :meth:`settle`)."""
        reports = [
            layer.program_and_verify(w, verify, settle=False)
            for layer, w in zip(self.layers, weights, strict=True)
        ]
        self.programmed = [w.detach().clone() for w in weights]
        return ModelProgramReport({str(i): report for i, report in enumerate(reports)})

    def settle(self, error: float) -> None:
        """Conductance error after programming: every device settles by ``1 + e (√ρ a + √(1 − ρ) b)``."""
        for layer in self.layers:
            layer.settle(error)

    def cost(self) -> dict[str, float]:
        """Pulses, time and energy booked in the tiles' ledgers so far."""
        totals = summarize(self)
        return {key: totals[key] for key in ("pulses", "time_s", "energy_j")}


def program_chip(
    device: DeviceModel,
    weights: list[torch.Tensor],
    *,
    cell_kind: str,
    verify: VerifyConfig,
    seed: int,
    persistence: float,
) -> tuple[Chip, dict[str, float]]:
    """Program fresh devices to ``weights`` by program-and-verify (no conductance error yet: ``Chip.settle``)."""
    chip = Chip(device, weights, cell_kind=cell_kind, persistence=persistence, seed=seed)
    return chip, chip.program(weights, verify).summary()


def retrain_chip(
    chip: Chip, weights: list[torch.Tensor], *, verify: VerifyConfig, conductance_error: float, train: dict
) -> dict[str, float]:
    """Chip-in-the-loop retraining: read the settled conductances, fine-tune through them, reprogram, settle again.

    ``train`` holds the keyword arguments of :func:`train_weights` (data, epochs, noise). Returns the cost of the
    read-back and of reprogramming from the tiles' ledgers (every device is read; only those off their new target
    are pulsed).
    """
    before = chip.cost()
    targets = chip.targets()
    factors = [
        (layer.tile.measure(verify) / t).float() for layer, t in zip(chip.layers, targets, strict=True)
    ]
    tuned = train_weights(init=weights, cells=chip.cells, factors=factors, **train)
    # the fine-tuned targets already absorb each device's measured error: program them as they are
    chip.program(tuned, verify)
    chip.settle(conductance_error)
    return {key: value - before[key] for key, value in chip.cost().items()}
