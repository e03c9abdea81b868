"""The two small interfaces beside the pulsed contract (``devices.families``): one-way pulsed devices (weak-RESET
HfOx) and bit-error memories (binary RRAM cells, ST-MRAM). Every member of each family runs through the same checks;
adding a device of either kind means adding it to the lists below."""

from __future__ import annotations

import io
import math

import pytest
import torch

from memristorch.cells import SignFlips
from memristorch.cells.binary_rram import OneT1RCell, TwoT2RCell
from memristorch.devices import (
    STMRAM,
    BinaryRRAM,
    BitErrorMemory,
    MRAMWrite,
    OneWayPulsedDevice,
    ProgrammingCondition,
)
from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.nn import WeakResetBinaryLinear
from memristorch.optim import PulseAdam
from memristorch.tiles import WeakResetPairArray

from .test_torch_devices import DEVICES, trap

SHAPE = (3, 4)


class LinearDrift:
    """A minimal one-way device written for this test: ln(R/R0) = k·t, nothing else, R0 = 10 kΩ ± 10 %."""

    family = "linear-drift"

    def __init__(self, k: float = 0.01) -> None:
        self.k = k

    def init_state(self, shape, generator=None):
        r0 = 1e4 * (1 + 0.1 * torch.randn(shape, generator=generator, dtype=torch.float64))
        return {"r0": r0, "t": torch.zeros(shape, dtype=torch.float64)}

    def apply_pulses(self, state, pulses, generator=None):
        if bool((pulses < 0).any()):
            raise ValueError("pulses must be ≥ 0")
        return {**state, "t": state["t"] + pulses.to(torch.float64)}

    def log_resistance_ratio(self, state):
        return self.k * state["t"]

    def base_resistance(self, state):
        return state["r0"]

    def resistance(self, state):
        return self.base_resistance(state) * torch.exp(self.log_resistance_ratio(state))


ONE_WAY = {
    "weak-reset": lambda: WeakResetRRAM(),
    "weak-reset-faithful": lambda: WeakResetRRAM(faithful=True),
    "weak-reset-mean-only": lambda: WeakResetRRAM(d2d=False, rtn=False, pink=False),
    "linear-drift": LinearDrift,
}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", sorted(ONE_WAY))
def test_one_way_device_contract(name):
    device = ONE_WAY[name]()
    assert isinstance(device, OneWayPulsedDevice)
    state = device.init_state((2000,), torch.Generator().manual_seed(0))
    kept = {k: v.clone() for k, v in state.items()}
    rng = torch.Generator().manual_seed(1)
    zero = device.apply_pulses(state, torch.zeros(2000, dtype=torch.int64), rng)
    assert same(state, kept)  # the state passed in is never modified
    assert torch.equal(device.log_resistance_ratio(zero), device.log_resistance_ratio(state))  # fresh devices
    assert torch.equal(device.base_resistance(zero), device.base_resistance(state))
    r = device.resistance(state)
    assert r.shape == (2000,) and bool(torch.isfinite(r).all()) and bool((r > 0).all())
    torch.testing.assert_close(
        r, device.base_resistance(state) * torch.exp(device.log_resistance_ratio(state))
    )
    # pulses move the devices one way: ln(R/R0) rises on average with the pulse count
    pulsed = state
    for _ in range(20):
        pulsed = device.apply_pulses(pulsed, torch.full((2000,), 10, dtype=torch.int64), rng)
    rise = float((device.log_resistance_ratio(pulsed) - device.log_resistance_ratio(state)).mean())
    assert rise > 0.05


@pytest.mark.parametrize(
    "pulses, match",
    [
        (torch.full(SHAPE, -1), "≥ 0"),
        (torch.full(SHAPE, float("nan")), "whole numbers"),
        (torch.full(SHAPE, 1.5), "whole numbers"),
        (torch.ones(4, 3, dtype=torch.int64), "shape"),
    ],
    ids=["negative", "nan", "fractional", "shape"],
)
@pytest.mark.parametrize("name", [n for n in sorted(ONE_WAY) if n.startswith("weak-reset")])
def test_bad_pulse_counts_raise_and_change_neither_state_nor_random_stream(name, pulses, match):
    device = ONE_WAY[name]()
    state = device.init_state(SHAPE, torch.Generator().manual_seed(0))
    kept = {k: v.clone() for k, v in state.items()}
    generator = torch.Generator().manual_seed(4)
    before = generator.get_state()
    with pytest.raises(ValueError, match=match):
        device.apply_pulses(state, pulses, generator)
    assert same(state, kept) and torch.equal(generator.get_state(), before)


@pytest.mark.parametrize("name", sorted(ONE_WAY))
def test_a_pair_array_of_any_one_way_device_learns_round_trips_and_moves(name):
    """The pair array, the binary layer and pulse Adam take any one-way device: on a toy problem (class = sign of
    the first input) the pulses set the one weight pair that matters, and the array's state survives
    ``torch.load(weights_only=True)``."""
    torch.manual_seed(0)
    layer = WeakResetBinaryLinear(8, 2, ONE_WAY[name](), generator=torch.Generator().manual_seed(2))
    x = torch.randn(256, 8)
    y = (x[:, 0] > 0).long()
    before = float((layer(x).argmax(1) == y).double().mean())
    optimizer = PulseAdam(layer.parameters(), lr=8.0)
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(layer(x) * 0.5, y).backward()
        optimizer.step()
    assert (
        layer.weight[1, 0] == 1 and layer.weight[0, 0] == -1
    )  # class 1 reads x0 positively, class 0 negatively
    after = float((layer(x).argmax(1) == y).double().mean())
    assert after > before + 0.2, (before, after)
    assert layer.array.pulses_total > 0
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    copy = WeakResetBinaryLinear(8, 2, ONE_WAY[name](), generator=torch.Generator().manual_seed(9))
    copy.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(copy(x), layer(x))


@pytest.mark.parametrize("bad", [object(), BinaryRRAM(), "weak-reset"], ids=["object", "binary-rram", "str"])
def test_an_object_that_is_not_a_one_way_device_is_refused_before_any_draw(bad):
    generator = torch.Generator().manual_seed(5)
    before = generator.get_state()
    with pytest.raises(TypeError, match="device must be a OneWayPulsedDevice.*without"):
        WeakResetPairArray(SHAPE, bad, generator)
    assert torch.equal(generator.get_state(), before)


STRONG_RRAM, WEAK_RRAM = ProgrammingCondition(200e-6, 2.0), ProgrammingCondition(15e-6, 1.5)
MEMORIES = {
    "1t1r": (lambda: OneT1RCell(BinaryRRAM()), STRONG_RRAM, WEAK_RRAM),
    "2t2r": (lambda: TwoT2RCell(BinaryRRAM()), STRONG_RRAM, WEAK_RRAM),
    "st-mram": (STMRAM, MRAMWrite(120e-6, 10e-9), MRAMWrite(90e-6, 5e-9)),
}


@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_bit_error_memory_contract(name):
    build, strong, weak = MEMORIES[name]
    memory = build()
    assert isinstance(memory, BitErrorMemory)
    rates = [memory.bit_error_rate(c) for c in (strong, weak)]
    energies = [memory.energy_per_bit_j(c) for c in (strong, weak)]
    assert all(isinstance(v, float) and math.isfinite(v) for v in rates + energies)
    assert all(0.0 <= r <= 1.0 for r in rates) and all(e > 0 for e in energies)
    # a stronger write costs more and errs less — by orders of magnitude here
    assert rates[0] < rates[1] / 100 and energies[0] > energies[1]
    other = MRAMWrite(100e-6, 5e-9) if isinstance(strong, ProgrammingCondition) else STRONG_RRAM
    for method in (memory.bit_error_rate, memory.energy_per_bit_j):
        with pytest.raises(TypeError, match="condition must be"):
            method(other)


@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_sign_flips_of_any_memory_flip_at_its_rate(name):
    build, _, weak = MEMORIES[name]
    memory = build()
    channel = SignFlips.of(memory, weak)
    ber = memory.bit_error_rate(weak)
    assert channel.ber == min(1.0, ber)
    n = 1_000_000
    weights = torch.ones(n)
    flipped = float((channel(weights, torch.Generator().manual_seed(0)) < 0).double().mean())
    assert abs(flipped - ber) < 5 * math.sqrt(ber * (1 - ber) / n) + 1e-6


def test_sign_flips_of_a_non_memory_is_a_type_error():
    with pytest.raises(TypeError, match="memory must be a BitErrorMemory.*without bit_error_rate"):
        SignFlips.of(object(), STRONG_RRAM)


@pytest.mark.parametrize("torch_device", DEVICES)
@pytest.mark.parametrize("name", [n for n in sorted(ONE_WAY) if n.startswith("weak-reset")])
def test_one_way_devices_work_on_every_torch_device(name, torch_device):
    device = ONE_WAY[name]()
    with trap(torch_device):
        generator = torch.Generator(device=torch_device).manual_seed(0)
        state = device.init_state(SHAPE, generator)
        pulses = torch.randint(0, 4, SHAPE, generator=generator, device=torch_device)
        new = device.apply_pulses(state, pulses, generator)
        outputs = [*new.values(), device.resistance(new), device.log_resistance_ratio(new)]
    assert {t.device.type for t in outputs} == {torch.device(torch_device).type}
