"""The seed studies' claims, each as the number a run of the default config gives and the test of whether it holds.

The report (``memristorch report``, ``make report``) prints every claim beside its number and verdict. The
criteria are ours: where a study states a number we compare with it, otherwise with the direction it reports.
Sources: Eslami et al. 2024 (on-chip learning with Knowm M-SDC memristors); Hirtzlin et al. 2019/2020 (2T2R
BNNs, bit errors, ST-MRAM); Laborieux et al. 2021 (metaplastic BNNs); the weak-RESET HfOx study (its published
statistics table); the stochastic-computing BNN study (K bit-planes per input).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..runner.study import Claim, lookup
from ..tiles.drift import parse_duration


def _pts(a: Any, b: Any) -> float | None:
    """``100·(a − b)``, or ``None`` if either is missing."""
    if a is None or b is None:
        return None
    return 100.0 * (float(a) - float(b))


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or float(b) == 0.0:
        return None
    return float(a) / float(b)


def _get(key: str):
    return lambda s, c: lookup(s, key)


def _spread(*keys: str):
    """The std (points) of a difference of two accuracies whose stds the summary holds: their quadrature sum."""

    def spread(s: Mapping, c: Mapping) -> float | None:
        stds = [lookup(s, k) for k in keys]
        if any(v is None for v in stds):
            return None
        return 100.0 * sum(float(v) ** 2 for v in stds) ** 0.5

    return spread


def _cr_time_against_others(s: Mapping, c: Mapping) -> float | None:
    times = {m: lookup(s, f"{m}/no_reset.training_time_s") for m in ("knowm-w", "knowm-cr", "knowm-c")}
    if any(t is None for t in times.values()):
        return None
    return times["knowm-cr"] / min(times["knowm-w"], times["knowm-c"])


def _best_noise_position(s: Mapping, c: Mapping) -> float | None:
    best, levels = lookup(s, "train-noise_best_level"), c.get("train_noise_levels")
    if best is None or not levels or max(levels) == min(levels):
        return None
    return (best - min(levels)) / (max(levels) - min(levels))


def _bnn_ber_key(c: Mapping) -> str:
    return f"fashion-mnist/{'-'.join(str(h) for h in c['widths'][0])}"


def _d2d_margin(s: Mapping, c: Mapping) -> float | None:
    recovered = lookup(s, "recovered_pts")
    if not isinstance(recovered, Mapping):
        return None
    return recovered["d2d"] - max(recovered["rtn"], recovered["pink"])


def _d2d_margin_spread(s: Mapping, c: Mapping) -> float | None:
    """Std (points) of the margin: the two ablated conditions it compares, in quadrature."""
    recovered, stds = lookup(s, "recovered_pts"), lookup(s, "test_accuracy_std")
    if not isinstance(recovered, Mapping) or not isinstance(stds, Mapping):
        return None
    runner_up = "rtn" if recovered["rtn"] >= recovered["pink"] else "pink"
    return 100.0 * (stds["full-no-d2d"] ** 2 + stds[f"full-no-{runner_up}"] ** 2) ** 0.5


def _meta_gain(m: str):
    return lambda s, c: lookup(s, f"mean_gain_over_first_meta_pts.{m}")


def _net(prefix: str, network: str, metric: str, stat: str = "mean"):
    return lambda s, c: lookup(s, f"{prefix}networks.{network}.{metric}.{stat}")


def _net_gap(prefix: str, a: str, b: str, metric: str):
    """``100·(a − b)`` of a metric's means, and the quadrature std of that difference (points)."""
    value = lambda s, c: _pts(_net(prefix, a, metric)(s, c), _net(prefix, b, metric)(s, c))  # noqa: E731
    spread = _spread(f"{prefix}networks.{a}.{metric}.std", f"{prefix}networks.{b}.{metric}.std")
    return value, spread


def _widest(c: Mapping) -> str:
    return f"x{max(c.get('widths') or [1])}"


def _widening_recovery(prefix: str, metric: str):
    def value(s: Mapping, c: Mapping) -> float | None:
        return _pts(
            _net(prefix, f"full-binary-{_widest(c)}", metric)(s, c),
            _net(prefix, "full-binary-x1", metric)(s, c),
        )

    def spread(s: Mapping, c: Mapping) -> float | None:
        return _spread(
            f"{prefix}networks.full-binary-{_widest(c)}.{metric}.std",
            f"{prefix}networks.full-binary-x1.{metric}.std",
        )(s, c)

    return value, spread


def _widest_binary_memory_share(prefix: str):
    def value(s: Mapping, c: Mapping) -> float | None:
        return _ratio(
            lookup(s, f"{prefix}networks.full-binary-{_widest(c)}.memory_bits"),
            lookup(s, f"{prefix}networks.float-x1.memory_bits"),
        )

    return value


def _biosignal_claims(prefix: str, metric: str, label: str) -> tuple[Claim, ...]:
    classifier_gap, classifier_spread = _net_gap(prefix, "float-x1", "classifier-binary-x1", metric)
    full_gap, full_spread = _net_gap(prefix, "float-x1", "full-binary-x1", metric)
    recovery, recovery_spread = _widening_recovery(prefix, metric)
    return (
        Claim(
            "Binarizing only the classifier keeps the score close to float (Penkovsky et al. 2020)",
            f"float − classifier-binary {label} at ×1 (points)",
            "< 2",
            classifier_gap,
            lambda v: v < 2,
            threshold=2.0,
            spread=classifier_spread,
        ),
        Claim(
            "… with a large memory cut",
            "classifier-binary memory / float memory at ×1",
            "< 0.5",
            lambda s, c: _ratio(
                lookup(s, f"{prefix}networks.classifier-binary-x1.memory_bits"),
                lookup(s, f"{prefix}networks.float-x1.memory_bits"),
            ),
            lambda v: v < 0.5,
        ),
        Claim(
            "Full binarization loses at ×1",
            f"float − full-binary {label} at ×1 (points)",
            "> 0",
            full_gap,
            lambda v: v > 0,
            threshold=0.0,
            spread=full_spread,
        ),
        Claim(
            "Widening the fully binarized network recovers part of the loss",
            f"full-binary {label}, widest − ×1 (points)",
            "> 0",
            recovery,
            lambda v: v > 0,
            threshold=0.0,
            spread=recovery_spread,
        ),
        Claim(
            "… while using less memory than the float network",
            "widest full-binary memory / float ×1 memory",
            "< 1",
            _widest_binary_memory_share(prefix),
            lambda v: v < 1,
        ),
        Claim(
            "The binarized network tolerates the bit errors of low-energy 2T2R programming (no ECC)",
            "programming-energy saving of the weakest condition within the tolerance, full-binary ×1 (×)",
            "> 2",
            lambda s, c: lookup(s, f"{prefix}chip.full-binary-x1.energy_saving_vs_strongest"),
            lambda v: v > 2,
        ),
    )


def _over_time(training: str, at: str):
    """Accuracy (and its std) of ``training`` under the first drift model at the read time nearest ``at`` ("first",
    "last" or a duration such as "1y"), from an ``inference-drift`` summary."""

    def read(s: Mapping, c: Mapping) -> tuple[float, float] | None:
        drifts, times = c.get("drifts") or [], lookup(s, "times_s")
        entry = s.get(drifts[0], {}).get(training) if drifts else None
        if entry is None or not times:
            return None
        if at in ("first", "last"):
            index = 0 if at == "first" else len(times) - 1
        else:
            target = parse_duration(at)
            index = min(range(len(times)), key=lambda k: abs(times[k] - target))
        return entry["accuracy_mean"][index], entry["accuracy_std"][index]

    return read


def _over_time_gap(a, b):
    """``100·(a − b)`` of two :func:`_over_time` readings, and its spread (quadrature sum of the stds)."""

    def value(s, c):
        x, y = a(s, c), b(s, c)
        return None if x is None or y is None else 100.0 * (x[0] - y[0])

    def spread(s, c):
        x, y = a(s, c), b(s, c)
        return None if x is None or y is None else 100.0 * (x[1] ** 2 + y[1] ** 2) ** 0.5

    return value, spread


_DRIFT_LOSS = _over_time_gap(_over_time("plain", "first"), _over_time("plain", "last"))
_COMPENSATION_GAIN = _over_time_gap(_over_time("plain/compensated", "1y"), _over_time("plain", "1y"))
_AWARE_GAIN = _over_time_gap(_over_time("hardware-aware", "1y"), _over_time("plain", "1y"))

CLAIMS: dict[str, tuple[Claim, ...]] = {
    "ecg-bnn": (
        Claim(
            "A float 1D CNN with RR features reaches the inter-patient floor (DS1 → DS2)",
            "float ×1 overall accuracy on DS2",
            "≥ 0.85",
            _net("", "float-x1", "accuracy"),
            lambda v: v >= 0.85,
            threshold=0.85,
            spread=_net("", "float-x1", "accuracy", "std"),
        ),
        *_biosignal_claims("", "macro_f1_NSVF", "macro-F1 (N, S, V, F)"),
        Claim(
            "In MobileNet V1 the classifier holds only about a quarter of the weights (Penkovsky et al. 2020)",
            "MobileNet V1 classifier share of parameters",
            "0.2 – 0.3",
            _get("mobilenet_v1.classifier_parameter_share"),
            lambda v: 0.2 <= v <= 0.3,
        ),
    ),
    "eeg-bnn": (
        Claim(
            "A vs E is nearly solved by a small float CNN",
            "float ×1 A vs E segment accuracy",
            "≥ 0.98",
            _net("A-E.", "float-x1", "segment_accuracy"),
            lambda v: v >= 0.98,
            threshold=0.98,
            spread=_net("A-E.", "float-x1", "segment_accuracy", "std"),
        ),
        *_biosignal_claims("A-B-C-D-E.", "segment_accuracy", "five-class segment accuracy"),
    ),
    "onchip-3x3": (
        Claim(
            "Chromium devices program fastest of W, Cr and C (Eslami et al. 2024)",
            "Cr programming time / fastest other material, no reset",
            "< 1",
            _cr_time_against_others,
            lambda v: v < 1,
        ),
        Claim(
            "An initial 200 ms reset makes programming slower (Eslami et al. 2024)",
            "Cr programming time with reset / without",
            "> 1",
            _get("reset_time_factor.knowm-cr"),
            lambda v: v > 1,
        ),
        Claim(
            "A noise-trained chip loses little at 10 % conductance error",
            "accuracy at 0 % − at 10 % conductance error (points)",
            "< 2",
            lambda s, c: _pts(
                lookup(s, "conductance-error_accuracy.0.0"), lookup(s, "conductance-error_accuracy.0.1")
            ),
            lambda v: v < 2,
            threshold=2.0,
            spread=_spread("conductance-error_accuracy_std.0.0", "conductance-error_accuracy_std.0.1"),
        ),
        Claim(
            "Training with noise makes the chip more tolerant of conductance error",
            "noise-trained − noise-free-trained accuracy at 30 % error (points)",
            "> 0",
            lambda s, c: _pts(
                lookup(s, "conductance-error_accuracy.0.3"),
                lookup(s, "conductance-error_accuracy_untrained_noise.0.3"),
            ),
            lambda v: v > 0,
            threshold=0.0,
            spread=_spread(
                "conductance-error_accuracy_std.0.3", "conductance-error_accuracy_untrained_noise_std.0.3"
            ),
        ),
        Claim(
            "Moderate training noise helps, more of it hurts (the inverted U)",
            "position of the best training-noise level in the swept range (0 = least noise, 1 = most)",
            "strictly between 0 and 1",
            _best_noise_position,
            lambda v: 0 < v < 1,
        ),
        Claim(
            "Chip-in-the-loop retraining recovers accuracy lost to 30 % conductance error",
            "accuracy after − before retraining (points)",
            "> 1",
            lambda s, c: _pts(lookup(s, "retraining.0.3.after"), lookup(s, "retraining.0.3.before")),
            lambda v: v > 1,
            threshold=1.0,
            spread=_spread("retraining.0.3.after_std", "retraining.0.3.before_std"),
        ),
    ),
    "insitu-mlp": (
        Claim(
            "In-situ training on soft-bounds devices comes close to float PyTorch",
            "float − in-situ test accuracy (points)",
            "< 5",
            lambda s, c: _pts(s.get("float_test_accuracy"), s.get("test_accuracy")),
            lambda v: v < 5,
        ),
    ),
    "bnn-ber": (
        Claim(
            "A BNN tolerates weight bit-error rates up to 1e-4 with no ECC (Hirtzlin et al.)",
            "accuracy lost at BER 1e-4, wide Fashion-MNIST MLP, standard training (points)",
            "< 1",
            lambda s, c: lookup(s, f"{_bnn_ber_key(c)}.standard.loss_at_1e-4_pts"),
            lambda v: v < 1,
        ),
        Claim(
            "Error-aware training raises the tolerated BER",
            "BER at a 5-point drop, error-aware / standard",
            "> 1",
            lambda s, c: _ratio(
                lookup(s, f"{_bnn_ber_key(c)}.error_aware.ber_at_5pt_drop"),
                lookup(s, f"{_bnn_ber_key(c)}.standard.ber_at_5pt_drop"),
            ),
            lambda v: v > 1,
        ),
    ),
    "bnn-programming-energy": (
        Claim(
            "2T2R cells read with fewer bit errors than 1T1R at the same programming (Hirtzlin et al. 2020)",
            "2T2R / 1T1R bit-error rate at the strongest condition",
            "< 1",
            _get("2t2r_over_1t1r_ber_at_strongest"),
            lambda v: v < 1,
        ),
        Claim(
            "The BNN's error tolerance allows weaker, cheaper programming of 2T2R cells",
            "programming energy per bit saved, 2T2R, standard BNN (×)",
            "> 1",
            _get("2T2R.standard_energy_factor"),
            lambda v: v > 1,
        ),
    ),
    "bnn-system-energy": (
        Claim(
            "In-memory 2T2R inference costs less energy than SRAM storage with ECC (Hirtzlin et al. 2020)",
            "energy per inference, SRAM+ECC / 2T2R, MNIST MLP (×)",
            "> 1",
            _get("energy_over_2t2r.mnist-mlp.SRAM+ECC"),
            lambda v: v > 1,
        ),
        Claim(
            "… and less than 1T1R RRAM with ECC",
            "energy per inference, 1T1R+ECC / 2T2R, MNIST MLP (×)",
            "> 1",
            _get("energy_over_2t2r.mnist-mlp.1T1R+ECC"),
            lambda v: v > 1,
        ),
        Claim(
            "Weak programming, tolerated by the BNN, extends endurance",
            "write cycles at the weak / at the strong condition, stated model (×)",
            "> 1",
            _get("endurance_gain"),
            lambda v: v > 1,
        ),
    ),
    "mram-energy": (
        Claim(
            "Writing ST-MRAM at the BNN-tolerated WER instead of an ECC-class WER saves about ×2 write energy",
            "bit write energy at WER 1e-9 / at 1e-3 (×)",
            "≥ 2",
            _get("bit_energy_factor"),
            lambda v: v >= 2,
        ),
    ),
    "tnn-vs-bnn": (
        Claim(
            "A ternary network at least matches the binary one at equal width",
            "TNN − BNN test accuracy (points)",
            "≥ 0",
            _get("tnn_minus_bnn_pts"),
            lambda v: v >= 0,
            threshold=0.0,
            spread=_spread("tnn_test_accuracy_std", "bnn_test_accuracy_std"),
        ),
    ),
    "ternary-pvt": (
        Claim(
            "The near-threshold single-sense ternary read is resilient to supply and temperature (Laborieux et al.)",
            "worst TNN accuracy loss over the V_DD × T grid, self-timed sense window (points)",
            "< 1",
            _get("self-timed.worst_accuracy_loss_pts"),
            lambda v: v < 1,
            threshold=1.0,
            spread=_spread("error_free_accuracy_std", "error_free_accuracy_std"),
        ),
    ),
    "stochastic-inputs": (
        Claim(
            "Training with the stochastic bit-planes beats a network trained on real inputs, at K = 1",
            "adapted − non-adapted accuracy at K = 1 (points)",
            "> 0",
            lambda s, c: _pts(lookup(s, "adapted_accuracy.1"), lookup(s, "non_adapted_accuracy.1")),
            lambda v: v > 0,
        ),
        Claim(
            "A stochastic first layer saves area against the fixed-point one (study: −62 % on Fashion-MNIST)",
            "whole-network area saved, stated cost model (%)",
            "> 0",
            lambda s, c: lookup(s, f"area_saving_pct.{min(c['ks'])}"),
            lambda v: v > 0,
        ),
        Claim(
            "… and energy at small K (study: ×2.1 for −1.4 points)",
            "energy factor fixed-point / stochastic at the smallest K",
            "> 1",
            lambda s, c: lookup(s, f"energy_factor.{min(c['ks'])}"),
            lambda v: v > 1,
        ),
        Claim(
            "Accuracy rises with the number of bit-planes K",
            "adapted accuracy at the largest K − at K = 1 (points)",
            "> 0",
            lambda s, c: _pts(lookup(s, f"adapted_accuracy.{max(c['ks'])}"), lookup(s, "adapted_accuracy.1")),
            lambda v: v > 0,
        ),
    ),
    "weakreset-stats": (
        Claim(
            "The weak-RESET model reproduces the published median resistance after 0 … 10,000 pulses",
            "largest relative error of a median",
            "≤ 0.03",
            _get("max_median_r_rel_error"),
            lambda v: v <= 0.03,
        ),
        Claim(
            "Telegraph noise spends the published share of time in its high state (0.286)",
            "high-state occupancy",
            "within 0.01 of 0.286",
            _get("rtn_high_occupancy"),
            lambda v: abs(v - 0.286) <= 0.01,
        ),
        Claim(
            "The 1/f noise has a spectral slope near −1",
            "fitted slope",
            "in [−1.3, −0.7]",
            _get("pink_spectrum_slope"),
            lambda v: -1.3 <= v <= -0.7,
        ),
    ),
    "weakreset-bnn": (
        Claim(
            "Device-to-device variability is the most detrimental imperfection",
            "points recovered by removing D2D − by removing the next worst (RTN or 1/f)",
            "> 0",
            _d2d_margin,
            lambda v: v > 0,
            threshold=0.0,
            spread=_d2d_margin_spread,
        ),
    ),
    "inference-drift": (
        Claim(
            "Accuracy falls as the programmed devices drift (first drift model, plain training)",
            "accuracy at the first read time − at the last (points)",
            "> 5",
            _DRIFT_LOSS[0],
            lambda v: v > 5,
            threshold=5.0,
            spread=_DRIFT_LOSS[1],
        ),
        Claim(
            "Global drift compensation recovers part of the loss (at 1 y)",
            "compensated − uncompensated accuracy at 1 y, plain training (points)",
            "> 0",
            _COMPENSATION_GAIN[0],
            lambda v: v > 0,
            threshold=0.0,
            spread=_COMPENSATION_GAIN[1],
        ),
        Claim(
            "Hardware-aware training recovers part of the loss (at 1 y)",
            "hardware-aware − plain accuracy at 1 y, uncompensated (points)",
            "> 0",
            _AWARE_GAIN[0],
            lambda v: v > 0,
            threshold=0.0,
            spread=_AWARE_GAIN[1],
        ),
    ),
    "meta-pmnist": (
        Claim(
            "Metaplasticity reduces forgetting over permuted-MNIST tasks (Laborieux et al. 2021)",
            "mean final accuracy over tasks, m = 1.35 − m = 0 (points)",
            "> 0",
            _meta_gain("1.35"),
            lambda v: v > 0,
        ),
    ),
    "meta-mnist-fmnist": (
        Claim(
            "With metaplasticity, MNIST survives learning Fashion-MNIST (Laborieux et al. 2021)",
            "MNIST accuracy after both tasks, m = 1.5 − m = 0 (points)",
            "> 5",
            lambda s, c: _pts(lookup(s, "first_task_accuracy.1.5"), lookup(s, "first_task_accuracy.0")),
            lambda v: v > 5,
        ),
    ),
    "meta-stream": (
        Claim(
            "Metaplasticity helps learning a data stream chunk by chunk (Laborieux et al. 2021)",
            "final accuracy, m = 2.5 − m = 0 (points)",
            "> 0",
            _meta_gain("2.5"),
            lambda v: v > 0,
        ),
    ),
}
