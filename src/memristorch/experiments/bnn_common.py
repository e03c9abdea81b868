"""Shared pieces of the BNN/TNN studies: the MLP, its training loop, and evaluation through a bit-error channel.

The network follows the BNN MLPs of the 2T2R and metaplasticity studies (Hirtzlin et al., Front. Neurosci. 2020;
Laborieux et al., Nat. Commun. 2021): quantized linear →
batch-norm → sign, repeated, then a quantized output layer with batch-norm; Adam on the hidden weights (clipped to
[−1, 1] as in BinaryConnect) and on the batch-norm parameters; the first layer takes real pixels or stochastic
bit-planes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ..cells.bit_errors import BitErrorChannel
from ..data import Split, load_dataset
from ..nn.binary import (
    BinaryConv2d,
    BinaryLinear,
    SignActivation,
    TernaryConv2d,
    TernaryLinear,
    clear_stored_weights,
    clip_hidden_weights,
    set_training_errors,
    store_weights,
)
from ..nn.stochastic import StochasticBits
from ..runner.config import StudyConfig
from ..runner.seeds import derive_seed, stream
from ..runner.stats import mean_std
from ..runner.store import RunStore
from ..runner.train import batches_per_epoch, train_minibatches
from .evaluation import accuracy

Width = Annotated[int, Field(ge=1, le=65536)]
"""A layer width (neurons or channels)."""
DatasetName = Literal["digits", "mnist", "fashion-mnist", "cifar10"]


class BNNTraining(StudyConfig):
    """Training settings shared by the BNN experiments (CPU-sized defaults; the papers train longer)."""

    dataset: DatasetName = "fashion-mnist"
    """Data set (digits is bundled; the others come from the data folder)."""
    data_dir: str | None = None
    """Data folder (else ``$MEMRISTORCH_DATA``)."""
    hidden: list[Width] = Field(default_factory=lambda: [1024, 1024], min_length=1, max_length=16)
    """Hidden layer widths of the MLP."""
    epochs: int = Field(5, ge=1, le=1000)
    """Training epochs."""
    batch_size: int = Field(100, ge=2, le=65536)
    """Samples per minibatch (batch-norm needs at least two)."""
    lr: float = Field(0.005, gt=0, le=10)
    """Adam learning rate (Laborieux et al. 2021 use 0.005)."""
    train_subset: int | None = Field(None, ge=2, le=10_000_000)
    """Use only the first N training samples."""
    test_subset: int | None = Field(None, ge=1, le=10_000_000)
    """Evaluate on the first N test samples only."""
    threads: int = Field(2, ge=1, le=256)
    """torch threads (does not change results)."""
    architecture: Literal["auto", "mlp", "conv"] = "auto"
    """auto: the conv BNN for cifar10, the MLP (``hidden``) otherwise."""
    conv_channels: list[Width] = Field(
        default_factory=lambda: [32, 32, 64, 64, 128, 128], min_length=1, max_length=16
    )
    """3×3 conv widths, 2×2 max-pool after every second (the VGG-like BNN of Hirtzlin et al. 2020 at reduced width)."""
    conv_fc: list[Width] = Field(default_factory=lambda: [256], max_length=8)
    """Hidden fully connected widths after the convolutions."""

    def uses_conv(self) -> bool:
        return self.architecture == "conv" or (self.architecture == "auto" and self.dataset == "cifar10")


def build_bnn(
    n_in: int,
    hidden: list[int],
    n_out: int,
    weights: Literal["binary", "ternary"] = "binary",
    stochastic_k: int | None = None,
    stochastic_adapted: bool = True,
    stochastic_input: bool = False,
    delta: float = 0.7,
    hidden_clip: float | None = 1.0,
    seed: int = 0,
    linear_layer: Callable[[int, int], nn.Module] | None = None,
) -> nn.Sequential:
    """The BNN (or TNN) MLP; with ``stochastic_k`` the first layer takes that many random bit-planes per pixel.

    ``stochastic_input=True`` with ``stochastic_k=None`` puts a :class:`StochasticBits` in real-input mode first (the
    input 2x − 1), so that the same network can later be tested on bit-planes by setting its ``k``.
    ``linear_layer(n_in, n_out)``, when given, builds every weight layer instead (e.g. device-backed binary layers).
    """
    if not hidden:
        raise ValueError("hidden must list at least one layer width")
    torch.manual_seed(derive_seed(seed, "init"))
    layers: list[nn.Module] = []
    if stochastic_k is not None or stochastic_input:
        bits_seed = derive_seed(seed, "stochastic-bits")
        layers.append(StochasticBits(stochastic_k, adapted=stochastic_adapted, seed=bits_seed))

    def linear(a: int, b: int) -> nn.Module:
        if linear_layer is not None:
            return linear_layer(a, b)
        if weights == "binary":
            return BinaryLinear(a, b, hidden_clip=hidden_clip)
        if weights == "ternary":
            return TernaryLinear(a, b, hidden_clip=hidden_clip, delta=delta)
        raise ValueError(f"weights must be 'binary' or 'ternary', got {weights!r}")

    width = n_in
    for h in hidden:
        layers += [linear(width, h), nn.BatchNorm1d(h), SignActivation()]
        width = h
    layers += [linear(width, n_out), nn.BatchNorm1d(n_out)]
    return nn.Sequential(*layers)


def build_conv_bnn(
    image_shape: tuple[int, ...],
    channels: list[int],
    fc: list[int],
    n_out: int,
    weights: Literal["binary", "ternary"] = "binary",
    stochastic_k: int | None = None,
    stochastic_adapted: bool = True,
    stochastic_input: bool = False,
    delta: float = 0.7,
    hidden_clip: float | None = 1.0,
    seed: int = 0,
    linear_layer: Callable[[int, int], nn.Module] | None = None,
    conv_layer: Callable[[int, int], nn.Module] | None = None,
) -> nn.Sequential:
    """VGG-like conv BNN on flattened images: [conv3×3 → (pool) → BN → sign]×n, then FC blocks and a BN'd output.

    A 2×2 max-pool follows every second conv (before its batch-norm, the usual BNN order); the first conv takes the
    real (or stochastic-bit) image. Defaults follow the VGG-like BNN of Majumdar et al. (IEEE TED 2021) at reduced
    width. ``conv_layer(c_in, c_out)`` (a 3×3 convolution with padding 1) and ``linear_layer(n_in, n_out)``, when
    given, build the weight layers instead (e.g. device-backed binary layers).
    """
    if not channels:
        raise ValueError("conv_channels must list at least one conv width")
    torch.manual_seed(derive_seed(seed, "init"))
    layers: list[nn.Module] = []
    if stochastic_k is not None or stochastic_input:
        bits_seed = derive_seed(seed, "stochastic-bits")
        layers.append(StochasticBits(stochastic_k, adapted=stochastic_adapted, seed=bits_seed))
    layers.append(nn.Unflatten(1, tuple(image_shape)))
    extra = {} if weights == "binary" else {"delta": delta}
    if conv_layer is None:
        conv_type = BinaryConv2d if weights == "binary" else TernaryConv2d

        def conv_layer(a: int, b: int) -> nn.Module:
            return conv_type(a, b, 3, padding=1, hidden_clip=hidden_clip, **extra)

    if linear_layer is None:
        linear_type = BinaryLinear if weights == "binary" else TernaryLinear

        def linear_layer(a: int, b: int) -> nn.Module:
            return linear_type(a, b, hidden_clip=hidden_clip, **extra)

    in_ch, size = image_shape[0], image_shape[1]
    for i, out_ch in enumerate(channels):
        layers.append(conv_layer(in_ch, out_ch))
        if i % 2 == 1 and size >= 2:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        layers += [nn.BatchNorm2d(out_ch), SignActivation()]
        in_ch = out_ch
    layers.append(nn.Flatten())
    width = in_ch * size * size
    for h in fc:
        layers += [linear_layer(width, h), nn.BatchNorm1d(h), SignActivation()]
        width = h
    layers += [linear_layer(width, n_out), nn.BatchNorm1d(n_out)]
    return nn.Sequential(*layers)


def build_network(settings: BNNTraining, data, **kwargs) -> nn.Sequential:
    """The MLP or the conv BNN, as ``settings.architecture`` and the data set ask; ``kwargs`` go to the builder."""
    seed = kwargs.pop("seed", settings.seed)
    if settings.uses_conv():
        if len(data.image_shape) != 3:
            raise ValueError(f"the conv BNN needs images with channels, got shape {data.image_shape}")
        return build_conv_bnn(
            data.image_shape, settings.conv_channels, settings.conv_fc, data.n_classes, seed=seed, **kwargs
        )
    kwargs.pop("conv_layer", None)  # the MLP has no convolutions
    return build_bnn(data.n_features, settings.hidden, data.n_classes, seed=seed, **kwargs)


def train_bnn(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: BNNTraining,
    training_errors: BitErrorChannel | None = None,
    progress=None,
    task=None,
) -> list[float]:
    """Adam with hidden-weight clipping; ``training_errors`` makes it error-aware. Returns the loss per epoch."""
    generator = stream(settings.seed, "training")
    set_training_errors(model, training_errors, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs)
    losses = train_minibatches(
        model,
        optimizer,
        lambda index: F.cross_entropy(model(x[index]), y[index]),
        len(y),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        generator=generator,
        min_batch=2,
        scheduler=scheduler,
        after_step=lambda: clip_hidden_weights(model),
        after_batch=(lambda: progress.advance(task)) if progress is not None else None,
    )
    set_training_errors(model, None)
    return losses


def steps_per_training(n_samples: int, settings: BNNTraining) -> int:
    return settings.epochs * batches_per_epoch(n_samples, settings.batch_size, min_batch=2)


def accuracy_under_errors(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    channel: BitErrorChannel | None,
    draws: int,
    seed: int,
) -> tuple[float, float]:
    """Mean and std of test accuracy over ``draws`` chips, each programmed once through ``channel``."""
    if channel is None or channel.is_identity:
        value = accuracy(model, x, y)
        return value, 0.0
    generator = stream(seed, "chips")
    values = []
    for _ in range(draws):
        store_weights(model, channel, generator)
        values.append(accuracy(model, x, y))
    clear_stored_weights(model)
    return mean_std(values)


def load_split(settings: BNNTraining):
    data = load_dataset(settings.dataset, settings.data_dir)
    x_train, y_train = data.train.x, data.train.y
    if settings.train_subset is not None:
        x_train, y_train = x_train[: settings.train_subset], y_train[: settings.train_subset]
    if settings.test_subset is not None:
        test = Split(data.test.x[: settings.test_subset], data.test.y[: settings.test_subset])
        data = dataclasses.replace(data, test=test)
    return data, x_train, y_train


def tolerated_ber(bers: list[float], accuracies: list[float], baseline: float, drop: float) -> float:
    """Largest BER before accuracy falls ``drop`` (fraction) below ``baseline``, interpolated in log BER.

    Returns the last BER of the sweep if accuracy never falls that far (a lower bound), and 0 if even the smallest
    nonzero BER does.
    """
    level = baseline - drop
    points = [(b, a) for b, a in zip(bers, accuracies, strict=True) if b > 0]
    if not points:
        raise ValueError("the BER sweep needs at least one nonzero BER")
    previous_b, previous_a = None, baseline
    for b, a in points:
        if a < level:
            if previous_b is None:
                return 0.0
            t = (previous_a - level) / (previous_a - a)
            return float(math.exp(math.log(previous_b) + t * (math.log(b) - math.log(previous_b))))
        previous_b, previous_a = b, a
    return float(points[-1][0])


def replicate_seed(config: StudyConfig, replicate: int) -> int:
    """The seed of replicate ``replicate`` of a study with base seed ``config.seed`` (a named stream, no offsets)."""
    return derive_seed(config.seed, "replicate", replicate)


def trained_model(
    store: RunStore,
    key: str,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], list[float]],
) -> tuple[nn.Module, list[float]]:
    """Build and train a model, checkpointed as ``key`` in the run's store; a resumed run loads it instead.

    This is the checkpoint of the BNN studies: an interrupted run restarts at the first model it had not finished
    (the store refuses to resume a run whose config changed, so a saved model always belongs to this config).
    """
    model = build()
    state = store.load(key)
    if state is not None:
        model.load_state_dict(state["model"])
        model.eval()
        return model, list(state["losses"])
    losses = train(model)
    store.save(key, {"model": model.state_dict(), "losses": losses})
    return model, losses
