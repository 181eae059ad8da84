"""Classify uploaded images with a saved model, and say why (the Classify page's logic).

Every file is judged on its own: a bad one gets a reason a person can act on and
the rest of the batch is still classified. The features are computed with the
model's own bins, decode mode and feature map, so a model trained with other
settings than today's defaults still sees what it was trained on.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from core.demo import DEMO_NAME, make_demo_dataset  # noqa: F401  DEMO_NAME: the page reads it here
from core.features import DEFAULT_BINS, ImageError, color_histogram, decode_image  # noqa: F401
from core.library import list_datasets
from core.model import TrainConfig, dataset_lock, save_model, train_dataset
from core.model_store import SavedModel
from core.softmax import cross_entropy, post_table
from core.urlstate import ExplainState, clamp_state

UPLOAD_TYPES = ("jpg", "jpeg", "png", "bmp", "webp")
NOT_SURE = "not sure"
DISPLAY_WIDTH = 480  # px: the page shows a thumbnail, not the full photo


# ---------------------------------------------------------------- one image


@dataclass
class ImageResult:
    name: str
    thumbnail: bytes | None = None  # JPEG of the upright image, at most DISPLAY_WIDTH wide
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


# File signatures: the uploader's type filter only looks at the name, so look at the bytes.
_SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
]


def sniff_format(data: bytes) -> str | None:
    """'JPEG', 'PNG', 'BMP', 'WEBP', 'GIF', 'TIFF', or None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for sig, fmt in _SIGNATURES if data.startswith(sig)), None)


def check_upload(name: str, data: bytes) -> str | None:
    """A reason to refuse the file before decoding it, or None."""
    if not data:
        return "the file is empty (0 bytes)"
    fmt = sniff_format(data)
    if fmt == "GIF":
        return "GIF images are not supported (a GIF may hold many frames): save it as JPEG or PNG"
    if fmt is None:
        head = data[:64]
        looks_text = all(b in b"\t\n\r" or 32 <= b < 127 for b in head)
        kind = "text" if looks_text else "not an image this page reads"
        return f"this file is {kind}, not a JPEG, PNG, BMP or WebP image (whatever its name '{name}' says)"
    if fmt == "TIFF":
        return "TIFF files are not accepted here: save it as JPEG or PNG"
    return None


def _thumbnail(image_bgr: np.ndarray) -> bytes:
    """A small JPEG: a session may hold many results, and the browser gets this, not the photo."""
    h, w = image_bgr.shape[:2]
    if w > DISPLAY_WIDTH:
        image_bgr = cv2.resize(
            image_bgr, (DISPLAY_WIDTH, max(1, round(h * DISPLAY_WIDTH / w))), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes() if ok else None


def classify_one(model: SavedModel, name: str, data: bytes) -> ImageResult:
    """Decode, describe with the model's own feature settings, score. Never raises on bad input."""
    start = time.perf_counter()
    result = ImageResult(name=name)
    result.error = check_upload(name, data)
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
    result.thumbnail = _thumbnail(image)
    result.seconds = time.perf_counter() - start
    return result


def classify_batch(model: SavedModel, files: Iterable[tuple[str, bytes]]) -> list[ImageResult]:
    return [classify_one(model, name, data) for name, data in files]


# ---------------------------------------------------------------- many images


def results_table(results: Sequence[ImageResult], classes: Sequence[str], threshold: float) -> pd.DataFrame:
    """One row per file, most confident first; files that failed at the bottom with their reason."""
    rows = []
    for r in results:
        row = {
            "file": r.name,
            "answer": r.answer(threshold),
            "most likely": r.predicted,
            "confidence": r.confidence,
        }
        for i, c in enumerate(classes):
            row[f"p({c})"] = None if r.probabilities is None else float(r.probabilities[i])
        row["error"] = r.error or ""
        rows.append(row)
    df = pd.DataFrame(
        rows, columns=["file", "answer", "most likely", "confidence", *[f"p({c})" for c in classes], "error"]
    )
    df["_failed"] = df["error"] != ""
    df = df.sort_values(["_failed", "confidence"], ascending=[True, False], kind="stable", na_position="last")
    return df.drop(columns="_failed").reset_index(drop=True)


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


def explain_state(model: SavedModel, result: ImageResult, true_class: str) -> tuple[ExplainState, list[str]]:
    """The Explain page's state holding this image's scores; messages if the page had to clamp them."""
    state = ExplainState(
        classes=tuple(model.classes),
        scores=tuple(float(s) for s in result.scores),
        target=model.classes.index(true_class),
        base="e",
        temperature=1.0,
    )
    return clamp_state(state)


# ---------------------------------------------------------------- no model yet


def choose_training_dataset(datasets: Sequence) -> object | None:
    """The dataset a one-click training should use: the real Kaggle cats and dogs if present,
    else the largest real dataset, else the largest synthetic one (None: make the demo set)."""
    real = [d for d in datasets if not d.synthetic]
    cats_dogs = [d for d in real if {c.lower() for c in d.classes} == {"cat", "dog"}]
    for group in (cats_dogs, real, list(datasets)):
        if group:
            return max(group, key=lambda d: d.n_images)
    return None


def quick_train_plan():
    """The dataset "Train a model now" will use; None: there is none, the demo set will be made."""
    datasets, _ = list_datasets()
    return choose_training_dataset(datasets)


def quick_train(progress=None) -> tuple[SavedModel, object, Path]:
    """Train the post's classifier (default settings) on the best dataset there is, making the
    synthetic demo set first if the data folder is empty; save it. Returns (model, dataset, path)."""
    info = quick_train_plan()
    if info is None:
        make_demo_dataset()
        info = quick_train_plan()
        if info is None:
            raise ValueError("the synthetic demo set was made but cannot be read back")
    with dataset_lock(info.path):  # another session training the same folder: wait, then reuse its cache
        result = train_dataset(info.path, TrainConfig(), progress, dataset_name=info.name)
    model = replace(result.model, meta={**result.model.meta, "synthetic": bool(info.synthetic)})
    return model, info, save_model(model)


def model_summary(model: SavedModel) -> str:
    """One line about a model: classes, kind, features, where it came from, its test accuracy."""
    meta = model.meta
    parts = [
        f"classes {', '.join(model.classes)}",
        model.kind,
        f"bins {'x'.join(str(b) for b in model.bins)}",
        "fast features" if model.fast else "exact features",
    ]
    if model.transform != "none":
        parts.append(f"{model.transform} features")
    if meta.get("dataset"):
        parts.append(f"dataset '{meta['dataset']}'" + (" (synthetic)" if meta.get("synthetic") else ""))
    if isinstance(meta.get("accuracy"), (int, float)):
        parts.append(f"test accuracy {meta['accuracy']:.1%}")
    return " · ".join(parts)
