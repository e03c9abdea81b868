import gzip

import numpy as np
import pytest

from memristorch.data import load_dataset, read_idx
from memristorch.data.datasets import DATA_ENV
from tests.conftest import require_dataset


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path = tmp_path / "a-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())
    np.testing.assert_array_equal(read_idx(path), array)


def test_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big") + b"\x00" * 3)
    with pytest.raises(ValueError, match="promises"):
        read_idx(short)


def test_digits_ship_with_scikit_learn():
    data = load_dataset("digits")
    assert data.train.x.shape[1] == 64 and len(data.train) + len(data.test) == 1797
    assert 0.0 <= data.train.x.min() and data.train.x.max() <= 1.0


def test_mnist_from_data_dir():
    data = require_dataset("mnist")
    assert data.train.x.shape == (60000, 784) and data.test.x.shape == (10000, 784)
    assert data.train.x.mean().item() == pytest.approx(0.1307, abs=1e-3)
    assert data.train.y.bincount().min() > 5000


def test_fashion_mnist():
    data = require_dataset("fashion-mnist")
    assert data.train.x.shape == (60000, 784)
    assert data.test.y.bincount().tolist() == [1000] * 10


def test_missing_data_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnist"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_dataset("imagenet")
