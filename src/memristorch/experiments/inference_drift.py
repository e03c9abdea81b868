"""``inference-drift``: accuracy of a programmed network from 1 s to 10 years after programming.

A small CNN (or an MLP) is trained twice — plainly in float, and hardware-aware (float master weights, Gaussian weight noise of
``training_weight_noise`` × the layer's largest |weight| injected in every training forward pass) — then each is written (ideal write)
into tiles of ``device`` in ``cell`` pairs with each drift model in ``drifts`` and read at every time in ``times``,
without and with global drift compensation, over ``repeats`` chips (fresh per-device drift draws and read noise).
The study asks: how fast does accuracy fall for a drifting device, and how much of the loss do hardware-aware
training and drift compensation each win back. Drift defaults are placeholders (``tiles.drift``): the shape of the
curves, not their time axis, is the result until they are calibrated.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import nn

from .. import plots
from ..data import load_dataset
from ..devices import get_device
from ..ledger import summarize
from ..nn import convert, evaluate_over_time
from ..runner.config import StudyConfig
from ..runner.seeds import derive_seed, stream
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from ..runner.train import train_minibatches
from ..tiles import PeripheryConfig, TileConfig, make_drift, parse_duration
from .bnn_common import Width, trained_model
from .evaluation import accuracy

TRAININGS = ("plain", "hardware-aware")
Seconds = Annotated[float, Field(ge=0, le=1e12)]
"""A read time in seconds (up to ~30,000 years)."""


class InferenceDriftConfig(StudyConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist", "cifar10"] = "cifar10"
    data_dir: str | None = None
    architecture: Literal["mlp", "cnn"] = Field(
        "cnn",
        description="cnn: conv3×3 channels[0]-pool-channels[1]-pool, then the hidden FC layers; mlp: FC only",
    )
    channels: list[Width] = Field(default_factory=lambda: [16, 32], min_length=1, max_length=4)
    hidden: list[Width] = Field(default_factory=lambda: [128], min_length=1, max_length=8)
    epochs: int = Field(3, ge=1, le=1000)
    batch_size: int = Field(128, ge=1, le=65536)
    lr: float = Field(1e-3, gt=0, le=10, description="Adam learning rate")
    train_subset: int | None = Field(20000, ge=1, le=10_000_000)
    test_subset: int | None = Field(2000, ge=1, le=10_000_000)
    device: str = Field("soft-bounds", description="device preset of every tile")
    cell: Literal["single", "differential"] = Field(
        "differential",
        description="differential pairs: drift of both devices shrinks the weight, not offsets it",
    )
    weight_range: Literal["config", "per-layer"] = Field(
        "per-layer",
        description="per-layer: each layer's largest |weight| fills the window; config: w_max for all",
    )
    w_max: float = Field(
        1.0, gt=0, le=1e3, description="weight mapped to the full window (weight_range=config)"
    )
    drifts: list[Literal["power-law", "relaxation", "zero-bias"]] = Field(
        default_factory=lambda: ["power-law", "relaxation"], min_length=1
    )
    training_weight_noise: float = Field(
        0.05,
        ge=0,
        le=1,
        description="hardware-aware training: weight-noise std over the layer's largest |weight|",
    )
    times: list[Seconds | str] = Field(
        default_factory=lambda: ["1s", "1min", "1h", "1d", "1w", "30d", "1y", "10y"],
        min_length=1,
        max_length=64,
        description='read times after programming: seconds, or a number with a unit ("1h", "1d", "10y")',
    )
    repeats: int = Field(3, ge=1, le=100, description="chips (fresh drift draws and read noise) per point")
    threads: int = Field(2, ge=1, le=256)

    @field_validator("times")
    @classmethod
    def _times_parse(cls, times: list) -> list:
        for t in times:
            parse_duration(t)  # raises naming the allowed units
        return times

    @field_validator("device")
    @classmethod
    def _device_exists(cls, name: str) -> str:
        get_device(name)
        return name


def _network(config: InferenceDriftConfig, data) -> nn.Sequential:
    """The float network of the study: an MLP, or a small CNN (3×3 convs, each followed by ReLU and 2×2 pooling)."""
    torch.manual_seed(derive_seed(config.seed, "init"))
    layers: list[nn.Module] = []
    width = data.n_features
    if config.architecture == "cnn":
        if len(data.image_shape) != 3:
            raise ValueError(f"architecture 'cnn' needs images with channels, got shape {data.image_shape}")
        channels, size = data.image_shape[0], data.image_shape[1]
        layers.append(nn.Unflatten(1, tuple(data.image_shape)))
        for c in config.channels:
            layers += [nn.Conv2d(channels, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels, size = c, size // 2
        layers.append(nn.Flatten())
        width = channels * size * size
    for h in config.hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, data.n_classes))


def _train(model: nn.Module, x, y, config: InferenceDriftConfig, purpose: str) -> list[float]:
    return train_minibatches(
        model,
        torch.optim.Adam(model.parameters(), lr=config.lr),
        lambda index: F.cross_entropy(model(x[index]), y[index]),
        len(y),
        epochs=config.epochs,
        batch_size=config.batch_size,
        generator=stream(config.seed, "training", TRAININGS.index(purpose)),
    )


def _tile_config(config: InferenceDriftConfig, seed_purpose: str, **fields) -> TileConfig:
    return TileConfig(
        device=config.device,
        cell=config.cell,
        w_max=config.w_max,
        seed=derive_seed(config.seed, seed_purpose),
        **fields,
    )


def train_networks(config: InferenceDriftConfig, store: RunStore, data, x, y) -> dict[str, nn.Module]:
    """The float network and the hardware-aware one (trained through noisy memristive layers, then as float)."""
    networks = {}
    plain, _ = trained_model(
        store,
        "plain",
        lambda: _network(config, data),
        lambda m: _train(m, x, y, config, "plain"),
    )
    networks["plain"] = plain
    noisy = _tile_config(config, "hardware-aware-tiles", training_weight_noise=config.training_weight_noise)

    def build_aware():
        return convert(_network(config, data), noisy)

    aware, _ = trained_model(
        store, "hardware-aware", build_aware, lambda m: _train(m, x, y, config, "hardware-aware")
    )
    # its float master weights, as an ordinary network to program like the plain one
    float_aware = _network(config, data)
    float_aware.load_state_dict(
        {k: v for k, v in aware.state_dict().items() if k in float_aware.state_dict()}
    )
    networks["hardware-aware"] = float_aware
    return networks


def _read_cost(config: InferenceDriftConfig, network: nn.Module, x_test: torch.Tensor) -> dict[str, float]:
    """Energy and latency per inference of the programmed network (ledger read booking; placeholder periphery
    costs, see ``tiles.PeripheryConfig``), from one pass over the test inputs. The latency is that of every
    matrix-vector product (one per output position of a convolution) run one after another on its array."""
    booked = _tile_config(config, "read-cost", periphery=PeripheryConfig(book_reads=True))
    chip = convert(network, booked, weight_range=config.weight_range)
    with torch.no_grad():
        chip.eval()(x_test)
    ledger = summarize(chip)
    n = len(x_test)
    return {
        "array_energy_per_inference_j": ledger["read_energy_j"] / n,
        "converter_energy_per_inference_j": ledger["converter_energy_j"] / n,
        "mvms_per_inference": ledger["mvms"] / n,
        "latency_per_inference_s": ledger["read_time_s"] / n,
    }


def run(config: InferenceDriftConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "inference-drift", config)
    torch.set_num_threads(config.threads)
    seconds = [parse_duration(t) for t in config.times]
    data = load_dataset(config.dataset, config.data_dir)
    x, y = data.train.x, data.train.y
    if config.train_subset is not None:
        x, y = x[: config.train_subset], y[: config.train_subset]
    x_test, y_test = data.test.x, data.test.y
    if config.test_subset is not None:
        x_test, y_test = x_test[: config.test_subset], y_test[: config.test_subset]
    networks = train_networks(config, store, data, x, y)

    rows, summary, curves, errors = [], {}, {}, {}
    for drift_name in config.drifts:
        drift = make_drift(drift_name)
        entry = {}
        for training, network in networks.items():
            float_accuracy = accuracy(network, x_test, y_test)
            tile_config = _tile_config(config, f"tiles-{drift_name}", drift=drift)
            chip = convert(network, tile_config, weight_range=config.weight_range)
            for compensate in (False, True):
                label = f"{training}{', compensated' if compensate else ''}"
                result = evaluate_over_time(
                    chip,
                    x_test,
                    y_test,
                    seconds,
                    repeats=config.repeats,
                    compensate=compensate,
                    seed=derive_seed(config.seed, "chips", config.drifts.index(drift_name)),
                )
                entry[label.replace(", ", "/")] = {
                    "float_accuracy": float_accuracy,
                    "accuracy_mean": result.mean,
                    "accuracy_std": result.std,
                }
                curves[f"{drift_name}: {label}"] = result.mean
                errors[f"{drift_name}: {label}"] = result.std
                for t, m, s, t_label in zip(seconds, result.mean, result.std, config.times, strict=True):
                    rows.append(
                        {
                            "drift": drift_name,
                            "training": training,
                            "compensated": compensate,
                            "time": str(t_label),
                            "time_s": t,
                            "accuracy": m,
                            "accuracy_std": s,
                            "n": result.n,
                            "float_accuracy": float_accuracy,
                        }
                    )
        summary[drift_name] = entry
    summary["times_s"] = seconds
    summary["repeats"] = config.repeats
    summary["read_cost"] = _read_cost(config, networks["plain"], x_test)
    figure = plots.sweep_xy(
        seconds,
        curves,
        "time since programming (s)",
        f"test accuracy (mean ± std, n = {config.repeats} chips)",
        log_x=True,
        errors=errors,
        styles={k: {"linestyle": "--"} for k in curves if "compensated" in k},
    )
    return Results(
        summary=summary, tables={"accuracy_over_time": rows}, figures={"accuracy_over_time": figure}
    )
