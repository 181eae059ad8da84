"""A trained model as plain arrays, saved without pickle.

A pickle can run code when it is loaded, and a model file may come from a user
(a download re-uploaded, a file left in a shared data dir). So a model is stored
as an .npz of numbers plus a JSON header, read with allow_pickle=False, and its
probabilities are recomputed here with the same formulas scikit-learn uses.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
MODEL_MAX_BYTES = 5 * 1024 * 1024  # a 12x12x12-bin model of 100 classes is ~1.4 MB

# What each kind's probabilities are, in the words the Classify page shows.
KINDS = {
    # The post's SGDClassifier(loss="log_loss"): one logistic regression per class;
    # with K > 2 classes predict_proba normalises the K sigmoids (one-vs-rest), not a softmax.
    "sgd-log": "logistic regression (the post's SGDClassifier)",  # by class count: classify.kind_words
    # SGDClassifier(loss="hinge"): the Linear SVM the post compares with; scores, no probabilities.
    "sgd-hinge": "linear SVM (hinge loss): scores but no probabilities",
    # LogisticRegression: a true multinomial softmax over the K scores.
    "multinomial": "multinomial logistic regression (a true softmax)",
}
TRANSFORMS = ("none", "hellinger")


class ModelFormatError(ValueError):
    """A model file that this version of the app cannot (or must not) use."""


@dataclass(frozen=True, eq=False)
class SavedModel:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_rows, d): one row for a binary model, one per class otherwise
    intercept: np.ndarray  # (n_rows,)
    kind: str
    bins: tuple[int, int, int]
    fast: bool  # features from the reduced JPEG decode (False: the post's exact features)
    transform: str = "none"  # feature map applied before the linear model
    meta: dict = field(default_factory=dict)  # dataset, accuracy, trained_at, n_train...

    def __post_init__(self):
        _validate(self)

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2

    @property
    def has_probabilities(self) -> bool:
        return self.kind != "sgd-hinge"

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def features(self, hist: np.ndarray) -> np.ndarray:
        """The model's input from raw colour histograms (applies the feature map)."""
        X = np.atleast_2d(np.asarray(hist, dtype=np.float64))  # (n, d)
        if X.shape[1] != self.n_features:
            raise ModelFormatError(
                f"the model expects {self.n_features} features (bins {self.bins}), got {X.shape[1]}"
            )
        if self.transform == "hellinger":
            X = np.sqrt(np.clip(X, 0, None))
        return X

    def decision(self, hist: np.ndarray) -> np.ndarray:
        """W.x + b, as scikit-learn's decision_function: (n,) for binary, (n, K) otherwise."""
        z = self.features(hist) @ self.coef.T + self.intercept  # (n, n_rows)
        return z[:, 0] if z.shape[1] == 1 else z

    def class_scores(self, hist: np.ndarray) -> np.ndarray:
        """One score per class, (n, K). A binary model's score z becomes [0, z]:
        softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)], exactly its probabilities."""
        z = self.decision(hist)
        return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z

    def predict_proba(self, hist: np.ndarray) -> np.ndarray:
        if not self.has_probabilities:
            raise ModelFormatError("a hinge-loss (SVM) model gives scores, not probabilities")
        z = self.decision(hist)
        if z.ndim == 1:
            p1 = _sigmoid(z)
            return np.column_stack([1 - p1, p1])
        if self.kind == "multinomial":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        p = _sigmoid(z)  # one-vs-rest: K independent sigmoids, then normalised
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, hist: np.ndarray) -> list[str]:
        scores = self.class_scores(hist)
        return [self.classes[i] for i in scores.argmax(axis=1)]

    # -- persistence -------------------------------------------------------------

    def to_bytes(self) -> bytes:
        header = {
            "format_version": FORMAT_VERSION,
            "classes": list(self.classes),
            "kind": self.kind,
            "bins": list(self.bins),
            "fast": self.fast,
            "transform": self.transform,
            "meta": self.meta,
        }
        buf = io.BytesIO()
        np.savez(
            buf,
            coef=self.coef,
            intercept=self.intercept,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SavedModel:
        if len(data) > MODEL_MAX_BYTES:
            raise ModelFormatError(
                f"the file is {len(data) / 2**20:.1f} MB; a model file is at most {MODEL_MAX_BYTES // 2**20} MB"
            )
        arrays = _read_arrays(data)
        try:
            header = json.loads(arrays["header"].tobytes().decode("utf-8"))
        except (UnicodeError, ValueError, RecursionError):
            raise ModelFormatError("the model file's header is not JSON: the file is damaged") from None
        coef, intercept = arrays["coef"], arrays["intercept"]
        version = header.get("format_version") if isinstance(header, dict) else None
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"this model was saved by another version of the app (format {version!r}, "
                f"this app reads format {FORMAT_VERSION}): train it again on the Train page"
            )
        try:
            return cls(
                classes=tuple(str(c) for c in header["classes"]),
                coef=coef,
                intercept=intercept,
                kind=header["kind"],
                bins=tuple(int(b) for b in header["bins"]),
                fast=bool(header["fast"]),
                transform=header.get("transform", "none"),
                meta=dict(header.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"the model file is damaged: {exc}") from None

    def save(self, path: str | Path) -> Path:
        """Atomic: a crash mid-write leaves the old file, never half a model."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self.to_bytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> SavedModel:
        from core.images.files import ImageError, read_file

        try:
            data = read_file(path, limit=MODEL_MAX_BYTES)  # a regular file, bounded, never a FIFO
        except ImageError as exc:
            raise ModelFormatError(f"cannot read the model file: {exc}") from None
        return cls.from_bytes(data)

    @classmethod
    def from_estimator(cls, est, classes, bins, fast, kind, transform="none", **meta) -> SavedModel:
        """From a fitted SGDClassifier or LogisticRegression (classes: the label names,
        in the order of est.classes_ when those are encoded integers)."""
        return cls(
            classes=tuple(str(c) for c in classes),
            coef=np.array(est.coef_, dtype=np.float64),
            intercept=np.array(est.intercept_, dtype=np.float64).ravel(),
            kind=kind,
            bins=tuple(int(b) for b in bins),
            fast=bool(fast),
            transform=transform,
            meta=meta,
        )


# What a model file may hold, checked from each array's .npy header before its data is read:
# a 0.5 MB file must not unpack into 537 MB of weights, nor a 500 MB JSON header.
MEMBERS = {"coef": "f", "intercept": "f", "header": "u"}
HEADER_MAX_BYTES = 64 * 1024  # the JSON header: class names, settings, meta


def _read_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The three arrays of a model file, each checked (shape, dtype, size) before it is read."""
    from core.learn.config import MAX_CLASSES, MAX_FEATURES

    limits = {
        "coef": (2, MAX_CLASSES * MAX_FEATURES),
        "intercept": (1, MAX_CLASSES),
        "header": (1, HEADER_MAX_BYTES),
    }
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ModelFormatError("not a model file saved by this app (not an .npz archive)") from None
    with zf:
        names = {i.filename: i for i in zf.infolist()}
        if set(names) != {f"{m}.npy" for m in MEMBERS}:
            raise ModelFormatError(
                "not a model file saved by this app (its arrays are not coef, intercept, header)"
            )
        out = {}
        for member, kind in MEMBERS.items():
            ndim, most = limits[member]
            info = names[f"{member}.npy"]
            try:
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    shape, fortran, dtype = _read_header(fh, version)
                    problem = _array_problem(member, shape, dtype, kind, ndim, most)
                    if problem:
                        raise ModelFormatError(f"not a model file of this app: {problem}")
                    size = int(np.prod(shape)) * dtype.itemsize
                    raw = fh.read(size + 1)
            except ModelFormatError:
                raise
            except Exception as exc:  # a broken member: a clear refusal, never a crash
                raise ModelFormatError(f"the model file is damaged ({type(exc).__name__})") from None
            if len(raw) != size:
                raise ModelFormatError(f"the model file's {member} array is not the size it declares")
            array = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
            out[member] = array.astype(np.float64) if kind == "f" else array
        return out


def _read_header(fh, version) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh, max_header_size=1024)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh, max_header_size=1024)
    raise ModelFormatError(f"unknown .npy format version {version}")


def _array_problem(member: str, shape, dtype: np.dtype, kind: str, ndim: int, most: int) -> str:
    if (
        dtype.hasobject
        or dtype.kind != kind
        or (kind == "f" and dtype.itemsize not in (4, 8))
        or (kind == "u" and dtype.itemsize != 1)
    ):
        return f"the model's {member} array holds {dtype} values; a model holds real numbers (float32 or float64)"
    if len(shape) != ndim or any(int(n) < 0 for n in shape):
        return f"the model's {member} array has shape {tuple(shape)}"
    if int(np.prod(shape)) > most:
        what = "header holds" if member == "header" else "weights hold"
        return (
            f"the model's {what} {int(np.prod(shape)):,} values; models this app makes hold at most "
            f"{most:,} (up to {MAX_CLASSES_TEXT})"
        )
    return ""


MAX_CLASSES_TEXT = "100 classes of 12x12x12 = 1,728 features"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def _validate(m: SavedModel) -> None:
    from core.learn.config import MAX_CLASSES, MAX_FEATURES

    for name in ("coef", "intercept"):
        value = getattr(m, name)
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise ModelFormatError(
                f"the model's {name} must be real numbers, not {getattr(value, 'dtype', type(value))}"
            )
    if m.kind not in KINDS:
        raise ModelFormatError(f"unknown model kind {m.kind!r}")
    if m.transform not in TRANSFORMS:
        raise ModelFormatError(f"unknown feature transform {m.transform!r}")
    k = len(m.classes)
    if k < 2 or len(set(m.classes)) != k:
        raise ModelFormatError("a model needs two or more distinct classes")
    if k > MAX_CLASSES or any(len(c) > 200 for c in m.classes):
        raise ModelFormatError(
            f"a model of this app has at most {MAX_CLASSES} classes with names of 200 characters"
        )
    if len(m.bins) == 3 and int(np.prod(m.bins)) > MAX_FEATURES:
        raise ModelFormatError(
            f"bins {tuple(m.bins)} make more features than the app offers ({MAX_FEATURES:,}, 12x12x12)"
        )
    rows = 1 if k == 2 else k
    if m.coef.ndim != 2 or m.coef.shape[0] != rows or m.intercept.shape != (rows,):
        raise ModelFormatError(f"the model's weights do not fit its {k} classes")
    if len(m.bins) != 3 or any(b < 1 for b in m.bins) or m.coef.shape[1] != int(np.prod(m.bins)):
        raise ModelFormatError(f"the model's weights do not fit its bins {m.bins}")
    if not (np.isfinite(m.coef).all() and np.isfinite(m.intercept).all()):
        raise ModelFormatError("the model's weights are not finite numbers")
