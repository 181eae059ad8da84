"""Classifying an uploaded image with a trained model, and saying why.

Every file is judged on its own: a bad one gets a reason a person can act on and
the rest of the batch is still classified. The features are computed with the
model's own bins, decode mode and feature map, so a model trained with other
settings than today's defaults still sees what it was trained on.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from core.images import ImageError, color_histogram, decode_image, thumbnail, upload_problem
from core.learn.model import KINDS, SavedModel
from core.softmax import cross_entropy, post_table

UPLOAD_TYPES = ("jpg", "jpeg", "png", "bmp", "webp")
NOT_SURE = "not sure"


# ---------------------------------------------------------------- one image


@dataclass
class ImageResult:
    name: str
    thumbnail: bytes | None = None  # JPEG of the upright image, its longer side at most 480 px
    hist: np.ndarray | None = None  # (prod(bins),) the raw colour histogram the model saw
    scores: np.ndarray | None = None  # (K,) class scores W.x + b; a binary model's are [0, z]
    probabilities: np.ndarray | None = None  # (K,) the model's predict_proba; None for a hinge model
    predicted: str | None = None  # the class with the highest score
    error: str | None = None
    seconds: float = 0.0  # decode + features + model, for the benchmark

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def confidence(self) -> float | None:
        """The winning class's probability (None: an error, or a model without probabilities)."""
        return None if self.probabilities is None else float(self.probabilities.max())

    def answer(self, threshold: float) -> str:
        """The predicted class, or "not sure" when its probability is below the threshold."""
        if not self.ok:
            return "error"
        if self.confidence is not None and self.confidence < threshold:
            return NOT_SURE
        return self.predicted


def classify_one(model: SavedModel, name: str, data: bytes) -> ImageResult:
    """Decode, describe with the model's own feature settings, score. Never raises on bad input."""
    start = time.perf_counter()
    result = ImageResult(name=name)
    result.error = upload_problem(name, data)
    if result.error:
        return result
    try:
        image = decode_image(data, fast=model.fast)  # (h, w, 3) BGR uint8, EXIF-rotated
        result.hist = color_histogram(image, bins=model.bins)  # (prod(bins),) float32
    except ImageError as exc:
        result.error = str(exc)
        return result
    except (cv2.error, MemoryError, ValueError) as exc:  # a decoder's own failure: still one file's problem
        result.error = f"could not be read ({type(exc).__name__})"
        return result
    result.scores = model.class_scores(result.hist)[0]  # (K,)
    if model.has_probabilities:
        result.probabilities = model.predict_proba(result.hist)[0]  # (K,)
    result.predicted = model.classes[int(result.scores.argmax())]
    result.thumbnail = thumbnail(image)  # None if it cannot be encoded: the page says so
    result.seconds = time.perf_counter() - start
    return result


def classify_batch(model: SavedModel, files: Iterable[tuple[str, bytes]]) -> list[ImageResult]:
    return [classify_one(model, name, data) for name, data in files]


# ---------------------------------------------------------------- many images


def most_confident_first(results: Sequence[ImageResult]) -> list[int]:
    """Indices of the classified results, most confident first (ties, and a model without
    probabilities: in the given order). The table and the page's cards share this order."""
    ok = [i for i, r in enumerate(results) if r.ok]
    known = [i for i in ok if results[i].confidence is not None]
    unknown = [i for i in ok if results[i].confidence is None]
    return sorted(known, key=lambda i: -results[i].confidence) + unknown


def results_table(results: Sequence[ImageResult], classes: Sequence[str], threshold: float) -> pd.DataFrame:
    """One row per image that was classified, most confident first: the answer and each
    class's probability first (what a narrow screen shows), then the confidence bar.
    Files that could not be classified are not rows: each has its own message."""
    rows = []
    for r in (results[i] for i in most_confident_first(results)):
        row = {"file": r.name, "answer": r.answer(threshold)}
        for i, c in enumerate(classes):
            row[f"p({c})"] = None if r.probabilities is None else float(r.probabilities[i])
        row["confidence"], row["most likely"] = r.confidence, r.predicted
        rows.append(row)
    df = pd.DataFrame(
        rows, columns=["file", "answer", *[f"p({c})" for c in classes], "confidence", "most likely"]
    )
    return df


def table_csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.6f")
    return buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------- why


def probability_note(model: SavedModel) -> str:
    """What this model's probabilities are, in the post's terms."""
    k = len(model.classes)
    if not model.has_probabilities:
        return (
            "This is a hinge-loss model (the Linear SVM the post compares with): it gives "
            "scores W.x + b but no probabilities, so the page ranks classes by score and the "
            "confidence threshold does not apply."
        )
    if model.is_binary:
        a, b = model.classes
        return (
            f"A binary model has a single score z = W.x + b for '{b}'. Its probabilities are "
            f"exactly the softmax of the two scores [0, z]: p({b}) = e^z / (e^0 + e^z) = "
            f"sigmoid(z), p({a}) = 1 - p({b})."
        )
    if model.kind == "multinomial":
        return (
            f"A multinomial model: the {k} probabilities are exactly the softmax of the {k} "
            "scores, as on the Explain page."
        )
    return (
        f"With {k} classes, the post's SGDClassifier trains one logistic regression per class "
        f"(one-vs-rest) and normalises their {k} sigmoids to sum to 1. That is not a softmax: the "
        "model's probabilities differ from the softmax of its scores shown in the table."
    )


def softmax_note(model: SavedModel, result: ImageResult) -> str:
    """For a model whose probabilities are not the softmax of its scores (the post's SGD
    model with more than two classes): both numbers, so the Classify and Explain pages
    are never read as disagreeing."""
    if not result.ok or result.probabilities is None or model.is_binary or model.kind == "multinomial":
        return ""
    best = int(result.scores.argmax())
    soft = float(post_table(result.scores).probabilities[best])
    return (
        f"{100 * float(result.probabilities[best]):.1f}% is the model's own probability (one-vs-rest, "
        f"normalised); the softmax of its scores, which the Explain page shows, gives {100 * soft:.2f}%."
    )


def explain_table(model: SavedModel, result: ImageResult, true_class: str) -> pd.DataFrame:
    """The Explain page's table for this image: score, exp, softmax probability, -ln p."""
    scores = np.asarray(result.scores, dtype=np.float64)  # (K,)
    table = post_table(scores)  # exp may be inf for a score > 709: the table says so
    p = table.probabilities
    df = pd.DataFrame(
        {
            "class": list(model.classes),
            "score W.x+b": scores,
            "exp(score)": table.exp,
            "softmax p": p,
            "-ln p": table.neg_log,
            "true class": [c == true_class for c in model.classes],
        }
    )
    if result.probabilities is not None and not _same(p, result.probabilities):
        df.insert(4, "model's p (one-vs-rest)", result.probabilities)
    return df


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=0, atol=1e-9))


def loss_for(result: ImageResult, model: SavedModel, true_class: str) -> float:
    """Cross-entropy of the softmax of the scores, for the class the user says is true."""
    return cross_entropy(result.scores, model.classes.index(true_class))


def kind_words(model: SavedModel) -> str:
    """What the model's probabilities are, for its number of classes."""
    if model.kind == "sgd-log":
        if len(model.classes) == 2:
            return "logistic regression, exactly a softmax of [0, z] for 2 classes (the post's SGDClassifier)"
        return "one-vs-rest logistic regression, not one softmax (the post's SGDClassifier)"
    return KINDS[model.kind]


def model_summary(model: SavedModel) -> str:
    """What a model is (its classes, kind and features); core.learn.saved.describe says
    where it came from."""
    parts = [
        f"classes {', '.join(model.classes)}",
        kind_words(model),
        f"{'x'.join(str(b) for b in model.bins)} bins",
        "fast features" if model.fast else "exact features",
    ]
    if model.transform != "none":
        parts.append(f"{model.transform} features")
    return " · ".join(parts)
