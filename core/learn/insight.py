"""What the trained model learned and where its loss comes from: pure functions of a run.

- weights: one row of W over the colour bins, largest positive and negative first
  (a binary model has one row: positive votes for class 1, negative for class 0)
- test colours: for every bin, the test images with the most of their pixels in it
- per-image losses: -ln p(true class) of each test image; their mean is the log loss
- an image's score as the sum of its terms W_j x_j, plus b (the Classify page's waterfall)
- the model at epoch k, from the learning curves' own models (the epoch replay)

No Streamlit, no colours: core.charts.insight draws these numbers.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import confusion_matrix, log_loss

from core.text import md, number, percent

if TYPE_CHECKING:  # train.py imports this module: the types only, for the reader
    from core.learn.model import SavedModel
    from core.learn.train import LearningCurves, TrainResult

N_WEIGHTS = 8  # bins shown on each side of a weight vector: more is a wall of bars on a phone
N_IMAGES = 8  # test images kept per colour bin, and shown in a gallery
N_TERMS = 8  # terms of a score's waterfall before "other bins"


# ---------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weight:
    index: int  # the bin: flat index into the (H, S, V) histogram, C order
    weight: float


@dataclass(frozen=True, eq=False)
class WeightVector:
    """One row of W: the colours that push its score up (positive) or down (negative)."""

    row: int  # row of coef
    votes_for: str  # the class a positive weight votes for
    votes_against: str  # the class (binary) or classes a negative weight votes for
    positive: tuple[Weight, ...]  # largest first
    negative: tuple[Weight, ...]  # most negative first
    bias: float
    norm: float  # |W_row|, the size regularisation keeps down


def weight_rows(classes) -> list[tuple[int, str, str]]:
    """(row of coef, what a positive weight votes for, what a negative one votes for).
    A binary model's single row decides between its two classes: its score z is the
    score of class 1 (class 0's is 0)."""
    classes = [str(c) for c in classes]
    if len(classes) == 2:
        return [(0, classes[1], classes[0])]
    return [(i, c, "the other classes") for i, c in enumerate(classes)]


def weight_vector(coef, intercept, classes, row: int, n: int = N_WEIGHTS) -> WeightVector:
    """The n largest positive and n most negative weights of one row of coef (rows, d)."""
    w = np.asarray(coef, dtype=np.float64)[row]  # (d,)
    _, votes_for, votes_against = weight_rows(classes)[row]
    order = np.argsort(-w, kind="stable")  # largest first; ties by bin
    positive = [Weight(int(j), float(w[j])) for j in order[:n] if w[j] > 0]
    negative = [Weight(int(j), float(w[j])) for j in order[::-1][:n] if w[j] < 0]
    return WeightVector(
        row=row,
        votes_for=votes_for,
        votes_against=votes_against,
        positive=tuple(positive),
        negative=tuple(negative),
        bias=float(np.ravel(intercept)[row]),
        norm=float(np.linalg.norm(w)),
    )


# ---------------------------------------------------------------- the test images' colours


@dataclass(frozen=True, eq=False)
class TestColours:
    """For every colour bin, the test images with the largest share of their pixels in it.
    Made where the features are (the worker process): a few numbers per bin cross back,
    never the feature matrix."""

    positions: np.ndarray  # (d, N) int32: positions in the test set, most pixels first
    shares: np.ndarray  # (d, N) float32: the share of that image's pixels in the bin
    values: np.ndarray  # (d, N) float32: the feature x_j itself (what W_j multiplies)


def test_colours(X_test, n: int = N_IMAGES, chunk: int = 256) -> TestColours:
    """X_test (n_test, d) raw histograms. L2 normalisation only rescales a histogram, so
    x / x.sum() is each image's share of pixels per bin (as core.charts.histogram says)."""
    X = np.asarray(X_test, dtype=np.float32)  # (n_test, d)
    n_test, d = X.shape
    m = min(n, n_test)
    total = X.sum(axis=1, keepdims=True)  # (n_test, 1)
    positions = np.zeros((d, m), np.int32)
    shares = np.zeros((d, m), np.float32)
    values = np.zeros((d, m), np.float32)
    if m == 0:
        return TestColours(positions, shares, values)
    for lo in range(0, d, chunk):  # in blocks of bins: 25,000 images x 1,728 bins stay small
        x = X[:, lo : lo + chunk]  # (n_test, b)
        share = np.divide(x, total, out=np.zeros_like(x), where=total > 0)
        top = np.argpartition(-share, m - 1, axis=0)[:m]  # (m, b), unordered
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(share, top, 0), 0, kind="stable"), 0)
        positions[lo : lo + chunk] = top.T
        shares[lo : lo + chunk] = np.take_along_axis(share, top, 0).T
        values[lo : lo + chunk] = np.take_along_axis(x, top, 0).T
    return TestColours(positions, shares, values)


@dataclass(frozen=True)
class ColourImage:
    row: int  # row of the result's y / paths
    name: str  # the file's name ('' when trained on bare arrays)
    actual: str
    predicted: str
    share: float  # of its pixels in the bin
    x: float  # the feature value x_j
    score: float  # its score in the row shown (a binary model: z)
    p_predicted: float | None  # the model's probability of its answer (None: hinge)


def images_with_colour(result: TrainResult, colours: TestColours, index: int, row: int) -> list[ColourImage]:
    """The test images with the most of colour bin `index` (those with none of it left
    out), with their scores in coef row `row` of the reported model."""
    out = []
    for pos, share, x in zip(colours.positions[index], colours.shares[index], colours.values[index]):
        if share <= 0:
            break
        r = int(result.test_idx[pos])
        scores = result.scores_test[pos]  # (K,): a binary model's are [0, z]
        predicted = int(result.pred_test[pos])
        out.append(
            ColourImage(
                row=r,
                name=Path(result.paths[r]).name if result.paths else "",
                actual=result.classes[result.y[r]],
                predicted=result.classes[predicted],
                share=float(share),
                x=float(x),
                score=float(scores[1] if len(result.classes) == 2 else scores[row]),
                p_predicted=None if result.proba_test is None else float(result.proba_test[pos, predicted]),
            )
        )
    return out


# ---------------------------------------------------------------- per-image losses


@dataclass(frozen=True, eq=False)
class Losses:
    """-ln p(true class) of every test image. p is clipped to [eps, 1 - eps] exactly as
    sklearn.metrics.log_loss does, so their mean is the log loss and no loss is infinite
    (at most 36.04 for float64 probabilities)."""

    loss: np.ndarray  # (n_test,)
    p_true: np.ndarray  # (n_test,) the model's probability of the true class
    correct: np.ndarray  # (n_test,) bool

    @property
    def mean(self) -> float:
        return float(self.loss.mean()) if len(self.loss) else float("nan")

    def share_of_total(self, mask: np.ndarray) -> float:
        """The part of the total loss that the images in `mask` carry."""
        total = float(self.loss.sum())
        return float(self.loss[mask].sum()) / total if total > 0 else 0.0


# scikit-learn 1.9 renamed log_loss's y_pred to y_proba (and warns at the old name).
_PROBA = "y_proba" if "y_proba" in inspect.signature(log_loss).parameters else "y_pred"


def sklearn_log_loss(y, proba, k: int) -> float:
    """scikit-learn's own log_loss of probabilities (n, k) for labels y (n,)."""
    return float(log_loss(y, labels=range(k), **{_PROBA: proba}))


def test_log_loss(result: TrainResult) -> float:
    """scikit-learn's log_loss on the result's test predictions: what the mean of the
    per-image losses must equal."""
    return sklearn_log_loss(result.y[result.test_idx], result.proba_test, len(result.classes))


def image_losses(result: TrainResult) -> Losses:
    """Each test image's loss, worked as log_loss works it: clipped at the probabilities'
    own eps, in their own precision (SGD gives float32 probabilities with three or more
    classes), so that the mean is log_loss's number, not one a rounding away from it."""
    if result.proba_test is None:
        raise ValueError("a hinge-loss (SVM) model gives scores, not probabilities: no log loss")
    y = result.y[result.test_idx]  # (n_test,)
    proba = np.asarray(result.proba_test)
    eps = np.finfo(proba.dtype).eps
    p = proba[np.arange(len(y)), y]
    return Losses(
        loss=-np.log(np.clip(p, eps, 1 - eps)),
        p_true=p,
        correct=result.pred_test == y,
    )


@dataclass(frozen=True)
class CostlyImage:
    position: int  # in the test set (row of proba_test, scores_test)
    row: int  # of the result's y / paths
    path: str | None
    actual: str
    predicted: str
    p_predicted: float  # how sure it was of its answer
    p_true: float
    loss: float
    scores: tuple[float, ...]  # the model's class scores (a binary model's: 0, z)


def top_losses(result: TrainResult, losses: Losses, n: int = N_IMAGES) -> list[CostlyImage]:
    """The n test images that cost the most loss: the most confident mistakes first."""
    order = np.argsort(-losses.loss, kind="stable")[:n]
    out = []
    for pos in order:
        r = int(result.test_idx[pos])
        predicted = int(result.pred_test[pos])
        out.append(
            CostlyImage(
                position=int(pos),
                row=r,
                path=result.paths[r] if result.paths else None,
                actual=result.classes[result.y[r]],
                predicted=result.classes[predicted],
                p_predicted=float(result.proba_test[pos, predicted]),
                p_true=float(losses.p_true[pos]),
                loss=float(losses.loss[pos]),
                scores=tuple(float(s) for s in result.scores_test[pos]),
            )
        )
    return out


@dataclass(frozen=True)
class ConfusedPair:
    actual: str
    predicted: str
    images: int
    of_actual: float  # share of the actual class's test images
    loss: float  # the part of the total test loss these images carry


def confused_pairs(result: TrainResult, losses: Losses, n: int = 5) -> list[ConfusedPair]:
    """The n most frequent mistakes (actual, predicted), most images first."""
    cm = np.asarray(result.confusion)  # (K, K)
    y = result.y[result.test_idx]
    pairs = [(int(cm[a, p]), a, p) for a in range(len(cm)) for p in range(len(cm)) if a != p and cm[a, p]]
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [
        ConfusedPair(
            actual=result.classes[a],
            predicted=result.classes[p],
            images=count,
            of_actual=count / max(int(cm[a].sum()), 1),
            loss=losses.share_of_total((y == a) & (result.pred_test == p)),
        )
        for count, a, p in pairs[:n]
    ]


def loss_sentence(losses: Losses) -> str:
    """Where the loss comes from, in words drawn from these numbers."""
    n = len(losses.loss)
    if n == 0:
        return ""
    k = max(1, round(n / 10))
    costliest = np.argsort(-losses.loss, kind="stable")[:k]
    top = np.zeros(n, bool)
    top[costliest] = True
    wrong = ~losses.correct
    text = (
        f"The {k} costliest of the {n} test images ({percent(k / n, 0)}) carry "
        f"{percent(losses.share_of_total(top), 0)} of the total loss"
    )
    if wrong.any():
        mistakes = "the 1 mistake carries" if wrong.sum() == 1 else f"the {int(wrong.sum())} mistakes carry"
        text += (
            f"; {mistakes} {percent(losses.share_of_total(wrong), 0)}. "
            "A confident mistake (p of the true class near 0) costs far more than a hesitant "
            "right answer: -ln 0.5 = 0.69, but -ln 0.05 = 3.0."
        )
    else:
        text += ". No test image is misclassified: every loss is a right answer's lack of confidence."
    return text


# ---------------------------------------------------------------- one score, term by term


@dataclass(frozen=True)
class Term:
    index: int  # the bin
    x: float  # the image's feature value
    weight: float  # W_j
    value: float  # W_j * x_j


@dataclass(frozen=True, eq=False)
class ScoreTerms:
    """s = sum_j W_j x_j + b as its largest terms, the rest summed, and the bias."""

    cls: str  # the class whose score this is
    row: int  # row of coef
    terms: tuple[Term, ...]  # largest |W_j x_j| first
    other: float  # the sum of every other term
    n_other: int  # how many bins that is (bins the image has no pixels in add 0)
    bias: float
    score: float  # the model's own score for the class: what the Explain hand-off shows

    @property
    def total(self) -> float:
        """The terms added up again (equal to score, to rounding)."""
        return float(sum(t.value for t in self.terms) + self.other + self.bias)


def score_terms(model: SavedModel, hist, row: int, n: int = N_TERMS) -> ScoreTerms:
    """The waterfall of coef row `row` for one image (a binary model's row 0 is the
    score z of class 1; class 0's score is 0 and has no terms)."""
    x = model.features(hist)[0]  # (d,) after the model's feature map
    w = model.coef[row]  # (d,)
    values = w * x  # (d,)
    shown = np.argsort(-np.abs(values), kind="stable")[:n]
    shown = shown[values[shown] != 0]  # an image with pixels in fewer bins has fewer terms
    rest = np.ones(len(values), bool)
    rest[shown] = False
    cls = model.classes[1] if model.is_binary else model.classes[row]
    return ScoreTerms(
        cls=cls,
        row=row,
        terms=tuple(Term(int(j), float(x[j]), float(w[j]), float(values[j])) for j in shown),
        other=float(values[rest].sum()),
        n_other=int(rest.sum()),
        bias=float(model.intercept[row]),
        score=float(model.class_scores(hist)[0][model.classes.index(cls)]),
    )


def _plus(x: float) -> str:
    return f"+ {number(x)}" if x >= 0 else f"− {number(-x)}"


def terms_sentence(terms: ScoreTerms, classes) -> str:
    """The waterfall in one line of Markdown (class names escaped, numbers whole)."""
    shown = sum(t.value for t in terms.terms)
    text = (
        f"s({md(terms.cls)}) = {number(shown)} from the {len(terms.terms)} largest terms "
        f"{_plus(terms.other)} from the other {terms.n_other} bins {_plus(terms.bias)} (the bias b) "
        f"= **{number(terms.score)}**, the score the Explain page is handed."
    )
    if len(classes) == 2:
        text += (
            f" A binary model has this one score z; {md(classes[0])}'s score is 0 by construction, "
            f"so z > 0 answers {md(classes[1])} and z < 0 answers {md(classes[0])}."
        )
    return text


# ---------------------------------------------------------------- the model at epoch k


@dataclass(frozen=True, eq=False)
class EpochView:
    """The run stopped after `epoch` epochs: the learning curves' model of that epoch."""

    epoch: int
    epochs: int  # of the reported run
    coef: np.ndarray  # (rows, d)
    intercept: np.ndarray  # (rows,)
    pred_test: np.ndarray  # (n_test,)
    confusion: np.ndarray  # (K, K) rows actual, columns predicted
    test_acc: float
    train_acc: float
    test_loss: float
    train_loss: float

    @property
    def is_last(self) -> bool:
        return self.epoch == self.epochs


def reported_view(result: TrainResult) -> EpochView:
    """The reported model as an EpochView, when there are no learning curves to replay."""
    y, tr, te = result.y, result.train_idx, result.test_idx
    k = len(result.classes)

    def loss(idx, proba) -> float:  # nan for a model without probabilities (the SVM)
        return float("nan") if proba is None else sklearn_log_loss(y[idx], proba, k)

    test_loss, train_loss = loss(te, result.proba_test), loss(tr, result.proba_train)
    epochs = int(result.config.epochs)
    return EpochView(
        epoch=epochs,
        epochs=epochs,
        coef=result.model.coef,
        intercept=result.model.intercept,
        pred_test=result.pred_test,
        confusion=result.confusion,
        test_acc=float(result.accuracy),
        train_acc=float(np.mean(result.pred_train == y[tr])) if len(tr) else float("nan"),
        test_loss=test_loss,
        train_loss=train_loss,
    )


def at_epoch(result: TrainResult, curves: LearningCurves, epoch: int) -> EpochView:
    epochs = len(curves.epoch)
    k = min(max(int(epoch), 1), epochs) - 1
    pred = curves.pred_test[k]
    return EpochView(
        epoch=k + 1,
        epochs=epochs,
        coef=curves.coef[k],
        intercept=curves.intercept[k],
        pred_test=pred,
        confusion=confusion_matrix(result.y[result.test_idx], pred, labels=range(len(result.classes))),
        test_acc=float(curves.test_acc[k]),
        train_acc=float(curves.train_acc[k]),
        test_loss=float(curves.test_loss[k]),
        train_loss=float(curves.train_loss[k]),
    )
