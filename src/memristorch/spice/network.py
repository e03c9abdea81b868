"""Export a programmed crossbar network to an ngspice netlist and solve its read (DC operating point).

Each layer is a set of device columns: every device is a resistor ``1/G`` from its input line to a summing node that
an ideal transimpedance amplifier holds at 0 V (a 0 V source whose current ngspice reports). A column is added or
subtracted with its sign — one device against a reference column (``G_ref`` everywhere), or a differential pair — and
the neuron applies its gain and activation as a behavioural source. This checks, in a circuit simulator, that the
weighted sums memristorch computes from conductances are what the array's currents give.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .ngspice import NGSPICE_MISSING, ngspice_available


@dataclass(frozen=True)
class CrossbarLayer:
    """Conductance columns ``(G (out × in), sign)``, the neuron gain (weight units per siemens) and activation."""

    columns: list[tuple[torch.Tensor, float]]
    gain: float
    activation: str = "tanh"  # "tanh" or "linear"

    def __post_init__(self) -> None:
        if self.activation not in ("tanh", "linear"):
            raise ValueError(f"activation must be 'tanh' or 'linear', got {self.activation!r}")
        shapes = {tuple(g.shape) for g, _ in self.columns}
        if len(shapes) != 1:
            raise ValueError(f"all columns of a layer must share one shape, got {sorted(shapes)}")
        if any(bool((g <= 0).any()) for g, _ in self.columns):
            raise ValueError("conductances must be positive")


def forward(layers: list[CrossbarLayer], inputs_v: torch.Tensor) -> list[torch.Tensor]:
    """memristorch's own evaluation of the same circuit: the outputs of every layer."""
    outputs, x = [], inputs_v.double()
    for layer in layers:
        current = sum(sign * (g.double() @ x) for g, sign in layer.columns)
        y = layer.gain * current
        x = torch.tanh(y) if layer.activation == "tanh" else y
        outputs.append(x)
    return outputs


def network_netlist(layers: list[CrossbarLayer], inputs_v: torch.Tensor) -> str:
    lines = ["* memristorch: crossbar network read (DC)"]
    for j, v in enumerate(inputs_v.tolist()):
        lines.append(f"Vin_{j} n0_{j} 0 {v:.12g}")
    probes = []
    for k, layer in enumerate(layers):
        out, n_in = layer.columns[0][0].shape
        for c, (g, _) in enumerate(layer.columns):
            for i in range(out):
                lines.append(f"Vsum_{k}_{c}_{i} s{k}_{c}_{i} 0 0")
                for j in range(n_in):
                    lines.append(f"R_{k}_{c}_{i}_{j} n{k}_{j} s{k}_{c}_{i} {1.0 / float(g[i, j]):.15g}")
        for i in range(out):
            total = " + ".join(
                f"({sign:.1f})*I(Vsum_{k}_{c}_{i})" for c, (_, sign) in enumerate(layer.columns)
            )
            expression = f"{layer.gain:.15g}*({total})"
            if layer.activation == "tanh":
                expression = f"tanh({expression})"
            lines.append(f"B_{k}_{i} n{k + 1}_{i} 0 V = {expression}")
            probes.append(f"v(n{k + 1}_{i})")
    lines += [".control", "set numdgt=15", "op", "print " + " ".join(probes), ".endc", ".end"]
    return "\n".join(lines) + "\n"


def simulate_network(
    layers: list[CrossbarLayer], inputs_v: torch.Tensor, timeout_s: float = 60.0
) -> list[torch.Tensor]:
    """The outputs of every layer as ngspice solves the circuit."""
    if not ngspice_available():
        raise FileNotFoundError(NGSPICE_MISSING)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.cir"
        path.write_text(network_netlist(layers, inputs_v))
        result = subprocess.run(
            ["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    values = dict(re.findall(r"^v\((n\d+_\d+)\)\s*=\s*(\S+)", result.stdout, flags=re.MULTILINE))
    outputs = []
    for k, layer in enumerate(layers):
        out = layer.columns[0][0].shape[0]
        try:
            outputs.append(
                torch.tensor([float(values[f"n{k + 1}_{i}"]) for i in range(out)], dtype=torch.float64)
            )
        except KeyError:
            raise RuntimeError(
                f"ngspice did not report layer {k} (exit {result.returncode}):\n{result.stdout[-2000:]}"
            ) from None
    return outputs


def crossbar_ir_netlist(g: torch.Tensor, inputs_v: torch.Tensor, wire_resistance_ohm: float) -> str:
    """The crossbar of :mod:`memristorch.tiles.ir_drop` with its wire segments, as an ngspice netlist (DC)."""
    n_out, n_in = g.shape
    r = f"{wire_resistance_ohm:.15g}"
    lines = ["* memristorch: crossbar read with wire resistance (IR drop)"]
    for j, v in enumerate(inputs_v.tolist()):
        lines.append(f"Vin_{j} src_{j} 0 {v:.15g}")
        lines.append(f"Rd_{j} src_{j} a_{j}_0 {r}")
        lines += [f"Ra_{j}_{k} a_{j}_{k} a_{j}_{k + 1} {r}" for k in range(n_out - 1)]
    for i in range(n_out):
        lines += [f"Rb_{i}_{j} b_{i}_{j} b_{i}_{j + 1} {r}" for j in range(n_in - 1)]
        lines.append(f"Rt_{i} b_{i}_{n_in - 1} t_{i} {r}")
        lines.append(f"Vsense_{i} t_{i} 0 0")
        lines += [f"Rg_{i}_{j} a_{j}_{i} b_{i}_{j} {1.0 / float(g[i, j]):.15g}" for j in range(n_in)]
    probes = " ".join(f"i(Vsense_{i})" for i in range(n_out))
    lines += [".control", "set numdgt=15", "op", f"print {probes}", ".endc", ".end"]
    return "\n".join(lines) + "\n"


def simulate_crossbar_ir(
    g: torch.Tensor, inputs_v: torch.Tensor, wire_resistance_ohm: float, timeout_s: float = 60.0
) -> torch.Tensor:
    """The amplifier currents (A, flowing into each 0 V sense source) as ngspice solves the crossbar."""
    if not ngspice_available():
        raise FileNotFoundError(NGSPICE_MISSING)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crossbar.cir"
        path.write_text(crossbar_ir_netlist(g, inputs_v, wire_resistance_ohm))
        result = subprocess.run(
            ["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    values = dict(
        re.findall(r"^i\(vsense_(\d+)\)\s*=\s*(\S+)", result.stdout, flags=re.MULTILINE | re.IGNORECASE)
    )
    try:
        return torch.tensor([float(values[str(i)]) for i in range(g.shape[0])], dtype=torch.float64)
    except KeyError:
        raise RuntimeError(
            f"ngspice did not report the sense currents (exit {result.returncode}):\n{result.stdout[-2000:]}"
        ) from None
