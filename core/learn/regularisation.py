"""Regularisation, the post's next topic: the post's model over every alpha the page offers.

SGDClassifier minimises the mean log loss + alpha * |W|^2 / 2. A small alpha lets the
weights grow to fit the training images (over-fitting: training accuracy above test
accuracy); a large one holds them near zero (under-fitting: both fall towards always
answering the commonest class). Same split, same SGD seed: only alpha changes, so the
chosen alpha's point is the reported model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import accuracy_score

from core.learn.beyond import run_features
from core.learn.config import ALPHAS
from core.learn.seeds import points
from core.learn.train import TrainResult, loss_of, make_sgd
from core.text import number, percent


@dataclass(frozen=True)
class AlphaPoint:
    alpha: float
    train_acc: float
    test_acc: float
    train_loss: float  # mean log loss
    test_loss: float
    w_norm: float  # |W|: the root of the sum of every squared weight


@dataclass(frozen=True, eq=False)
class AlphaSweep:
    points: tuple[AlphaPoint, ...]  # smallest alpha first
    chosen: float  # the run's alpha
    majority: float  # test accuracy of always answering the commonest training class
    seconds: float = 0.0

    def at(self, alpha: float) -> AlphaPoint:
        return min(self.points, key=lambda p: abs(np.log(p.alpha / alpha)))

    @property
    def best(self) -> AlphaPoint:
        """The alpha with the lowest test log loss."""
        return min(self.points, key=lambda p: p.test_loss)


def alpha_sweep(X, result: TrainResult, alphas=ALPHAS, progress=None) -> AlphaSweep:
    """The post's model (log loss) on the result's split for each alpha, and the run's own."""
    t0 = time.perf_counter()
    X = np.asarray(X)  # (n, d) as trained
    y, tr, te, k = result.y, result.train_idx, result.test_idx, len(result.classes)
    grid = sorted({float(a) for a in alphas} | {float(result.config.alpha)})
    out = []
    for i, alpha in enumerate(grid):
        if progress is not None:
            progress("alpha", i, len(grid))
        clf = make_sgd(replace(result.config, alpha=alpha), loss="log_loss").fit(X[tr], y[tr])
        out.append(
            AlphaPoint(
                alpha=alpha,
                train_acc=float(accuracy_score(y[tr], clf.predict(X[tr]))),
                test_acc=float(accuracy_score(y[te], clf.predict(X[te]))),
                train_loss=loss_of(clf, X[tr], y[tr], k, "log_loss"),
                test_loss=loss_of(clf, X[te], y[te], k, "log_loss"),
                w_norm=float(np.linalg.norm(clf.coef_)),
            )
        )
    if progress is not None:
        progress("alpha", len(grid), len(grid))
    commonest = np.bincount(y[tr], minlength=k).argmax()
    majority = float(np.mean(y[te] == commonest)) if len(te) else float("nan")
    return AlphaSweep(tuple(out), float(result.config.alpha), majority, time.perf_counter() - t0)


def sweep_folder(root, result: TrainResult, *, cache_dir=None, within=None, progress=None) -> AlphaSweep:
    """alpha_sweep on the images `result` was trained on (from the disk cache; in the worker)."""
    return alpha_sweep(
        run_features(root, result, cache_dir=cache_dir, within=within), result, progress=progress
    )


def alpha_text(alpha: float) -> str:
    """1e-04, as the page's alpha slider writes it."""
    return f"{alpha:.0e}"


OVERFIT = 0.05  # 5 points between training and test accuracy: the model knows its own images
WIDER = 0.03  # a gap 3 points wider than at the best alpha: that much is the weights' doing
FLAT = 0.01  # accuracies within 1 point whatever alpha: alpha does not change the answers


def fit_sentence(sweep: AlphaSweep) -> str:
    """Over- and under-fitting, in words drawn from the curve."""
    pts = sweep.points
    if len(pts) < 2:
        return ""
    best, chosen, lo, hi = sweep.best, sweep.at(sweep.chosen), pts[0], pts[-1]
    text = (
        f"The test log loss is lowest at alpha {alpha_text(best.alpha)} ({number(best.test_loss)}, "
        f"test accuracy {percent(best.test_acc)})"
    )
    if best is chosen:
        text += ", the chosen alpha. "
    else:
        text += (
            f"; at the chosen {alpha_text(chosen.alpha)} it is {number(chosen.test_loss)} "
            f"({percent(chosen.test_acc)}). "
        )
    text += (
        f"From alpha {alpha_text(lo.alpha)} to {alpha_text(hi.alpha)} the weights shrink from "
        f"|W| = {number(lo.w_norm, 2)} to {number(hi.w_norm, 2)}. "
    )
    return (
        text
        + _over(sweep, best)
        + _under(sweep)
        + (
            "The best alpha here is chosen on the test images themselves, so its accuracy is a little "
            "optimistic: a separate validation split is the honest way to choose it."
        )
    )


def _over(sweep: AlphaSweep, best: AlphaPoint) -> str:
    """Over-fitting is the part of the train/test gap that a smaller alpha adds."""
    pts = sweep.points
    gap = {p.alpha: p.train_acc - p.test_acc for p in pts}
    smaller = [p for p in pts if p.alpha < best.alpha]
    widest = max(smaller, key=lambda p: gap[p.alpha], default=None)
    if widest is not None and gap[widest.alpha] - gap[best.alpha] >= WIDER:
        return (
            f"Over-fitting: at alpha {alpha_text(widest.alpha)} the training accuracy is "
            f"{points(gap[widest.alpha])} points above the test accuracy ({percent(widest.train_acc)} vs "
            f"{percent(widest.test_acc)}), {points(gap[widest.alpha] - gap[best.alpha])} more than at the "
            "best alpha: weights free to grow fit the training images better than new ones. "
        )
    spread = max(p.test_acc for p in pts) - min(p.test_acc for p in pts)
    if max(gap.values()) >= OVERFIT:
        low, high = points(min(gap.values())), points(max(gap.values()))
        text = (
            f"The training accuracy stays {low if low == high else f'{low} to {high}'} points above the "
            "test accuracy at every alpha: a gap no alpha closes (images in the test set unlike any in the "
            "training set), not the weights over-fitting. "
        )
    else:
        text = (
            f"Little over-fitting: training and test accuracy are never more than "
            f"{points(max(max(gap.values()), 0))} points apart, whatever alpha. "
        )
    if spread < FLAT:
        text += (
            "The test accuracy hardly moves with alpha, but the log loss does: smaller weights give less "
            "extreme probabilities, so a confident mistake costs less. "
        )
    return text


def _under(sweep: AlphaSweep) -> str:
    pts, hi = sweep.points, sweep.points[-1]
    top_train = max(p.train_acc for p in pts)
    if hi.train_acc <= top_train - OVERFIT or hi.test_acc <= sweep.majority + 0.01:
        return (
            f"Under-fitting: at alpha {alpha_text(hi.alpha)} the training accuracy falls to "
            f"{percent(hi.train_acc)} (test {percent(hi.test_acc)}; always answering the training set's commonest "
            f"class scores {percent(sweep.majority)} of the test images): the weights are held too small to fit even the "
            "training images. "
        )
    return (
        f"No clear under-fitting: even alpha {alpha_text(hi.alpha)} keeps the training accuracy "
        f"within {points(top_train - hi.train_acc)} points of its best. "
    )
