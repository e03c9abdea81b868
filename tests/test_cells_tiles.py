import pytest
import torch

from memristorch.cells import DifferentialCell, SingleDeviceCell
from memristorch.devices import PulsedDevice, get_device
from memristorch.tiles import AnalogTile, PeripheryConfig, TileConfig


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("cell_cls", [SingleDeviceCell, DifferentialCell])
def test_weight_conductance_round_trip(cell_cls):
    cell = cell_cls(get_device("ideal"), w_max=0.5)
    w = torch.linspace(-0.5, 0.5, 101)
    g = cell.target_conductances(w)
    assert g.shape == (cell.devices_per_weight, 101)
    torch.testing.assert_close(cell.weight(g), w, atol=1e-6, rtol=0)
    # out-of-range weights clip to ±w_max
    assert cell.weight(cell.target_conductances(torch.tensor([3.0, -3.0]))).tolist() == pytest.approx(
        [0.5, -0.5]
    )


@pytest.mark.parametrize("dither", ["rank1", "independent"])
def test_stochastic_rounding_is_unbiased(dither):
    cell = SingleDeviceCell(get_device("linear"), rounding="stochastic", dither=dither)
    per_pulse = cell.weight_per_pulse
    x = torch.tensor([0.1, 0.5, -0.3, 2.7, -1.25, 0.0]).repeat(64, 1) * per_pulse  # 64 rows × 6 columns
    g = gen(3)
    total = torch.zeros_like(x)
    trials = 4000
    for _ in range(trials):
        n = cell.plan_pulses(x, g)
        assert torch.equal(n, n.round())
        total += n
    mean = (total / trials).mean(0) * 1.0
    torch.testing.assert_close(mean, torch.tensor([0.1, 0.5, -0.3, 2.7, -1.25, 0.0]), atol=0.01, rtol=0)


def test_rank1_dither_is_pairwise_independent():
    """Rounding noise of two weights in one row, one column, or neither is uncorrelated."""
    cell = SingleDeviceCell(get_device("linear"), rounding="stochastic", dither="rank1")
    x = torch.full((2, 2), 0.5 * cell.weight_per_pulse)
    g = gen(4)
    samples = torch.stack([cell.plan_pulses(x, g).reshape(-1) for _ in range(20000)])
    corr = torch.corrcoef(samples.T)
    off_diagonal = corr[~torch.eye(4, dtype=torch.bool)]
    assert off_diagonal.abs().max() < 0.03


def test_nearest_rounding_and_cap():
    cell = SingleDeviceCell(get_device("linear"), rounding="nearest", max_pulses=3)
    per_pulse = cell.weight_per_pulse
    n = cell.plan_pulses(torch.tensor([[0.4, 0.6, -1.6, 10.0, -10.0]]) * per_pulse)
    assert n.tolist() == [[0.0, 1.0, -2.0, 3.0, -3.0]]


def test_invalid_cell_arguments():
    with pytest.raises(ValueError, match="w_max"):
        SingleDeviceCell(get_device("linear"), w_max=0.0)
    with pytest.raises(ValueError, match="rounding"):
        SingleDeviceCell(get_device("linear"), rounding="banker")
    with pytest.raises(ValueError, match="max_pulses"):
        SingleDeviceCell(get_device("linear"), max_pulses=0)
    with pytest.raises(ValueError, match="cell"):
        TileConfig(cell="triple")


def test_update_moves_weights_and_books_the_ledger():
    config = TileConfig(device=PulsedDevice(response="linear", n_states=201), rounding="nearest")
    tile = AnalogTile((3, 4), config)
    tile.program(torch.zeros(3, 4))
    per_pulse = tile.cell.weight_per_pulse
    counts = torch.tensor([[1.0, 0, 0, -2], [0, 0, 0, 0], [3, 3, 0, 0]])
    weight = tile.effective_weight().clone()
    changed = tile.update(counts * per_pulse, weight=weight)
    assert changed == 4
    torch.testing.assert_close(weight, counts * per_pulse, atol=1e-6, rtol=0)
    torch.testing.assert_close(tile.effective_weight(), weight)
    ledger = tile.ledger.summary()
    assert ledger["pulses"] == 9
    assert tile.ledger.write_cycles[0].tolist() == counts.abs().int().tolist()
    # row scheme: row 0 needs 1 SET + 2 RESET slots, row 2 needs 3 SET slots
    assert ledger["time_s"] == pytest.approx(6 * config.device.pulse_period_s)
    g_before = torch.full((3, 4), 0.5 * (config.device.g_min_s + config.device.g_max_s))
    expected_energy = float((g_before * counts.abs()).sum()) * 1.0**2 * config.device.params.pulse_width_s
    assert ledger["energy_j"] == pytest.approx(expected_energy, rel=0.05)


def test_differential_update_pushes_both_devices():
    config = TileConfig(
        device=PulsedDevice(response="linear", n_states=201), cell="differential", rounding="nearest"
    )
    tile = AnalogTile((1, 2), config)
    tile.program(torch.zeros(1, 2))
    tile.update(torch.tensor([[2.0, -1.0]]) * tile.cell.weight_per_pulse)
    assert tile.ledger.write_cycles.tolist() == [[[2, 1]], [[2, 1]]]
    g = tile.conductances()
    assert g[0, 0, 0] > g[1, 0, 0] and g[0, 0, 1] <= g[1, 0, 1]


def test_non_finite_update_raises_and_changes_nothing():
    tile = AnalogTile((4, 5), TileConfig(device="soft-bounds"))
    before = {k: v.clone() for k, v in tile.state_dict().items()}
    bad = torch.randn(4, 5)
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        tile.update(bad)
    bad[1, 2] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        tile.update(bad)
    for k, v in tile.state_dict().items():
        assert torch.equal(v, before[k]), k
    with pytest.raises(ValueError, match="shape"):
        tile.update(torch.zeros(5, 4))


def test_tile_state_dict_continues_the_random_stream():
    config = TileConfig(device="soft-bounds", seed=11)
    a = AnalogTile((8, 8), config)
    a.update(torch.randn(8, 8, generator=gen()) * 0.01)
    saved = {k: v.clone() for k, v in a.state_dict().items()}
    b = AnalogTile((8, 8), config.with_seed(99))
    b.load_state_dict(saved)
    delta = torch.randn(8, 8, generator=gen(1)) * 0.01
    a.update(delta)
    b.update(delta)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k


def test_read_noise_at_outputs_has_device_level_statistics():
    """Output noise std equals σ_w·‖x‖, what independent per-device read noise gives."""
    device = PulsedDevice(read_noise_rel=0.02)
    tile = AnalogTile((1, 50), TileConfig(device=device))
    x = torch.rand(50)
    y = torch.zeros(20000, 1)
    norm = torch.linalg.vector_norm(x).reshape(1, 1).expand(20000, 1)
    y = tile.finish_output(y, norm)
    expected = tile.cell.gain * device.read_noise_std_s * torch.linalg.vector_norm(x)
    assert y.std().item() == pytest.approx(expected.item(), rel=0.03)
    assert abs(y.mean().item()) < 0.05 * expected.item()


def test_dac_and_adc_quantize():
    periphery = PeripheryConfig(dac_bits=3, input_range=1.0, adc_bits=2, output_range=2.0)
    x = periphery.prepare_input(torch.linspace(-2, 2, 101), None)
    assert len(torch.unique(x)) == 7  # 2^3 − 1 symmetric levels, clipped at ±1
    assert x.abs().max().item() == pytest.approx(1.0)
    y = periphery.finish_output(torch.linspace(-3, 3, 101), None, 0.0, None)
    assert len(torch.unique(y)) == 3
    with pytest.raises(ValueError, match="dac_bits"):
        PeripheryConfig(dac_bits=0)
