"""Figures for experiments and device previews (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402


def accuracy_per_epoch(history: Sequence[Mapping[str, float]], series: Mapping[str, str]):
    """Test accuracy against epoch; ``series`` maps a history column to its legend label."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [row["epoch"] for row in history]
    for column, label in series.items():
        ax.plot(epochs, [100 * row[column] for row in history], marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def conductance_histograms(before_s: np.ndarray, after_s: np.ndarray, g_min_s: float, g_max_s: float):
    """Histograms of all device conductances before and after training (µS)."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    bins = np.linspace(g_min_s * 1e6, g_max_s * 1e6, 60)
    ax.hist(before_s * 1e6, bins=bins, alpha=0.6, label="before training")
    ax.hist(after_s * 1e6, bins=bins, alpha=0.6, label="after training")
    ax.set_xlabel("conductance (µS)")
    ax.set_ylabel("devices")
    ax.set_yscale("log")
    ax.legend()
    return fig


def pulse_response(pulse_numbers: np.ndarray, conductances_s: np.ndarray, title: str):
    """Conductance traces (µS) of several devices under a potentiation-then-depression pulse train."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(pulse_numbers, conductances_s.T * 1e6, lw=0.8, alpha=0.7)
    ax.set_xlabel("pulse number (potentiation, then depression)")
    ax.set_ylabel("conductance (µS)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def sweep_series(levels, series: Mapping[str, tuple[Sequence[float], Sequence[float]]], x_label: str):
    """Accuracy (%) against a swept level, one line per series of (means, stds) over seeds."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, (means, stds) in series.items():
        ax.errorbar(
            levels, 100 * np.asarray(means), yerr=100 * np.asarray(stds), marker="o", capsize=3, label=label
        )
    ax.set_xlabel(x_label)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    _legend(ax, len(series))
    return fig


def _legend(ax, n_series: int, fontsize: int = 8) -> None:
    """A legend that never covers data: inside (best place) for a few series, beside the axes for many."""
    if n_series > 4:
        ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=fontsize, loc="best")


def grouped_bars(
    groups,
    series: Mapping[str, Sequence[float]],
    title: str,
    errors: Mapping[str, Sequence[float]] | None = None,
    y_label: str | None = None,
):
    """Bars per group, one colour per series; ``errors`` (same keys) draws ± error bars (e.g. std over seeds)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (label, values) in enumerate(series.items()):
        yerr = None if errors is None else errors.get(label)
        ax.bar(x + i * width, values, width, label=label, yerr=yerr, capsize=3 if yerr is not None else 0)
    ax.set_xticks(x + width * (len(series) - 1) / 2, groups)
    ax.set_title(title)
    if y_label:
        ax.set_ylabel(y_label)
    if len(series) > 1:  # bars fill the axes: the legend goes beside them
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


def sweep_xy(
    x,
    series: Mapping[str, Sequence[float]],
    x_label: str,
    y_label: str,
    log_x: bool = False,
    styles: Mapping[str, dict] | None = None,
    errors: Mapping[str, Sequence[float]] | None = None,
):
    """One line per series against a shared x; ``styles`` maps a label to extra ``plot`` keywords and
    ``errors`` (same keys) draws ± error bars (e.g. std over seeds)."""
    fig, ax = plt.subplots(figsize=(5.5 if len(series) > 4 else 5, 3.5))
    for label, values in series.items():
        yerr = None if errors is None else errors.get(label)
        ax.errorbar(
            x[: len(values)],
            values,
            yerr=yerr,
            marker="o",
            capsize=3 if yerr is not None else 0,
            label=label,
            **(styles or {}).get(label, {}),
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    _legend(ax, len(series), fontsize=7)
    return fig


def iv_loops(loops: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]):
    """Current (mA) against voltage: one panel per device (small multiples), one line per drive frequency."""
    names = list(loops)
    fig, axes = plt.subplots(1, len(names), figsize=(3.3 * len(names), 3.2), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for label, (v, i) in loops[name].items():
            ax.plot(v, 1e3 * i, lw=0.9, label=label)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("voltage (V)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("current (mA)")
    fig.tight_layout()
    return fig


def pulse_traces(traces: Mapping[str, Sequence[float]]):
    """Conductance (mS) after each pulse of a SET-then-RESET train, per device."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, g in traces.items():
        ax.plot(np.arange(len(g)), 1e3 * np.asarray(g), marker=".", label=label)
    ax.set_xlabel("pulse number (SET, then RESET)")
    ax.set_ylabel("conductance (mS)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def curves_xy(
    xs: Mapping[str, Sequence[float]],
    ys: Mapping[str, Sequence[float]],
    x_label: str,
    y_label: str,
    log_x: bool = False,
    log_y: bool = False,
):
    """One line per label, each with its own x values."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, y in ys.items():
        ax.plot(xs[label], y, marker="o", markersize=3, label=label)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    _legend(ax, len(ys))
    return fig


def memory_accuracy(points: Mapping[str, Sequence[tuple[float, float, float]]], y_label: str):
    """Score against memory (bits, log axis): one series per label of (bits, mean, std) points, with error bars."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, series in points.items():
        bits, mean, std = (np.asarray(v, dtype=float) for v in zip(*series, strict=True))
        ax.errorbar(bits, mean, yerr=std, marker="o", markersize=4, capsize=3, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("memory (bits)")
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    _legend(ax, len(points))
    return fig
