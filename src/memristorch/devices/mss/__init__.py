"""The generalized mean metastable-switch (MSS) memristor, a time-domain device driven by voltage waveforms.

Physics (Molter & Nugent, "The Generalized Metastable Switch Memristor Model", CNNA 2016, arXiv 1608.04659; Knowm's
public SPICE/Xyce models): the state ``x ∈ [0, 1]`` is the fraction of metastable switches in their conducting
state, ``G(x) = x / R_on + (1 − x) / R_off``. Under a voltage ``V`` switches turn on with probability
``p_on = σ((V − V_on) / V_T)`` and off with ``p_off = σ(−(V + V_off) / V_T)`` per time ``τ`` (σ the logistic
function, ``V_T = k_B T / q``), so ``dx/dt = a (1 − x) − b x`` with ``a = p_on / τ``, ``b = p_off / τ``. The
device current is ``I = φ V G(x) + (1 − φ) (s_fa e^{s_fb V} − s_ra e^{−s_rb V})``: the memristive path mixed with a
Schottky-diode path (φ = 1: plain MSS).

Integration: at constant ``V`` the state relaxes exactly, ``x(t + Δt) = x_∞ + (x − x_∞) e^{−(a + b) Δt}`` with
``x_∞ = a / (a + b)``; an arbitrary waveform is stepped with the rates of its midpoint voltage (second order in the
step). A programming pulse train (``n`` pulses of width ``w`` separated by a gap at 0 V) is an affine map per period,
so ``n`` periods and the energy they dissipate have closed forms: no loop over pulses.

Optional stochastic switching (``n_switches``): the numbers of switches turning on and off in a step are binomial,
drawn in their normal approximation, which gives cycle-to-cycle noise; behind a series resistor it is drawn once per
predictor–corrector sub-step. D2D: each device draws its own ``R_on``, ``R_off``, ``V_on``, ``V_off`` and ``τ``
from log-normal spreads at creation. State is float64 by default (``dtype="float32"`` halves memory and time for
large arrays, at ~1e-7 relative precision of the state).

The package is split by job: :mod:`.params` (the parameters: physics, board and numerics apart), :mod:`.physics` (conductance, rates, relaxation,
current), :mod:`.pulse_train` (closed-form pulse trains and their energy), :mod:`.series` (the series-resistor
solver), :mod:`.waveform` (arbitrary waveforms), :mod:`.drives` (the drive chosen once per device) and
:mod:`.device` (:class:`MSSDevice`, the device contract over them).
"""

from .device import MSSDevice
from .params import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C, MSSBoard, MSSNumerics, MSSParams, MSSPhysics
from .series import SeriesPath
from .waveform import WaveformResult, sine_waveform

__all__ = [
    "BOLTZMANN_J_PER_K",
    "ELEMENTARY_CHARGE_C",
    "MSSDevice",
    "MSSBoard",
    "MSSNumerics",
    "MSSParams",
    "MSSPhysics",
    "SeriesPath",
    "WaveformResult",
    "sine_waveform",
]
