"""The Playground's figures, through plotly's validator: what each layer draws, in which colour."""

from __future__ import annotations

import numpy as np
import pytest

from core.charts import playground as C
from core.charts.figure import validated
from core.playground.model import Record, train
from core.playground.urlstate import PlaygroundState
from core.playground.view import build_view, point_table


def traces(fig, name=None, kind=None):
    return [t for t in fig.data if (name is None or t.name == name) and (kind is None or t.type == kind)]


@pytest.fixture
def view():
    return build_view(PlaygroundState(W=((1, 2), (2, -4), (3, -1)), b=(0, 0.5, -0.5)))


def test_the_plane_shows_regions_lines_and_points_in_the_class_colours(view):
    fig = validated(C.plane_figure(view))
    assert not traces(fig, kind="heatmap")
    # each class's region, its exact polygon (closed), filled in the class's tint, at the bottom
    regions = [t for t in fig.data if t.fill == "toself"]
    assert fig.data[: len(regions)] == tuple(regions)
    drawn = [j for j, c in enumerate(view.plane.regions) if len(c)]
    assert len(regions) == len(drawn) >= 2
    for t, j in zip(regions, drawn):
        corners = view.plane.regions[j]
        np.testing.assert_allclose(np.c_[t.x, t.y], np.vstack([corners, corners[:1]]))
        assert t.fillcolor == C.tint(C.CLASS_COLOURS[j]) and t.hoverinfo == "skip"
    lines = [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]
    assert [t.line.color for t in lines] == list(C.CLASS_COLOURS[:3])
    for t, (w, b) in zip(lines, zip(view.model.W, view.model.b)):
        for x1, x2 in zip(t.x, t.y):
            assert np.dot(w, (x1, x2)) + b == pytest.approx(0, abs=1e-9)
    assert len(fig.layout.annotations) == 3  # one arrow per line, the class's colour
    assert [a.arrowcolor for a in fig.layout.annotations] == list(C.CLASS_COLOURS[:3])
    for j, name in enumerate(view.classes):
        pts = traces(fig, name=name)[0]
        idx = np.flatnonzero(view.points.y == j)
        np.testing.assert_array_equal(pts.customdata, idx)
        assert pts.marker.color == C.CLASS_COLOURS[j] and pts.marker.symbol == C.SYMBOLS[j]
        wrong = ~view.evaluation.correct[idx]
        outline = np.asarray(pts.marker.line.color)
        assert (outline == C.WRONG_OUTLINE).tolist() == wrong.tolist()  # ringed where wrong
    assert fig.layout.yaxis.scaleanchor == "x"  # equal units: the arrows look perpendicular
    assert not traces(fig, name="click target") and not traces(fig, name="chosen point")


def test_choosing_a_point_and_clicking_to_add(view):
    fig = validated(C.plane_figure(view, chosen=4, clickable=True))
    ring = traces(fig, name="chosen point")[0]
    assert (ring.x[0], ring.y[0]) == tuple(view.points.X[4])
    assert ring.text == ("point 5",)  # numbered from 1, as in the box and the table
    grid = traces(fig, name="click target")[0]
    assert grid.marker.opacity == 0 and len(grid.x) == 31 * 31
    assert min(grid.x) == -3 and max(grid.y) == 3


def test_a_shaded_probability_is_the_chosen_classs_colour_from_white():
    view = build_view(PlaygroundState(shade=1, temperature=0.5))
    fig = validated(C.plane_figure(view))
    heat = traces(fig, kind="heatmap")[0]
    assert heat.zmin == 0 and heat.zmax == 1
    assert [tuple(c) for c in heat.colorscale] == [(0, "#ffffff"), (1, C.CLASS_COLOURS[1])]
    assert heat.colorbar.title.text == "p(orange)"
    np.testing.assert_allclose(np.asarray(heat.z), view.plane.probability, atol=5e-4)


def test_a_zero_line_off_the_plane_is_left_out():
    view = build_view(PlaygroundState(W=((1, 0), (0, 1), (1, 1)), b=(10, 0, 0)))
    fig = validated(C.plane_figure(view))
    assert len([t for t in fig.data if t.type == "scatter" and t.mode == "lines"]) == 2
    assert len(fig.layout.annotations) == 2


def test_history_and_comparison_charts():
    view = build_view(PlaygroundState())
    pts = view.points
    path = train(view.model, pts.X, pts.y, "cross-entropy", 0.01, 0.5, 10)
    records = [Record.of(view.model, view.evaluation), *path.records]
    fig = validated(C.history_figure(records))
    total = traces(fig, name="total loss")[0]
    assert list(total.x) == list(range(11)) and total.y[0] == pytest.approx(view.evaluation.total)
    assert traces(fig, name="accuracy (right axis)")[0].yaxis == "y2"
    assert fig.layout.yaxis.range[1] >= 1.05 * max(total.y)  # the highest dot is drawn whole
    assert not fig.layout.annotations
    start = validated(C.history_figure(records[:1]))  # step 0: one dot, an axis for what is to come
    assert tuple(start.layout.xaxis.range) == (-0.5, 10) and start.layout.yaxis.range[1] > records[0].total
    assert "Take a step" in start.layout.annotations[0].text
    runs = {"cross-entropy": records, "hinge": records}
    fig = validated(C.compare_figure(runs, "weight_norm", "size of W", "|W|"))
    assert [t.name for t in fig.data] == ["softmax", "hinge"]
    assert fig.data[0].y[-1] == pytest.approx(path.records[-1].weight_norm)


def test_a_long_history_is_thinned_for_drawing_but_keeps_its_step_numbers():
    r = Record(1.0, 1.0, 0.0, 0.5, 1.0, 1.0)
    fig = validated(C.history_figure([r] * 5000, first_step=200))
    x = np.asarray(traces(fig, name="total loss")[0].x)
    assert len(x) <= C.HISTORY_POINTS and x[0] == 200 and x[-1] == 5199


def test_the_point_table_is_sorted_by_loss_and_shows_margins_for_the_hinge():
    view = build_view(PlaygroundState(loss="hinge"))
    table = point_table(view)
    assert list(table.losses) == sorted(table.losses, reverse=True)
    i = table.order[0]
    S, y = view.evaluation.scores[i], view.points.y[i]
    assert table.second_name == "margin"
    np.testing.assert_allclose(np.maximum(0, table.second[0]).sum(), table.losses[0])
    assert table.second[0][y] == 0 and table.second[0][(y + 1) % 3] == pytest.approx(
        S[(y + 1) % 3] - S[y] + 1
    )
    assert point_table(build_view(PlaygroundState())).second_name == "p"
