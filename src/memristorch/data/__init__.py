"""Offline data loaders."""

from .datasets import DATA_ENV, DATASETS, Dataset, Split, data_dir, load_dataset
from .idx import read_idx

__all__ = ["DATA_ENV", "DATASETS", "Dataset", "Split", "data_dir", "load_dataset", "read_idx"]
