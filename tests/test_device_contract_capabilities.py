"""Declared device capabilities and the one pulse scheme: what generic callers ask instead of probing."""

import pytest
import torch

import memristorch as mt
from memristorch.devices import PRESETS
from memristorch.devices.base import CAPABILITIES, DeviceModel, PulseScheme
from memristorch.devices.mss import MSSDevice
from memristorch.tiles import VerifyConfig, ZeroBiasRelaxation


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_one_sign_convention_and_declares_known_capabilities(name):
    device = mt.get_device(name)
    scheme = device.pulse_scheme
    assert isinstance(scheme, PulseScheme)
    assert scheme.set_voltage_v >= 0 and scheme.reset_voltage_v >= 0  # magnitudes, for every family
    assert scheme.pulse_period_s == device.pulse_period_s >= scheme.pulse_width_s
    assert set(device.capabilities) <= set(CAPABILITIES)
    if isinstance(device, MSSDevice):
        assert scheme.reset_voltage_v == -device.params.reset_voltage_v
        assert all(device.supports(c) for c in ("hold", "amplitude", "width", "waveform"))
    else:
        assert not any(device.supports(c) for c in CAPABILITIES)


def test_a_device_declaring_a_capability_it_lacks_is_refused_when_defined():
    with pytest.raises(TypeError, match=r"declares \['hold'\] but has no \['hold'\]"):

        class Broken(DeviceModel):  # noqa: F841 — the class statement itself must fail
            capabilities = frozenset({"hold"})

    with pytest.raises(TypeError, match="unknown capabilities"):

        class Typo(DeviceModel):  # noqa: F841
            capabilities = frozenset({"hodl"})

    with pytest.raises(ValueError, match="capability must be one of"):
        mt.get_device("linear").supports("teleport")


@pytest.mark.parametrize(
    "verify, match",
    [
        (VerifyConfig(ispp_step_v=0.1), "per-pulse amplitudes"),
        (VerifyConfig(width_step_down=0.5), "per-pulse widths"),
        (VerifyConfig(reset=True), "hold a voltage"),
    ],
)
def test_program_and_verify_refuses_what_the_device_does_not_declare(verify, match):
    tile = mt.tiles.AnalogTile((3, 4), mt.TileConfig(device="linear"))
    before = {k: v.clone() for k, v in tile.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        tile.program_and_verify(torch.full((3, 4), 0.3), verify)
    after = tile.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_zero_bias_relaxation_is_checked_against_the_device_once_at_configuration():
    with pytest.raises(ValueError, match="capability 'hold'"):
        mt.TileConfig(device="linear", drift=ZeroBiasRelaxation())
    mt.TileConfig(device="knowm-cr", drift=ZeroBiasRelaxation())  # the MSS model can


def test_a_tile_integrates_a_series_resistor_drive_once_and_books_that_trajectorys_energy(monkeypatch):
    device = mt.get_device("knowm-cr", series_resistance_ohm=1e3, n_switches=200)
    tile = mt.tiles.AnalogTile((3, 4), mt.TileConfig(device=device, max_pulses=3, seed=1))
    assert tile.cell.weight_per_pulse > 0  # the cell's nominal step is measured once, lazily: not an update
    calls = []
    from memristorch.devices.mss import drives

    original = drives.series_pulses

    def counted(*args, **kwargs):
        calls.append(kwargs.get("noisy", True))
        return original(*args, **kwargs)

    monkeypatch.setattr(drives, "series_pulses", counted)
    state = {k: v.clone() for k, v in tile.state.items()}
    generator = torch.Generator().manual_seed(0)
    generator.set_state(tile.generator.get_state())
    delta = torch.linspace(-0.5, 0.5, 12).reshape(3, 4)
    tile.update(delta)
    assert len(calls) == 1 and calls[0] is True  # one integration, along the noisy path
    # the same pulses and random draws, integrated by the device alone, give the booked energy
    planned = tile.ledger.summary()
    assert planned["energy_j"] > 0
    calls.clear()
    counts = tile.cell.plan_pulses(delta, generator, 1.0)
    index = torch.nonzero(counts.view(-1)).squeeze(1)
    subset = {k: v.view(-1)[index] for k, v in state.items()}
    pulses = counts.view(-1)[index].to(subset["x"].dtype)
    _, energy = device.pulse_with_energy(subset, pulses, generator)
    assert float(energy.sum()) == pytest.approx(planned["energy_j"], rel=1e-12)
