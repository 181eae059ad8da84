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

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"


def _title(text: str) -> dict:
    return {"text": text}


def confusion_figure(cm, classes) -> go.Figure:
    """Rows are the actual class, columns the predicted one, each cell its image count."""
    cm = np.asarray(cm)  # (K, K)
    classes = [str(c) for c in classes]
    heatmap = {
        "type": "heatmap",
        "z": cm,
        "x": classes,
        "y": classes,
        "colorscale": "Blues",
        "showscale": False,
        "text": cm.astype(str),
        "texttemplate": "%{text}",
        "textfont": {"size": 16},
        "hovertemplate": "actual %{y}, predicted %{x}: %{z} images<extra></extra>",
    }
    # An invisible marker on each cell: plotly heatmaps do not report clicks, scatter points do.
    actual, predicted = np.meshgrid(classes, classes, indexing="ij")
    cells = {
        "type": "scatter",
        "x": predicted.ravel(),
        "y": actual.ravel(),
        "mode": "markers",
        "showlegend": False,
        "customdata": np.stack([actual.ravel(), predicted.ravel()], axis=1),
        "marker": {"symbol": "square", "size": max(20, 120 // len(classes)), "opacity": 0.01},
        "hovertemplate": "actual %{y}, predicted %{x}: click to see the images<extra></extra>",
    }
    return fast_figure(
        [heatmap, cells],
        {
            "title": _title("Confusion matrix (test images)"),
            "height": 180 + 60 * len(classes),
            "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
            "clickmode": "event+select",
            "xaxis": {"title": _title("predicted"), "side": "bottom"},
            "yaxis": {"title": _title("actual"), "autorange": "reversed"},  # first class on top, as printed
        },
    )


def learning_curves_figure(curves: dict, loss_name: str = "log loss") -> go.Figure:
    """Loss and accuracy per epoch on the training and test images, side by side."""
    epochs = np.asarray(curves["epoch"])
    traces = []
    for part, color in (("train", TRAIN_COLOR), ("test", TEST_COLOR)):
        for axis, metric in (("", "loss"), ("2", "acc")):
            traces.append(
                {
                    "type": "scatter",
                    "x": epochs,
                    "y": np.asarray(curves[f"{part}_{metric}"]),
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "mode": "lines+markers",
                    "name": part,
                    "legendgroup": part,
                    "showlegend": axis == "",
                    "line": {"color": color},
                }
            )
    xaxis = {"title": _title("epoch"), "dtick": 1 if len(epochs) <= 20 else None}
    subtitle = {
        "xref": "paper",
        "yref": "paper",
        "y": 1.0,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 16},
    }
    return fast_figure(
        traces,
        {
            "title": _title("Learning curves"),
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 70, "b": 40},
            "xaxis": {**xaxis, "domain": [0, 0.45], "anchor": "y"},
            "yaxis": {"anchor": "x"},
            "xaxis2": {**xaxis, "domain": [0.55, 1], "anchor": "y2"},
            "yaxis2": {"anchor": "x2", "range": [0, 1]},
            "annotations": [
                {**subtitle, "text": loss_name, "x": 0.225, "xanchor": "center"},
                {**subtitle, "text": "accuracy", "x": 0.775, "xanchor": "center"},
            ],
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
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        },
    )


def reliability_figure(mean_predicted, observed, counts, positive: str) -> go.Figure:
    """Predicted probability of `positive` against how often it was right, per bin."""
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
            "title": _title(f"Reliability (test images): predicted vs observed P({positive})"),
            "xaxis": {"title": _title(f"mean predicted P({positive})"), "range": [0, 1]},
            "yaxis": {"title": _title(f"fraction actually {positive}"), "range": [0, 1]},
            "height": 380,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        },
    )


def probability_bars_figure(samples: list[dict], classes) -> go.Figure:
    """One group of bars per sampled image: each class's probability; title shows the truth."""
    names = [f"#{i + 1}: {s['actual']}" for i, s in enumerate(samples)]
    bars = [
        {
            "type": "bar",
            "x": names,
            "y": [s["probabilities"][c] for s in samples],
            "name": str(c),
            "hovertemplate": f"P({c}) = %{{y:.2f}}<extra></extra>",
        }
        for c in classes
    ]
    return fast_figure(
        bars,
        {
            "barmode": "group",
            "title": _title("Class probabilities (label: actual class)"),
            "yaxis": {"range": [0, 1], "title": _title("probability")},
            "height": 320,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        },
    )


def accuracy_comparison_figure(names, accuracies, baseline: float | None = None) -> go.Figure:
    """Horizontal bars of accuracy, with the post's recipe as a reference line."""
    bar = {
        "type": "bar",
        "x": list(accuracies),
        "y": list(names),
        "orientation": "h",
        "text": [f"{a:.1%}" for a in accuracies],
        "textposition": "auto",
    }
    layout = {
        "title": _title("Test accuracy, same features and split"),
        "height": 90 + 45 * len(names),
        "xaxis": {"range": [0, 1], "tickformat": ".0%"},
        "yaxis": {"autorange": "reversed"},
        "margin": {"l": 180, "r": 20, "t": 50, "b": 40},
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
                "line": {"dash": "dash", "color": "gray"},
            }
        ]
        layout["annotations"] = [
            {
                "text": "the post's recipe",
                "x": baseline,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
            }
        ]
    return fast_figure([bar], layout)
