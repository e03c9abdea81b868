import math

import pytest
import torch

from memristorch.devices import PRESETS, PulsedDevice, PulsedDeviceParams, get_device
from memristorch.devices.response import pulse_train_response

RESPONSES = ["linear", "soft_bounds", "exponential"]


def make(response, **kw):
    extra = {"nonlinearity_up": 3.0, "nonlinearity_down": 1.5} if response == "exponential" else {}
    return PulsedDevice(response=response, n_states=50, **{**extra, **kw})


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("g_min_s", {"g_min_s": 1e-4, "g_max_s": 1e-4}),
        ("g_min_s", {"g_min_s": 2e-4, "g_max_s": 1e-4}),
        ("pulse_width_s", {"pulse_width_s": -1e-9}),
        ("c2c_std", {"c2c_std": float("nan")}),
        ("g_max_s", {"g_max_s": float("nan")}),
        ("n_states", {"n_states": 1}),
        ("asymmetry", {"asymmetry": 1.0}),
        ("response", {"response": "quadratic"}),
        ("d2d_step_std", {"d2d_step_std": -0.1}),
    ],
)
def test_invalid_parameters_name_the_field(field, kwargs):
    with pytest.raises(ValueError, match=field):
        PulsedDeviceParams(**kwargs)


@pytest.mark.parametrize("response", RESPONSES)
def test_bounds_respected_under_random_pulses(response):
    dev = make(response, c2c_std=0.5, d2d_step_std=0.3, d2d_bounds_std=0.1)
    g = gen()
    state = dev.init_state((2000,), g)
    for _ in range(50):
        pulses = torch.randint(-30, 31, (2000,), generator=g).float()
        state = dev.apply_pulses(state, pulses, g)
        cond = dev.conductance(state)
        assert torch.all(state["u"] >= 0) and torch.all(state["u"] <= 1)
        assert torch.all(cond >= state["g_min"] - 1e-12) and torch.all(cond <= state["g_max"] + 1e-12)


@pytest.mark.parametrize("response", RESPONSES)
def test_monotone_response_to_same_sign_pulses(response):
    dev = make(response, d2d_step_std=0.2)
    g = gen()
    _, trace = pulse_train_response(dev, n_devices=16, n_pulses=60)
    up, down = trace[:, :61], trace[:, 60:]
    assert (torch.tensor(up).diff(dim=1) >= 0).all()
    assert (torch.tensor(down).diff(dim=1) <= 0).all()
    # and it really moves: from the low bound to (near) the high bound
    assert (up[:, -1] > up[:, 0] + 0.5 * (dev.g_max_s - dev.g_min_s)).all()
    del g


def test_batched_pulses_equal_single_pulses():
    """n pulses at once = n single pulses, for every response (closed forms are exact without C2C)."""
    for response in RESPONSES:
        dev = make(response, asymmetry=0.2)
        start = dev.set_conductance(dev.init_state((7,)), torch.linspace(2e-6, 90e-6, 7))
        for n in (5, -5):
            batched = dev.apply_pulses(start, torch.full((7,), float(n)))
            single = start
            for _ in range(abs(n)):
                single = dev.apply_pulses(single, torch.full((7,), math.copysign(1.0, n)))
            torch.testing.assert_close(batched["u"], single["u"], atol=1e-5, rtol=1e-5)


def test_soft_bounds_step_shrinks_toward_bound():
    dev = make("soft_bounds")
    _, trace = pulse_train_response(dev, n_devices=1, n_pulses=50)
    steps_up = torch.tensor(trace[0, :51]).diff()
    steps_down = -torch.tensor(trace[0, 50:]).diff()
    assert (steps_up.diff() < 0).all(), "potentiation steps must shrink as G nears g_max"
    assert (steps_down.diff() < 0).all(), "depression steps must shrink as G nears g_min"
    # first step from the low bound is s (g_max − g_min) with s = 1 / (n_states − 1)
    assert steps_up[0].item() == pytest.approx((dev.g_max_s - dev.g_min_s) / 49, rel=1e-4)


def test_linear_device_has_exactly_n_states():
    dev = get_device("finite-32")
    _, trace = pulse_train_response(dev, n_devices=1, n_pulses=40)
    values = torch.tensor(trace[0]).sort().values
    step = (dev.g_max_s - dev.g_min_s) / 31
    levels = 1 + int((values.diff() > 0.5 * step).sum())  # float32 drift (~1e-6 of a step) is not a level
    assert levels == 32
    assert float(values.diff().max()) == pytest.approx(step, rel=1e-3)


def test_exponential_curve_is_nonlinear_and_asymmetric():
    dev = PulsedDevice(response="exponential", n_states=100, nonlinearity_up=4.0, nonlinearity_down=1.0)
    _, trace = pulse_train_response(dev, n_devices=1, n_pulses=99)
    steps_up = torch.tensor(trace[0, :100]).diff()
    assert steps_up[0] > 10 * steps_up[-1]  # strong saturation with ν = 4: ratio e^4·(…) ≈ 54
    assert steps_up[0] / steps_up[-1] == pytest.approx(math.exp(4.0 * 98 / 99), rel=0.05)


def test_d2d_statistics_match_parameters():
    dev = PulsedDevice(response="linear", n_states=101, d2d_step_std=0.1, d2d_bounds_std=0.05)
    state = dev.init_state((200_000,), gen(1))
    step = state["step_up"] / dev.step
    assert step.mean().item() == pytest.approx(1.0, abs=0.002)
    assert step.std().item() == pytest.approx(0.1, rel=0.02)
    g_max = state["g_max"] / dev.g_max_s
    assert g_max.mean().item() == pytest.approx(1.0, abs=0.001)
    assert g_max.std().item() == pytest.approx(0.05, rel=0.02)


def test_c2c_noise_zero_mean_with_stated_spread():
    sigma = 0.2
    dev = PulsedDevice(response="linear", n_states=1001, c2c_std=sigma)
    start = dev.set_conductance(dev.init_state((200_000,)), torch.full((200_000,), 50e-6))
    for n in (1, 9):
        after = dev.apply_pulses(start, torch.full((200_000,), float(n)), gen(2))
        steps = (after["u"] - start["u"]) / dev.step  # n pulses of step s(1 + σξ): mean n, std σ√n
        assert steps.mean().item() == pytest.approx(n, abs=0.01 * n)
        assert steps.std().item() == pytest.approx(sigma * math.sqrt(n), rel=0.02)


def test_same_seed_same_numbers():
    dev = get_device("soft-bounds")
    runs = []
    for _ in range(2):
        g = gen(7)
        state = dev.init_state((1000,), g)
        state = dev.apply_pulses(state, torch.randint(-5, 6, (1000,), generator=g).float(), g)
        runs.append(dev.read(state, g))
    assert torch.equal(runs[0], runs[1])


def test_pulse_energy_is_joule_heating():
    dev = PulsedDevice(response="linear", set_voltage_v=1.2, reset_voltage_v=0.8, pulse_width_s=50e-9)
    state = dev.set_conductance(dev.init_state((2,)), torch.tensor([10e-6, 20e-6]))
    energy = dev.pulse_energy_j(state, torch.tensor([3.0, -2.0]))
    expected = torch.tensor([1.2**2 * 10e-6 * 50e-9 * 3, 0.8**2 * 20e-6 * 50e-9 * 2])
    torch.testing.assert_close(energy, expected)
    assert dev.total_pulse_energy_j(state, torch.tensor([3.0, -2.0])).item() == pytest.approx(
        expected.sum().item()
    )


def test_apply_pulses_does_not_modify_its_input():
    dev = get_device("soft-bounds")
    state = dev.init_state((100,), gen())
    before = {k: v.clone() for k, v in state.items()}
    dev.apply_pulses(state, torch.ones(100), gen())
    for k in state:
        assert torch.equal(state[k], before[k])


def test_every_preset_builds_and_documents_itself():
    for name, preset in PRESETS.items():
        dev = preset.build()
        assert dev.g_min_s < dev.g_max_s
        text = preset.description.lower()
        assert "placeholder" in text or "reference" in text, name
    with pytest.raises(ValueError, match="device preset"):
        get_device("unobtainium")
