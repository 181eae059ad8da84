"""The Playground's view-model: one validated state in, everything the page shows out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.playground.data import Points, as_points
from core.playground.grid import Plane, ZeroLine, plane, zero_line
from core.playground.model import HINGE_MARGIN, Evaluation, Model, evaluate
from core.playground.urlstate import PlaygroundState


@dataclass(frozen=True)
class View:
    state: PlaygroundState
    points: Points
    model: Model
    evaluation: Evaluation
    plane: Plane
    zero_lines: tuple[ZeroLine | None, ...]  # (K,) None where a line misses the plane

    @property
    def classes(self) -> tuple[str, ...]:
        return self.state.classes


def model_of(state: PlaygroundState) -> Model:
    return Model.of(state.W, state.b)


def build_view(state: PlaygroundState) -> View:
    points = as_points(state.all_points())
    model = model_of(state)
    ev = evaluate(model, points.X, points.y, state.loss, state.lam, state.temperature)
    lines = tuple(zero_line(model.W[j], model.b[j]) for j in range(state.k))
    return View(state, points, model, ev, plane(model, state.shade, state.temperature), lines)


@dataclass(frozen=True)
class PointTable:
    """Every point's numbers, worst loss first: what the table shows and what it sorts by."""

    order: np.ndarray  # (n,) point indices, highest loss first
    scores: np.ndarray  # (n, K) in that order
    second: np.ndarray  # (n, K) probabilities (cross-entropy) or margins s_j - s_y + 1 (hinge)
    second_name: str  # "p" or "margin"
    losses: np.ndarray  # (n,)


def point_table(view: View) -> PointTable:
    ev, y = view.evaluation, view.points.y
    # stable, so points of equal loss keep their numbering (a steady order to click in)
    order = np.argsort(-ev.row_losses, kind="stable")  # (n,)
    if view.state.loss == "hinge":
        S = ev.scores  # (n, K)
        # The Weston-Watkins terms before max(0, .): the loss is the sum of the positive ones
        M = S - S[np.arange(len(y)), y][:, None] + HINGE_MARGIN  # (n, K)
        M[np.arange(len(y)), y] = 0.0
        second, name = M, "margin"
    else:
        second, name = ev.probabilities, "p"
    return PointTable(order, ev.scores[order], second[order], name, ev.row_losses[order])
