"""On-chip learning with Knowm M-SDC memristors on the 3×3 two-class task (after Eslami et al. 2024).

The network (``onchip_network``) is the assumed 9–3–1 topology with one memristor per weight: 30 memristors and
4 neurons. Weights are learned in software with training noise, mapped to target conductances and written by
program-and-verify behind the Knowm board's 1 kΩ series resistor, with or without an initial 200 ms reset; the
devices then settle by the conductance error and inference reads them with noisy inputs. Every number is a mean ±
std over seeds (sample std).

Parts (``parts`` in the config, run in this order): ``calibration`` (see below, first so that every other part
uses the calibrated board), ``device-iv`` (I–V loops and pulse response per preset), ``verify-stats``
(program-and-verify convergence and pulses against tolerance), ``materials`` (time,
energy, pulses, accuracy per preset and reset mode), the ``train-noise``, ``conductance-error`` and ``input-noise``
sweeps, and ``retraining`` (chip-in-the-loop retraining after conductance errors).

Tasks (``task``; the study's image set is not public, both are assumed): X against + (default; linearly separable,
so one neuron would do and the training-noise sweep plateaus at the task's Bayes limit) or vertical against
horizontal bars (``pixels="bipolar"``; needs the hidden layer, and there too much training noise costs accuracy).
``configs/onchip-3x3-bars.yaml`` holds the bars set-up.

Calibration (the study's Cr figures, 2.4 s and 18.9 mJ, can only be met by calibration: the W/Cr/C parameters are
not published). The presets are placeholders, so two stated knobs are fitted on one material and mode (default Cr
without reset) and then applied to every material: a **time scale** ``s`` multiplying the device's τ, pulse width,
pulse gap and the read time together (the state trajectory in units of τ, hence every pulse count, is unchanged;
times and device energies scale by ``s``), and a **system power** ``P`` drawn by the rest of the programming set-up
(microcontroller, converters, switch matrix) for the whole programming time. ``s = t_target / t_raw`` and
``P = (E_target − s E_raw) / t_target``, closed form. W and C are then predictions of the same board with their own
placeholder presets.
"""

from __future__ import annotations

import copy
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import Field

from .. import plots
from ..data.patterns import PatternTask, pattern_samples
from ..devices import get_device
from ..devices.base import DeviceModel
from ..runner.config import StudyConfig
from ..runner.progress import progress_bar
from ..runner.seeds import derive_seed, stream
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from ..tiles.programming import VerifyConfig
from .onchip_network import accuracy, forward, program_chip, retrain_chip, train_weights

__all__ = ["OnChip3x3Config", "PARTS", "forward", "run"]

PARTS = (
    "calibration",
    "device-iv",
    "verify-stats",
    "materials",
    "train-noise",
    "conductance-error",
    "input-noise",
    "retraining",
)
Part = Literal[
    "calibration",
    "device-iv",
    "verify-stats",
    "materials",
    "train-noise",
    "conductance-error",
    "input-noise",
    "retraining",
]


Level = Annotated[float, Field(ge=0, le=100)]
"""A swept noise level (relative)."""
ErrorLevel = Annotated[float, Field(ge=0, le=10)]
"""A swept relative conductance error."""


class OnChip3x3Config(StudyConfig):
    """Configuration of ``onchip-3x3``; defaults are the CPU-sized reproduction (well under a minute on 2 cores)."""

    parts: list[Part] = Field(default_factory=lambda: list(PARTS))
    materials: list[str] = Field(default_factory=lambda: ["knowm-w", "knowm-cr", "knowm-c"])
    cell: Literal["single", "differential"] = Field(
        "single",
        description="one memristor per weight against a reference (30 devices), or a differential pair (60)",
    )
    series_resistance_ohm: float = Field(
        1000.0,
        ge=0,
        le=1e9,
        description="programming series resistor; 1 kΩ is the default of Knowm's Memristor Discovery board "
        "software. Energies are the source's: device plus resistor (the study does not state its energy scope: a "
        "choice of this reproduction)",
    )
    device_d2d_std: float = Field(0.1, ge=0, le=1, description="log-normal D2D spread of every MSS parameter")
    n_switches: int | None = Field(
        None,
        ge=1,
        le=10**9,
        description="metastable switches per device for stochastic (binomial) switching, i.e. cycle-to-cycle "
        "noise of every pulse; None = mean-field model",
    )
    task: Literal["x-plus", "bars"] = Field(
        "x-plus",
        description="3×3 task (assumed; the study's image set is not public): X against + (linearly "
        "separable), or vertical against horizontal bars (needs the hidden layer)",
    )
    pixels: Literal["unipolar", "bipolar"] = Field(
        "unipolar", description="pixels as {0, 1} or as {−1, +1} (±V on the rows); bars needs bipolar"
    )
    seeds: int = Field(5, ge=1, le=100)
    hidden: int = Field(3, ge=1, le=64)
    n_train: int = Field(200, ge=2, le=1_000_000)
    n_test: int = Field(1000, ge=2, le=10_000_000)
    epochs: int = Field(300, ge=1, le=100_000)
    lr: float = Field(0.05, gt=0, le=100)
    pixel_noise_train: float = Field(
        0.4, ge=0, le=100, description="input noise during training (fraction of pixel swing)"
    )
    input_noise: float = Field(
        0.7,
        ge=0,
        le=100,
        description="input noise at test (fraction of pixel swing; on X against +, 0.7 puts software accuracy "
        "near 97 %, and 0.18 does on bars)",
    )
    train_noise: float = Field(
        0.1, ge=0, le=100, description="relative training noise σ_train (see train_noise_model)"
    )
    train_noise_model: Literal["weight", "conductance"] = Field(
        "conductance",
        description="inject σ_train on each conductance (as the chip errs) or multiplicatively on each weight",
    )
    conductance_error: float = Field(0.05, ge=0, le=10, description="relative conductance error at inference")
    error_persistence: float = Field(
        0.8,
        ge=0,
        le=1,
        description="share ρ of the conductance-error variance that is a fixed property of each device "
        "(the rest is drawn afresh at every programming); placeholder — calibrate",
    )
    tolerance: float = Field(0.05, gt=0, lt=1)
    ispp_step_v: float = Field(
        0.0,
        ge=0,
        le=10,
        description="incremental-step programming: amplitude step per same-direction pulse (0 = fixed)",
    )
    ispp_max_v: float = Field(
        2.0, gt=0, le=100, description="amplitude ceiling of incremental-step programming"
    )
    width_step_down: float = Field(
        1.0,
        gt=0,
        le=1,
        description="pulse-width factor at every overshoot (adaptive pulse width; 1 = fixed pulses)",
    )
    max_pulses: int = Field(
        200, ge=1, le=1_000_000, description="pulse cap per device (C, the slowest preset, needs ~100)"
    )
    read_time_s: float = Field(1e-3, ge=0, le=10, description="per verify read; placeholder — calibrate")
    reset_duration_s: float = Field(0.2, gt=0, le=1000, description="initial reset pulse (study: 200 ms)")
    calibration_material: str = "knowm-cr"
    calibration_reset: bool = False
    calibration_time_s: float = Field(
        2.4, gt=0, le=1e6, description="study's Cr training time (Eslami et al. 2024)"
    )
    calibration_energy_j: float = Field(18.9e-3, gt=0, le=1e6, description="study's Cr training energy")
    time_scale: float = Field(
        1.0, gt=0, le=1e6, description="time scale of the presets when the calibration part is not run"
    )
    system_power_w: float = Field(
        0.0, ge=0, le=1e3, description="set-up power during programming when the calibration part is not run"
    )
    train_noise_levels: list[Level] = Field(
        min_length=1, default_factory=lambda: [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0]
    )
    conductance_error_levels: list[ErrorLevel] = Field(
        min_length=1, default_factory=lambda: [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]
    )
    input_noise_levels: list[Level] = Field(
        min_length=1, default_factory=lambda: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    )
    retrain_levels: list[ErrorLevel] = Field(min_length=1, default_factory=lambda: [0.1, 0.15, 0.2, 0.3])
    retrain_epochs: int = Field(150, ge=1, le=100_000)
    retrain_lr: float = Field(0.02, gt=0, le=100)
    retrain_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="retrain when the chip's accuracy on a calibration set is more than this below the "
        "software network's on the same set",
    )
    sweep_material: str = "knowm-cr"
    iv_frequencies_hz: list[Annotated[float, Field(gt=0, le=1e9)]] = Field(
        min_length=1, default_factory=lambda: [1.0, 10.0, 100.0]
    )
    iv_amplitude_v: float = Field(1.0, gt=0, le=100)
    verify_tolerances: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        min_length=1, default_factory=lambda: [0.1, 0.05, 0.02, 0.01]
    )
    verify_width_step_downs: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        min_length=1,
        default_factory=lambda: [1.0, 0.5],
        description="pulse-width schemes of the verify-stats part: 1 = fixed pulses, below 1 = adaptive width",
    )
    verify_devices: int = Field(300, ge=1, le=10_000_000)
    threads: int = Field(2, ge=1, le=256)


class _Study:
    """Shared state of one run: the configuration, its trained weights and the board's timing and power."""

    def __init__(self, config: OnChip3x3Config) -> None:
        self.config = config
        self.seeds = [derive_seed(config.seed, "replicate", r) for r in range(config.seeds)]
        self.time_scale = config.time_scale
        self.system_power_w = config.system_power_w
        self._trained: dict[tuple[float, int], list[torch.Tensor]] = {}
        self._chips: dict[tuple, tuple] = {}
        self._devices: dict[tuple[str, float], DeviceModel] = {}
        self.task = PatternTask.named(config.task, config.pixels)

    def device(self, name: str, d2d: bool = True) -> DeviceModel:
        base = get_device(name)
        if not (isinstance(base, DeviceModel) and base.supports("hold")):
            raise ValueError(f"{name!r} is not a time-domain memristor preset (needs reset support)")
        p, s = base.params, self.time_scale
        return get_device(
            name,
            d2d_std=self.config.device_d2d_std if d2d else 0.0,
            series_resistance_ohm=self.config.series_resistance_ohm,
            n_switches=self.config.n_switches,
            tau_s=p.tau_s * s,
            pulse_width_s=p.pulse_width_s * s,
            pulse_gap_s=p.pulse_gap_s * s,
        )

    def verify(
        self, reset: bool, tolerance: float | None = None, width_step_down: float | None = None
    ) -> VerifyConfig:
        c = self.config
        return VerifyConfig(
            tolerance=c.tolerance if tolerance is None else tolerance,
            max_pulses=c.max_pulses,
            reset=reset,
            reset_duration_s=c.reset_duration_s,
            read_time_s=c.read_time_s * self.time_scale,
            ispp_step_v=c.ispp_step_v,
            ispp_max_v=c.ispp_max_v,
            width_step_down=c.width_step_down if width_step_down is None else width_step_down,
        )

    def train_kwargs(self, train_noise: float, seed: int, device: DeviceModel) -> dict:
        c = self.config
        return dict(
            hidden=c.hidden,
            n_train=c.n_train,
            epochs=c.epochs,
            lr=c.lr,
            pixel_noise=c.pixel_noise_train,
            train_noise=train_noise,
            noise_model=c.train_noise_model,
            seed=seed,
            device=device,
            cell_kind=c.cell,
            task=self.task,
        )

    def trained(self, train_noise: float, seed: int) -> list[torch.Tensor]:
        key = (train_noise, seed)
        if key not in self._trained:
            device = self.device(self.config.sweep_material)
            self._trained[key] = train_weights(**self.train_kwargs(train_noise, seed, device))
        return self._trained[key]

    def chip(self, material: str, train_noise: float, seed: int, reset: bool, error: float):
        """The network trained with ``train_noise`` programmed into ``material``, its devices settled by the
        conductance error ``error``.

        Programming is cached per (material, training noise, seed, reset, time scale): sweeps over the conductance
        error or the input noise reuse one programmed chip and draw only how its devices settle.
        """
        key = (material, train_noise, seed, reset, self.time_scale)
        if key not in self._chips:
            if (material, self.time_scale) not in self._devices:
                self._devices[(material, self.time_scale)] = self.device(material)
            self._chips[key] = program_chip(
                self._devices[(material, self.time_scale)],
                self.trained(train_noise, seed),
                cell_kind=self.config.cell,
                verify=self.verify(reset),
                seed=seed,
                persistence=self.config.error_persistence,
            )
        base, report = self._chips[key]
        chip = copy.deepcopy(base)
        chip.settle(error)
        report = {**report, "device_energy_j": report["energy_j"]}
        report["energy_j"] += self.system_power_w * report["time_s"]
        return chip, report

    def chip_accuracy(
        self, train_noise: float, seed: int, error: float, input_noise: float | None = None
    ) -> float:
        chip, _ = self.chip(self.config.sweep_material, train_noise, seed, False, error)
        return self.accuracy(chip.weights(), seed, input_noise)

    def accuracy(self, weights: list[torch.Tensor], seed: int, input_noise: float | None = None) -> float:
        """Accuracy of ``weights`` on the seed's test patterns (default input noise: the configured one)."""
        noise = self.config.input_noise if input_noise is None else input_noise
        return accuracy(weights, noise, self.config.n_test, seed, self.task)


# parts ------------------------------------------------------------------------------------------------------------
def device_characteristics(study: _Study):
    """I–V loops of each material at several sine frequencies, and its response to 30 SET then 30 RESET pulses."""
    from ..devices.mss import sine_waveform

    config = study.config
    rows, loops, traces = [], {}, {}
    for name in config.materials:
        device = study.device(name, d2d=False)
        for f in config.iv_frequencies_hz:
            t, v = sine_waveform(config.iv_amplitude_v, f, 2.0 / f, 1.0 / (f * 1000))
            result = device.apply_waveform(device.init_state((1,)), t, v, record=True)
            i = result.current_a[1000:, 0].numpy()
            vv = v[1000:].numpy()
            lobe = abs(float(np.trapezoid(i[:501], vv[:501])))
            rows.append(
                {
                    "material": name,
                    "frequency_hz": f,
                    "lobe_area_va": lobe,
                    "energy_j": float(result.energy_j),
                }
            )
            loops.setdefault(name, {})[f"{f:g} Hz"] = (vv, i)
        state = device.init_state((1,))
        g = [float(device.conductance(state))]
        for sign in [1.0] * 30 + [-1.0] * 30:
            state = device.apply_pulses(state, torch.tensor([sign]))
            g.append(float(device.conductance(state)))
        traces[name] = g
    return rows, plots.iv_loops(loops), plots.pulse_traces(traces)


def verify_statistics(study: _Study) -> list[dict]:
    """Program-and-verify of many devices to random mid-window targets at several tolerances, per material and
    pulse-width scheme (1 = fixed pulses; below 1, the width shrinks by that factor at every overshoot)."""
    from ..tiles.programming import program_and_verify

    config = study.config
    rows = []
    for name in config.materials:
        device = study.device(name)
        g = stream(study.config.seed, "verify-stats")
        state = device.init_state((config.verify_devices,), g)
        low, high = device.g_min_s, device.g_max_s
        span = high - low
        targets = torch.empty(config.verify_devices, dtype=torch.float64).uniform_(
            low + 0.05 * span, high - 0.05 * span, generator=g
        )
        for step_down in config.verify_width_step_downs:
            for tolerance in config.verify_tolerances:
                verify = study.verify(False, tolerance, step_down)
                _, report = program_and_verify(device, state, targets, verify, g)
                rows.append(
                    {
                        "material": name,
                        "width_step_down": step_down,
                        "tolerance": tolerance,
                        **report.summary(),
                    }
                )
    return rows


def calibrate(study: _Study) -> dict:
    """Fit the time scale and system power so the calibration material's mean time and energy hit the targets."""
    c = study.config
    study.time_scale, study.system_power_w = 1.0, 0.0
    reports = [
        study.chip(c.calibration_material, c.train_noise, s, c.calibration_reset, c.conductance_error)[1]
        for s in study.seeds
    ]
    raw_time = float(np.mean([r["time_s"] for r in reports]))
    raw_energy = float(np.mean([r["energy_j"] for r in reports]))
    scale = c.calibration_time_s / raw_time
    power = (c.calibration_energy_j - scale * raw_energy) / c.calibration_time_s
    if power < 0:
        raise ValueError(
            f"calibration_energy_j ({c.calibration_energy_j} J) is below what the devices alone dissipate "
            f"({scale * raw_energy:.3g} J at time scale {scale:.3g}): lower the preset's conductances instead"
        )
    study.time_scale, study.system_power_w = scale, power
    return {
        "material": c.calibration_material,
        "reset": c.calibration_reset,
        "target_time_s": c.calibration_time_s,
        "target_energy_j": c.calibration_energy_j,
        "raw_time_s": raw_time,
        "raw_energy_j": raw_energy,
        "time_scale": scale,
        "system_power_w": power,
        "device_energy_share": scale * raw_energy / c.calibration_energy_j,
    }


def materials(study: _Study, advance) -> list[dict]:
    c = study.config
    rows = []
    for name in c.materials:
        for reset in (False, True):
            per_seed = []
            for s in study.seeds:
                chip, report = study.chip(name, c.train_noise, s, reset, c.conductance_error)
                per_seed.append({**report, "accuracy": study.accuracy(chip.weights(), s)})
                advance()
            row = {"material": name, "reset": reset}
            for key in ("accuracy", "time_s", "energy_j", "device_energy_j", "pulses", "converged_fraction"):
                row[key], row[f"{key}_std"] = mean_std([r[key] for r in per_seed])
            row["devices"] = per_seed[0]["devices"]
            rows.append(row)
    return rows


def sweep(study: _Study, part: str, advance) -> list[dict]:
    """Accuracy against one swept level, for the default training noise and (conductance error) without it."""
    c = study.config

    def evaluate(level: float, s: int, train_noise: float) -> float:
        if part == "train-noise":
            return study.chip_accuracy(level, s, c.conductance_error)
        if part == "conductance-error":
            return study.chip_accuracy(train_noise, s, level)
        return study.chip_accuracy(train_noise, s, c.conductance_error, level)

    levels = {
        "train-noise": c.train_noise_levels,
        "conductance-error": c.conductance_error_levels,
        "input-noise": c.input_noise_levels,
    }[part]
    series = [c.train_noise] + ([0.0] if part == "conductance-error" and c.train_noise != 0 else [])
    rows = []
    for level in levels:
        row: dict = {"level": level}
        for i, train_noise in enumerate(series):
            values = [evaluate(level, s, train_noise) for s in study.seeds]
            suffix = "" if i == 0 else "_untrained_noise"
            row[f"accuracy{suffix}"], row[f"accuracy{suffix}_std"] = mean_std(values)
        advance()
        rows.append(row)
    return rows


def retraining(study: _Study, advance) -> list[dict]:
    """Program, settle by the conductance error, then retrain chip-in-the-loop when the chip falls behind."""
    c = study.config
    device = study.device(c.sweep_material)
    verify = study.verify(False)
    rows = []
    for level in c.retrain_levels:
        before, after, retrained, pulses, time_s, energy_j = [], [], [], [], [], []
        for s in study.seeds:
            weights = study.trained(c.train_noise, s)
            chip, _ = study.chip(c.sweep_material, c.train_noise, s, False, level)
            before.append(study.accuracy(chip.weights(), s))
            x, y = pattern_samples(
                c.n_train,
                c.pixel_noise_train,
                generator=stream(s, "retraining"),
                task=study.task,
            )
            chip_calibration = float(
                ((forward(x, chip.weights()).squeeze(1) > 0).long() == y).double().mean()
            )
            software_calibration = float(((forward(x, weights).squeeze(1) > 0).long() == y).double().mean())
            cost = {"pulses": 0, "time_s": 0.0, "energy_j": 0.0}
            if chip_calibration < software_calibration - c.retrain_margin:
                train = study.train_kwargs(c.train_noise, 40_000 + s, device)
                train.update(epochs=c.retrain_epochs, lr=c.retrain_lr)
                cost = retrain_chip(
                    chip,
                    weights,
                    verify=verify,
                    conductance_error=level,
                    train=train,
                )
                cost["energy_j"] += study.system_power_w * cost["time_s"]
            retrained.append(float(cost["pulses"] > 0 or cost["time_s"] > 0))
            after.append(study.accuracy(chip.weights(), s))
            pulses.append(cost["pulses"])
            time_s.append(cost["time_s"])
            energy_j.append(cost["energy_j"])
            advance()
        row = {"conductance_error": level}
        for key, values in (
            ("accuracy_before", before),
            ("accuracy_after", after),
            ("retrained_fraction", retrained),
            ("retrain_pulses", pulses),
            ("retrain_time_s", time_s),
            ("retrain_energy_j", energy_j),
        ):
            row[key], row[f"{key}_std"] = mean_std(values)
        rows.append(row)
    return rows


# figures ----------------------------------------------------------------------------------------------------------
def _figures(tables: dict[str, list[dict]], config: OnChip3x3Config) -> dict:
    figures = {}
    if "verify_stats" in tables:
        rows = tables["verify_stats"]

        def scheme(step_down: float) -> str:
            return "" if step_down == 1 else f", width ×{step_down:g} per overshoot"

        colours = {m: f"C{i}" for i, m in enumerate(config.materials)}
        labels = {(m, f): f"{m}{scheme(f)}" for m in config.materials for f in config.verify_width_step_downs}
        figures["verify_stats"] = plots.sweep_xy(
            config.verify_tolerances,
            {
                label: [r["mean_pulses"] for r in rows if r["material"] == m and r["width_step_down"] == f]
                for (m, f), label in labels.items()
            },
            "verify tolerance (relative)",
            "mean pulses per device",
            log_x=True,
            styles={
                label: {"color": colours[m], "linestyle": "-" if f == 1 else "--"}
                for (m, f), label in labels.items()
            },
        )
    if "materials" in tables:
        rows = tables["materials"]
        names = [r["material"] for r in rows if not r["reset"]]
        for key, label in (("time_s", "time (s)"), ("energy_j", "energy (J)")):
            figures[f"materials_{key.split('_')[0]}"] = plots.grouped_bars(
                names,
                {
                    "no reset": [r[key] for r in rows if not r["reset"]],
                    "200 ms reset": [r[key] for r in rows if r["reset"]],
                },
                f"programming {label.split()[0]} of the network (mean ± std, n = {config.seeds} chips)",
                errors={
                    "no reset": [r[f"{key}_std"] for r in rows if not r["reset"]],
                    "200 ms reset": [r[f"{key}_std"] for r in rows if r["reset"]],
                },
                y_label=label,
            )
    for part in ("train-noise", "conductance-error", "input-noise"):
        if part in tables:
            rows = tables[part]
            label = (
                f"conductance error {config.conductance_error:g}, input noise {config.input_noise:g}"
                if part == "train-noise"
                else f"σ_train = {config.train_noise:g}"
            )
            series = {label: ("accuracy", "accuracy_std")}
            if "accuracy_untrained_noise" in rows[0]:
                series["σ_train = 0"] = ("accuracy_untrained_noise", "accuracy_untrained_noise_std")
            figures[part] = plots.sweep_series(
                [r["level"] for r in rows],
                {label: ([r[m] for r in rows], [r[s] for r in rows]) for label, (m, s) in series.items()},
                f"{part} (relative σ)",
            )
    if "retraining" in tables:
        rows = tables["retraining"]
        figures["retraining"] = plots.grouped_bars(
            [f"{r['conductance_error']:g}" for r in rows],
            {
                "before retraining": [100 * r["accuracy_before"] for r in rows],
                "after retraining": [100 * r["accuracy_after"] for r in rows],
            },
            f"chip-in-the-loop retraining (mean ± std, n = {config.seeds} chips)",
            errors={
                "before retraining": [100 * r["accuracy_before_std"] for r in rows],
                "after retraining": [100 * r["accuracy_after_std"] for r in rows],
            },
            y_label="test accuracy (%)",
        )
        figures["retraining"].axes[0].set_xlabel("relative conductance error")
    return figures


def _summarize(tables: dict[str, list[dict]], calibration: dict | None) -> dict:
    summary: dict = {}
    if calibration is not None:
        summary["calibration"] = calibration
    if "verify_stats" in tables:
        summary["verify_converged_fraction"] = {
            f"{r['material']}@{r['tolerance']}"
            + ("" if r["width_step_down"] == 1 else f"/width×{r['width_step_down']:g}"): r[
                "converged_fraction"
            ]
            for r in tables["verify_stats"]
        }
    if "materials" in tables:
        rows = tables["materials"]
        for r in rows:
            summary[f"{r['material']}/{'reset' if r['reset'] else 'no_reset'}"] = {
                "accuracy": r["accuracy"],
                "accuracy_std": r["accuracy_std"],
                "training_time_s": r["time_s"],
                "training_time_s_std": r["time_s_std"],
                "energy_j": r["energy_j"],
                "energy_j_std": r["energy_j_std"],
                "device_energy_j": r["device_energy_j"],
                "pulses": r["pulses"],
            }
        no_reset = {r["material"]: r for r in rows if not r["reset"]}
        with_reset = {r["material"]: r for r in rows if r["reset"]}
        summary["reset_time_factor"] = {m: with_reset[m]["time_s"] / no_reset[m]["time_s"] for m in no_reset}
        summary["reset_energy_factor"] = {
            m: with_reset[m]["energy_j"] / no_reset[m]["energy_j"] for m in no_reset
        }
        summary["fastest_material"] = min(no_reset.values(), key=lambda r: r["time_s"])["material"]
        summary["least_energy_material"] = min(no_reset.values(), key=lambda r: r["energy_j"])["material"]
    for part in ("train-noise", "conductance-error", "input-noise"):
        if part in tables:
            rows = tables[part]
            summary[f"{part}_best_level"] = max(rows, key=lambda r: r["accuracy"])["level"]
            summary[f"{part}_accuracy"] = {str(r["level"]): r["accuracy"] for r in rows}
            summary[f"{part}_accuracy_std"] = {str(r["level"]): r["accuracy_std"] for r in rows}
            if "accuracy_untrained_noise" in rows[0]:
                summary[f"{part}_accuracy_untrained_noise"] = {
                    str(r["level"]): r["accuracy_untrained_noise"] for r in rows
                }
                summary[f"{part}_accuracy_untrained_noise_std"] = {
                    str(r["level"]): r["accuracy_untrained_noise_std"] for r in rows
                }
    if "retraining" in tables:
        summary["retraining"] = {
            str(r["conductance_error"]): {
                "before": r["accuracy_before"],
                "after": r["accuracy_after"],
                "before_std": r["accuracy_before_std"],
                "after_std": r["accuracy_after_std"],
            }
            for r in tables["retraining"]
        }
    return summary


def run(config: OnChip3x3Config, store: RunStore | None = None) -> Results:
    """Run the chosen parts in order; each finished part is checkpointed in the store and a resumed run reuses it."""
    store = store_for(store, "onchip-3x3", config)
    torch.set_num_threads(config.threads)
    study = _Study(config)
    tables: dict[str, list[dict]] = {}
    figures: dict = {}
    calibration = None
    summary_extra = {
        "software_clean_accuracy": mean_std(
            [study.accuracy(study.trained(config.train_noise, s), s, 0.0) for s in study.seeds]
        )[0],
        "software_noisy_accuracy": mean_std(
            [study.accuracy(study.trained(config.train_noise, s), s) for s in study.seeds]
        )[0],
    }
    counts = {
        "materials": 2 * len(config.materials) * config.seeds,
        "train-noise": len(config.train_noise_levels),
        "conductance-error": len(config.conductance_error_levels),
        "input-noise": len(config.input_noise_levels),
        "retraining": len(config.retrain_levels) * config.seeds,
    }
    with progress_bar() as progress:
        task = progress.add_task("onchip-3x3", total=sum(counts.get(p, 1) for p in config.parts))

        def advance() -> None:
            progress.advance(task)

        for part in PARTS:
            if part not in config.parts:
                continue
            if part == "device-iv":
                tables["device_iv"], figures["device_iv"], figures["pulse_response"] = device_characteristics(
                    study
                )
                advance()
                continue
            saved = store.load(f"part_{part}")
            if saved is not None:
                if part == "calibration":
                    calibration = saved["calibration"]
                    study.time_scale, study.system_power_w = (
                        calibration["time_scale"],
                        calibration["system_power_w"],
                    )
                else:
                    tables[saved["name"]] = saved["rows"]
                progress.advance(task, counts.get(part, 1))
                continue
            if part == "calibration":
                calibration = calibrate(study)
                advance()
                saved = {"calibration": calibration}
            else:
                name = part.replace("verify-stats", "verify_stats")
                if part == "verify-stats":
                    tables[name] = verify_statistics(study)
                    advance()
                elif part == "materials":
                    tables[name] = materials(study, advance)
                elif part == "retraining":
                    tables[name] = retraining(study, advance)
                else:
                    tables[name] = sweep(study, part, advance)
                saved = {"name": name, "rows": tables[name]}
            store.save(f"part_{part}", saved)
    figures.update(_figures(tables, config))
    summary = {**summary_extra, **_summarize(tables, calibration)}
    if calibration is None:
        summary["board"] = {"time_scale": study.time_scale, "system_power_w": study.system_power_w}
    return Results(summary=summary, tables=tables, figures=figures)
