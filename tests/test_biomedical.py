"""ECG/EEG biosignal BNN studies: the data protocol, the memory rule, the scores, and the pipeline at small scale."""

import numpy as np
import pytest
import torch

from memristorch.data import eeg as eeg_data
from memristorch.data.ecg import DS1, DS2, PACED, annotation_counts, load_beats, rr_features
from memristorch.experiments import get_experiment
from memristorch.experiments.biomedical import ecg as ecg_study
from memristorch.experiments.biomedical.metrics import confusion_matrix, scores
from memristorch.experiments.biomedical.mobilenet import accounting
from memristorch.experiments.biomedical.networks import BiosignalCNN
from memristorch.nn.memory import memory_bits, total_bits
from memristorch.runner.study import execute

from .conftest import require_files

# de Chazal et al. 2004 split, every .atr decoded (the beat-count table of the study's reference)
DS1_COUNTS = {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8}
DS2_COUNTS = {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7}


def test_inter_patient_split_has_the_published_beat_counts():
    assert require_files(lambda: annotation_counts(DS1)) == DS1_COUNTS
    assert annotation_counts(DS2) == DS2_COUNTS
    assert not set(DS1) & set(DS2) and not (set(DS1) | set(DS2)) & set(PACED)


def test_no_test_record_reaches_training():
    config = ecg_study.ECGBNNConfig()
    task, train, test = require_files(lambda: ecg_study.build_task(config))
    assert set(train.record.tolist()) == set(DS1)
    assert set(test.record.tolist()) == set(DS2)
    # the training tensors of the task are exactly those beats, nothing appended from DS2
    assert torch.equal(task.x_train, train.x) and len(task.y_train) == len(train)
    # windows lose at most a beat or two at each record's ends
    counts = train.counts()
    assert all(0 <= DS1_COUNTS[c] - counts[c] <= 2 * len(DS1) for c in counts)


def test_overlapping_records_are_refused():
    config = ecg_study.ECGBNNConfig(train_records=[101, 100], test_records=[100])
    with pytest.raises(ValueError, match="share records \\[100\\]"):
        ecg_study.build_task(config)


def test_rr_features_flag_a_premature_beat():
    positions = np.arange(20) * 360  # 1 s rhythm
    positions[10] -= 120  # beat 10 comes 1/3 s early
    rr = rr_features(positions, local_beats=10)
    assert np.allclose(rr[3, :3], 1.0, atol=0.01)
    assert rr[10, 0] < 0.7 and rr[10, 1] > 1.3 and rr[10, 3] < 0.7


def test_beats_are_cut_around_the_annotation():
    beats = require_files(lambda: load_beats([100]))
    assert beats.x.shape[1] == 126  # 0.7 s at 180 Hz
    # the R peak of normal beats sits at 0.25 s into the window: the mean beat peaks there
    mean = beats.x[beats.y == 0].mean(0)
    assert abs(int(mean.argmax()) - 45) <= 3


def test_memory_rule_counts_bits_per_layer():
    # ×1 ECG network: conv 1→2 (k3), conv 2→4 (k3), input 16 → 4 after two pools; dense 16+3 → 5 → 5 classes
    shapes = dict(length=16, n_classes=5, channels=[2, 4], kernels=[3, 3], hidden=5, n_extra=3)
    real = BiosignalCNN("float", **shapes)
    conv = 2 * 3 + 4 * 2 * 3
    dense = (4 * 4 + 3) * 5
    out = 5 * 5 + 5
    bn = 2 * (2 + 4 + 5)  # scale and shift per channel
    assert total_bits(real) == 32 * (conv + dense + out + bn)
    half = BiosignalCNN("classifier-binary", **shapes)
    assert total_bits(half) == 32 * conv + (dense + 5 * 5) + 32 * 2 * (2 + 4 + 5 + 5)
    full = BiosignalCNN("full-binary", **shapes)
    assert total_bits(full) == conv + dense + 5 * 5 + 32 * 2 * (2 + 4 + 5 + 5)
    assert {r.kind for r in memory_bits(full)} == {"binary", "batch-norm"}


def test_mobilenet_v1_matches_the_published_size():
    numbers = accounting()
    assert abs(numbers["parameters_relative_to_published"]) < 0.01
    assert 0.23 < numbers["classifier_parameter_share"] < 0.25
    # binarizing MobileNet's classifier saves about a quarter, not the bulk
    assert 0.2 < numbers["classifier_binary_memory_cut"] < 0.26


def test_scores_on_a_known_confusion():
    y = torch.tensor([0] * 8 + [1] * 2)
    p = torch.tensor([0] * 7 + [1] + [1, 0])
    c = confusion_matrix(y, p, 2)
    assert c.tolist() == [[7, 1], [1, 1]]
    s = scores(c, ("N", "S"), f1_over=[("N", "S")])
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["sensitivity"]["S"] == pytest.approx(0.5) and s["predictivity"]["S"] == pytest.approx(0.5)
    assert s["balanced_accuracy"] == pytest.approx((7 / 8 + 0.5) / 2)
    assert s["macro_f1_NS"] == pytest.approx((2 * 7 / 8 * 7 / 8 / (7 / 4) + 0.5) / 2)


def test_eeg_split_is_by_segment():
    test, train = eeg_data.split_segments(0.2, seed=0)
    assert len(test) == 20 and len(train) == 80 and not set(test) & set(train)
    segments = np.arange(3 * 20, dtype=float).reshape(3, 20)
    windows, owner = eeg_data.cut_windows(segments, 8, 4)
    assert windows.shape == (3 * 4, 8) and owner.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.equal(windows[4], torch.arange(20, 28, dtype=torch.float32))


def test_eeg_a_vs_e_is_learned_at_small_scale(tmp_path):
    """A float ×1 CNN separates healthy from ictal test segments after two epochs (pipeline end to end)."""
    require_files(eeg_data.load_bonn)
    spec = get_experiment("eeg-bnn")
    config = spec.config(
        tasks=["A-E"], variants=["float", "full-binary"], replicates=1, epochs=2, iid_bers=[0.5], conditions=2
    )
    results, _ = execute(spec, config, tmp_path / "run")
    networks = results.summary["A-E"]["networks"]
    assert networks["float-x1"]["segment_accuracy"]["mean"] >= 0.95
    # a binary network storing weights at BER 0.5 (coin flips) is at chance: the chip path reaches the weights
    drop = results.summary["A-E"]["chip"]["full-binary-x1"]["drop_at_iid_ber"]["0.5"]["mean"]
    assert drop > 0.25
    assert networks["full-binary-x1"]["memory_bits"] < networks["float-x1"]["memory_bits"] / 10
