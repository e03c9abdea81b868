"""The compiled XNOR-popcount kernels equal their NumPy reference bit for bit, and PackedBNN validates its inputs."""

import numba
import numpy as np
import pytest
import torch
from torch import nn

from memristorch.nn import popcount
from memristorch.nn.binary import BinaryLinear, SignActivation
from memristorch.nn.packed import PackedBNN


def _words(rng, rows, bits):
    """Random packed rows of ``bits`` ±1 values, padding bits zero as the packer leaves them."""
    return popcount.pack_signs_numpy(rng.random((rows, bits)) < 0.5)


def test_numba_is_installed_so_the_compiled_path_is_what_users_get():
    assert popcount.AVAILABLE


@pytest.mark.parametrize("bits", [1, 63, 64, 65, 200, 1024])
@pytest.mark.parametrize("masked", [False, True])
def test_mismatch_kernel_equals_the_numpy_reference(bits, masked):
    rng = np.random.default_rng(bits)
    x, w = _words(rng, 37, bits), _words(rng, 71, bits)
    mask = _words(rng, 71, bits) if masked else None
    reference = popcount.mismatches_numpy(x, w, mask)
    w_t = np.ascontiguousarray(w.T)
    mask_t = None if mask is None else np.ascontiguousarray(mask.T)
    got = popcount.mismatches(x, w_t, mask_t, threads=2)
    assert got.dtype == np.int32 and np.array_equal(got, reference)
    # and the reference against the definition, one pair at a time
    xs, ws = (
        np.unpackbits(x.view(np.uint8), axis=1, bitorder="little"),
        np.unpackbits(w.view(np.uint8), axis=1, bitorder="little"),
    )
    diff = xs[:, None, :] != ws[None, :, :]
    if mask is not None:
        diff &= np.unpackbits(mask.view(np.uint8), axis=1, bitorder="little")[None, :, :].astype(bool)
    assert np.array_equal(reference, diff.sum(axis=2))


@pytest.mark.parametrize("n_out", [1, 64, 130])
def test_threshold_kernel_packs_the_comparison_of_each_output(n_out):
    rng = np.random.default_rng(n_out)
    bits = 150
    x, w = _words(rng, 23, bits), _words(rng, n_out, bits)
    nonzeros = np.full(n_out, bits, dtype=np.int64)
    direction = rng.choice([-1, 1], size=n_out).astype(np.int64)
    threshold = rng.integers(-bits - 1, bits + 2, size=n_out).astype(np.int64)
    a = nonzeros[None, :] - 2 * popcount.mismatches_numpy(x, w)
    expected = popcount.pack_signs_numpy(direction[None, :] * a >= threshold[None, :])
    got = popcount.threshold_layer(x, np.ascontiguousarray(w.T), None, nonzeros, direction, threshold, 2)
    assert np.array_equal(got, expected)


def test_compiled_sign_packing_equals_numpy_and_maps_zero_to_plus_one():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((19, 131)).astype(np.float32)
    values[0, :5] = [0.0, -0.0, 1e-30, -1e-30, 2.0]
    got = popcount.pack_signs(values, 2)
    assert np.array_equal(got, popcount.pack_signs_numpy(values))
    assert int(got[0, 0]) & 0b11111 == 0b10111


def test_kernels_restore_numba_thread_count():
    numba.set_num_threads(1)
    try:
        x = _words(np.random.default_rng(0), 8, 64)
        popcount.mismatches(x, np.ascontiguousarray(x.T), None, threads=2)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def _small_bnn():
    torch.manual_seed(0)
    return nn.Sequential(
        BinaryLinear(20, 16, binarize_input=True), nn.BatchNorm1d(16), SignActivation(), BinaryLinear(16, 3)
    ).eval()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"threads": 0}, ValueError, "threads must be an integer >= 1, got 0"),
        ({"threads": 1.5}, ValueError, "threads must be an integer >= 1, got 1.5"),
        ({"threads": True}, ValueError, "threads must be an integer >= 1, got True"),
        ({"backend": "gpu"}, ValueError, "backend must be one of .*'gpu'"),
    ],
)
def test_packed_bnn_rejects_bad_settings_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        PackedBNN(_small_bnn(), **kwargs)


def test_packed_bnn_rejects_a_non_module_and_a_non_tensor_input():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        PackedBNN("model")
    packed = PackedBNN(_small_bnn())
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        packed(np.zeros((2, 20), dtype=np.float32))


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_packed_bnn_rejects_an_input_of_the_wrong_width(backend):
    packed = PackedBNN(_small_bnn(), backend=backend)
    for shape in ((4, 30), (4, 19), (20,)):
        with pytest.raises(ValueError, match="x must be a batch of 20 inputs per row"):
            packed(torch.rand(shape))


def test_kernels_refuse_words_that_do_not_match_the_weights():
    rng = np.random.default_rng(0)
    x, w = _words(rng, 5, 130), _words(rng, 7, 200)  # 3 words against 4
    with pytest.raises(ValueError, match="x must hold 4 packed words per row"):
        popcount.mismatches(x, np.ascontiguousarray(w.T), None, threads=1)
    with pytest.raises(ValueError, match="mask_t must be shaped like w_t"):
        popcount.mismatches(_words(rng, 5, 200), np.ascontiguousarray(w.T), np.zeros((1, 7), np.uint64), 1)


def test_auto_backend_falls_back_to_numpy_with_a_warning_when_numba_is_missing(monkeypatch):
    model = _small_bnn()
    x = torch.rand(5, 20) - 0.5
    with torch.no_grad():
        expected = model(x)
    monkeypatch.setattr(popcount, "AVAILABLE", False)
    with pytest.warns(RuntimeWarning, match="numba is not installed"):
        packed = PackedBNN(model)
    assert packed.backend == "numpy" and torch.equal(packed(x), expected)
    with pytest.raises(ImportError, match="backend='numba' needs numba"):
        PackedBNN(model, backend="numba")
