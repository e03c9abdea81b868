"""The conductance error after program-and-verify as a tile non-ideality (``tiles.programming_error``), the tile's
read-back, and the on-chip study's chip built on the core's layers."""

from __future__ import annotations

import io

import pytest
import torch

import memristorch as mt
from memristorch.devices import get_device
from memristorch.experiments.onchip_network import program_chip
from memristorch.tiles import ProgrammingError, VerifyConfig, program_and_verify


def tile(shape=(100, 200), error=0.1, persistence=0.5, seed=0, device="soft-bounds") -> mt.tiles.AnalogTile:
    config = mt.TileConfig(
        device=device, seed=seed, programming_error=ProgrammingError(error=error, persistence=persistence)
    )
    t = mt.tiles.AnalogTile(shape, config)
    # mid-window weights: no settled conductance reaches a bound, so the error is seen unclipped
    t.program(torch.full(shape, 0.2))
    return t


def relative_error(t, programmed: torch.Tensor) -> torch.Tensor:
    return (t.conductances() / programmed - 1).reshape(-1).double()


@pytest.mark.parametrize("persistence", [0.0, 0.5, 0.8, 1.0])
def test_settling_has_the_stated_size_and_persistent_share(persistence):
    """20,000 devices settle twice from the same programmed state: the relative error has std ``error`` and the
    two errors correlate by ρ = ``persistence``."""
    t = tile(persistence=persistence)
    programmed = t.conductances().clone()
    state = {k: v.clone() for k, v in t.state.items()}
    t.settle()
    first = relative_error(t, programmed)
    for name, value in t.state.items():
        value.copy_(state[name])
    t.settle()
    second = relative_error(t, programmed)
    assert abs(float(first.std()) - 0.1) < 0.003 and abs(float(first.mean())) < 0.003
    rho = float(torch.corrcoef(torch.stack([first, second]))[0, 1])
    assert abs(rho - persistence) < 0.03, rho


def test_settle_with_another_level_keeps_the_persistent_draws():
    """An error level passed to ``settle`` scales the same per-device draws: at ρ = 1 the relative error is the
    persistent draw times the level, whatever the level."""
    t = tile(persistence=1.0)
    programmed = t.conductances().clone()
    stream = t.generator.get_state()
    t.settle(0.02)
    assert torch.equal(t.generator.get_state(), stream)  # a wholly persistent error draws nothing fresh
    expected = (0.02 * t.programming_error_persistent).reshape(-1).double()
    torch.testing.assert_close(relative_error(t, programmed), expected, rtol=1e-4, atol=1e-6)


def test_program_and_verify_settles_unless_asked_not_to():
    config = mt.TileConfig(device="knowm-w", seed=2, programming_error=ProgrammingError(error=0.1))
    weight = torch.linspace(-0.6, 0.6, 24).reshape(4, 6)
    verify = VerifyConfig(tolerance=0.01, max_pulses=300)
    settled, held = (mt.tiles.AnalogTile((4, 6), config) for _ in range(2))
    settled.program_and_verify(weight, verify)
    held.program_and_verify(weight, verify, settle=False)
    target = held.cell.target_conductances(weight.double())
    off_verified = (held.conductances() / target - 1).abs()
    off_settled = (settled.conductances() / target - 1).abs()
    assert float(off_verified.max()) <= 0.01 + 1e-9  # verification met the tolerance
    assert float(off_settled.mean()) > 3 * float(off_verified.mean())  # then the devices moved away


def test_a_zero_level_draws_nothing_and_a_bad_one_changes_nothing():
    t = tile(shape=(4, 5))
    state = {k: v.clone() for k, v in t.state.items()}
    rng = t.generator.get_state()
    t.settle(0.0)
    for bad in (float("nan"), -0.1, float("inf")):
        with pytest.raises(ValueError, match="error"):
            t.settle(bad)
    assert torch.equal(t.generator.get_state(), rng)
    assert all(torch.equal(t.state[k], state[k]) for k in state)
    with pytest.raises(ValueError, match="programming_error is None"):
        mt.tiles.AnalogTile((2, 2), mt.TileConfig()).settle()
    with pytest.raises(TypeError, match="programming_error must be a ProgrammingError"):
        mt.TileConfig(programming_error=0.1)
    with pytest.raises(ValueError, match="persistence must lie in"):
        ProgrammingError(persistence=1.5)
    with pytest.raises(TypeError, match="settle must be True or False"):
        t.program_and_verify(torch.zeros(4, 5), settle="yes")


def test_the_persistent_draws_travel_in_state_dict():
    a, b = tile(shape=(3, 4), seed=1), tile(shape=(3, 4), seed=2)
    assert not torch.equal(a.programming_error_persistent, b.programming_error_persistent)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(a.programming_error_persistent, b.programming_error_persistent)
    a.settle()
    b.settle()
    assert torch.equal(a.conductances(), b.conductances())  # same draws, same generator state


def test_measure_reads_every_device_and_books_its_cost():
    device = get_device("soft-bounds", read_noise_rel=0.01)
    t = mt.tiles.AnalogTile((30, 40), mt.TileConfig(device=device, seed=3))
    before = t.ledger.summary()
    verify = VerifyConfig(read_time_s=2e-3)
    read = t.measure(verify)
    after = t.ledger.summary()
    g = t.conductances()
    assert read.shape == g.shape
    noise = (read - g).double()
    assert abs(float(noise.std()) / device.read_noise_std_s - 1) < 0.05  # the device's read noise, per device
    assert after["reads"] - before["reads"] == g.numel()
    assert after["time_s"] - before["time_s"] == pytest.approx(g.numel() * 2e-3)
    read_v = device.pulse_scheme.read_voltage_v
    assert after["energy_j"] - before["energy_j"] == pytest.approx(
        float((read_v**2 * 2e-3 * g.double()).sum()), rel=1e-9
    )  # the devices' own conductance dissipates, not the noisy reading
    assert after["pulses"] == before["pulses"]
    with pytest.raises(TypeError, match="VerifyConfig"):
        t.measure("fast")


def test_mem_linear_can_start_from_fabricated_devices_without_the_global_stream():
    config = mt.TileConfig(device="knowm-cr", seed=4)
    rng = torch.random.get_rng_state()
    layer = mt.MemLinear(5, 3, bias=False, config=config, program_init=False)
    assert torch.equal(torch.random.get_rng_state(), rng)
    fresh = mt.tiles.AnalogTile((3, 5), config)
    torch.testing.assert_close(layer.weight.detach(), fresh.effective_weight().float(), rtol=0, atol=0)
    with pytest.raises(TypeError, match="program_init"):
        mt.MemLinear(5, 3, config=config, program_init="no")


def test_the_study_chip_programs_as_the_flat_device_array_did():
    """With a deterministic device (no D2D, no switching noise, no read noise) the chip on the core's layers
    programs exactly as program-and-verify of all 30 devices as one array: the same weights, pulses and energy."""
    device = get_device("knowm-cr", series_resistance_ohm=1000.0)
    g = torch.Generator().manual_seed(0)
    weights = [torch.randn(3, 9, generator=g) * 0.5, torch.randn(1, 3, generator=g) * 0.5]
    verify = VerifyConfig(tolerance=0.05, max_pulses=200)
    chip, summary = program_chip(device, weights, cell_kind="single", verify=verify, seed=0, persistence=0.8)
    cells = chip.cells
    targets = torch.cat(
        [c.target_conductances(w.double()).reshape(-1) for c, w in zip(cells, weights, strict=True)]
    )
    state, report = program_and_verify(device, device.init_state((30,)), targets, verify)
    flat = report.summary()
    assert summary["pulses"] == flat["pulses"] > 0
    assert summary["energy_j"] == pytest.approx(flat["energy_j"], rel=1e-12)
    assert summary["time_s"] == pytest.approx(flat["time_s"], rel=1e-12)
    held = torch.cat([w.reshape(-1) for w in chip.weights()])
    parts = device.conductance(state).split([27, 3])
    expected = torch.cat(
        [c.weight(p.reshape(1, -1)).float().reshape(-1) for c, p in zip(cells, parts, strict=True)]
    )
    torch.testing.assert_close(held, expected, rtol=0, atol=0)
    # the forward through the tiles is the study's forward through the held weights
    x = torch.randn(8, 9, generator=g)
    reference = torch.tanh(x @ held[:27].reshape(3, 9).T) @ held[27:].reshape(1, 3).T
    torch.testing.assert_close(chip(x), reference)
    assert chip.cost()["pulses"] == flat["pulses"]
