"""The Playground's points (presets, edits) and what is drawn between them (regions, lines)."""

from __future__ import annotations

import numpy as np
import pytest

from core import softmax as sm
from core.playground import data as D
from core.playground import grid as G
from core.playground.model import Model, initial_model, train


@pytest.mark.parametrize("preset", list(D.PRESETS))
@pytest.mark.parametrize("k", [2, 5])
def test_presets_are_seeded_bounded_and_rounded(preset, k):
    pts = D.make_points(preset, k, 12, seed=3)
    assert pts == D.make_points(preset, k, 12, seed=3)  # a link reproduces them
    assert pts != D.make_points(preset, k, 12, seed=4)
    k = D.classes_for(preset, k)
    assert len(pts) == 12 * k
    assert sorted({c for _, _, c in pts}) == list(range(k))
    assert all(abs(v) < D.EXTENT for p in pts for v in p[:2])
    assert all(round(v, 2) == v for p in pts for v in p[:2])


def test_xor_always_has_two_classes():
    assert D.classes_for("xor", 5) == 2 and D.classes_for("blobs", 5) == 5
    assert D.classes_for("blobs", 9) == D.MAX_CLASSES


def best_accuracy(preset: str, k: int) -> float:
    pts = D.as_points(D.make_points(preset, k, 40, seed=1))
    path = train(initial_model(1, D.classes_for(preset, k)), pts.X, pts.y, "cross-entropy", 0.0, 1.0, 300)
    return max(r.accuracy for r in path.records)


def test_what_each_preset_teaches():
    """Separated blobs: a linear model gets every point. XOR and rings: no line can."""
    assert best_accuracy("blobs", 5) == 1.0
    assert best_accuracy("xor", 2) < 0.8
    assert best_accuracy("rings", 3) < 0.8
    assert D.PRESETS["blobs"].separable and not D.PRESETS["xor"].separable


def test_edits_add_move_and_remove_points_in_the_plane():
    pts = D.make_points("blobs", 2, 2, seed=1)
    added = D.add_point(pts, 9.0, -1.234, 1)
    assert added[-1] == (3.0, -1.23, 1) and added[:-1] == pts  # clamped to the plane, rounded
    moved = D.move_point(added, 0, 0.5, 0.25, 1)
    assert moved[0] == (0.5, 0.25, 1) and moved[1:] == added[1:]
    assert D.remove_point(moved, 0) == moved[1:]
    with pytest.raises(ValueError, match="no point #9"):
        D.move_point(pts, 8, 0, 0, 0)
    with pytest.raises(ValueError, match="at least one"):
        D.remove_point(((0.0, 0.0, 0),), 0)
    full = tuple((0.0, 0.0, 0) for _ in range(D.MAX_POINTS))
    with pytest.raises(ValueError, match="at most"):
        D.add_point(full, 0, 0, 0)


def _inside(corners: np.ndarray, x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Which rows of x lie in the convex polygon (corners in either turning order)."""
    edges = np.roll(corners, -1, axis=0) - corners  # (n, 2)
    cross = edges[:, 0] * (x[:, None, 1] - corners[:, 1]) - edges[:, 1] * (x[:, None, 0] - corners[:, 0])
    return (cross >= -tol).all(1) | (cross <= tol).all(1)


def _area(corners: np.ndarray) -> float:
    x, y = corners[:, 0], corners[:, 1]
    return abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


@pytest.mark.parametrize("seed", range(6))
def test_each_region_is_exactly_where_its_class_scores_highest(seed):
    """The regions tile the plane: every place lies in the region of its argmax class
    (checked on a fine grid and at the points), and the areas add up to the square's."""
    rng = np.random.default_rng(seed)
    k = 2 + seed % 4
    model = Model.of(rng.normal(size=(k, 2)) * 2, rng.normal(size=k))
    plane = G.plane(model, shade=0, temperature=0.5, resolution=40)
    assert len(plane.regions) == k
    axis = np.linspace(-D.EXTENT, D.EXTENT, 121)
    x = np.stack([a.ravel() for a in np.meshgrid(axis, axis)], 1)  # (14641, 2)
    S = x @ model.W.T + model.b
    best = S.argmax(1)
    clear = np.sort(S, 1)[:, -1] - np.sort(S, 1)[:, -2] > 1e-6  # not on an edge between two
    for j, corners in enumerate(plane.regions):
        if len(corners) == 0:
            assert not (best == j).any()
            continue
        assert np.abs(corners).max() <= D.EXTENT + 1e-9
        inside = _inside(corners, x)
        np.testing.assert_array_equal(inside[clear], (best == j)[clear])
    assert sum(_area(c) for c in plane.regions if len(c)) == pytest.approx((2 * D.EXTENT) ** 2)


def test_a_class_that_wins_nowhere_has_no_region_and_a_tie_goes_to_the_first():
    beaten = G.regions(Model.of([[1, 0], [1, 0], [0, 0]], [0, 100, 0]))
    assert len(beaten[0]) == 0 and len(beaten[2]) == 0 and _area(beaten[1]) == pytest.approx(36)
    tie = G.regions(Model.of([[1, 1], [1, 1]], [0.5, 0.5]))
    assert _area(tie[0]) == pytest.approx(36) and len(tie[1]) == 0


def test_the_probability_map_is_the_softmax_at_every_cell():
    model = Model.of([[1, 2], [2, -4], [3, -1]], [0, 0.5, -0.5])
    plane = G.plane(model, shade=2, temperature=0.5, resolution=40)
    x1, x2 = np.meshgrid(plane.axis, plane.axis)  # rows along x2
    S = np.stack([x1.ravel(), x2.ravel()], 1) @ model.W.T + model.b  # (1600, 3)
    assert plane.probability.shape == (40, 40)
    np.testing.assert_allclose(plane.probability.ravel(), sm.softmax_rows(S / 0.5)[:, 2])
    assert plane.axis[0] > -D.EXTENT and plane.axis[-1] < D.EXTENT  # cell centres
    assert G.plane(model).probability is None  # only computed when asked for


@pytest.mark.parametrize("w,b", [([1, 2], 0.5), ([0, 1], -1), ([1, 0], 2.5), ([3, -1], -0.5), ([1, 1], 0)])
def test_a_zero_line_lies_on_w_x_plus_b_equals_0_inside_the_plane(w, b):
    line = G.zero_line(np.array(w, float), b)
    for x in (line.start, line.end):
        assert np.dot(w, x) + b == pytest.approx(0, abs=1e-9)
        assert max(abs(v) for v in x) <= D.EXTENT + 1e-9
    assert max(max(abs(v) for v in line.start), max(abs(v) for v in line.end)) == pytest.approx(D.EXTENT)
    assert np.dot(line.normal, w) > 0  # the arrow points where the score grows
    assert np.hypot(*line.normal) == pytest.approx(1)


def test_a_zero_line_that_misses_the_plane_is_not_drawn():
    assert G.zero_line(np.array([1.0, 0.0]), 5.0) is None  # x1 = -5
    assert G.zero_line(np.array([1.0, 1.0]), 10.0) is None
    assert G.zero_line(np.array([0.0, 0.0]), 1.0) is None  # no line at all: the score is b
