"""Plotly figures for the Train page: pure functions, numbers in, figure out.

Each figure is written as plain dicts and built without plotly's validation pass
(core.figure.fast_figure): the page redraws all of them after every training, and the
validated figures (make_subplots, update_layout...) cost the server ~40 ms a training.
tests/unit/test_train_charts.py reads every property back, and checks that plotly's
validator accepts each figure.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import fast_figure
from core.text import html

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"

# Under the x axis, centred: a legend beside the plot takes half of a phone's width.
LEGEND_BELOW = {"orientation": "h", "y": -0.3, "yanchor": "top", "x": 0.5, "xanchor": "center"}


def _title(text: str) -> dict:
    return {"text": text}


# Light to dark: more images, darker cell (plotly's own "Blues" runs the other way).
COUNT_SCALE = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]
CORRECT_COLOR = "#2ca02c"


def confusion_figure(cm, classes) -> go.Figure:
    """Rows are the actual class, columns the predicted one. Each cell: its image count and
    the share of its row (of that actual class); darker means more images; the diagonal
    (correct answers) is outlined in green."""
    cm = np.asarray(cm)  # (K, K)
    k = len(classes)
    names = [html(c) for c in classes]
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0) * 100  # (K, K) row %
    top = max(int(cm.max()), 1)
    text = [[f"{cm[i, j]}<br>{share[i, j]:.0f}%" for j in range(k)] for i in range(k)]
    font_colors = [["white" if cm[i, j] > 0.55 * top else "#1a1a1a" for j in range(k)] for i in range(k)]
    heatmap = {
        "type": "heatmap",
        "z": cm,
        "x": names,
        "y": names,
        "zmin": 0,
        "zmax": top,
        "colorscale": COUNT_SCALE,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "actual %{y}, predicted %{x}: %{z} images<extra></extra>",
    }
    # Text as annotations: each cell's colour follows its background (plotly's heatmap text is one colour).
    notes = [
        {
            "x": names[j],
            "y": names[i],
            "text": text[i][j],
            "showarrow": False,
            "font": {"size": 15 if k <= 4 else 11, "color": font_colors[i][j]},
        }
        for i in range(k)
        for j in range(k)
    ]
    # An invisible marker on each cell: plotly heatmaps do not report clicks, scatter points do.
    actual, predicted = np.meshgrid(names, names, indexing="ij")
    cells = {
        "type": "scatter",
        "x": predicted.ravel(),
        "y": actual.ravel(),
        "mode": "markers",
        "showlegend": False,
        "marker": {"symbol": "square", "size": max(20, 120 // k), "opacity": 0.01},
        "hovertemplate": "actual %{y}, predicted %{x}: click to see the images<extra></extra>",
    }
    correct = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y",
            "x0": i - 0.5,
            "x1": i + 0.5,
            "y0": i - 0.5,
            "y1": i + 0.5,
            "line": {"color": CORRECT_COLOR, "width": 3},
        }
        for i in range(k)
    ]
    return fast_figure(
        [heatmap, cells],
        {
            "title": _title("Confusion matrix (test images)"),
            "height": 200 + 60 * k,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "clickmode": "event+select",
            "annotations": notes,
            "shapes": correct,
            "xaxis": {"title": _title("predicted (green: correct)"), "side": "bottom", "type": "category"},
            "yaxis": {"title": _title("actual"), "autorange": "reversed", "type": "category"},
        },
    )


def learning_curve_figure(curves, metric: str = "loss", loss_name: str = "log loss") -> go.Figure:
    """The loss (or accuracy) per epoch on the training and the test images: one figure
    per metric, so that on a narrow screen they stack instead of squashing together."""
    epochs = np.asarray(curves.epoch)
    field = "loss" if metric == "loss" else "acc"
    traces = [
        {
            "type": "scatter",
            "x": epochs,
            "y": np.asarray(getattr(curves, f"{part}_{field}")),
            "mode": "lines+markers",
            "name": part,
            "line": {"color": color},
        }
        for part, color in (("train", TRAIN_COLOR), ("test", TEST_COLOR))
    ]
    # Powers of ten, not SI prefixes: a loss of 2x10^-4 must not read "200µ".
    yaxis = {"title": _title(loss_name if metric == "loss" else "accuracy"), "exponentformat": "power"}
    if metric != "loss":
        yaxis.update(range=[0, 1], tickformat=".0%")
    return fast_figure(
        traces,
        {
            "title": _title(f"Learning curve: {loss_name if metric == 'loss' else 'accuracy'} per epoch"),
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            # Under the axis: above the plot it ran into the title on a phone.
            "legend": LEGEND_BELOW,
            "xaxis": {"title": _title("epoch"), "dtick": 1 if len(epochs) <= 20 else None},
            "yaxis": yaxis,
        },
    )


def gap_distribution_figure(gaps_train, gaps_test, bins: int = 20) -> go.Figure:
    """Share of images per gap (max probability minus the next), training vs test.
    Shares, not counts: the training set is three times the test set."""
    traces = []
    for name, gaps, color in (("train", gaps_train, TRAIN_COLOR), ("test", gaps_test, TEST_COLOR)):
        gaps = np.asarray(gaps, dtype=float)
        traces.append(
            {
                "type": "histogram",
                "x": gaps,
                "name": f"{name} (mean {gaps.mean():.2f})" if gaps.size else name,
                "histnorm": "percent",
                "xbins": {"start": 0, "end": 1, "size": 1 / bins},
                "marker": {"color": color},
                "opacity": 0.6,
            }
        )
    return fast_figure(
        traces,
        {
            "barmode": "overlay",
            "title": _title("Probability gap: max probability minus the next"),
            "xaxis": {"title": _title("gap"), "range": [0, 1]},
            "yaxis": {"title": _title("% of images")},
            "height": 360,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            "legend": LEGEND_BELOW,
        },
    )


def reliability_figure(mean_predicted, observed, counts, positive: str) -> go.Figure:
    """Predicted probability of `positive` against how often it was right, per bin."""
    positive = html(positive)  # a class name: shown as text in the titles
    diagonal = {
        "type": "scatter",
        "x": [0, 1],
        "y": [0, 1],
        "mode": "lines",
        "name": "perfectly calibrated",
        "line": {"dash": "dash", "color": "gray"},
    }
    model = {
        "type": "scatter",
        "x": np.asarray(mean_predicted),
        "y": np.asarray(observed),
        "mode": "lines+markers",
        "name": "model",
        "text": [f"{int(c)} images" for c in counts],
        "hovertemplate": "p=%{x:.2f}, observed %{y:.2f} (%{text})",
        "line": {"color": TEST_COLOR},
    }
    return fast_figure(
        [diagonal, model],
        {
            "title": _title(f"Reliability of P({positive}), test images"),  # fits a phone
            "xaxis": {"title": _title(f"mean predicted P({positive})"), "range": [0, 1]},
            "yaxis": {"title": _title(f"fraction actually {positive}"), "range": [0, 1]},
            "height": 420,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            "legend": LEGEND_BELOW,  # beside the plot it takes half a phone's width
        },
    )


def accuracy_comparison_figure(names, accuracies, baseline: float | None = None) -> go.Figure:
    """Horizontal bars of accuracy (labels inside the bars), the post's recipe as a dashed
    reference line drawn behind them."""
    bar = {
        "type": "bar",
        "x": list(accuracies),
        "y": [html(n) for n in names],
        "orientation": "h",
        "text": [f"{100 * a:.1f}%" for a in accuracies],
        "textposition": "inside",
        "insidetextanchor": "end",
        "marker": {"color": TRAIN_COLOR},
    }
    layout = {
        "title": _title("Test accuracy, same features and split"),
        "height": 110 + 45 * len(names),
        "xaxis": {"range": [0, 1], "tickformat": ".0%"},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "margin": {"l": 10, "r": 20, "t": 50, "b": 60},
    }
    if baseline is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "x0": baseline,
                "x1": baseline,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "layer": "below",
                "line": {"dash": "dash", "color": "gray"},
            }
        ]
        layout["annotations"] = [
            {
                "text": "the post's recipe",
                "x": baseline,
                "xref": "x",
                "y": 0,
                "yref": "paper",
                "yanchor": "top",
                "yshift": -22,
                "showarrow": False,
                "font": {"color": "gray"},
            }
        ]
    return fast_figure([bar], layout)
