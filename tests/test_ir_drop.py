"""IR drop: the crossbar read solved as a circuit, against closed forms, ngspice (live and stored) and in tiles."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import memristorch as mt
from memristorch.spice.crosscheck import ir_drop_case, ir_drop_error
from memristorch.spice.network import simulate_crossbar_ir
from memristorch.tiles.ir_drop import crossbar_currents, effective_conductances
from tests.conftest import require_ngspice

DATA = Path(__file__).parent / "data"


def test_one_device_sees_its_two_wire_segments_in_series_and_no_wire_means_no_drop():
    g = torch.tensor([[1e-3]], dtype=torch.float64)
    assert float(effective_conductances(g, 100.0)) == pytest.approx(1 / (2 * 100.0 + 1e3), rel=1e-12)
    many = torch.rand(5, 7, dtype=torch.float64) * 1e-4
    assert torch.equal(effective_conductances(many, 0.0), many)
    # more wire resistance, less current from every input (uniform array: no sneak path can add any)
    uniform = torch.full((5, 7), 5e-5, dtype=torch.float64)
    low, high = effective_conductances(uniform, 1.0), effective_conductances(uniform, 10.0)
    assert bool((high < low).all()) and bool((low < uniform).all())


def test_the_solve_equals_ngspice_on_the_stored_crossbar():
    stored = np.loadtxt(DATA / "ngspice-crossbar-ir.csv", delimiter=",", skiprows=1)[:, 1]
    assert ir_drop_error(stored) <= 1e-6


def test_the_solve_equals_ngspice_live():
    require_ngspice()
    g, v, r = ir_drop_case()
    assert ir_drop_error(simulate_crossbar_ir(g, v, r).numpy()) <= 1e-6
    torch.manual_seed(3)
    g = torch.rand(3, 8, dtype=torch.float64) * 2e-4 + 1e-6
    v = torch.rand(8, dtype=torch.float64)
    theirs = simulate_crossbar_ir(g, v, 20.0)
    torch.testing.assert_close(crossbar_currents(g, v.unsqueeze(0), 20.0)[0], theirs, rtol=1e-6, atol=0)


def test_a_tile_with_wire_resistance_reads_through_the_circuit_and_refreshes_after_writes():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(12, 5))
    periphery = mt.PeripheryConfig(read_noise=False, wire_resistance_ohm=10.0)
    model = mt.convert(net, mt.TileConfig(cell="differential", periphery=periphery))
    layer, x = model[0], torch.rand(3, 12)
    g = layer.tile.conductances()
    planes = torch.stack([effective_conductances(p.double(), 10.0) for p in g]).to(g.dtype)
    expected = x @ layer.tile.cell.weight(planes).T + layer.bias
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)
    ideal = x @ layer.weight.T + layer.bias
    assert (model(x) - ideal).abs().max() > 1e-3  # the drop is visible at 10 Ω
    before = model(x)
    layer.tile.update(torch.full((5, 12), 0.05), weight=layer.weight)
    assert not torch.allclose(model(x), before)  # the cached circuit solve was refreshed
    model(x).sum().backward()
    assert layer.weight.grad is not None and bool(layer.weight.grad.abs().sum() > 0)  # gradient to the mirror
    with pytest.raises(ValueError, match="wire_resistance_ohm"):
        mt.PeripheryConfig(wire_resistance_ohm=-1.0)
