"""A linear classifier on 2-D points, forward and backward side by side (micrograd style).

    scores   S = X W^T + b                          (n, K)
    loss     L = mean_i L_i(S_i, y_i) + lambda sum W^2
    backward G = dL_i/dS_i (per row, from core.softmax)     (n, K)
             dL/dW = G^T X / n + 2 lambda W                 (K, 2)
             dL/db = sum_i G_i / n                          (K,)

The per-row losses and their gradients are core.softmax's batch functions, the very
ones the Explain page's maths is tested against: this module only adds the chain rule
through S = X W^T + b and the regulariser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import softmax as sm

LOSS_LABELS = {
    "cross-entropy": "softmax (cross-entropy)",
    "hinge": "multi-class hinge (SVM)",
}
# Weights beyond this only come from a learning rate that diverges; the bound keeps
# every score finite (|s| <= 20 * 3 * 2 + 20) and the link short.
WEIGHT_LIMIT = 20.0
HINGE_MARGIN = 1.0  # the Weston-Watkins margin (delta) of core.softmax.hinge_rows


@dataclass(frozen=True)
class Model:
    W: np.ndarray  # (K, 2) one row of weights per class
    b: np.ndarray  # (K,) one bias per class

    @classmethod
    def of(cls, W, b) -> Model:
        W = np.asarray(W, dtype=np.float64).reshape(-1, 2)  # (K, 2)
        b = np.asarray(b, dtype=np.float64).reshape(-1)  # (K,)
        if W.shape[0] != b.shape[0] or W.shape[0] < 2:
            raise ValueError(f"W is {W.shape}, b is {b.shape}: need K >= 2 rows and K biases")
        return cls(W, b)


@dataclass(frozen=True)
class Evaluation:
    """Everything one forward and one backward pass give, computed once per rerun."""

    scores: np.ndarray  # (n, K) S = X W^T + b
    probabilities: np.ndarray  # (n, K) softmax(S / T), shown whichever loss is trained
    row_losses: np.ndarray  # (n,) L_i
    data_loss: float  # mean of L_i
    reg_loss: float  # lambda * sum W^2
    dS: np.ndarray  # (n, K) dL/dS = G / n: what each point's scores want
    dW: np.ndarray  # (K, 2)
    db: np.ndarray  # (K,)
    predicted: np.ndarray  # (n,) argmax of the scores (a tie goes to the lower class)
    correct: np.ndarray  # (n,) bool

    @property
    def total(self) -> float:
        return self.data_loss + self.reg_loss

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())


def row_loss_functions(loss: str, temperature: float = 1.0):
    """(per-row loss, its gradient) over (S, y), with the temperature where it belongs."""
    if loss not in sm.ROW_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {list(sm.ROW_LOSSES)}")
    forward, backward = sm.ROW_LOSSES[loss]
    if loss == "cross-entropy":
        return (
            lambda S, y: forward(S, y, temperature=temperature),
            lambda S, y: backward(S, y, temperature=temperature),
        )
    return (lambda S, y: forward(S, y, margin=HINGE_MARGIN), lambda S, y: backward(S, y, margin=HINGE_MARGIN))


def scores(model: Model, X: np.ndarray) -> np.ndarray:
    return X @ model.W.T + model.b  # (n, 2) @ (2, K) + (K,) -> (n, K)


def evaluate(
    model: Model, X: np.ndarray, y: np.ndarray, loss: str, lam: float, temperature: float = 1.0
) -> Evaluation:
    """Forward (scores, per-point losses, data + regularisation) and backward (dL/dW, dL/db)."""
    forward, backward = row_loss_functions(loss, temperature)
    S = sm.as_score_rows(scores(model, X))  # (n, K)
    y = sm.check_targets(y, *S.shape)  # (n,)
    n = len(y)
    L = forward(S, y)  # (n,)
    data = float(L.mean())
    reg = float(lam * np.sum(model.W**2))
    dS = backward(S, y) / n  # (n, K): the mean divides every row's gradient by n
    dW = dS.T @ X + 2 * lam * model.W  # (K, n) @ (n, 2) + (K, 2) -> (K, 2)
    db = dS.sum(axis=0)  # (K,)
    predicted = S.argmax(axis=1)  # (n,)
    P = sm.softmax_rows(S, temperature)  # (n, K)
    return Evaluation(S, P, L, data, reg, dS, dW, db, predicted, predicted == y)


def step(model: Model, ev: Evaluation, learning_rate: float) -> tuple[Model, bool]:
    """One step of gradient descent; returns (new model, whether a weight hit the limit)."""
    W = model.W - learning_rate * ev.dW  # (K, 2)
    b = model.b - learning_rate * ev.db  # (K,)
    clipped = bool(np.any(np.abs(W) > WEIGHT_LIMIT) or np.any(np.abs(b) > WEIGHT_LIMIT))
    return Model(np.clip(W, -WEIGHT_LIMIT, WEIGHT_LIMIT), np.clip(b, -WEIGHT_LIMIT, WEIGHT_LIMIT)), clipped


@dataclass(frozen=True)
class Record:
    """What the loss chart plots for one step."""

    total: float
    data: float
    reg: float
    accuracy: float
    weight_norm: float  # sqrt(sum W^2): how hard the model pushes
    gradient_norm: float  # sqrt(|dL/dW|^2 + |dL/db|^2): 0 means the loss stopped pulling

    @classmethod
    def of(cls, model: Model, ev: Evaluation) -> Record:
        g = float(np.sqrt(np.sum(ev.dW**2) + np.sum(ev.db**2)))
        return cls(ev.total, ev.data_loss, ev.reg_loss, ev.accuracy, float(np.linalg.norm(model.W)), g)


@dataclass(frozen=True)
class Trajectory:
    model: Model  # after the last step
    records: tuple[Record, ...]  # one per step taken, after that step
    clipped: bool  # some step hit WEIGHT_LIMIT


def train(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    loss: str,
    lam: float,
    learning_rate: float,
    steps: int,
    temperature: float = 1.0,
) -> Trajectory:
    """`steps` steps of full-batch gradient descent, all in one call (one rerun, not N)."""
    records, clipped = [], False
    ev = evaluate(model, X, y, loss, lam, temperature)
    for _ in range(steps):
        model, hit = step(model, ev, learning_rate)
        clipped |= hit
        ev = evaluate(model, X, y, loss, lam, temperature)
        records.append(Record.of(model, ev))
    return Trajectory(model, tuple(records), clipped)


def initial_model(seed: int, k: int) -> Model:
    """Small random weights: a classifier that starts out wrong but not hopeless."""
    rng = np.random.default_rng([int(seed), 2016])
    return Model(np.round(rng.normal(0, 1.0, (k, 2)), 2), np.round(rng.normal(0, 0.5, k), 2))


def random_model(k: int, rng: np.random.Generator | None = None) -> Model:
    """'Randomise': new weights like the initial ones, from the given generator."""
    rng = rng or np.random.default_rng()
    return Model(np.round(rng.normal(0, 1.0, (k, 2)), 2), np.round(rng.normal(0, 0.5, k), 2))


def numeric_gradient(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    loss: str,
    lam: float,
    temperature: float = 1.0,
    h: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray]:
    """dL/dW and dL/db by central differences: the check every backward pass deserves."""

    def total(W, b) -> float:
        return evaluate(Model(W, b), X, y, loss, lam, temperature).total

    dW, db = np.zeros_like(model.W), np.zeros_like(model.b)
    for idx in np.ndindex(model.W.shape):
        up, down = model.W.copy(), model.W.copy()
        up[idx] += h
        down[idx] -= h
        dW[idx] = (total(up, model.b) - total(down, model.b)) / (2 * h)
    for j in range(model.b.size):
        up, down = model.b.copy(), model.b.copy()
        up[j] += h
        down[j] -= h
        db[j] = (total(model.W, up) - total(model.W, down)) / (2 * h)
    return dW, db
