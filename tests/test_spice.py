"""memristorch's MSS integration against ngspice on the same netlist (capacitor construction of Knowm's model)."""

from pathlib import Path

import pytest

from memristorch.spice import simulate_mss
from memristorch.spice.crosscheck import CASES, compare, load_reference
from tests.conftest import require_ngspice

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-3  # acceptance: max relative current difference over a sine and a pulse train


@pytest.mark.parametrize("name", sorted(CASES))
def test_stored_ngspice_traces_agree(name):
    metrics = compare(CASES[name], load_reference(DATA, name))
    assert metrics["max_rel_current"] <= TOLERANCE, metrics
    assert metrics["max_abs_x"] <= 1e-3, metrics


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_ngspice_agrees(name):
    require_ngspice()
    case = CASES[name]
    metrics = compare(case, simulate_mss(case.params, case.drive))
    assert metrics["max_rel_current"] <= TOLERANCE, metrics


def test_pulse_case_reaches_the_published_states():
    """x: 0 → 0.651 after 10 SET pulses → 0.230 after 10 RESET pulses (both simulators)."""
    reference = load_reference(DATA, "pulses")
    assert reference[-1, 2] == pytest.approx(0.230, abs=1e-3)
    metrics = compare(CASES["pulses"], reference)
    assert metrics["final_x"] == pytest.approx(0.230, abs=1e-3)
