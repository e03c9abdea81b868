import csv

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.devices import get_device
from memristorch.devices.fit import fit_mss, read_measurement
from memristorch.devices.mss import MSSDevice, MSSParams, sine_waveform

TRUE = {"r_on_ohm": 800.0, "r_off_ohm": 5000.0, "v_on_v": 0.2, "v_off_v": 0.25, "tau_s": 5e-5}


def write_csv(path, header, rows):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sweep_csv(path, noise=0.01):
    device = MSSDevice(MSSParams(**TRUE))
    t, v = sine_waveform(0.6, 1e3, 2e-3, 2e-6)
    current = device.apply_waveform(device.init_state((1,)), t, v, record=True).current_a[:, 0].numpy()
    current = current + noise * np.abs(current).max() * np.random.default_rng(0).standard_normal(len(current))
    return write_csv(
        path, ["time_s", "voltage_v", "current_a"], zip(t.tolist(), v.tolist(), current.tolist(), strict=True)
    )


def test_fit_recovers_known_parameters_from_a_noisy_sweep(tmp_path):
    result = fit_mss(read_measurement(sweep_csv(tmp_path / "sweep.csv")))
    for name, value in TRUE.items():
        assert getattr(result.params, name) == pytest.approx(value, rel=0.03), name
    assert result.rms_relative_error < 0.015  # the 1 % noise floor
    assert result.initial_rms_relative_error > 10 * result.rms_relative_error


def test_fit_recovers_parameters_from_pulse_response(tmp_path):
    pulse_settings = {
        "set_voltage_v": 0.5,
        "reset_voltage_v": -0.5,
        "pulse_width_s": 10e-6,
        "pulse_gap_s": 40e-6,
    }
    truth = MSSDevice(MSSParams(**TRUE, **pulse_settings, x_init=0.1))
    state = truth.init_state((1,))
    rows = [(0, truth.conductance(state).item())]
    for p in [1] * 15 + [-1] * 15:
        state = truth.apply_pulses(state, torch.tensor([float(p)]))
        rows.append(
            (
                p,
                truth.conductance(state).item()
                * (1 + 0.002 * np.random.default_rng(len(rows)).standard_normal()),
            )
        )
    data = read_measurement(write_csv(tmp_path / "pulses.csv", ["pulse", "conductance_s"], rows))
    result = fit_mss(data, MSSParams(**pulse_settings))
    assert result.rms_relative_error < 0.005
    assert result.params.r_on_ohm == pytest.approx(TRUE["r_on_ohm"], rel=0.1)
    assert result.params.r_off_ohm == pytest.approx(TRUE["r_off_ohm"], rel=0.1)


def test_fit_command_writes_a_preset_the_other_commands_accept(tmp_path):
    data = sweep_csv(tmp_path / "sweep.csv")
    preset = tmp_path / "mine.yaml"
    result = CliRunner().invoke(app, ["fit", str(data), "--out", str(preset)])
    assert result.exit_code == 0, result.output
    device = get_device(str(preset))
    assert device.params.r_on_ohm == pytest.approx(800.0, rel=0.03)
    shown = CliRunner().invoke(app, ["devices", "show", str(preset), "--out", str(tmp_path), "--pulses", "5"])
    assert shown.exit_code == 0, shown.output


def test_bad_measurement_files(tmp_path):
    with pytest.raises(ValueError, match="columns"):
        read_measurement(write_csv(tmp_path / "a.csv", ["t", "v"], [(0, 1), (1, 2), (2, 3)]))
    with pytest.raises(ValueError, match="finite"):
        read_measurement(
            write_csv(tmp_path / "b.csv", ["pulse", "conductance_s"], [(0, 1e-3), (1, "nan"), (1, 1e-3)])
        )
    with pytest.raises(ValueError, match="no data"):
        read_measurement(write_csv(tmp_path / "c.csv", ["pulse", "conductance_s"], []))
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "a.csv")])
    assert result.exit_code == 2 and "columns" in result.output


PULSED_TRUE = {
    "g_min_s": 2e-6,
    "g_max_s": 80e-6,
    "n_states": 100,
    "asymmetry": 0.2,
    "d2d_step_std": 0.1,
    "d2d_bounds_std": 0.05,
    "c2c_std": 0.1,
}


@pytest.mark.parametrize("response", ["soft_bounds", "linear"])
def test_fit_family_pulsed_recovers_a_simulated_device(tmp_path, response):
    """The #14 acceptance: means within 5 %, D2D and C2C spreads within 10 %, from 200 devices × 3 cycles."""
    from memristorch.devices import PulsedDevice
    from memristorch.devices.fit_pulsed import simulate_pulse_traces
    from memristorch.devices.pulsed import PulsedDeviceParams

    true = PulsedDeviceParams(response=response, **PULSED_TRUE)
    traces = simulate_pulse_traces(
        PulsedDevice(true), tmp_path / "traces.csv", devices=200, pulses_per_phase=150
    )
    out = tmp_path / "fitted.yaml"
    result = CliRunner().invoke(
        app, ["fit", str(traces), "--family", "pulsed", "--response", response, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    fitted = get_device(str(out)).params
    assert fitted.response == response
    for name in ("g_min_s", "g_max_s", "n_states"):
        assert getattr(fitted, name) == pytest.approx(getattr(true, name), rel=0.05), name
    assert fitted.asymmetry == pytest.approx(true.asymmetry, abs=0.01)
    for name in ("d2d_step_std", "d2d_bounds_std", "c2c_std"):
        assert getattr(fitted, name) == pytest.approx(getattr(true, name), rel=0.10), name


def test_pulse_numbers_are_refused_as_polarities(tmp_path):
    """A natural pulse-number CSV used to be read as polarities by the MSS fit and fitted to garbage."""
    numbered = write_csv(
        tmp_path / "numbered.csv", ["pulse", "conductance_s"], [[i, 1e-4 * (1 + i / 50)] for i in range(50)]
    )
    with pytest.raises(ValueError, match="a pulse number is not a polarity"):
        read_measurement(numbered)
    traces = write_csv(
        tmp_path / "traces.csv",
        ["device", "cycle", "polarity", "conductance_s"],
        [["a", 0, i, 1e-5 * (1 + i)] for i in range(6)],
    )
    result = CliRunner().invoke(app, ["fit", str(traces), "--family", "pulsed"])
    assert result.exit_code == 2 and "a pulse number is not a polarity" in result.output
    result = CliRunner().invoke(app, ["fit", str(traces), "--family", "spintronic"])
    assert result.exit_code == 2 and "family must be" in result.output
    wrong_columns = write_csv(tmp_path / "wrong.csv", ["pulse", "conductance_s"], [[1, 1e-5]] * 5)
    result = CliRunner().invoke(app, ["fit", str(wrong_columns), "--family", "pulsed"])
    assert result.exit_code == 2 and "device,cycle,polarity,conductance_s" in result.output
