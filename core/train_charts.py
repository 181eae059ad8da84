"""Plotly figures for the Train page: pure functions, numbers in, figure out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"


def confusion_figure(cm, classes) -> go.Figure:
    """Rows are the actual class, columns the predicted one, each cell its image count."""
    cm = np.asarray(cm)  # (K, K)
    classes = [str(c) for c in classes]
    fig = go.Figure(go.Heatmap(
        z=cm, x=classes, y=classes, colorscale="Blues", showscale=False,
        text=cm.astype(str), texttemplate="%{text}", textfont={"size": 16},
        hovertemplate="actual %{y}, predicted %{x}: %{z} images<extra></extra>",
    ))
    # An invisible marker on each cell: plotly heatmaps do not report clicks, scatter points do.
    actual, predicted = np.meshgrid(classes, classes, indexing="ij")
    fig.add_trace(go.Scatter(
        x=predicted.ravel(), y=actual.ravel(), mode="markers", showlegend=False,
        customdata=np.stack([actual.ravel(), predicted.ravel()], axis=1),
        marker=dict(symbol="square", size=max(20, 120 // len(classes)), opacity=0.01),
        hovertemplate="actual %{y}, predicted %{x}: click to see the images<extra></extra>",
    ))
    fig.update_layout(title="Confusion matrix (test images)", height=180 + 60 * len(classes),
                      margin=dict(l=60, r=20, t=50, b=50), clickmode="event+select")
    fig.update_xaxes(title="predicted", side="bottom")
    fig.update_yaxes(title="actual", autorange="reversed")  # first class on top, as printed
    return fig


def learning_curves_figure(curves: dict, loss_name: str = "log loss") -> go.Figure:
    """Loss and accuracy per epoch on the training and test images."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(loss_name, "accuracy"))
    epochs = np.asarray(curves["epoch"])
    for part, color in (("train", TRAIN_COLOR), ("test", TEST_COLOR)):
        for col, metric in ((1, "loss"), (2, "acc")):
            fig.add_trace(go.Scatter(
                x=epochs, y=np.asarray(curves[f"{part}_{metric}"]), mode="lines+markers",
                name=part, legendgroup=part, showlegend=col == 1, line=dict(color=color),
            ), row=1, col=col)
    fig.update_xaxes(title="epoch", dtick=1 if len(epochs) <= 20 else None)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(title="Learning curves", height=340, margin=dict(l=50, r=20, t=70, b=40))
    return fig


def gap_distribution_figure(gaps_train, gaps_test, bins: int = 20) -> go.Figure:
    """Share of images per gap (max probability minus the next), training vs test.
    Shares, not counts: the training set is three times the test set."""
    fig = go.Figure()
    for name, gaps, color in (("train", gaps_train, TRAIN_COLOR), ("test", gaps_test, TEST_COLOR)):
        gaps = np.asarray(gaps, dtype=float)
        fig.add_trace(go.Histogram(
            x=gaps, name=f"{name} (mean {gaps.mean():.2f})" if gaps.size else name,
            histnorm="percent", xbins=dict(start=0, end=1, size=1 / bins),
            marker_color=color, opacity=0.6,
        ))
    fig.update_layout(barmode="overlay", title="Probability gap: max probability minus the next",
                      xaxis_title="gap", yaxis_title="% of images", height=340,
                      margin=dict(l=50, r=20, t=50, b=40))
    fig.update_xaxes(range=[0, 1])
    return fig


def reliability_figure(mean_predicted, observed, counts, positive: str) -> go.Figure:
    """Predicted probability of `positive` against how often it was right, per bin."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line=dict(dash="dash", color="gray")))
    fig.add_trace(go.Scatter(
        x=np.asarray(mean_predicted), y=np.asarray(observed), mode="lines+markers", name="model",
        text=[f"{int(c)} images" for c in counts], hovertemplate="p=%{x:.2f}, observed %{y:.2f} (%{text})",
        line=dict(color=TEST_COLOR),
    ))
    fig.update_layout(title=f"Reliability (test images): predicted vs observed P({positive})",
                      xaxis_title=f"mean predicted P({positive})",
                      yaxis_title=f"fraction actually {positive}", height=380,
                      margin=dict(l=50, r=20, t=50, b=40))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1])
    return fig


def probability_bars_figure(samples: list[dict], classes) -> go.Figure:
    """One group of bars per sampled image: each class's probability; title shows the truth."""
    fig = go.Figure()
    names = [f"#{i + 1}: {s['actual']}" for i, s in enumerate(samples)]
    for c in classes:
        fig.add_trace(go.Bar(x=names, y=[s["probabilities"][c] for s in samples], name=str(c),
                             hovertemplate=f"P({c}) = %{{y:.2f}}<extra></extra>"))
    fig.update_layout(barmode="group", title="Class probabilities (label: actual class)",
                      yaxis=dict(range=[0, 1], title="probability"), height=320,
                      margin=dict(l=50, r=20, t=50, b=40))
    return fig


def accuracy_comparison_figure(names, accuracies, baseline: float | None = None) -> go.Figure:
    """Horizontal bars of accuracy, with the post's recipe as a reference line."""
    fig = go.Figure(go.Bar(x=list(accuracies), y=list(names), orientation="h",
                           text=[f"{a:.1%}" for a in accuracies], textposition="auto"))
    if baseline is not None:
        fig.add_vline(x=baseline, line_dash="dash", line_color="gray",
                      annotation_text="the post's recipe")
    fig.update_layout(title="Test accuracy, same features and split", height=90 + 45 * len(names),
                      xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"),
                      margin=dict(l=180, r=20, t=50, b=40))
    return fig
