import pytest
import torch
from torch import nn

import memristorch as mt
from memristorch.devices import PulsedDevice
from memristorch.devices.mss import MSSDevice
from memristorch.tiles.programming import VerifyConfig, program_and_verify


def fine_mss(**kw):
    return MSSDevice(set_voltage_v=0.35, reset_voltage_v=-0.35, pulse_width_s=10e-6, pulse_gap_s=10e-6, **kw)


def targets(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.empty(n, dtype=torch.float64).uniform_(1 / 1400, 1 / 550, generator=g)


def test_converges_on_at_least_99_percent_and_costs_more_when_tighter():
    device = fine_mss()
    state = device.init_state((300,))
    previous = None
    for tolerance in (0.10, 0.05, 0.02):
        new, report = program_and_verify(
            device, state, targets(300), VerifyConfig(tolerance=tolerance, max_pulses=200)
        )
        summary = report.summary()
        assert summary["converged_fraction"] >= 0.99, summary
        assert (report.relative_error[report.converged].abs() <= tolerance).all()
        if previous is not None:
            assert summary["pulses"] > previous["pulses"]
        previous = summary
    torch.testing.assert_close(
        device.conductance(new)[report.converged], targets(300)[report.converged], rtol=0.02, atol=0
    )


def test_reset_costs_time_and_energy():
    device = fine_mss()
    start = device.set_conductance(
        device.init_state((30,)), targets(30, seed=5)
    )  # devices left programmed before
    goal = targets(30, seed=6)
    _, plain = program_and_verify(device, start, goal, VerifyConfig(tolerance=0.05))
    _, reset = program_and_verify(device, start, goal, VerifyConfig(tolerance=0.05, reset=True))
    assert reset.summary()["time_s"] > 2 * plain.summary()["time_s"]
    assert reset.summary()["energy_j"] > 2 * plain.summary()["energy_j"]
    # the reset itself is 30 × 200 ms
    assert reset.summary()["time_s"] >= 30 * 0.2


def test_time_and_energy_accounting():
    device = fine_mss()
    state = device.init_state((4,))
    config = VerifyConfig(tolerance=0.05, read_time_s=1e-4)
    _, report = program_and_verify(device, state, targets(4), config)
    expected_time = report.pulses.double() * device.pulse_period_s + report.reads.double() * 1e-4
    torch.testing.assert_close(report.time_s, expected_time)
    assert (report.reads == report.pulses + 1).all()  # a read before every pulse and a final one
    assert (report.energy_j > 0).all()


def test_unreachable_targets_are_reported_not_raised():
    device = fine_mss()
    goal = torch.tensor([1e-2, 1e-6, 1e-3], dtype=torch.float64)  # above 1/R_on, below 1/R_off, reachable
    _, report = program_and_verify(device, device.init_state((3,)), goal, VerifyConfig(max_pulses=50))
    assert report.reachable.tolist() == [False, False, True]
    assert report.converged.tolist() == [False, False, True]
    assert report.pulses[0].item() == 50  # tried up to the cap, then gave up


def test_incremental_amplitude_programming_converges():
    device = fine_mss()
    _, report = program_and_verify(
        device, device.init_state((100,)), targets(100), VerifyConfig(tolerance=0.05, ispp_step_v=0.01)
    )
    assert report.summary()["converged_fraction"] >= 0.99


def test_bad_settings():
    with pytest.raises(ValueError, match="tolerance"):
        VerifyConfig(tolerance=0.0)
    with pytest.raises(ValueError, match="tolerance"):
        VerifyConfig(tolerance=1.0)
    with pytest.raises(ValueError, match="max_pulses"):
        VerifyConfig(max_pulses=0)
    device = fine_mss()
    with pytest.raises(ValueError, match="target_s"):
        program_and_verify(
            device, device.init_state((2,)), torch.tensor([1e-3, float("nan")], dtype=torch.float64)
        )
    with pytest.raises(ValueError, match="ispp"):
        pulsed = PulsedDevice()
        program_and_verify(
            pulsed, pulsed.init_state((2,)), torch.full((2,), 5e-5), VerifyConfig(ispp_step_v=0.1)
        )
    with pytest.raises(ValueError, match="reset"):
        pulsed = PulsedDevice()
        program_and_verify(pulsed, pulsed.init_state((2,)), torch.full((2,), 5e-5), VerifyConfig(reset=True))


def test_works_for_pulse_count_devices_too():
    device = PulsedDevice(response="soft_bounds", n_states=200)
    goal = torch.linspace(10e-6, 60e-6, 50)
    _, report = program_and_verify(
        device, device.init_state((50,)), goal, VerifyConfig(tolerance=0.05, max_pulses=400)
    )
    assert report.summary()["converged_fraction"] == 1.0


def test_layer_program_and_verify_books_every_pulse_and_read_in_the_ledger():
    import memristorch as mt

    device = mt.get_device("knowm-cr", d2d_std=0.05)
    layer = mt.MemLinear(9, 3, config=mt.TileConfig(device=device, cell="single", w_max=1.0))
    goal = torch.linspace(-0.8, 0.8, 27).reshape(3, 9)
    config = VerifyConfig(tolerance=0.03, max_pulses=200)
    report = layer.program_and_verify(goal, config)
    summary, ledger = report.summary(), mt.summarize(layer)
    assert summary["converged_fraction"] == 1.0
    # the layer computes with what the devices hold, within the verify tolerance of each conductance
    cell = layer.tile.cell
    bound = cell.gain * 0.03 * cell.target_conductances(goal.double())[0]
    assert ((layer.weight.detach().double() - goal.double()).abs() <= bound + 1e-6).all()
    assert ledger["pulses"] == summary["pulses"] and ledger["reads"] == summary["reads"]
    assert ledger["time_s"] == pytest.approx(summary["time_s"]) and ledger["energy_j"] == pytest.approx(
        summary["energy_j"]
    )
    assert ledger["max_write_cycles"] == summary["max_pulses"]
    # the ledger travels in state_dict; a ledger saved before reads were counted still loads
    state = layer.state_dict()
    twin = mt.MemLinear(9, 3, config=mt.TileConfig(device=device, cell="single", w_max=1.0))
    old = {k: v for k, v in state.items() if not k.endswith("ledger.reads")}
    twin.load_state_dict(old)
    assert mt.summarize(twin)["reads"] == 0 and mt.summarize(twin)["pulses"] == summary["pulses"]
    twin.load_state_dict(state)
    assert mt.summarize(twin) == ledger
    # bad input changes nothing
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match="weight"):
        layer.program_and_verify(torch.full((3, 9), float("nan")), config)
    with pytest.raises(ValueError, match="shape"):
        layer.program_and_verify(torch.zeros(9, 3), config)
    for key, value in layer.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize("kw", [{}, {"dtype": "float32", "series_resistance_ohm": 100.0}])
def test_width_step_down_meets_tolerances_finer_than_one_pulse(kw):
    """Fixed pulses overshoot back and forth when the tolerance is finer than a pulse's step; halving the width at
    every overshoot closes in geometrically."""
    device = fine_mss(**kw)
    goal = targets(200)
    fixed = program_and_verify(device, device.init_state((200,)), goal, VerifyConfig(0.002, max_pulses=300))[
        1
    ]
    state, adaptive = program_and_verify(
        device, device.init_state((200,)), goal, VerifyConfig(0.002, max_pulses=300, width_step_down=0.5)
    )
    assert fixed.summary()["converged_fraction"] < 0.9
    assert adaptive.summary()["converged_fraction"] == 1.0
    assert adaptive.summary()["pulses"] < 0.5 * fixed.summary()["pulses"]
    assert state["x"].dtype == device.init_state((1,))["x"].dtype
    # time books the narrower pulses: less than a full period per pulse once widths have shrunk
    assert adaptive.time_s.sum() < adaptive.pulses.sum() * device.pulse_period_s + adaptive.reads.sum() * 1e-3
    with pytest.raises(ValueError, match="width_step_down"):
        VerifyConfig(width_step_down=0.0)
    with pytest.raises(ValueError, match="per-pulse widths"):
        pulsed = PulsedDevice()
        program_and_verify(
            pulsed, pulsed.init_state((2,)), torch.full((2,), 5e-5), VerifyConfig(width_step_down=0.5)
        )


def test_whole_model_program_and_verify_books_every_layer_and_totals_them():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
    model = mt.convert(net, mt.TileConfig(device="soft-bounds", cell="differential"))
    for layer in (model[0], model[2]):  # start the devices away from their targets
        layer.tile.update(torch.full(tuple(layer.weight.shape), 0.3))
    before = mt.summarize(model)
    with pytest.raises(TypeError, match="VerifyConfig"):
        mt.program_and_verify(model, {"tolerance": 0.02})
    assert mt.summarize(model) == before
    report = mt.program_and_verify(model, mt.VerifyConfig(tolerance=0.05, max_pulses=100))
    summary = report.summary()
    assert set(report.layers) == {"0", "2"} and summary["devices"] == 2 * (8 * 6 + 6 * 3)
    ledgers = mt.summarize(model)
    assert summary["pulses"] == ledgers["pulses"] - before["pulses"] > 0
    assert summary["reads"] == sum(r.summary()["reads"] for r in report.layers.values())
    assert summary["time_s"] == pytest.approx(sum(r.summary()["time_s"] for r in report.layers.values()))
    mt.program(model)  # ideal write of the float mirrors: the layers hold what they show
    assert torch.allclose(model[0].weight, model[0].tile.effective_weight())
    with pytest.raises(ValueError, match="convert it first"):
        mt.program(net)
