"""The core on every available torch device: state, ledger and generators move with ``model.to(device)``, and
in-situ training, hardware-aware training, program-and-verify, the weak-RESET BNN store and packed inference run
there. CPU always; CUDA where ``torch.cuda.is_available()`` (the one skip CI allows is "no CUDA on this machine").

On the CPU a second check stands in for a GPU: the same paths run with torch's default device set to ``meta``, so a
tensor made anywhere without an explicit device lands on ``meta`` and the first operation mixing it with the CPU
state fails — every construction on these paths must name the device of the data it belongs with.
"""

from __future__ import annotations

import contextlib
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import memristorch as mt
from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.nn.binary import BinaryLinear, SignActivation
from memristorch.nn.device_binary import WeakResetBinaryLinear
from memristorch.nn.packed import PackedBNN
from memristorch.nn.stochastic import StochasticBits
from memristorch.optim import MetaplasticAdam, PulseAdam

DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA on this machine")
    ),
]


@contextlib.contextmanager
def trap(device: str):
    """On the CPU: default device ``meta`` (a tensor made without a device fails at first use); else nothing."""
    if device == "cpu":
        with torch.device("meta"):
            yield
    else:
        yield


def moved(model: nn.Module, device: str) -> None:
    """Every buffer, parameter and generator of ``model`` is on ``device``; generator states stay CPU bytes."""
    want = torch.device(device)
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if name.endswith("rng_state"):
            assert tensor.device.type == "cpu", name
        else:
            assert tensor.device.type == want.type, name
    for module in model.modules():
        generator = getattr(module, "generator", None)
        if isinstance(generator, torch.Generator) and not isinstance(module, StochasticBits):
            assert generator.device.type == want.type, type(module).__name__


def mlp(preset: str = "soft-bounds", **periphery) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    config = mt.TileConfig(
        device=preset, cell="differential", seed=3, periphery=mt.PeripheryConfig(read_noise=True, **periphery)
    )
    return mt.convert(net, config)


def batch(device: str, n: int = 16, width: int = 12):
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(n, width, generator=generator).to(device)
    y = torch.randint(0, 3, (n,), generator=generator).to(device)
    return x, y


def train(model: nn.Module, optimizer, x, y, steps: int = 3) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("preset", ["soft-bounds", "linear", "knowm-w"])
def test_in_situ_training_runs_on_the_device_and_moves_everything(device, preset):
    model = mlp(preset).to(device)
    moved(model, device)
    x, y = batch(device)
    before = mt.summarize(model)
    with trap(device):
        train(model, mt.InSituSGD(model.parameters(), lr=0.5), x, y)
    after = mt.summarize(model)
    assert after["pulses"] > before["pulses"] and after["energy_j"] > before["energy_j"] > -1
    moved(model, device)
    for layer in model.modules():  # the mirror is what the devices hold
        if isinstance(layer, mt.MemLinear):
            held = layer.tile.effective_weight().to(layer.weight.dtype)
            torch.testing.assert_close(held, layer.weight.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.filterwarnings("ignore:.*ADC outputs clip")  # 48 outputs: one noisy read beyond the range is 2 %
def test_hardware_aware_training_and_noisy_inference_with_converters(device):
    model = mlp(dac_bits=8, adc_bits=8).to(device)
    x, y = batch(device)
    with trap(device):
        mt.calibrate(model, [x])
        model.eval()
        with torch.no_grad():
            one, two = model(x), model(x)
        model.train()
        weights = [p.detach().clone() for p in model.parameters()]
        train(model, torch.optim.SGD(model.parameters(), lr=0.1), x, y, steps=1)
    assert one.device.type == torch.device(device).type
    assert not torch.equal(one, two)  # read noise is drawn afresh on every read
    assert all(not torch.equal(a, b) for a, b in zip(weights, model.parameters(), strict=True))


@pytest.mark.parametrize("device", DEVICES)
def test_program_and_verify_on_the_device(device):
    error = mt.tiles.ProgrammingError(error=0.05, persistence=0.5)
    config = mt.TileConfig(device="knowm-w", cell="differential", seed=1, programming_error=error)
    model = mt.convert(nn.Sequential(nn.Linear(6, 4)), config).to(device)
    with torch.no_grad():  # new targets: the devices still hold the converted weights
        model[0].weight.copy_(torch.linspace(-0.5, 0.5, 24).reshape(4, 6))
    with trap(device):
        report = mt.program_and_verify(model, mt.VerifyConfig(tolerance=0.05, max_pulses=200), settle=False)
        verified = model[0].tile.conductances().clone()
        model[0].settle()  # the conductance error after programming, drawn on the device
        read = model[0].tile.measure()  # chip-in-the-loop read-back
    summary = report.summary()
    assert summary["converged_fraction"] > 0.5
    assert mt.summarize(model)["pulses"] > 0
    assert read.device.type == torch.device(device).type
    assert not torch.equal(model[0].tile.conductances(), verified)
    moved(model, device)


@pytest.mark.parametrize("device", DEVICES)
def test_weak_reset_bnn_store_trains_on_the_device(device):
    torch.manual_seed(0)
    layer = WeakResetBinaryLinear(12, 3, WeakResetRRAM(), torch.Generator().manual_seed(0))
    model = nn.Sequential(layer, nn.BatchNorm1d(3)).to(device)
    moved(model, device)
    pulses = layer.array.pulses_total
    x, y = batch(device)
    with trap(device):
        train(model, PulseAdam(model.parameters(), lr=100.0), x, y)
        weights_later = layer.array.weight_at("1y")
    assert layer.array.pulses_total > pulses
    assert weights_later.device.type == torch.device(device).type
    assert torch.equal(layer.weight.detach(), layer.array.weight())  # the mirror is what the pairs hold


@pytest.mark.parametrize("device", DEVICES)
def test_metaplastic_bnn_trains_on_the_device_with_stochastic_inputs(device):
    torch.manual_seed(0)
    model = nn.Sequential(
        StochasticBits(4, seed=2), BinaryLinear(12, 8, binarize_input=False), nn.BatchNorm1d(8), SignActivation(),
        BinaryLinear(8, 3), nn.BatchNorm1d(3),
    ).to(device)  # fmt: skip
    hidden = model[1].weight.detach().clone()
    x, y = batch(device)
    with trap(device):
        train(model, MetaplasticAdam(model.parameters(), lr=0.05), x, y)
    assert not torch.equal(model[1].weight.detach(), hidden)
    moved(model, device)


@pytest.mark.parametrize("device", DEVICES)
def test_packed_inference_takes_a_model_and_input_on_the_device(device):
    torch.manual_seed(0)
    net = nn.Sequential(
        BinaryLinear(12, 16, binarize_input=False), nn.BatchNorm1d(16), SignActivation(),
        BinaryLinear(16, 3), nn.BatchNorm1d(3),
    ).eval().to(device)  # fmt: skip
    x, _ = batch(device)
    packed = PackedBNN(net, threads=1, backend="numpy")
    with trap(device), torch.no_grad():
        logits = packed(x)
    assert logits.device.type == torch.device(device).type
    with torch.no_grad():
        assert torch.equal(logits, net(x))


def test_moving_within_the_cpu_keeps_the_random_stream_bit_for_bit():
    one, two = mlp(), mlp().to("cpu").to(torch.device("cpu"))
    x, y = batch("cpu")
    for model in (one, two):
        train(model, mt.InSituSGD(model.parameters(), lr=0.5), x, y)
    for a, b in zip(one.state_dict().values(), two.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
def test_a_moved_generator_is_reseeded_deterministically_from_its_stream(device):
    from memristorch._rng import generator_on

    source = torch.Generator().manual_seed(5)
    if device == "cpu":
        assert generator_on("cpu", source) is source  # same device: the very stream continues
        return
    a = generator_on(device, torch.Generator().manual_seed(5))
    b = generator_on(device, torch.Generator().manual_seed(5))
    c = generator_on(device, torch.Generator().manual_seed(6))
    assert a.device.type == device and a.initial_seed() == b.initial_seed() != c.initial_seed()
    assert generator_on("cpu", a).initial_seed() == generator_on("cpu", b).initial_seed()


def test_a_state_saved_by_another_generator_type_reseeds_with_a_warning():
    model = mlp()
    tile = next(iter(mt.nn.tiles(model)))
    state = model.state_dict()
    key = next(k for k in state if k.endswith("rng_state"))
    philox = [7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]  # a CUDA generator's state: seed 7, offset 9
    state[key] = torch.tensor(philox, dtype=torch.uint8)
    with pytest.warns(UserWarning, match="another device type"):
        model.load_state_dict(state)
    assert tile.generator.initial_seed() == 7
    expected = torch.rand(4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.rand(4, generator=tile.generator), expected)


@pytest.mark.parametrize("device", DEVICES)
def test_state_saved_on_the_device_loads_on_the_cpu(device):
    model = mlp().to(device)
    x, y = batch(device)
    train(model, mt.InSituSGD(model.parameters(), lr=0.5), x, y)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    other = mlp()
    other.load_state_dict(torch.load(buffer, weights_only=True, map_location="cpu"))
    assert mt.summarize(other) == mt.summarize(model)


def test_an_update_on_another_device_is_refused_and_changes_nothing():
    tile = mt.tiles.AnalogTile((3, 4), mt.TileConfig(device="soft-bounds", cell="differential"))
    before = {k: v.clone() for k, v in tile.state_dict().items()}
    with pytest.raises(ValueError, match="delta_w is on meta, the tile on cpu"):
        tile.update(torch.zeros(3, 4, device="meta"))
    for key, value in tile.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize("device", DEVICES)
def test_a_cnn_trains_in_situ_on_the_device(device):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    config = mt.TileConfig(device="soft-bounds", cell="differential", seed=1, max_pulses=8)
    model = mt.convert(net, config, max_tile=(20, 20)).to(device)  # the conv splits into blocks of ≤ 20 rows
    moved(model, device)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 8, 8, generator=generator).to(device)
    y = torch.randint(0, 3, (8,), generator=generator).to(device)
    with trap(device):
        train(model, mt.InSituSGD(model.parameters(), lr=0.5), x, y)
    assert mt.summarize(model)["pulses"] > 0


@pytest.mark.parametrize("device", DEVICES)
def test_reads_over_time_and_through_wires_on_the_device(device):
    torch.manual_seed(0)
    config = mt.TileConfig(
        device="soft-bounds",
        cell="differential",
        seed=1,
        drift=mt.tiles.drift.PowerLawDrift(),
        periphery=mt.PeripheryConfig(read_noise=True, wire_resistance_ohm=2.0),
    )
    model = mt.convert(nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)), config).to(device)
    x, y = batch(device, n=32)
    with trap(device):
        result = mt.evaluate_over_time(model, x, y, ["1s", "1y"], repeats=2, compensate=True)
        tile = next(iter(mt.nn.tiles(model)))
        tile.redraw_drift()
        later = tile.weight_at("1d")
        tile.weight_at(0.0)
    assert len(result.mean) == 2 and later.device.type == torch.device(device).type
    assert not torch.equal(later, tile.effective_weight())  # a day of drift moved the weights
