"""Binary/ternary layers, bit-error channels, stochastic inputs and the bit-packed XNOR-popcount engine."""

import pytest
import torch
from torch import nn

from memristorch.cells.bit_errors import SignFlips, TernaryReadErrors
from memristorch.nn.binary import (
    BinaryConv1d,
    BinaryConv2d,
    BinaryLinear,
    SignActivation,
    TernaryConv2d,
    TernaryLinear,
    binarize,
    clear_stored_weights,
    clip_hidden_weights,
    set_training_errors,
    sign_activation,
    store_weights,
)
from memristorch.nn.packed import PackedBNN, pack_bits
from memristorch.nn.stochastic import StochasticBits


def test_sign_of_zero_is_plus_one_and_values_are_pm_one():
    x = torch.tensor([-2.0, -0.0, 0.0, 1e-9, 3.0])
    assert binarize(x).tolist() == [-1.0, 1.0, 1.0, 1.0, 1.0]
    layer = BinaryLinear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.0, -0.5, 0.2], [-1e-6, 0.0, 0.0]]))
    assert layer.quantized_weight().tolist() == [[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]]


def test_straight_through_gradients():
    w = torch.tensor([0.3, -2.0, 5.0], requires_grad=True)
    layer = BinaryLinear(3, 1)
    layer.weight = nn.Parameter(w.view(1, 3))
    layer(torch.ones(1, 3)).sum().backward()
    assert layer.weight.grad.tolist() == [[1.0, 1.0, 1.0]]  # weights: identity, even beyond |w| > 1
    a = torch.tensor([-1.5, -1.0, 0.0, 0.7, 2.0], requires_grad=True)
    sign_activation(a).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # activations: gated to |x| ≤ 1


def test_ternary_threshold_fixed_and_relative_and_validation():
    layer = TernaryLinear(4, 1, delta=0.25, delta_mode="fixed")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.1, -0.3, 0.25, -0.2]]))
    assert layer.quantized_weight().tolist() == [[0.0, -1.0, 0.0, 0.0]]
    relative = TernaryLinear(4, 1, delta=1.0, delta_mode="relative")
    with torch.no_grad():
        relative.weight.copy_(torch.tensor([[0.1, -0.3, 0.5, -0.1]]))  # mean |W| = 0.25
    assert relative.quantized_weight().tolist() == [[0.0, -1.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="delta must lie in"):
        TernaryLinear(4, 1, delta=-0.1)
    with pytest.raises(ValueError, match="delta_mode must be one of"):
        TernaryLinear(4, 1, delta_mode="median")
    with pytest.raises(ValueError, match="hidden_clip"):
        BinaryLinear(4, 1, hidden_clip=0.0)


def test_convolutions_use_quantized_weights():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    conv = BinaryConv2d(3, 4, 3, padding=1)
    expected = torch.nn.functional.conv2d(x, binarize(conv.weight), padding=1)
    torch.testing.assert_close(conv(x), expected)
    conv1 = BinaryConv1d(2, 3, 5, binarize_input=True)
    x1 = torch.randn(2, 2, 20)
    torch.testing.assert_close(conv1(x1), torch.nn.functional.conv1d(binarize(x1), binarize(conv1.weight)))
    tconv = TernaryConv2d(3, 4, 3, delta=0.1, delta_mode="fixed")
    w = tconv.quantized_weight()
    assert set(w.unique().tolist()) <= {-1.0, 0.0, 1.0} and (w == 0).any()
    torch.testing.assert_close(tconv(x), torch.nn.functional.conv2d(x, w))


def test_hidden_weight_clipping():
    model = nn.Sequential(BinaryLinear(3, 3, hidden_clip=1.0), BinaryLinear(3, 2))
    with torch.no_grad():
        model[0].weight.fill_(4.0)
        model[1].weight.fill_(4.0)
    clip_hidden_weights(model)
    assert model[0].weight.max() == 1.0 and model[1].weight.max() == 4.0


def test_sign_flip_channel_rate_and_validation():
    g = torch.Generator().manual_seed(0)
    w = binarize(torch.randn(1000, 1000, generator=g))
    flipped = SignFlips(0.01)(w, g)
    rate = float((flipped != w).float().mean())
    assert abs(rate - 0.01) < 5 * (0.01 / 1e6) ** 0.5
    assert torch.equal(SignFlips(0.0)(w, g), w)
    assert torch.equal(SignFlips(1.0)(w, g), -w)
    for bad in (-1e-3, 1.5, float("nan")):
        with pytest.raises(ValueError, match="ber"):
            SignFlips(bad)


def test_ternary_read_error_channel_rates():
    g = torch.Generator().manual_seed(1)
    n = 600_000
    w = torch.cat([torch.zeros(n), torch.ones(n), -torch.ones(n)])
    out = TernaryReadErrors(p_zero_to_nonzero=0.02, p_nonzero_to_zero=0.01, p_sign=0.005)(w, g)
    zero_out = out[:n]
    assert abs(float((zero_out != 0).float().mean()) - 0.02) < 0.002
    assert abs(float((zero_out == 1).float().mean()) - 0.01) < 0.001  # both signs equally likely
    nonzero_in, nonzero_out = w[n:], out[n:]
    assert abs(float((nonzero_out == 0).float().mean()) - 0.01) < 0.001
    assert abs(float((nonzero_out == -nonzero_in).float().mean()) - 0.005) < 0.001
    with pytest.raises(ValueError, match="p_nonzero_to_zero \\+ p_sign"):
        TernaryReadErrors(p_nonzero_to_zero=0.7, p_sign=0.6)
    with pytest.raises(ValueError, match="p_zero_to_nonzero"):
        TernaryReadErrors(p_zero_to_nonzero=-0.1)


def test_stored_weights_and_training_errors():
    model = nn.Sequential(BinaryLinear(50, 40), nn.BatchNorm1d(40), SignActivation(), BinaryLinear(40, 3))
    model.eval()
    x = torch.randn(8, 50)
    clean = model(x)
    store_weights(model, SignFlips(1.0))  # every bit wrong
    assert torch.equal(model[0].stored_weight, -model[0].quantized_weight().detach())
    store_weights(model, SignFlips(0.3), torch.Generator().manual_seed(0))
    assert not torch.equal(model(x), clean)
    clear_stored_weights(model)
    assert torch.equal(model(x), clean)
    g = torch.Generator().manual_seed(0)
    set_training_errors(model, SignFlips(1.0), g)
    model.train()
    w = model[0].effective_weight()
    assert torch.equal(w, -model[0].quantized_weight())  # applied on training forwards
    model.eval()
    assert torch.equal(model[0].effective_weight(), model[0].quantized_weight())  # never at evaluation


def test_stochastic_bits_statistics_and_modes():
    module = StochasticBits(16, adapted=True, seed=0)
    x = torch.full((20_000,), 0.3)
    counts = module.sample_counts(x)
    assert counts.min() >= -16 and counts.max() <= 16 and torch.all((counts + 16) % 2 == 0)
    assert abs(float(counts.mean()) / 16 - (2 * 0.3 - 1)) < 0.01  # E[mean of ±1 planes] = 2x − 1
    module.eval()
    assert not torch.equal(module(x), 2 * x - 1)
    module.train()
    assert not torch.equal(module(x), 2 * x - 1)  # adapted: bits in training too
    non_adapted = StochasticBits(4, adapted=False).train()
    assert torch.equal(non_adapted(x), 2 * x - 1)
    assert torch.equal(StochasticBits(None)(x), 2 * x - 1)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="k \\(stochastic bit-planes"):
            StochasticBits(bad)


def test_pack_bits_layout():
    bits = torch.zeros(2, 70, dtype=torch.bool)
    bits[0, 0] = bits[0, 64] = bits[1, 69] = True
    packed = pack_bits(bits)
    assert packed.shape == (2, 2)
    assert packed[0].tolist() == [1, 1] and packed[1].tolist() == [0, 1 << 5]
    with pytest.raises(TypeError):
        pack_bits(torch.ones(2, 3))


def _random_bn(n, generator):
    bn = nn.BatchNorm1d(n)
    with torch.no_grad():
        bn.running_mean.uniform_(-15, 15, generator=generator)
        bn.running_var.uniform_(1, 300, generator=generator)
        bn.weight.normal_(generator=generator)  # negative scales fold into a "≤" comparison
        bn.weight[:3] = 0.0  # constant neurons
        bn.bias.normal_(generator=generator)
    return bn


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("layer_class", [BinaryLinear, TernaryLinear])
@pytest.mark.parametrize("first", ["real", "binary", "stochastic"])
def test_packed_engine_equals_float_on_random_networks(layer_class, first, backend):
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    layers: list[nn.Module] = [nn.Flatten()]
    if first == "stochastic":
        layers.append(StochasticBits(8, seed=5))
    kwargs = {"delta": 0.5} if layer_class is TernaryLinear else {}
    layers += [
        layer_class(196, 257, binarize_input=first == "binary", bias=True, **kwargs),
        _random_bn(257, g),
        SignActivation(),
        layer_class(257, 130, **kwargs),
        _random_bn(130, g),
        nn.Dropout(0.3),
        SignActivation(),
        layer_class(130, 10, **kwargs),
        _random_bn(10, g),
    ]
    model = nn.Sequential(*layers).eval()
    x = torch.rand(300, 1, 14, 14, generator=g) - (0.5 if first == "binary" else 0.0)
    if first == "stochastic":
        model[1].reseed(11)
    expected = model(x)
    packed = PackedBNN(model, backend=backend)
    if first == "stochastic":
        model[1].reseed(11)
    assert torch.equal(packed(x), expected)
    if first != "stochastic":  # one sample, and an empty batch, through the same kernels
        assert torch.equal(packed(x[:1]), expected[:1])
        assert packed(x[:0]).shape == (0, 10)
    assert packed.memory_bits() == sum(
        m.weight.numel() * (2 if layer_class is TernaryLinear else 1) for m in model if hasattr(m, "levels")
    )


def test_packed_engine_equals_float_on_a_trained_network_with_stored_errors():
    from memristorch.data import load_dataset
    from memristorch.experiments.bnn_common import BNNTraining, build_bnn, train_bnn

    data = load_dataset("digits")
    settings = BNNTraining(dataset="digits", hidden=[96, 64], epochs=3, batch_size=32)
    model = build_bnn(64, settings.hidden, 10, seed=0)
    train_bnn(model, data.train.x, data.train.y, settings)
    expected = model(data.test.x)
    assert torch.equal(PackedBNN(model, threads=1)(data.test.x), expected)
    store_weights(model, SignFlips(0.05), torch.Generator().manual_seed(0))  # a faulty chip, packed as stored
    faulty = model(data.test.x)
    assert not torch.equal(faulty, expected)
    assert torch.equal(PackedBNN(model)(data.test.x), faulty)


def test_packed_engine_rejects_what_it_cannot_fold():
    with pytest.raises(ValueError, match="cannot pack Conv2d|cannot pack BinaryConv2d"):
        PackedBNN(nn.Sequential(BinaryConv2d(1, 2, 3)))
    with pytest.raises(ValueError, match="cannot fold ReLU"):
        PackedBNN(nn.Sequential(BinaryLinear(4, 3), nn.ReLU(), BinaryLinear(3, 2)))
    with pytest.raises(ValueError, match="without running statistics"):
        PackedBNN(nn.Sequential(BinaryLinear(4, 3), nn.BatchNorm1d(3, track_running_stats=False)))
    with pytest.raises(ValueError, match="no quantized linear layer"):
        PackedBNN(nn.Sequential(nn.Flatten()))
