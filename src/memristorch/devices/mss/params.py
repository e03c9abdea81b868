"""Parameters of the generalized metastable-switch memristor, in three groups: the device's physics, the board that
drives it (pulses, read voltage, series resistor) and the numerics of its simulation.

:class:`MSSParams` holds one of each (``params.physics``, ``params.board``, ``params.numerics``). It is still built,
read and overridden by flat field names — ``MSSParams(r_on_ohm=600, series_resistance_ohm=1e3)``,
``params.tau_s``, ``get_device("knowm-cr", pulse_width_s=2e-3)``, ``dataclasses.replace(params, phi=0.8)`` — so
configs, presets and fits name a field without knowing its group, and ``to_dict()`` stays flat. Inside the package,
physics code is handed the :class:`MSSPhysics` alone and cannot see the board or the numerics.

Defaults are the example of Knowm's public model (``memristor_knowm.sub`` and ``knowm.cir`` in
knowm/memristor-models-4-all) and the Knowm measurement board's defaults (knowm/memristor-discovery).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ..._validation import check_int, check_range, warn_if_absolute

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: the per-device fields drawn for device-to-device spread
FIELDS_WITH_D2D = ("r_on_ohm", "r_off_ohm", "v_on_v", "v_off_v", "tau_s")


@dataclass(frozen=True)
class MSSPhysics:
    """The device itself: Molter & Nugent, "The Generalized Metastable Switch Memristor Model", CNNA 2016, with the
    defaults of Knowm's public model (R_on 500 Ω, R_off 1500 Ω, V_on = V_off = 0.27 V, τ = 0.1 ms, T = 298.5 K,
    plain MSS, φ = 1)."""

    r_on_ohm: float = 500.0
    """Resistance of a device with every switch on (x = 1), Ω, > 0 (Knowm ``memristor_knowm.sub`` default)."""
    r_off_ohm: float = 1500.0
    """Resistance with every switch off (x = 0), Ω, > r_on_ohm (Knowm ``memristor_knowm.sub`` default)."""
    v_on_v: float = 0.27
    """Switching-on threshold V_on, V, > 0: switches turn on above +V_on (Knowm ``memristor_knowm.sub``)."""
    v_off_v: float = 0.27
    """Switching-off threshold V_off, V, > 0 (a magnitude): switches turn off below −V_off (same source)."""
    tau_s: float = 1e-4
    """Time constant τ of the switch dynamics dx/dt = [(1 − x) p_on − x p_off] / τ, s, > 0 (same source)."""
    temperature_k: float = 298.5
    """Temperature, K, > 0, for the thermal voltage V_T = kT/q of p_on/p_off (same source)."""
    phi: float = 1.0
    """Share φ ∈ [0, 1] of the current through the switches; 1 − φ flows through the diode path (1 = plain MSS;
    Molter & Nugent, CNNA 2016)."""
    sfa_a: float = 0.0
    """Forward diode prefactor a_f of I_d = a_f e^(b_f V) − a_r e^(−b_r V), A, ≥ 0 (0: no diode; Knowm Xyce
    example 8e-4)."""
    sfb_per_v: float = 0.0
    """Forward diode exponent b_f, 1/V, ≥ 0 (Knowm Xyce example 4)."""
    sra_a: float = 0.0
    """Reverse diode prefactor a_r, A, ≥ 0 (Knowm Xyce example 8e-4)."""
    srb_per_v: float = 0.0
    """Reverse diode exponent b_r, 1/V, ≥ 0 (Knowm Xyce example 4)."""
    x_init: float = 0.0
    """Initial share of switches on, x0 ∈ [0, 1] (``memristor_knowm.sub``: 0)."""
    n_switches: int | None = None
    """Number of metastable switches per device, an integer ≥ 1, or None for the mean field (the limit of many
    switches: deterministic). With a number the switches flip binomially, which gives cycle-to-cycle noise (Molter &
    Nugent 2016). Placeholder — calibrate to a device's cycle-to-cycle spread."""
    d2d_std: float = 0.0
    """Device-to-device spread: log-std of the log-normal draws (median = nominal) of the per-device fields R_on,
    R_off, V_on, V_off and τ, in [0, 1]; 0.1 ≈ 10 %. Placeholder — calibrate."""
    read_noise_rel: float = 0.0
    """Read noise per device read, RELATIVE to g_max (0.01 = 1 % of g_max; ``read_noise_std`` before 2026-12), in
    [0, 1]; default 0: off."""

    def __post_init__(self) -> None:
        check_range("r_on_ohm", self.r_on_ohm, 0.0, low_inclusive=False)
        check_range("r_off_ohm", self.r_off_ohm, 0.0, low_inclusive=False)
        if not self.r_on_ohm < self.r_off_ohm:
            raise ValueError(f"r_on_ohm must be below r_off_ohm: got {self.r_on_ohm!r} >= {self.r_off_ohm!r}")
        check_range("v_on_v", self.v_on_v, 0.0, low_inclusive=False)
        check_range("v_off_v", self.v_off_v, 0.0, low_inclusive=False)
        check_range("tau_s", self.tau_s, 0.0, low_inclusive=False)
        check_range("temperature_k", self.temperature_k, 0.0, low_inclusive=False)
        check_range("phi", self.phi, 0.0, 1.0)
        for name in ("sfa_a", "sfb_per_v", "sra_a", "srb_per_v"):
            check_range(name, getattr(self, name), 0.0)
        check_range("x_init", self.x_init, 0.0, 1.0)
        if self.n_switches is not None:
            check_int("n_switches", self.n_switches, 1)
        check_range("d2d_std", self.d2d_std, 0.0, 1.0)
        check_range("read_noise_rel", self.read_noise_rel, 0.0, 1.0)
        warn_if_absolute("read_noise_rel", self.read_noise_rel, "g_max")

    @property
    def thermal_voltage_v(self) -> float:
        return BOLTZMANN_J_PER_K * self.temperature_k / ELEMENTARY_CHARGE_C


@dataclass(frozen=True)
class MSSBoard:
    """How the device is driven and read: the Knowm measurement board's ±1 V SET/RESET pulses (knowm/memristor-
    discovery, 5 ms period), a 0.05 V read, and optionally its series resistor (the board uses 1 kΩ)."""

    set_voltage_v: float = 1.0
    """SET pulse amplitude, V, > 0 (Knowm measurement board default +1 V)."""
    reset_voltage_v: float = -1.0
    """RESET pulse amplitude, V, SIGNED, < 0 (the drive's polarity; ``pulse_scheme`` gives its magnitude); Knowm
    measurement board default −1 V."""
    pulse_width_s: float = 1e-3
    """Programming pulse width, s, > 0. Placeholder — calibrate (board period 5 ms)."""
    pulse_gap_s: float = 4e-3
    """Gap after each pulse, s, ≥ 0 (width + gap = the board's 5 ms period). Placeholder — calibrate."""
    read_voltage_v: float = 0.05
    """Read voltage, V, ≥ 0: far below V_on, so a read barely disturbs the state (Knowm board default 0.05 V)."""
    series_resistance_ohm: float = 0.0
    """Resistor in series with the device while programming, Ω, ≥ 0 (the Knowm board uses 1 kΩ; default 0: off, an
    ideal source). The device then sees ``V / (1 + R_s G)`` (with the diode path, φ < 1, the divider
    ``V_d + R_s I(V_d) = V`` is solved by Newton's method) and energies are the source's (device plus resistor)."""

    def __post_init__(self) -> None:
        check_range("set_voltage_v", self.set_voltage_v, 0.0, low_inclusive=False)
        check_range("reset_voltage_v", self.reset_voltage_v, high=0.0, high_inclusive=False)
        check_range("pulse_width_s", self.pulse_width_s, 0.0, low_inclusive=False)
        check_range("pulse_gap_s", self.pulse_gap_s, 0.0)
        check_range("read_voltage_v", self.read_voltage_v, 0.0)
        check_range("series_resistance_ohm", self.series_resistance_ohm, 0.0)


@dataclass(frozen=True)
class MSSNumerics:
    """How the simulation integrates. Behind a series resistor a pulse is integrated in predictor–corrector
    sub-steps of at most ``series_step_rate`` switching time constants (``width / τ``, the fastest device's τ) and at
    most ``series_substeps`` per pulse, energies by Simpson's rule on each sub-step: 0.25 and 16 keep the state within
    1e-8 and the energy within 1e-6 (relative) of a 1,024-sub-step integration for the Knowm presets with 10 % D2D,
    and within 1e-7 and 2e-4 for the fast-switching reference parameters (tested)."""

    series_substeps: int = 16
    """Numerics: most predictor–corrector sub-steps per pulse behind the series resistor, an integer ≥ 1."""
    series_step_rate: float = 0.25
    """Numerics: largest sub-step, in switching time constants, > 0."""
    dtype: str = "float64"
    """Numerics: dtype of the device state, "float64" or "float32" (halves memory and time for large arrays, at
    ~1e-7 relative precision of the state)."""

    def __post_init__(self) -> None:
        check_int("series_substeps", self.series_substeps, 1)
        check_range("series_step_rate", self.series_step_rate, 0.0, low_inclusive=False)
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")


GROUPS = {"physics": MSSPhysics, "board": MSSBoard, "numerics": MSSNumerics}
#: flat field name → the group that declares it, in declaration order
GROUP_OF = {f.name: group for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}


@dataclass(frozen=True, init=False)
class MSSParams:
    """Parameters of the generalized MSS memristor: its physics, its board and the numerics (module docstring).

    ``MSSParams(physics=None, board=None, numerics=None, **fields)`` starts from the given groups (default: each
    group's defaults) and sets any flat ``fields`` in the group that declares them; every value is validated by its
    group. Flat names read through (``params.r_on_ohm`` is ``params.physics.r_on_ohm``).
    """

    physics: MSSPhysics
    """The device's physics (:class:`MSSPhysics`)."""
    board: MSSBoard
    """The drive and read circuit (:class:`MSSBoard`)."""
    numerics: MSSNumerics
    """The integration settings (:class:`MSSNumerics`)."""
    #: the flat names the parameters are built, read and overridden by (``devices.base.field_names``)
    FLAT_FIELDS: ClassVar[tuple[str, ...]] = tuple(GROUP_OF)

    def __init__(
        self,
        physics: MSSPhysics | None = None,
        board: MSSBoard | None = None,
        numerics: MSSNumerics | None = None,
        **fields,
    ) -> None:
        given = {"physics": physics, "board": board, "numerics": numerics}
        unknown = sorted(set(fields) - set(GROUP_OF))
        if unknown:
            raise TypeError(
                f"MSSParams has no field {', '.join(map(repr, unknown))}; its fields are {', '.join(GROUP_OF)}"
            )
        for group, cls in GROUPS.items():
            value = given[group]
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"{group} must be an {cls.__name__} or None, got {type(value).__name__}")
            mine = {name: v for name, v in fields.items() if GROUP_OF[name] == group}
            value = cls(**mine) if value is None else (dataclasses.replace(value, **mine) if mine else value)
            object.__setattr__(self, group, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: a flat field name reads through to its group
        group = GROUP_OF.get(name)
        if group is None or group not in self.__dict__:
            raise AttributeError(f"MSSParams has no attribute {name!r}")
        return getattr(self.__dict__[group], name)

    @property
    def thermal_voltage_v(self) -> float:
        return self.physics.thermal_voltage_v

    def to_dict(self) -> dict:
        """Every field by its flat name (physics, then board, then numerics)."""
        return {name: getattr(self.__dict__[group], name) for name, group in GROUP_OF.items()}
