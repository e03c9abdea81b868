"""Digital hardware cost of a binarized MLP's inference: area and energy from stated unit costs.

An MLP of widths n_0 → n_1 → … → n_L is evaluated one neuron at a time per layer on a datapath as wide as the
layer's input (the datapaths are instantiated once per layer and reused by all its neurons); weights sit in
ST-MRAM next to the logic and every weight bit is read once per inference. Per layer of input width n:

* **binary layer** (±1 inputs): n XNOR gates and a popcount of n bits (≈ n full adders) —
  area n (A_xnor + A_fa), energy per neuron n (E_xnor + E_fa);
* **fixed-point first layer** (b-bit inputs, the standard BNN's): n conditional negations (b XOR gates each) and an
  adder tree over n b-bit words (≈ n (b + ½ log2 n) full-adder bits) — area n b A_xor + n (b + ½ log2 n) A_fa, energy
  per neuron n b E_xor + n (b + ½ log2 n) E_fa;
* **stochastic first layer** (K bit-planes, Hirtzlin et al., IEEE Access 2019): each pass compares the n b-bit
  pixels with pseudo-random numbers (n b-bit comparators ≈ n b full adders) drawn from ``lfsr_count`` shared b-bit
  LFSRs (≈ b flip-flops each; one by default, its outputs permuted across the comparators — placeholder), then runs
  the binary datapath; the K popcounts are summed (one accumulator of log2(n K) bits). Area is that of one pass (the
  passes reuse the datapath); energy is K passes.

Every layer also holds its input register (n b bits for the first layer, n bits otherwise) and its weights in
ST-MRAM (n · n_out bits of area A_mram, read energy E_mram each). Unit costs: the full-adder bit is one eighth of
the 8-bit adder of Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm: 0.03 pJ, 36 µm²); the XOR/XNOR gate
and the flip-flop are fractions of it (placeholder — calibrate); the ST-MRAM bit cell and its read energy are
placeholders — calibrate. Ratios between two designs made of the same units depend on these far less than the
absolute numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ._validation import check_range


@dataclass(frozen=True)
class UnitCosts:
    """Area (µm²) and energy (pJ) of the units the datapaths are made of (see the module docstring)."""

    full_adder_area_um2: float = 4.5
    """One full-adder bit: an eighth of Horowitz's 8-bit adder, 36 µm² at 45 nm (ISSCC 2014)."""
    full_adder_energy_pj: float = 0.03 / 8
    """One full-adder bit: an eighth of Horowitz's 8-bit add, 0.03 pJ at 45 nm (ISSCC 2014)."""
    xnor_area_um2: float = 1.5
    """An XOR/XNOR gate: a third of a full-adder bit (placeholder — calibrate)."""
    xnor_energy_pj: float = 0.03 / 8 / 3
    """An XOR/XNOR gate: a third of a full-adder bit (placeholder — calibrate)."""
    flip_flop_area_um2: float = 4.5
    """A register bit (LFSR stage, input register): one full-adder bit (placeholder — calibrate)."""
    flip_flop_energy_pj: float = 0.03 / 8
    """A register bit clocked once: one full-adder bit (placeholder — calibrate)."""
    mram_bit_area_um2: float = 0.1
    """An ST-MRAM bit cell with its share of the periphery (placeholder — calibrate)."""
    mram_read_energy_pj: float = 0.05
    """Reading one ST-MRAM bit (placeholder — calibrate)."""

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            check_range(name, value, 0.0, None)


def with_overrides(cls, values: dict, field: str):
    """``cls(**values)`` for a cost dataclass; a key naming no field raises ``ValueError`` listing the fields."""
    unknown = sorted(set(values) - set(cls.__dataclass_fields__))
    if unknown:
        raise ValueError(
            f"{field} has no field {', '.join(unknown)}; its fields are {', '.join(cls.__dataclass_fields__)}"
        )
    return cls(**values)


@dataclass(frozen=True)
class Cost:
    """Area (µm²) and energy per inference (pJ), split into logic and memory."""

    logic_area_um2: float
    memory_area_um2: float
    logic_energy_pj: float
    memory_energy_pj: float

    @property
    def area_um2(self) -> float:
        return self.logic_area_um2 + self.memory_area_um2

    @property
    def energy_pj(self) -> float:
        return self.logic_energy_pj + self.memory_energy_pj

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True)))

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "area_um2": self.area_um2, "energy_pj": self.energy_pj}


def _binary_datapath(n: int, u: UnitCosts) -> tuple[float, float]:
    """Area and energy per neuron of an XNOR-popcount of width n."""
    return n * (u.xnor_area_um2 + u.full_adder_area_um2), n * (u.xnor_energy_pj + u.full_adder_energy_pj)


def layer_cost(
    n_in: int,
    n_out: int,
    kind: str,
    units: UnitCosts,
    input_bits: int = 8,
    k: int | None = None,
    lfsr_count: int = 1,
) -> Cost:
    """Cost of one layer: ``kind`` is ``"binary"``, ``"fixed-point"`` or ``"stochastic"`` (with ``k``)."""
    check_range("n_in", n_in, 1)
    check_range("n_out", n_out, 1)
    check_range("input_bits", input_bits, 1, 32)
    check_range("lfsr_count", lfsr_count, 1, n_in)
    u, b = units, input_bits
    weights = n_in * n_out
    memory = (weights * u.mram_bit_area_um2, weights * u.mram_read_energy_pj)
    if kind == "binary":
        area, energy = _binary_datapath(n_in, u)
        register = n_in * u.flip_flop_area_um2
        return Cost(area + register, memory[0], energy * n_out + n_in * u.flip_flop_energy_pj, memory[1])
    register_area, register_energy = n_in * b * u.flip_flop_area_um2, n_in * b * u.flip_flop_energy_pj
    if kind == "fixed-point":
        adder_bits = n_in * (b + 0.5 * math.log2(max(n_in, 2)))
        area = n_in * b * u.xnor_area_um2 + adder_bits * u.full_adder_area_um2
        energy = n_in * b * u.xnor_energy_pj + adder_bits * u.full_adder_energy_pj
        return Cost(area + register_area, memory[0], energy * n_out + register_energy, memory[1])
    if kind == "stochastic":
        if k is None or isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(
                f"k (bit-planes per input) must be an integer ≥ 1 for a stochastic layer, got {k!r}"
            )
        xnor_area, xnor_energy = _binary_datapath(n_in, u)
        accumulator_bits = math.ceil(math.log2(n_in * k + 1))
        rng_area = (
            n_in * b * u.full_adder_area_um2 + lfsr_count * b * u.flip_flop_area_um2
        )  # comparators, LFSRs
        rng_energy = n_in * b * u.full_adder_energy_pj + lfsr_count * b * u.flip_flop_energy_pj  # per pass
        area = xnor_area + rng_area + accumulator_bits * u.full_adder_area_um2
        # bits are drawn once per pass for all neurons; each neuron's XNOR-popcount runs K times
        energy = k * (rng_energy + n_out * (xnor_energy + accumulator_bits * u.full_adder_energy_pj))
        return Cost(area + register_area, memory[0], energy + register_energy, memory[1])
    raise ValueError(f"kind must be 'binary', 'fixed-point' or 'stochastic'; got {kind!r}")


def mlp_cost(
    widths: Sequence[int],
    first_layer: str,
    units: UnitCosts | None = None,
    input_bits: int = 8,
    k: int | None = None,
    lfsr_count: int = 1,
) -> dict[str, Cost]:
    """Per-layer and total cost of an MLP ``widths`` (input … output) whose first layer is ``first_layer``."""
    if len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {list(widths)}")
    units = units or UnitCosts()
    costs = {}
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        kind = first_layer if i == 0 else "binary"
        stochastic = kind == "stochastic"
        costs[f"layer{i}"] = layer_cost(
            a, b, kind, units, input_bits, k if stochastic else None, lfsr_count if stochastic else 1
        )
    total = costs["layer0"]
    for name in list(costs)[1:]:
        total = total + costs[name]
    costs["total"] = total
    return costs


# ----------------------------------------------------------------------------------- system energy per inference


@dataclass(frozen=True)
class MemoryCosts:
    """Read energies of the weight memories a BNN may sit in, and the ECC that a non-tolerant design needs.

    SRAM and DRAM: Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): a 64-bit read of an 8 kB SRAM costs
    10 pJ and of DRAM 1.3–2.6 nJ (the upper value here). RRAM reads and the sense amplifier are computed from the
    device's resistances at ``rram_read_voltage_v`` for ``rram_read_time_s`` plus a latch energy (placeholders —
    calibrate). ECC: SECDED on 64-bit words (8 check bits, Hamming 1950) with a decoder energy per word (placeholder).
    """

    sram_read_pj_per_bit: float = 10.0 / 64
    """8 kB SRAM, 64-bit read 10 pJ (Horowitz, ISSCC 2014)."""
    dram_read_pj_per_bit: float = 2600.0 / 64
    """DRAM, 64-bit read 2.6 nJ (Horowitz, ISSCC 2014, upper value)."""
    rram_read_voltage_v: float = 0.1
    """Read voltage across an RRAM device (V); kept low so reads do not disturb (placeholder — calibrate)."""
    rram_read_time_s: float = 10e-9
    """Time a read bias is applied (s) (placeholder — calibrate)."""
    sense_amp_pj: float = 0.01
    """One latch decision of a (precharge) sense amplifier, ≈ C V² with ~10 fF at 1 V (placeholder — calibrate)."""
    ecc_word_bits: int = 64
    """Data bits per ECC word."""
    ecc_check_bits: int = 8
    """SECDED check bits per word (8 for 64 data bits)."""
    ecc_decode_pj_per_word: float = 1.0
    """Syndrome computation and correction of one word (placeholder — calibrate)."""

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            check_range(name, value, 0.0, None)
        check_range("ecc_word_bits", self.ecc_word_bits, 1, 4096)


def rram_read_pj(resistances_ohm: Sequence[float], memory: MemoryCosts) -> float:
    """V² t Σ 1/R over the devices read at once (one for 1T1R, the LRS and the HRS of a 2T2R pair), in pJ."""
    for r in resistances_ohm:
        check_range("resistance_ohm", r, 0.0, None, low_inclusive=False)
    conductance = sum(1.0 / r for r in resistances_ohm)
    return memory.rram_read_voltage_v**2 * conductance * memory.rram_read_time_s * 1e12


def inference_energy_pj(
    weights: int, macs: int, design: str, memory: MemoryCosts, units: UnitCosts, rram_read: float = 0.0
) -> dict[str, float]:
    """Energy of one inference of binary layers holding ``weights`` weights and doing ``macs`` XNOR-accumulates.

    ``design``: ``"2T2R"`` (in memory: every MAC reads its pair, the XNOR happens in the PCSA, no ECC),
    ``"1T1R+ECC"`` (in memory: every MAC reads one device against a reference, an XNOR gate, SECDED on every word),
    ``"SRAM+ECC"`` / ``"DRAM+ECC"`` (weights fetched once per inference with SECDED, XNOR and popcount in logic).
    ``rram_read`` is the array read energy per MAC (pJ) for the in-memory designs. Popcounts cost one full-adder
    bit per MAC in every design.
    """
    check_range("weights", weights, 1)
    check_range("macs", macs, weights)
    if design in ("2T2R", "1T1R+ECC") and not rram_read > 0:
        raise ValueError(
            f"rram_read (array read energy per MAC, pJ) must be > 0 for the in-memory {design} design"
        )
    popcount = macs * units.full_adder_energy_pj
    overhead = (memory.ecc_word_bits + memory.ecc_check_bits) / memory.ecc_word_bits
    words = math.ceil(macs / memory.ecc_word_bits)
    if design == "2T2R":
        parts = {"memory": macs * rram_read, "sense": macs * memory.sense_amp_pj, "xnor": 0.0, "ecc": 0.0}
    elif design == "1T1R+ECC":
        parts = {
            "memory": macs * overhead * rram_read,
            "sense": macs * overhead * memory.sense_amp_pj,
            "xnor": macs * units.xnor_energy_pj,
            "ecc": words * memory.ecc_decode_pj_per_word,
        }
    elif design in ("SRAM+ECC", "DRAM+ECC"):
        per_bit = memory.sram_read_pj_per_bit if design == "SRAM+ECC" else memory.dram_read_pj_per_bit
        parts = {
            "memory": weights * overhead * per_bit,
            "sense": 0.0,
            "xnor": macs * units.xnor_energy_pj,
            "ecc": math.ceil(weights / memory.ecc_word_bits) * memory.ecc_decode_pj_per_word,
        }
    else:
        raise ValueError(f"design must be one of 2T2R, 1T1R+ECC, SRAM+ECC, DRAM+ECC; got {design!r}")
    parts["popcount"] = popcount
    parts["total"] = sum(parts.values())
    return parts
