"""The network's read as a crossbar circuit: memristorch's sums vs ngspice's DC solution of the same netlist."""

import pytest
import torch

from memristorch.cells import DifferentialCell, SingleDeviceCell
from memristorch.devices import get_device
from memristorch.experiments.onchip_network import forward as network_forward
from memristorch.spice.network import CrossbarLayer, forward, network_netlist, simulate_network
from tests.conftest import require_ngspice


def programmed_layers(cell_class, seed=0):
    """A 9-3-1 network stored through ``cell_class`` on the knowm-cr preset: (crossbar layers, weights it holds)."""
    g = torch.Generator().manual_seed(seed)
    device = get_device("knowm-cr")
    weights = [
        torch.randn(3, 9, generator=g, dtype=torch.float64),
        torch.randn(1, 3, generator=g, dtype=torch.float64),
    ]
    layers, held = [], []
    for index, w in enumerate(weights):
        cell = cell_class(device, w_max=float(w.abs().max()) / 0.9)
        conductance = cell.target_conductances(w)
        if cell.devices_per_weight == 1:
            columns = [(conductance[0], 1.0), (torch.full_like(conductance[0], cell.g_ref_s), -1.0)]
        else:
            columns = [(conductance[0], 1.0), (conductance[1], -1.0)]
        layers.append(CrossbarLayer(columns, cell.gain, "tanh" if index == 0 else "linear"))
        held.append(cell.weight(conductance))
    return layers, held


@pytest.mark.parametrize("cell_class", [SingleDeviceCell, DifferentialCell])
def test_crossbar_sums_equal_the_network_forward(cell_class):
    layers, held = programmed_layers(cell_class)
    x = torch.tensor([1, 0, 1, 0, 1, 0, 1, 0, 1], dtype=torch.float64) * 0.2
    outputs = forward(layers, x)
    expected = network_forward(x.unsqueeze(0), held).squeeze(0)
    torch.testing.assert_close(outputs[-1], expected, rtol=1e-12, atol=1e-12)
    netlist = network_netlist(layers, x)
    assert netlist.count("\nR_") == sum(len(layer.columns) * layer.columns[0][0].numel() for layer in layers)


@pytest.mark.parametrize("cell_class", [SingleDeviceCell, DifferentialCell])
def test_ngspice_solves_the_same_network(cell_class):
    require_ngspice()
    layers, _ = programmed_layers(cell_class, seed=1)
    x = torch.tensor([0, 1, 0, 1, 1, 1, 0, 1, 0], dtype=torch.float64) * 0.2
    for ours, theirs in zip(forward(layers, x), simulate_network(layers, x), strict=True):
        torch.testing.assert_close(theirs, ours, rtol=1e-9, atol=1e-12)


def test_bad_layers_are_rejected():
    with pytest.raises(ValueError, match="activation"):
        CrossbarLayer([(torch.ones(2, 2), 1.0)], 1.0, "relu")
    with pytest.raises(ValueError, match="positive"):
        CrossbarLayer([(torch.zeros(2, 2), 1.0)], 1.0)
