"""The Explain page's figures show the numbers they are given (AppTest cannot see plotly).

The probability bars are drawn in the browser with the post's table (ui/explain_live.js):
tests/e2e/test_explain_browser.py reads them there.
"""

import numpy as np

from core import softmax as sm
from core.charts import explain as charts
from core.charts.explain import LOSS_COLOURS
from core.charts.figure import validated
from core.explain.state import default_state
from core.explain.view import descend

CLASSES = ["dog", "cat", "boat", "airplane"]
SCORES = [-3.44, 1.16, -0.81, 3.91]


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


def test_gradient_figure_shows_minus_the_gradient_per_loss_and_marks_the_true_class():
    grads = {name: grad(SCORES, 1) for name, (_, grad) in sm.LOSSES.items()}
    fig = validated(charts.gradient_figure(CLASSES, grads, target=1))
    assert [t.name for t in fig.data] == ["cross-entropy", "hinge", "squared hinge"]
    hinge = fig.data[1]
    # True class cat: raise cat (+1), lower airplane (-1): the bars point the way to move.
    np.testing.assert_allclose(hinge.y, [0, 1, 0, -1])
    # one panel per loss, stacked, each on its own y axis (its own scale), one x axis
    assert [t.yaxis for t in fig.data] == ["y", "y2", "y3"]
    tops = [fig.layout[a].domain[1] for a in ("yaxis", "yaxis2", "yaxis3")]
    assert tops == sorted(tops, reverse=True) and fig.layout.yaxis3.domain[0] == 0
    assert [fig.layout[a].title.text for a in ("yaxis", "yaxis2", "yaxis3")] == list(grads)
    assert fig.layout.xaxis.anchor == "y3"  # the class names under the bottom panel
    assert list(fig.layout.xaxis.ticktext) == ["dog", "<b>cat (true)</b>", "boat", "airplane"]


def test_names_in_charts_are_text_not_markup():
    evil = ['<a href="http://evil.example">x</a>', "<b>bold</b>"]
    grads = {name: grad([1.0, 2.0], 0) for name, (_, grad) in sm.LOSSES.items()}
    fig = validated(charts.gradient_figure(evil, grads, target=0))
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks[0] == "<b>&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt; (true)</b>"
    assert ticks[1] == "&lt;b&gt;bold&lt;/b&gt;" and "<b>bold" not in fig.data[0].customdata[1]
    curve = validated(charts.loss_curve_figure([0, 1], [1, 0], 0, 1, evil[1], "nats"))
    assert "<b>bold" not in curve.layout.title.text and "&lt;b&gt;bold" in curve.layout.xaxis.title.text


def test_descent_figure_draws_the_loss_at_every_step():
    d = descend(default_state(), "cross-entropy", 1.0, steps=5)
    fig = validated(charts.descent_figure(d.losses, d.loss_name))
    (line,) = fig.data
    assert list(line.x) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(line.y, d.losses)
    assert "cross-entropy" in fig.layout.title.text


def test_unvalidated_figures_are_still_valid_plotly():
    """The builders skip plotly's validation for speed: a bad property must not slip through."""
    grid = np.linspace(-10, 10, 5)
    grads = {name: grad(SCORES, 3) for name, (_, grad) in sm.LOSSES.items()}
    for fig in (
        charts.loss_curve_figure(grid, sm.loss_curve(SCORES, 3, grid), 3.91, 0.07, "airplane", "nats"),
        charts.gradient_figure(CLASSES, grads, 3),
        charts.descent_figure([1.0, 0.5, 0.2], "hinge"),
    ):
        validated(fig)  # validates every property; raises on an unknown one


def test_a_loss_that_no_longer_pushes_says_so_on_its_panel():
    """The post's example: airplane wins by more than the margin, so both hinge losses'
    gradients are 0 and draw no bars; their panels say why instead of showing a blank."""
    post = [-3.44, 1.16, -0.81, 3.91]
    grads = {name: grad(post, 3) for name, (_, grad) in sm.LOSSES.items()}
    fig = validated(charts.gradient_figure(["dog", "cat", "boat", "airplane"], grads, 3))
    names = ["cross-entropy", "hinge<br>(0: no push)", "squared hinge<br>(0: no push)"]
    assert [fig.layout[a].title.text for a in ("yaxis", "yaxis2", "yaxis3")] == names
    assert fig.data[1].marker.color == LOSS_COLOURS["hinge"]
