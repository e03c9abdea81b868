"""Reproduction reports: one self-contained HTML page (figures embedded) and a Markdown twin of run/sweep folders.

For a run folder: its summary, every table, every figure, the validated config and its provenance (memristorch
version and git commit, torch and Python versions, machine, threads, seeds, wall time). For a sweep folder: what
was swept, the aggregated table (mean ± sample std, n over seeds) and the cross-run figures.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .store import RESULTS, atomic_write_text, read_results
from .sweep import SWEEP_MANIFEST

MAX_ROWS = 300  # rows of one table shown in the report; the CSV beside it holds them all

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { border-bottom: 1px solid #aaa; margin-top: 2.2em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.85em; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { white-space: nowrap; } td { max-width: 28em; }
details { margin: 0.8em 0; } summary { cursor: pointer; font-weight: 600; }
th { background: #f0f0f0; }
figure { margin: 1em 0; } figure img { max-width: 100%; min-width: 480px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; } .note { color: #666; font-size: 0.85em; }
"""


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, Mapping):
            flat[name] = "{}"
        else:
            flat[name] = value
    return flat


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _cell(value: str) -> str:
    """A CSV cell for display: integers as they are, other numbers to 4 significant digits, text unchanged."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return value if value.lstrip("-").isdigit() else f"{number:.4g}"


class _Page:
    """Builds the HTML and the Markdown side by side."""

    def __init__(self, md_dir: Path) -> None:
        self.html: list[str] = []
        self.md: list[str] = []
        self.md_dir = md_dir

    def heading(self, level: int, text: str) -> None:
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")
        self.md.append(f"\n{'#' * level} {text}\n")

    def open_details(self, title: str, open_: bool = False) -> None:
        """A collapsible block in the HTML (a sub-heading in the Markdown), closed by :meth:`close_details`."""
        self.html.append(f"<details{' open' if open_ else ''}><summary>{html.escape(title)}</summary>")
        self.md.append(f"\n### {title}\n")

    def close_details(self) -> None:
        self.html.append("</details>")

    def paragraph(self, text: str, css: str = "") -> None:
        attribute = f' class="{css}"' if css else ""
        self.html.append(f"<p{attribute}>{html.escape(text)}</p>")
        self.md.append(f"\n{text}\n")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], note: str = "") -> None:
        self.html.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            self.html.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
        self.html.append("</table>")
        self.md.append("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for row in rows:
            self.md.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        if note:
            self.paragraph(note, "note")

    def figure(self, path: Path, caption: str) -> None:
        data = base64.b64encode(path.read_bytes()).decode()
        self.html.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        self.md.append(f"\n![{caption}]({os.path.relpath(path, self.md_dir)})\n")

    def csv_table(self, path: Path, title: str) -> None:
        rows = _read_csv(path)
        if not rows:
            self.paragraph(f"{title}: (empty)", "note")
            return
        header = list(rows[0])
        shown = rows[:MAX_ROWS]
        note = (
            f"{len(rows)} rows; the first {MAX_ROWS} shown, all in {path.name}"
            if len(rows) > MAX_ROWS
            else ""
        )
        self.table(header, [[_cell(r.get(h, "")) for h in header] for r in shown], note)


def _provenance(page: _Page, document: Mapping[str, Any]) -> None:
    environment = document.get("environment", {})
    config = document.get("config", {})
    rows = [[k, _text(v)] for k, v in environment.items()]
    for key in ("seed", "seeds"):
        if key in config:
            rows.append([f"config {key}", _text(config[key])])
    for key in ("wall_time_s", "finished", "fingerprint", "resumed"):
        if key in document:
            rows.append([key, _text(document[key])])
    page.table(["provenance", "value"], rows)


def _claims(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    from ..experiments import EXPERIMENTS

    spec = EXPERIMENTS.get(document.get("experiment", ""))
    if spec is None:
        return []
    summary, config = document.get("summary", {}), document.get("config", {})
    return [claim.evaluate(summary, config) for claim in spec.claims]


def _run_section(page: _Page, folder: Path) -> None:
    """Claims and figures first (what a reviewer reads), then summary, tables, config, provenance (collapsible)."""
    document = read_results(folder)
    experiment = document.get("experiment", "?")
    page.heading(2, f"Run: {experiment} ({folder})")
    summary = document.get("summary", {})
    if summary.get("non_finite"):
        page.paragraph("Non-finite numbers (written as null): " + ", ".join(summary["non_finite"]), "note")
    claims = _claims(document)
    if claims:
        page.heading(3, "Claims of the seed study")
        page.table(
            ["claim", "quantity", "value", "± std", "criterion", "verdict"],
            [
                [
                    c["claim"],
                    c["quantity"],
                    _text(c["value"]),
                    _text(c["spread"]),
                    c["criterion"],
                    c["verdict"],
                ]
                for c in claims
            ],
            "Criteria are memristorch's reading of each study; 'not measured' means the run left that part out; "
            "'within the spread' means the margin to the criterion is smaller than one std over seeds or chips.",
        )
    figures = [(name, folder / file) for name, file in document.get("figures", {}).items()]
    if figures:
        page.heading(3, "Figures")
        for name, path in figures:
            if path.exists():
                page.figure(path, f"{experiment}: {name}")
    page.open_details(f"Summary ({len(_flatten(summary))} numbers)", open_=not claims)
    page.table(["summary", "value"], [[k, _text(v)] for k, v in _flatten(summary).items()])
    page.close_details()
    for name, file in document.get("tables", {}).items():
        path = folder / file
        if path.exists():
            page.open_details(f"Table: {name} ({file})")
            page.csv_table(path, name)
            page.close_details()
    page.open_details("Configuration (validated)")
    page.table(["field", "value"], [[k, _text(v)] for k, v in _flatten(document.get("config", {})).items()])
    page.close_details()
    page.heading(3, "Provenance")
    _provenance(page, document)


def _sweep_section(page: _Page, folder: Path) -> None:
    manifest = json.loads((folder / SWEEP_MANIFEST).read_text())
    page.heading(2, f"Sweep: {manifest.get('experiment', '?')} ({folder})")
    rows = [["grid." + k, _text(v)] for k, v in manifest.get("grid", {}).items()]
    rows += [["seeds", _text(manifest.get("seeds"))]]
    rows += [["base." + k, _text(v)] for k, v in _flatten(manifest.get("base", {})).items()]
    page.table(["swept", "values"], rows)
    aggregate = folder / "aggregate.csv"
    if not aggregate.exists():
        page.paragraph("The sweep has not finished: no aggregate.csv yet.", "note")
        return
    page.heading(3, "Aggregate (mean ± sample std over seeds, n per row)")
    page.csv_table(aggregate, "aggregate")
    results = folder / "sweep-results.json"
    figures = json.loads(results.read_text()).get("figures", []) if results.exists() else []
    for name in figures:
        if (folder / name).exists():
            page.figure(folder / name, f"{manifest.get('experiment')}: {Path(name).stem} (error bars: std)")
    points = sorted((folder / "points").glob(f"*/{RESULTS}"))
    if points:
        page.heading(3, "Provenance (first point)")
        _provenance(page, json.loads(points[0].read_text()))


def write_report(
    folders: Sequence[str | Path], out: str | Path, title: str = "memristorch report"
) -> tuple[Path, Path]:
    """Write ``out`` (HTML) and its Markdown twin (same name, ``.md``) for ``folders``; returns both paths."""
    if not folders:
        raise ValueError("name at least one run or sweep folder")
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--out must name an .html file, got {out}")
    if out.exists() and out.is_dir():
        raise ValueError(f"--out {out} is a directory; name an .html file")
    md_path = out.with_suffix(".md")
    page = _Page(md_path.parent.resolve())
    page.heading(1, title)
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    page.paragraph(f"Written {stamp} by memristorch report from {len(folders)} folder(s).", "note")
    for folder in map(Path, folders):
        folder = folder.resolve()
        if (folder / SWEEP_MANIFEST).exists():
            _sweep_section(page, folder)
        elif (folder / RESULTS).exists():
            _run_section(page, folder)
        else:
            raise ValueError(
                f"{folder} holds neither a finished run ({RESULTS}) nor a sweep ({SWEEP_MANIFEST})"
            )
    document = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(page.html)
        + "</body></html>\n"
    )
    atomic_write_text(out, document)
    atomic_write_text(md_path, "\n".join(page.md).lstrip() + "\n")
    return out, md_path
