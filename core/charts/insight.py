"""Figures of what the model learned, where its loss comes from and how sure it is.

Pure functions, numbers in, figure out, as plain dicts (core.charts.figure.fast_figure);
tests/unit/test_charts_insight.py runs each through plotly's validator. Every colour bin
is drawn in its own colour (core.charts.histogram.bin_colors: the centre of its hue,
saturation and value), so a weight's bar is the colour it votes with.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import VALUE_MARGIN, fast_figure, value_column
from core.charts.histogram import swatch
from core.charts.train import TEST_COLOR, TRAIN_COLOR
from core.text import html, number

WRONG_COLOR, RIGHT_COLOR, TOTAL_COLOR, REST_COLOR = "#d62728", "#2ca02c", "#333333", "#b0b0b0"
MARGIN = {"l": 10, "r": 20, "t": 50, "b": 40}


def _title(text: str) -> dict:
    return {"text": text}


# ---------------------------------------------------------------- a colour bin, for people


def signed(x: float, decimals: int = 2) -> str:
    """+0.42 / -0.42: which way a term pushes a score."""
    return ("+" if x > 0 else "") + number(x, decimals)


# ---------------------------------------------------------------- weights as colours


def weights_figure(vector, bins, selected: int | None = None, epoch: str = "") -> go.Figure:
    """The largest positive weights (they vote for vector.votes_for) and the most negative
    (they vote for vector.votes_against), each bar painted in its bin's colour. Each bar
    carries its bin index (customdata) so a click chooses it; `selected` is outlined."""
    weights = [*vector.positive, *vector.negative]
    swatches = [swatch(w.index, bins) for w in weights]
    values = [w.weight for w in weights]
    top = max((abs(v) for v in values), default=1.0) or 1.0
    bars = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": list(range(len(weights))),  # by position: two bins may share a short name
        "customdata": [w.index for w in weights],
        "marker": {
            "color": [s.css for s in swatches],
            "line": {
                "color": ["#000000" if w.index == selected else "#555555" for w in weights],
                "width": [3 if w.index == selected else 0.5 for w in weights],
            },
        },
        "text": [signed(v) for v in values],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertext": [f"{s.label}<br>weight {signed(v, 4)}" for s, v in zip(swatches, values)],
        "hovertemplate": "%{hovertext}<extra>click to see the test images</extra>",
    }
    # Which way votes what: said on the axis itself, beside the bars it describes.
    notes = [
        {
            "text": f"votes {html(vector.votes_for)} →",
            "x": 1,
            "xanchor": "right",
            "y": 1,
            "yanchor": "bottom",
            "xref": "paper",
            "yref": "paper",
            "showarrow": False,
        },
        {
            "text": f"← votes {html(vector.votes_against)}",
            "x": 0,
            "xanchor": "left",
            "y": 1,
            "yanchor": "bottom",
            "xref": "paper",
            "yref": "paper",
            "showarrow": False,
        },
    ]
    return fast_figure(
        [bars],
        {
            "title": _title(f"Weights as colours{epoch}"),  # short: a phone shows ~35 characters
            "height": 130 + 26 * max(len(weights), 1),
            "margin": {"l": 10, "r": 20, "t": 70, "b": 40},
            "annotations": notes,
            "showlegend": False,
            "xaxis": {
                "title": _title("weight W_j"),
                "range": [-1.55 * top, 1.55 * top],  # room for a bar's number beside it, on a phone too
                "zeroline": True,
                "zerolinecolor": "#333333",
            },
            "yaxis": {
                "autorange": "reversed",
                "automargin": True,
                "tickmode": "array",
                "tickvals": list(range(len(weights))),
                "ticktext": [s.short for s in swatches],
            },
            "clickmode": "event+select",
        },
    )


# ---------------------------------------------------------------- one score as a waterfall


def waterfall_figure(terms, bins) -> go.Figure:
    """s = sum_j W_j x_j + b, bar by bar: each large term in its bin's colour, starting where
    the previous one ended, then the rest of the bins, the bias, and the score itself."""
    swatches = [swatch(t.index, bins) for t in terms.terms]
    labels = [s.short for s in swatches] + [
        f"other {terms.n_other} bins",
        "bias b",
        f"score {html(terms.cls)}",
    ]
    steps = [t.value for t in terms.terms] + [terms.other, terms.bias]
    starts = np.concatenate([[0.0], np.cumsum(steps)[:-1]])  # (n + 2,)
    colours = [s.css for s in swatches] + [REST_COLOR, REST_COLOR]
    hover = [
        f"{s.label}<br>W_j {signed(t.weight, 4)} × x_j {number(t.x)}" for s, t in zip(swatches, terms.terms)
    ]
    hover += [f"the {terms.n_other} other bins' terms, summed", "the intercept b"]
    at = list(range(len(labels)))  # by position: two bins may share a short name
    bars = {
        "type": "bar",
        "orientation": "h",
        "y": at,
        "x": [*steps, terms.score],
        "base": [*starts.tolist(), 0.0],
        "marker": {"color": [*colours, TOTAL_COLOR], "line": {"color": "#555555", "width": 0.5}},
        "hovertext": [*hover, f"s = {number(terms.score)}"],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    ends = np.concatenate([[0.0], np.cumsum(steps), [terms.score]])
    lo, hi = float(min(ends.min(), 0)), float(max(ends.max(), 0))
    pad = 0.04 * max(hi - lo, 1e-9)
    values = [signed(v, 4) for v in steps] + [f"= {number(terms.score)}"]
    return fast_figure(
        [bars],
        {
            "title": _title(f"The score of {html(terms.cls)}, term by term"),
            "height": 140 + 28 * len(labels),
            "margin": {**MARGIN, "r": VALUE_MARGIN},
            "showlegend": False,
            "annotations": value_column(at, values),  # the numbers in a column of their own
            "xaxis": {
                "title": _title("score"),
                "range": [lo - pad, hi + pad],
                "zeroline": True,
                "zerolinecolor": "#333333",
            },
            "yaxis": {
                "autorange": "reversed",
                "automargin": True,
                "tickmode": "array",
                "tickvals": at,
                "ticktext": labels,
            },
        },
    )


# ---------------------------------------------------------------- per-image losses


def loss_distribution_figure(losses) -> go.Figure:
    """How many test images cost how much loss, right and wrong answers stacked; the mean
    (= the log loss) marked."""
    traces = [
        {
            "type": "histogram",
            "x": losses.loss[mask],
            "name": f"{name} ({int(mask.sum())})",
            "marker": {"color": colour},
            "xbins": {"start": 0, "size": _bin_width(losses.loss)},
            "hovertemplate": "loss %{x}: %{y} images<extra></extra>",
        }
        for name, mask, colour in (
            ("right answers", losses.correct, RIGHT_COLOR),
            ("mistakes", ~losses.correct, WRONG_COLOR),
        )
    ]
    mean = losses.mean
    return fast_figure(
        traces,
        {
            "barmode": "stack",
            "title": _title("Loss per test image: −ln p(true class)"),
            "height": 360,
            "margin": MARGIN,
            "legend": {"orientation": "h", "y": -0.28, "yanchor": "top", "x": 0},
            "xaxis": {"title": _title("−ln p(true class)"), "rangemode": "tozero"},
            "yaxis": {"title": _title("test images")},
            "shapes": [
                {
                    "type": "line",
                    "x0": mean,
                    "x1": mean,
                    "xref": "x",
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"dash": "dash", "color": TOTAL_COLOR},
                }
            ],
            "annotations": [
                {
                    "text": f"mean {number(mean)}",
                    "x": mean,
                    "xref": "x",
                    "xanchor": "left",
                    "y": 0.95,
                    "yref": "paper",
                    "showarrow": False,
                }
            ],
        },
    )


def _bin_width(loss: np.ndarray) -> float:
    """About 30 bins up to the 99th percentile (a clipped 36 from one image must not squash
    every other bar into the first)."""
    top = float(np.percentile(loss, 99)) if len(loss) else 1.0
    return max(top, 0.1) / 30


# ---------------------------------------------------------------- how sure: split seeds


def seeds_figure(spread) -> go.Figure:
    """Each model's accuracy on every split (small dots) and its mean with the 95% interval."""
    names = [html(m.name) for m in spread.models]
    dots = {
        "type": "scatter",
        "mode": "markers",
        "x": np.concatenate([m.values for m in spread.models]),
        "y": [n for n, m in zip(names, spread.models) for _ in m.values],
        "text": [f"split seed {s}" for m in spread.models for s in spread.seeds],
        "marker": {"color": TRAIN_COLOR, "size": 7, "opacity": 0.45},
        "name": "one split",
        "hovertemplate": "%{y}, %{text}: %{x:.1%}<extra></extra>",
    }
    means = {
        "type": "scatter",
        "mode": "markers",
        "x": [m.mean for m in spread.models],
        "y": names,
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [m.high - m.mean for m in spread.models],
            "arrayminus": [m.mean - m.low for m in spread.models],
            "color": TOTAL_COLOR,
            "thickness": 2,
        },
        "marker": {"color": TOTAL_COLOR, "size": 11, "symbol": "diamond"},
        "name": "mean, 95% interval",
        "hovertemplate": "%{y}: mean %{x:.1%}<extra></extra>",
    }
    return fast_figure(
        [dots, means],
        {
            "title": _title(f"Test accuracy on {len(spread.seeds)} splits"),
            "height": 150 + 48 * len(names),
            "margin": MARGIN,
            "legend": {"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
            "xaxis": {"tickformat": ".0%", "title": _title("test accuracy")},
            "yaxis": {"autorange": "reversed", "automargin": True, "type": "category"},
        },
    )


def difference_figure(diff, post_gap: float) -> go.Figure:
    """Softmax minus Linear SVM on the same split, split by split, in points: its mean and
    interval against 0 (no difference) and the post's gap."""
    values = 100 * np.asarray(diff.values)
    lo, hi = 100 * diff.low, 100 * diff.high
    dots = {
        "type": "scatter",
        "mode": "markers",
        "x": values,
        "y": ["one split"] * len(values),
        "marker": {"color": TRAIN_COLOR, "size": 8, "opacity": 0.5},
        "hovertemplate": "%{x:+.1f} points<extra></extra>",
    }
    mean = {
        "type": "scatter",
        "mode": "markers",
        "x": [100 * diff.mean],
        "y": ["mean"],
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [hi - 100 * diff.mean],
            "arrayminus": [100 * diff.mean - lo],
            "color": TOTAL_COLOR,
            "thickness": 2,
        },
        "marker": {"color": TOTAL_COLOR, "size": 11, "symbol": "diamond"},
        "hovertemplate": "mean %{x:+.1f} points<extra></extra>",
    }
    line = {"type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1}
    note = {"xref": "x", "yref": "paper", "y": 1, "yanchor": "bottom", "showarrow": False}
    return fast_figure(
        [dots, mean],
        {
            "title": _title("Softmax minus Linear SVM, same split (points)"),
            "height": 230,
            "margin": {"l": 10, "r": 20, "t": 70, "b": 40},
            "showlegend": False,
            "xaxis": {"title": _title("accuracy difference, points"), "zeroline": False},
            "yaxis": {"automargin": True, "type": "category"},
            "shapes": [
                {**line, "x0": 0, "x1": 0, "line": {"color": TOTAL_COLOR}},
                {
                    **line,
                    "x0": 100 * post_gap,
                    "x1": 100 * post_gap,
                    "line": {"color": TEST_COLOR, "dash": "dash"},
                },
            ],
            "annotations": [
                {**note, "x": 0, "xanchor": "right", "text": "no difference"},
                {
                    **note,
                    "x": 100 * post_gap,
                    "xanchor": "left",
                    "text": "the post",
                    "font": {"color": TEST_COLOR},
                },
            ],
        },
    )


# ---------------------------------------------------------------- regularisation


def _round_step(x: float) -> float:
    """1, 2 or 5 times a power of ten, at least x: 19.3 -> 20 (an axis's round ticks)."""
    if not x > 0:
        return 1.0
    power = 10 ** np.floor(np.log10(x))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= x))


def alpha_figure(sweep, metric: str = "accuracy") -> go.Figure:
    """Against alpha (log axis): training and test accuracy, or the test log loss with the
    size of W; the chosen alpha marked."""
    alphas = [p.alpha for p in sweep.points]
    line = {"type": "scatter", "mode": "lines+markers", "x": alphas}
    if metric == "accuracy":
        traces = [
            {
                **line,
                "y": [p.train_acc for p in sweep.points],
                "name": "train",
                "line": {"color": TRAIN_COLOR},
            },
            {**line, "y": [p.test_acc for p in sweep.points], "name": "test", "line": {"color": TEST_COLOR}},
        ]
        yaxis = {"title": _title("accuracy"), "tickformat": ".0%"}
        title, extra = "Accuracy against alpha", {}
    else:
        traces = [
            {
                **line,
                "y": [p.test_loss for p in sweep.points],
                "name": "test log loss",
                "line": {"color": TEST_COLOR},
            },
            {
                **line,
                "y": [p.w_norm for p in sweep.points],
                "name": "|W|",
                "yaxis": "y2",
                "line": {"color": TOTAL_COLOR, "dash": "dot"},
            },
        ]
        yaxis = {"title": _title("test log loss"), "rangemode": "tozero"}
        title = "Test log loss and |W| against alpha"
        extra = {
            "yaxis2": {
                "title": _title("|W|"),
                "rangemode": "tozero",
                "overlaying": "y",
                "side": "right",
                "dtick": _round_step(max(p.w_norm for p in sweep.points) / 5),  # round ticks of its own
                "showgrid": False,
            }
        }
    return fast_figure(
        traces,
        {
            "title": _title(title),
            "height": 330,
            "margin": {"l": 50, "r": 50, "t": 60, "b": 40},
            "legend": {"orientation": "h", "y": -0.25, "yanchor": "top", "x": 0},
            "xaxis": {"type": "log", "title": _title("alpha"), "exponentformat": "power"},
            "yaxis": yaxis,
            **extra,
            "shapes": [
                {
                    "type": "line",
                    "x0": sweep.chosen,
                    "x1": sweep.chosen,
                    "xref": "x",
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"dash": "dash", "color": "gray"},
                }
            ],
            "annotations": [
                {
                    "text": "chosen",
                    "x": np.log10(sweep.chosen),
                    "xref": "x",
                    "y": 1,
                    "yref": "paper",
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"color": "gray"},
                }
            ],
        },
    )
