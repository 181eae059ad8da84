"""The maths of the explainer: scores -> exp -> probabilities -> loss, and back.

Each loss sits beside its gradient with respect to the scores (micrograd style),
so the page can show which way every score should move. Scores are a 1-D
sequence of K >= 2 finite floats; `target` is the index of the true class.

The post's worked example (dog, cat, boat, airplane; true class airplane):

    >>> p = softmax([-3.44, 1.16, -0.81, 3.91])
    >>> [round(float(x), 4) for x in p]
    [0.0006, 0.0596, 0.0083, 0.9315]
    >>> round(cross_entropy([-3.44, 1.16, -0.81, 3.91], 3), 4)
    0.0709
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ArrayLike = Sequence[float] | np.ndarray

# float64 exp(x) is inf for x above ln(max float) ~ 709.78: the point where the naive form breaks.
EXP_OVERFLOW = math.log(np.finfo(np.float64).max)


# ---------------------------------------------------------------- validation


def as_scores(scores: ArrayLike) -> np.ndarray:
    """Scores as a float64 vector, or a ValueError saying what is wrong with them."""
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numbers, got {scores!r}") from exc
    if s.ndim != 1:
        raise ValueError(f"scores must be a 1-D list of numbers, got shape {s.shape}")
    if s.size < 2:
        raise ValueError(f"a softmax needs at least 2 classes, got {s.size}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers (no NaN or infinity)")
    return s


def check_target(target: int, k: int) -> int:
    """The true class's index, checked against the number of classes."""
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise ValueError(f"target must be a class index (an int), got {target!r}")
    if not 0 <= target < k:
        raise ValueError(f"target {target} is not a class index for {k} classes (0..{k - 1})")
    return int(target)


def check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    return t


def check_base(base: float) -> float:
    b = float(base)
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise ValueError(f"log base must be positive, finite and not 1, got {base!r}")
    return b


# ---------------------------------------------------------------- softmax
# Each public function checks its arguments, then calls its kernel (the leading
# underscore): the same maths on arguments already checked. core.explain.view checks
# one page state once and calls the kernels directly, so a rerun validates nothing twice.


def _log_softmax(s: np.ndarray, t: float) -> np.ndarray:
    # Shift before dividing: s / T alone overflows to inf (then nan) for huge s or tiny T.
    # A gap wider than float64 holds becomes -inf, i.e. a probability of exactly 0.
    with np.errstate(over="ignore"):
        shifted = (s - s.max()) / t  # (K,), max is 0
    return shifted - np.log(np.sum(np.exp(shifted)))


def log_softmax(scores: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """log p_j = z_j - max(z) - ln(sum_k e^(z_k - max(z))), with z = s / T.

    Subtracting the max first keeps every exponent <= 0, so nothing overflows
    and the largest term is exactly 1 (the sum never underflows to 0).
    """
    return _log_softmax(as_scores(scores), check_temperature(temperature))


def softmax(scores: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """p_j = e^(s_j / T) / sum_k e^(s_k / T), computed stably."""
    return np.exp(log_softmax(scores, temperature))


@dataclass(frozen=True)
class PostTable:
    """The post's table, one entry per class."""

    exp: np.ndarray  # (K,) e^(s/T) as written: inf above 709.78, where the naive form breaks
    probabilities: np.ndarray  # (K,) computed stably
    neg_log: np.ndarray  # (K,) -log_base p: the loss were that class the true one


def _post_table(s: np.ndarray, t: float, base: float) -> PostTable:
    logp = _log_softmax(s, t)  # (K,)
    with np.errstate(over="ignore"):
        e = np.exp(s / t)
    return PostTable(e, np.exp(logp), -logp / math.log(base))


def post_table(scores: ArrayLike, temperature: float = 1.0, base: float = math.e) -> PostTable:
    """exp(score), probability and -log p per class, as the post tabulates them."""
    return _post_table(as_scores(scores), check_temperature(temperature), check_base(base))


def _softmax_gradient(p: np.ndarray, y: int, t: float, base: float) -> np.ndarray:
    onehot = np.zeros_like(p)
    onehot[y] = 1.0
    return (p - onehot) / (t * math.log(base))


def softmax_gradient(
    scores: ArrayLike, target: int, temperature: float = 1.0, base: float = math.e
) -> np.ndarray:
    """d cross_entropy / d scores = (p - onehot(target)) / (T ln base).

    With the defaults (T = 1, natural log) this is exactly p - onehot: raise the
    true class's score, lower the others in proportion to their probability.
    """
    p = softmax(scores, temperature)  # (K,)
    return _softmax_gradient(
        p, check_target(target, p.size), check_temperature(temperature), check_base(base)
    )


def _cross_entropy(logp: np.ndarray, y: int, base: float) -> float:
    nats = float(-logp[y])  # a Python float: inf, not a warning,
    return nats / math.log(base)  # when a base near 1 overflows it


def cross_entropy(scores: ArrayLike, target: int, base: float = math.e, temperature: float = 1.0) -> float:
    """-log_base p_target. In nats (base e) this is the post's 0.0709."""
    logp = log_softmax(scores, temperature)
    return _cross_entropy(logp, check_target(target, logp.size), check_base(base))


# ---------------------------------------------------------------- hinge losses


def _check_margin(margin: float) -> float:
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    return margin


def _margins(s: np.ndarray, y: int, margin: float) -> np.ndarray:
    """max(0, s_j - s_y + margin) for every j != y (0 at j = y)."""
    m = np.maximum(0.0, s - s[y] + margin)  # (K,)
    m[y] = 0.0
    return m


def _checked_margins(scores: ArrayLike, target: int, margin: float) -> tuple[np.ndarray, int]:
    s = as_scores(scores)
    y = check_target(target, s.size)
    return _margins(s, y, _check_margin(margin)), y


def _hinge_gradient(m: np.ndarray, y: int) -> np.ndarray:
    g = (m > 0).astype(np.float64)
    g[y] = -g.sum()
    return g


def _squared_hinge_gradient(m: np.ndarray, y: int) -> np.ndarray:
    g = 2.0 * m
    g[y] = -g.sum()
    return g


def hinge_loss(scores: ArrayLike, target: int, margin: float = 1.0) -> float:
    """Multi-class SVM loss: sum_{j != y} max(0, s_j - s_y + margin)."""
    m, _ = _checked_margins(scores, target, margin)
    return float(m.sum())


def hinge_gradient(scores: ArrayLike, target: int, margin: float = 1.0) -> np.ndarray:
    """+1 for every class inside the margin, minus their count on the true class."""
    return _hinge_gradient(*_checked_margins(scores, target, margin))


def squared_hinge_loss(scores: ArrayLike, target: int, margin: float = 1.0) -> float:
    """sum_{j != y} max(0, s_j - s_y + margin)^2: punishes big violations harder."""
    m, _ = _checked_margins(scores, target, margin)
    return float(np.sum(m**2))


def squared_hinge_gradient(scores: ArrayLike, target: int, margin: float = 1.0) -> np.ndarray:
    """2 max(0, .) per violating class, minus their sum on the true class."""
    return _squared_hinge_gradient(*_checked_margins(scores, target, margin))


LOSSES = {
    # name -> (loss, gradient), both taking (scores, target)
    "cross-entropy": (cross_entropy, softmax_gradient),
    "hinge": (hinge_loss, hinge_gradient),
    "squared hinge": (squared_hinge_loss, squared_hinge_gradient),
}


def _check_learning_rate(learning_rate: float) -> float:
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning rate must be a positive number, got {learning_rate!r}")
    return learning_rate


def gradient_step(scores: ArrayLike, gradient: ArrayLike, learning_rate: float) -> np.ndarray:
    """One step of gradient descent on the scores themselves: s - lr * grad."""
    s, g = as_scores(scores), np.asarray(gradient, dtype=np.float64)
    if g.shape != s.shape:
        raise ValueError(f"gradient has shape {g.shape}, scores {s.shape}")
    return s - _check_learning_rate(learning_rate) * g


# ---------------------------------------------------------------- the page's helpers


def _loss_curve(s: np.ndarray, y: int, g: np.ndarray, base: float, t: float) -> np.ndarray:
    z = np.tile(s, (g.size, 1))  # (G, K)
    z[:, y] = g
    with np.errstate(over="ignore"):  # as in log_softmax: shift first, then divide by T
        shifted = (z - z.max(axis=1, keepdims=True)) / t  # (G, K)
    lse = np.log(np.exp(shifted).sum(axis=1))  # (G,)
    return (lse - shifted[:, y]) / math.log(base)


def loss_curve(
    scores: ArrayLike, target: int, grid: ArrayLike, base: float = math.e, temperature: float = 1.0
) -> np.ndarray:
    """Cross-entropy as the true class's score sweeps `grid`, other scores fixed."""
    s = as_scores(scores)
    y = check_target(target, s.size)
    g = np.asarray(grid, dtype=np.float64)  # (G,)
    return _loss_curve(s, y, g, check_base(base), check_temperature(temperature))


def _rank_of_target(s: np.ndarray, y: int) -> int:
    others = np.delete(s, y)
    return int(np.sum(others >= s[y])) + 1


def rank_of_target(scores: ArrayLike, target: int) -> int:
    """1-based rank of the true class; ties count against it (a tie is not a win)."""
    s = as_scores(scores)
    return _rank_of_target(s, check_target(target, s.size))


def in_top_k(scores: ArrayLike, target: int, k: int) -> bool:
    """Is the true class among the k highest scores (top-1, top-5 accuracy)?"""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return rank_of_target(scores, target) <= k


@dataclass(frozen=True)
class OverflowView:
    """The same scores through the naive and the max-subtracted softmax."""

    scores: np.ndarray  # (K,)
    naive_exp: np.ndarray  # (K,) e^s, inf past EXP_OVERFLOW, 0 below about -745
    naive_probabilities: np.ndarray  # (K,) nan when the sum is inf (or 0)
    shifted: np.ndarray  # (K,) s - max(s), all <= 0
    stable_exp: np.ndarray  # (K,) e^(s - max), in (0, 1]
    stable_probabilities: np.ndarray  # (K,) always finite, sums to 1

    @property
    def naive_broken(self) -> bool:
        return not bool(np.all(np.isfinite(self.naive_probabilities)))

    @property
    def naive_failure(self) -> str | None:
        """How the naive form broke: "overflow" (a term is inf, so inf / inf = nan),
        "underflow" (every term is 0, so 0 / 0 = nan), or None when it did not."""
        if not self.naive_broken:
            return None
        return "overflow" if bool(np.any(np.isinf(self.naive_exp))) else "underflow"


def naive_softmax(scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """e^s / sum e^s straight from the definition: what overflows. Returns (exp, p)."""
    return _naive_softmax(as_scores(scores))


def _naive_softmax(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        e = np.exp(s)
        return e, e / e.sum()


def _overflow_view(s: np.ndarray) -> OverflowView:
    naive_exp, naive_p = _naive_softmax(s)
    with np.errstate(over="ignore"):  # a gap past float64's range is -inf: exp gives 0
        shifted = s - s.max()
    stable_exp = np.exp(shifted)
    return OverflowView(s, naive_exp, naive_p, shifted, stable_exp, stable_exp / stable_exp.sum())


def overflow_view(scores: ArrayLike) -> OverflowView:
    return _overflow_view(as_scores(scores))


# ---------------------------------------------------------------- many examples at once
# The same losses over a batch: scores S of shape (n, K), one true class per row. The
# Playground trains a linear classifier with these; for one row they equal the
# functions above (tests/unit/test_softmax.py checks both against each other).


def as_score_rows(scores: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Scores as an (n, K) float64 array of finite numbers, K >= 2, or a ValueError."""
    try:
        S = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("scores must be numbers") from exc
    if S.ndim != 2 or S.shape[1] < 2:
        raise ValueError(f"scores must be an (n, K) array with K >= 2, got shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError("scores must be finite numbers (no NaN or infinity)")
    return S


def check_targets(targets, n: int, k: int) -> np.ndarray:
    """One class index per row, each in 0..k-1."""
    y = np.asarray(targets)
    if y.shape != (n,) or (n and y.dtype.kind not in "iu"):
        raise ValueError(f"targets must be {n} class indices, got shape {y.shape} ({y.dtype})")
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"targets must be class indices 0..{k - 1}")
    return y.astype(np.intp)


def log_softmax_rows(scores, temperature: float = 1.0) -> np.ndarray:
    """log_softmax of every row, stably (max subtracted first, as log_softmax)."""
    S, t = as_score_rows(scores), check_temperature(temperature)  # (n, K)
    with np.errstate(over="ignore"):
        shifted = (S - S.max(axis=1, keepdims=True)) / t  # (n, K), each row's max is 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_rows(scores, temperature: float = 1.0) -> np.ndarray:
    """p for every row, (n, K); each row sums to 1."""
    return np.exp(log_softmax_rows(scores, temperature))


def cross_entropy_rows(scores, targets, temperature: float = 1.0) -> np.ndarray:
    """-ln p_(y_i) for every row i, in nats: (n,)."""
    logp = log_softmax_rows(scores, temperature)  # (n, K)
    y = check_targets(targets, *logp.shape)
    return -logp[np.arange(len(y)), y]


def softmax_gradient_rows(scores, targets, temperature: float = 1.0) -> np.ndarray:
    """d cross_entropy_rows / d S = (P - onehot(y)) / T, (n, K)."""
    P = softmax_rows(scores, temperature)  # (n, K)
    y = check_targets(targets, *P.shape)
    P[np.arange(len(y)), y] -= 1.0
    return P / check_temperature(temperature)


def _margin_rows(scores, targets, margin: float) -> tuple[np.ndarray, np.ndarray]:
    S = as_score_rows(scores)  # (n, K)
    y = check_targets(targets, *S.shape)
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    rows = np.arange(len(y))
    M = np.maximum(0.0, S - S[rows, y][:, None] + margin)  # (n, K)
    M[rows, y] = 0.0
    return M, y


def hinge_rows(scores, targets, margin: float = 1.0) -> np.ndarray:
    """Weston-Watkins multi-class hinge of every row: sum_{j != y} max(0, s_j - s_y + margin), (n,)."""
    M, _ = _margin_rows(scores, targets, margin)
    return M.sum(axis=1)


def hinge_gradient_rows(scores, targets, margin: float = 1.0) -> np.ndarray:
    """d hinge_rows / d S, (n, K): +1 for each class inside the margin, minus their count on y."""
    M, y = _margin_rows(scores, targets, margin)
    G = (M > 0).astype(np.float64)  # (n, K)
    G[np.arange(len(y)), y] = -G.sum(axis=1)
    return G


ROW_LOSSES = {
    # name -> (per-row loss, its gradient), both taking (scores (n, K), targets (n,))
    "cross-entropy": (cross_entropy_rows, softmax_gradient_rows),
    "hinge": (hinge_rows, hinge_gradient_rows),
}
