"""Reading a trained model's results: the report as rows, probability gaps, reliability,
the images of one confusion-matrix cell. Pure functions of a TrainResult."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.calibration import calibration_curve

from core.learn.config import TrainingError
from core.learn.train import TrainResult


def report_rows(report: dict) -> list[dict]:
    """The classification report as table rows, in the order sklearn prints it. The
    accuracy row has no precision or recall (None: the page prints it blank, as sklearn does)."""
    rows = []
    for name, v in report.items():
        if name == "accuracy":
            support = report.get("macro avg", {}).get("support")
            rows.append(
                {"": "accuracy", "precision": None, "recall": None, "f1-score": float(v), "support": support}
            )
        else:
            rows.append(
                {
                    "": name,
                    "precision": v["precision"],
                    "recall": v["recall"],
                    "f1-score": v["f1-score"],
                    "support": v["support"],
                }
            )
    return rows


def printed_report_rows(report: dict) -> list[dict]:
    """The report's rows as classification_report prints them: two decimals, whole
    supports, and the accuracy row's precision and recall blank."""
    return [
        {
            k: (
                f"{v:.2f}"
                if isinstance(v, float) and k != "support"
                else ""
                if v is None
                else str(int(v))
                if k == "support"
                else v
            )
            for k, v in row.items()
        }
        for row in report_rows(report)
    ]


def probability_gaps(proba: np.ndarray | None) -> np.ndarray:
    """Max probability minus the next one: how sure the model is of its answer."""
    if proba is None or len(proba) == 0:
        return np.zeros(0)
    top2 = np.sort(proba, axis=1)[:, -2:]  # (n, 2)
    return top2[:, 1] - top2[:, 0]


def gap_sentence(gap_train: np.ndarray, gap_test: np.ndarray) -> str:
    """The post's reader asked whether sampling training images flatters the model: the
    answer in words, drawn from these numbers."""
    if not len(gap_train) or not len(gap_test):
        return ""
    a, b = float(np.mean(gap_train)), float(np.mean(gap_test))
    text = f"Mean gap: {a:.2f} on training images, {b:.2f} on test images. "
    if abs(a - b) < 0.02:
        return text + (
            "About the same: its answers are hardly more decided on the images it was trained on, "
            "so drawing the post's samples from the training set flatters its confidence little here "
            "(the gap says how decided an answer is, not whether it is right: the accuracies above "
            "say that)."
        )
    if a > b:
        return text + (
            f"It is surer of images it was trained on (by {a - b:.2f}): samples drawn from the "
            "training set, as in the post, make it look more confident than it is on new images."
        )
    return text + "It is surer of the test images than of its training images: chance, with this few images."


@dataclass(frozen=True)
class GapSample:
    row: int  # row of the result's y / paths
    path: str | None
    actual: str
    predicted: str
    probabilities: dict[str, float]  # class -> probability
    gap: float


def sample_gaps(result: TrainResult, part: str = "train", n: int = 5, seed: int = 0) -> list[GapSample]:
    """n random images of the training (as the post) or test set with their probabilities."""
    if result.proba_train is None:
        raise TrainingError("A hinge-loss (SVM) model gives scores, not probabilities.")
    rows, proba, pred = (
        (result.train_idx, result.proba_train, result.pred_train)
        if part == "train"
        else (result.test_idx, result.proba_test, result.pred_test)
    )
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    gaps = probability_gaps(proba)
    return [
        GapSample(
            row=int(rows[i]),
            path=result.paths[int(rows[i])] if result.paths else None,
            actual=result.classes[result.y[int(rows[i])]],
            predicted=result.classes[pred[i]],
            probabilities={c: float(p) for c, p in zip(result.classes, proba[i])},
            gap=float(gaps[i]),
        )
        for i in picks
    ]


def reliability(result: TrainResult, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary only: (mean predicted probability, observed frequency, count) per bin,
    for the second class (the one the single score z favours)."""
    if len(result.classes) != 2 or result.proba_test is None:
        raise TrainingError("A reliability plot needs a binary model with probabilities.")
    y_true = result.y[result.test_idx] == 1
    p = result.proba_test[:, 1]
    frac, mean_p = calibration_curve(y_true, p, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0, 1, n_bins + 1)
    counts = np.histogram(p, bins=edges)[0]
    return mean_p, frac, counts[counts > 0]


def cell_rows(
    result: TrainResult, actual: str, predicted: str, pred_test: np.ndarray | None = None
) -> np.ndarray:
    """Rows of the test images in one confusion-matrix cell (pred_test: another epoch's)."""
    a, p = result.classes.index(actual), result.classes.index(predicted)
    te = result.test_idx
    pred = result.pred_test if pred_test is None else pred_test
    return te[(result.y[te] == a) & (pred == p)]
