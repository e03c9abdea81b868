"""In-situ training of an MLP on simulated devices, beside the same MLP trained in float PyTorch.

Both networks start from identical weights (the in-situ one holds what the devices could store of them) and see the
same mini-batches. The in-situ network is trained by :class:`~memristorch.optim.InSituSGD`: every step becomes
pulses on the devices. Reported: test accuracy of both per epoch, and the pulses, write cycles, programming time and
energy the in-situ training took.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from .. import plots
from ..data import load_dataset
from ..devices import get_device
from ..ledger import summarize
from ..nn import convert, tiles
from ..optim import InSituSGD
from ..runner.progress import progress_bar
from ..runner.store import Results, save_checkpoint
from ..tiles import PeripheryConfig, TileConfig
from .evaluation import accuracy


class InSituMLPConfig(BaseModel):
    """Configuration of ``insitu-mlp``; defaults are the quick digits demo."""

    model_config = ConfigDict(extra="forbid")

    dataset: Literal["digits", "mnist", "fashion-mnist"] = "digits"
    data_dir: str | None = None
    hidden: list[int] = Field(default_factory=lambda: [128])
    epochs: int = Field(30, ge=1, le=1000)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(0.1, gt=0, description="learning rate of both the in-situ and the float network")
    device: str = "soft-bounds"
    device_overrides: dict[str, float | int | str] = Field(default_factory=dict)
    cell: Literal["single", "differential"] = "single"
    w_max: float = Field(1.0, gt=0)
    rounding: Literal["nearest", "stochastic"] = "stochastic"
    dither: Literal["rank1", "independent"] = "rank1"
    max_pulses: int | None = Field(None, ge=1)
    write_scheme: Literal["row", "parallel"] = "row"
    input_noise_std: float = Field(0.0, ge=0)
    dac_bits: int | None = Field(None, ge=2, le=24)
    adc_bits: int | None = Field(None, ge=2, le=24)
    train_subset: int | None = Field(None, ge=1, description="use only the first N training samples")
    seed: int = 0
    threads: int = Field(2, ge=1)

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
            seed=self.seed,
        )


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


def run(config: InSituMLPConfig, run_dir: Path | None = None, resume: bool = False) -> Results:
    """Train both networks; checkpoint after every epoch into ``run_dir`` and resume from it if asked."""
    torch.set_num_threads(config.threads)
    tile_config = config.tile_config()
    data = load_dataset(config.dataset, config.data_dir)
    x_train, y_train = data.train.x, data.train.y
    if config.train_subset is not None:
        x_train, y_train = x_train[: config.train_subset], y_train[: config.train_subset]

    torch.manual_seed(config.seed)
    float_model = build_mlp(data.n_features, config.hidden, data.n_classes)
    insitu_model = convert(float_model, tile_config)
    with torch.no_grad():  # the float twin starts from exactly what the devices hold
        for f, m in zip(float_model.parameters(), insitu_model.parameters(), strict=True):
            f.copy_(m)
    float_opt = torch.optim.SGD(float_model.parameters(), lr=config.lr)
    insitu_opt = InSituSGD(insitu_model.parameters(), lr=config.lr)
    order_generator = torch.Generator().manual_seed(config.seed)
    conductance_before = _all_conductances(insitu_model)

    history: list[dict[str, float]] = []
    start_epoch = 0
    elapsed_before = 0.0
    checkpoint = run_dir / "checkpoint.pt" if run_dir is not None else None
    if resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        insitu_model.load_state_dict(state["insitu_model"])
        float_model.load_state_dict(state["float_model"])
        insitu_opt.load_state_dict(state["insitu_opt"])
        float_opt.load_state_dict(state["float_opt"])
        order_generator.set_state(state["order_generator"])
        conductance_before = state["conductance_before"].numpy()
        history, start_epoch, elapsed_before = state["history"], state["epoch"], state["wall_time_s"]

    started = time.perf_counter()
    n_batches = (len(y_train) + config.batch_size - 1) // config.batch_size
    with progress_bar() as progress:
        task = progress.add_task("in-situ training", total=(config.epochs - start_epoch) * n_batches)
        for epoch in range(start_epoch, config.epochs):
            order = torch.randperm(len(y_train), generator=order_generator)
            loss_sum = 0.0
            for i in range(0, len(y_train), config.batch_size):
                index = order[i : i + config.batch_size]
                xb, yb = x_train[index], y_train[index]
                for model, opt in ((insitu_model, insitu_opt), (float_model, float_opt)):
                    opt.zero_grad(set_to_none=True)
                    loss = F.cross_entropy(model(xb), yb)
                    loss.backward()
                    opt.step()
                    if model is insitu_model:
                        loss_sum += float(loss.detach()) * len(index)
                progress.advance(task)
            ledger = summarize(insitu_model)
            history.append(
                {
                    "epoch": epoch + 1,
                    "insitu_test_accuracy": accuracy(insitu_model, data.test.x, data.test.y, batch=2048),
                    "float_test_accuracy": accuracy(float_model, data.test.x, data.test.y, batch=2048),
                    "insitu_train_loss": loss_sum / len(y_train),
                    "pulses": ledger["pulses"],
                    "energy_j": ledger["energy_j"],
                    "programming_time_s": ledger["time_s"],
                }
            )
            if checkpoint is not None:
                save_checkpoint(
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
                    checkpoint,
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
