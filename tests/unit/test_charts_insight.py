"""core.charts.insight: each figure passes plotly's validator and draws the numbers (and
the colours) it was given."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from core.charts import insight as charts
from core.charts.figure import validated
from core.charts.histogram import bin_colors
from core.learn import insight, regularisation, seeds
from core.learn.config import BIN_CHOICES
from core.learn.model import SavedModel


def _rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(c) for c in css[4:-1].split(","))


@pytest.mark.parametrize("bins", BIN_CHOICES)
def test_every_swatch_is_its_bins_colour_and_named_by_it(bins):
    d = int(np.prod(bins))
    colours = bin_colors(bins).reshape(d, 3)
    for j in {0, d // 3, d - 1}:
        s = charts.swatch(j, bins)
        assert _rgb(s.css) == tuple(int(c) for c in colours[j])
        h, sat, v = colorsys.rgb_to_hsv(*(c / 255 for c in _rgb(s.css)))
        i, jj, k = np.unravel_index(j, bins)
        assert int(h * bins[0] + 1e-6) % bins[0] == i or sat < 1e-9  # the hue of its own bin
        assert int(v * bins[2]) == k and (int(sat * bins[1]) == jj or v < 0.1)  # its value, saturation
        lo, hi = 100 * jj / bins[1], 100 * (jj + 1) / bins[1]
        assert f"sat {lo:.0f}-{hi:.0f}%" in s.label and s.short.split(" · ")[0] in s.label


@pytest.mark.parametrize("bins", BIN_CHOICES)
def test_weights_figure_paints_each_bar_in_its_colour(bins):
    d = int(np.prod(bins))
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(3, d))
    vector = insight.weight_vector(coef, np.zeros(3), ("<b>cat</b>", "dog", "fish"), 0)
    fig = validated(charts.weights_figure(vector, bins, selected=vector.negative[0].index))
    bars = fig.data[0]
    weights = [*vector.positive, *vector.negative]
    assert list(bars.x) == [w.weight for w in weights] and list(bars.customdata) == [w.index for w in weights]
    assert list(bars.marker.color) == [charts.swatch(w.index, bins).css for w in weights]
    assert list(bars.marker.line.width).count(3) == 1  # the chosen colour is outlined
    top = sorted(coef[0], reverse=True)[: insight.N_WEIGHTS]
    assert list(bars.x[: len(top)]) == top and list(bars.y) == list(range(len(weights)))
    assert list(fig.layout.yaxis.ticktext) == [charts.swatch(w.index, bins).short for w in weights]
    notes = [a.text for a in fig.layout.annotations]
    assert "votes &lt;b&gt;cat&lt;/b&gt; →" in notes and "← votes the other classes" in notes


def test_waterfall_chains_its_terms_to_the_score():
    bins = (2, 2, 2)
    model = SavedModel(
        ("cat", "<i>dog</i>"), np.linspace(-1, 2, 8)[None], np.array([-0.25]), "sgd-log", bins, True
    )
    x = np.array([0.1, 0.5, 0.0, 0.3, 0.2, 0.6, 0.4, 0.2], dtype=np.float32)
    terms = insight.score_terms(model, x, 0, n=3)
    fig = validated(charts.waterfall_figure(terms, bins))
    bar = fig.data[0]
    steps, base = np.asarray(bar.x), np.asarray(bar.base)
    np.testing.assert_allclose(base[1:-1], np.cumsum(steps[:-1])[:-1])  # each starts where one ended
    assert base[-1] == 0 and steps[-1] == terms.score  # the score bar: from 0 to the score itself
    assert base[-2] + steps[-2] == pytest.approx(terms.score, abs=1e-12)
    assert terms.score == pytest.approx(float(np.dot(model.coef[0], x) + model.intercept[0]), abs=1e-12)
    assert list(bar.marker.color[:3]) == [charts.swatch(t.index, bins).css for t in terms.terms]
    labels, values = fig.layout.yaxis.ticktext, [a.text for a in fig.layout.annotations]
    assert labels[-1] == "score &lt;i&gt;dog&lt;/i&gt;" and values[-1] == f"= {terms.score:.4f}"
    assert labels[-3] == f"other {terms.n_other} bins" and labels[-2] == "bias b"
    assert values[:-1] == [charts.signed(v, 4) for v in steps[:-1]]  # each term's number, in order
    assert [a.y for a in fig.layout.annotations] == list(bar.y)  # on its own bar's row


def test_loss_histogram_stacks_right_and_wrong_with_the_mean_marked():
    losses = insight.Losses(
        loss=np.array([0.1, 0.2, 2.5, 0.05, 36.0]),
        p_true=np.exp(-np.array([0.1, 0.2, 2.5, 0.05, 36.0])),
        correct=np.array([True, True, False, True, False]),
    )
    fig = validated(charts.loss_distribution_figure(losses))
    right, wrong = fig.data
    assert sorted(right.x) == [0.05, 0.1, 0.2] and sorted(wrong.x) == [2.5, 36.0]
    assert right.name == "right answers (3)" and wrong.name == "mistakes (2)"
    assert fig.layout.shapes[0].x0 == pytest.approx(losses.mean)
    assert fig.layout.annotations[0].text == f"mean {losses.mean:.4f}"
    assert right.xbins.size < 36 / 10  # one clipped loss does not squash the others


def test_seeds_figures_show_every_split_and_the_interval():
    spread = seeds.SeedSpread(
        (42, 43, 44),
        250,
        (
            seeds.Spread(seeds.SOFTMAX, "", np.array([0.6, 0.62, 0.58])),
            seeds.Spread(seeds.SVM, "", np.array([0.59, 0.6, 0.6])),
        ),
    )
    fig = validated(charts.seeds_figure(spread))
    dots, means = fig.data
    assert list(dots.x) == [0.6, 0.62, 0.58, 0.59, 0.6, 0.6] and len(set(dots.y)) == 2
    s = spread.of(seeds.SOFTMAX)
    assert means.x[0] == pytest.approx(s.mean) and means.error_x.array[0] == pytest.approx(s.high - s.mean)
    diff = validated(charts.difference_figure(spread.difference(), 0.01))
    np.testing.assert_allclose(diff.data[0].x, [1, 2, -2])
    assert diff.layout.shapes[1].x0 == pytest.approx(1.0)  # the post's 1 point


def test_alpha_figures_mark_the_chosen_alpha_on_a_log_axis():
    pts = tuple(regularisation.AlphaPoint(a, 0.8, 0.6, 0.5, 0.7, 1 / a) for a in (1e-6, 1e-4, 1e-2))
    sweep = regularisation.AlphaSweep(pts, 1e-4, 0.5)
    acc = validated(charts.alpha_figure(sweep, "accuracy"))
    assert acc.layout.xaxis.type == "log" and list(acc.data[0].x) == [1e-6, 1e-4, 1e-2]
    assert [t.name for t in acc.data] == ["train", "test"]
    assert acc.layout.shapes[0].x0 == 1e-4 and acc.layout.annotations[0].x == pytest.approx(-4)
    loss = validated(charts.alpha_figure(sweep, "loss"))
    assert list(loss.data[1].y) == [1e6, 1e4, 1e2] and loss.data[1].yaxis == "y2"
    assert loss.layout.yaxis2.side == "right" and loss.layout.yaxis2.overlaying == "y"
    assert loss.layout.yaxis2.dtick == 200_000  # round ticks: 1e6 / 5 rounded up to 2 x 10^5
    assert [charts._round_step(x) for x in (19.3, 0.3, 1.0, 7)] == [20, 0.5, 1, 10]


def test_reliability_titles_show_a_class_name_as_text_and_fit_a_phone():
    from core.charts.train import reliability_figure

    fig = validated(reliability_figure([0.2, 0.8], [0.3, 0.7], [5, 5], "<b>dog</b>"))
    assert fig.layout.title.text == "Reliability of P(&lt;b&gt;dog&lt;/b&gt;), test images"
    assert "&lt;b&gt;" in fig.layout.xaxis.title.text and "<b>" not in fig.layout.yaxis.title.text
