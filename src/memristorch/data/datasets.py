"""Data sets, found offline through one setting.

Where data lives: the ``data_dir`` argument (CLI ``--data-dir``), else the environment variable
``MEMRISTORCH_DATA``. Inside it MNIST is ``mnist/`` and Fashion-MNIST ``fashion-mnist/``, each holding the four
standard ``*-idx?-ubyte.gz`` files; CIFAR-10 is ``cifar10-jpeg/{train,test}.zip`` (JPEG entries
``<split>/<class>/NNNN.jpg``, the layout of ``../shared/data``), decoded once with Pillow and cached as ``.npy`` under
``MEMRISTORCH_CACHE`` (default ``~/.cache/memristorch``). Fashion-MNIST is also looked up where Debian's
``dataset-fashion-mnist`` package installs it. scikit-learn's 8×8 digits ship with scikit-learn and need nothing.
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
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
CACHE_ENV = "MEMRISTORCH_CACHE"
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_WHERE_TO_GET = {
    "mnist": "the repository's ../shared/data/mnist (set MEMRISTORCH_DATA=../shared/data), or the four IDX files "
    "from LeCun's MNIST page placed in <data dir>/mnist/",
    "cifar10": "the repository's ../shared/data/cifar10-jpeg (set MEMRISTORCH_DATA=../shared/data): train.zip and "
    "test.zip of 32×32 JPEGs",
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


def cache_dir(name: str) -> Path:
    """Where decoded arrays of data set ``name`` are cached: ``$MEMRISTORCH_CACHE/<name>`` (default ~/.cache)."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "memristorch")).expanduser() / name


def missing_data(name: str, folder: Path | None, where_to_get: str) -> FileNotFoundError:
    """The one error for a data set that is not where the data setting points."""
    looked = str(folder) if folder is not None else f"nowhere (neither --data-dir nor {DATA_ENV} is set)"
    return FileNotFoundError(f"data set {name!r} not found; looked in {looked}. Get it from {where_to_get}.")


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


def _decode_cifar_zip(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import io
    import zipfile

    from PIL import Image

    images, labels = [], []
    with zipfile.ZipFile(path) as archive:
        for entry in sorted(archive.namelist()):
            if not entry.endswith(".jpg"):
                continue
            label = CIFAR10_CLASSES.index(entry.split("/")[-2])
            with Image.open(io.BytesIO(archive.read(entry))) as image:
                images.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _load_cifar10(explicit) -> Dataset:
    root = data_dir(explicit)
    folder = root / "cifar10-jpeg" if root is not None else None
    if folder is None or not all((folder / f"{s}.zip").is_file() for s in ("train", "test")):
        raise missing_data("cifar10", folder, _WHERE_TO_GET["cifar10"])
    cache = cache_dir("cifar10-jpeg")
    splits = {}
    for split in ("train", "test"):
        zip_path = folder / f"{split}.zip"
        stamp = f"{zip_path.stat().st_size}"
        images_file, labels_file = cache / f"{split}-{stamp}-x.npy", cache / f"{split}-{stamp}-y.npy"
        if images_file.is_file() and labels_file.is_file():
            x, y = np.load(images_file), np.load(labels_file)
        else:
            x, y = _decode_cifar_zip(zip_path)
            cache.mkdir(parents=True, exist_ok=True)
            np.save(images_file, x)
            np.save(labels_file, y)
        # the zips are sorted by class: a fixed shuffle makes subsets and mini-batch order class-balanced
        order = np.random.default_rng(0).permutation(len(y))
        # (N, 32, 32, 3) uint8 → channels first, flattened, in [0, 1]
        flat = x[order].transpose(0, 3, 1, 2).reshape(len(x), -1).astype(np.float32) / 255.0
        splits[split] = Split(torch.from_numpy(flat), torch.from_numpy(y[order]))
    return Dataset("cifar10", splits["train"], splits["test"], (3, 32, 32))


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load ``digits`` (bundled), ``mnist``, ``fashion-mnist`` (IDX files) or ``cifar10`` (see the module docstring)."""
    if name == "digits":
        return _load_digits()
    if name == "cifar10":
        return _load_cifar10(data_dir)
    if name in ("mnist", "fashion-mnist"):
        return _load_idx(name, data_dir)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
