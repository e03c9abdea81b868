"""In-situ training of an MLP on simulated devices, beside the same MLP trained in float PyTorch.

Both networks start from identical weights (the in-situ one holds what the devices could store of them) and see the
same mini-batches. The in-situ network is trained by :class:`~memristorch.optim.InSituSGD`: every step becomes
pulses on the devices. Reported: test accuracy of both per epoch, and the pulses, write cycles, programming time and
energy the in-situ training took.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from .. import plots
from ..data import load_dataset
from ..devices import get_device
from ..ledger import summarize
from ..nn import convert, tiles
from ..optim import InSituSGD
from ..runner.config import StudyConfig
from ..runner.progress import progress_bar
from ..runner.seeds import derive_seed, stream
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from ..runner.train import batches_per_epoch, train_epochs
from ..tiles import PeripheryConfig, TileConfig
from .evaluation import accuracy


class InSituMLPConfig(StudyConfig):
    """Configuration of ``insitu-mlp``; defaults are the quick digits demo."""

    dataset: Literal["digits", "mnist", "fashion-mnist"] = "digits"
    """Data set: sklearn digits (bundled), MNIST or Fashion-MNIST (from the data folder)."""
    data_dir: str | None = None
    """Data folder (else ``$MEMRISTORCH_DATA``)."""
    hidden: list[Width] = Field(default_factory=lambda: [128], max_length=16)
    """Hidden layer widths, input to output."""
    epochs: int = Field(30, ge=1, le=1000)
    """Training epochs of both networks."""
    batch_size: int = Field(16, ge=1, le=65536)
    """Samples per minibatch."""
    lr: float = Field(0.1, gt=0, le=1000)
    """Learning rate of both the in-situ and the float network."""
    device: str = "soft-bounds"
    """Device preset name, or a preset YAML file."""
    device_overrides: dict[str, float | int | str] = Field(default_factory=dict)
    """Fields of the preset's parameters to override, e.g. ``device_overrides.read_noise_rel=0.02``."""
    cell: Literal["single", "differential"] = "single"
    """One device against a reference, or a differential pair."""
    w_max: float = Field(1.0, gt=0, le=1e6)
    """Weight that maps onto the full conductance window."""
    rounding: Literal["nearest", "stochastic"] = "stochastic"
    """How a weight change is rounded to whole pulses."""
    dither: Literal["rank1", "independent"] = "rank1"
    """Random numbers of stochastic rounding: one per row and column (rank 1) or one per device."""
    max_pulses: int | None = Field(None, ge=1, le=1_000_000)
    """Cap on the pulses one device takes per update (none: no cap)."""
    write_scheme: Literal["row", "parallel"] = "row"
    """Programming time: rows one after another, or the whole array at once."""
    input_noise_std: float = Field(0.0, ge=0, le=100)
    """Gaussian noise added to every input of a read, relative to the input range."""
    dac_bits: int | None = Field(None, ge=2, le=24)
    """Input DAC resolution (none: ideal)."""
    adc_bits: int | None = Field(None, ge=2, le=24)
    """Output ADC resolution (none: ideal)."""
    train_subset: int | None = Field(None, ge=1, le=10_000_000)
    """Use only the first N training samples."""
    threads: int = Field(2, ge=1, le=256)
    """torch threads (does not change results)."""

    def tile_config(self) -> TileConfig:
        return TileConfig(
            device=get_device(self.device, **self.device_overrides),
            cell=self.cell,
            w_max=self.w_max,
            rounding=self.rounding,
            dither=self.dither,
            max_pulses=self.max_pulses,
            write_scheme=self.write_scheme,
            periphery=PeripheryConfig(
                input_noise_std=self.input_noise_std, dac_bits=self.dac_bits, adc_bits=self.adc_bits
            ),
            seed=derive_seed(self.seed, "tile") % (2**31),
        )


Width = Annotated[int, Field(ge=1, le=65536)]


def build_mlp(n_in: int, hidden: list[int], n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def _all_conductances(model: nn.Module) -> np.ndarray:
    return torch.cat([t.conductances().reshape(-1) for t in tiles(model)]).numpy()


def run(config: InSituMLPConfig, store: RunStore | None = None) -> Results:
    """Train both networks; checkpoint after every epoch into the run folder and resume from it if asked."""
    store = store_for(store, "insitu-mlp", config)
    torch.set_num_threads(config.threads)
    tile_config = config.tile_config()
    data = load_dataset(config.dataset, config.data_dir)
    x_train, y_train = data.train.x, data.train.y
    if config.train_subset is not None:
        x_train, y_train = x_train[: config.train_subset], y_train[: config.train_subset]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, "init"))
        float_model = build_mlp(data.n_features, config.hidden, data.n_classes)
    insitu_model = convert(float_model, tile_config)
    with torch.no_grad():  # the float twin starts from exactly what the devices hold
        for f, m in zip(float_model.parameters(), insitu_model.parameters(), strict=True):
            f.copy_(m)
    float_opt = torch.optim.SGD(float_model.parameters(), lr=config.lr)
    insitu_opt = InSituSGD(insitu_model.parameters(), lr=config.lr)
    order_generator = stream(config.seed, "batch-order")
    conductance_before = _all_conductances(insitu_model)

    history: list[dict[str, float]] = []
    start_epoch = 0
    elapsed_before = 0.0
    state = store.load("training")
    if state is not None:
        insitu_model.load_state_dict(state["insitu_model"])
        float_model.load_state_dict(state["float_model"])
        insitu_opt.load_state_dict(state["insitu_opt"])
        float_opt.load_state_dict(state["float_opt"])
        order_generator.set_state(state["order_generator"])
        conductance_before = state["conductance_before"].numpy()
        history, start_epoch, elapsed_before = state["history"], state["epoch"], state["wall_time_s"]

    started = time.perf_counter()

    def step(index: torch.Tensor) -> torch.Tensor:
        xb, yb = x_train[index], y_train[index]
        insitu_loss = torch.zeros((), dtype=torch.float64)
        for model, opt in ((insitu_model, insitu_opt), (float_model, float_opt)):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if model is insitu_model:
                insitu_loss = loss.detach().double() * len(index)
        return insitu_loss

    def after_epoch(epoch: int, mean_loss: float) -> None:
        ledger = summarize(insitu_model)
        history.append(
            {
                "epoch": epoch + 1,
                "insitu_test_accuracy": accuracy(insitu_model, data.test.x, data.test.y, batch=2048),
                "float_test_accuracy": accuracy(float_model, data.test.x, data.test.y, batch=2048),
                "insitu_train_loss": mean_loss,
                "pulses": ledger["pulses"],
                "energy_j": ledger["energy_j"],
                "programming_time_s": ledger["time_s"],
            }
        )
        store.save(
            "training",
            {
                "insitu_model": insitu_model.state_dict(),
                "float_model": float_model.state_dict(),
                "insitu_opt": insitu_opt.state_dict(),
                "float_opt": float_opt.state_dict(),
                "order_generator": order_generator.get_state(),
                "conductance_before": torch.from_numpy(conductance_before),
                "history": history,
                "epoch": epoch + 1,
                "wall_time_s": elapsed_before + time.perf_counter() - started,
            },
        )

    n_batches = batches_per_epoch(len(y_train), config.batch_size)
    with progress_bar() as progress:
        task = progress.add_task("in-situ training", total=(config.epochs - start_epoch) * n_batches)
        train_epochs(
            step,
            len(y_train),
            epochs=config.epochs,
            batch_size=config.batch_size,
            generator=order_generator,
            start_epoch=start_epoch,
            after_batch=lambda: progress.advance(task),
            after_epoch=after_epoch,
        )

    wall = elapsed_before + time.perf_counter() - started
    ledger = summarize(insitu_model)
    final = history[-1]
    summary = {
        "dataset": config.dataset,
        "device": config.device,
        "test_accuracy": final["insitu_test_accuracy"],
        "float_test_accuracy": final["float_test_accuracy"],
        "pulses": ledger["pulses"],
        "max_write_cycles": ledger["max_write_cycles"],
        "mean_write_cycles": ledger["mean_write_cycles"],
        "devices": ledger["devices"],
        "energy_j": ledger["energy_j"],
        "time_s": ledger["time_s"],
        "wall_time_s": wall,
        "epochs": config.epochs,
    }
    device = tile_config.device
    conductance_after = _all_conductances(insitu_model)
    figures = {
        "accuracy_per_epoch": plots.accuracy_per_epoch(
            history,
            {"insitu_test_accuracy": f"in situ ({config.device})", "float_test_accuracy": "float PyTorch"},
        ),
        "conductance_histogram": plots.conductance_histograms(
            conductance_before, conductance_after, device.g_min_s * 0.8, device.g_max_s * 1.2
        ),
    }
    return Results(summary=summary, tables={"history": history}, figures=figures)
