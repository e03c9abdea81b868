"""Run ngspice in batch mode and read the traces it writes."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..devices.mss import MSSParams
from .netlist import Drive, mss_netlist

NGSPICE_MISSING = "ngspice is not installed (Debian/Ubuntu: apt-get install ngspice)"


def ngspice_available() -> bool:
    return shutil.which("ngspice") is not None


def simulate_mss(
    params: MSSParams, drive: Drive, x0: float | None = None, timeout_s: float = 120.0
) -> np.ndarray:
    """Columns ``time (s), device current (A), x`` on the drive's output grid, as ngspice computes them."""
    if not ngspice_available():
        raise FileNotFoundError(NGSPICE_MISSING)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "trace.txt"
        netlist = Path(folder) / "drive.cir"
        netlist.write_text(mss_netlist(params, drive, str(out), x0))
        result = subprocess.run(
            ["ngspice", "-b", str(netlist)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"ngspice failed (exit {result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return np.loadtxt(out, skiprows=1)
