import dataclasses
import math
import pickle

import numpy as np
import pytest
import torch

from memristorch.devices import get_device
from memristorch.devices.mss import MSSDevice, MSSParams, sine_waveform


def hysteresis_area(device, frequency, cycles=2):
    """Area of the positive-voltage lobe of the last cycle (the two lobes turn opposite ways and would cancel)."""
    t, v = sine_waveform(0.5, frequency, cycles / frequency, 1 / (frequency * 2000))
    r = device.apply_waveform(device.init_state((1,)), t, v, record=True)
    start = 2000 * (cycles - 1)
    half = slice(start, start + 1001)  # V from 0 up to 0.5 V and back to 0
    i, vv = r.current_a[half, 0].numpy(), v[half].numpy()
    return abs(np.trapezoid(i, vv)), r, v


def test_pinched_hysteresis_that_shrinks_with_frequency():
    device = MSSDevice()
    areas = []
    for f in (1e3, 1e4, 1e5):
        area, r, v = hysteresis_area(device, f)
        areas.append(area)
        zero_crossings = torch.nonzero(v.abs() < 1e-12).squeeze(1)
        assert r.current_a[zero_crossings].abs().max() < 1e-15  # pinched: no current at 0 V
    # with τ = 0.1 ms the lobe is widest near 1 kHz and shrinks above (frequency dependence of a memristor's
    # pinched hysteresis; Molter & Nugent 2016 show it for the generalized MSS model)
    assert areas[0] > areas[1] > areas[2]
    assert areas[2] < 0.1 * areas[0]


def test_subthreshold_pulses_leave_the_state_alone():
    device = MSSDevice(set_voltage_v=0.1, reset_voltage_v=-0.1, pulse_width_s=10e-6, pulse_gap_s=0.0)
    state = device.set_conductance(
        device.init_state((3,)), torch.tensor([7e-4, 1e-3, 1.8e-3], dtype=torch.float64)
    )
    after = device.apply_pulses(state, torch.tensor([1.0, -1.0, 1.0]))
    assert (after["x"] - state["x"]).abs().max() < 1e-3


def test_strong_pulses_saturate_at_the_bounds_monotonically():
    device = MSSDevice()
    state = device.init_state((1,))
    g = [device.conductance(state).item()]
    for sign in [1.0] * 30 + [-1.0] * 30:
        state = device.apply_pulses(state, torch.tensor([sign]))
        g.append(device.conductance(state).item())
    up, down = np.diff(g[:31]), np.diff(g[30:])
    assert (up >= 0).all() and (down <= 0).all()
    # the 4 ms gaps at 0 V let the state creep toward 1/2 by ~1e-3 (retention of these parameters)
    assert g[30] == pytest.approx(1 / 500, rel=5e-3)
    assert g[-1] == pytest.approx(1 / 1500, rel=5e-3)


def test_pulse_train_closed_form_matches_waveform_integration():
    """n periods in closed form = the same square waveform stepped through apply_waveform; energy too."""
    device = MSSDevice(pulse_width_s=20e-6, pulse_gap_s=30e-6, set_voltage_v=0.4, reset_voltage_v=-0.4)
    state = device.set_conductance(device.init_state((2,)), torch.tensor([8e-4, 1.6e-3], dtype=torch.float64))
    pulses = torch.tensor([4.0, -3.0])
    closed = device.apply_pulses(state, pulses)
    energy = device.pulse_energy_j(state, pulses)
    for d in range(2):
        n, amp = int(abs(pulses[d])), (0.4 if pulses[d] > 0 else -0.4)
        pieces_t, pieces_v = [], []
        for k in range(n):
            t0 = k * 50e-6
            tp = torch.linspace(t0, t0 + 20e-6, 201, dtype=torch.float64)[:-1]
            tg = torch.linspace(t0 + 20e-6, t0 + 50e-6, 301, dtype=torch.float64)[:-1]
            pieces_t += [tp, tg]
            pieces_v += [torch.full_like(tp, amp), torch.zeros_like(tg)]
        t = torch.cat(pieces_t + [torch.tensor([n * 50e-6], dtype=torch.float64)])
        v = torch.cat(pieces_v + [torch.zeros(1, dtype=torch.float64)])
        # stepping uses each interval's midpoint voltage: _hold makes that the level of the interval (square pulses)
        single = {k: val[d : d + 1] for k, val in state.items()}
        stepped = device.apply_waveform(single, t, _hold(t, v))
        assert stepped.state["x"].item() == pytest.approx(closed["x"][d].item(), abs=2e-3)
        assert stepped.energy_j.item() == pytest.approx(energy[d].item(), rel=2e-2)


def _hold(t, v):
    """Sample values so that midpoint-rate stepping sees the level of each interval (zero-order hold)."""
    held = v.clone()
    held[1:] = v[:-1]
    return torch.maximum(held.abs(), v.abs()) * torch.sign(held + v)


def test_energy_is_joule_heating_for_a_fixed_state():
    """With switching frozen (huge τ), pulse energy is V² G w n."""
    device = MSSDevice(tau_s=1e9, pulse_width_s=1e-3, set_voltage_v=1.0)
    state = device.set_conductance(device.init_state((1,)), torch.tensor([1e-3], dtype=torch.float64))
    energy = device.pulse_energy_j(state, torch.tensor([5.0]))
    assert energy.item() == pytest.approx(1.0**2 * 1e-3 * 1e-3 * 5, rel=1e-4)


def test_d2d_lognormal_spread():
    device = MSSDevice(d2d_std=0.1)
    state = device.init_state((100_000,), torch.Generator().manual_seed(0))
    log_ratio = torch.log(state["tau_s"] / 1e-4)
    assert log_ratio.mean().item() == pytest.approx(0.0, abs=2e-3)
    assert log_ratio.std().item() == pytest.approx(0.1, rel=0.02)


def test_stochastic_switching_adds_spread_around_the_mean():
    mean_device = MSSDevice(pulse_width_s=10e-6, pulse_gap_s=0.0, set_voltage_v=0.4)
    noisy = MSSDevice(pulse_width_s=10e-6, pulse_gap_s=0.0, set_voltage_v=0.4, n_switches=1000)
    pulses = torch.full((20_000,), 5.0)
    mean_x = mean_device.apply_pulses(mean_device.init_state((20_000,)), pulses)["x"]
    noisy_x = noisy.apply_pulses(noisy.init_state((20_000,)), pulses, torch.Generator().manual_seed(1))["x"]
    assert noisy_x.mean().item() == pytest.approx(mean_x[0].item(), abs=3e-3)
    # binomial spread of N = 1000 switches: std ~ sqrt(x(1 − x)/N) at most
    assert 0.2 / math.sqrt(1000) < noisy_x.std().item() < 0.6 / math.sqrt(1000)
    # the planning figure is the mean-field step, the same on every call
    assert noisy.nominal_step_s == mean_device.nominal_step_s


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("r_on_ohm", {"r_on_ohm": 2000.0}),
        ("tau_s", {"tau_s": 0.0}),
        ("phi", {"phi": 1.5}),
        ("reset_voltage_v", {"reset_voltage_v": 1.0}),
        ("n_switches", {"n_switches": 0}),
        ("v_on_v", {"v_on_v": float("nan")}),
    ],
)
def test_invalid_parameters_name_the_field(field, kwargs):
    with pytest.raises(ValueError, match=field):
        MSSParams(**kwargs)


def test_bad_waveforms_are_rejected():
    device = MSSDevice()
    state = device.init_state((2,))
    with pytest.raises(ValueError, match="at least 2"):
        device.apply_waveform(state, torch.tensor([]), torch.tensor([]))
    with pytest.raises(ValueError, match="finite"):
        device.apply_waveform(state, torch.tensor([0.0, 1e-6]), torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="increasing"):
        device.apply_waveform(state, torch.tensor([0.0, 0.0]), torch.tensor([0.0, 0.1]))
    with pytest.raises(ValueError, match="samples"):
        device.apply_waveform(state, torch.tensor([0.0, 1e-6]), torch.tensor([0.0]))


def test_shared_waveform_fast_path_equals_general_loop():
    device = MSSDevice(d2d_std=0.2, phi=0.8, sfa_a=8e-4, sra_a=8e-4, sfb_per_v=4.0, srb_per_v=4.0)
    state = device.init_state((5,), torch.Generator().manual_seed(3))
    t, v = sine_waveform(0.6, 2e3, 1e-3, 1e-6)
    fast = device.apply_waveform(state, t, v, record=True)
    general = device.apply_waveform(state, t, v.unsqueeze(1).expand(-1, 5), record=True)  # per-device rows
    torch.testing.assert_close(fast.current_a, general.current_a, rtol=1e-9, atol=1e-15)
    torch.testing.assert_close(fast.energy_j, general.energy_j, rtol=1e-9, atol=0)
    torch.testing.assert_close(fast.state["x"], general.state["x"], rtol=1e-9, atol=1e-12)
    assert (fast.energy_j > 0).all()


@pytest.mark.parametrize("dtype, v_on", [("float64", 0.27), ("float32", 0.27), ("float32", 3.0)])
def test_factored_rates_match_the_logistic_form(dtype, v_on):
    """The fast path's factored rates (and its fallback where e^{V_on/V_T} overflows float32) equal the sigmoids."""
    device = MSSDevice(d2d_std=0.2, dtype=dtype, v_on_v=v_on, v_off_v=v_on, tau_s=1e-5)
    state = device.init_state((4,), torch.Generator().manual_seed(0))
    t, v = sine_waveform(1.5 * v_on + 0.2, 2e3, 1e-3, 1e-6)
    fast = device.apply_waveform(state, t, v, record=True)
    general = device.apply_waveform(state, t, v.unsqueeze(1).expand(-1, 4), record=True)
    tolerance = 1e-10 if dtype == "float64" else 2e-5
    torch.testing.assert_close(fast.x, general.x, rtol=0, atol=tolerance)
    assert float(general.x.max()) > 0.5 and torch.isfinite(fast.energy_j).all()


def test_float32_state_agrees_with_float64():
    t, v = sine_waveform(0.5, 1e3, 2e-3, 1e-6)
    results = [
        MSSDevice(dtype=d).apply_waveform(MSSDevice(dtype=d).init_state((1,)), t, v)
        for d in ("float64", "float32")
    ]
    assert results[1].state["x"].dtype == torch.float32
    assert results[1].state["x"].item() == pytest.approx(results[0].state["x"].item(), abs=1e-5)


def test_series_resistor_slows_switching_and_costs_source_energy():
    kw = {"pulse_width_s": 20e-6, "pulse_gap_s": 30e-6, "set_voltage_v": 0.6, "reset_voltage_v": -0.6}
    ideal = MSSDevice(**kw)
    tiny = MSSDevice(**kw, series_resistance_ohm=1e-6)
    behind = MSSDevice(**kw, series_resistance_ohm=1000.0)
    start = ideal.set_conductance(ideal.init_state((1,)), torch.tensor([8e-4], dtype=torch.float64))
    pulses = torch.tensor([3.0])
    # a vanishing resistor reproduces the closed form
    assert tiny.apply_pulses(start, pulses)["x"].item() == pytest.approx(
        ideal.apply_pulses(start, pulses)["x"].item(), abs=1e-6
    )
    assert tiny.pulse_energy_j(start, pulses).item() == pytest.approx(
        ideal.pulse_energy_j(start, pulses).item(), rel=1e-4
    )
    # 1 kΩ in series: the device sees less than the source, so it moves less per pulse
    moved_ideal = ideal.apply_pulses(start, pulses)["x"] - start["x"]
    moved_behind = behind.apply_pulses(start, pulses)["x"] - start["x"]
    assert 0 < moved_behind.item() < moved_ideal.item()
    # and the reset through the resistor still ends in HRS
    state, energy = behind.hold(start, -1.0, 0.2)
    assert state["x"].item() < 0.01 and energy.item() > 0


@pytest.mark.parametrize(
    "name, x_tol, energy_tol",
    [("knowm-cr", 1e-8, 1e-6), ("knowm-c", 1e-8, 1e-6), ("knowm-reference", 1e-7, 2e-4)],
)
def test_series_pulses_match_a_fine_integration(name, x_tol, energy_tol):
    """Adaptive sub-steps with Simpson energies against 1,024 sub-steps per pulse."""
    from memristorch.devices import get_device

    device = get_device(name, series_resistance_ohm=1000.0, d2d_std=0.1)
    fine = get_device(
        name, series_resistance_ohm=1000.0, d2d_std=0.1, series_substeps=1024, series_step_rate=1e-9
    )
    state = device.init_state((200,), torch.Generator().manual_seed(0))
    state = device.set_conductance(state, torch.linspace(device.g_min_s * 1.05, device.g_max_s * 0.95, 200))
    pulses = torch.where(torch.arange(200) % 2 == 0, 3.0, -3.0)
    (coarse_state, coarse_energy), (fine_state, fine_energy) = (
        d.pulse_with_energy(state, pulses) for d in (device, fine)
    )
    assert (coarse_state["x"] - fine_state["x"]).abs().max().item() < x_tol
    assert ((coarse_energy - fine_energy) / fine_energy).abs().max().item() < energy_tol


def test_diode_path_behind_a_series_resistor():
    """The divider with the diode path is solved, not refused: a vanishing resistor gives the closed form, and the
    device voltage satisfies V_d + R_s I(V_d) = V_s."""
    kw = dict(
        phi=0.8, sfa_a=8e-4, sra_a=8e-4, sfb_per_v=4.0, srb_per_v=4.0, pulse_width_s=10e-6, pulse_gap_s=10e-6
    )
    kw.update(set_voltage_v=0.5, reset_voltage_v=-0.5)
    free, tiny = MSSDevice(**kw), MSSDevice(**kw, series_resistance_ohm=1e-6)
    state = free.set_conductance(free.init_state((4,)), torch.tensor([7e-4, 1e-3, 1.3e-3, 1.9e-3]))
    pulses = torch.tensor([3.0, -3.0, 2.0, -1.0])
    (x_free, e_free), (x_tiny, e_tiny) = (d.pulse_with_energy(state, pulses) for d in (free, tiny))
    assert (x_free["x"] - x_tiny["x"]).abs().max().item() < 1e-10
    assert ((e_free - e_tiny) / e_free).abs().max().item() < 1e-6
    from memristorch.devices.mss import SeriesPath

    behind = MSSDevice(**kw, series_resistance_ohm=1000.0)
    path = SeriesPath(behind.params, state)
    v_source = torch.tensor([2.0, -2.0, 0.7, -0.3], dtype=torch.float64)
    v_device = path._device_voltage(state["x"], v_source)
    current = behind.current({**state}, v_device)
    torch.testing.assert_close(v_device + 1000.0 * current, v_source, rtol=0, atol=1e-12)
    torch.testing.assert_close(path.source_current(state["x"], v_source), current, rtol=1e-12, atol=0)


def test_stochastic_switching_behind_a_series_resistor():
    kw = {"pulse_width_s": 10e-6, "pulse_gap_s": 0.0, "set_voltage_v": 0.4, "n_switches": 1000}
    free = MSSDevice(**kw)
    tiny = MSSDevice(**kw, series_resistance_ohm=1e-6)
    behind = MSSDevice(**kw, series_resistance_ohm=1000.0)
    mean_behind = MSSDevice(**{**kw, "n_switches": None}, series_resistance_ohm=1000.0)
    n = 20_000
    pulses = torch.full((n,), 5.0)
    state = free.init_state((n,))
    free_x = free.apply_pulses(state, pulses, torch.Generator().manual_seed(1))["x"]
    tiny_x = tiny.apply_pulses(state, pulses, torch.Generator().manual_seed(2))["x"]
    # per-sub-step noise adds up to the per-pulse binomial spread: a vanishing resistor gives the same statistics
    assert tiny_x.mean().item() == pytest.approx(free_x.mean().item(), abs=2e-3)
    assert tiny_x.std().item() == pytest.approx(free_x.std().item(), rel=0.05)
    # behind 1 kΩ the noisy devices scatter around the mean-field trajectory, reproducibly for a seed
    after, energy = behind.pulse_with_energy(state, pulses, torch.Generator().manual_seed(3))
    again = behind.apply_pulses(state, pulses, torch.Generator().manual_seed(3))
    torch.testing.assert_close(after["x"], again["x"], rtol=0, atol=0)
    expected = mean_behind.apply_pulses(state, pulses)["x"][0].item()
    assert after["x"].mean().item() == pytest.approx(expected, abs=2e-3)
    assert 0.2 / math.sqrt(1000) < after["x"].std().item() < 0.6 / math.sqrt(1000)
    # energy of each noisy trajectory is close to the noise-free one
    noise_free = behind.pulse_energy_j({k: v[:1] for k, v in state.items()}, pulses[:1])
    assert energy.mean().item() == pytest.approx(noise_free.item(), rel=0.02)


def test_float32_devices_stay_float32_and_frozen_switching_is_finite():
    device = MSSDevice(dtype="float32", set_voltage_v=0.01, reset_voltage_v=-0.01, pulse_gap_s=0.0, tau_s=1e3)
    state = device.set_conductance(device.init_state((2,)), torch.tensor([1e-3, 1.5e-3]))
    pulses = torch.tensor([3.0, -2.0])
    after = device.apply_pulses(state, pulses)
    energy = device.pulse_energy_j(state, pulses)
    assert after["x"].dtype == torch.float32
    assert torch.isfinite(after["x"]).all() and torch.isfinite(energy).all()
    torch.testing.assert_close(after["x"], state["x"])  # 10 mV pulses on a 1000 s device: nothing moves
    expected = 0.01**2 * device.conductance(state).double() * device.params.pulse_width_s * pulses.abs()
    torch.testing.assert_close(energy.double(), expected, rtol=1e-4, atol=0)


def test_nominal_step_is_that_of_the_nominal_device_and_draws_no_random_number():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    spread = MSSDevice(d2d_std=0.3, n_switches=100).nominal_step_s
    assert torch.equal(torch.get_rng_state(), before)  # the global stream is untouched
    assert spread == MSSDevice().nominal_step_s  # not a random device's step


def test_mss_package_is_split_by_job_into_small_modules():
    from pathlib import Path

    import memristorch.devices.mss as package

    sizes = {f.name: len(f.read_text().splitlines()) for f in Path(package.__file__).parent.glob("*.py")}
    assert {
        "params.py",
        "physics.py",
        "pulse_train.py",
        "series.py",
        "waveform.py",
        "drives.py",
        "device.py",
    } <= set(sizes)
    assert max(sizes.values()) <= 250, sizes


# -- parameters: physics, board and numerics apart, built and read by flat names --------------------------------------
OLD_FLAT_ORDER = (
    "r_on_ohm r_off_ohm v_on_v v_off_v tau_s temperature_k phi sfa_a sfb_per_v sra_a srb_per_v x_init n_switches "
    "d2d_std read_noise_rel set_voltage_v reset_voltage_v pulse_width_s pulse_gap_s read_voltage_v "
    "series_resistance_ohm series_substeps series_step_rate dtype"
).split()


def test_mss_params_group_physics_board_and_numerics_and_keep_their_flat_names():
    from memristorch.devices import MSSBoard, MSSNumerics, MSSPhysics

    flat = MSSParams(r_on_ohm=600.0, series_resistance_ohm=1e3, series_substeps=8)
    grouped = MSSParams(
        physics=MSSPhysics(r_on_ohm=600.0), board=MSSBoard(series_resistance_ohm=1e3), numerics=MSSNumerics(8)
    )
    assert flat == grouped and hash(flat) == hash(grouped)
    assert flat.r_on_ohm == flat.physics.r_on_ohm == 600.0 and flat.board.series_resistance_ohm == 1e3
    assert list(flat.to_dict()) == OLD_FLAT_ORDER  # saved presets and config fingerprints keep their keys
    assert MSSParams(**flat.to_dict()) == flat
    changed = dataclasses.replace(flat, phi=0.8, pulse_width_s=2e-3)
    assert (changed.phi, changed.pulse_width_s, changed.r_on_ohm) == (0.8, 2e-3, 600.0)
    assert pickle.loads(pickle.dumps(changed)) == changed
    # the physics group cannot see the board or the numerics
    assert not hasattr(flat.physics, "pulse_width_s") and not hasattr(flat.physics, "series_substeps")
    assert get_device("knowm-cr", pulse_gap_s=1e-3).params.board.pulse_gap_s == 1e-3


def test_mss_params_refuse_unknown_names_wrong_groups_and_bad_values_by_name():
    from memristorch.devices import MSSBoard

    with pytest.raises(TypeError, match="no field 'pulse_widht_s'"):
        MSSParams(pulse_widht_s=1e-3)
    with pytest.raises(TypeError, match="physics must be an MSSPhysics"):
        MSSParams(physics=MSSBoard())
    with pytest.raises(ValueError, match="reset_voltage_v"):
        MSSParams(reset_voltage_v=1.0)
    with pytest.raises(ValueError, match="series_substeps"):
        MSSParams(series_substeps=0)
    with pytest.raises(ValueError, match="no field 'foo'"):
        get_device("knowm-cr", foo=1.0)
    with pytest.raises(AttributeError, match="no attribute 'foo'"):
        MSSParams().foo  # noqa: B018
