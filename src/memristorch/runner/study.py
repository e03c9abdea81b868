"""Running one experiment: open its run folder, run its science, write its results — the same for every study.

An experiment is a typed config (a :class:`~memristorch.runner.config.StudyConfig`) and a function
``run(config, store) -> Results``; it saves and loads its checkpoints through the :class:`RunStore` it is handed
and never touches the folder otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .store import Results, RunStore


@dataclass(frozen=True)
class Experiment:
    """A study the runner can run: its name, one line of description, config class and science function."""

    name: str
    description: str
    config: type[BaseModel]
    run: Callable[..., Results]
    claims: tuple = ()
    """The seed study's claims (:class:`Claim`) that a run of the default config tests; the report shows them."""


def store_for(store: RunStore | None, experiment: str, config: BaseModel) -> RunStore:
    """``store``, or a folder-less one for a call without a run folder (tests, notebooks)."""
    return store if store is not None else RunStore(None, experiment, config.model_dump(mode="json"))


def execute(
    spec: Experiment,
    config: BaseModel,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
) -> tuple[Results, Path | None]:
    """Run ``spec`` with ``config`` in ``run_dir`` (see :class:`RunStore` for resume and overwrite).

    Returns the results and the path of ``results.json`` (``None`` without a folder). The folder is checked
    before any science runs, so a refused resume changes nothing.
    """
    if not isinstance(config, spec.config):
        raise TypeError(f"config must be a {spec.config.__name__}, got {type(config).__name__}")
    store = RunStore(run_dir, spec.name, config.model_dump(mode="json"), resume=resume, overwrite=overwrite)
    started = time.perf_counter()
    try:
        results = spec.run(config, store)
    except Exception:
        store.discard_if_empty()  # a run that failed before saving anything leaves no run behind
        raise
    wall = time.perf_counter() - started
    return results, store.write_results(results, wall_time_s=wall)


def lookup(mapping: Mapping[str, Any], dotted: str) -> Any:
    """``mapping["a"]["b"]`` for ``"a.b"`` (keys may themselves hold dots: the longest matching key wins)."""
    node: Any = mapping
    rest = dotted
    while rest:
        if not isinstance(node, Mapping):
            return None
        for key in sorted(node, key=lambda k: -len(str(k))):
            key = str(key)
            if rest == key or rest.startswith(key + "."):
                node, rest = node[key], rest[len(key) + 1 :]
                break
        else:
            return None
    return node


@dataclass(frozen=True)
class Claim:
    """One claim of a seed study, the number a run gives for it and the test of whether it holds.

    ``value(summary, config)`` returns the number (``None`` when the run did not measure it, e.g. a part left out);
    ``holds(value)`` says whether the claim holds at that number; ``criterion`` says so in words.
    """

    text: str
    quantity: str
    criterion: str
    value: Callable[[Mapping[str, Any], Mapping[str, Any]], float | None]
    holds: Callable[[float], bool]
    threshold: float | None = None
    """The number the criterion compares with (e.g. 0 for "> 0"), for judging the margin against the spread."""
    spread: Callable[[Mapping[str, Any], Mapping[str, Any]], float | None] | None = None
    """The std of ``value`` over seeds/chips, where the run measures one (same units as ``value``)."""

    def evaluate(self, summary: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
        """The claim, its number, spread and verdict: "holds", "holds, within the spread" (the margin to the
        criterion is smaller than one std), "does not hold" or "not measured"."""
        try:
            number = self.value(summary, config)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            number = None
        spread = None
        if number is not None and self.spread is not None:
            try:
                spread = self.spread(summary, config)
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                spread = None
        if number is None:
            verdict = "not measured"
        elif not self.holds(number):
            verdict = "does not hold"
        elif spread is not None and self.threshold is not None and abs(number - self.threshold) < spread:
            verdict = "holds, within the spread"
        else:
            verdict = "holds"
        return {
            "claim": self.text,
            "quantity": self.quantity,
            "value": number,
            "spread": spread,
            "criterion": self.criterion,
            "verdict": verdict,
        }
