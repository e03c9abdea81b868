"""Sweeps: an experiment over a grid of settings × seeds, each point an ordinary run folder, serial or on Ray.

``out/sweep.json`` holds what was swept; ``out/points/<name>/`` is one run folder per point (resumable like any
run); ``out/aggregate.csv`` and ``out/aggregate.md`` give mean ± sample std and n over seeds of every numeric
summary number per grid point, and ``out/<axis>.png`` plots the headline numbers against each numeric grid axis
with error bars. A sweep resumed with ``resume=True`` keeps finished points and reruns (resumes) the others, so a
killed sweep or worker loses nothing that had finished; a point gives the same numbers whichever backend ran it.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .config import load_config, merge_overrides, parse_yaml, set_dotted
from .stats import mean_std
from .store import (
    RESULTS,
    atomic_write_text,
    dumps_strict,
    fingerprint,
    read_manifest,
    read_results,
    strict_json,
    write_csv,
)

SWEEP_MANIFEST = "sweep.json"
#: summary numbers that measure the machine, not the science: kept out of the aggregate table
TIMING_KEYS = ("wall_time_s",)
HEADLINE = ("test_accuracy", "float_test_accuracy", "accuracy", "energy_j", "pulses", "time_s")


def parse_grid(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """``["lr=0.1,0.3", "hidden=[64],[128,64]"]`` → ``{"lr": [0.1, 0.3], "hidden": [[64], [128, 64]]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--grid must look like key=v1,v2,…; got {item!r}")
        key, text = (part.strip() for part in item.split("=", 1))
        if not key:
            raise ValueError(f"--grid {item!r} names no field")
        if key in grid:
            raise ValueError(f"--grid names {key!r} twice")
        values = parse_yaml(f"[{text}]", f"the values of --grid {key}")
        if not isinstance(values, list) or not values:
            raise ValueError(f"--grid {key} needs at least one value, got {text!r}")
        grid[key] = values
    return grid


def _slug(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_") or "_"


@dataclass(frozen=True)
class SweepPoint:
    name: str
    settings: dict[str, Any]  # grid key → value (dotted keys)
    seed: int
    config: dict[str, Any]  # the full validated config (JSON)


def plan_points(
    config_class, base: Mapping[str, Any], grid: Mapping[str, list[Any]], seeds: Sequence[int]
) -> list[SweepPoint]:
    """Every grid combination × seed, each validated now: a bad value fails before any point runs."""
    if not seeds:
        raise ValueError("a sweep needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {list(seeds)}")
    if "seed" in grid:
        raise ValueError("sweep seeds with --seeds, not --grid seed=…")
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        settings = dict(zip(keys, values, strict=True))
        for seed in seeds:
            swept: dict[str, Any] = {}
            for key, value in settings.items():
                set_dotted(swept, key, value)
            data = merge_overrides(dict(base), swept)
            data["seed"] = seed
            try:
                config = load_config(config_class, overrides=data)
            except ValueError as error:
                where = ", ".join(f"{k}={v!r}" for k, v in settings.items()) or "the base config"
                raise ValueError(f"sweep point {where}: {error}") from None
            name = "__".join([*(f"{k}={_slug(v)}" for k, v in settings.items()), f"seed={seed}"])
            points.append(SweepPoint(name, settings, seed, config.model_dump(mode="json")))
    return points


def run_point(experiment: str, config: dict[str, Any], run_dir: str, threads: int | None) -> dict[str, Any]:
    """Run (or resume, or just read back) one sweep point; returns its ``results.json`` document.

    Module-level and argument-only, so a process pool or a Ray worker can call it.
    """
    from ..experiments import get_experiment
    from .study import execute

    spec = get_experiment(experiment)
    if threads is not None and "threads" in spec.config.model_fields:
        config = {**config, "threads": threads}
    cfg = spec.config.model_validate(config)
    folder = Path(run_dir)
    expected = fingerprint(cfg.model_dump(mode="json"))
    if (folder / RESULTS).exists():
        document = read_results(folder)
        if document.get("fingerprint") == expected:
            return document
    manifest = read_manifest(folder) if folder.exists() else None
    resume = manifest is not None and manifest.get("fingerprint") == expected
    execute(spec, cfg, folder, resume=resume, overwrite=not resume)
    return read_results(folder)


def _flatten_numbers(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    numbers: dict[str, float] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            numbers.update(_flatten_numbers(value, f"{name}."))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, (int, float)):
            numbers[name] = float(value)
        elif value is None:
            numbers[name] = math.nan  # a non-finite number written as null
    return {k: v for k, v in numbers.items() if not any(k.endswith(t) for t in TIMING_KEYS)}


def aggregate(
    points: Sequence[SweepPoint], summaries: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per grid combination: its settings, n, and ``<number>_mean`` / ``<number>_std`` over seeds."""
    groups: dict[str, list[SweepPoint]] = {}
    for point in points:
        groups.setdefault(json.dumps(point.settings, sort_keys=True), []).append(point)
    rows = []
    for members in groups.values():
        per_seed = [_flatten_numbers(summaries[p.name]) for p in members]
        names: list[str] = []
        for numbers in per_seed:
            names.extend(k for k in numbers if k not in names)
        row: dict[str, Any] = {**members[0].settings, "n": len(members)}
        for name in names:
            values = [numbers[name] for numbers in per_seed if name in numbers]
            row[f"{name}_mean"], row[f"{name}_std"] = mean_std(values)
        rows.append(row)
    return rows


def _markdown(rows: Sequence[Mapping[str, Any]], grid_keys: Sequence[str]) -> str:
    if not rows:
        return "(no points)\n"
    metrics = []
    for row in rows:
        metrics.extend(k[: -len("_mean")] for k in row if k.endswith("_mean") and k[:-5] not in metrics)
    header = [*grid_keys, "n", *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row[k]) for k in grid_keys] + [str(row["n"])]
        for metric in metrics:
            mean, std = row.get(f"{metric}_mean"), row.get(f"{metric}_std")
            if mean is None or not math.isfinite(mean):
                cells.append("—" if mean is None else "nan")
            else:
                cells.append(f"{mean:.4g} ± {std:.2g}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _figures(rows: Sequence[Mapping[str, Any]], grid: Mapping[str, list[Any]], out: Path) -> list[str]:
    """One PNG per numeric grid axis: the headline numbers (small multiples) with std error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    metrics = [m for m in HEADLINE if rows and f"{m}_mean" in rows[0]]
    if not metrics and rows:
        metrics = [k[:-5] for k in rows[0] if k.endswith("_mean")][:4]
    for axis, values in grid.items():
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) or not metrics:
            continue
        others = [k for k in grid if k != axis]
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
        lines: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            label = ", ".join(f"{k}={row[k]}" for k in others) or "mean ± std over seeds"
            lines.setdefault(label, []).append(row)
        for ax, metric in zip(axes[0], metrics, strict=True):
            for label, members in lines.items():
                members = sorted(members, key=lambda r: r[axis])
                ax.errorbar(
                    [r[axis] for r in members],
                    [r[f"{metric}_mean"] for r in members],
                    yerr=[r[f"{metric}_std"] for r in members],
                    marker="o",
                    capsize=3,
                    label=label,
                )
            ax.set_xlabel(axis)
            ax.set_ylabel(metric)
            ax.grid(alpha=0.3)
        axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        n = rows[0]["n"] if rows else 0
        fig.suptitle(f"mean ± sample std over {n} seed(s)", fontsize=9)
        fig.tight_layout()
        name = f"{_slug(axis)}.png"
        fig.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(name)
    return written


def _threads_per_point(jobs: int) -> int:
    return max(1, (os.cpu_count() or 1) // jobs)


def _run_local(tasks, jobs: int, threads: int, on_done: Callable[[str, dict], None]) -> None:
    if jobs == 1:
        for name, experiment, config, folder in tasks:
            on_done(name, run_point(experiment, config, folder, threads))
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_point, e, c, f, threads): n for n, e, c, f in tasks}
        for future in as_completed(futures):
            on_done(futures[future], future.result())


def _run_ray(tasks, jobs: int, threads: int, address: str | None, on_done) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError(
            "--backend ray needs Ray: pip install 'memristorch[distributed]' (or pip install ray)"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=jobs, **options)
    try:
        remote = ray.remote(num_cpus=1, max_retries=3, retry_exceptions=False)(run_point)
        pending = {remote.remote(e, c, f, threads): n for n, e, c, f in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                on_done(pending.pop(ref), ray.get(ref))
    finally:
        if started_here:
            ray.shutdown()


def run_sweep(
    experiment: str,
    out: str | Path,
    *,
    base: Mapping[str, Any] | None = None,
    grid: Mapping[str, list[Any]] | None = None,
    seeds: Sequence[int] = (0,),
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the sweep into ``out``; returns ``{"points", "aggregate", "figures"}`` (also written to ``out``)."""
    from ..experiments import get_experiment

    spec = get_experiment(experiment)
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 256:
        raise ValueError(f"jobs must be an integer in [1, 256], got {jobs!r}")
    if address is not None and backend != "ray":
        raise ValueError("--address names a Ray cluster: use it with --backend ray")
    base = dict(base or {})
    grid = dict(grid or {})
    points = plan_points(spec.config, base, grid, list(seeds))
    out = Path(out)
    document = strict_json({"experiment": experiment, "base": base, "grid": grid, "seeds": list(seeds)})[0]
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a sweep folder")
    manifest_path = out / SWEEP_MANIFEST
    if manifest_path.exists():
        saved = json.loads(manifest_path.read_text())
        if not overwrite and not resume:
            raise ValueError(f"{out} already holds a sweep; pass --resume to continue it or --overwrite")
        if resume and {k: saved.get(k) for k in document} != document:
            changed = [k for k in document if saved.get(k) != document[k]]
            raise ValueError(
                f"{out} holds another sweep (changed: {', '.join(changed)}); resume with the same "
                "settings or start over with --overwrite"
            )
    elif out.exists() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"{out} is not empty and holds no sweep; name a new folder or pass --overwrite")
    if overwrite and out.exists():
        shutil.rmtree(out / "points", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(manifest_path, dumps_strict(document))

    threads = _threads_per_point(jobs)
    summaries: dict[str, dict] = {}
    # (a folder holding points but no sweep.json was refused above unless resuming or overwriting)
    tasks = [(p.name, experiment, p.config, str(out / "points" / p.name)) for p in points]

    started = time.perf_counter()
    bar = None
    if progress:
        from .progress import progress_bar

        bar = progress_bar()
        bar.start()
        task_id = bar.add_task(f"sweep {experiment} ({backend}, -j {jobs})", total=len(tasks))

    def on_done(name: str, document: dict) -> None:
        summaries[name] = document["summary"]
        if bar is not None:
            bar.advance(task_id)

    try:
        if backend == "ray":
            _run_ray(tasks, jobs, threads, address, on_done)
        else:
            _run_local(tasks, jobs, threads, on_done)
    finally:
        if bar is not None:
            bar.stop()

    rows = aggregate(points, summaries)
    write_csv(out / "aggregate.csv", rows)
    atomic_write_text(out / "aggregate.md", _markdown(rows, list(grid)))
    figures = _figures(rows, grid, out)
    result = {
        **document,
        "points": [{"name": p.name, "settings": p.settings, "seed": p.seed} for p in points],
        "aggregate": "aggregate.csv",
        "figures": figures,
        "backend": backend,
        "jobs": jobs,
        "wall_time_s": time.perf_counter() - started,
    }
    atomic_write_text(out / "sweep-results.json", dumps_strict(result))
    return {**result, "rows": rows}
