"""Beyond the post: the same features and split with better-founded models.

SGDClassifier's predict_proba with more than two classes normalises one-vs-rest
sigmoids; LogisticRegression is a true softmax. Square roots (Hellinger) and an additive
chi-squared feature map suit histograms better than raw counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.kernel_approximation import AdditiveChi2Sampler
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from core.learn.config import TrainConfig, TrainingError
from core.learn.train import TrainResult, make_sgd


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    accuracy: float
    seconds: float


def _hellinger(Z: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(Z, 0, None))


def _chi2(Z: np.ndarray) -> np.ndarray:
    return AdditiveChi2Sampler(sample_steps=2).fit_transform(np.clip(Z, 0, None))


# name, what it is, the estimator for a config, the feature map
VARIANTS: tuple[tuple[str, str, Callable[[TrainConfig], object], Callable[[np.ndarray], np.ndarray]], ...] = (
    (
        "The post's recipe",
        "SGDClassifier, log loss, raw histograms",
        lambda c: make_sgd(c, loss="log_loss"),
        None,
    ),
    (
        "Linear SVM (hinge)",
        "SGDClassifier, hinge loss, raw histograms",
        lambda c: make_sgd(c, loss="hinge"),
        None,
    ),
    (
        "Multinomial softmax",
        "LogisticRegression (lbfgs): one softmax over all classes",
        lambda c: LogisticRegression(max_iter=1000),
        None,
    ),
    (
        "Hellinger features",
        "SGD log loss on sqrt(histogram)",
        lambda c: make_sgd(c, loss="log_loss"),
        _hellinger,
    ),
    (
        "Chi-squared feature map",
        "SGD log loss on AdditiveChi2Sampler(sample_steps=2)",
        lambda c: make_sgd(c, loss="log_loss"),
        _chi2,
    ),
)


def variant_features(variant, X) -> np.ndarray:
    """A variant's input: X as the post's model was trained on it (float32 from the cache:
    the post's recipe here is the reported model to the last digit), or its feature map of
    X, worked in float64. It does not depend on the split: one map serves every split."""
    transform = variant[3]
    return np.asarray(X) if transform is None else transform(np.asarray(X, dtype=np.float64))


def fit_variant(variant, Z, y, train_idx, test_idx, config: TrainConfig) -> float:
    """One of VARIANTS fitted on one split of its input Z (variant_features): its test accuracy."""
    clf = variant[2](config).fit(Z[train_idx], y[train_idx])
    return float(accuracy_score(y[test_idx], clf.predict(Z[test_idx])))


def beyond_the_post(X, result: TrainResult) -> list[Variant]:
    """Every variant on the result's own features and split, each timed (its map and fit)."""
    out = []
    for variant in VARIANTS:
        t0 = time.perf_counter()
        Z = variant_features(variant, X)
        acc = fit_variant(variant, Z, result.y, result.train_idx, result.test_idx, result.config)
        out.append(Variant(variant[0], variant[1], acc, time.perf_counter() - t0))
    return out


def run_features(root, result: TrainResult, *, cache_dir=None, within=None) -> np.ndarray:
    """The features `result` was trained on, again, from the disk cache: (n, d), rows as
    result.y. For work in the worker process that needs them: no feature matrix crosses
    between the processes."""
    from core.data.dataset import load_dataset
    from core.learn.features import dataset_features

    feats = dataset_features(load_dataset(root, within=within), result.config, cache_dir=cache_dir)
    if feats.paths != result.paths:
        raise TrainingError("the images in the folder changed after training; train again first")
    return feats.X


def compare_folder(root, result: TrainResult, *, cache_dir=None, within=None) -> list[Variant]:
    """beyond_the_post on the very images `result` was trained on (from the disk cache)."""
    return beyond_the_post(run_features(root, result, cache_dir=cache_dir, within=within), result)
