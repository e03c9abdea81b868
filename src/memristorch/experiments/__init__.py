"""Experiments: one module per study, each a typed config and a function returning a results table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from . import insitu_mlp, onchip_3x3


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    config: type[BaseModel]
    run: Callable


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            "insitu-mlp",
            "In-situ SGD of an MLP on simulated devices beside float PyTorch (digits, MNIST, Fashion-MNIST)",
            insitu_mlp.InSituMLPConfig,
            insitu_mlp.run,
        ),
        Experiment(
            "onchip-3x3",
            "On-chip learning with Knowm M-SDC memristors on 3×3 patterns: materials, reset vs no reset, noise sweeps",
            onchip_3x3.OnChip3x3Config,
            onchip_3x3.run,
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(sorted(EXPERIMENTS))}; got {name!r}")
    return EXPERIMENTS[name]
