"""Metaplastic BNNs learning task sequences (Laborieux et al., Nat. Commun. 12, 2549, 2021).

``meta-pmnist`` (permuted MNIST), ``meta-mnist-fmnist`` (MNIST then Fashion-MNIST) and ``meta-stream`` (a data set
learned as a stream of chunks, compared with learning it all at once) share this harness; ``importance_test`` flips
binary weights binned by |W_h| after the last run and reports the Spearman correlation of the newest task's loss
increase with |W_h| (an old, already forgotten task would show no signal).

Each task is MNIST (the first ``train_per_task`` training images) under a fixed random pixel permutation (task 0 is
unpermuted). A BNN (784-h-h-10, batch-norm after every layer, real-pixel first layer, hidden weights unclipped) learns
the tasks one after another with :class:`~memristorch.optim.MetaplasticAdam` for every metaplasticity ``m`` in
``metas``; after every epoch it is tested on every task. As in the authors' code, batch-norm uses batch statistics
(no running averages) and, in the "task" scenario (``per_task_bn=True``), each task's batch-norm affine parameters are
saved after it is learned and restored to test it; ``per_task_bn=False`` shares them (the "domain" scenario).

CPU defaults: 5 tasks of 10k images, 2×512, 15 epochs per task, 2,000 test images per task (the paper: 6 tasks of
60k, 2×4096, 40 epochs). A run interrupted between tasks resumes from its checkpoint with ``--resume``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import nn

from ..data import load_dataset
from ..nn.binary import BinaryLinear, SignActivation, clear_stored_weights, quantized_layers, store_weights
from ..optim import MetaplasticAdam
from ..runner.config import StudyConfig
from ..runner.progress import progress_bar
from ..runner.seeds import derive_seed, stream
from ..runner.stats import mean_std
from ..runner.store import Results, RunStore
from ..runner.study import store_for
from ..runner.train import train_epochs
from .evaluation import accuracy

Meta = Annotated[float, Field(ge=0, le=100)]
"""A metaplasticity strength m (0: plain BNN)."""
Samples = Annotated[int, Field(ge=10, le=1_000_000)]
"""Training or test samples per task."""
Epochs = Annotated[int, Field(ge=1, le=1000)]
"""Epochs per task."""


class MetaPMNISTConfig(StudyConfig):
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "mnist"
    data_dir: str | None = None
    tasks: int = Field(5, ge=1, le=50)
    train_per_task: Samples = 10_000
    test_per_task: Samples = 2_000
    hidden: list[Annotated[int, Field(ge=1, le=65536)]] = Field(
        default_factory=lambda: [512, 512], min_length=1, max_length=16
    )
    epochs_per_task: Epochs = 15
    batch_size: int = Field(100, ge=2, le=65536)
    lr: float = Field(0.005, gt=0, le=10)
    weight_decay: float = Field(1e-7, ge=0, le=1)
    metas: list[Meta] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 1.35], min_length=1)
    per_task_bn: bool = True
    sequence: Literal["permuted", "mnist-fmnist", "stream"] = Field(
        "permuted",
        description="permuted MNIST tasks, MNIST then Fashion-MNIST, or a stream of data-set chunks",
    )
    importance_test: bool = Field(True, description="after the last meta run, flip weights binned by |W_h|")
    importance_bins: int = Field(8, ge=2, le=50)
    importance_flips: int = Field(
        20_000, ge=1, le=10_000_000, description="binary weights flipped per bin and draw"
    )
    threads: int = Field(2, ge=1, le=256)

    @field_validator("metas")
    @classmethod
    def _check_metas(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("metas needs at least one metaplasticity value")
        for m in value:
            if m < 0:
                raise ValueError(f"every metaplasticity m must be ≥ 0, got {m}")
        return value

    @field_validator("hidden")
    @classmethod
    def _check_hidden(cls, value: list[int]) -> list[int]:
        if not value or any(h < 1 for h in value):
            raise ValueError("hidden must list at least one positive layer width")
        return value


class MetaMNISTFMNISTConfig(MetaPMNISTConfig):
    """``meta-mnist-fmnist``: MNIST then Fashion-MNIST (Fig. 1a analogue); CPU defaults: all 60k images, 10 epochs each.

    Consolidation needs steps: with 10k images × 15 epochs per task MNIST collapses at m = 1.5 as at m = 0; with the
    full sets × 10 epochs it is kept (numbers in the issue #5 note).
    """

    sequence: Literal["mnist-fmnist"] = "mnist-fmnist"
    tasks: int = Field(2, ge=1, le=50)
    train_per_task: Samples = 60_000
    test_per_task: Samples = 10_000
    epochs_per_task: Epochs = 10
    metas: list[Meta] = Field(default_factory=lambda: [0.0, 1.5], min_length=1)
    importance_test: bool = False


class MetaStreamConfig(MetaPMNISTConfig):
    """``meta-stream``: Fashion-MNIST learned once as a stream of chunks, no task boundaries (Fig. 4a analogue).

    CPU defaults: 30 chunks of 2,000 images, 5 epochs per chunk, 2×512 (the paper: 60 × 1,000, 20 epochs, 2×1024);
    shared batch-norm (no task boundaries). The reference trains on the whole stream at once for the same epochs.
    """

    sequence: Literal["stream"] = "stream"
    dataset: Literal["digits", "mnist", "fashion-mnist"] = "fashion-mnist"
    tasks: int = Field(30, ge=1, le=1000)
    train_per_task: Samples = 2000
    epochs_per_task: Epochs = 5
    test_per_task: Samples = 10_000
    metas: list[Meta] = Field(default_factory=lambda: [0.0, 2.5], min_length=1)
    per_task_bn: bool = False
    importance_test: bool = False


_NAMES = {"permuted": "meta-pmnist", "mnist-fmnist": "meta-mnist-fmnist", "stream": "meta-stream"}


def build_meta_bnn(n_in: int, hidden: list[int], n_out: int, seed: int) -> nn.Sequential:
    """BNN with batch-statistics batch-norm everywhere and unclipped hidden weights."""
    torch.manual_seed(derive_seed(seed, "init"))
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [BinaryLinear(width, h), nn.BatchNorm1d(h, track_running_stats=False), SignActivation()]
        width = h
    layers += [BinaryLinear(width, n_out), nn.BatchNorm1d(n_out, track_running_stats=False)]
    return nn.Sequential(*layers)


def _bn_affine(model: nn.Module) -> list[torch.Tensor]:
    return [
        t.detach().clone()
        for m in model.modules()
        if isinstance(m, nn.BatchNorm1d)
        for t in (m.weight, m.bias)
    ]


def _set_bn_affine(model: nn.Module, values: list[torch.Tensor]) -> None:
    params = [t for m in model.modules() if isinstance(m, nn.BatchNorm1d) for t in (m.weight, m.bias)]
    with torch.no_grad():
        for p, v in zip(params, values, strict=True):
            p.copy_(v)


def _task(x, y, test_x, test_y):
    return {"x": x, "y": y, "test_x": test_x, "test_y": test_y}


def make_tasks(config: MetaPMNISTConfig):
    """The task list: dicts of training and test tensors (stream chunks share one test set, evaluated once)."""
    if config.sequence == "mnist-fmnist":
        sets = [load_dataset(name, config.data_dir) for name in ("mnist", "fashion-mnist")]
        n, m = config.train_per_task, config.test_per_task
        return sets[0], [_task(d.train.x[:n], d.train.y[:n], d.test.x[:m], d.test.y[:m]) for d in sets]
    if config.sequence == "stream":
        data = load_dataset(config.dataset, config.data_dir)
        chunk = config.train_per_task
        if config.tasks * chunk > len(data.train):
            raise ValueError(
                f"tasks × train_per_task = {config.tasks * chunk} exceeds the {len(data.train)} training samples"
            )
        test_x, test_y = data.test.x[: config.test_per_task], data.test.y[: config.test_per_task]
        return data, [
            _task(
                data.train.x[i * chunk : (i + 1) * chunk],
                data.train.y[i * chunk : (i + 1) * chunk],
                test_x,
                test_y,
            )
            for i in range(config.tasks)
        ]
    data = load_dataset(config.dataset, config.data_dir)
    generator = stream(config.seed, "permutations")
    n = data.n_features
    tasks = []
    for t in range(config.tasks):
        perm = torch.arange(n) if t == 0 else torch.randperm(n, generator=generator)
        tasks.append(
            {
                "x": data.train.x[: config.train_per_task][:, perm],
                "y": data.train.y[: config.train_per_task],
                "test_x": data.test.x[: config.test_per_task][:, perm],
                "test_y": data.test.y[: config.test_per_task],
            }
        )
    return data, tasks


@torch.no_grad()
def _task_accuracy(model, task, bn_state) -> float:
    if bn_state is not None:
        saved = _bn_affine(model)
        _set_bn_affine(model, bn_state)
    value = accuracy(model, task["test_x"], task["test_y"])
    if bn_state is not None:
        _set_bn_affine(model, saved)
    return value


def run_sequence(config: MetaPMNISTConfig, meta: float, tasks, data, store, progress=None, task_bar=None):
    """Learn the tasks in order with metaplasticity ``meta``; returns the history rows and the trained model.

    ``store`` (a :class:`RunStore`, or ``None``) checkpoints the sequence after every task.
    """
    model = build_meta_bnn(data.n_features, config.hidden, data.n_classes, config.seed)
    optimizer = MetaplasticAdam(model.parameters(), lr=config.lr, meta=meta, weight_decay=config.weight_decay)
    generator = stream(config.seed, "batch-order")
    bn_store: dict[int, list[torch.Tensor]] = {}
    history: list[dict] = []
    histograms: list[dict] = []
    start_task = 0
    key = f"sequence_meta{meta:g}"
    state = store.load(key) if store is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        bn_store = {int(k): v for k, v in state["bn_store"].items()}
        history, start_task = state["history"], state["next_task"]
        histograms = state.get("histograms", [])
        if progress is not None:
            progress.advance(task_bar, start_task * config.epochs_per_task)
    model.train()
    for t in range(start_task, len(tasks)):
        current = tasks[t]

        def step(index: torch.Tensor, current=current) -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(current["x"][index]), current["y"][index])
            loss.backward()
            optimizer.step()
            return loss.detach().double() * len(index)

        def after_epoch(epoch: int, _loss: float, t=t) -> None:
            bn_now = _bn_affine(model)
            for e in range(1 if config.sequence == "stream" else len(tasks)):
                bn = (bn_store.get(e) if e != t else bn_now) if config.per_task_bn else None
                history.append(
                    {
                        "meta": meta,
                        "trained_task": t,
                        "epoch": epoch + 1,
                        "time": t * config.epochs_per_task + epoch + 1,
                        "eval_task": e,
                        "accuracy": _task_accuracy(model, tasks[e], bn),
                    }
                )
            if progress is not None:
                progress.advance(task_bar)

        train_epochs(
            step,
            len(current["y"]),
            epochs=config.epochs_per_task,
            batch_size=config.batch_size,
            generator=generator,
            min_batch=2,
            after_epoch=after_epoch,
        )
        bn_store[t] = _bn_affine(model)
        histograms.extend(_hidden_histogram(model, meta, t))
        if store is not None:
            store.save(
                key,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "generator": generator.get_state(),
                    "bn_store": {str(k): v for k, v in bn_store.items()},
                    "history": history,
                    "histograms": histograms,
                    "next_task": t + 1,
                },
            )
    return history, model, bn_store, histograms


_HISTOGRAM_EDGES = np.concatenate([[0.0], np.geomspace(1e-3, 100.0, 51)])


def _hidden_histogram(model, meta: float, task: int) -> list[dict]:
    """Density of |W_h| over every quantized layer after ``task`` (log-spaced bins from 1e-3 to 100)."""
    values = torch.cat([layer.weight.detach().abs().flatten() for layer in quantized_layers(model)]).numpy()
    counts, _ = np.histogram(values, bins=_HISTOGRAM_EDGES)
    return [
        {
            "meta": meta,
            "after_task": task,
            "abs_hidden_weight_low": float(lo),
            "abs_hidden_weight_high": float(hi),
            "fraction": float(c / len(values)),
        }
        for lo, hi, c in zip(_HISTOGRAM_EDGES[:-1], _HISTOGRAM_EDGES[1:], counts, strict=True)
    ]


def final_accuracies(history: list[dict], n_tasks: int) -> list[float]:
    last_time = max(r["time"] for r in history)
    final = {r["eval_task"]: r["accuracy"] for r in history if r["time"] == last_time}
    return [final[e] for e in range(n_tasks)]


@torch.no_grad()
def hidden_weight_importance(
    model, task, bn_state, bins: int, flips: int, seed: int, draws: int = 3
) -> list[dict]:
    """Loss increase on ``task`` when ``flips`` binary weights of one |W_h| bin are flipped (Fig. 5c–e analogue).

    Bins are quantiles of |W_h| over every quantized layer; each draw flips a fresh random sample of the bin.
    """
    layers = quantized_layers(model)
    magnitudes = torch.cat([layer.weight.detach().abs().flatten() for layer in layers])
    offsets = np.cumsum([0] + [layer.weight.numel() for layer in layers])
    generator = stream(seed, "importance")
    subsample = torch.randperm(len(magnitudes), generator=generator)[:1_000_000]
    edges = torch.quantile(magnitudes[subsample], torch.linspace(0, 1, bins + 1))

    def loss() -> float:
        if bn_state is not None:
            _set_bn_affine(model, bn_state)
        model.eval()
        value = float(F.cross_entropy(model(task["test_x"]), task["test_y"]))
        model.train()
        return value

    store_weights(model)
    base = loss()
    rows = []
    for b in range(bins):
        inside = ((magnitudes >= edges[b]) & (magnitudes <= edges[b + 1])).nonzero().flatten()
        increases = []
        for _ in range(draws):
            chosen = inside[torch.randperm(len(inside), generator=generator)[:flips]]
            store_weights(model)
            for i, layer in enumerate(layers):
                local = chosen[(chosen >= offsets[i]) & (chosen < offsets[i + 1])] - offsets[i]
                layer.stored_weight.view(-1)[local] *= -1
            increases.append(loss() - base)
        rows.append(
            {
                "bin": b,
                "abs_hidden_weight_low": float(edges[b]),
                "abs_hidden_weight_high": float(edges[b + 1]),
                "abs_hidden_weight_mean": float(magnitudes[inside].mean()),
                "loss_increase": mean_std(increases)[0],
                "loss_increase_std": mean_std(increases)[1],
                "n_draws": len(increases),
            }
        )
    clear_stored_weights(model)
    return rows


def run(config: MetaPMNISTConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, _NAMES[config.sequence], config)
    torch.set_num_threads(config.threads)
    if config.sequence == "mnist-fmnist":
        config = config.model_copy(update={"tasks": 2})
    data, tasks = make_tasks(config)
    n_eval = 1 if config.sequence == "stream" else config.tasks
    rows, summary_final, histogram_rows = [], {}, []
    with progress_bar() as progress:
        bar = progress.add_task(
            "meta-pmnist epochs", total=len(config.metas) * config.tasks * config.epochs_per_task
        )
        for meta in config.metas:
            history, model, bn_store, histograms = run_sequence(
                config, meta, tasks, data, store, progress, bar
            )
            rows.extend(history)
            histogram_rows.extend(histograms)
            summary_final[f"{meta:g}"] = final_accuracies(history, n_eval)
    means = {k: float(np.mean(v)) for k, v in summary_final.items()}
    summary = {
        "final_accuracy_per_task": summary_final,
        "final_mean_accuracy": means,
        "newest_task_accuracy": {k: v[-1] for k, v in summary_final.items()},
        "first_task_accuracy": {k: v[0] for k, v in summary_final.items()},
        "tasks": config.tasks,
        "epochs_per_task": config.epochs_per_task,
        "hidden": config.hidden,
        "train_per_task": config.train_per_task,
    }
    tables: dict[str, list[dict]] = {"accuracy_per_epoch": rows, "hidden_weight_histograms": histogram_rows}
    if config.sequence == "stream":  # reference: the whole stream as one data set, same passes per sample
        whole = _task(
            torch.cat([t["x"] for t in tasks]),
            torch.cat([t["y"] for t in tasks]),
            tasks[0]["test_x"],
            tasks[0]["test_y"],
        )
        reference_config = config.model_copy(update={"tasks": 1})
        reference, _, _, _ = run_sequence(reference_config, 0.0, [whole], data, None)
        summary["whole_dataset_accuracy"] = final_accuracies(reference, 1)[0]
    if config.importance_test:
        importance = hidden_weight_importance(  # on the newest task, the one the network currently knows
            model,
            tasks[-1],
            bn_store.get(len(tasks) - 1) if config.per_task_bn else None,
            config.importance_bins,
            config.importance_flips,
            config.seed,
        )
        from scipy.stats import spearmanr

        rho = spearmanr(
            [r["abs_hidden_weight_mean"] for r in importance], [r["loss_increase"] for r in importance]
        )
        summary["importance_spearman_rho"] = float(rho.statistic)
        summary["importance_meta"] = config.metas[-1]
        tables["importance"] = importance
    baseline = f"{config.metas[0]:g}"
    summary["mean_gain_over_first_meta_pts"] = {k: 100 * (v - means[baseline]) for k, v in means.items()}

    fig_curves, axes = plt.subplots(1, len(config.metas), figsize=(3.2 * len(config.metas), 3.2), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, meta in zip(axes, config.metas, strict=True):
        for e in range(n_eval):
            pts = [(r["time"], r["accuracy"]) for r in rows if r["meta"] == meta and r["eval_task"] == e]
            ax.plot(*zip(*pts, strict=True), label=f"task {e}")
        ax.set_title(f"m = {meta:g}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    axes[-1].legend(fontsize=7)
    fig_hist, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    centres = np.sqrt(_HISTOGRAM_EDGES[1:] * np.maximum(_HISTOGRAM_EDGES[:-1], 1e-4))
    last_meta = config.metas[-1]
    for task in range(config.tasks):
        fractions = [
            r["fraction"] for r in histogram_rows if r["meta"] == last_meta and r["after_task"] == task
        ]
        left.plot(centres, fractions, label=f"after task {task}")
    left.set_title(f"m = {last_meta:g}, task after task")
    for meta in config.metas:
        fractions = [
            r["fraction"] for r in histogram_rows if r["meta"] == meta and r["after_task"] == config.tasks - 1
        ]
        right.plot(centres, fractions, label=f"m = {meta:g}")
    right.set_title("after the last task")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("|W_h| (all quantized layers)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    left.set_ylabel("fraction of weights per bin")
    return Results(
        summary=summary,
        tables=tables,
        figures={"forgetting_curves": fig_curves, "hidden_weight_histogram": fig_hist},
    )
