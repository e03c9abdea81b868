"""Data sets, found offline through one setting.

Where data lives: the ``data_dir`` argument (CLI ``--data-dir``), else the environment variable
``MEMRISTORCH_DATA``. Inside it MNIST is ``mnist/`` and Fashion-MNIST ``fashion-mnist/``, each holding the four
standard ``*-idx?-ubyte.gz`` files. Fashion-MNIST is also looked up where Debian's ``dataset-fashion-mnist`` package
installs it. scikit-learn's 8×8 digits ship with scikit-learn and need nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .idx import read_idx

DATA_ENV = "MEMRISTORCH_DATA"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("digits", "mnist", "fashion-mnist")

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_WHERE_TO_GET = {
    "mnist": "the repository's ../shared/data/mnist (set MEMRISTORCH_DATA=../shared/data), or the four IDX files "
    "from LeCun's MNIST page placed in <data dir>/mnist/",
    "fashion-mnist": "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu, installs to "
    "/usr/share/datasets/fashion-mnist), or the four IDX files from zalandoresearch/fashion-mnist placed in "
    "<data dir>/fashion-mnist/",
}


@dataclass(frozen=True)
class Split:
    """Images flattened to float32 in [0, 1] and int64 labels."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    test: Split
    image_shape: tuple[int, ...]
    n_classes: int = 10

    @property
    def n_features(self) -> int:
        return int(np.prod(self.image_shape))


def data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The configured data folder (argument first, then ``MEMRISTORCH_DATA``), or None if neither is set."""
    value = explicit if explicit is not None else os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else None


def _idx_folder(name: str, explicit: str | os.PathLike | None) -> Path:
    root = data_dir(explicit)
    candidates = [root / name] if root is not None else []
    if name == "fashion-mnist":
        candidates.append(DEBIAN_FASHION_MNIST)
    for folder in candidates:
        if all((folder / f).is_file() for pair in _IDX_FILES.values() for f in pair):
            return folder
    looked = ", ".join(str(c) for c in candidates) or f"nowhere (neither --data-dir nor {DATA_ENV} is set)"
    raise FileNotFoundError(
        f"data set {name!r} not found; looked in {looked}. Get it from {_WHERE_TO_GET[name]}."
    )


def _load_idx(name: str, explicit) -> Dataset:
    folder = _idx_folder(name, explicit)
    splits = {}
    for split, (images, labels) in _IDX_FILES.items():
        x = read_idx(folder / images)
        y = read_idx(folder / labels)
        if len(x) != len(y):
            raise ValueError(f"{folder}: {split} images ({len(x)}) and labels ({len(y)}) differ in count")
        splits[split] = Split(
            torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0),
            torch.from_numpy(y.astype(np.int64)),
        )
    return Dataset(name, splits["train"], splits["test"], (1, 28, 28))


def _load_digits(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(bunch.data.astype(np.float32) / 16.0)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return Dataset("digits", Split(x[train], y[train]), Split(x[test], y[test]), (1, 8, 8))


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load ``digits`` (bundled), ``mnist`` or ``fashion-mnist`` (IDX files; see the module docstring)."""
    if name == "digits":
        return _load_digits()
    if name in ("mnist", "fashion-mnist"):
        return _load_idx(name, data_dir)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
