"""Classification scores for unbalanced medical classes: confusion matrix, sensitivity, positive predictivity, F1.

Sensitivity (recall) of class c = TP/(TP+FN); positive predictivity (precision) = TP/(TP+FP); F1 their harmonic mean;
balanced accuracy the mean sensitivity over the classes present in the reference labels (AAMI EC57 reporting; de
Chazal et al., IEEE TBME 2004). A class never predicted has predictivity 0 by convention here (so F1 = 0), not NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> np.ndarray:
    """Counts with rows = reference class, columns = predicted class."""
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {tuple(y_true.shape)} vs {tuple(y_pred.shape)}")
    index = y_true.long() * n_classes + y_pred.long()
    return torch.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes).numpy()


def scores(confusion: np.ndarray, classes: Sequence[str], f1_over: Sequence[Sequence[str]] = ()) -> dict:
    """Overall and balanced accuracy, per-class sensitivity/predictivity/F1, and macro-F1 over each class group."""
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(confusion)
    reference = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    sensitivity = np.divide(tp, reference, out=np.zeros_like(tp), where=reference > 0)
    predictivity = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denominator = sensitivity + predictivity
    f1 = np.divide(2 * sensitivity * predictivity, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = reference > 0
    out = {
        "accuracy": float(tp.sum() / confusion.sum()),
        "balanced_accuracy": float(sensitivity[present].mean()),
        "sensitivity": dict(zip(classes, sensitivity.tolist(), strict=True)),
        "predictivity": dict(zip(classes, predictivity.tolist(), strict=True)),
        "f1": dict(zip(classes, f1.tolist(), strict=True)),
    }
    for group in f1_over:
        out["macro_f1_" + "".join(group)] = float(np.mean([f1[list(classes).index(c)] for c in group]))
    return out
