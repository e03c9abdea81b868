"""MIT-BIH Arrhythmia Database beats for the AAMI inter-patient protocol.

The records are found through the one data setting, at ``<data dir>/ecg/mitdb/``: one lead per record as
xz-compressed little-endian int16 ADC samples ``<rec>_<LEAD>.i16.xz`` (360 Hz, 200 adu/mV, baseline 1024) beside the
original ``<rec>.atr`` reference annotations, read with ``wfdb.rdann`` (Moody & Mark, IEEE EMB Mag. 2001; PhysioNet).

Beat labels are grouped into the five AAMI classes (ANSI/AAMI EC57): N = {N, L, R, e, j}, S = {A, a, J, S},
V = {V, E}, F = {F}, Q = {/, f, Q}. The inter-patient split is that of de Chazal, O'Dwyer & Reilly (IEEE TBME 51(7),
2004): train on DS1, test on DS2, the paced records 102, 104, 107 and 217 in neither.

Each beat is a window cut around its annotated R position from the band-passed lead, plus four RR-interval features
that the protocol allows beside morphology: previous, next and local-average RR, each divided by the record's mean RR,
and previous over local RR (prematurity). Normalising by the record's own mean uses no label, only the record.
"""

from __future__ import annotations

import hashlib
import json
import lzma
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from .datasets import cache_dir, data_dir, missing_data

SAMPLING_HZ = 360.0
ADC_GAIN = 200.0
ADC_BASELINE = 1024
DS1 = (
    101,
    106,
    108,
    109,
    112,
    114,
    115,
    116,
    118,
    119,
    122,
    124,
    201,
    203,
    205,
    207,
    208,
    209,
    215,
    220,
    223,
    230,
)
DS2 = (
    100,
    103,
    105,
    111,
    113,
    117,
    121,
    123,
    200,
    202,
    210,
    212,
    213,
    214,
    219,
    221,
    222,
    228,
    231,
    232,
    233,
    234,
)
PACED = (102, 104, 107, 217)
AAMI_CLASSES = ("N", "S", "V", "F", "Q")
AAMI_GROUPS = {
    "N": "N",
    "L": "N",
    "R": "N",
    "e": "N",
    "j": "N",
    "A": "S",
    "a": "S",
    "J": "S",
    "S": "S",
    "V": "V",
    "E": "V",
    "F": "F",
    "/": "Q",
    "f": "Q",
    "Q": "Q",
}
_WHERE = "the repository's ../shared/data/ecg/mitdb (set MEMRISTORCH_DATA=../shared/data)"


@dataclass(frozen=True)
class BeatWindow:
    """How beats are cut and normalised (all stated in the study's config)."""

    before_s: float = 0.25
    """Window start before the R annotation (s)."""
    after_s: float = 0.45
    """Window end after the R annotation (s)."""
    band_hz: tuple[float, float] = (0.5, 40.0)
    """Zero-phase 2nd-order Butterworth band-pass: removes baseline wander and mains/muscle noise."""
    downsample: int = 2
    """Keep every n-th sample after the band-pass (2: 180 Hz, well above twice the 40 Hz band edge)."""
    normalisation: Literal["beat", "record"] = "beat"
    """beat: each window to zero mean and unit std; record: divide by the std of the record's filtered lead."""
    local_rr_beats: int = 10
    """Beats in the centred moving average that gives the local RR."""

    def __post_init__(self) -> None:
        low, high = self.band_hz
        if not (0 <= low < high < SAMPLING_HZ / 2):
            raise ValueError(f"band_hz must satisfy 0 ≤ low < high < {SAMPLING_HZ / 2}; got {self.band_hz}")
        if self.before_s < 0 or self.after_s <= 0 or self.before_s + self.after_s > 2.0:
            raise ValueError(
                f"before_s ≥ 0, after_s > 0 and their sum ≤ 2 s; got {self.before_s}, {self.after_s}"
            )
        if not 1 <= self.downsample <= 8:
            raise ValueError(f"downsample must be in [1, 8]; got {self.downsample}")
        if high > SAMPLING_HZ / (2 * self.downsample):
            raise ValueError(
                f"band_hz high edge {high} Hz exceeds the Nyquist frequency after downsample={self.downsample}"
            )
        if self.normalisation not in ("beat", "record"):
            raise ValueError(f"normalisation must be 'beat' or 'record'; got {self.normalisation!r}")
        if not 1 <= self.local_rr_beats <= 1000:
            raise ValueError(f"local_rr_beats must be in [1, 1000]; got {self.local_rr_beats}")


@dataclass(frozen=True)
class Beats:
    """Beats of some records: windows ``x`` (n, samples), RR features ``rr`` (n, 4), AAMI labels, provenance."""

    x: torch.Tensor
    rr: torch.Tensor
    y: torch.Tensor
    record: torch.Tensor
    sample: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        return {c: int((self.y == i).sum()) for i, c in enumerate(AAMI_CLASSES)}


def mitdb_folder(explicit=None) -> Path:
    root = data_dir(explicit)
    folder = root / "ecg" / "mitdb" if root is not None else None
    if folder is None or not (folder / "RECORDS").is_file():
        raise missing_data("mitdb", folder, _WHERE)
    return folder


def _check_records(records) -> tuple[int, ...]:
    known = set(DS1) | set(DS2) | set(PACED)
    records = tuple(int(r) for r in records)
    unknown = [r for r in records if r not in known]
    if unknown or not records:
        raise ValueError(f"records must be MIT-BIH record numbers (100–234); got {unknown or 'none'}")
    return records


def read_lead(folder: Path, record: int) -> tuple[np.ndarray, str]:
    """The stored lead of ``record`` in millivolts (float64) and its name (MLII, or V5 for 102 and 104)."""
    files = sorted(folder.glob(f"{record}_*.i16.xz"))
    if len(files) != 1:
        raise missing_data(f"mitdb record {record}", folder, _WHERE)
    adu = np.frombuffer(lzma.open(files[0]).read(), "<i2")
    return (adu.astype(np.float64) - ADC_BASELINE) / ADC_GAIN, files[0].name.split("_")[1].split(".")[0]


def read_beat_annotations(folder: Path, record: int) -> tuple[np.ndarray, np.ndarray]:
    """R positions (samples) and AAMI class indices of every beat annotation of ``record`` that has an AAMI class."""
    try:
        import wfdb
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("reading MIT-BIH annotations needs wfdb: pip install 'memristorch[ecg]'") from error
    path = folder / f"{record}.atr"
    if not path.is_file():
        raise missing_data(f"mitdb annotations {record}.atr", folder, _WHERE)
    annotation = wfdb.rdann(str(folder / str(record)), "atr")
    symbols = np.asarray(annotation.symbol)
    keep = np.isin(symbols, list(AAMI_GROUPS))
    labels = np.array([AAMI_CLASSES.index(AAMI_GROUPS[s]) for s in symbols[keep]], dtype=np.int64)
    return np.asarray(annotation.sample)[keep].astype(np.int64), labels


def annotation_counts(records, explicit=None) -> dict[str, int]:
    """AAMI class counts over the annotations of ``records`` (every beat, before any window is cut)."""
    folder = mitdb_folder(explicit)
    totals = np.zeros(len(AAMI_CLASSES), dtype=np.int64)
    for record in _check_records(records):
        totals += np.bincount(read_beat_annotations(folder, record)[1], minlength=len(AAMI_CLASSES))
    return dict(zip(AAMI_CLASSES, totals.tolist(), strict=True))


def rr_features(positions: np.ndarray, local_beats: int) -> np.ndarray:
    """(n, 4) RR features of beats at ``positions``: previous, next, local-average RR over the record mean, and
    previous over local (edge beats borrow their one existing neighbour interval)."""
    if len(positions) < 2:
        raise ValueError("RR features need at least two beats in a record")
    rr = np.diff(positions).astype(np.float64) / SAMPLING_HZ
    pre = np.concatenate([rr[:1], rr])
    post = np.concatenate([rr, rr[-1:]])
    kernel = min(local_beats, len(pre))
    padded = np.pad(pre, (kernel // 2, kernel - 1 - kernel // 2), mode="edge")
    local = np.convolve(padded, np.ones(kernel) / kernel, mode="valid")
    mean = rr.mean()
    return np.stack([pre / mean, post / mean, local / mean, pre / local], axis=1)


def _record_beats(folder: Path, record: int, window: BeatWindow) -> dict[str, np.ndarray]:
    from scipy.signal import butter, sosfiltfilt

    lead, _ = read_lead(folder, record)
    low, high = window.band_hz
    if low > 0:
        sos = butter(2, [low, high], btype="bandpass", fs=SAMPLING_HZ, output="sos")
    else:
        sos = butter(2, high, btype="lowpass", fs=SAMPLING_HZ, output="sos")
    filtered = sosfiltfilt(sos, lead)
    positions, labels = read_beat_annotations(folder, record)
    rr = rr_features(positions, window.local_rr_beats)
    before = int(round(window.before_s * SAMPLING_HZ))
    after = int(round(window.after_s * SAMPLING_HZ))
    inside = (positions - before >= 0) & (positions + after <= len(filtered))
    offsets = np.arange(-before, after, window.downsample)
    x = filtered[positions[inside, None] + offsets[None, :]]
    if window.normalisation == "beat":
        x = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-6)
    else:
        x = x / (filtered.std() + 1e-6)
    return {
        "x": x.astype(np.float32),
        "rr": rr[inside].astype(np.float32),
        "y": labels[inside],
        "sample": positions[inside],
    }


def _cache_key(folder: Path, record: int, window: BeatWindow) -> str:
    stamp = {
        "record": record,
        "window": repr(window),
        "sizes": [p.stat().st_size for p in sorted(folder.glob(f"{record}[._]*"))],
        "format": 1,
    }
    return hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:16]


def load_beats(records, window: BeatWindow | None = None, explicit=None) -> Beats:
    """Beats of ``records`` (in the given order), cut as ``window`` says; decoded once and cached per record.

    Beats whose window would run past either end of the record are left out (a handful per record).
    """
    window = window if window is not None else BeatWindow()
    folder = mitdb_folder(explicit)
    cache = cache_dir("mitdb-beats")
    parts = []
    for record in _check_records(records):
        path = cache / f"{record}-{_cache_key(folder, record, window)}.npz"
        if path.is_file():
            with np.load(path) as stored:
                part = {k: stored[k] for k in stored.files}
        else:
            part = _record_beats(folder, record, window)
            cache.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp.npz")
            np.savez(temporary, **part)
            temporary.replace(path)
        part["record"] = np.full(len(part["y"]), record, dtype=np.int64)
        parts.append(part)
    joined = {k: np.concatenate([p[k] for p in parts]) for k in ("x", "rr", "y", "record", "sample")}
    return Beats(**{k: torch.from_numpy(v) for k, v in joined.items()})
