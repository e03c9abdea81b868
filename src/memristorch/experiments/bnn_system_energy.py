"""``bnn-system-energy``: energy per inference of a BNN on in-memory 2T2R RRAM against memories that need ECC.

The 2T2R study (Hirtzlin et al., Frontiers in Neuroscience 2020) argues that a BNN tolerates the bit errors of a
2T2R array read by a precharge sense amplifier, so the XNOR can happen in the sense amplifier with no ECC, while
SRAM/DRAM storage or single-device (1T1R) RRAM would need one. Here, for the MNIST MLP and the reduced CIFAR-10 VGG
BNN of the other studies (layer shapes from the real modules; no training), :func:`memristorch.costs.inference_energy_pj`
gives the energy of one inference in four designs: 2T2R in memory (every MAC reads its pair), 1T1R in memory with
SECDED, and SRAM or DRAM holding the weights with SECDED (and the same for the ×1 fully binarized ECG CNN), the XNOR and popcount in logic. RRAM reads use the
resistances of the programming condition. Weak programming also wears devices less: endurance follows the stated
model N = N_ref · (E_ref / E)^γ in the programming energy per bit E (placeholder — calibrate).
"""

from __future__ import annotations

import math
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import torch
from pydantic import Field
from torch import nn

from ..cells.binary_rram import OneT1RCell, TwoT2RCell
from ..costs import MemoryCosts, UnitCosts, inference_energy_pj, rram_read_pj, with_overrides
from ..devices.binary_rram import BinaryRRAM, ProgrammingCondition
from ..nn.binary import BinaryConv1d, BinaryConv2d, BinaryLinear
from ..runner.config import StudyConfig
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from .biomedical.ecg import ECGBNNConfig
from .biomedical.networks import BiosignalCNN
from .bnn_common import Width, build_bnn, build_conv_bnn

DESIGNS = ("2T2R", "1T1R+ECC", "SRAM+ECC", "DRAM+ECC")
NETWORKS = {"mnist-mlp": (1, 28, 28), "cifar10-vgg": (3, 32, 32), "ecg-cnn": (1, 126)}


class BNNSystemEnergyConfig(StudyConfig):
    """Configuration of ``bnn-system-energy`` (seconds: no training)."""

    networks: list[Literal["mnist-mlp", "cifar10-vgg", "ecg-cnn"]] = Field(
        default_factory=lambda: ["mnist-mlp", "cifar10-vgg", "ecg-cnn"], min_length=1
    )
    """The BNNs: the 784-1024-1024-10 MLP of ``bnn-ber``, the reduced-width CIFAR-10 VGG BNN, and the fully
    binarized ×1 1D CNN of ``ecg-bnn`` (126-sample beat, 64 RR code bits)."""
    mlp_hidden: list[Width] = Field(default_factory=lambda: [1024, 1024], min_length=1, max_length=16)
    """Hidden widths of the MNIST MLP."""
    conv_channels: list[Width] = Field(
        default_factory=lambda: [32, 32, 64, 64, 128, 128], min_length=1, max_length=16
    )
    """3×3 conv widths of the CIFAR-10 BNN (2×2 max-pool after every second)."""
    conv_fc: list[Width] = Field(default_factory=lambda: [256], max_length=8)
    """Hidden fully connected widths after its convolutions."""
    compliance_current_a: float = Field(20e-6, gt=0, le=1e-2)
    """SET compliance current of the (weak) programming condition the chip is written at (A)."""
    reset_voltage_v: float = Field(1.5, gt=0, le=10)
    """RESET voltage of that condition (V)."""
    strong_compliance_current_a: float = Field(200e-6, gt=0, le=1e-2)
    """The strong, ECC-class programming condition endurance is compared with (A)."""
    strong_reset_voltage_v: float = Field(2.0, gt=0, le=10)
    """Its RESET voltage (V)."""
    endurance_reference_cycles: float = Field(1e6, gt=0, le=1e15)
    """Write cycles to failure at the strong condition (placeholder — calibrate)."""
    endurance_exponent: float = Field(1.0, ge=0, le=10)
    """γ of N = N_ref (E_ref / E)^γ (placeholder — calibrate)."""
    memory_costs: dict[str, float] = Field(default_factory=dict)
    """Overrides of :class:`memristorch.costs.MemoryCosts` fields."""
    unit_costs: dict[str, float] = Field(default_factory=dict)
    """Overrides of :class:`memristorch.costs.UnitCosts` fields."""


def layer_shapes(network: nn.Module, input_shape: tuple[int, ...]) -> list[dict]:
    """Weights and XNOR-accumulates per binary layer, from one forward pass of a zero image (hooks on the layers)."""
    rows: list[dict] = []

    def hook(module, _inputs, output):
        weights = module.weight.numel()
        if isinstance(module, BinaryConv2d):
            positions = output.shape[-1] * output.shape[-2]
        elif isinstance(module, BinaryConv1d):
            positions = output.shape[-1]
        else:
            positions = 1
        rows.append({"layer": type(module).__name__, "weights": weights, "macs": weights * positions})

    handles = [
        m.register_forward_hook(hook)
        for m in network.modules()
        if isinstance(m, (BinaryLinear, BinaryConv1d, BinaryConv2d))
    ]
    network.eval()
    inputs = [torch.zeros(1, int(np.prod(input_shape)))]
    if isinstance(network, BiosignalCNN) and network.n_extra:
        inputs.append(torch.zeros(1, network.n_extra))
    with torch.no_grad():
        network(*inputs)
    for handle in handles:
        handle.remove()
    return rows


def _network(name: str, config: BNNSystemEnergyConfig) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        if name == "mnist-mlp":
            return build_bnn(784, config.mlp_hidden, 10)
        if name == "ecg-cnn":
            ecg = ECGBNNConfig()
            n_extra = 4 * ecg.rr_levels
            return BiosignalCNN(
                "full-binary", NETWORKS[name][1], 5, ecg.channels, ecg.kernels, ecg.hidden, n_extra
            )
        return build_conv_bnn(NETWORKS[name], config.conv_channels, config.conv_fc, 10)


def run(config: BNNSystemEnergyConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "bnn-system-energy", config)
    memory = with_overrides(MemoryCosts, config.memory_costs, "memory_costs")
    units = with_overrides(UnitCosts, config.unit_costs, "unit_costs")
    device = BinaryRRAM()
    weak = ProgrammingCondition(config.compliance_current_a, config.reset_voltage_v)
    strong = ProgrammingCondition(config.strong_compliance_current_a, config.strong_reset_voltage_v)
    r_lrs, r_hrs = math.exp(device.lrs(weak).mu[0]), math.exp(device.hrs(weak).mu[0])
    # a 2T2R read conducts through its LRS and its HRS device; a 1T1R read through one device, LRS or HRS alike
    read = {
        "2T2R": rram_read_pj([r_lrs, r_hrs], memory),
        "1T1R+ECC": 0.5 * (rram_read_pj([r_lrs], memory) + rram_read_pj([r_hrs], memory)),
    }
    rows, layers = [], []
    for name in config.networks:
        shapes = layer_shapes(_network(name, config), NETWORKS[name])
        layers += [{"network": name, **r} for r in shapes]
        weights, macs = sum(r["weights"] for r in shapes), sum(r["macs"] for r in shapes)
        energies = {
            d: inference_energy_pj(weights, macs, d, memory, units, read.get(d, 0.0)) for d in DESIGNS
        }
        for design, parts in energies.items():
            rows.append(
                {
                    "network": name,
                    "design": design,
                    "weights": weights,
                    "macs": macs,
                    **{f"{k}_pj": v for k, v in parts.items()},
                    "energy_over_2t2r": parts["total"] / energies["2T2R"]["total"],
                }
            )
    endurance = []
    pair = TwoT2RCell(device)
    strong_energy = pair.energy_per_bit_j(strong)
    for label, condition in (("weak", weak), ("strong", strong)):
        energy = pair.energy_per_bit_j(condition)
        endurance.append(
            {
                "condition": label,
                "compliance_current_a": condition.compliance_current_a,
                "reset_voltage_v": condition.reset_voltage_v,
                "programming_energy_per_bit_j": energy,
                "ber_2t2r": pair.bit_error_rate(condition),
                "ber_1t1r": OneT1RCell(device).bit_error_rate(condition),
                "endurance_cycles": config.endurance_reference_cycles
                * (strong_energy / energy) ** config.endurance_exponent,
            }
        )
    summary = {
        name: {r["design"]: r["total_pj"] for r in rows if r["network"] == name} for name in config.networks
    }
    summary["energy_over_2t2r"] = {
        name: {
            r["design"]: r["energy_over_2t2r"] for r in rows if r["network"] == name and r["design"] != "2T2R"
        }
        for name in config.networks
    }
    summary["ber_at_weak_condition"] = {"2T2R": endurance[0]["ber_2t2r"], "1T1R": endurance[0]["ber_1t1r"]}
    summary["endurance_gain"] = endurance[0]["endurance_cycles"] / endurance[1]["endurance_cycles"]
    summary["read_pj_per_mac"] = read
    return Results(
        summary=summary,
        tables={"energy": rows, "layers": layers, "endurance": endurance},
        figures={"energy_per_inference": _figure(rows, config.networks)},
    )


def _figure(rows: list[dict], networks: list[str]):
    """Energy per inference of each design (log scale: the designs span decades), the ratio to 2T2R on each bar."""
    fig, axes = plt.subplots(1, len(networks), figsize=(4.8 * len(networks), 3.6), squeeze=False)
    for ax, name in zip(axes[0], networks, strict=True):
        mine = [r for r in rows if r["network"] == name]
        totals = [r["total_pj"] * 1e-6 for r in mine]  # µJ
        bars = ax.bar([r["design"] for r in mine], totals, color=[f"C{i}" for i in range(len(mine))])
        for bar, r in zip(bars, mine, strict=True):
            ax.annotate(
                f"×{r['energy_over_2t2r']:.3g}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_yscale("log")
        ax.set_ylim(top=max(totals) * 5)
        ax.set_title(f"{name}: energy per inference (ratio to 2T2R)", fontsize=9)
        ax.set_ylabel("energy per inference (µJ)")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(
        "stated energy model (memristorch.costs; RRAM read, sense and ECC decode are placeholders)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
