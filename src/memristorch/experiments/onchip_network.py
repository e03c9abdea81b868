"""The 9–H–1 memristive network of the on-chip study: software training, programming the chip, retraining it.

Topology (assumed H1, science.md §2.2): 9 inputs, H tanh hidden neurons (op-amps that saturate), 1 comparator
output, no biases; one memristor per weight against a mid-window reference (or a differential pair). Each layer has
its own gain (its neuron's amplifier), fixed when the chip is first programmed so that the largest weight sits 10 %
inside the device window.

Training noise (science.md §2.5 step 1) is injected where the chosen ``noise_model`` puts it: ``"weight"`` multiplies
every weight by ``1 + σ n``; ``"conductance"`` multiplies every *conductance* the weight maps to by ``1 + σ n``, which
is what a relative conductance error does on the chip (with one device against a reference, the weight error then
scales with G, not with |w|).

Conductance error at inference: after program-and-verify each device's conductance relaxes by a factor
``1 + e (√ρ a + √(1 − ρ) b)``, ``a`` fixed per device (its own systematic drift), ``b`` drawn afresh at every
programming, ``ρ = error_persistence`` (placeholder — calibrate). Retraining (science.md §2.5 step 5) reads the
relaxed chip back, fine-tunes the weights in software through the measured per-device factors, and reprograms the
devices whose new target they miss; the persistent part of the error is then compensated, the fresh part is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from ..cells import Cell, make_cell
from ..data.patterns import PatternTask, pattern_samples
from ..devices.base import DeviceModel, DeviceState
from ..runner.seeds import stream
from ..tiles.programming import VerifyConfig, program_and_verify

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


def layer_cells(kind: str, device: DeviceModel, weights: list[torch.Tensor]) -> list[Cell]:
    """One cell per layer, its gain set so that the layer's largest weight sits 10 % inside the window."""
    return [make_cell(kind, device, w_max=max(float(w.detach().abs().max()), 1e-12) / 0.9) for w in weights]


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


@dataclass
class Chip:
    """A programmed network: devices, their layer cells, programmed targets and the persistent error draws."""

    device: DeviceModel
    cells: list[Cell]
    shapes: list[torch.Size]
    state: DeviceState
    targets_s: torch.Tensor
    persistent: torch.Tensor
    generator: torch.Generator

    def weights(self) -> list[torch.Tensor]:
        """The weights the chip computes with now (its conductances through the layer cells)."""
        parts = self.split(self.device.conductance(self.state))
        return [cell.weight(part).float() for cell, part in zip(self.cells, parts, strict=True)]

    def copy(self) -> Chip:
        """An independent copy (the state tensors are never changed in place; the generator is cloned)."""
        generator = torch.Generator().set_state(self.generator.get_state())
        return Chip(
            self.device, self.cells, self.shapes, self.state, self.targets_s, self.persistent, generator
        )

    def split(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer views ``(devices_per_weight, *shape)`` of a flat per-device tensor."""
        result, start = [], 0
        for cell, shape in zip(self.cells, self.shapes, strict=True):
            n = cell.devices_per_weight * shape.numel()
            result.append(flat[start : start + n].reshape(cell.devices_per_weight, *shape))
            start += n
        return result


def _targets(cells: list[Cell], weights: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(
        [c.target_conductances(w.double()).reshape(-1) for c, w in zip(cells, weights, strict=True)]
    )


def drift(chip: Chip, error: float, persistence: float) -> None:
    """Conductance error after programming: each device drifts by ``1 + e (√ρ a + √(1 − ρ) b)``."""
    if error == 0:
        return
    g = chip.device.conductance(chip.state)
    fresh = torch.randn(g.shape, generator=chip.generator, dtype=g.dtype)
    factor = 1 + error * (persistence**0.5 * chip.persistent + (1 - persistence) ** 0.5 * fresh)
    chip.state = chip.device.set_conductance(chip.state, g * factor.clamp(min=0.0))


def program_chip(
    device: DeviceModel, weights: list[torch.Tensor], *, cell_kind: str, verify: VerifyConfig, seed: int
) -> tuple[Chip, dict[str, float]]:
    """Program fresh devices to ``weights`` by program-and-verify (no drift yet: see :func:`drift`)."""
    g = stream(seed, "programming")
    cells = layer_cells(cell_kind, device, weights)
    targets = _targets(cells, weights)
    state = device.init_state((len(targets),), g)
    state, report = program_and_verify(device, state, targets, verify, g)
    persistent = torch.randn(len(targets), generator=g, dtype=targets.dtype)
    return Chip(device, cells, [w.shape for w in weights], state, targets, persistent, g), report.summary()


def retrain_chip(
    chip: Chip,
    weights: list[torch.Tensor],
    *,
    verify: VerifyConfig,
    conductance_error: float,
    error_persistence: float,
    train: dict,
) -> dict[str, float]:
    """Chip-in-the-loop retraining: read the drifted conductances, fine-tune through them, reprogram, drift again.

    ``train`` holds the keyword arguments of :func:`train_weights` (data, epochs, noise). Returns the cost of the
    read-back and of reprogramming (every device is read; only those off their new target are pulsed).
    """
    read = chip.device.read(chip.state, chip.generator)
    factors = [f.float() for f in chip.split(read / chip.targets_s)]
    tuned = train_weights(init=weights, cells=chip.cells, factors=factors, **train)
    # the fine-tuned targets already absorb each device's measured drift: program them as they are
    targets = _targets(chip.cells, tuned)
    chip.state, report = program_and_verify(chip.device, chip.state, targets, verify, chip.generator)
    chip.targets_s = targets
    drift(chip, conductance_error, error_persistence)
    cost = report.summary()
    readback_time = len(read) * verify.read_time_s
    read_v = chip.device.pulse_scheme.read_voltage_v
    cost["time_s"] += readback_time
    cost["energy_j"] += float((read_v**2 * read * verify.read_time_s).sum())
    return cost
