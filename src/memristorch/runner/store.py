"""Run folders: the one checkpoint layout, config fingerprint, atomic writes and strict JSON of every experiment.

A run folder holds ``run.json`` (the experiment, its validated config and that config's fingerprint, written when
the run starts), ``checkpoints/<key>.pt`` (whatever the study saves as it goes), and at the end ``results.json``,
one CSV per table and one PNG per figure. Resuming a folder whose config differs from the saved one is refused
with the fields that changed; an existing run is never overwritten unless asked.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__

#: Config fields that say how a run executes, not what it computes: they may change between a run and its resume.
EXECUTION_FIELDS = frozenset({"threads", "data_dir"})
MANIFEST = "run.json"
_UMASK = os.umask(0)
os.umask(_UMASK)
RESULTS = "results.json"
CHECKPOINTS = "checkpoints"


@dataclass
class Results:
    """What an experiment returns: headline numbers, full tables (rows of dicts) and matplotlib figures."""

    summary: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- atomic writes


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:  # some file systems do not open directories
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, rename it over ``path``, fsync the folder.

    An interruption at any moment leaves either the old file or the new one, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def save_checkpoint(state: dict, path: Path) -> None:
    """``torch.save`` into memory, then :func:`atomic_write_bytes`: a checkpoint is whole or absent."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict:
    """``torch.load(weights_only=True)``; an unreadable file raises ``ValueError`` naming it and the way out."""
    try:
        state = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises several types for a truncated or foreign file
        raise ValueError(
            f"checkpoint {path} cannot be read ({type(error).__name__}: {error}); "
            "start the run over with --overwrite"
        ) from None
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {path} does not hold a mapping; start the run over with --overwrite")
    return state


# ------------------------------------------------------------------------------------------------- strict JSON


def strict_json(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """``value`` made strictly JSON-serialisable: NaN and ±inf become ``None``; returns it and their paths.

    Tensors and NumPy numbers become Python numbers or lists, tuples become lists, other objects their ``str``.
    """
    bad: list[str] = []

    def walk(v: Any, where: str) -> Any:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            if math.isfinite(v):
                return v
            bad.append(where or "<root>")
            return None
        if isinstance(v, torch.Tensor):
            return walk(v.tolist(), where)
        if hasattr(v, "item") and hasattr(v, "dtype"):  # NumPy scalars and arrays
            return walk(v.tolist(), where)
        if isinstance(v, Mapping):
            return {str(k): walk(x, f"{where}.{k}" if where else str(k)) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, Path):
            return str(v)
        return str(v)

    return walk(value, path), bad


def dumps_strict(value: Any) -> str:
    clean, _ = strict_json(value)
    return json.dumps(clean, indent=2, allow_nan=False) + "\n"


# ------------------------------------------------------------------------------------------------- fingerprint


def fingerprint_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a config that decides the results (every field but :data:`EXECUTION_FIELDS`)."""
    clean, _ = strict_json({k: v for k, v in config.items() if k not in EXECUTION_FIELDS})
    return clean


def fingerprint(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of :func:`fingerprint_fields`: equal configs, equal fingerprints."""
    text = json.dumps(fingerprint_fields(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def config_changes(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``"field: saved → now"`` for every field that differs (nested fields dotted)."""
    changes: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key, "<unset>"), b.get(key, "<unset>"), f"{where}.{key}" if where else str(key))
        elif a != b:
            changes.append(f"{where}: {a!r} → {b!r}")

    walk(fingerprint_fields(saved), fingerprint_fields(now), "")
    return changes


# ---------------------------------------------------------------------------------------------------- provenance


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if out.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Provenance of a run: package versions, git commit, machine, threads."""
    return {
        "memristorch": __version__,
        "git_commit": _git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }


# ------------------------------------------------------------------------------------------------------ the store


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(Path(path), buffer.getvalue())


def default_run_dir(experiment: str, root: str | Path = "runs") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{experiment}-{stamp}"


def read_manifest(run_dir: Path) -> dict | None:
    path = Path(run_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} cannot be read ({error}); start the run over with --overwrite") from None
    if not isinstance(manifest, dict) or "config" not in manifest:
        raise ValueError(f"{path} is not a memristorch run manifest; start the run over with --overwrite")
    return manifest


class RunStore:
    """One run folder: opened once per run, it checks the folder, holds the checkpoints, writes the results.

    ``run_dir=None`` is a run without a folder: nothing is saved and :meth:`load` finds nothing.

    Opening a folder that already holds a run (its ``run.json``) needs ``resume=True`` (the config must be the
    saved one, up to :data:`EXECUTION_FIELDS`; the error names every changed field) or ``overwrite=True``
    (checkpoints and results of the old run are deleted first). A folder with other files but no manifest, or a
    path that is a file, is refused.
    """

    def __init__(
        self,
        run_dir: str | Path | None,
        experiment: str,
        config: Mapping[str, Any],
        *,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        if resume and overwrite:
            raise ValueError("resume and overwrite exclude each other: continue the run, or start it over")
        self.experiment = experiment
        self.config = dict(config)
        self.fingerprint = fingerprint(self.config)
        self.resume = resume
        self.resumed = False
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None:
            self._open(overwrite)

    def _open(self, overwrite: bool) -> None:
        run_dir = self.run_dir
        assert run_dir is not None
        if run_dir.exists() and not run_dir.is_dir():
            raise ValueError(f"--out {run_dir} is a file, not a run folder; name a folder")
        manifest = read_manifest(run_dir) if run_dir.exists() else None
        if manifest is not None:
            if overwrite:
                self._clear()
            elif self.resume:
                if manifest.get("experiment") != self.experiment:
                    raise ValueError(
                        f"{run_dir} holds a run of {manifest.get('experiment')!r}, not {self.experiment!r}"
                    )
                changes = config_changes(manifest["config"], self.config)
                if changes:
                    raise ValueError(
                        f"{run_dir} was started with another configuration; resume with the same settings, or "
                        "start over with --overwrite. Changed: " + "; ".join(changes)
                    )
                self.resumed = True
                return
            else:
                raise ValueError(
                    f"{run_dir} already holds a run of {manifest.get('experiment')!r}; pass --resume to "
                    "continue it or --overwrite to start it over"
                )
        elif run_dir.exists() and any(run_dir.iterdir()) and not overwrite:
            raise ValueError(
                f"{run_dir} is not empty and holds no memristorch run manifest ({MANIFEST}); name an empty or new "
                "folder, or pass --overwrite to write the run there anyway"
            )
        elif overwrite and run_dir.exists():
            self._clear()
        run_dir.mkdir(parents=True, exist_ok=True)
        document = {
            "experiment": self.experiment,
            "fingerprint": self.fingerprint,
            "config": strict_json(self.config)[0],
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
            "memristorch": __version__,
        }
        atomic_write_text(run_dir / MANIFEST, dumps_strict(document))

    def _clear(self) -> None:
        """Delete what an earlier run wrote here: checkpoints, results and the tables and figures they list."""
        assert self.run_dir is not None
        shutil.rmtree(self.run_dir / CHECKPOINTS, ignore_errors=True)
        try:
            old = json.loads((self.run_dir / RESULTS).read_text())
            written = [*old.get("tables", {}).values(), *old.get("figures", {}).values()]
        except (OSError, ValueError, AttributeError):
            written = []
        for name in (RESULTS, "checkpoint.pt", *written):
            if isinstance(name, str) and "/" not in name and not name.startswith("."):
                (self.run_dir / name).unlink(missing_ok=True)

    def discard_if_empty(self) -> None:
        """Remove the manifest this store wrote if the run saved nothing (its folder too, if left empty)."""
        if self.run_dir is None or self.resumed:
            return
        checkpoints = self.run_dir / CHECKPOINTS
        if checkpoints.exists() and any(checkpoints.iterdir()):
            return
        (self.run_dir / MANIFEST).unlink(missing_ok=True)
        for folder in (checkpoints, self.run_dir):
            try:
                folder.rmdir()
            except OSError:
                pass

    # -- checkpoints

    def checkpoint_path(self, key: str) -> Path | None:
        if self.run_dir is None:
            return None
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"checkpoint key must be a plain file name, got {key!r}")
        return self.run_dir / CHECKPOINTS / f"{key}.pt"

    def load(self, key: str) -> dict | None:
        """The checkpoint ``key`` saved by this run, when resuming and it exists; else ``None``."""
        path = self.checkpoint_path(key)
        if not self.resume or path is None or not path.exists():
            return None
        return load_checkpoint(path)

    def save(self, key: str, state: dict) -> None:
        """Save checkpoint ``key`` atomically (a no-op for a run without a folder)."""
        path = self.checkpoint_path(key)
        if path is not None:
            save_checkpoint(state, path)

    # -- results

    def write_results(self, results: Results, wall_time_s: float | None = None) -> Path | None:
        """``results.json`` (strict JSON), one CSV per table, one PNG per figure; returns the JSON's path.

        Non-finite numbers are written as ``null`` and their places listed in ``summary.non_finite``.
        """
        if self.run_dir is None:
            return None
        import matplotlib.pyplot as plt

        tables = {}
        for name, rows in results.tables.items():
            write_csv(self.run_dir / f"{name}.csv", rows)
            tables[name] = f"{name}.csv"
        figures = {}
        for name, fig in results.figures.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
            plt.close(fig)
            atomic_write_bytes(self.run_dir / f"{name}.png", buffer.getvalue())
            figures[name] = f"{name}.png"
        summary, non_finite = strict_json(results.summary)
        if non_finite:
            summary["non_finite"] = non_finite
        document = {
            "experiment": self.experiment,
            "summary": summary,
            "config": strict_json(self.config)[0],
            "fingerprint": self.fingerprint,
            "tables": tables,
            "figures": figures,
            "environment": environment(),
            "wall_time_s": wall_time_s,
            "resumed": self.resumed,
            "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        }
        path = self.run_dir / RESULTS
        atomic_write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")
        return path


def read_results(run_dir: str | Path) -> dict:
    """The ``results.json`` of a finished run (``ValueError`` naming the folder if there is none)."""
    path = Path(run_dir) / RESULTS
    if not path.exists():
        raise ValueError(f"{run_dir} holds no finished run ({RESULTS} is missing)")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} cannot be read ({error})") from None
