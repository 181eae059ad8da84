"""Training and evaluating the post's Softmax classifier, and going a little beyond it.

The post's `softmax.py`: 8x8x8 HSV histograms, `LabelEncoder`, `train_test_split(
test_size=0.25, random_state=42)`, `SGDClassifier(loss="log", random_state=967,
n_iter=10)`, `classification_report`, then 5 random training images with their
class probabilities. Everything here takes features as arrays (`train_on_features`)
so it can be tested without images; `train_dataset` adds the folder and the
cached feature extraction. No streamlit here: the Train page only renders.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.kernel_approximation import AdditiveChi2Sampler
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, hinge_loss, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from core import paths as app_paths
from core.model_store import ModelFormatError, SavedModel

log = logging.getLogger(__name__)

LOSSES = {"log_loss": "sgd-log", "hinge": "sgd-hinge"}  # SGD loss -> SavedModel kind


class TrainingError(ValueError):
    """Data that cannot be trained on as asked; the message is meant for the user."""


@dataclass(frozen=True)
class TrainConfig:
    bins: tuple[int, int, int] = (8, 8, 8)  # the post's 8x8x8 HSV histogram: 512 features
    test_size: float = 0.25  # the post's train_test_split(test_size=0.25)
    split_seed: int = 42  # the post's random_state=42 for the split: same images in test
    sgd_seed: int = 967  # the post's SGDClassifier(random_state=967): same shuffles, same model
    epochs: int = 10  # the post's n_iter=10; today max_iter=10 with tol=None so all 10 run
    loss: str = "log_loss"  # the post's loss="log" (renamed): softmax/cross-entropy; "hinge" = its Linear SVM
    alpha: float = 1e-4  # scikit-learn's default regularisation; the post leaves it unset
    fast: bool = True  # reduced JPEG decode: ~4x less work, same accuracy within noise; False = the post's exact features

    def __post_init__(self):
        bins = tuple(int(b) for b in self.bins)
        object.__setattr__(self, "bins", bins)
        if len(bins) != 3 or not all(1 <= b <= 256 for b in bins):
            raise TrainingError(f"bins must be three numbers from 1 to 256, got {self.bins}")
        if not 0 < self.test_size < 1:
            raise TrainingError(f"test size must be between 0 and 1, got {self.test_size}")
        if int(self.epochs) < 1:
            raise TrainingError(f"epochs must be at least 1, got {self.epochs}")
        if not self.alpha > 0:
            raise TrainingError(f"alpha must be positive, got {self.alpha}")
        if self.loss not in LOSSES:
            raise TrainingError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")

    def key(self) -> str:
        """A short stable hash: the same settings give the same saved-model file name."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True, eq=False)
class TrainResult:
    config: TrainConfig
    classes: tuple[str, ...]
    y: np.ndarray  # (n,) encoded labels of every image that decoded
    paths: tuple[str, ...]  # (n,) the images, or () when trained on bare arrays
    train_idx: np.ndarray  # (n_train,) rows of y/paths in the training set
    test_idx: np.ndarray  # (n_test,)
    pred_train: np.ndarray  # (n_train,) encoded predictions
    pred_test: np.ndarray  # (n_test,)
    proba_train: np.ndarray | None  # (n_train, K); None for hinge (an SVM gives scores only)
    proba_test: np.ndarray | None  # (n_test, K)
    report: dict  # classification_report(output_dict=True, target_names=classes)
    report_text: str  # the same report as the post prints it
    accuracy: float
    confusion: np.ndarray  # (K, K): rows actual, columns predicted (test set)
    model: SavedModel
    notes: tuple[str, ...] = ()  # what the user should know about this run (split changes...)
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason) not used
    seconds: float = 0.0  # fit + evaluation time

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_test(self) -> int:
        return len(self.test_idx)


# -- the split -------------------------------------------------------------------


def check_labels(labels) -> tuple[LabelEncoder, np.ndarray]:
    """Encode labels as the post does; refuse what a classifier cannot learn from."""
    labels = [str(s) for s in labels]
    if not labels:
        raise TrainingError("No images to train on.")
    le = LabelEncoder().fit(labels)
    y = le.transform(labels)  # (n,)
    classes = [str(c) for c in le.classes_]
    if len(classes) < 2:
        raise TrainingError(
            f"Only one class ('{classes[0]}', {len(labels)} images): "
            "a classifier needs images of at least two classes."
        )
    counts = np.bincount(y, minlength=len(classes))
    lonely = [f"'{c}' ({n})" for c, n in zip(classes, counts) if n < 2]
    if lonely:
        raise TrainingError(
            f"Too few images in class {', '.join(lonely)}: each class needs at least 2 "
            "(one to train on, one to test with)."
        )
    return le, y


def split_indices(y: np.ndarray, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The post's split; a stratified one (same seed) only if the post's leaves a class out."""
    idx = np.arange(len(y))
    k = int(y.max()) + 1
    try:
        tr, te = train_test_split(idx, test_size=config.test_size, random_state=config.split_seed)
    except ValueError as exc:
        raise TrainingError(
            f"Cannot split {len(y)} images with test size {config.test_size}: {exc}"
        ) from None
    no_train = sorted(set(range(k)) - set(y[tr].tolist()))
    no_test = sorted(set(range(k)) - set(y[te].tolist()))
    if not no_train and not no_test:
        return tr, te, []
    try:
        tr2, te2 = train_test_split(
            idx, test_size=config.test_size, random_state=config.split_seed, stratify=y
        )
    except ValueError:
        if no_train:
            raise TrainingError(
                f"Too few images: the split leaves {len(no_train)} class(es) with no training "
                f"images, and {len(y)} images are too few for a stratified split at test size "
                f"{config.test_size}. Add images or change the test size."
            ) from None
        return tr, te, [f"NO_TEST:{','.join(map(str, no_test))}"]
    which = "training" if no_train else "test"
    return tr2, te2, [f"STRATIFIED:{which}"]


def _describe_notes(raw: list[str], classes) -> list[str]:
    out = []
    for note in raw:
        kind, _, arg = note.partition(":")
        if kind == "STRATIFIED":
            out.append(
                f"The post's random split left a class with no {arg} images, so this run uses "
                "a stratified split (same seed): each class is split in the same proportion."
            )
        elif kind == "NO_TEST":
            names = ", ".join(f"'{classes[int(i)]}'" for i in arg.split(","))
            out.append(
                f"No test images of {names} after the split, and too few images to stratify: "
                "its precision and recall cannot be measured (shown as 0)."
            )
    return out


# -- training --------------------------------------------------------------------


def make_sgd(config: TrainConfig, loss: str | None = None, epochs: int | None = None) -> SGDClassifier:
    """The post's classifier in today's scikit-learn spelling."""
    return SGDClassifier(
        loss=loss or config.loss,
        random_state=config.sgd_seed,
        max_iter=int(epochs or config.epochs),
        tol=None,
        alpha=config.alpha,
    )


def train_on_features(
    X, labels, config: TrainConfig | None = None, *, paths=None, dataset_name: str | None = None, skipped=()
) -> TrainResult:
    """Split, fit and evaluate exactly as the post's softmax.py does."""
    config = config or TrainConfig()
    t0 = time.perf_counter()
    X = np.asarray(X)  # (n, d)
    le, y = check_labels(labels)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise TrainingError(f"{X.shape[0]} feature rows for {len(y)} labels")
    if X.shape[1] != int(np.prod(config.bins)):
        raise TrainingError(
            f"{X.shape[1]} features per image, but bins {config.bins} make {int(np.prod(config.bins))}"
        )
    classes = tuple(str(c) for c in le.classes_)
    tr, te, raw_notes = split_indices(y, config)
    clf = make_sgd(config).fit(X[tr], y[tr])
    pred_tr, pred_te = clf.predict(X[tr]), clf.predict(X[te])
    has_p = config.loss == "log_loss"
    k = len(classes)
    report = classification_report(
        y[te], pred_te, labels=range(k), target_names=classes, output_dict=True, zero_division=0
    )
    text = classification_report(y[te], pred_te, labels=range(k), target_names=classes, zero_division=0)
    acc = float(accuracy_score(y[te], pred_te))
    meta = {
        "dataset": dataset_name or "",
        "accuracy": acc,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_train": len(tr),
        "n_test": len(te),
        "config": _config_meta(config),
    }
    model = SavedModel.from_estimator(clf, classes, config.bins, config.fast, LOSSES[config.loss], **meta)
    return TrainResult(
        config=config,
        classes=classes,
        y=y,
        paths=tuple(str(p) for p in (paths or ())),
        train_idx=tr,
        test_idx=te,
        pred_train=pred_tr,
        pred_test=pred_te,
        proba_train=clf.predict_proba(X[tr]) if has_p else None,
        proba_test=clf.predict_proba(X[te]) if has_p else None,
        report=report,
        report_text=text,
        accuracy=acc,
        confusion=confusion_matrix(y[te], pred_te, labels=range(k)),
        model=model,
        notes=tuple(_describe_notes(raw_notes, classes)),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - t0,
    )


def train_all(
    X, labels, config: TrainConfig, *, paths=None, dataset_name: str | None = None, skipped=()
) -> dict:
    """What the Train page shows: the post's model, the Linear SVM beside it (same split),
    and the post's model's learning curves. One call, so one trip to a worker process."""
    post = train_on_features(X, labels, config, paths=paths, dataset_name=dataset_name, skipped=skipped)
    hinge = train_on_features(
        X, labels, replace(config, loss="hinge"), paths=paths, dataset_name=dataset_name
    )
    return {"post": post, "hinge": hinge, "curves": learning_curves(X, post)}


def _config_meta(config: TrainConfig) -> dict:
    d = asdict(config)
    d["bins"] = list(config.bins)
    return d


def report_rows(report: dict) -> list[dict]:
    """The classification report as table rows, in the order sklearn prints it."""
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


# -- learning curves -------------------------------------------------------------


def learning_curves(X, result: TrainResult) -> dict[str, np.ndarray]:
    """Train and test loss and accuracy after each epoch of the very run reported.

    SGDClassifier(max_iter=k, tol=None) with the same seed replays the first k epochs of
    the max_iter=10 run exactly (same shuffles, same learning rates), so the curve ends
    on the reported model. Calling partial_fit k times would not: each call re-seeds
    its shuffle and the curve would end on a different model.
    """
    X = np.asarray(X)
    cfg, y, k = result.config, result.y, len(result.classes)
    tr, te = result.train_idx, result.test_idx
    out = {name: [] for name in ("epoch", "train_loss", "test_loss", "train_acc", "test_acc")}
    for epoch in range(1, cfg.epochs + 1):
        clf = make_sgd(cfg, epochs=epoch).fit(X[tr], y[tr])
        out["epoch"].append(epoch)
        for part, rows in (("train", tr), ("test", te)):
            out[f"{part}_acc"].append(float(accuracy_score(y[rows], clf.predict(X[rows]))))
            out[f"{part}_loss"].append(_loss(clf, X[rows], y[rows], k, cfg.loss))
    return {name: np.asarray(v) for name, v in out.items()}


def _loss(clf, X, y, k, loss) -> float:
    if len(y) == 0:
        return float("nan")
    if loss == "log_loss":
        return float(log_loss(y, clf.predict_proba(X), labels=range(k)))
    return float(hinge_loss(y, clf.decision_function(X), labels=range(k)))


# -- probability gaps ------------------------------------------------------------


def probability_gaps(proba: np.ndarray) -> np.ndarray:
    """Max probability minus the next one: how sure the model is of its answer."""
    if proba is None or len(proba) == 0:
        return np.zeros(0)
    top2 = np.sort(proba, axis=1)[:, -2:]  # (n, 2)
    return top2[:, 1] - top2[:, 0]


def sample_gaps(result: TrainResult, part: str = "train", n: int = 5, seed: int = 0) -> list[dict]:
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
    out = []
    for i in picks:
        row = int(rows[i])
        out.append(
            {
                "row": row,
                "path": result.paths[row] if result.paths else None,
                "actual": result.classes[result.y[row]],
                "predicted": result.classes[pred[i]],
                "probabilities": {c: float(p) for c, p in zip(result.classes, proba[i])},
                "gap": float(gaps[i]),
            }
        )
    return out


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


def cell_rows(result: TrainResult, actual: str, predicted: str) -> np.ndarray:
    """Rows of the test images in one confusion-matrix cell."""
    a, p = result.classes.index(actual), result.classes.index(predicted)
    te = result.test_idx
    return te[(result.y[te] == a) & (result.pred_test == p)]


# -- beyond the post -------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    accuracy: float
    seconds: float


def beyond_the_post(X, result: TrainResult) -> list[Variant]:
    """The same features and split with better-founded models, each timed."""
    X = np.asarray(X, dtype=np.float64)  # (n, d)
    cfg, y, tr, te = result.config, result.y, result.train_idx, result.test_idx
    chi2 = AdditiveChi2Sampler(sample_steps=2)
    # L2-normalised histograms are tiny numbers; fixed rescaling helps lbfgs, no data leak
    variants = [
        (
            "The post's recipe",
            "SGDClassifier, log loss, raw histograms",
            lambda: make_sgd(cfg, loss="log_loss"),
            lambda Z: Z,
        ),
        (
            "Linear SVM (hinge)",
            "SGDClassifier, hinge loss, raw histograms",
            lambda: make_sgd(cfg, loss="hinge"),
            lambda Z: Z,
        ),
        (
            "True multinomial softmax",
            "LogisticRegression (lbfgs): one softmax over all classes",
            lambda: LogisticRegression(max_iter=1000),
            lambda Z: Z,
        ),
        (
            "Hellinger features",
            "SGD log loss on sqrt(histogram)",
            lambda: make_sgd(cfg, loss="log_loss"),
            lambda Z: np.sqrt(np.clip(Z, 0, None)),
        ),
        (
            "Chi-squared feature map",
            "SGD log loss on AdditiveChi2Sampler(sample_steps=2)",
            lambda: make_sgd(cfg, loss="log_loss"),
            lambda Z: chi2.fit_transform(np.clip(Z, 0, None)),
        ),
    ]
    out = []
    for name, what, make, transform in variants:
        t0 = time.perf_counter()
        Z = transform(X)
        clf = make().fit(Z[tr], y[tr])
        acc = float(accuracy_score(y[te], clf.predict(Z[te])))
        out.append(Variant(name, what, acc, time.perf_counter() - t0))
    return out


# -- from a folder ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DatasetFeatures:
    X: np.ndarray  # (n, prod(bins)) float32, rows of the images that decoded
    labels: tuple[str, ...]  # (n,)
    paths: tuple[str, ...]  # (n,)
    skipped: tuple[tuple[str, str], ...]  # (path, reason): not an image, or not decodable
    seconds: float  # time to list and extract (near zero when the disk cache is warm)
    cache_notes: tuple[str, ...] = ()  # the disk cache's problems (full disk, corrupt file): say so


def dataset_features(root, config: TrainConfig, progress=None, cache_dir=None) -> DatasetFeatures:
    """load_dataset + extract_features through the disk cache (cache_dir: None for
    core.paths.cache_dir(); a worker process is told the server's folder explicitly)."""
    from core.dataset import load_dataset
    from core.features import extract_features

    t0 = time.perf_counter()
    ds = load_dataset(root)
    feats = extract_features(
        ds.paths,
        bins=config.bins,
        fast=config.fast,
        cache_dir=app_paths.cache_dir() if cache_dir is None else Path(cache_dir),
        progress=progress,
    )
    label_of = dict(zip(map(str, ds.paths), ds.labels))
    paths = tuple(str(p) for p in feats.paths)
    skipped = tuple((str(p), str(r)) for p, r in [*ds.skipped, *feats.skipped])
    if not paths:
        raise TrainingError(
            f"None of the {len(ds.paths)} images could be read"
            + (f" (first: {Path(skipped[0][0]).name}: {skipped[0][1]})." if skipped else ".")
        )
    return DatasetFeatures(
        np.asarray(feats.X),
        tuple(label_of[p] for p in paths),
        paths,
        skipped,
        time.perf_counter() - t0,
        tuple(feats.cache_notes),
    )


def train_dataset(
    root, config: TrainConfig | None = None, progress=None, dataset_name: str | None = None
) -> TrainResult:
    """The whole post from a folder: features (cached on disk), split, fit, report."""
    config = config or TrainConfig()
    feats = dataset_features(root, config, progress)
    return train_on_features(
        feats.X,
        feats.labels,
        config,
        paths=feats.paths,
        dataset_name=dataset_name or Path(str(root)).name,
        skipped=feats.skipped,
    )


def train_folder(
    root, config: TrainConfig, *, dataset_name: str | None = None, cache_dir=None, progress=None
) -> dict:
    """The Train page's whole job in one call, so that one trip to a worker process does
    it and no feature matrix crosses back: features through the disk cache, then
    train_all, and how long the features took."""
    feats = dataset_features(root, config, progress, cache_dir)
    out = train_all(
        feats.X, feats.labels, config, paths=feats.paths, dataset_name=dataset_name, skipped=feats.skipped
    )
    return {**out, "feature_seconds": feats.seconds, "cache_notes": feats.cache_notes}


def compare_folder(root, result: TrainResult, *, cache_dir=None) -> list[Variant]:
    """beyond_the_post on the very images `result` was trained on (from the disk cache)."""
    feats = dataset_features(root, result.config, cache_dir=cache_dir)
    if feats.paths != result.paths:
        raise TrainingError("the images in the folder changed after training; train again first")
    return beyond_the_post(feats.X, result)


def files_fingerprint(paths) -> str:
    """Changes when a file is added, removed or rewritten: a cheap cache key for a folder."""
    h = hashlib.sha256()
    for p in paths:
        try:
            st = Path(p).stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p}\0missing\n".encode())
    return h.hexdigest()[:16]


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def dataset_lock(root) -> threading.Lock:
    """One lock per dataset folder in this process: a second session training the same
    folder waits for the first and then reuses its cached features."""
    key = str(Path(str(root)).resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


# -- saved models ----------------------------------------------------------------


def _safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip(".-")[:60]
    return name or "model"


def save_model(model: SavedModel) -> Path:
    """Into models_dir(): <dataset>-<kind>-<config hash>.npz, the same settings overwrite."""
    cfg = model.meta.get("config") or {}
    text = json.dumps(
        {
            "config": cfg,
            "kind": model.kind,
            "transform": model.transform,
            "bins": list(model.bins),
            "fast": model.fast,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    name = f"{_safe_name(model.meta.get('dataset') or 'model')}-{model.kind}-{digest}.npz"
    return model.save(app_paths.models_dir() / name)


def load_saved_model(path) -> SavedModel:
    return SavedModel.load(path)


def list_saved_models(errors: list | None = None) -> list[tuple[Path, SavedModel]]:
    """Every readable model in models_dir(), newest first; unreadable ones are skipped
    and reported as (path, reason) in `errors` (and the log)."""
    folder = app_paths.models_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.npz"):
        if path.name.startswith(".tmp-"):
            continue  # a save in progress
        try:
            found.append((path.stat().st_mtime, path, SavedModel.load(path)))
        except (ModelFormatError, OSError) as exc:
            log.warning("skipping model %s: %s", path, exc)
            if errors is not None:
                errors.append((path, str(exc)))
    found.sort(key=lambda t: (t[0], t[1].name), reverse=True)
    return [(p, m) for _, p, m in found]


# -- thumbnails ------------------------------------------------------------------


def thumbnail(path, size: int = 96) -> bytes | None:
    """A JPEG thumbnail (longest side at most `size`), or None if the file is gone or
    unreadable. Remembered (up to THUMBNAILS of them) until the file changes: the Train
    page shows the same few dozen on every rerun."""
    try:
        info = Path(path).stat()
    except OSError:
        return None
    return _thumbnail(str(path), size, info.st_size, info.st_mtime_ns)


THUMBNAILS = 2048  # x ~3 KB


@functools.lru_cache(maxsize=THUMBNAILS)
def _thumbnail(path: str, size: int, file_size: int, mtime_ns: int) -> bytes | None:
    import cv2

    from core.features import ImageError, decode_image

    try:
        img = decode_image(path, longest=size)  # (h, w, 3) BGR, a JPEG decoded at 1/2 to 1/8 size
    except (ImageError, OSError, ValueError):
        return None
    h, w = img.shape[:2]
    scale = size / max(h, w)
    if scale < 1:
        img = cv2.resize(
            img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes() if ok else None


def thumbnail_data_uri(path, size: int = 96) -> str | None:
    """A JPEG data: URI for a table's image column (None when unreadable)."""
    jpeg = thumbnail(path, size)
    return None if jpeg is None else "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
