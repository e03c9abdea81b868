"""bnn-system-energy: layer shapes from the real modules, the energy model per design, and what it finds."""

import math

import pytest

from memristorch.costs import MemoryCosts, UnitCosts, inference_energy_pj, rram_read_pj
from memristorch.experiments import get_experiment
from memristorch.experiments.biomedical.networks import BiosignalCNN
from memristorch.experiments.bnn_common import build_bnn, build_conv_bnn
from memristorch.experiments.bnn_system_energy import layer_shapes
from memristorch.runner import load_config


def test_layer_shapes_count_weights_and_macs_of_the_real_networks():
    mlp = layer_shapes(build_bnn(784, [1024, 1024], 10), (1, 28, 28))
    assert [r["weights"] for r in mlp] == [784 * 1024, 1024 * 1024, 1024 * 10]
    assert all(r["macs"] == r["weights"] for r in mlp)
    conv = layer_shapes(build_conv_bnn((3, 32, 32), [32, 32, 64, 64, 128, 128], [256], 10), (3, 32, 32))
    assert (
        conv[0]["weights"] == 3 * 32 * 9 and conv[0]["macs"] == 3 * 32 * 9 * 32 * 32
    )  # padding 1: 32×32 out
    assert conv[1]["macs"] == 32 * 32 * 9 * 32 * 32  # the pool follows the second conv, after its output
    assert conv[2]["macs"] == 32 * 64 * 9 * 16 * 16
    assert conv[-1]["macs"] == conv[-1]["weights"] == 256 * 10
    # the ×1 fully binarized ECG CNN: 1D convs slide over 126, 63 and 31 positions; 480 features + 64 RR code bits
    ecg = layer_shapes(BiosignalCNN("full-binary", 126, 5, [8, 16, 32], [7, 5, 5], 32, 64), (1, 126))
    assert [r["weights"] for r in ecg] == [8 * 7, 16 * 8 * 5, 32 * 16 * 5, (32 * 15 + 64) * 32, 32 * 5]
    assert [r["macs"] for r in ecg[:3]] == [8 * 7 * 126, 16 * 8 * 5 * 63, 32 * 16 * 5 * 31]


def test_energy_model_per_design():
    memory, units = MemoryCosts(), UnitCosts()
    read = rram_read_pj([10e3, 100e3], memory)
    assert read == pytest.approx(0.1**2 * (1e-4 + 1e-5) * 10e-9 * 1e12)
    two = inference_energy_pj(1000, 5000, "2T2R", memory, units, read)
    assert two["ecc"] == 0 and two["xnor"] == 0  # the XNOR happens in the sense amplifier; no ECC
    assert two["total"] == pytest.approx(5000 * (read + memory.sense_amp_pj + units.full_adder_energy_pj))
    sram = inference_energy_pj(1000, 5000, "SRAM+ECC", memory, units)
    assert sram["memory"] == pytest.approx(
        1000 * 72 / 64 * memory.sram_read_pj_per_bit
    )  # fetched once, 72/64 bits
    assert sram["ecc"] == math.ceil(1000 / 64) * memory.ecc_decode_pj_per_word
    with pytest.raises(ValueError, match="design must be one of"):
        inference_energy_pj(1000, 5000, "HBM", memory, units)
    with pytest.raises(ValueError, match="rram_read"):  # an in-memory design with no array read energy
        inference_energy_pj(1000, 5000, "2T2R", memory, units)
    with pytest.raises(ValueError, match="macs"):
        inference_energy_pj(1000, 10, "2T2R", memory, units, read)


def test_in_memory_2t2r_wins_on_the_mlp_and_loses_to_sram_where_convolutions_reuse_weights():
    spec = get_experiment("bnn-system-energy")
    s = spec.run(load_config(spec.config)).summary
    ratios = s["energy_over_2t2r"]
    assert ratios["mnist-mlp"]["SRAM+ECC"] > 5 and ratios["mnist-mlp"]["DRAM+ECC"] > 1000
    assert ratios["mnist-mlp"]["1T1R+ECC"] > 1.5 and ratios["cifar10-vgg"]["1T1R+ECC"] > 1.5
    # an in-memory read per MAC cannot beat SRAM when each weight is reused at 1,024 positions
    assert ratios["cifar10-vgg"]["SRAM+ECC"] < 1
    assert s["ber_at_weak_condition"]["2T2R"] < s["ber_at_weak_condition"]["1T1R"] / 10
    assert s["endurance_gain"] > 1
    with pytest.raises(ValueError, match="memory_costs has no field"):
        spec.run(load_config(spec.config, overrides={"memory_costs": {"hbm_pj": 1.0}}))
