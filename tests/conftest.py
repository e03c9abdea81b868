import os

import pytest
import torch

from memristorch.data import load_dataset


def require_dataset(name: str):
    """Load a data set; in CI (CI=true) a missing one fails the test loudly instead of skipping it."""
    try:
        return load_dataset(name)
    except FileNotFoundError as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs data set {name!r}: {error}")
        pytest.skip(str(error))


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
