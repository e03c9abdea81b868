"""Export a metastable-switch memristor drive to an ngspice netlist.

The device is a subcircuit of two behavioural sources: one charges a 1 F capacitor with ``dx/dt`` so that its node
voltage *is* the state ``x``, the other draws the device current ``I(V, x)`` (the capacitor construction of Knowm's
LTSpice model ``memristor_knowm.sub``). The same equations as :mod:`memristorch.devices.mss`, written independently in SPICE,
so the two integrations can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..devices.mss import MSSParams


@dataclass(frozen=True)
class Drive:
    """A voltage drive in SPICE source syntax (e.g. ``SIN(0 0.5 1k)`` or ``PWL(0 0 1u 0.5 …)``) and the transient
    analysis settings: ``t_stop_s``, output grid ``t_step_s``, largest solver step ``max_step_s``."""

    source: str
    t_stop_s: float
    t_step_s: float
    max_step_s: float


def pwl_source(times_s, voltages_v) -> str:
    points = " ".join(f"{float(t):.12g} {float(v):.12g}" for t, v in zip(times_s, voltages_v, strict=True))
    return f"PWL({points})"


def mss_netlist(params: MSSParams, drive: Drive, output_file: str, x0: float | None = None) -> str:
    """Netlist text: the drive across one MSS device (behind ``series_resistance_ohm`` if set); writes
    ``time, source current, x`` to ``output_file``."""
    p = params
    x0 = p.x_init if x0 is None else x0
    vt = p.thermal_voltage_v
    if p.series_resistance_ohm > 0:
        series, device_node = f"Rseries in dev {p.series_resistance_ohm:.12g}\n", "dev"
    else:
        series, device_node = "", "in"
    diode = f"{p.sfa_a:.12g}*exp({p.sfb_per_v:.12g}*V(p,n)) - {p.sra_a:.12g}*exp(-{p.srb_per_v:.12g}*V(p,n))"
    return f"""* memristorch: generalized metastable-switch memristor under a voltage drive
.subckt mss p n x
Cx x 0 1
Bx 0 x I = ( (1 - V(x)) / (1 + exp(-(V(p,n) - {p.v_on_v:.12g}) / {vt:.12g})) - V(x) * (1 - 1 / (1 + exp(-(V(p,n) + {p.v_off_v:.12g}) / {vt:.12g}))) ) / {p.tau_s:.12g}
Bm p n I = {p.phi:.12g} * V(p,n) * ( V(x) / {p.r_on_ohm:.12g} + (1 - V(x)) / {p.r_off_ohm:.12g} ) + {1.0 - p.phi:.12g} * ({diode})
.ends
Vdrive in 0 {drive.source}
{series}Xdev {device_node} 0 x mss
.ic V(x)={x0:.12g}
.options reltol=1e-6 abstol=1e-15 vntol=1e-12
.tran {drive.t_step_s:.12g} {drive.t_stop_s:.12g} 0 {drive.max_step_s:.12g} uic
.control
set wr_singlescale
set wr_vecnames
run
linearize
wrdata {output_file} -i(Vdrive) v(x)
quit
.endc
.end
"""
