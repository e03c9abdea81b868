"""Experiment configurations: validated pydantic models filled from YAML files and ``key=value`` overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

C = TypeVar("C", bound=BaseModel)


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``["epochs=3", "hidden=[128, 64]"]`` → ``{"epochs": 3, "hidden": [128, 64]}`` (values parsed as YAML)."""
    result: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"override must look like key=value, got {item!r}")
        key, value = item.split("=", 1)
        result[key.strip()] = yaml.safe_load(value)
    return result


def load_config(cls: type[C], path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Build ``cls`` from a YAML file (optional) with ``overrides`` on top; errors name the offending field."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text())
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config file must hold a mapping of field: value")
        data.update(loaded or {})
    data.update(overrides or {})
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or '<config>'}: {e['msg']}" for e in error.errors()]
        raise ValueError("invalid configuration:\n  " + "\n  ".join(lines)) from None
