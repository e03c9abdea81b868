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
