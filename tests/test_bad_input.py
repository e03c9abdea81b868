"""No input corrupts anything: every bad number raises an error naming it and leaves device state, ledger and random
state exactly as they were (compared bit for bit), for every device preset."""

import pytest
import torch
from torch import nn

import memristorch as mt
from memristorch.devices.presets import PRESETS
from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.optim import InSituSGD
from memristorch.tiles import AnalogTile, TileConfig, VerifyConfig

PRESET_NAMES = sorted(PRESETS)


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every buffer and parameter, the tiles' generator states included (state_dict stores them)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _assert_unchanged(before: dict, module: nn.Module) -> None:
    after = module.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), f"{key} changed"


def _layer(preset: str, **config) -> mt.MemLinear:
    torch.manual_seed(0)
    return mt.MemLinear(6, 4, config=mt.TileConfig(device=preset, seed=3, **config))


BAD_UPDATES = [
    ("alpha", {"alpha": float("nan")}, torch.full((4, 6), 0.01)),
    ("alpha", {"alpha": float("inf")}, torch.full((4, 6), 0.01)),
    ("alpha", {"alpha": "0.1"}, torch.full((4, 6), 0.01)),
    ("delta_w", {}, torch.full((4, 6), float("nan"))),
    ("delta_w", {}, torch.full((4, 6), float("-inf"))),
    ("delta_w", {}, torch.full((6, 4), 0.01)),
    ("pulses on one device", {}, torch.full((4, 6), 1e30)),  # used to wrap around to −1e11 pulses
    ("pulses on one device", {"alpha": 1e30}, torch.full((4, 6), 0.01)),
]


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize(("field", "kwargs", "delta"), BAD_UPDATES)
def test_a_bad_update_raises_and_changes_nothing(preset, field, kwargs, delta):
    layer = _layer(preset)
    layer.tile.update(torch.full((4, 6), 0.05))  # a valid step first: a ledger with something in it
    before = _snapshot(layer)
    generator_state = layer.tile.generator.get_state()
    with pytest.raises(ValueError, match=field):
        layer.tile.update(delta, weight=layer.weight, **kwargs)
    _assert_unchanged(before, layer)
    assert torch.equal(layer.tile.generator.get_state(), generator_state)
    assert layer.tile.ledger.summary()["max_write_cycles"] >= 0


def test_capped_pulses_take_any_finite_step_and_the_ledger_never_wraps():
    layer = _layer("soft-bounds", max_pulses=1000)
    for _ in range(3):
        layer.tile.update(torch.full((4, 6), 1e30))
    summary = layer.tile.ledger.summary()
    assert summary["max_write_cycles"] == 3000 and summary["pulses"] == 3 * 24 * 1000
    with pytest.raises(ValueError, match="max_pulses"):
        mt.TileConfig(max_pulses=2**30)


def test_in_situ_sgd_is_all_or_nothing_across_layers():
    """The second layer's gradient is finite but its step would overflow the pulse plan: nothing may change."""
    torch.manual_seed(1)
    model = nn.Sequential(mt.MemLinear(5, 4), nn.Tanh(), mt.MemLinear(4, 3))
    optimizer = InSituSGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(8, 5)
    model(x).sum().backward()
    optimizer.step()  # fills the momentum buffers
    before = _snapshot(model)
    momentum = {id(p): s["momentum_buffer"].clone() for p, s in optimizer.state.items()}
    for p in model.parameters():
        p.grad = torch.full_like(p, 1e-3)
    model[2].weight.grad = torch.full_like(model[2].weight, 3e38)
    with pytest.raises(ValueError, match="pulses on one device"):
        optimizer.step()
    _assert_unchanged(before, model)
    for p, s in optimizer.state.items():
        assert torch.equal(s["momentum_buffer"], momentum[id(p)])


DEVICES = [*PRESET_NAMES, "weak-reset"]


def _device_and_state(name: str):
    device = WeakResetRRAM() if name == "weak-reset" else mt.get_device(name)
    return device, device.init_state((3, 2), torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", DEVICES)
@pytest.mark.parametrize(
    "pulses",
    [
        torch.full((3, 2), float("nan")),
        torch.full((3, 2), float("inf")),
        torch.full((3, 2), 1.5),
        torch.full((3, 2), float(2**25)),
        torch.ones(2, 3),
    ],
    ids=["nan", "inf", "fraction", "beyond-2^24", "shape"],
)
def test_device_entry_points_reject_bad_pulse_counts(name, pulses):
    device, state = _device_and_state(name)
    before = {k: v.clone() for k, v in state.items()}
    generator = torch.Generator().manual_seed(4)
    generator_state = generator.get_state()
    with pytest.raises(ValueError, match="pulses"):
        device.apply_pulses(state, pulses, generator)
    assert all(torch.equal(before[k], state[k]) for k in state)
    assert torch.equal(generator.get_state(), generator_state)
    with pytest.raises(TypeError, match="pulses"):
        device.apply_pulses(state, [1, 2, 3], generator)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_set_conductance_rejects_nan_negative_and_misshaped_targets(name):
    device, state = _device_and_state(name)
    for bad in (torch.full((3, 2), float("nan")), torch.full((3, 2), -1e-6), torch.ones(6)):
        with pytest.raises(ValueError, match="target_s"):
            device.set_conductance(state, bad)
    top = device.conductance(device.set_conductance(state, torch.full((3, 2), float("inf"))))
    assert torch.equal(top, device.conductance(device.set_conductance(state, torch.full((3, 2), 1.0))))


def test_a_float64_input_fails_before_any_noise_is_drawn():
    periphery = mt.PeripheryConfig(input_noise_std=0.1)
    layer = mt.MemLinear(6, 4, config=mt.TileConfig(periphery=periphery))
    generator_state = layer.tile.generator.get_state()
    with pytest.raises(TypeError, match="float64"):
        layer(torch.zeros(2, 6, dtype=torch.float64))
    assert torch.equal(layer.tile.generator.get_state(), generator_state)
    assert layer.double()(torch.zeros(2, 6, dtype=torch.float64)).dtype == torch.float64


def test_public_calls_name_the_argument_they_refuse():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(TypeError, match="config must be a TileConfig"):
        mt.convert(model, "soft-bounds")
    with pytest.raises(TypeError, match="model must be"):
        mt.convert("model")
    layer = mt.MemLinear(3, 2)
    with pytest.raises(TypeError, match="config must be a VerifyConfig"):
        layer.program_and_verify(torch.zeros(2, 3), "tight")
    with pytest.raises(TypeError, match="config must be a TileConfig"):
        mt.MemLinear(3, 2, config="soft-bounds")
    for seed in (float("nan"), 1.5, -1, True):
        with pytest.raises(ValueError, match="seed"):
            mt.TileConfig(seed=seed)
    with pytest.raises(TypeError, match="periphery"):
        mt.TileConfig(periphery={"dac_bits": 8})
    with pytest.raises(TypeError, match="device"):
        mt.get_device(None)
    assert isinstance(layer.program_and_verify(torch.zeros(2, 3), VerifyConfig()).pulses, torch.Tensor)
    for bad in ((-1, 3), (2.5, 3), (3, 0)):
        with pytest.raises(ValueError, match="_features"):
            mt.MemLinear(*bad)
    with pytest.raises(ValueError, match="kernel_size"):
        mt.MemConv2d(3, 4, 0)
    with pytest.raises(ValueError, match="3 features in dimension -1"):
        layer(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="3 features in dimension -3"):
        mt.MemConv2d(3, 4, 3)(torch.zeros(1, 2, 8, 8))
    zeros = torch.zeros(1)
    for call in (
        mt.summarize,
        lambda m: mt.calibrate(m, []),
        lambda m: mt.evaluate_over_time(m, zeros, zeros, [1]),
    ):
        with pytest.raises(TypeError, match="model must be"):
            call("model")


def test_a_relative_read_noise_given_in_siemens_is_flagged():
    """read_noise_rel (formerly read_noise_std) is a fraction of g_max; 2e-6 meant as 2 µS used to give no noise without a word."""
    with pytest.warns(UserWarning, match="read_noise_rel=2e-06 is relative to g_max"):
        mt.get_device("soft-bounds", read_noise_rel=2e-6)
    with pytest.warns(UserWarning, match="relative to g_max"):
        mt.get_device("knowm-cr", read_noise_rel=1e-6)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.get_device("soft-bounds", read_noise_rel=0.02)  # a plain relative noise: no warning


def test_the_old_read_noise_name_is_accepted_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="read_noise_rel"):
        device = mt.get_device("soft-bounds", read_noise_std=0.02)
    assert device.params.read_noise_rel == 0.02
    with pytest.raises(ValueError, match="not both"):
        mt.get_device("soft-bounds", read_noise_std=0.02, read_noise_rel=0.02)


def test_a_preset_file_written_with_the_old_read_noise_name_still_loads(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("family: pulsed\nparams:\n  read_noise_std: 0.03\n")
    with pytest.warns(DeprecationWarning, match="read_noise_rel"):
        device = mt.get_device(str(path))
    assert device.params.read_noise_rel == 0.03


@pytest.mark.parametrize(
    "device",
    [
        "soft-bounds",
        "knowm-cr",
        "weak-reset",
        "binary-rram",
        "st-mram",
    ],
)
def test_every_family_round_trips_through_a_preset_file(device, tmp_path):
    from memristorch.devices.binary_rram import BinaryRRAM
    from memristorch.devices.fit import write_preset
    from memristorch.devices.mram import STMRAM
    from memristorch.devices.weak_reset import WeakResetRRAM

    built = {
        "weak-reset": lambda: WeakResetRRAM(pink_alpha=0.03),
        "binary-rram": lambda: BinaryRRAM(hrs_sigma=0.5),
        "st-mram": lambda: STMRAM(thermal_stability=45.0),
    }.get(device, lambda: mt.get_device(device))()
    path = write_preset(tmp_path / f"{device}.yaml", built.params, "round trip")
    assert f"family: {built.family}" in path.read_text()
    loaded = mt.get_device(str(path))
    assert type(loaded) is type(built) and loaded.params == built.params


@pytest.mark.parametrize("max_pulses", [None, 5])
def test_an_alpha_beyond_float32_planning_raises_and_changes_nothing_even_on_a_zero_change(max_pulses):
    tile = AnalogTile((4, 6), TileConfig(device="soft-bounds", cell="differential", max_pulses=max_pulses))
    before = {k: v.clone() for k, v in tile.state_dict().items()}
    with pytest.raises(ValueError, match="pulses on one device per unit"):  # inf · 0 would plan NaN pulses
        tile.update(torch.zeros(4, 6), alpha=1e36)
    assert all(torch.equal(v, before[k]) for k, v in tile.state_dict().items())
