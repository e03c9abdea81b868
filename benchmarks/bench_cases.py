"""Every speed case of issue #13, each against plain PyTorch in the same process, in interleaved bursts.

For each case a float burst and a memristorch burst of ``--steps`` steps alternate ``--repeats`` times (the float
burst right before its memristorch burst, so both see the same machine state). The script prints the median ratio
memristorch / float and its range over repeats, the share of devices pulsed per step (in-situ cases), and the bytes
of device state per weight. ``--json PATH`` also writes them. ``--device cuda`` runs the same cases on a GPU.
Run: ``python benchmarks/bench_cases.py [--steps 20] [--repeats 5] [--cases mlp-insitu-soft ...]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import memristorch as mt
from memristorch.nn.packed import PackedBNN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bnn import build as build_bnn  # noqa: E402  (the BNN of benchmarks/bench_bnn.py)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 10),
    )  # fmt: skip


def big_layer() -> nn.Module:
    return nn.Sequential(nn.Linear(1024, 1024))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _train_step(model: nn.Module, optimizer, x, y, loss="ce"):
    def step():
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        (F.cross_entropy(out, y) if loss == "ce" else F.mse_loss(out, y)).backward()
        optimizer.step()

    return step


def _infer_step(model: nn.Module, x):
    model.eval()

    def step():
        with torch.no_grad():
            model(x)

    return step


def build_case(name: str, device: torch.device) -> tuple[Callable, Callable, nn.Module | None, str]:
    """(float step, memristorch step, the memristorch model, what is measured) of one case."""
    torch.manual_seed(0)
    noisy = mt.PeripheryConfig(read_noise=True)

    def config(preset="soft-bounds", periphery=noisy):
        return mt.TileConfig(device=preset, cell="differential", periphery=periphery)

    if name in ("mlp-insitu-soft", "mlp-insitu-soft-lr1", "mlp-insitu-linear", "mlp-hwa"):
        x, y = torch.rand(64, 784, device=device), torch.randint(0, 10, (64,), device=device)
        reference = mlp().to(device)
        chip = mt.convert(mlp(), config("linear" if name == "mlp-insitu-linear" else "soft-bounds")).to(
            device
        )
        lr = 1.0 if name.endswith("lr1") else 0.1  # lr 1: more devices pulsed per step
        float_step = _train_step(reference, torch.optim.SGD(reference.parameters(), lr=lr), x, y)
        if name == "mlp-hwa":  # noisy forward through the tiles, float update of the mirrors
            return (
                float_step,
                _train_step(chip, torch.optim.SGD(chip.parameters(), lr=0.1), x, y),
                chip,
                "train",
            )
        return float_step, _train_step(chip, mt.InSituSGD(chip.parameters(), lr=lr), x, y), chip, "train"
    if name in ("mlp-infer-noise", "mlp-infer-dac-adc"):
        x = torch.rand(256, 784, device=device)
        periphery = mt.PeripheryConfig(dac_bits=8, adc_bits=8) if name == "mlp-infer-dac-adc" else noisy
        chip = mt.convert(mlp(), config(periphery=periphery)).to(device)
        if name == "mlp-infer-dac-adc":
            mt.calibrate(chip, [x])
        return _infer_step(mlp().to(device), x), _infer_step(chip, x), chip, "infer"
    if name in ("layer-1024-lr0.1", "layer-1024-lr1"):
        lr = 0.1 if name.endswith("0.1") else 1.0
        x, y = torch.rand(256, 1024, device=device), torch.rand(256, 1024, device=device)
        reference = big_layer().to(device)
        chip = mt.convert(big_layer(), config()).to(device)
        float_step = _train_step(reference, torch.optim.SGD(reference.parameters(), lr=lr), x, y, "mse")
        return (
            float_step,
            _train_step(chip, mt.InSituSGD(chip.parameters(), lr=lr), x, y, "mse"),
            chip,
            "train",
        )
    if name == "cnn-insitu":
        x, y = torch.rand(64, 1, 28, 28, device=device), torch.randint(0, 10, (64,), device=device)
        reference = cnn().to(device)
        chip = mt.convert(cnn(), config()).to(device)
        float_step = _train_step(reference, torch.optim.SGD(reference.parameters(), lr=0.1), x, y)
        return float_step, _train_step(chip, mt.InSituSGD(chip.parameters(), lr=0.1), x, y), chip, "train"
    if name in ("bnn-packed-10000", "bnn-packed-1"):  # packed XNOR-popcount vs float evaluation of one BNN
        if device.type != "cpu":
            raise SystemExit(f"{name}: PackedBNN's compiled kernels run on the CPU only")
        generator = torch.Generator().manual_seed(0)
        model = build_bnn([1024, 1024], "binary", generator)
        x = torch.rand(10_000 if name.endswith("10000") else 1, 784, generator=generator) - 0.5
        packed = PackedBNN(model, threads=torch.get_num_threads())
        with torch.no_grad():
            equal = torch.equal(packed(x), model(x))
        if not equal:
            raise AssertionError(f"{name}: packed logits differ from the float network's")
        return _infer_step(model, x), lambda: packed(x), packed, "packed"
    raise ValueError(f"unknown case {name!r}; cases: {', '.join(CASES)}")


CASES = (
    "mlp-insitu-soft",
    "mlp-insitu-soft-lr1",
    "mlp-insitu-linear",
    "mlp-hwa",
    "mlp-infer-noise",
    "mlp-infer-dac-adc",
    "layer-1024-lr0.1",
    "layer-1024-lr1",
    "cnn-insitu",
    "bnn-packed-10000",
    "bnn-packed-1",
)
# a batch of 10,000 takes ~0.25 s in float: a tenth of the steps per burst
BURST_SCALE = {"bnn-packed-10000": 0.1}


def _burst(step: Callable, steps: int, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def _state_bytes_per_weight(model) -> float:
    if isinstance(model, PackedBNN):  # bits the array stores per weight
        weights = sum(layer.layer.weight.numel() for layer in model.layers)
        return model.memory_bits() / 8 / weights
    tiles = list(mt.nn.tiles(model))
    weights = sum(t.effective_weight().numel() for t in tiles)
    state = sum(
        b.numel() * b.element_size() for t in tiles for n, b in t.named_buffers() if "device_state" in n
    )
    return state / weights


def run_case(name: str, steps: int, repeats: int, device: torch.device) -> dict:
    float_step, chip_step, chip, kind = build_case(name, device)
    for step in (float_step, chip_step):  # warm-up: allocations, first-call costs
        for _ in range(3):
            step()
    steps = max(1, round(steps * BURST_SCALE.get(name, 1.0)))
    pulses_before = mt.summarize(chip)["pulses"] if kind == "train" else 0
    ratios = []
    for _ in range(repeats):
        float_time = _burst(float_step, steps, device)
        chip_time = _burst(chip_step, steps, device)
        ratios.append(chip_time / float_time)
    pulsed = None
    if kind == "train" and name != "mlp-hwa":
        ledger = mt.summarize(chip)
        pulsed = (ledger["pulses"] - pulses_before) / (steps * repeats) / ledger["devices"]
    return {
        "case": name,
        "median_ratio": statistics.median(ratios),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "pulses_per_device_per_step": pulsed,
        "state_bytes_per_weight": _state_bytes_per_weight(chip),
        "repeats": repeats,
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is present")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device on this machine")
    torch.set_num_threads(args.threads)
    results = []
    print(
        f"{'case':20s} {'memristorch/float':>18s} {'range':>15s} {'pulses/device/step':>19s} {'state B/weight':>15s}"
    )
    for name in args.cases:
        r = run_case(name, args.steps, args.repeats, device)
        results.append(r)
        pulsed = "—" if r["pulses_per_device_per_step"] is None else f"{r['pulses_per_device_per_step']:.3f}"
        print(
            f"{name:20s} {r['median_ratio']:17.2f}x {r['min_ratio']:7.2f}–{r['max_ratio']:<6.2f} "
            f"{pulsed:>19s} {r['state_bytes_per_weight']:15.1f}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump({"device": str(device), "threads": args.threads, "results": results}, handle, indent=2)


if __name__ == "__main__":
    main()
