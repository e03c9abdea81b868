import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import memristorch as mt
from memristorch.devices import PulsedDevice
from memristorch.nn import MemConv2d, MemLinear, convert, tiles


def ideal_config(**kw):
    return mt.TileConfig(device=PulsedDevice(response="linear", n_states=10_000), **kw)


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, groups=2),
        nn.Flatten(),
        nn.Linear(4 * 3 * 3, 10),
    )


def test_convert_swaps_layers_and_matches_float_without_nonidealities():
    model = small_cnn()
    converted = convert(model, ideal_config())
    kinds = [type(m) for m in converted.modules()]
    assert MemConv2d in kinds and MemLinear in kinds and nn.Linear not in kinds and nn.Conv2d not in kinds
    assert not any(isinstance(m, (MemLinear, MemConv2d)) for m in model.modules()), "not in place by default"
    x = torch.randn(5, 1, 8, 8)
    torch.testing.assert_close(converted(x), model(x), atol=1e-5, rtol=1e-5)


def test_memlinear_equals_linear_including_gradients():
    torch.manual_seed(1)
    ref = nn.Linear(7, 3)
    layer = MemLinear.from_float(ref, ideal_config())
    x = torch.randn(4, 7, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    layer(x).sum().backward()
    ref(x2).sum().backward()
    torch.testing.assert_close(layer(x), ref(x), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(x.grad, x2.grad, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad)


def test_conv_read_noise_uses_patch_norm():
    device = PulsedDevice(read_noise_rel=0.05)
    layer = MemConv2d(2, 6, 3, groups=2, config=mt.TileConfig(device=device))
    x = torch.rand(1, 2, 5, 5)
    with torch.no_grad():
        ideal = F.conv2d(x, layer.weight, layer.bias, groups=2)
        draws = torch.stack([layer(x) for _ in range(4000)])
    patch = F.unfold(x[:, :1], 3).norm(dim=1).reshape(1, 1, 3, 3)  # group 0 patch norms
    expected = layer.tile.cell.read_noise_weight_std * patch
    torch.testing.assert_close(draws.mean(0), ideal, atol=0.01, rtol=0)
    torch.testing.assert_close(draws.std(0)[:, :3], expected.expand(1, 3, 3, 3), rtol=0.06, atol=0)


def test_one_group_conv_read_noise_is_the_patch_norm_times_one_draw_per_output():
    """groups=1: the patch norm broadcasts over the output channels; the output must be exactly the noise-free
    convolution plus std · ‖patch‖ · z with z drawn from the tile's stream for the output's shape."""
    from memristorch._gaussian import standard_normal

    layer = MemConv2d(3, 5, 3, config=mt.TileConfig(device=PulsedDevice(read_noise_rel=0.05), seed=2))
    x = torch.rand(2, 3, 6, 6)
    replay = torch.Generator()
    replay.set_state(layer.tile.generator.get_state())
    with torch.no_grad():
        y = layer(x)
        bias = layer.bias.detach().view(1, -1, 1, 1)
        clean = F.conv2d(x, layer.weight)
        patch = F.conv2d(x**2, torch.ones(1, 3, 3, 3)).clamp(min=0).sqrt()  # (2, 1, 4, 4)
        z = standard_normal(clean.shape, replay)
        expected = torch.addcmul(
            clean, z, patch.expand_as(clean), value=layer.tile.cell.read_noise_weight_std
        )
    assert float((y - clean - bias).abs().mean()) > 1e-3  # the noise is there
    torch.testing.assert_close(y, expected + bias, rtol=0, atol=0)


def test_state_dict_round_trips_with_weights_only():
    model = convert(small_cnn(), mt.TileConfig(device="soft-bounds", seed=3))
    opt = mt.InSituSGD(model.parameters(), lr=0.05)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,))
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = convert(small_cnn(), mt.TileConfig(device="soft-bounds", seed=42))
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    for a, b in zip(tiles(model), tiles(restored), strict=True):
        torch.testing.assert_close(a.conductances(), b.conductances(), atol=0, rtol=0)
        assert a.ledger.summary() == b.ledger.summary()
    # same random stream afterwards: one more identical step gives identical devices
    opt2 = mt.InSituSGD(restored.parameters(), lr=0.05)
    for m, o in ((model, opt), (restored, opt2)):
        o.zero_grad()
        F.cross_entropy(m(x), y).backward()
        o.step()
    for a, b in zip(tiles(model), tiles(restored), strict=True):
        assert torch.equal(a.conductances(), b.conductances())


def test_insitu_sgd_tracks_float_sgd_with_linear_small_step_device():
    torch.manual_seed(0)
    float_model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
    device = PulsedDevice(response="linear", n_states=200_001)
    mem_model = convert(float_model, mt.TileConfig(device=device, rounding="nearest"))
    with torch.no_grad():
        for f, m in zip(float_model.parameters(), mem_model.parameters(), strict=True):
            f.copy_(m)
    start = [p.detach().clone() for p in float_model.parameters()]
    float_opt = torch.optim.SGD(float_model.parameters(), lr=0.05)
    mem_opt = mt.InSituSGD(mem_model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        x = torch.randn(32, 10, generator=g)
        y = torch.randint(0, 3, (32,), generator=g)
        for model, opt in ((float_model, float_opt), (mem_model, mem_opt)):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    drift = max(
        (f - m).abs().max().item()
        for f, m in zip(float_model.parameters(), mem_model.parameters(), strict=True)
    )
    moved = max((f - s).abs().max().item() for f, s in zip(float_model.parameters(), start, strict=True))
    assert moved > 0.05, "the test must train far enough to mean something"
    assert drift < 0.02 * moved, (drift, moved)
    assert mt.summarize(mem_model)["pulses"] > 0


def test_nan_gradient_raises_and_leaves_every_layer_untouched():
    model = convert(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)), mt.TileConfig(device="soft-bounds"))
    opt = mt.InSituSGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(torch.randn(3, 4)), torch.tensor([0, 1, 0])).backward()
    model[1].weight.grad[0, 0] = float("nan")  # the second layer is bad; the first must not move either
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="non-finite"):
        opt.step()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_hardware_aware_training_then_program():
    layer = MemLinear(3, 2, config=ideal_config())
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)  # float master weights
    layer(torch.ones(1, 3)).sum().backward()
    opt.step()
    assert not torch.allclose(layer.weight, layer.tile.effective_weight())
    layer.program()
    torch.testing.assert_close(layer.weight, layer.tile.effective_weight())


def test_optimizer_rejects_bad_hyperparameters():
    with pytest.raises(ValueError, match="lr"):
        mt.InSituSGD([nn.Parameter(torch.zeros(1))], lr=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        mt.InSituSGD([nn.Parameter(torch.zeros(1))], lr=0.1, momentum=1.5)


def test_copies_keep_training_in_situ():
    """A deep copy (and a float64 conversion) still sends its steps to its own devices."""
    import copy

    model = convert(nn.Sequential(nn.Linear(6, 3)), mt.TileConfig(device="soft-bounds"))
    for clone in (copy.deepcopy(model), copy.deepcopy(model).double()):
        assert clone[0].tile is not model[0].tile
        opt = mt.InSituSGD(clone.parameters(), lr=0.5)
        x = torch.randn(16, 6, dtype=clone[0].weight.dtype)
        F.cross_entropy(clone(x), torch.randint(0, 3, (16,))).backward()
        opt.step()
        assert mt.summarize(clone)["pulses"] > 0
        torch.testing.assert_close(
            clone[0].weight, clone[0].tile.effective_weight().to(clone[0].weight.dtype)
        )
    assert mt.summarize(model)["pulses"] == 0
