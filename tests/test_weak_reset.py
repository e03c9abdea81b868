"""Weak-RESET HfOx RRAM model: published statistics, RTN occupancy, 1/f slope, quirks and input checks."""

import math

import pytest
import torch

from memristorch.devices.weak_reset import WeakResetRRAM, pink_filter
from memristorch.experiments import get_experiment
from memristorch.experiments.weakreset_stats import REFERENCE
from memristorch.runner import load_config

DEVICES = 100_000


@pytest.fixture(scope="module")
def stats():
    spec = get_experiment("weakreset-stats")
    return spec.run(load_config(spec.config, overrides={"devices": DEVICES})).summary


def test_medians_match_the_published_table_within_3_percent(stats):
    for pulses, (median_r, q1, q3, median_ln) in REFERENCE.items():
        assert stats["median_r_ohm"][str(pulses)] == pytest.approx(median_r, rel=0.03)
        # The table rounds ln(R/R0) to 3 decimals (±5e-4); a sample median of n devices scatters by
        # 1.2533·σ/√n, with σ of ln R from the table's own quartiles (IQR = 1.349 σ): allow 3 of those.
        sigma_ln = math.log(q3 / q1) / 1.349
        sampling = 3 * 1.2533 * sigma_ln / math.sqrt(DEVICES)
        assert stats["median_ln_r_over_r0"][str(pulses)] == pytest.approx(
            median_ln, rel=0.03, abs=5e-4 + sampling
        )


def test_rtn_occupancy_and_pink_slope(stats):
    assert stats["rtn_high_occupancy"] == pytest.approx(0.286, abs=0.01)
    assert -1.3 <= stats["pink_spectrum_slope"] <= -0.7
    assert stats["pink_mean_offset_ln_r"]["faithful"] == pytest.approx(
        0.025 * float(pink_filter(15).sum()) / 2, rel=0.05
    )
    assert abs(stats["pink_mean_offset_ln_r"]["clean"]) < 2e-3


def test_pink_filter_coefficients():
    assert pink_filter(4).tolist() == [1.0, 0.5, 0.375, 0.3125]


def test_updates_are_pure_and_unpulsed_devices_stay_put():
    g = torch.Generator().manual_seed(0)
    clean = WeakResetRRAM()
    state = clean.init_state((1000,), g)
    pulses = torch.zeros(1000, dtype=torch.int64)
    pulses[:500] = 3
    for _ in range(200):  # let RTN reach its high state somewhere
        state = clean.apply_pulses(state, torch.full((1000,), 5, dtype=torch.int64), g)
    snapshot = {k: v.clone() for k, v in state.items()}
    new = clean.apply_pulses(state, pulses, g)
    for key, value in state.items():
        assert torch.equal(value, snapshot[key]), key  # the input state is never modified
    r_old, r_new = clean.resistance(state), clean.resistance(new)
    assert torch.equal(r_old[500:], r_new[500:])  # clean: no pulse, no change
    assert torch.equal(new["t"][:500], state["t"][:500] + 3)
    faithful = WeakResetRRAM(faithful=True)
    moved = faithful.apply_pulses(state, pulses, g)
    high = state["rtn_high"][500:]
    assert high.any()
    changed = moved["rtn_offset"][500:] != state["rtn_offset"][500:]
    assert changed[high].all() and not changed[~high].any()  # faithful: high-state offsets redrawn anyway


@pytest.mark.parametrize("faithful", [False, True])
def test_random_numbers_are_drawn_for_the_pulsed_devices_alone(faithful):
    device = WeakResetRRAM(faithful=faithful)
    g = torch.Generator().manual_seed(1)
    state = device.init_state((2000,), g)
    for _ in range(100):
        state = device.apply_pulses(state, torch.full((2000,), 4), g)
    pulses = torch.zeros(2000, dtype=torch.int64)
    pulses[::7] = torch.arange(len(pulses[::7])) % 19 + 1  # 1 in 7 devices, 1 to 19 pulses
    moving = pulses > 0
    if faithful:
        moving |= state["rtn_high"]  # the reference model's quirk: high-state devices redraw anyway
    start = g.get_state()
    full = device.apply_pulses(state, pulses, g)
    # the same generator state, only the devices that can change: the very same draws land on them
    g.set_state(start)
    sub = {k: v[moving] for k, v in state.items()}
    alone = device.apply_pulses(sub, pulses[moving], g)
    for key in full:
        assert torch.equal(full[key][moving], alone[key]), key
        assert torch.equal(full[key][~moving], state[key][~moving]), key  # nothing else moved


def test_without_d2d_every_device_is_the_median_device():
    device = WeakResetRRAM(d2d=False, rtn=False, pink=False)
    state = device.init_state((50,), torch.Generator().manual_seed(0))
    r = device.resistance(state)
    assert torch.all(r == r[0])
    state = device.apply_pulses(state, torch.full((50,), 100), torch.Generator())
    assert torch.all(device.resistance(state) > r)  # weak RESET only raises R


def test_bad_pulses_raise_and_change_nothing():
    device = WeakResetRRAM()
    state = device.init_state((4,), torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="pulses must be ≥ 0"):
        device.apply_pulses(state, torch.tensor([1, -1, 0, 0]))
    with pytest.raises(ValueError, match="whole numbers"):
        device.apply_pulses(state, torch.tensor([1.5, 0, 0, 0]))
    with pytest.raises(ValueError, match="shape"):
        device.apply_pulses(state, torch.zeros(3))
    with pytest.raises(ValueError, match="p_low_to_high"):
        WeakResetRRAM(p_low_to_high=1.5)


def test_without_d2d_every_device_takes_the_truncated_medians_the_docstring_quotes():
    from memristorch.devices import weak_reset

    state = WeakResetRRAM(d2d=False).init_state((3,), torch.Generator().manual_seed(0))
    quoted = {"m1": "4.924e-4", "t_star": "515.1", "c1": "5.192e-3", "m2": "1.971e-5", "r0": "6996.8"}
    doc = " ".join(weak_reset.__doc__.split())
    for name, text in quoted.items():
        assert torch.all(state[name] == state[name][0])
        assert float(state[name][0]) == pytest.approx(float(text), rel=5e-4), name
        assert text in doc, name
    # and these are the centres of the D2D draws: the median of many drawn devices
    drawn = WeakResetRRAM(d2d=True).init_state((200_000,), torch.Generator().manual_seed(0))
    for name in ("t_star", "r0"):
        assert float(drawn[name].median()) == pytest.approx(float(state[name][0]), rel=0.01), name
