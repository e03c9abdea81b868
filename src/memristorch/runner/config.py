"""Experiment configurations: validated pydantic models filled from YAML files and ``key=value`` overrides.

Every experiment config derives from :class:`StudyConfig`: unknown fields are refused, every float must be
finite (NaN and ±inf are refused in lists and mappings too), and each field's docstring is its description.
Overrides may be dotted (``device_overrides.read_noise_rel=0.02``) and their values are parsed as YAML
(``hidden=[256,128]``). Every error names the field, the value given and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import annotated_types
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

C = TypeVar("C", bound=BaseModel)

#: the largest base seed a config accepts (seeds are hashed into named streams, any int up to this works)
MAX_SEED = 2**63 - 1


class StudyConfig(BaseModel):
    """Base of every experiment config: strict fields, finite numbers, attribute docstrings as descriptions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)

    seed: int = Field(0, ge=0, le=MAX_SEED)
    """Base seed; every random stream of the run is derived from it and its purpose (``runner.seeds``)."""


def set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    if any(not p for p in parts):
        raise ValueError(f"override key {key!r} has an empty part; write a.b=value")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def merge_overrides(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"{where} is not valid YAML: {detail}") from None


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``["epochs=3", "hidden=[128, 64]", "a.b=1"]`` → ``{"epochs": 3, "hidden": [128, 64], "a": {"b": 1}}``."""
    result: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"override must look like key=value (or a.b=value), got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError(f"override {item!r} names no field")
        set_dotted(result, key, parse_yaml(value, f"the value of override {key}"))
    return result


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file; a missing, unreadable or malformed file raises ``ValueError``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"--config {path} is a directory; name a YAML file")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"--config {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--config {path} cannot be read ({error})") from None
    loaded = parse_yaml(text, f"config file {path}")
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: a config file must hold a mapping of field: value")
    return loaded


def _item_annotation(annotation: Any, depth: int) -> Any:
    """The annotation of an entry ``depth`` levels inside a list/tuple annotation (``None`` if there is none)."""
    for _ in range(depth):
        while get_origin(annotation) is not None and getattr(get_origin(annotation), "__name__", "") in (
            "Union",
            "UnionType",
        ):
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0]
        args = get_args(annotation)
        if get_origin(annotation) not in (list, tuple) or not args:
            return None
        annotation = args[0]
    return annotation


def _allowed(cls: type[BaseModel], loc: tuple) -> str:
    """What a field (or a list entry) accepts, in words, for error messages (its range or choices), or ``""``."""
    if not loc or not isinstance(loc[0], str) or loc[0] not in cls.model_fields:
        return ""
    depth = sum(1 for part in loc[1:] if isinstance(part, int))
    if depth:
        item = _item_annotation(cls.model_fields[loc[0]].annotation, depth)
        if item is None:
            return ""
        if getattr(get_origin(item), "__name__", "") == "Annotated":
            bounds = _bounds(_expand(get_args(item)[1:]))
            return f"each entry {bounds}" if bounds else ""
        return f"each entry {_type_text(item)}"
    return describe_field(cls, loc[0])["allowed"]


def format_validation_error(cls: type[BaseModel], error: ValidationError) -> str:
    lines = []
    seen = set()
    for e in error.errors():
        loc = tuple(e["loc"])
        # a union reports one error per member (under the same field, or field and entry); the first names it
        key = (loc[:2], e["type"])
        if key in seen:
            continue
        seen.add(key)
        name = ".".join(str(p) for p in loc) or "<config>"
        if e["type"] == "extra_forbidden":
            valid = ", ".join(sorted(cls.model_fields)) if len(loc) == 1 else ""
            lines.append(f"{name}: unknown field" + (f"; valid fields: {valid}" if valid else ""))
            continue
        given = e.get("input")
        text = f"{name}: {e['msg']} (got {given!r})"
        allowed = _allowed(cls, loc)
        if allowed:
            text += f"; allowed: {allowed}"
        lines.append(text)
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_config(cls: type[C], path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Build ``cls`` from a YAML file (optional) with ``overrides`` on top; errors name the offending field."""
    data: dict[str, Any] = read_config_file(path) if path is not None else {}
    data = merge_overrides(data, overrides or {})
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise ValueError(format_validation_error(cls, error)) from None


# ----------------------------------------------------------------------------------------- describing fields


def _bounds(metadata: list) -> str:
    parts = []
    for item in metadata:
        for attr, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None and isinstance(item, getattr(annotated_types, attr.capitalize())):
                parts.append(f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            parts.append(f"at least {item.min_length} entr{'y' if item.min_length == 1 else 'ies'}")
        if isinstance(item, annotated_types.MaxLen):
            parts.append(f"at most {item.max_length} entries")
    return ", ".join(parts)


def _type_text(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation))
    args = get_args(annotation)
    name = getattr(origin, "__name__", str(origin))
    if name == "Literal":
        return " | ".join(repr(a) for a in args)
    if name == "Annotated":
        inner = _type_text(args[0])
        bounds = _bounds(list(args[1:]))
        return f"{inner} ({bounds})" if bounds else inner
    if name in ("Union", "UnionType"):
        return " | ".join(_type_text(a) for a in args)
    return f"{name}[{', '.join(_type_text(a) for a in args)}]"


def describe_field(cls: type[BaseModel], name: str) -> dict[str, str]:
    """Type, default, allowed values/range and doc of one field of ``cls``."""
    info = cls.model_fields[name]
    type_text = _type_text(info.annotation)
    bounds = _bounds(info.metadata)
    if "Literal" in str(info.annotation) or (not bounds and "[" in type_text):
        allowed = type_text
    elif bounds:
        allowed = bounds
    else:
        allowed = "" if type_text in ("str", "bool") else "any"
    if info.default_factory is not None:
        default: Any = info.default_factory()
    elif info.default is PydanticUndefined:
        default = "(required)"
    else:
        default = info.default
    return {
        "field": name,
        "type": type_text,
        "default": repr(default),
        "allowed": allowed,
        "doc": " ".join((info.description or "").split()),
    }


def describe_config(cls: type[BaseModel]) -> list[dict[str, str]]:
    """:func:`describe_field` for every field of ``cls``, in declaration order."""
    return [describe_field(cls, name) for name in cls.model_fields]


def _expand(metadata) -> list:
    """Constraints of an ``Annotated`` type, with those inside a ``Field(...)`` taken out of it."""
    out = []
    for item in metadata:
        out.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return out


def _numeric_leaves_unbounded(annotation: Any, metadata: list) -> bool:
    """Whether a numeric part of ``annotation`` lacks a lower or an upper bound."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is not None and getattr(origin, "__name__", "") == "Annotated":
        return _numeric_leaves_unbounded(args[0], [*metadata, *_expand(args[1:])])
    if annotation in (int, float):
        lower = any(isinstance(m, (annotated_types.Ge, annotated_types.Gt)) for m in metadata)
        upper = any(isinstance(m, (annotated_types.Le, annotated_types.Lt)) for m in metadata)
        return not (lower and upper)
    if origin is None:
        return False
    name = getattr(origin, "__name__", str(origin))
    if name == "Literal":
        return False
    if name in ("Union", "UnionType"):
        return any(_numeric_leaves_unbounded(a, metadata) for a in args if a is not type(None))
    if name == "dict":  # free-form mappings (device overrides) are validated by what consumes them
        return False
    return any(_numeric_leaves_unbounded(a, []) for a in args)


def unbounded_numbers(cls: type[BaseModel]) -> list[str]:
    """Fields of ``cls`` with a number (or list entry) that has no lower or no upper bound."""
    return [
        name
        for name, info in cls.model_fields.items()
        if _numeric_leaves_unbounded(info.annotation, list(info.metadata))
    ]
