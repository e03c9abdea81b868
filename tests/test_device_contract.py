"""The device contract, checked on every preset of every pulse-driven family: adding a preset adds it here."""

import io
import math

import pytest
import torch

import memristorch as mt
from memristorch.devices import PRESETS

from .test_torch_devices import DEVICES, trap

SHAPE = (2, 3, 4)


def fresh(name: str, dtype: torch.dtype, seed: int = 0):
    device = mt.get_device(name)
    state = device.init_state(SHAPE, torch.Generator().manual_seed(seed))
    if dtype == torch.float64:
        state = {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
    return device, state


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_shapes_dtypes_bounds_and_energy(name, dtype):
    device, state = fresh(name, dtype)
    g = device.conductance(state)
    assert g.shape == SHAPE and g.dtype == state[next(iter(state))].dtype
    up = torch.full(SHAPE, 50, dtype=dtype)
    energy = device.pulse_energy_j(state, up)
    assert energy.shape == SHAPE and bool(torch.isfinite(energy).all()) and bool((energy >= 0).all())
    rng = torch.Generator().manual_seed(1)
    for pulses in (up, -up):
        new = device.apply_pulses(state, pulses, rng)
        g_new = device.conductance(new)
        assert g_new.shape == SHAPE and g_new.dtype == g.dtype
        assert bool(torch.isfinite(g_new).all()) and bool((g_new >= 0).all())
        spread = 1 + 5 * getattr(device.params, "d2d_bounds_std", 0.0) + 1e-6
        assert float(g_new.max()) <= device.g_max_s * spread
    # potentiating raises and depressing lowers every device's conductance (or leaves it at a bound)
    assert (
        bool((device.conductance(device.apply_pulses(state, up, rng)) >= g - 1e-12).all()) or name == "noisy"
    )


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_zero_pulses_change_nothing(name):
    device, state = fresh(name, torch.float32)
    kept = {k: v.clone() for k, v in state.items()}
    new = device.apply_pulses(state, torch.zeros(SHAPE), torch.Generator().manual_seed(3))
    torch.testing.assert_close(device.conductance(new), device.conductance(kept), rtol=0, atol=0)
    assert same(state, kept)  # the state passed in is never modified


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_the_same_seed_gives_the_same_bits(name):
    device, a = fresh(name, torch.float32, seed=5)
    _, b = fresh(name, torch.float32, seed=5)
    assert same(a, b)
    pulses = torch.randint(-4, 5, SHAPE, generator=torch.Generator().manual_seed(0))
    one = device.apply_pulses(a, pulses, torch.Generator().manual_seed(9))
    two = device.apply_pulses(b, pulses, torch.Generator().manual_seed(9))
    assert same(one, two)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_tile_of_it_round_trips_through_torch_load_weights_only(name):
    config = mt.TileConfig(device=name, cell="differential", seed=2)
    tile = mt.tiles.AnalogTile((3, 4), config)
    tile.update(torch.full((3, 4), 0.2))
    buffer = io.BytesIO()
    torch.save(tile.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    other = mt.tiles.AnalogTile((3, 4), config.with_seed(7))
    other.load_state_dict(loaded)
    assert same(dict(other.state_dict()), dict(tile.state_dict()))
    step = torch.linspace(-0.3, 0.3, 12).reshape(3, 4)
    tile.update(step)
    other.update(step)  # the random stream continues bit for bit too
    assert torch.equal(tile.effective_weight(), other.effective_weight())


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize(
    "pulses, match",
    [
        (torch.full(SHAPE, math.nan), "pulses"),
        (torch.full(SHAPE, math.inf), "pulses"),
        (torch.full(SHAPE, 0.5), "pulses"),
        (torch.zeros(2, 3), "pulses"),
    ],
    ids=["nan", "inf", "fractional", "shape"],
)
def test_bad_pulse_counts_raise_and_touch_neither_state_nor_random_stream(name, pulses, match):
    device, state = fresh(name, torch.float32)
    kept = {k: v.clone() for k, v in state.items()}
    rng = torch.Generator().manual_seed(4)
    rng_state = rng.get_state().clone()
    with pytest.raises(ValueError, match=match):
        device.apply_pulses(state, pulses, rng)
    assert same(state, kept) and torch.equal(rng.get_state(), rng_state)


@pytest.mark.parametrize("torch_device", DEVICES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_method_works_on_every_torch_device(name, torch_device):
    """State drawn from a generator on the device stays there through pulses, energy, reads and writes; on the CPU the
    default device is ``meta`` meanwhile, so a tensor made without a device would fail (see test_torch_devices)."""
    device = mt.get_device(name)
    with trap(torch_device):
        generator = torch.Generator(device=torch_device).manual_seed(0)
        state = device.init_state(SHAPE, generator)
        pulses = torch.randint(-3, 4, SHAPE, generator=generator, device=torch_device)
        new, energy = device.pulse_with_energy(state, pulses, generator)
        outputs = {
            "state": new,
            "energy": energy,
            "pulse_energy": device.pulse_energy_j(state, pulses),
            "conductance": device.conductance(new),
            "read": device.read(new, generator),
            "written": device.set_conductance(new, device.conductance(state)),
        }
    flat = [t for value in outputs.values() for t in (value.values() if isinstance(value, dict) else [value])]
    assert {t.device.type for t in flat} == {torch.device(torch_device).type}
    assert bool(torch.isfinite(outputs["energy"]).all())
