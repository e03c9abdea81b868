"""The compiled pulse commit of generic pulsed devices against the generic (torch) commit step it replaces."""

from __future__ import annotations

import numba
import pytest
import torch

from memristorch.devices import _pulsed_kernel
from memristorch.devices.base import DeviceModel
from memristorch.devices.presets import get_device
from memristorch.tiles import AnalogTile, TileConfig

ULP = torch.finfo(torch.float32).eps  # one unit in the last place of a position near 1


def devices_and_pulses(preset: str, seed: int = 0, **overrides):
    device = get_device(preset, d2d_step_std=0.1, d2d_bounds_std=0.05, **overrides)
    generator = torch.Generator().manual_seed(seed)
    state = device.init_state((2, 300, 400), generator)
    state["u"] = torch.rand(state["u"].shape, generator=generator)
    index = torch.randperm(state["u"].numel(), generator=generator)[:20_000].sort().values
    pulses = torch.randint(1, 5, (20_000,), generator=generator).float()
    pulses *= torch.where(torch.rand(20_000, generator=generator) < 0.5, -1.0, 1.0)
    return device, state, index, pulses


def commit_both(device, state, index, pulses):
    """(compiled, generic) results: states, energies, conductances, write cycles, generator states."""
    results = []
    for commit in (device.pulse_at, lambda *a: DeviceModel.pulse_at(device, *a)):
        copy = {name: value.clone() for name, value in state.items()}
        cycles = torch.zeros(state["u"].shape, dtype=torch.int64)
        generator = torch.Generator().manual_seed(5)
        energy, conductance = commit(copy, index, pulses, generator, cycles)
        results.append((copy, float(energy), conductance, cycles, generator.get_state()))
    return results


@pytest.mark.parametrize("c2c", [0.0, 0.1])
def test_linear_commit_is_bit_identical_to_the_generic_one(c2c):
    device, state, index, pulses = devices_and_pulses("linear", c2c_std=c2c)
    (a, energy_a, g_a, cycles_a, gen_a), (b, energy_b, g_b, cycles_b, gen_b) = commit_both(
        device, state, index, pulses
    )
    assert not torch.equal(a["u"], state["u"])  # the devices moved
    assert all(torch.equal(a[name], b[name]) for name in state)
    assert torch.equal(g_a, g_b) and torch.equal(cycles_a, cycles_b) and torch.equal(gen_a, gen_b)
    assert int(cycles_a.sum()) == int(pulses.abs().sum())
    assert energy_a == pytest.approx(energy_b, rel=1e-6)  # float64 sum against torch's float32 dot


@pytest.mark.parametrize("c2c", [0.0, 0.1])
def test_soft_bounds_commit_agrees_with_the_generic_one_to_the_last_bits(c2c):
    device, state, index, pulses = devices_and_pulses("soft-bounds", c2c_std=c2c)
    (a, energy_a, g_a, cycles_a, gen_a), (b, energy_b, g_b, cycles_b, gen_b) = commit_both(
        device, state, index, pulses
    )
    moved = (a["u"] - state["u"]).abs().reshape(-1).take(index)
    assert float(moved.min()) > 0  # every pulsed device moved, by far more than the tolerance below
    difference = (a["u"] - b["u"]).abs()
    assert float(difference.max()) <= 2 * ULP  # positions in [0, 1]: at most two units in the last place
    assert float((difference > 0).float().mean()) < 0.01  # and only a few differ at all
    assert all(torch.equal(a[name], b[name]) for name in state if name != "u")
    torch.testing.assert_close(g_a, g_b, rtol=0, atol=2 * ULP * device.g_max_s)
    assert torch.equal(cycles_a, cycles_b) and torch.equal(gen_a, gen_b)
    assert energy_a == pytest.approx(energy_b, rel=1e-6)


def test_commit_with_unequal_set_and_reset_voltages_books_each_pulse_at_its_own_voltage():
    device, state, index, pulses = devices_and_pulses("linear", set_voltage_v=1.5, reset_voltage_v=0.8)
    (_, energy_a, *_), (_, energy_b, *_) = commit_both(device, state, index, pulses)
    assert energy_a == pytest.approx(energy_b, rel=1e-6)
    same_voltage, *_ = devices_and_pulses("linear", set_voltage_v=1.5, reset_voltage_v=1.5)
    (_, energy_same, *_), _ = commit_both(same_voltage, state, index, pulses)
    assert energy_same > 1.3 * energy_a  # the RESET share is booked at 0.8 V, not at 1.5 V


def test_commit_does_not_depend_on_the_thread_count():
    device, state, index, pulses = devices_and_pulses("soft-bounds", c2c_std=0.1)
    assert index.numel() > 2 * _pulsed_kernel.BLOCK  # several blocks: the parallel kernel runs
    outcomes = []
    for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            copy = {name: value.clone() for name, value in state.items()}
            energy, g = device.pulse_at(copy, index, pulses, torch.Generator().manual_seed(1))
            outcomes.append((copy["u"], float(energy), g))
        finally:
            torch.set_num_threads(previous)
    (u1, e1, g1), (u2, e2, g2) = outcomes
    assert torch.equal(u1, u2) and e1 == e2 and torch.equal(g1, g2)


@pytest.mark.parametrize("preset", ["soft-bounds", "linear"])
def test_a_tile_update_moves_only_the_pulsed_devices_of_its_device_major_state(preset):
    tile = AnalogTile((30, 20), TileConfig(device=preset, cell="differential"))
    tile.state["u"].fill_(
        0.5
    )  # the fields are views of the tile's buffer: both devices of a weight mid-window
    assert float(tile.device_state.select(-1, tile._groups[0][1].index("u")).min()) == 0.5
    before = {name: value.clone() for name, value in tile.state.items()}
    delta = torch.zeros(30, 20)
    delta[3, 4], delta[29, 19] = 5 * tile.cell.weight_per_pulse, -2 * tile.cell.weight_per_pulse
    assert tile.update(delta) == 2
    changed = tile.state["u"] != before["u"]
    assert changed.sum() == 4 and bool(changed[:, 3, 4].all()) and bool(changed[:, 29, 19].all())
    assert (
        tile.state["u"][0, 3, 4] > 0.5 > tile.state["u"][1, 3, 4]
    )  # SET on the plus device, RESET on the minus
    assert tile.ledger.write_cycles[:, 3, 4].tolist() == [5, 5] and int(tile.ledger.write_cycles.sum()) == 14


def test_a_state_dict_saved_in_the_field_major_layout_loads_into_the_device_major_one():
    config = TileConfig(device="soft-bounds", cell="differential", seed=3)
    tile = AnalogTile((6, 5), config)
    tile.program(torch.randn(6, 5, generator=torch.Generator().manual_seed(0)) * 0.5)
    saved = tile.state_dict()
    names = tile._groups[0][1]
    # the old, field-major layout: (fields, 2, 6, 5)
    saved["device_state"] = torch.stack([tile.state[name] for name in names])
    saved["pulse_signs"] = torch.tensor([1.0, -1.0])  # a buffer earlier versions saved
    fresh = AnalogTile((6, 5), TileConfig(device="soft-bounds", cell="differential", seed=4))
    fresh.load_state_dict(saved)
    assert all(torch.equal(fresh.state[name], tile.state[name]) for name in names)
    assert torch.equal(fresh.effective_weight(), tile.effective_weight())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda index, pulses: index.__setitem__(7, 10**9),  # an index beyond the devices
        lambda index, pulses: index.__setitem__(3, -1),
        lambda index, pulses: pulses.__setitem__(5, float("nan")),
        lambda index, pulses: pulses.__setitem__(5, 1.5),  # not a whole count
        lambda index, pulses: pulses.__setitem__(5, 2.0**25),  # more than one update plans
    ],
    ids=["index-beyond", "index-negative", "count-nan", "count-fraction", "count-too-large"],
)
def test_the_compiled_commit_refuses_bad_input_before_it_draws_or_writes(spoil):
    device, state, index, pulses = devices_and_pulses("soft-bounds", c2c_std=0.1)
    index, pulses = index.clone(), pulses.clone()
    spoil(index, pulses)
    before = {name: value.clone() for name, value in state.items()}
    cycles = torch.zeros(state["u"].shape, dtype=torch.int64)
    generator = torch.Generator().manual_seed(5)
    stream = generator.get_state()
    with pytest.raises(ValueError, match="no device was changed"):
        device.pulse_at(state, index, pulses, generator, cycles)
    assert all(torch.equal(state[name], before[name]) for name in state)
    assert int(cycles.abs().sum()) == 0 and torch.equal(generator.get_state(), stream)
