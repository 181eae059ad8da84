"""Plotly figures for the Explain page: data in, figure out (no streamlit here)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

TRUE_COLOUR = "#d62728"   # the true class stands out in every chart
OTHER_COLOUR = "#1f77b4"
LOSS_COLOURS = {"cross-entropy": "#1f77b4", "hinge": "#ff7f0e", "squared hinge": "#2ca02c"}


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    # No named template: applying one costs ~10 ms per figure, and st.plotly_chart
    # themes the chart anyway.
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def probability_figure(classes: Sequence[str], probabilities: Sequence[float],
                       target: int) -> go.Figure:
    """One bar per class, the true class in red, each labelled with its probability."""
    p = np.asarray(probabilities, dtype=float)  # (K,)
    colours = [TRUE_COLOUR if i == target else OTHER_COLOUR for i in range(p.size)]
    fig = go.Figure(go.Bar(
        x=list(classes), y=p, marker_color=colours,
        text=[f"{x:.4f}" for x in p], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: p = %{y:.6f}<extra></extra>",
    ))
    fig.update_yaxes(range=[0, 1.1], title="probability")
    return _layout(fig, "Probabilities (true class in red)")


def loss_curve_figure(grid: Sequence[float], losses: Sequence[float], current_score: float,
                      current_loss: float, class_name: str, unit: str) -> go.Figure:
    """The loss as the true class's score moves, with where the sliders are now."""
    fig = go.Figure([
        go.Scatter(x=list(grid), y=list(losses), mode="lines", name="loss",
                   line=dict(color=OTHER_COLOUR),
                   hovertemplate="score %{x:.2f}: loss %{y:.4f}<extra></extra>"),
        go.Scatter(x=[current_score], y=[current_loss], mode="markers+text", name="now",
                   marker=dict(color=TRUE_COLOUR, size=12), text=[f"{current_loss:.4f}"],
                   textposition="top right",
                   hovertemplate="score %{x:.2f}: loss %{y:.4f}<extra></extra>"),
    ])
    fig.update_xaxes(title=f"score of the true class ({class_name})")
    fig.update_yaxes(title=f"loss ({unit})", rangemode="tozero")
    fig.update_layout(showlegend=False)
    return _layout(fig, f"Loss as the {class_name} score changes (other scores fixed)")


def gradient_figure(classes: Sequence[str], gradients: Mapping[str, Sequence[float]]) -> go.Figure:
    """Minus each loss's gradient per score: a bar up means 'raise this score'."""
    fig = go.Figure([
        go.Bar(x=list(classes), y=-np.asarray(g, dtype=float), name=name,
               marker_color=LOSS_COLOURS.get(name),
               hovertemplate="%{x}: -dL/ds = %{y:.4f}<extra>" + name + "</extra>")
        for name, g in gradients.items()
    ])
    fig.update_yaxes(title="-dL/ds (which way to move)", zeroline=True, zerolinewidth=2)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.2))
    return _layout(fig, "Which way each score should move (minus the gradient)")
