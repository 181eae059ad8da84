"""Plotly figures for the Explain page: data in, figure out (no streamlit here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import fast_figure

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


def probability_figure(classes: Sequence[str], probabilities: Sequence[float], target: int) -> go.Figure:
    """One bar per class, the true class in red, each labelled with its probability."""
    p = np.asarray(probabilities, dtype=float)  # (K,)
    colours = [TRUE_COLOUR if i == target else OTHER_COLOUR for i in range(p.size)]
    bar = {
        "type": "bar",
        "x": list(classes),
        "y": p,
        "marker": {"color": colours},
        "text": [f"{x:.4f}" for x in p],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x}: p = %{y:.6f}<extra></extra>",
    }
    return _figure(
        [bar],
        "Probabilities (true class in red)",
        yaxis={"range": [0, 1.1], "title": {"text": "probability"}},
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
        f"Loss as the {class_name} score changes (other scores fixed)",
        showlegend=False,
        xaxis={"title": {"text": f"score of the true class ({class_name})"}},
        yaxis={"title": {"text": f"loss ({unit})"}, "rangemode": "tozero"},
    )


def gradient_figure(classes: Sequence[str], gradients: Mapping[str, Sequence[float]]) -> go.Figure:
    """Minus each loss's gradient per score: a bar up means 'raise this score'."""
    bars = [
        {
            "type": "bar",
            "x": list(classes),
            "y": -np.asarray(g, dtype=float),
            "name": name,
            "marker": {"color": LOSS_COLOURS.get(name)},
            "hovertemplate": "%{x}: -dL/ds = %{y:.4f}<extra>" + name + "</extra>",
        }
        for name, g in gradients.items()
    ]
    return _figure(
        bars,
        "Which way each score should move (minus the gradient)",
        barmode="group",
        legend={"orientation": "h", "y": -0.2},
        yaxis={"title": {"text": "-dL/ds (which way to move)"}, "zeroline": True, "zerolinewidth": 2},
    )
