"""Per-output-column weight mapping: each output spans the whole conductance window, a digital scale restores it."""

import pytest
import torch
from torch import nn

import memristorch as mt

NO_NOISE = mt.PeripheryConfig(read_noise=False)


def uneven_net(seed: int = 0) -> nn.Sequential:
    """A linear layer whose outputs' weights differ in size by two decades (as after training, commonly)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(64, 16))
    with torch.no_grad():
        net[0].weight.mul_(torch.logspace(-2, 0, 16).unsqueeze(1))
    return net


def output_errors(model, net, seed: int = 0) -> torch.Tensor:
    """Relative error of each output of a noisy read against the float layer (over 256 random inputs)."""
    x = torch.randn(256, 64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        reference = x @ net[0].weight.T
        read = model(x) - net[0].bias
    return (read - reference).norm(dim=0) / reference.norm(dim=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_column_mapping_reads_small_outputs_far_more_accurately_under_read_noise(seed):
    net = uneven_net(seed)
    device = mt.get_device("linear", read_noise_rel=0.02)
    config = mt.TileConfig(device=device, cell="differential", seed=seed)
    per_layer = output_errors(mt.convert(net, config, weight_range="per-layer"), net, seed)
    per_column = output_errors(mt.convert(net, config, weight_range="per-column"), net, seed)
    # read noise is a share of the window: the smallest outputs (1 % of the layer's peak) drown in it per layer
    assert float(per_column[:4].mean()) < float(per_layer[:4].mean()) / 10
    assert float(per_column.max()) < 0.2 < float(per_layer.max())
    # the figures the README quotes: the four smallest outputs 4.8 % off per column, 320–340 % per layer
    assert float(per_column[:4].mean()) == pytest.approx(0.048, abs=0.002)
    assert 3.2 <= float(per_layer[:4].mean()) <= 3.45


def test_the_layer_computes_with_device_weights_times_the_column_scale():
    net = uneven_net()
    model = mt.convert(net, mt.TileConfig(device="linear", periphery=NO_NOISE), weight_range="per-column")
    layer = model[0]
    scale = layer.tile.column_scale
    torch.testing.assert_close(scale, net[0].weight.abs().amax(dim=1))  # w_max 1: scale = each output's peak
    assert (
        float(layer.weight.detach().abs().amax(dim=1).min()) > 0.95
    )  # every output near the top of the window
    x = torch.randn(5, 64)
    torch.testing.assert_close(model(x), x @ layer.effective_weight().T + net[0].bias)
    torch.testing.assert_close(layer.effective_weight(), net[0].weight.detach(), rtol=0, atol=2e-3)


def test_per_column_on_convolutions_tiled_layers_and_in_situ_training():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    config = mt.TileConfig(device="linear", cell="differential", periphery=NO_NOISE)
    model = mt.convert(net, config, weight_range="per-column", max_tile=(32, 8))
    x = torch.randn(3, 2, 6, 6)
    torch.testing.assert_close(model(x), net(x), rtol=0, atol=5e-3)
    assert isinstance(model[2], mt.nn.TiledMemLinear)
    assert not torch.equal(model[0].tile.column_scale, torch.ones(4))
    before = [t.column_scale.clone() for t in mt.nn.tiles(model)]
    optimizer = mt.InSituSGD(model.parameters(), lr=0.5)
    loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2]))
    loss.backward()
    optimizer.step()
    after = nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2]))
    assert float(after.detach()) < float(loss.detach())
    assert all(torch.equal(b, t.column_scale) for b, t in zip(before, mt.nn.tiles(model), strict=True))


def test_column_scales_travel_in_the_state_dict():
    net = uneven_net()
    config = mt.TileConfig(device="linear", periphery=NO_NOISE)
    model = mt.convert(net, config, weight_range="per-column")
    fresh = mt.convert(net, config)
    fresh.load_state_dict(model.state_dict())
    x = torch.randn(4, 64)
    torch.testing.assert_close(fresh(x), model(x))
    assert fresh[0].tile.column_scaled


def test_recurrent_layers_fall_back_to_per_layer_with_a_warning():
    with pytest.warns(UserWarning, match=r"per layer instead.*0 \(LSTM\)"):
        _, entries = mt.convert(
            nn.Sequential(nn.LSTM(4, 3), nn.Linear(3, 2)), weight_range="per-column", report=True
        )
    assert "per-column" not in entries[0].detail and "per-column" in entries[1].detail


@pytest.mark.parametrize(
    "scale, match",
    [
        (torch.ones(3), r"shape \(16,\)"),
        (torch.full((16,), float("nan")), "column scale"),
        (torch.zeros(16), "> 0"),
        ([1.0] * 16, "shape"),
    ],
)
def test_bad_column_scales_are_refused_and_change_nothing(scale, match):
    model = mt.convert(uneven_net(), mt.TileConfig(device="linear"), weight_range="per-column")
    tile = model[0].tile
    before = tile.column_scale.clone()
    with pytest.raises(ValueError, match=match):
        tile.set_column_scale(scale)
    assert torch.equal(before, tile.column_scale)
