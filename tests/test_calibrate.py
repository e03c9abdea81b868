"""Periphery: DAC/ADC ranges from data, a warning naming the layer whose converter clips, and the cost of reads."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import memristorch as mt

from .conftest import require_dataset


def _lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def _accuracy(model, x, y) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def test_calibration_brings_an_8_bit_lenet_back_to_the_analog_accuracy():
    """The #14 acceptance case: with 8-bit DAC/ADC at the default ranges the hidden activations clip (accuracy fell
    to ~47 % here); calibrated on two batches it is within 2 points of the unquantised analog network."""
    data = require_dataset("mnist")
    x, y = data.train.x[:20000], data.train.y[:20000]
    x_test, y_test = data.test.x[:5000], data.test.y[:5000]
    torch.manual_seed(0)
    net = _lenet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y), 128):
            index = order[i : i + 128]
            optimizer.zero_grad()
            F.cross_entropy(net(x[index]), y[index]).backward()
            optimizer.step()
    analog = _accuracy(mt.convert(net, mt.TileConfig(cell="differential")), x_test, y_test)
    periphery = mt.PeripheryConfig(dac_bits=8, adc_bits=8)
    chip = mt.convert(net, mt.TileConfig(cell="differential", periphery=periphery))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uncalibrated = _accuracy(chip, x_test, y_test)
    messages = " | ".join(str(w.message) for w in caught)
    for layer in ("4", "8", "10", "12"):  # every layer after the first sees activations beyond ±1
        assert f"layer '{layer}':" in messages and "of its DAC inputs clip at input_range 1" in messages
    ranges = mt.calibrate(chip, [x[:512], (x[512:1024], y[512:1024])])
    assert set(ranges) == {"1", "4", "8", "10", "12"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing clips any more
        calibrated = _accuracy(chip, x_test, y_test)
    assert analog > 0.85
    assert uncalibrated < analog - 0.2
    assert calibrated > analog - 0.02
    restored = mt.convert(net, mt.TileConfig(cell="differential", periphery=periphery))
    restored.load_state_dict(chip.state_dict())  # the ranges travel in state_dict
    assert [m.tile.input_range.item() for m in restored if isinstance(m, mt.MemLinear | mt.MemConv2d)] == [
        r[0] for r in ranges.values()
    ]


def test_calibration_refuses_what_it_cannot_do_and_leaves_no_tile_recording():
    model = mt.convert(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    with pytest.raises(ValueError, match="convert it first"):
        mt.calibrate(nn.Sequential(nn.Linear(4, 3)), [torch.zeros(2, 4)])
    with pytest.raises(ValueError, match="nothing"):
        mt.calibrate(model, [])
    with pytest.raises(TypeError, match="batches"):
        mt.calibrate(model, ["not a tensor"])
    with pytest.raises(ValueError, match="percentile"):
        mt.calibrate(model, [torch.randn(8, 4)], percentile=0.0)
    assert all(t._calibration is None for t in mt.nn.tiles(model))
    before = [t.input_range.item() for t in mt.nn.tiles(model)]
    assert before == [1.0, 1.0]  # a failed calibration changed no range
    with pytest.raises(ValueError, match="input_range"):
        model[0].tile.set_ranges(input_range=float("nan"))
    with pytest.warns(
        UserWarning, match="every recorded input was 0"
    ):  # nothing to set a range from: kept, said
        mt.calibrate(model, [torch.zeros(4, 4)])
    assert model[0].tile.input_range.item() == 1.0


def test_read_cost_books_array_energy_converters_and_latency_apart_from_writes():
    torch.manual_seed(0)
    periphery = mt.PeripheryConfig(book_reads=True, dac_bits=8, adc_bits=8, input_range=2.0)
    model = mt.convert(
        nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3)), mt.TileConfig(periphery=periphery)
    )
    x = torch.rand(5, 8)  # inside the DAC range: quantised inputs stay within one step of x
    writes = mt.summarize(model)
    model(x)
    summary = mt.summarize(model)
    assert summary["pulses"] == writes["pulses"] and summary["energy_j"] == writes["energy_j"]  # reads apart
    assert summary["mvms"] == 5 + 5
    first = model[0].tile
    g = first.conductances().sum(0)
    expected = float((x @ g.T).sum()) * 0.2**2 * 10e-9 / 2.0  # Σ |x|/x_range · G · V² · t_read
    assert float(first.ledger.read_energy_j) == pytest.approx(expected, rel=1e-2)
    dac, adc = 50e-15, 10e-15 * 2**8
    assert summary["converter_energy_j"] == pytest.approx((5 * 8 + 5 * 6) * dac + (5 * 6 + 5 * 3) * adc)
    assert summary["read_time_s"] == pytest.approx(10 * (10e-9 + 5e-9))
    conv = mt.convert(nn.Sequential(nn.Conv2d(2, 3, 3)), mt.TileConfig(periphery=periphery))
    conv(torch.rand(2, 2, 5, 5))
    assert mt.summarize(conv)["mvms"] == 2 * 3 * 3  # one matrix-vector product per output position
    quiet = mt.convert(nn.Sequential(nn.Linear(8, 6)))
    quiet(x)
    assert mt.summarize(quiet)["mvms"] == 0  # off by default: no cost on the read path
    with pytest.raises(ValueError, match="read_time_s"):
        mt.PeripheryConfig(read_time_s=-1.0)
