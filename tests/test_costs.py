"""The stated digital cost model (memristorch.costs) and its use in stochastic-inputs."""

import math

import pytest

from memristorch.costs import UnitCosts, layer_cost, mlp_cost

U = UnitCosts()


def test_binary_layer_is_xnor_popcount_plus_register_and_weights():
    cost = layer_cost(100, 10, "binary", U)
    assert cost.logic_area_um2 == pytest.approx(
        100 * (U.xnor_area_um2 + U.full_adder_area_um2) + 100 * U.flip_flop_area_um2
    )
    assert cost.memory_area_um2 == pytest.approx(1000 * U.mram_bit_area_um2)
    per_neuron = 100 * (U.xnor_energy_pj + U.full_adder_energy_pj)
    assert cost.logic_energy_pj == pytest.approx(10 * per_neuron + 100 * U.flip_flop_energy_pj)
    assert cost.memory_energy_pj == pytest.approx(1000 * U.mram_read_energy_pj)


def test_stochastic_layer_area_does_not_grow_with_k_but_its_energy_does():
    costs = {k: layer_cost(784, 512, "stochastic", U, 8, k) for k in (1, 2, 4, 8, 16)}
    areas = [c.area_um2 for c in costs.values()]
    # only the K-count accumulator widens (log2 of n K bits)
    assert max(areas) - min(areas) < 10 * U.full_adder_area_um2
    logic = [c.logic_energy_pj for c in costs.values()]
    assert all(b > a for a, b in zip(logic, logic[1:], strict=False))
    # energy is K passes (bits and XNOR-popcounts) plus the input register, read once
    register = 784 * 8 * U.flip_flop_energy_pj
    per_pass_1 = costs[1].logic_energy_pj - register
    per_pass_16 = (costs[16].logic_energy_pj - register) / 16
    assert per_pass_16 == pytest.approx(per_pass_1, rel=0.01)


def test_fixed_point_first_layer_against_stochastic_ratios_at_the_defaults():
    """784-512-512-10 with 8-bit pixels: the stochastic first layer saves 17.6 % of its area (13.5 % of the
    network's, memory included) and ×1.96 of its energy at K = 1, falling below ×1 by K = 16."""
    widths = [784, 512, 512, 10]
    fixed = mlp_cost(widths, "fixed-point")
    one, sixteen = mlp_cost(widths, "stochastic", k=1), mlp_cost(widths, "stochastic", k=16)
    assert 100 * (1 - one["layer0"].area_um2 / fixed["layer0"].area_um2) == pytest.approx(17.6, abs=0.1)
    assert 100 * (1 - one["total"].area_um2 / fixed["total"].area_um2) == pytest.approx(13.5, abs=0.1)
    assert fixed["layer0"].energy_pj / one["layer0"].energy_pj == pytest.approx(1.96, abs=0.01)
    assert fixed["total"].energy_pj / sixteen["total"].energy_pj < 1
    # the layers after the first are the same binary layers in both designs
    for name in ("layer1", "layer2"):
        assert fixed[name] == one[name]
    adder_bits = 784 * (8 + 0.5 * math.log2(784))
    assert fixed["layer0"].logic_area_um2 == pytest.approx(
        784 * 8 * U.xnor_area_um2 + adder_bits * U.full_adder_area_um2 + 784 * 8 * U.flip_flop_area_um2
    )


def test_bad_cost_inputs_raise_naming_the_argument():
    with pytest.raises(ValueError, match="kind"):
        layer_cost(10, 10, "analog", U)
    with pytest.raises(ValueError, match="k"):
        layer_cost(10, 10, "stochastic", U, 8, 0)
    with pytest.raises(ValueError, match="mram_bit_area_um2"):
        UnitCosts(mram_bit_area_um2=-1.0)
    with pytest.raises(ValueError, match="widths"):
        mlp_cost([784], "binary")
    with pytest.raises(ValueError, match="lfsr_count"):
        layer_cost(10, 10, "stochastic", U, 8, 1, lfsr_count=0)


def test_stochastic_inputs_reports_cost_beside_accuracy(tmp_path):
    from memristorch.experiments import get_experiment
    from memristorch.runner import load_config

    spec = get_experiment("stochastic-inputs")
    overrides = {"dataset": "digits", "hidden": [32, 32], "epochs": 1, "ks": [1, 16], "draws": 1}
    results = spec.run(load_config(spec.config, overrides=overrides))
    rows = {r["k"]: r for r in results.tables["accuracy_vs_k"]}
    expected = mlp_cost([64, 32, 32, 10], "stochastic", k=16)["total"]
    assert rows[16]["area_um2"] == pytest.approx(expected.area_um2)
    assert rows[16]["energy_pj"] == pytest.approx(expected.energy_pj)
    assert rows[1]["energy_factor"] > rows[16]["energy_factor"]
    assert "cost_vs_k" in results.figures
    with pytest.raises(ValueError, match="unit_costs has no field"):
        spec.run(load_config(spec.config, overrides={**overrides, "unit_costs": {"nand_area": 1.0}}))
