"""Experiments: one module per study, each a typed config and a function returning a results table."""

from __future__ import annotations

from dataclasses import replace

from ..runner.study import Experiment
from . import (
    bnn_ber,
    bnn_programming_energy,
    bnn_system_energy,
    inference_drift,
    insitu_mlp,
    meta_pmnist,
    mram_energy,
    onchip_3x3,
    stochastic_inputs,
    ternary_pvt,
    tnn_vs_bnn,
    weakreset_bnn,
    weakreset_stats,
)
from .biomedical import ecg as biomedical_ecg
from .biomedical import eeg as biomedical_eeg
from .claims import CLAIMS

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            "insitu-mlp",
            "In-situ SGD of an MLP on simulated devices beside float PyTorch (digits, MNIST, Fashion-MNIST)",
            insitu_mlp.InSituMLPConfig,
            insitu_mlp.run,
        ),
        Experiment(
            "inference-drift",
            "Accuracy from 1 s to 10 years after programming: plain vs hardware-aware training, with and without "
            "drift compensation, for drifting device presets",
            inference_drift.InferenceDriftConfig,
            inference_drift.run,
        ),
        Experiment(
            "onchip-3x3",
            "On-chip learning with Knowm M-SDC memristors on 3×3 patterns: materials, reset vs no reset, noise sweeps",
            onchip_3x3.OnChip3x3Config,
            onchip_3x3.run,
        ),
        Experiment(
            "bnn-ber",
            "BNN accuracy vs weight bit-error rate, standard vs error-aware training, wide and narrow MLPs",
            bnn_ber.BNNBerConfig,
            bnn_ber.run,
        ),
        Experiment(
            "bnn-programming-energy",
            "Binary RRAM 1T1R vs 2T2R: bit errors and BNN accuracy against programming energy",
            bnn_programming_energy.BNNProgrammingEnergyConfig,
            bnn_programming_energy.run,
        ),
        Experiment(
            "bnn-system-energy",
            "Energy per inference of a BNN: in-memory 2T2R against 1T1R, SRAM and DRAM with ECC; endurance of weak writes",
            bnn_system_energy.BNNSystemEnergyConfig,
            bnn_system_energy.run,
        ),
        Experiment(
            "mram-energy",
            "ST-MRAM write energy at the BNN-tolerated WER vs an ECC-class WER, bit and system level",
            mram_energy.MRAMEnergyConfig,
            mram_energy.run,
        ),
        Experiment(
            "tnn-vs-bnn",
            "Ternary vs binarized MLP at equal width; near-threshold ternary-read errors vs sign flips",
            tnn_vs_bnn.TNNvsBNNConfig,
            tnn_vs_bnn.run,
        ),
        Experiment(
            "ternary-pvt",
            "Near-threshold single-sense ternary read under supply and temperature variation: error rates, TNN accuracy",
            ternary_pvt.TernaryPVTConfig,
            ternary_pvt.run,
        ),
        Experiment(
            "stochastic-inputs",
            "BNN with K stochastic bit-planes per input: accuracy vs K, adapted vs non-adapted training",
            stochastic_inputs.StochasticInputsConfig,
            stochastic_inputs.run,
        ),
        Experiment(
            "weakreset-stats",
            "Weak-RESET HfOx RRAM model statistics vs the published tables: drift + D2D, RTN occupancy, 1/f slope",
            weakreset_stats.WeakResetStatsConfig,
            weakreset_stats.run,
        ),
        Experiment(
            "weakreset-bnn",
            "BNN with weak-RESET RRAM pairs as weights (pulse Adam), each device imperfection removed in turn",
            weakreset_bnn.WeakResetBNNConfig,
            weakreset_bnn.run,
        ),
        Experiment(
            "ecg-bnn",
            "Binarized 1D CNNs for MIT-BIH beats (inter-patient DS1 → DS2): float vs classifier-only vs full BNN, memory, 2T2R chip",
            biomedical_ecg.ECGBNNConfig,
            biomedical_ecg.run,
        ),
        Experiment(
            "eeg-bnn",
            "Binarized 1D CNNs for Bonn EEG seizure detection (split by segment): A vs E, ABCD vs E, five classes; 2T2R chip",
            biomedical_eeg.EEGBNNConfig,
            biomedical_eeg.run,
        ),
        Experiment(
            "meta-pmnist",
            "Metaplastic BNN on permuted-MNIST task sequences: forgetting vs metaplasticity m",
            meta_pmnist.MetaPMNISTConfig,
            meta_pmnist.run,
        ),
        Experiment(
            "meta-mnist-fmnist",
            "Metaplastic BNN learning MNIST then Fashion-MNIST: does MNIST survive?",
            meta_pmnist.MetaMNISTFMNISTConfig,
            meta_pmnist.run,
        ),
        Experiment(
            "meta-stream",
            "Metaplastic BNN on a stream of Fashion-MNIST chunks vs learning the whole set at once",
            meta_pmnist.MetaStreamConfig,
            meta_pmnist.run,
        ),
    )
}


EXPERIMENTS = {name: replace(e, claims=CLAIMS.get(name, ())) for name, e in EXPERIMENTS.items()}


def get_experiment(name: str) -> Experiment:
    if not isinstance(name, str) or name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(sorted(EXPERIMENTS))}; got {name!r}")
    return EXPERIMENTS[name]
