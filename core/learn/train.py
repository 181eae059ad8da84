"""Training and evaluating the post's Softmax classifier: one road for arrays, one for folders.

The post's `softmax.py`: 8x8x8 HSV histograms, `LabelEncoder`, `train_test_split(
test_size=0.25, random_state=42)`, `SGDClassifier(loss="log", random_state=967,
n_iter=10)`, `classification_report`, then 5 random training images with their class
probabilities.

- `train_arrays(X, labels, config)`: split, fit and evaluate on features already made
  (the command line, the tests, the benchmarks).
- `train_folder(root, config)`: a folder listed once, described through the disk
  cache, then `train_arrays` (the app; in a worker process). The same folder with the
  same files and settings again comes straight from memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, hinge_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from core.learn.config import LOSSES, MAX_CLASSES, TrainConfig, TrainingError
from core.learn.insight import TestColours, sklearn_log_loss, test_colours
from core.learn.model import SavedModel


@dataclass(frozen=True, eq=False)
class TrainResult:
    """One fitted model, evaluated on the post's split."""

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
    seconds: float = 0.0  # fit + evaluation time
    scores_test: np.ndarray | None = None  # (n_test, K) model.class_scores: what Explain is handed

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_test(self) -> int:
        return len(self.test_idx)


@dataclass(frozen=True, eq=False)
class LearningCurves:
    """The reported run stopped after each epoch k = 1..epochs (same seeds, same split)."""

    epoch: np.ndarray  # (E,)
    train_loss: np.ndarray  # (E,)
    test_loss: np.ndarray  # (E,)
    train_acc: np.ndarray  # (E,)
    test_acc: np.ndarray  # (E,)
    coef: np.ndarray  # (E, rows, d): the weights after each epoch
    intercept: np.ndarray  # (E, rows)
    pred_test: np.ndarray  # (E, n_test): the test predictions after each epoch


@dataclass(frozen=True, eq=False)
class TrainRun:
    """Everything the Train page shows after one click: the post's model, the Linear SVM
    beside it on the same split, and the post's model's learning curves."""

    dataset: str
    config: TrainConfig
    post: TrainResult  # SGDClassifier(loss="log_loss"): the softmax
    hinge: TrainResult | None  # SGDClassifier(loss="hinge"): the post's Linear SVM
    curves: LearningCurves | None
    skipped: tuple[tuple[str, str], ...] = ()  # (path, reason) not used
    path: str = ""  # the folder ('' for arrays)
    fingerprint: str = ""  # of the files trained on ('' for arrays)
    feature_seconds: float = 0.0  # listing + features (near zero from the disk cache)
    cache_notes: tuple[str, ...] = ()  # the feature cache's problems (a full disk): say so
    seconds: float = 0.0  # the whole call
    from_memory: bool = False  # the same files and settings as a run this process remembers
    synthetic: bool = False  # the app's synthetic demo set, never the real experiment
    colours: TestColours | None = None  # per colour bin, the test images with most of it

    @property
    def classes(self) -> tuple[str, ...]:
        return self.post.classes


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
    if len(classes) > MAX_CLASSES:
        raise TrainingError(f"{len(classes)} classes: the app trains at most {MAX_CLASSES}.")
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


# -- one model -------------------------------------------------------------------


def make_sgd(config: TrainConfig, loss: str | None = None, epochs: int | None = None) -> SGDClassifier:
    """The post's classifier in today's scikit-learn spelling."""
    return SGDClassifier(
        loss=loss or config.loss,
        random_state=config.sgd_seed,
        max_iter=int(epochs or config.epochs),
        tol=None,
        alpha=config.alpha,
    )


def _fit(X, y, classes, split, config: TrainConfig, paths, dataset_name: str) -> TrainResult:
    """Fit one SGD model on the split and evaluate it as the post's softmax.py does."""
    t0 = time.perf_counter()
    tr, te, raw_notes = split
    clf = make_sgd(config).fit(X[tr], y[tr])
    pred_tr, pred_te = clf.predict(X[tr]), clf.predict(X[te])
    has_p = config.loss == "log_loss"
    k = len(classes)
    kw = {"labels": range(k), "target_names": classes, "zero_division": 0}
    report = classification_report(y[te], pred_te, output_dict=True, **kw)
    text = classification_report(y[te], pred_te, **kw)
    acc = float(accuracy_score(y[te], pred_te))
    meta = {
        "dataset": dataset_name,
        "accuracy": acc,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_train": len(tr),
        "n_test": len(te),
        "config": config.as_meta(),
    }
    model = SavedModel.from_estimator(clf, classes, config.bins, config.fast, LOSSES[config.loss], **meta)
    return TrainResult(
        config=config,
        classes=classes,
        y=y,
        paths=paths,
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
        seconds=time.perf_counter() - t0,
        scores_test=model.class_scores(X[te]) if len(te) else np.zeros((0, k)),
    )


def learning_curves(X, result: TrainResult, progress=None) -> LearningCurves:
    """Train and test loss and accuracy after each epoch of the very run reported.

    SGDClassifier(max_iter=k, tol=None) with the same seed replays the first k epochs of
    the max_iter=10 run exactly (same shuffles, same learning rates), so the curve ends
    on the reported model. Calling partial_fit k times would not: each call re-seeds
    its shuffle and the curve would end on a different model.
    """
    X = np.asarray(X)
    cfg, y, k = result.config, result.y, len(result.classes)
    tr, te = result.train_idx, result.test_idx
    out = {
        name: [] for name in ("train_loss", "test_loss", "train_acc", "test_acc", "coef", "intercept", "pred")
    }
    for epoch in range(1, cfg.epochs + 1):
        if progress is not None:
            progress("curves", epoch, cfg.epochs)
        clf = make_sgd(cfg, epochs=epoch).fit(X[tr], y[tr])
        pred_te = clf.predict(X[te])
        out["train_acc"].append(float(accuracy_score(y[tr], clf.predict(X[tr]))))
        out["test_acc"].append(float(accuracy_score(y[te], pred_te)) if len(te) else float("nan"))
        out["train_loss"].append(loss_of(clf, X[tr], y[tr], k, cfg.loss))
        out["test_loss"].append(loss_of(clf, X[te], y[te], k, cfg.loss))
        out["coef"].append(clf.coef_.copy())
        out["intercept"].append(np.ravel(clf.intercept_).copy())
        out["pred"].append(pred_te)
    return LearningCurves(
        epoch=np.arange(1, cfg.epochs + 1),
        train_loss=np.asarray(out["train_loss"]),
        test_loss=np.asarray(out["test_loss"]),
        train_acc=np.asarray(out["train_acc"]),
        test_acc=np.asarray(out["test_acc"]),
        coef=np.asarray(out["coef"]),
        intercept=np.asarray(out["intercept"]),
        pred_test=np.asarray(out["pred"]).reshape(cfg.epochs, len(te)),
    )


def loss_of(clf, X, y, k, loss) -> float:
    if len(y) == 0:
        return float("nan")
    if loss == "log_loss":
        return sklearn_log_loss(y, clf.predict_proba(X), k)
    return float(hinge_loss(y, clf.decision_function(X), labels=range(k)))


# -- the two roads -----------------------------------------------------------------


def train_arrays(
    X,
    labels,
    config: TrainConfig | None = None,
    *,
    paths=(),
    dataset_name: str = "",
    skipped=(),
    with_hinge: bool = True,
    with_curves: bool = True,
    progress=None,
) -> TrainRun:
    """The post's experiment on features already made: X (n, prod(bins)), one label each.

    The post's model (config.loss, normally the log loss), and beside it on the same split
    the Linear SVM (hinge) and the post's model's learning curves, unless switched off.
    progress(stage, done, total), if given, hears "training" and "curves" (epoch k of n)."""
    config = config or TrainConfig()
    t0 = time.perf_counter()
    X = np.asarray(X)  # (n, d)
    le, y = check_labels(labels)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise TrainingError(f"{X.shape[0] if X.ndim else 0} feature rows for {len(y)} labels")
    if X.shape[1] != int(np.prod(config.bins)):
        raise TrainingError(
            f"{X.shape[1]} features per image, but bins {config.bins} make {int(np.prod(config.bins))}"
        )
    classes = tuple(str(c) for c in le.classes_)
    split = split_indices(y, config)
    paths = tuple(str(p) for p in paths)
    if progress is not None:
        progress("training", 0, 1)
    post = _fit(X, y, classes, split, config, paths, dataset_name)
    hinge = None
    if with_hinge and config.loss != "hinge":
        hinge = _fit(X, y, classes, split, replace(config, loss="hinge"), paths, dataset_name)
    curves = learning_curves(X, post, progress) if with_curves else None
    colours = test_colours(X[post.test_idx])  # which test images hold most of each colour (cheap)
    return TrainRun(
        dataset=dataset_name,
        config=config,
        post=post,
        hinge=hinge,
        curves=curves,
        skipped=tuple(skipped),
        seconds=time.perf_counter() - t0,
        colours=colours,
    )


_MEMORY: OrderedDict[tuple, TrainRun] = OrderedDict()
_MEMORY_SIZE = 8  # runs remembered per process (a run of 25,000 images holds ~2 MB)
_MEMORY_LOCK = threading.Lock()


def train_folder(
    root,
    config: TrainConfig | None = None,
    *,
    dataset_name: str = "",
    cache_dir=None,
    within=None,
    progress=None,
    with_curves: bool = True,
) -> TrainRun:
    """The Train page's whole job in one call (one trip to a worker process, and no
    feature matrix crosses back): the folder listed once, its features through the disk
    cache, then train_arrays. within: the folder no image may resolve outside of.
    with_curves=False leaves the learning curves to curves_folder, so the report comes
    first (they are most of a warm run); unless the features could not be cached, when
    they are made now, from the features in hand."""
    from core.data.dataset import load_dataset
    from core.data.library import is_synthetic_folder
    from core.learn.features import dataset_features, fingerprint

    config = config or TrainConfig()
    t0 = time.perf_counter()
    if progress is not None:
        progress("listing", 0, 1)
    listing = load_dataset(root, within=within)
    key = (str(root), str(within), config, dataset_name, fingerprint(listing.refs))
    with _MEMORY_LOCK:
        known = _MEMORY.get(key)
        if known is not None:
            _MEMORY.move_to_end(key)
    if known is not None:
        return replace(known, from_memory=True, seconds=time.perf_counter() - t0, feature_seconds=0.0)
    on_features = None if progress is None else (lambda done, total: progress("features", done, total))
    feats = dataset_features(listing, config, progress=on_features, cache_dir=cache_dir)
    run = train_arrays(
        feats.X,
        feats.labels,
        config,
        paths=feats.paths,
        dataset_name=dataset_name,
        skipped=feats.skipped,
        progress=progress,
        with_curves=with_curves or bool(feats.cache_notes),
    )
    synthetic = is_synthetic_folder(root)
    if synthetic:  # the model says so wherever it goes (Classify, a downloaded file)
        model = replace(run.post.model, meta={**run.post.model.meta, "synthetic": True})
        run = replace(run, post=replace(run.post, model=model))
    run = replace(
        run,
        path=str(root),
        fingerprint=key[-1],
        synthetic=synthetic,
        feature_seconds=time.perf_counter() - t0 - run.seconds,
        cache_notes=feats.cache_notes,
        seconds=time.perf_counter() - t0,
    )
    if not run.cache_notes:  # a run whose features could not be cached is not kept either
        with _MEMORY_LOCK:
            _MEMORY[key] = run
            while len(_MEMORY) > _MEMORY_SIZE:
                _MEMORY.popitem(last=False)
    return run


def curves_folder(root, run: TrainRun, *, cache_dir=None, within=None, progress=None) -> LearningCurves:
    """The learning curves of a run that train_folder made without them: its very images'
    features read back from the disk cache (a changed folder is refused)."""
    from core.data.dataset import load_dataset
    from core.learn.features import dataset_features

    feats = dataset_features(load_dataset(root, within=within), run.config, cache_dir=cache_dir)
    if feats.paths != run.post.paths:
        raise TrainingError("the images in the folder changed after training; train again first")
    curves = learning_curves(feats.X, run.post, progress)
    with _MEMORY_LOCK:  # the remembered run gets them too: Train again shows them at once
        for key, known in _MEMORY.items():
            if known.fingerprint == run.fingerprint and known.config == run.config:
                _MEMORY[key] = replace(known, curves=curves)
    return curves
