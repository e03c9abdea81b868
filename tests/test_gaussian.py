"""The compiled ziggurat behind read noise (``memristorch._gaussian``): standard normal in distribution, keyed by
the caller's generator alone, and the same values whatever the thread count."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import torch
from scipy import stats

from memristorch import _gaussian
from memristorch._gaussian import BLOCK, standard_normal

N = 2_000_000


@pytest.fixture(scope="module")
def draws() -> np.ndarray:
    return standard_normal((N,), torch.Generator().manual_seed(1), torch.float64).numpy()


def test_the_ziggurat_is_compiled_here():
    assert _gaussian.AVAILABLE  # numba is a dependency: without it the fallback would be what gets tested


def test_moments_are_those_of_a_standard_normal(draws):
    se = 1 / math.sqrt(N)
    assert abs(draws.mean()) < 5 * se
    assert abs(draws.var() - 1) < 5 * math.sqrt(2) * se
    assert abs(stats.skew(draws)) < 5 * math.sqrt(6) * se
    assert abs(stats.kurtosis(draws)) < 5 * math.sqrt(24) * se


def test_kolmogorov_smirnov_accepts_the_standard_normal_and_rejects_a_near_miss(draws):
    assert stats.kstest(draws, "norm").pvalue > 1e-3
    assert stats.kstest(draws, "norm", args=(0.0, 1.01)).pvalue < 1e-6  # the test can see a 1 % error in σ


@pytest.mark.parametrize("edge", [1.0, 2.0, 3.0, 3.4426, 4.0, 4.5])
def test_tail_shares_match_the_normal_beyond_every_edge(draws, edge):
    """Beyond R = 3.4426 the values come from the separate tail algorithm; below it from rectangles and wedges."""
    expected = 2 * stats.norm.sf(edge)
    observed = float((np.abs(draws) > edge).mean())
    assert abs(observed - expected) < 5 * math.sqrt(expected / N) + 1e-7, (observed, expected)


def test_the_values_fill_every_layer_and_both_signs(draws):
    counts, _ = np.histogram(draws, bins=np.linspace(-5, 5, 201))
    expected = N * np.diff(stats.norm.cdf(np.linspace(-5, 5, 201)))
    big = expected > 1000
    assert np.all(np.abs(counts[big] - expected[big]) < 6 * np.sqrt(expected[big]))


def test_same_generator_state_same_bits_and_one_draw_consumed():
    a, b = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    x = standard_normal((3, 5000), a)
    assert torch.equal(x, standard_normal((3, 5000), b))
    reference = torch.Generator().manual_seed(7)
    torch.randint(0, 2**63 - 1, (1,), generator=reference)
    assert torch.equal(a.get_state(), reference.get_state())  # the call advanced it by exactly one draw
    assert not torch.equal(x, standard_normal((3, 5000), a))  # the next call gets new values


def test_the_values_do_not_depend_on_the_thread_count():
    shape = (7 * BLOCK + 13,)  # several blocks and a partial one: the parallel path
    values = {}
    for threads in (1, 2):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            values[threads] = standard_normal(shape, torch.Generator().manual_seed(3))
        finally:
            torch.set_num_threads(previous)
    assert torch.equal(values[1], values[2])
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # the caller's numba setting is restored


def test_a_prefix_of_the_blocks_is_the_same_for_any_length():
    short = standard_normal((BLOCK + 5,), torch.Generator().manual_seed(4))
    long = standard_normal((5 * BLOCK,), torch.Generator().manual_seed(4))
    assert torch.equal(short[:BLOCK], long[:BLOCK])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_shape_and_empty(dtype):
    x = standard_normal((4, 0, 3), torch.Generator().manual_seed(0), dtype)
    assert x.shape == (4, 0, 3) and x.dtype == dtype
    y = standard_normal((2, 3), torch.Generator().manual_seed(0), dtype)
    assert y.shape == (2, 3) and y.dtype == dtype and bool(torch.isfinite(y).all())


def test_other_devices_and_dtypes_fall_back_to_torch():
    g = torch.Generator().manual_seed(0)
    half = standard_normal((10,), g, torch.float16)
    assert half.dtype == torch.float16
    with torch.device("meta"):
        assert standard_normal((4,), None).device.type == "meta"
