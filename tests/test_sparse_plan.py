"""The compiled sparse planner gives exactly the dense planner's pulses, draws and programming time."""

from __future__ import annotations

import numba
import pytest
import torch

import memristorch as mt
from memristorch.cells import _plan_kernel
from memristorch.cells.cells import make_cell
from memristorch.devices.presets import get_device
from memristorch.tiles import AnalogTile

SHAPES = [(256, 784), (10, 128), (16, 1, 5, 5), (7, 33), (300, 301)]


def dense_reference(cell, delta, generator, alpha):
    counts = cell.plan_pulses(delta, generator, alpha).reshape(-1)
    index = torch.nonzero(counts).squeeze(1)
    return index, counts.take(index)


@pytest.mark.parametrize("kind", ["differential", "single"])
@pytest.mark.parametrize(
    "rounding,cap", [("stochastic", None), ("nearest", None), ("stochastic", 3), ("nearest", 2)]
)
@pytest.mark.parametrize("shape", SHAPES)
def test_sparse_plan_equals_the_dense_plan_bit_for_bit(kind, rounding, cap, shape):
    cell = make_cell(kind, get_device("soft-bounds"), rounding=rounding, max_pulses=cap)
    delta = torch.randn(shape, generator=torch.Generator().manual_seed(1)) * 3 * cell.weight_per_pulse
    dense_gen, sparse_gen = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    index, counts = dense_reference(cell, delta, dense_gen, -0.7)
    plan = cell.plan_sparse(delta, sparse_gen, -0.7)
    assert index.numel() > 0.1 * delta.numel()  # a plan with many pulses, not a vacuous match
    assert torch.equal(plan.weight_index, index) and torch.equal(plan.counts, counts)
    assert torch.equal(dense_gen.get_state(), sparse_gen.get_state())  # the same draws, in the same order
    weights = delta.numel()
    for p, sign in enumerate(cell.pulse_signs):  # every device plane: its own devices, its own sign
        n = index.numel()
        assert torch.equal(plan.device_index[p * n : (p + 1) * n], index + p * weights)
        assert torch.equal(plan.pulses[p * n : (p + 1) * n], sign * counts)
    rows = index // (weights // shape[0])
    set_max = torch.zeros(shape[0]).scatter_reduce_(0, rows, counts.clamp(min=0), "amax")
    reset_max = torch.zeros(shape[0]).scatter_reduce_(0, rows, (-counts).clamp(min=0), "amax")
    assert torch.equal(plan.row_set, set_max) and torch.equal(plan.row_reset, reset_max)


def test_sparse_plan_skips_a_zero_change_even_with_negative_zeros():
    cell = make_cell("differential", get_device("linear"), rounding="nearest")
    delta = torch.full((4, 6), -0.0)
    delta[2, 3] = 2 * cell.weight_per_pulse
    plan = cell.plan_sparse(delta, None, 1.0)
    assert plan.weight_index.tolist() == [15] and plan.counts.tolist() == [2.0]


@pytest.mark.parametrize(
    "delta,cell_kwargs",
    [
        (torch.randn(40, 30, dtype=torch.float64) * 0.05, {}),  # float64: the dense path
        (torch.randn(300) * 0.05, {}),  # one dimension: the dense path
        (torch.randn(40, 30) * 0.05, {"dither": "independent"}),  # one draw per weight: the dense path
    ],
)
def test_plans_the_compiled_planner_leaves_to_the_dense_one_match_it(delta, cell_kwargs):
    cell = make_cell("differential", get_device("linear"), **cell_kwargs)
    dense_gen, sparse_gen = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    index, counts = dense_reference(cell, delta, dense_gen, 1.0)
    plan = cell.plan_sparse(delta, sparse_gen, 1.0)
    assert index.numel() > 0
    assert torch.equal(plan.weight_index, index) and torch.equal(plan.counts, counts)
    assert plan.row_set is None and torch.equal(plan.device_index[index.numel() :], index + delta.numel())


def test_sparse_plan_does_not_depend_on_the_thread_count():
    cell = make_cell("differential", get_device("soft-bounds"))
    delta = torch.randn(512, 400, generator=torch.Generator().manual_seed(2)) * cell.weight_per_pulse
    assert delta.numel() > _plan_kernel.SERIAL_UP_TO  # the parallel kernels run
    plans = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            plans.append(cell.plan_sparse(delta, torch.Generator().manual_seed(9), 1.0))
        finally:
            torch.set_num_threads(previous)
    assert all(torch.equal(a, b) for a, b in zip(plans[0][:6], plans[1][:6], strict=True))
    assert plans[0].largest == plans[1].largest and plans[0].non_finite == plans[1].non_finite == 0


@pytest.mark.parametrize("scheme", ["row", "parallel"])
def test_programming_time_from_the_planner_row_maxima_equals_the_scatter_form(scheme):
    config = mt.TileConfig(device="linear", cell="differential", write_scheme=scheme)
    tile = AnalogTile((64, 48), config)
    delta = torch.randn(64, 48, generator=torch.Generator().manual_seed(4)) * 4 * tile.cell.weight_per_pulse
    plan = tile.cell.plan_sparse(delta, torch.Generator().manual_seed(0), 1.0)
    without_maxima = plan._replace(row_set=None, row_reset=None)
    compiled, scattered = tile._programming_time(plan), tile._programming_time(without_maxima)
    assert plan.counts.abs().max() > 1  # rows with different longest counts
    assert float(compiled) == float(scattered) > 0


def test_serial_and_parallel_kernels_are_cached_apart():
    """numba's disk cache is keyed by a function's name and line, not by its options: the two builds of one kernel
    must carry different names, or the serial one may load the parallel code (and start a thread pool)."""
    from memristorch.devices import _pulsed_kernel

    for serial, parallel in (
        (_plan_kernel._plan_serial, _plan_kernel._plan_parallel),
        (_pulsed_kernel._pulse_serial, _pulsed_kernel._pulse_parallel),
    ):
        assert not serial.targetoptions.get("parallel") and parallel.targetoptions["parallel"]
        assert serial._cache._cache_file._index_name != parallel._cache._cache_file._index_name
