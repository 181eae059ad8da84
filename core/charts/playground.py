"""Plotly figures for the Playground: data in, figure out (no streamlit here).

The plane is drawn in layers, bottom to top: the class regions (or one class's
probability), each class's zero-score line with an arrow towards where its score
grows, the points (coloured and shaped by their true class, ringed in black where the
model gets them wrong), the chosen point, and, when a click should add or move a point,
an invisible grid that turns a click anywhere into coordinates (Plotly reports clicks
on data only, not on empty space).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import fast_figure
from core.playground.data import EXTENT
from core.playground.model import Record
from core.playground.view import View
from core.text import html, number

CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")  # blue, orange, green, red, purple
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "pentagon")  # colour is not the only cue
WRONG_OUTLINE = "#111111"
CLICK_STEP = 0.2  # the click grid's spacing: ~15 px on a 450-px plot, so every click lands near one
PLANE_CONFIG = {"displayModeBar": False, "scrollZoom": False}  # no zoom box fighting a click or a swipe
LOSS_COLOUR, DATA_COLOUR, ACCURACY_COLOUR = "#1f77b4", "#7f7f7f", "#2ca02c"
HISTORY_POINTS = 1500  # drawn per line: more than a chart's pixels, far less than 20,000 steps
COMPARE_COLOURS = {"cross-entropy": "#1f77b4", "hinge": "#ff7f0e"}


def tint(colour: str, white: float = 0.7) -> str:
    """The colour mixed with white: a region's shade, light enough for its points to show."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * white):02x}" for c in rgb)


def _axes(title_x: str = "x1", title_y: str = "x2") -> dict:
    axis = {"range": [-EXTENT, EXTENT], "fixedrange": True, "zeroline": False, "showgrid": False}
    return {
        "xaxis": {**axis, "title": {"text": title_x}, "constrain": "domain"},
        # scaleanchor keeps one unit the same length both ways: a normal arrow looks normal
        "yaxis": {
            **axis,
            "title": {"text": title_y},
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    }


def _shading(view: View) -> list[dict]:
    p = view.plane
    if p.probability is not None:
        c = view.state.shade
        return [
            {
                "type": "heatmap",
                "x": p.axis,
                "y": p.axis,
                "z": np.round(p.probability, 3),  # (G, G) three decimals: a third of the bytes
                "zmin": 0,
                "zmax": 1,
                "colorscale": [[0, "#ffffff"], [1, CLASS_COLOURS[c]]],
                # below the plot, not beside it: the plane is as wide as the column allows
                "colorbar": {
                    "title": {"text": f"p({html(view.classes[c])})", "side": "top"},
                    "orientation": "h",
                    "y": -0.2,
                    "yanchor": "top",
                    "len": 0.7,
                    "thickness": 10,
                },
                "hovertemplate": f"p({html(view.classes[c])}) ≈ %{{z:.3f}}<extra></extra>",  # z is rounded
            }
        ]
    # One filled polygon per class, exact (core.playground.grid.regions): straight edges.
    return [
        {
            "type": "scatter",
            "name": f"region {html(view.classes[j])}",
            "x": np.append(corners[:, 0], corners[0, 0]),
            "y": np.append(corners[:, 1], corners[0, 1]),
            "mode": "none",  # the fill only; the zero lines are drawn on top
            "fill": "toself",
            "fillcolor": tint(CLASS_COLOURS[j]),
            "hoverinfo": "skip",
            "hoveron": "points",  # it has none: a hover or click over a region goes to what is on top
            "showlegend": False,
        }
        for j, corners in enumerate(p.regions)
        if len(corners)
    ]


def _zero_lines(view: View) -> tuple[list[dict], list[dict]]:
    traces, arrows = [], []
    k = len(view.zero_lines)
    for j, line in enumerate(view.zero_lines):
        if line is None:
            continue
        (x0, y0), (x1, y1), (nx, ny) = line.start, line.end, line.normal
        traces.append(
            {
                "type": "scatter",
                "x": [x0, x1],
                "y": [y0, y1],
                "mode": "lines",
                "line": {"color": CLASS_COLOURS[j], "width": 3},
                "name": f"{html(view.classes[j])} score = 0",
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
        # Arrows at different places along their lines: lines often cross near the
        # middle, and K arrows on one spot read as none.
        at = 0.2 + 0.6 * (j + 0.5) / k
        mx, my = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        arrows.append(
            {
                "x": mx + 0.5 * nx,
                "y": my + 0.5 * ny,
                "ax": mx,
                "ay": my,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 3,
                "arrowsize": 1.2,
                "arrowwidth": 2.5,
                "arrowcolor": CLASS_COLOURS[j],
                "text": "",
            }
        )
    return traces, arrows


def _points(view: View) -> list[dict]:
    X, y, ev = view.points.X, view.points.y, view.evaluation
    traces = []
    for j, name in enumerate(view.classes):
        idx = np.flatnonzero(y == j)  # (n_j,)
        wrong = ~ev.correct[idx]
        text = [
            f"point {i + 1}: {html(name)}<br>predicted {html(view.classes[ev.predicted[i]])}"
            f"<br>loss {number(ev.row_losses[i])}"
            for i in idx
        ]
        traces.append(
            {
                "type": "scatter",
                "x": X[idx, 0],
                "y": X[idx, 1],
                "mode": "markers",
                "name": html(name),
                "customdata": idx,  # the point's index: what a click on it chooses
                "text": text,
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "color": CLASS_COLOURS[j],
                    "symbol": SYMBOLS[j],
                    "size": 10,
                    "line": {
                        "color": [WRONG_OUTLINE if w else "#ffffff" for w in wrong],
                        "width": [2.5 if w else 1 for w in wrong],
                    },
                },
                # a click selects; plotly would fade every other point to 0.2 opacity
                "selected": {"marker": {"opacity": 1}},
                "unselected": {"marker": {"opacity": 1}},
            }
        )
    return traces


def _chosen(view: View, chosen: int) -> dict:
    x1, x2 = view.points.X[chosen]
    return {
        "type": "scatter",
        "x": [x1],
        "y": [x2],
        "mode": "markers+text",
        "name": "chosen point",
        "text": [f"point {chosen + 1}"],  # the number the page's box and table use
        "textposition": "top right" if x1 < 1.5 else "top left",
        "textfont": {"size": 13, "color": "#000000"},
        "showlegend": False,
        "hoverinfo": "skip",
        "marker": {"symbol": "circle-open", "size": 24, "color": "#000000", "line": {"width": 2.5}},
    }


def click_grid() -> dict:
    """Invisible targets every CLICK_STEP: a click on empty space lands on the nearest."""
    axis = np.round(np.arange(-EXTENT, EXTENT + 1e-9, CLICK_STEP), 2)  # (C,)
    gx, gy = np.meshgrid(axis, axis)  # (C, C) each
    return {
        "type": "scatter",
        "x": gx.ravel(),
        "y": gy.ravel(),
        "mode": "markers",
        "name": "click target",
        "showlegend": False,
        "marker": {"size": 14, "opacity": 0},
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
        "hovertemplate": "(%{x:.1f}, %{y:.1f})<extra></extra>",
    }


def plane_figure(
    view: View,
    chosen: int | None = None,
    clickable: bool = False,
    title: str | None = None,
    height: int = 450,
    legend: bool = False,
) -> go.Figure:
    """The plane as the student reads it (see the module docstring for the layers)."""
    lines, arrows = _zero_lines(view)
    data = [*_shading(view), *lines, *_points(view)]
    if chosen is not None and 0 <= chosen < len(view.points):
        data.append(_chosen(view, chosen))
    if clickable:
        data.append(click_grid())
    layout = {
        **_axes(),
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "annotations": arrows,
        "hovermode": "closest",
        "dragmode": False,
        "clickmode": "event+select",
        "plot_bgcolor": "#ffffff",
    }
    if title:
        layout["title"] = {"text": html(title)}
    return fast_figure(data, layout)


def history_figure(records: Sequence[Record], first_step: int = 0, height: int = 320) -> go.Figure:
    """Total and data loss (left axis) and accuracy (right axis) at every step so far.
    A long run is thinned to HISTORY_POINTS for drawing (the last step always kept)."""
    keep = np.unique(np.linspace(0, len(records) - 1, min(len(records), HISTORY_POINTS)).astype(int))  # (m,)
    steps = first_step + keep  # (m,) step 0 is where this run started
    total = np.array([records[i].total for i in keep])
    data = np.array([records[i].data for i in keep])
    accuracy = 100 * np.array([records[i].accuracy for i in keep])
    mode = "lines+markers" if len(keep) < 30 else "lines"
    top = max(float(np.max(total)), float(np.max(data)), 1e-9) * 1.1  # room above the first dot
    # one record (step 0): an axis for the steps to come, and a word on what will appear
    steps_axis = {"range": [first_step - 0.5, first_step + 10]} if len(keep) == 1 else {"rangemode": "tozero"}
    traces = [
        {
            "type": "scatter",
            "x": steps,
            "y": total,
            "mode": mode,
            "name": "total loss",
            "line": {"color": LOSS_COLOUR, "width": 2.5},
            "text": [number(v) for v in total],  # the page's numbers: an exponent is kept
            "hovertemplate": "step %{x}: total loss %{text}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": steps,
            "y": data,
            "mode": mode,
            "name": "data loss",
            "line": {"color": DATA_COLOUR, "dash": "dot"},
            "text": [number(v) for v in data],
            "hovertemplate": "step %{x}: data loss %{text}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": steps,
            "y": accuracy,
            "mode": mode,
            "name": "accuracy (right axis)",
            "yaxis": "y2",
            "line": {"color": ACCURACY_COLOUR, "dash": "dash"},
            "hovertemplate": "step %{x}: accuracy %{y:.1f}%<extra></extra>",
        },
    ]
    return fast_figure(
        traces,
        {
            "title": {"text": "Loss and accuracy per step"},
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "xaxis": {"title": {"text": "step"}, **steps_axis},
            "yaxis": {"title": {"text": "loss"}, "range": [0, top]},
            "annotations": []
            if len(keep) > 1
            else [
                {
                    "text": "Take a step: the curves grow from here",
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "font": {"color": "#666666"},
                }
            ],
            "yaxis2": {
                "title": {"text": "accuracy %"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 105],
                "tickmode": "array",  # not synced to the loss axis's ticks (41.8, 83.5...)
                "tickvals": [0, 25, 50, 75, 100],
                "showgrid": False,
            },
            "legend": {"orientation": "h", "y": -0.25},
        },
    )


def compare_figure(
    runs: dict[str, Sequence[Record]], field: str, title: str, axis: str, height: int = 300
) -> go.Figure:
    """One line per loss of one Record field (weight_norm, data, accuracy) over the steps."""
    labels = {"cross-entropy": "softmax", "hinge": "hinge"}
    traces = []
    for loss, records in runs.items():
        values = np.array([getattr(r, field) for r in records], dtype=float)
        if field == "accuracy":
            values = 100 * values
        traces.append(
            {
                "type": "scatter",
                "x": np.arange(len(records)),
                "y": values,
                "mode": "lines",
                "name": labels.get(loss, html(loss)),
                "line": {"color": COMPARE_COLOURS.get(loss), "width": 2.5},
                "text": [number(v) for v in values],
                "hovertemplate": "step %{x}: %{text}<extra>" + labels.get(loss, html(loss)) + "</extra>",
            }
        )
    return fast_figure(
        traces,
        {
            "title": {"text": title},
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            "xaxis": {"title": {"text": "step"}},
            "yaxis": {"title": {"text": axis}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.3},
        },
    )
