"""Drift over time read through tiles, evaluate_over_time, hardware-aware noise, and what convert maps onto tiles
(every conv dimension, LSTM/GRU, attention, split tiles) or names as left in float."""

import math

import pytest
import torch
from torch import nn

import memristorch as mt
from memristorch.data import load_dataset
from memristorch.tiles import PowerLawDrift, RelaxationDrift, ZeroBiasRelaxation, parse_duration


def _state(device_name: str, shape=(2, 3, 4), seed=0):
    device = mt.get_device(device_name)
    state = device.init_state(shape, torch.Generator().manual_seed(seed))
    target = torch.linspace(device.g_min_s, device.g_max_s, math.prod(shape)).reshape(shape)
    return device, device.set_conductance(state, target)


def test_power_law_drift_follows_its_equation_and_never_acts_before_t0():
    device, state = _state("soft-bounds")
    drift = PowerLawDrift(state_dependent=False, nu_mean=0.06, nu_std=0.0, read_noise_q=0.0)
    params = drift.sample(state["u"].shape, torch.Generator().manual_seed(1))
    g0 = device.conductance(state)
    assert torch.equal(drift.conductance(device, state, params, 20.0, None), g0)
    for t in (3600.0, 3.15e7):
        expected = g0 * (t / 20.0) ** -0.06
        assert torch.allclose(drift.conductance(device, state, params, t, None), expected, rtol=1e-5)


def test_state_dependent_power_law_drifts_low_states_faster_and_noise_grows_with_time():
    drift = PowerLawDrift()
    z = torch.zeros(3)
    nu = drift.exponent(torch.tensor([0.01, 0.3, 1.0]), z)
    # the fitted mean exponent: 0.0244 − 0.0155 ln g_T, clipped to [0.049, 0.1]
    assert nu.tolist() == pytest.approx([0.0244 - 0.0155 * math.log(0.01), 0.049, 0.049], abs=1e-6)
    device, state = _state("soft-bounds", shape=(20000,))
    params = drift.sample((20000,), torch.Generator().manual_seed(2))
    g0 = device.conductance(state)
    high = g0 > 0.5 * device.g_max_s
    spreads = []
    for t in (1e2, 1e5, 1e8):
        g = drift.conductance(device, state, params, t, torch.Generator().manual_seed(3))
        spreads.append(float((g / g0)[high].std()))
    assert spreads[0] < spreads[1] < spreads[2]


def test_relaxation_moves_each_device_toward_the_bottom_by_its_log_time_fraction():
    device, state = _state("soft-bounds")
    drift = RelaxationDrift(rate_per_decade_mean=0.1, rate_per_decade_std=0.0)
    params = drift.sample(state["u"].shape, None)
    g0 = device.conductance(state)
    g = drift.conductance(device, state, params, 99.0, None)  # log10(1 + 99) = 2 decades: 20 % of the way
    assert torch.allclose(g, g0 + 0.2 * (device.g_min_s - g0), rtol=1e-5)
    far = drift.conductance(device, state, params, 1e12, None)
    assert torch.allclose(far, torch.full_like(far, device.g_min_s), rtol=1e-5)


def test_zero_bias_relaxation_is_the_devices_own_hold_at_zero_volts():
    device, state = _state("knowm-w", shape=(5,))
    expected = device.conductance(device.hold(state, 0.0, 10.0)[0])
    assert torch.equal(ZeroBiasRelaxation().conductance(device, state, {}, 10.0, None), expected)
    with pytest.raises(ValueError, match="hold"):
        pulsed, pulsed_state = _state("soft-bounds")
        ZeroBiasRelaxation().conductance(pulsed, pulsed_state, {}, 10.0, None)


def _layer(drift, cell="differential", seed=0) -> mt.MemLinear:
    torch.manual_seed(seed)
    return mt.MemLinear(8, 5, config=mt.TileConfig(cell=cell, drift=drift, seed=seed))


def test_reading_later_leaves_the_programmed_state_and_programming_restarts_the_clock(tmp_path):
    layer = _layer(PowerLawDrift())
    programmed = layer.weight.detach().clone()
    state = {k: v.clone() for k, v in layer.tile.state.items()}
    layer.read_at("1y")
    assert not torch.equal(layer.weight, programmed)
    assert all(torch.equal(state[k], v) for k, v in layer.tile.state.items())
    with pytest.raises(ValueError, match="read it at 0 s"):
        layer.tile.update(torch.full((5, 8), 0.01))
    torch.save(layer.state_dict(), tmp_path / "layer.pt")
    other = _layer(PowerLawDrift(), seed=1)
    other.load_state_dict(torch.load(tmp_path / "layer.pt", weights_only=True))
    assert float(other.tile.read_time_s) == parse_duration("1y")
    assert torch.equal(other.tile.drift_parameters()["nu_z"], layer.tile.drift_parameters()["nu_z"])
    layer.read_at(0)
    assert torch.equal(layer.weight, programmed)
    layer.read_at("1d")
    layer.program(programmed)
    assert float(layer.tile.read_time_s) == 0.0
    layer.tile.update(torch.full((5, 8), 0.01))  # freshly programmed: updates are allowed again


def test_global_compensation_undoes_a_uniform_shrink():
    """Both devices of every pair relax by the same fraction: weights shrink by one factor that one read recovers."""
    drift = RelaxationDrift(rate_per_decade_mean=0.1, rate_per_decade_std=0.0)
    layer = _layer(drift)
    with torch.no_grad():
        layer.bias.zero_()
    layer.tile.periphery = mt.PeripheryConfig(read_noise=False)
    x = torch.randn(16, 8)
    at_programming = layer(x)
    layer.read_at(9999.0)  # 4 decades: 40 % of the way to g_min
    shrunk = layer(x)
    assert torch.allclose(shrunk, 0.6 * at_programming, rtol=1e-4, atol=1e-6)
    layer.read_at(9999.0, compensate=True)
    assert torch.allclose(layer(x), at_programming, rtol=1e-4, atol=1e-6)
    assert float(layer.tile.output_scale) == pytest.approx(1 / 0.6, rel=1e-4)


def _digits_model(drift):
    digits = load_dataset("digits")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(digits.n_features, 32), nn.ReLU(), nn.Linear(32, digits.n_classes))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(digits.train.x), digits.train.y).backward()
        optimizer.step()
    model = mt.convert(net, mt.TileConfig(cell="differential", drift=drift), weight_range="per-layer")
    return model, digits.test.x, digits.test.y


def test_evaluate_over_time_loses_accuracy_as_the_devices_relax_and_is_reproducible():
    model, x, y = _digits_model(RelaxationDrift(rate_per_decade_mean=0.15, rate_per_decade_std=0.1))
    result = mt.evaluate_over_time(model, x, y, ["1s", "1d", "10y"], repeats=3, seed=4)
    assert result.n == 3 and result.times_s == [1.0, 86400.0, parse_duration("10y")]
    # a 15 ± 10 % per decade relaxation wipes most weights out within ten years (8.5 decades)
    assert result.mean[0] > 0.85
    assert result.mean[2] < result.mean[0] - 0.2
    again = mt.evaluate_over_time(model, x, y, ["1s", "1d", "10y"], repeats=3, seed=4)
    assert again.per_repeat == result.per_repeat
    assert all(float(t.read_time_s) == 0.0 for t in mt.nn.tiles(model))  # left read at programming time


def test_evaluate_over_time_refuses_what_it_cannot_do():
    model, x, y = _digits_model(None)
    with pytest.raises(ValueError, match="no drift model"):
        mt.evaluate_over_time(model, x, y, ["1h"])
    with pytest.raises(ValueError, match="convert it first"):
        mt.evaluate_over_time(nn.Sequential(nn.Linear(64, 10)), x, y, ["1h"])
    drifting, _, _ = _digits_model(PowerLawDrift())
    for bad in ({"times": ["1 parsec"]}, {"times": []}, {"repeats": 0}):
        with pytest.raises(ValueError):
            mt.evaluate_over_time(drifting, x, y, **{"times": ["1h"], **bad})
    with pytest.raises(ValueError, match="cannot be read over time"):
        model[0].read_at("1h")


def test_hardware_aware_noise_is_drawn_in_training_only():
    layer = mt.MemLinear(6, 4, config=mt.TileConfig(training_weight_noise=0.1))
    layer.tile.periphery = mt.PeripheryConfig(read_noise=False)
    x = torch.randn(3, 6)
    layer.train()
    a, b = layer(x), layer(x)
    assert not torch.equal(a, b)
    layer.eval()
    assert torch.equal(layer(x), layer(x))
    with pytest.raises(ValueError, match="training_weight_noise"):
        mt.TileConfig(training_weight_noise=-0.1)


def test_convert_names_the_layers_it_leaves_in_float_and_maps_each_layer_to_the_window():
    model = nn.Sequential(nn.ConvTranspose1d(1, 2, 3), nn.Flatten(), nn.Linear(10, 3), nn.RNNCell(3, 3))
    with pytest.warns(UserWarning, match=r"0 \(ConvTranspose1d\), 3 \(RNNCell\)"):
        converted = mt.convert(model)
    assert isinstance(converted[2], mt.MemLinear) and isinstance(converted[0], nn.ConvTranspose1d)
    with pytest.raises(ValueError, match="strict"):
        mt.convert(model, strict=True)
    small = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    with torch.no_grad():
        small[0].weight.mul_(0.1)
    mapped = mt.convert(small, weight_range="per-layer")
    assert [layer.tile.config.w_max for layer in mapped] == pytest.approx(
        [float(small[0].weight.detach().abs().max()), float(small[1].weight.detach().abs().max())]
    )


def test_parse_duration():
    assert parse_duration("1h") == 3600.0 and parse_duration("2 days") == 172800.0
    assert parse_duration("1y") == 365.25 * 86400 and parse_duration(5) == 5.0
    for bad in ("soon", "1 parsec", -1.0, float("inf")):
        with pytest.raises(ValueError, match="time"):
            parse_duration(bad)


def test_inference_drift_loses_accuracy_over_ten_years_and_compensation_wins_some_back(tmp_path):
    """Digits MLP: over base seeds 0–2 the plain network loses 1.7–3.3 points by 10 y under the PCM-style drift,
    and the compensated one ends 0.2–1.9 points above the uncompensated (n = 3 chips each)."""
    from memristorch.experiments import get_experiment
    from memristorch.runner import load_config
    from memristorch.runner.study import execute

    spec = get_experiment("inference-drift")
    overrides = {
        "dataset": "digits",
        "architecture": "mlp",
        "hidden": [32],
        "epochs": 30,
        "batch_size": 64,
        "drifts": ["power-law"],
        "times": ["1s", "1y", "10y"],
        "repeats": 3,
        "train_subset": None,
        "test_subset": None,
    }
    config = load_config(spec.config, overrides=overrides)
    results = execute(spec, config, tmp_path / "run")[0]
    entry = results.summary["power-law"]
    plain, compensated = entry["plain"]["accuracy_mean"], entry["plain/compensated"]["accuracy_mean"]
    assert plain[0] - plain[-1] > 0.01
    assert compensated[-1] > plain[-1]
    assert len(results.tables["accuracy_over_time"]) == 2 * 2 * 3
    resumed = execute(spec, config, tmp_path / "run", resume=True)[
        0
    ]  # the trained networks come from checkpoints
    assert resumed.summary == results.summary


@pytest.mark.parametrize(
    ("conv", "shape"), [(nn.Conv1d, (2, 3, 20)), (nn.Conv2d, (2, 3, 9, 9)), (nn.Conv3d, (2, 3, 6, 6, 6))]
)
def test_convolutions_of_every_dimension_convert_and_compute_what_the_float_layer_does(conv, shape):
    torch.manual_seed(0)
    net = nn.Sequential(conv(3, 4, 3, padding=1, stride=2, bias=True))
    periphery = mt.PeripheryConfig(read_noise=False)
    model = mt.convert(net, mt.TileConfig(device="linear", cell="differential", periphery=periphery))
    assert type(model[0]).__name__ == f"MemConv{len(shape) - 2}d"
    x = torch.randn(shape)
    layer = model[0]
    expected = conv(3, 4, 3, padding=1, stride=2)
    with torch.no_grad():
        expected.weight.copy_(layer.tile.effective_weight())
        expected.bias.copy_(net[0].bias)
    assert torch.allclose(model(x), expected(x), atol=1e-5)
    assert (layer.weight - net[0].weight).abs().max() < 0.01  # programmed within the device's resolution


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU, nn.RNN])
def test_lstm_and_gru_convert_onto_tiles_and_compute_what_torch_does(kind):
    torch.manual_seed(0)
    net = kind(5, 6, num_layers=2, batch_first=True)
    periphery = mt.PeripheryConfig(read_noise=False)
    model = mt.convert(
        nn.Sequential(net), mt.TileConfig(device="linear", cell="differential", periphery=periphery)
    )
    layer = model[0]
    assert type(layer).__name__ == f"Mem{kind.__name__}"
    reference = kind(5, 6, num_layers=2, batch_first=True)
    with torch.no_grad():  # torch's layer with exactly the weights the devices hold
        for k in range(2):
            getattr(reference, f"weight_ih_l{k}").copy_(layer.input_projections[k].tile.effective_weight())
            getattr(reference, f"weight_hh_l{k}").copy_(
                layer.recurrent_projections[k].tile.effective_weight()
            )
            getattr(reference, f"bias_ih_l{k}").copy_(getattr(net, f"bias_ih_l{k}"))
            getattr(reference, f"bias_hh_l{k}").copy_(getattr(net, f"bias_hh_l{k}"))
    x = torch.randn(3, 7, 5)
    ours, theirs = model(x), reference(x)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    unbatched = layer(x[0])
    torch.testing.assert_close(unbatched[0], theirs[0][0], rtol=1e-4, atol=1e-5)
    assert len(list(mt.nn.tiles(model))) == 4  # input and recurrent matrix of each of the two layers
    with pytest.warns(UserWarning, match="bidirectional"):
        left = mt.convert(nn.Sequential(kind(5, 6, bidirectional=True)))
    assert isinstance(left[0], kind)


def test_a_relu_rnn_converts_with_its_nonlinearity():
    torch.manual_seed(0)
    net = nn.RNN(4, 5, nonlinearity="relu")
    model = mt.convert(
        nn.Sequential(net), mt.TileConfig(device="linear", periphery=mt.PeripheryConfig(read_noise=False))
    )
    assert model[0].nonlinearity == "relu"
    x = torch.randn(6, 2, 4)
    torch.testing.assert_close(model(x)[0], net(x)[0], rtol=0, atol=2e-2)
    assert float(model(x)[0].detach().min()) >= 0.0


@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_converts_its_four_projections_and_computes_what_torch_does(batch_first):
    torch.manual_seed(0)
    net = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    periphery = mt.PeripheryConfig(read_noise=False)
    model = mt.convert(
        nn.Sequential(net), mt.TileConfig(device="linear", cell="differential", periphery=periphery)
    )
    layer = model[0]
    assert isinstance(layer, mt.nn.MemMultiheadAttention) and len(list(mt.nn.tiles(model))) == 4
    reference = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    with torch.no_grad():  # torch's layer with exactly the weights the devices hold
        held = [p.tile.effective_weight() for p in (layer.q_proj, layer.k_proj, layer.v_proj)]
        reference.in_proj_weight.copy_(torch.cat(held))
        reference.in_proj_bias.copy_(net.in_proj_bias)
        reference.out_proj.weight.copy_(layer.out_proj.tile.effective_weight())
        reference.out_proj.bias.copy_(net.out_proj.bias)
    shape = (2, 5, 8) if batch_first else (5, 2, 8)
    q, k = torch.randn(shape), torch.randn(shape)
    padding = torch.tensor([[False] * 4 + [True], [False] * 5])
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    ours = layer(q, k, k, key_padding_mask=padding, attn_mask=causal)
    theirs = reference(q, k, k, key_padding_mask=padding, attn_mask=causal)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-4, atol=1e-5)
    with pytest.warns(UserWarning, match="kdim"):
        left = mt.convert(nn.Sequential(nn.MultiheadAttention(8, 2, kdim=4, vdim=4)))
    assert isinstance(left[0], nn.MultiheadAttention)


def test_a_large_linear_splits_over_tiles_and_digitises_each_partial_sum():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(10, 7))
    periphery = mt.PeripheryConfig(read_noise=False)
    model = mt.convert(
        net, mt.TileConfig(device="linear", cell="differential", periphery=periphery), max_tile=(4, 3)
    )
    layer = model[0]
    assert isinstance(layer, mt.nn.TiledMemLinear)
    assert layer.input_splits == [4, 4, 2] and layer.output_splits == [3, 3, 1]
    assert len(list(mt.nn.tiles(model))) == 9
    held = torch.cat(
        [torch.cat([b.tile.effective_weight() for b in row], dim=1) for row in layer.blocks], dim=0
    )
    x = torch.randn(5, 10)
    torch.testing.assert_close(model(x), x @ held.T + net[0].bias, rtol=1e-5, atol=1e-6)
    # with an ADC each block's partial sum is quantised on its own, before the digital addition
    adc = mt.PeripheryConfig(read_noise=False, adc_bits=4, output_range=2.0)
    quantised = mt.convert(
        net, mt.TileConfig(device="linear", cell="differential", periphery=adc), max_tile=(4, 3)
    )
    blocks = quantised[0].blocks
    parts = x.split([4, 4, 2], dim=1)
    expected = torch.cat(
        [
            sum(mt.tiles.quantize_ste(p @ b.weight.T, 4, 2.0) for b, p in zip(row, parts, strict=True))
            for row in blocks
        ],
        dim=1,
    )
    torch.testing.assert_close(quantised(x), expected + net[0].bias)
    optimizer = mt.InSituSGD(model.parameters(), lr=0.1)
    nn.functional.mse_loss(model(x), torch.zeros(5, 7)).backward()
    optimizer.step()
    assert all(b.tile.ledger.summary()["pulses"] > 0 for row in layer.blocks for b in row)
    with pytest.raises(ValueError, match="max_tile"):
        mt.convert(net, max_tile=(0, 3))


@pytest.mark.parametrize("conv, dims", [(nn.Conv1d, 1), (nn.Conv2d, 2), (nn.Conv3d, 3)])
def test_a_large_conv_splits_over_tiles_by_input_and_output_channels(conv, dims):
    torch.manual_seed(0)
    net = nn.Sequential(conv(6, 8, 3, padding=1, stride=1))
    periphery = mt.PeripheryConfig(read_noise=False)
    config = mt.TileConfig(device="linear", cell="differential", periphery=periphery)
    rows = 2 * 3**dims  # two input channels' unrolled kernels per block
    model = mt.convert(net, config, max_tile=(rows, 5))
    layer = model[0]
    assert isinstance(layer, mt.nn.TiledMemConv)
    assert layer.input_splits == [2, 2, 2] and layer.output_splits == [5, 3]
    assert all(b.weight[0].numel() <= rows for row in layer.blocks for b in row)
    held = torch.cat(
        [torch.cat([b.tile.effective_weight() for b in row], dim=1) for row in layer.blocks], dim=0
    )
    x = torch.randn(2, 6, *([5] * dims))
    functional = getattr(nn.functional, f"conv{dims}d")
    expected = functional(x, held, net[0].bias, padding=1)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    # with an ADC, each block's partial sum is quantised on its own
    adc = mt.PeripheryConfig(read_noise=False, adc_bits=4, output_range=2.0)
    quantised = mt.convert(
        net, mt.TileConfig(device="linear", cell="differential", periphery=adc), max_tile=(rows, 5)
    )
    parts = x.split([2, 2, 2], dim=1)
    summed = torch.cat(
        [
            sum(
                mt.tiles.quantize_ste(functional(p, b.weight, padding=1), 4, 2.0)
                for b, p in zip(row, parts, strict=True)
            )
            for row in quantised[0].blocks
        ],
        dim=1,
    )
    bias = net[0].bias.view(-1, *([1] * dims))
    torch.testing.assert_close(quantised(x), summed + bias)
    optimizer = mt.InSituSGD(model.parameters(), lr=0.1)
    model(x).square().mean().backward()
    optimizer.step()
    assert all(b.tile.ledger.summary()["pulses"] > 0 for row in layer.blocks for b in row)


def test_a_conv_that_cannot_be_split_stays_on_one_tile_with_a_warning():
    grouped = nn.Sequential(nn.Conv2d(8, 4, 3, groups=2), nn.Conv2d(4, 4, 5))
    with pytest.warns(
        UserWarning, match=r"0 \(Conv2d: groups=2.*1 \(Conv2d: one input channel's kernel has 25"
    ):
        model = mt.convert(grouped, max_tile=(20, 4))
    assert isinstance(model[0], mt.nn.MemConv2d) and isinstance(model[1], mt.nn.MemConv2d)
    with pytest.raises(ValueError, match="groups=2"):
        mt.nn.TiledMemConv.from_float(grouped[0], mt.TileConfig(), 20, 4)


def test_convert_reports_every_weight_layers_fate():
    class LeNetMix(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv1d(1, 2, 3)
            self.c2 = nn.Conv2d(1, 2, 3)
            self.lstm = nn.LSTM(4, 4)
            self.attn = nn.MultiheadAttention(4, 2)
            self.up = nn.ConvTranspose2d(2, 1, 2)
            self.head = nn.Sequential(nn.Linear(8, 3), nn.BatchNorm1d(3))

    with pytest.warns(UserWarning) as caught:
        model, entries = mt.convert(LeNetMix(), report=True, max_tile=(4, 4))
    messages = " ".join(str(w.message) for w in caught)
    assert "up (ConvTranspose2d)" in messages and "c2 (Conv2d: one input channel's kernel has 9" in messages
    fates = {e.name: (e.source, e.became, e.tiles) for e in entries}
    assert fates == {
        "c1": ("Conv1d", "MemConv1d", 1),
        "c2": (
            "Conv2d",
            "MemConv2d",
            1,
        ),  # one channel's 3×3 kernel is 9 rows > 4: kept whole, with a warning
        "lstm": ("LSTM", "MemLSTM", 2),
        "attn": ("MultiheadAttention", "MemMultiheadAttention", 4),
        "up": ("ConvTranspose2d", "float", 0),
        "head.0": ("Linear", "TiledMemLinear", 2),
    }
    assert "left in float" in str(next(e for e in entries if e.name == "up"))
    with pytest.raises(ValueError, match="strict"):
        mt.convert(LeNetMix(), strict=True)
    with pytest.raises(TypeError, match="report"):
        mt.convert(LeNetMix(), report="yes")
