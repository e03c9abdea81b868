"""The Bonn epilepsy EEG set (Andrzejak et al., Phys. Rev. E 64, 061907, 2001): five sets × 100 segments.

Found through the one data setting at ``<data dir>/eeg/bonn/``: one xz-compressed little-endian int16 array per set,
100 × 4,097 samples at 173.61 Hz (row k = file k + 1). Sets: A (surface, healthy, eyes open), B (eyes closed),
C (intracranial, seizure-free, opposite hemisphere), D (seizure-free, epileptogenic zone), E (ictal).
Windows cut from one segment are strongly correlated, so splits are made by segment, before windows are cut.
"""

from __future__ import annotations

import lzma

import numpy as np
import torch

from .datasets import data_dir, missing_data

SAMPLING_HZ = 173.61
SETS = {"A": "Z", "B": "O", "C": "N", "D": "F", "E": "S"}
SEGMENTS_PER_SET = 100
SEGMENT_SAMPLES = 4097
_WHERE = "the repository's ../shared/data/eeg/bonn (set MEMRISTORCH_DATA=../shared/data)"


def load_bonn(explicit=None) -> dict[str, np.ndarray]:
    """Every set as a (100, 4097) float64 array of the published integer amplitudes."""
    root = data_dir(explicit)
    folder = root / "eeg" / "bonn" if root is not None else None
    out = {}
    for name, letter in SETS.items():
        path = folder / f"{name}_{letter}.i16.xz" if folder is not None else None
        if path is None or not path.is_file():
            raise missing_data("bonn-eeg", folder, _WHERE)
        raw = np.frombuffer(lzma.open(path).read(), "<i2")
        if raw.size != SEGMENTS_PER_SET * SEGMENT_SAMPLES:
            raise ValueError(f"{path}: expected {SEGMENTS_PER_SET}×{SEGMENT_SAMPLES} samples, got {raw.size}")
        out[name] = raw.reshape(SEGMENTS_PER_SET, SEGMENT_SAMPLES).astype(np.float64)
    return out


def lowpass(segments: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass along the last axis (Andrzejak et al. 2001 low-pass at 40 Hz)."""
    from scipy.signal import butter, sosfiltfilt

    if not 0 < cutoff_hz < SAMPLING_HZ / 2:
        raise ValueError(f"cutoff_hz must be in (0, {SAMPLING_HZ / 2}); got {cutoff_hz}")
    return sosfiltfilt(butter(4, cutoff_hz, fs=SAMPLING_HZ, output="sos"), segments, axis=-1)


def split_segments(test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Segment indices (0–99) of the test and training part, the same for every set (stratified by set)."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
    order = np.random.default_rng(seed).permutation(SEGMENTS_PER_SET)
    n_test = max(1, int(round(test_fraction * SEGMENTS_PER_SET)))
    return np.sort(order[:n_test]), np.sort(order[n_test:])


def cut_windows(segments: np.ndarray, length: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows (n_segments · per_segment, length) and the row of ``segments`` each came from."""
    if not 1 <= length <= segments.shape[1] or stride < 1:
        raise ValueError(
            f"window length must be in [1, {segments.shape[1]}] and stride ≥ 1; got {length}, {stride}"
        )
    starts = np.arange(0, segments.shape[1] - length + 1, stride)
    windows = segments[:, starts[:, None] + np.arange(length)[None, :]]
    owner = np.repeat(np.arange(len(segments)), len(starts))
    return torch.from_numpy(windows.reshape(-1, length).astype(np.float32)), torch.from_numpy(owner)
