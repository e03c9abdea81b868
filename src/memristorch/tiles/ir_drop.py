"""IR drop: the read of a crossbar whose row and column wires have resistance, solved as the whole circuit.

Layout (one device plane, conductances ``G`` of shape outputs × inputs): input line j is driven at one end by its
voltage V_j and passes every output column; output line i passes every input row and ends in a transimpedance
amplifier that holds it at 0 V. Between neighbouring cross-points each line has one wire segment of resistance
``r`` (the driver and the amplifier sit one segment beyond the first and last cross-point). Device (i, j) joins
input line j at column i to output line i at row j. Kirchhoff's current law at the 2·inputs·outputs cross-point nodes
is a sparse linear system; because the circuit is linear, the amplifier currents are I = M(G) V for a matrix M that
depends on the conductances only. :func:`effective_conductances` returns M, so a tile with IR drop reads
``cell.weight(M(G))`` in place of ``cell.weight(G)``; with r = 0, M = G exactly.

Cost: one sparse LU factorisation of the 2·inputs·outputs system per device plane (scipy ``splu``) and one solve per
input column, in blocks, whenever the conductances change; reading is then an ordinary matrix product.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_range

_BLOCK = 64  # input columns solved at once (memory: 2·inputs·outputs·_BLOCK doubles)


def _system(g: np.ndarray, r_ohm: float):
    """The nodal matrix (scipy CSC) of the crossbar; node a[j, k] = j·out + k, node b[i, j] = N + i·in + j."""
    from scipy import sparse

    n_out, n_in = g.shape
    n = n_out * n_in
    gw = 1.0 / r_ohm
    j, k = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")  # input line j at column k
    a = (j * n_out + k).ravel()
    b_of_a = (n + k * n_in + j).ravel()  # the output-line node of the same device
    g_a = g[k, j].ravel()
    i2, j2 = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")  # output line i at row j
    b = (n + i2 * n_in + j2).ravel()
    rows, cols, values = [], [], []

    def add(r, c, v):
        rows.append(r)
        cols.append(c)
        values.append(v)

    # input lines: the driver (or the previous node) and the next node through wire segments, the device to b
    add(a, a, gw + gw * (k.ravel() < n_out - 1) + g_a)
    left = k.ravel() > 0
    add(a[left], a[left] - 1, np.full(left.sum(), -gw))
    right = k.ravel() < n_out - 1
    add(a[right], a[right] + 1, np.full(right.sum(), -gw))
    add(a, b_of_a, -g_a)
    # output lines: previous node and the next node (or the amplifier at 0 V), the device to a
    g_b = g[i2, j2].ravel()
    add(b, b, gw * (j2.ravel() > 0) + gw + g_b)
    left = j2.ravel() > 0
    add(b[left], b[left] - 1, np.full(left.sum(), -gw))
    right = j2.ravel() < n_in - 1
    add(b[right], b[right] + 1, np.full(right.sum(), -gw))
    add(b, (j2 * n_out + i2).ravel(), -g_b)
    matrix = sparse.csc_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(2 * n, 2 * n)
    )
    return matrix


def effective_conductances(g: torch.Tensor, wire_resistance_ohm: float) -> torch.Tensor:
    """M with amplifier currents I = M V for conductances ``g`` (outputs × inputs, S) and ``wire_resistance_ohm``
    per wire segment; float64 solve, returned in ``g``'s dtype and device."""
    from scipy.sparse.linalg import splu

    check_range("wire_resistance_ohm", wire_resistance_ohm, 0.0, 1e9)
    if g.dim() != 2:
        raise ValueError(f"g must be a matrix (outputs × inputs), got shape {tuple(g.shape)}")
    if wire_resistance_ohm == 0.0:
        return g.clone()
    values = g.detach().cpu().double().numpy()
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("g must hold finite conductances ≥ 0 (siemens)")
    n_out, n_in = values.shape
    n = n_out * n_in
    lu = splu(_system(values, wire_resistance_ohm))
    gw = 1.0 / wire_resistance_ohm
    sense = (
        n + np.arange(n_out) * n_in + (n_in - 1)
    )  # the last node of each output line, one segment from the TIA
    m = np.empty((n_out, n_in))
    for start in range(0, n_in, _BLOCK):
        cols = np.arange(start, min(start + _BLOCK, n_in))
        rhs = np.zeros((2 * n, len(cols)))
        rhs[cols * n_out, np.arange(len(cols))] = (
            gw  # unit voltage on input line j, through its first segment
        )
        m[:, cols] = gw * lu.solve(rhs)[sense]
    return torch.from_numpy(m).to(dtype=g.dtype, device=g.device)


def crossbar_currents(g: torch.Tensor, inputs_v: torch.Tensor, wire_resistance_ohm: float) -> torch.Tensor:
    """Amplifier currents (A) of every output for each row of ``inputs_v`` (batch × inputs, V)."""
    return inputs_v.to(g.dtype) @ effective_conductances(g, wire_resistance_ohm).T
