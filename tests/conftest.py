import os

import pytest
import torch

from memristorch.data import load_dataset


def _missing(reason: str):
    """In CI (CI=true) a missing data set or tool fails the test loudly; elsewhere it skips."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs it: {reason}")
    pytest.skip(reason)


def require_dataset(name: str):
    try:
        return load_dataset(name)
    except FileNotFoundError as error:
        _missing(str(error))


def require_files(loader):
    """Call ``loader()`` (a data loader of memristorch.data); a FileNotFoundError is a missing data set."""
    try:
        return loader()
    except FileNotFoundError as error:
        _missing(str(error))


def require_ngspice() -> None:
    from memristorch.spice import ngspice_available
    from memristorch.spice.ngspice import NGSPICE_MISSING

    if not ngspice_available():
        _missing(NGSPICE_MISSING)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
