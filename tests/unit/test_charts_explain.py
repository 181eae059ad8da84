"""The Explain page's figures show the numbers they are given (AppTest cannot see plotly)."""

import numpy as np

from core import softmax as sm
from core.charts import explain as charts
from core.charts.figure import validated

CLASSES = ["dog", "cat", "boat", "airplane"]
SCORES = [-3.44, 1.16, -0.81, 3.91]


def test_probability_figure_bars_labels_and_true_class_colour():
    p = sm.softmax(SCORES)
    fig = validated(charts.probability_figure(CLASSES, p, target=3))
    bar = fig.data[0]
    assert list(bar.x) == CLASSES
    np.testing.assert_allclose(bar.y, p)
    assert list(bar.text) == ["0.0006", "0.0596", "0.0083", "0.9315"]
    assert list(bar.marker.color) == [charts.OTHER_COLOUR] * 3 + [charts.TRUE_COLOUR]
    assert fig.layout.yaxis.range == (0, 1.1)


def test_loss_curve_figure_marks_the_current_point():
    grid = np.linspace(-10, 10, 21)
    losses = sm.loss_curve(SCORES, 3, grid)
    now = sm.cross_entropy(SCORES, 3)
    fig = validated(charts.loss_curve_figure(grid, losses, 3.91, now, "airplane", "nats"))
    line, point = fig.data
    np.testing.assert_allclose(line.x, grid)
    np.testing.assert_allclose(line.y, losses)
    assert point.x == (3.91,) and point.y[0] == now and point.text == ("0.0709",)
    assert "airplane" in fig.layout.xaxis.title.text and "nats" in fig.layout.yaxis.title.text


def test_gradient_figure_shows_minus_the_gradient_per_loss():
    grads = {name: grad(SCORES, 1) for name, (_, grad) in sm.LOSSES.items()}
    fig = validated(charts.gradient_figure(CLASSES, grads))
    assert [t.name for t in fig.data] == ["cross-entropy", "hinge", "squared hinge"]
    hinge = fig.data[1]
    # True class cat: raise cat (+1), lower airplane (-1): the bars point the way to move.
    np.testing.assert_allclose(hinge.y, [0, 1, 0, -1])
    assert fig.layout.barmode == "group"


def test_unvalidated_figures_are_still_valid_plotly():
    """The builders skip plotly's validation for speed: a bad property must not slip through."""
    grid = np.linspace(-10, 10, 5)
    grads = {name: grad(SCORES, 3) for name, (_, grad) in sm.LOSSES.items()}
    for fig in (
        charts.probability_figure(CLASSES, sm.softmax(SCORES), target=3),
        charts.loss_curve_figure(grid, sm.loss_curve(SCORES, 3, grid), 3.91, 0.07, "airplane", "nats"),
        charts.gradient_figure(CLASSES, grads),
    ):
        validated(fig)  # validates every property; raises on an unknown one
