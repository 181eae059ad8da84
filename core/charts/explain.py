"""Plotly figures for the Explain page: data in, figure out (no streamlit here).

Class names are user-supplied and plotly renders a subset of HTML in chart text, so
every name goes through core.text.html. The probability bars are not here: they are
drawn in the browser with the post's table (ui/explain_live.js), to follow a drag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import fast_figure
from core.text import html

TRUE_COLOUR = "#d62728"  # the true class stands out in every chart
OTHER_COLOUR = "#1f77b4"
LOSS_COLOURS = {"cross-entropy": "#1f77b4", "hinge": "#ff7f0e", "squared hinge": "#2ca02c"}


def _figure(data: list[dict], title: str, height: int = 320, **layout) -> go.Figure:
    # Rebuilt on every slider move: no validation pass (see core.figure), and no named
    # template either (~10 ms each); st.plotly_chart applies Streamlit's theme anyway.
    return fast_figure(
        data,
        {
            "title": {"text": title},
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
            **layout,
        },
    )


def loss_curve_figure(
    grid: Sequence[float],
    losses: Sequence[float],
    current_score: float,
    current_loss: float,
    class_name: str,
    unit: str,
) -> go.Figure:
    """The loss as the true class's score moves, with where the sliders are now."""
    hover = "score %{x:.2f}: loss %{y:.4f}<extra></extra>"
    line = {
        "type": "scatter",
        "x": np.asarray(grid, dtype=float),
        "y": np.asarray(losses, dtype=float),
        "mode": "lines",
        "name": "loss",
        "line": {"color": OTHER_COLOUR},
        "hovertemplate": hover,
    }
    point = {
        "type": "scatter",
        "x": [current_score],
        "y": [current_loss],
        "mode": "markers+text",
        "name": "now",
        "marker": {"color": TRUE_COLOUR, "size": 12},
        "text": [f"{current_loss + 0.0:.4f}"],
        "textposition": "top right",
        "hovertemplate": hover,
    }
    return _figure(
        [line, point],
        f"Loss as the {html(class_name)} score moves",
        showlegend=False,
        xaxis={"title": {"text": f"score of the true class ({html(class_name)})"}},
        yaxis={"title": {"text": f"loss ({unit})"}, "rangemode": "tozero"},
    )


def _class_ticks(classes: Sequence[str], target: int) -> list[str]:
    """Tick labels as text; the true class's in bold and marked, as in the post's table."""
    return [f"<b>{html(c)} (true)</b>" if i == target else html(c) for i, c in enumerate(classes)]


def gradient_figure(
    classes: Sequence[str], gradients: Mapping[str, Sequence[float]], target: int | None = None
) -> go.Figure:
    """Minus each loss's gradient per score, one panel per loss, each on its own scale (the
    squared hinge's can be 100 times cross-entropy's): a bar up means 'raise this score'."""
    ticks = _class_ticks(classes, -1 if target is None else target)
    x = list(range(len(classes)))  # positions: two names can never merge into one bar
    n, gap = len(gradients), 0.1
    panel = (1 - gap * (n - 1)) / n
    bars, axes = [], {}
    for i, (name, g) in enumerate(gradients.items()):
        y = -np.asarray(g, dtype=float)
        top = 1 - i * (panel + gap)  # the first loss on top
        axis = "yaxis" if i == 0 else f"yaxis{i + 1}"
        # a loss that no longer pushes draws no bars: its panel says so, not a blank
        label = name if y.any() else f"{name}<br>(0: no push)"
        axes[axis] = {
            "domain": [max(0.0, round(top - panel, 9)), min(1.0, round(top, 9))],
            "title": {"text": label},
            "zeroline": True,
            "zerolinewidth": 2,
            "anchor": "x",
        }
        bars.append(
            {
                "type": "bar",
                "x": x,
                "y": y,
                "yaxis": "y" if i == 0 else f"y{i + 1}",
                "name": label,
                "marker": {"color": LOSS_COLOURS.get(name)},
                "customdata": [html(c) for c in classes],
                "hovertemplate": "%{customdata}: -dL/ds = %{y:.4f}<extra>" + name + "</extra>",
            }
        )
    return _figure(
        bars,
        "Which way each score should move (-dL/ds)",
        height=120 + 130 * n,
        showlegend=False,
        xaxis={"tickmode": "array", "tickvals": x, "ticktext": ticks, "anchor": "y" if n == 1 else f"y{n}"},
        **axes,
    )


def descent_figure(losses: Sequence[float], loss_name: str) -> go.Figure:
    """The chosen loss after each step of gradient descent (step 0: where it started)."""
    y = np.asarray(losses, dtype=float)  # (steps + 1,)
    line = {
        "type": "scatter",
        "x": np.arange(y.size),
        "y": y,
        "mode": "lines+markers",
        "line": {"color": LOSS_COLOURS.get(loss_name, OTHER_COLOUR)},
        "hovertemplate": "step %{x}: loss %{y:.4f}<extra></extra>",
    }
    return _figure(
        [line],
        f"{loss_name} loss at each step",
        height=260,
        xaxis={"title": {"text": "step"}, "dtick": max(1, y.size // 10)},
        yaxis={"title": {"text": "loss"}, "rangemode": "tozero"},
    )
