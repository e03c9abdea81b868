"""``eeg-bnn``: binarized 1D CNNs for seizure detection on the Bonn EEG set, split by segment, on a 2T2R chip.

Tasks (Andrzejak et al. 2001 data): A vs E (healthy eyes open vs ictal), ABCD vs E (every non-ictal set vs ictal),
and the five-class A / B / C / D / E. The 100 segments of each set are split once into train and test segments
(the same indices in every set), then cut into overlapping windows; a segment's class is the majority vote of its
windows. Amplitudes are divided by one constant, the training windows' std, so the ictal set keeps its larger
amplitude (a per-window normalisation would erase the strongest cue). The variant comparison runs at every width on
the five-class task, where the variants separate; the two-class tasks run at the widths listed in
``two_class_widths``.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import torch
from pydantic import Field

from ...data.eeg import cut_windows, load_bonn, lowpass, split_segments
from ...runner.progress import progress_bar
from ...runner.store import Results, RunStore
from ...runner.study import store_for
from .metrics import confusion_matrix, scores
from .study import (
    BiosignalStudy,
    Task,
    chip_figure,
    chip_summary,
    memory_figure,
    run_task,
    training_steps,
)

HEADLINE = "segment_accuracy"
TASKS = {"A-E": ("A", "E"), "ABCD-E": ("ABCD", "E"), "A-B-C-D-E": ("A", "B", "C", "D", "E")}


class EEGBNNConfig(BiosignalStudy):
    """Configuration of ``eeg-bnn`` (default ≈ 6 min on 2 cores)."""

    tasks: list[str] = Field(default_factory=lambda: list(TASKS), min_length=1, max_length=3)
    """Tasks to run: A-E, ABCD-E, A-B-C-D-E."""
    two_class_widths: list[Annotated[int, Field(ge=1, le=64)]] = Field(
        default_factory=lambda: [1], max_length=6
    )
    """Widths of the two-class tasks (the five-class task runs at every width of ``widths``)."""
    test_fraction: float = Field(0.2, gt=0, lt=1)
    """Fraction of each set's segments held out for testing (split by segment, before windowing)."""
    window: int = Field(256, ge=16, le=4097)
    """Window length in samples (256 ≈ 1.47 s at 173.61 Hz)."""
    stride: int = Field(128, ge=1, le=4097)
    """Window stride in samples (train and test)."""
    lowpass_hz: float | None = Field(40.0, gt=0, lt=86)
    """Zero-phase low-pass before windowing (Andrzejak et al. 2001 used 40 Hz); None keeps the raw band."""
    kernels: list[Annotated[int, Field(ge=1, le=255)]] = Field(
        default_factory=lambda: [7, 5, 5, 5], max_length=8
    )
    """Convolution kernel sizes."""
    channels: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        default_factory=lambda: [8, 16, 32, 32], min_length=1, max_length=8
    )
    """Convolution widths at ×1."""
    epochs: int = Field(4, ge=1, le=500)
    """Training epochs."""
    batch_size: int = Field(128, ge=2, le=65536)
    """Samples per minibatch."""
    class_weight_power: float = Field(1.0, ge=0, le=1)
    """Loss weight per class ∝ (1/n_class)^power (1: balanced; matters for ABCD vs E, 4:1)."""


def _segment_vote(predicted: torch.Tensor, owner: torch.Tensor, n_classes: int) -> torch.Tensor:
    votes = torch.zeros(int(owner.max()) + 1, n_classes, dtype=torch.int64)
    votes.index_put_((owner, predicted.long()), torch.ones_like(owner), accumulate=True)
    return votes.argmax(1)


def _scorer(classes, y_windows, owner, y_segments):
    seizure = classes.index("E")

    def score(predicted: torch.Tensor) -> dict:
        n = len(classes)
        window_conf = confusion_matrix(y_windows, predicted, n)
        segment_pred = _segment_vote(predicted, owner, n)
        segment_conf = confusion_matrix(y_segments, segment_pred, n)
        window, segment = scores(window_conf, classes), scores(segment_conf, classes)
        positive = y_segments == seizure
        called = segment_pred == seizure
        return {
            "window_accuracy": window["accuracy"],
            "segment_accuracy": segment["accuracy"],
            "segment_balanced_accuracy": segment["balanced_accuracy"],
            "seizure_sensitivity": float((called & positive).sum() / positive.sum()),
            "seizure_specificity": float((~called & ~positive).sum() / (~positive).sum()),
            "segment_sensitivity": segment["sensitivity"],
            "confusion": segment_conf.tolist(),
        }

    return score


def build_tasks(config: EEGBNNConfig) -> list[Task]:
    unknown = [t for t in config.tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"tasks must be among {', '.join(TASKS)}; got {unknown}")
    data = load_bonn(config.data_dir)
    if config.lowpass_hz is not None:
        data = {k: lowpass(v, config.lowpass_hz) for k, v in data.items()}
    test_idx, train_idx = split_segments(config.test_fraction, config.seed)
    tasks = []
    for name in config.tasks:
        classes = TASKS[name]
        parts = {"train": [], "test": []}
        for label, group in enumerate(classes):
            for s in group:
                parts["train"].append((data[s][train_idx], label))
                parts["test"].append((data[s][test_idx], label))
        tensors = {}
        for split, items in parts.items():
            segments = np.concatenate([seg for seg, _ in items])
            seg_labels = np.concatenate([np.full(len(seg), lab) for seg, lab in items])
            x, owner = cut_windows(segments, config.window, config.stride)
            tensors[split] = (x, torch.from_numpy(seg_labels)[owner], owner, torch.from_numpy(seg_labels))
        scale = float(tensors["train"][0].std())
        x_train, y_train, _, _ = tensors["train"]
        x_test, y_test, owner_test, y_segments = tensors["test"]
        five = len(classes) == 5
        tasks.append(
            Task(
                name,
                classes,
                x_train / scale,
                None,
                y_train,
                x_test / scale,
                None,
                y_test,
                _scorer(classes, y_test, owner_test, y_segments),
                HEADLINE,
                widths=None if five else tuple(config.two_class_widths),
            )
        )
    return tasks


def run(config: EEGBNNConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "eeg-bnn", config)
    torch.set_num_threads(config.threads)
    tasks = build_tasks(config)
    summary = {"protocol": {"split": "by segment, before windowing", "test_fraction": config.test_fraction}}
    tables, figures = {"networks": [], "chip": [], "confusion": []}, {}
    with progress_bar() as progress:
        training = progress.add_task("training", total=training_steps(config, tasks))
        for task in tasks:
            out = run_task(config, store, task, progress, training)
            summary[task.name] = {
                "networks": out["summary"],
                "chip": chip_summary(config, out["chip_rows"], HEADLINE),
            }
            tables["networks"] += out["rows"]
            tables["chip"] += out["chip_rows"]
            tables["confusion"] += [
                {"task": task.name, "network": name, "reference": task.classes[i]}
                | dict(zip(task.classes, row, strict=True))
                for name, matrix in out["confusions"].items()
                for i, row in enumerate(matrix)
            ]
            if len(task.classes) == 5:
                figures["five_class_accuracy_vs_memory"] = memory_figure(
                    out["summary"], HEADLINE, "five-class segment accuracy"
                )
                if out["chip_rows"]:
                    figures["five_class_accuracy_vs_programming_energy"] = chip_figure(
                        out["chip_rows"], HEADLINE, "five-class segment accuracy"
                    )
    return Results(summary=summary, tables=tables, figures=figures)
