"""Every parameter is documented where it is declared: each field of the device, cell and tile parameter classes
carries its own docstring, and each field of a device model's parameters also names its source (a paper with its
year, the authors' code or Knowm's model/board), says it is a placeholder to calibrate, that it is a numerical
setting, or that its default switches the effect off."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap

import pytest

from memristorch.cells.bit_errors import SignFlips, TernaryReadErrors
from memristorch.cells.pvt import SenseAmpPVT
from memristorch.devices import (
    BinaryRRAMParams,
    MSSBoard,
    MSSNumerics,
    MSSParams,
    MSSPhysics,
    ProgrammingCondition,
    PulsedDeviceParams,
    STMRAMParams,
)
from memristorch.devices.base import PulseScheme
from memristorch.devices.weak_reset import WeakResetParams
from memristorch.tiles import (
    PeripheryConfig,
    PowerLawDrift,
    ProgrammingError,
    RelaxationDrift,
    TileConfig,
    VerifyConfig,
)
from memristorch.tiles.drift import WeakResetRetention, ZeroBiasRelaxation

DEVICE_PARAMETERS = [
    MSSPhysics,
    MSSBoard,
    MSSNumerics,
    PulsedDeviceParams,
    WeakResetParams,
    BinaryRRAMParams,
    STMRAMParams,
]
SETTINGS = [
    MSSParams,
    ProgrammingCondition,
    PulseScheme,
    TileConfig,
    VerifyConfig,
    PeripheryConfig,
    ProgrammingError,
    PowerLawDrift,
    RelaxationDrift,
    ZeroBiasRelaxation,
    WeakResetRetention,
    SenseAmpPVT,
    SignFlips,
    TernaryReadErrors,
]
SOURCE = re.compile(
    r"(19|20)\d\d|calibrate|knowm|authors' code|same source|numerics|default 0: off|see the class docstring",
    re.I,
)


def field_docstrings(cls) -> dict[str, str | None]:
    """The string literal that follows each annotated field in the class body (None where there is none)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    docs = {}
    for i, statement in enumerate(body):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            following = body[i + 1] if i + 1 < len(body) else None
            is_doc = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
            docs[statement.target.id] = following.value.value if is_doc else None
    return docs


@pytest.mark.parametrize("cls", DEVICE_PARAMETERS + SETTINGS, ids=lambda c: c.__name__)
def test_every_field_has_its_own_docstring(cls):
    docs = field_docstrings(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    assert set(fields) <= set(docs)  # every dataclass field is declared in the class body itself
    assert [name for name in fields if not (docs[name] or "").strip()] == []


@pytest.mark.parametrize("cls", DEVICE_PARAMETERS, ids=lambda c: c.__name__)
def test_every_device_parameter_names_its_source(cls):
    docs = field_docstrings(cls)
    unsourced = [f.name for f in dataclasses.fields(cls) if not SOURCE.search(docs[f.name] or "")]
    assert unsourced == []


def test_the_check_sees_a_missing_docstring():
    @dataclasses.dataclass
    class Undocumented:
        documented: float = 1.0
        """Volts (placeholder — calibrate)."""
        bare: float = 2.0

    assert field_docstrings(Undocumented) == {"documented": "Volts (placeholder — calibrate).", "bare": None}
