"""PCSA threshold under supply and temperature (cells/pvt.py) and the ternary-pvt study on the runner."""

import math

import pytest

from memristorch.cells.binary_rram import TernaryPCSACell
from memristorch.cells.pvt import BOLTZMANN_OVER_CHARGE_V_PER_K, SenseAmpPVT
from memristorch.devices.binary_rram import BinaryRRAM, ProgrammingCondition
from memristorch.experiments import get_experiment
from memristorch.runner import load_config


def test_threshold_shift_is_the_untracked_weak_inversion_drive():
    pvt = SenseAmpPVT()
    assert pvt.threshold_shift_ln(0.6, 300.0) == 0.0
    # slope at the nominal point: (1 − tracking) / (n U_T)
    dv = 1e-6
    slope = (pvt.threshold_shift_ln(0.6 + dv, 300.0) - pvt.threshold_shift_ln(0.6 - dv, 300.0)) / (2 * dv)
    expected = (1 - 0.9) / (1.5 * BOLTZMANN_OVER_CHARGE_V_PER_K * 300.0)
    assert slope == pytest.approx(expected, rel=1e-6)
    # a stronger drive (higher supply, lower V_th when hot) discharges more resistive branches in the window
    assert pvt.threshold_shift_ln(0.7, 300.0) > 0 > pvt.threshold_shift_ln(0.5, 300.0)
    # perfect tracking: no shift anywhere; no tracking: ten times the shift of 90 % tracking
    assert SenseAmpPVT(tracking=1.0).threshold_shift_ln(0.45, 398.15) == 0.0
    assert SenseAmpPVT(tracking=0.0).threshold_shift_ln(0.5, 358.15) == pytest.approx(
        10 * pvt.threshold_shift_ln(0.5, 358.15)
    )
    assert pvt.threshold_sigma(0.1) == pytest.approx(math.hypot(0.1, 0.1))
    for bad in ({"tracking": 1.5}, {"offset_sigma_ln": -0.1}, {"subthreshold_slope_factor": 0.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SenseAmpPVT(**bad)
    with pytest.raises(ValueError, match="supply_v"):
        pvt.threshold_shift_ln(0.0, 300.0)


def test_a_lower_threshold_trades_zero_errors_for_lost_ones():
    device, condition = BinaryRRAM(), ProgrammingCondition(40e-6, 1.65)
    nominal = TernaryPCSACell(device).threshold_ln(condition)
    low = TernaryPCSACell(device, threshold_ohm=math.exp(nominal - 1.0)).error_rates(condition)
    high = TernaryPCSACell(device, threshold_ohm=math.exp(nominal + 1.0)).error_rates(condition)
    assert low["p_zero_to_nonzero"] < high["p_zero_to_nonzero"]
    assert low["p_nonzero_to_zero"] > high["p_nonzero_to_zero"]


def test_ternary_pvt_study_self_timed_window_keeps_accuracy_a_fixed_window_loses_it(tmp_path):
    spec = get_experiment("ternary-pvt")
    config = load_config(
        spec.config,
        overrides={
            "dataset": "digits",
            "hidden": [64, 64],
            "epochs": 3,
            "batch_size": 64,
            "seeds": 2,
            "draws": 2,
            "supplies_v": [0.45, 0.6, 0.8],
            "temperatures_k": [233.15, 300.0, 398.15],
        },
    )
    results = spec.run(config)
    s = results.summary
    assert len(results.tables["pvt"]) == 2 * 9
    # the self-timed read stays within about a point over the whole grid; a fixed window does not
    assert s["self-timed"]["worst_accuracy_loss_pts"] < 1.5
    assert s["fixed"]["worst_accuracy_loss_pts"] > 20
    nominal = next(
        r
        for r in results.tables["pvt"]
        if r["window"] == "self-timed" and r["supply_v"] == 0.6 and r["temperature_k"] == 300.0
    )
    cell = TernaryPCSACell(BinaryRRAM(), threshold_sigma=math.hypot(0.1, 0.1))
    rates = cell.error_rates(ProgrammingCondition(40e-6, 1.65))
    for kind, value in rates.items():
        assert nominal[kind] == pytest.approx(value, rel=1e-9), kind
    assert {"pvt_error_rates", "pvt_accuracy"} <= set(results.figures)
