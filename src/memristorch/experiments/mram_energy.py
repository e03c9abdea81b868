"""``mram-energy``: ST-MRAM write energy at the WER a BNN tolerates vs an ECC-class WER (Hirtzlin et al.,
NANOARCH 2019, arXiv 1908.04085).

For each WER the :class:`~memristorch.devices.mram.STMRAM` placeholder model gives the least-energy write (current
on a grid, shortest pulse reaching the WER). The bit-level factor is E(``ecc_wer``)/E(``tolerated_wer``). A system
saves less, because reading and computing cost the same either way: with a share s of the baseline system energy
spent outside writes, and an ECC overhead of ``ecc_write_overhead`` extra written bits (check bits) in the baseline,
the system factor is B / (E_bnn + s·B) with B = E_ecc (1 + o) / (1 − s) the baseline system energy
(:func:`system_factor`). The study reports up to ×2 at system level; which share that implies is printed, not assumed.

``tolerated_wer`` defaults to 1e-3 (the BER a standard BNN tolerates in the ST-MRAM study); ``bnn-ber`` measures it
for the networks here.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from .. import plots
from ..devices.mram import STMRAM
from ..runner.config import StudyConfig
from ..runner.store import Results, RunStore
from ..runner.study import store_for


class MRAMEnergyConfig(StudyConfig):
    """Configuration of ``mram-energy`` (no training; a second or so)."""

    tolerated_wer: float = Field(1e-3, gt=0, lt=1)
    ecc_wer: float = Field(1e-9, gt=0, lt=1)
    ecc_write_overhead: float = Field(
        0.125,
        ge=0,
        le=1,
        description="extra check bits written with ECC (SECDED on 64 bits: 8/64; placeholder)",
    )
    other_shares: list[Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: [0.0, 0.1, 0.25, 0.5, 0.75],
        description="baseline energy share outside writes",
    )
    wers: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: [1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1]
    )
    thermal_stability: float = Field(60.0, ge=1, le=200)
    critical_current_a: float = Field(60e-6, gt=0, le=1e-2)
    resistance_ohm: float = Field(5e3, gt=0, le=1e9)
    data_dir: str | None = None  # accepted for a uniform CLI; unused


def system_factor(e_ecc: float, e_bnn: float, other_share: float, ecc_overhead: float) -> float:
    """Baseline system energy (ECC-class writes + other) over the BNN system's (tolerant writes + the same other)."""
    if not 0.0 <= other_share < 1.0:
        raise ValueError(f"other_share must lie in [0, 1), got {other_share}")
    baseline = e_ecc * (1.0 + ecc_overhead) / (1.0 - other_share)
    return baseline / (e_bnn + other_share * baseline)


def run(config: MRAMEnergyConfig, store: RunStore | None = None) -> Results:
    store = store_for(store, "mram-energy", config)
    for wer in config.wers:
        if not 0 < wer < 1:
            raise ValueError(f"wers entries must lie in (0, 1), got {wer}")
    mram = STMRAM(
        thermal_stability=config.thermal_stability,
        critical_current_a=config.critical_current_a,
        resistance_ohm=config.resistance_ohm,
    )
    rows = [mram.optimal_write(wer) for wer in sorted(config.wers)]
    ecc = mram.optimal_write(config.ecc_wer)
    bnn = mram.optimal_write(config.tolerated_wer)
    shares = []
    for share in config.other_shares:
        shares.append(
            {
                "other_share": share,
                "system_factor": system_factor(
                    ecc["energy_j"], bnn["energy_j"], share, config.ecc_write_overhead
                ),
            }
        )
    summary = {
        "ecc_write": ecc,
        "tolerant_write": bnn,
        "bit_energy_factor": ecc["energy_j"] / bnn["energy_j"],
        "bit_energy_factor_with_ecc_bits": ecc["energy_j"]
        * (1 + config.ecc_write_overhead)
        / bnn["energy_j"],
        "system_factor": {f"{r['other_share']:g}": r["system_factor"] for r in shares},
    }
    currents = config.critical_current_a * np.array([0.8, 1.2, 1.5, 2.0, 3.0])
    widths = np.geomspace(0.5e-9, 100e-9, 200)
    wer_curves = {f"{i * 1e6:.0f} µA": mram.write_error_rate(i, widths) for i in currents}
    figures = {
        "wer_vs_width": plots.curves_xy(
            {k: widths * 1e9 for k in wer_curves},
            {k: np.maximum(v, 1e-30) for k, v in wer_curves.items()},
            "write pulse width (ns)",
            "write error rate",
            log_x=True,
            log_y=True,
        ),
        "energy_vs_wer": plots.curves_xy(
            {"least-energy write": [r["wer"] for r in rows]},
            {"least-energy write": [r["energy_j"] * 1e15 for r in rows]},
            "write error rate",
            "write energy per bit (fJ)",
            log_x=True,
        ),
    }
    return Results(summary=summary, tables={"write_energy": rows, "system_factor": shares}, figures=figures)
