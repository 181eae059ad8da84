"""Everything the Explain page shows, computed once from one checked state.

`explain_view(state)` checks the scores, the true class, the temperature and the log
base once, then computes the post's table, the headline numbers, the three losses
with their gradients and the loss curve from core.softmax's kernels. The page only
lays these out. `descend(...)` is the gradient-step button: a few steps of descent
on the scores themselves, with the loss at every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from core import softmax as sm
from core.explain.state import BASES, ExplainState, clamp_score

LOSS_NAMES = tuple(sm.LOSSES)  # cross-entropy, hinge, squared hinge
UNITS = {"e": "nats", "10": "log10", "2": "bits"}
CURVE_POINTS = 241
MAX_STEPS = 100


@dataclass(frozen=True)
class OverflowPart:
    """The same scores, shifted by c, through the naive and the stable softmax."""

    shift: float  # c, added to every s / T
    view: sm.OverflowView
    largest_difference: float  # max |stable p - the page's p|: 0 up to rounding
    naive_difference: float  # max |naive p - stable p| (nan when the naive form broke)


@dataclass(frozen=True)
class ExplainView:
    state: ExplainState
    table: sm.PostTable  # exp(s/T), p and -log p per class
    p_true: float  # the headline: p of the true class
    loss: float  # -log_base p_true
    rank: int  # 1-based rank of the true class among the scores
    top1: bool
    top5: bool
    losses: Mapping[str, float]  # LOSS_NAMES -> value (cross-entropy in the chosen base)
    gradients: Mapping[str, np.ndarray]  # LOSS_NAMES -> d loss / d scores, (K,) each
    curve_grid: np.ndarray  # (G,) scores of the true class
    curve: np.ndarray  # (G,) the loss at each, other scores fixed
    overflow: OverflowPart | None

    @property
    def unit(self) -> str:
        return UNITS[self.state.base]

    @property
    def true_class(self) -> str:
        return self.state.classes[self.state.target]


@dataclass(frozen=True)
class _Checked:
    s: np.ndarray  # (K,)
    y: int
    t: float
    b: float


def _check(state: ExplainState) -> _Checked:
    s = sm.as_scores(state.scores)
    return _Checked(
        s, sm.check_target(state.target, s.size), sm.check_temperature(state.temperature), BASES[state.base]
    )


def _losses_and_gradients(c: _Checked, table: sm.PostTable) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    m = sm._margins(c.s, c.y, 1.0)  # (K,) the hinge margins, shared by both hinge losses
    losses = {
        "cross-entropy": float(table.neg_log[c.y]),
        "hinge": float(m.sum()),
        "squared hinge": float(np.sum(m**2)),
    }
    gradients = {
        "cross-entropy": sm._softmax_gradient(table.probabilities, c.y, c.t, c.b),
        "hinge": sm._hinge_gradient(m, c.y),
        "squared hinge": sm._squared_hinge_gradient(m, c.y),
    }
    return losses, gradients


def curve_grid(true_score: float) -> np.ndarray:
    """Scores of the true class to draw the loss over: -15..15, and 5 past the current one."""
    return np.linspace(min(-15.0, true_score - 5), max(15.0, true_score + 5), CURVE_POINTS)


def explain_view(state: ExplainState, shift: float | None = None) -> ExplainView:
    """The page's numbers for `state`; with `shift` (c), the overflow tab's too."""
    c = _check(state)
    table = sm._post_table(c.s, c.t, c.b)
    losses, gradients = _losses_and_gradients(c, table)
    rank = sm._rank_of_target(c.s, c.y)
    grid = curve_grid(float(c.s[c.y]))
    overflow = None
    if shift is not None:
        view = sm.overflow_view(c.s / c.t + shift)
        diff = float(np.max(np.abs(view.stable_probabilities - table.probabilities)))
        with np.errstate(invalid="ignore"):
            naive = float(np.max(np.abs(view.naive_probabilities - view.stable_probabilities)))
        overflow = OverflowPart(float(shift), view, diff, naive)
    return ExplainView(
        state=state,
        table=table,
        p_true=float(table.probabilities[c.y]),
        loss=float(table.neg_log[c.y]),
        rank=rank,
        top1=rank <= 1,
        top5=rank <= 5,
        losses=losses,
        gradients=gradients,
        curve_grid=grid,
        curve=sm._loss_curve(c.s, c.y, grid, c.b, c.t),
        overflow=overflow,
    )


# ---------------------------------------------------------------- gradient descent


@dataclass(frozen=True)
class Descent:
    """Steps of gradient descent on the scores: where they went and what the loss did."""

    loss_name: str
    learning_rate: float
    states: tuple[ExplainState, ...]  # the start, then one per step
    losses: tuple[float, ...]  # the chosen loss at each of those states

    @property
    def final(self) -> ExplainState:
        return self.states[-1]


def descend(state: ExplainState, loss_name: str, learning_rate: float, steps: int = 1) -> Descent:
    """`steps` steps of s <- s - learning_rate * d loss / d s. Each step's scores are
    rounded to 4 decimals (what the page shows and the link keeps) and held in range."""
    if loss_name not in sm.LOSSES:
        raise ValueError(f"unknown loss {loss_name!r}; one of {', '.join(LOSS_NAMES)}")
    lr = sm._check_learning_rate(float(learning_rate))
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be 1..{MAX_STEPS}, got {steps}")
    states, losses = [state], []
    for _ in range(steps):
        c = _check(states[-1])
        table = sm._post_table(c.s, c.t, c.b)
        values, gradients = _losses_and_gradients(c, table)
        losses.append(values[loss_name])
        new = c.s - lr * gradients[loss_name]
        scores = tuple(clamp_score(round(float(x), 4)) for x in new)
        states.append(replace(states[-1], scores=scores))
    c = _check(states[-1])
    losses.append(_losses_and_gradients(c, sm._post_table(c.s, c.t, c.b))[0][loss_name])
    return Descent(loss_name, lr, tuple(states), tuple(losses))


def nonfinite_exp(view: ExplainView) -> bool:
    """exp(s/T) overflowed to inf somewhere (the probabilities are still exact)."""
    return not bool(np.all(np.isfinite(view.table.exp)))
