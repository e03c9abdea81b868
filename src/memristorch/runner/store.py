"""Run folders: where an experiment's results table, CSV tables, figures and checkpoint land."""

from __future__ import annotations

import csv
import datetime as _dt
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__


@dataclass
class Results:
    """What an experiment returns: headline numbers, full tables (rows of dicts) and matplotlib figures."""

    summary: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: an interruption never leaves a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def default_run_dir(experiment: str, root: str | Path = "runs") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{experiment}-{stamp}"


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def save_results(run_dir: Path, experiment: str, config: Mapping[str, Any], results: Results) -> Path:
    """Write ``results.json`` (summary, config, file index), one CSV per table and one PNG per figure."""
    run_dir.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, rows in results.tables.items():
        path = run_dir / f"{name}.csv"
        write_csv(path, rows)
        tables[name] = path.name
    figures = {}
    for name, fig in results.figures.items():
        path = run_dir / f"{name}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        figures[name] = path.name
        import matplotlib.pyplot as plt

        plt.close(fig)
    document = {
        "experiment": experiment,
        "summary": results.summary,
        "config": dict(config),
        "tables": tables,
        "figures": figures,
        "environment": {
            "memristorch": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
        },
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    path = run_dir / "results.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
