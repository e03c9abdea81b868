"""The package's layers (DESIGN.md): devices → cells → tiles → nn → optim → experiments/runner, each importing only
from layers below it, and the optimizers importing no physics at all (no devices, cells or tiles; they reach the
arrays through ``memristorch.backing``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import memristorch

ROOT = Path(memristorch.__file__).parent
ORDER = ["devices", "cells", "tiles", "nn", "optim", "top"]
TOP = {"experiments", "runner", "cli"}  # the study runner and the studies it runs use each other
PHYSICS = {"devices", "cells", "tiles"}


def layer(module: str) -> str:
    """``memristorch.tiles.tile`` → ``tiles``; the top-level modules (``_validation``, ``ledger``, …) → themselves."""
    name = module.split(".")[1] if "." in module else ""
    return "top" if name in TOP else name


def imports() -> list[tuple[str, str, str]]:
    """(file, importing layer, imported layer) for every import of a memristorch module inside the package."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("memristorch", *path.relative_to(ROOT).with_suffix("").parts)
        package = parts[:-1]  # the package a relative import starts from (for __init__.py, its own)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = list(package[: len(package) - node.level + 1])
                    targets = [".".join(base + ([node.module] if node.module else []))]
                else:
                    targets = [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("memristorch."):
                    found.append((str(path.relative_to(ROOT)), layer(".".join(package)), layer(target)))
    return found


def test_the_import_scan_sees_the_package():
    edges = imports()
    assert len(edges) > 200
    assert (
        "tiles/config.py",
        "tiles",
        "devices",
    ) in edges  # a known downward import, found through `from ..`


@pytest.mark.parametrize("importer", ORDER[:-1])
def test_no_layer_imports_from_a_layer_above_it(importer):
    above = set(ORDER[ORDER.index(importer) + 1 :])
    upward = sorted({(f, target) for f, src, target in imports() if src == importer and target in above})
    assert upward == []


def test_optimizers_import_no_physics():
    physics = sorted({(f, target) for f, src, target in imports() if src == "optim" and target in PHYSICS})
    assert physics == []
