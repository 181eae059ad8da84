"""core.charts.train: each figure shows the numbers it was given."""

import numpy as np
import pytest

from core.charts import train as charts
from core.charts.figure import validated


def test_confusion_shows_counts_with_actual_on_rows():
    cm = np.array([[50, 10], [20, 40]])
    fig = validated(charts.confusion_figure(cm, ["cat", "dog"]))
    hm = fig.data[0]
    np.testing.assert_array_equal(np.asarray(hm.z), cm)
    assert list(hm.x) == ["cat", "dog"] and list(hm.y) == ["cat", "dog"]
    assert np.asarray(hm.text).tolist() == [["50", "10"], ["20", "40"]]
    assert fig.layout.yaxis.title.text == "actual" and fig.layout.xaxis.title.text == "predicted"
    cells = fig.data[1]  # clickable: one point per cell, telling which cell it is
    pairs = [tuple(c) for c in np.asarray(cells.customdata).tolist()]
    assert pairs == [("cat", "cat"), ("cat", "dog"), ("dog", "cat"), ("dog", "dog")]
    assert list(cells.x) == ["cat", "dog", "cat", "dog"] and list(cells.y) == ["cat", "cat", "dog", "dog"]


def test_learning_curves_has_train_and_test_for_loss_and_accuracy():
    curves = {
        "epoch": np.arange(1, 4),
        "train_loss": [0.9, 0.7, 0.6],
        "test_loss": [1.0, 0.8, 0.75],
        "train_acc": [0.6, 0.7, 0.72],
        "test_acc": [0.55, 0.6, 0.62],
    }
    fig = validated(charts.learning_curves_figure(curves))
    assert len(fig.data) == 4
    by = {(t.name, t.xaxis): list(t.y) for t in fig.data}
    assert by[("train", "x")] == [0.9, 0.7, 0.6] and by[("test", "x2")] == [0.55, 0.6, 0.62]
    assert [t.showlegend for t in fig.data].count(True) == 2  # one legend entry per split


def test_gap_distribution_uses_shares_and_reports_means():
    fig = validated(charts.gap_distribution_figure([0.1, 0.3, 0.5, 0.9], [0.2, 0.4]))
    tr, te = fig.data
    assert tr.histnorm == "percent" and list(te.x) == [0.2, 0.4]
    assert "mean 0.45" in tr.name and "mean 0.30" in te.name
    assert fig.layout.barmode == "overlay"


def test_gap_distribution_survives_an_empty_split():
    fig = validated(charts.gap_distribution_figure([0.5], []))
    assert fig.data[1].name == "test"


def test_reliability_has_the_diagonal_and_the_model():
    fig = validated(charts.reliability_figure([0.2, 0.8], [0.25, 0.7], [10, 30], "dog"))
    diag, model = fig.data
    assert list(diag.x) == [0, 1] and list(diag.y) == [0, 1]
    assert list(model.y) == [0.25, 0.7] and list(model.text) == ["10 images", "30 images"]
    assert "P(dog)" in fig.layout.title.text


def test_probability_bars_one_trace_per_class():
    samples = [
        {"actual": "cat", "probabilities": {"cat": 0.7, "dog": 0.3}},
        {"actual": "dog", "probabilities": {"cat": 0.45, "dog": 0.55}},
    ]
    fig = validated(charts.probability_bars_figure(samples, ["cat", "dog"]))
    assert [t.name for t in fig.data] == ["cat", "dog"]
    assert list(fig.data[1].y) == [0.3, 0.55] and list(fig.data[0].x) == ["#1: cat", "#2: dog"]


def test_accuracy_comparison_labels_percentages():
    fig = validated(charts.accuracy_comparison_figure(["post", "chi2"], [0.63, 0.69], baseline=0.63))
    assert list(fig.data[0].text) == ["63.0%", "69.0%"]
    assert fig.layout.shapes[0].x0 == pytest.approx(0.63)


def test_unvalidated_figures_are_still_valid_plotly():
    """The figures skip plotly's validation for speed: each must still pass it."""
    curves = {
        "epoch": np.arange(1, 4),
        "train_loss": [0.9, 0.7, 0.6],
        "test_loss": [1.0, 0.8, 0.75],
        "train_acc": [0.6, 0.7, 0.72],
        "test_acc": [0.55, 0.6, 0.62],
    }
    samples = [{"actual": "cat", "probabilities": {"cat": 0.7, "dog": 0.3}}]
    for fig in (
        charts.confusion_figure(np.array([[5, 1], [2, 4]]), ["cat", "dog"]),
        charts.learning_curves_figure(curves),
        charts.gap_distribution_figure([0.1, 0.9], [0.5]),
        charts.reliability_figure([0.2, 0.8], [0.25, 0.7], [10, 30], "dog"),
        charts.probability_bars_figure(samples, ["cat", "dog"]),
        charts.accuracy_comparison_figure(["post", "chi2"], [0.63, 0.69], baseline=0.63),
    ):
        validated(fig)


def test_learning_curves_put_loss_left_and_accuracy_right_with_titles():
    curves = {
        "epoch": np.arange(1, 3),
        "train_loss": [0.9, 0.7],
        "test_loss": [1.0, 0.8],
        "train_acc": [0.6, 0.7],
        "test_acc": [0.55, 0.6],
    }
    fig = validated(charts.learning_curves_figure(curves, loss_name="hinge loss"))
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]
    assert [a.text for a in fig.layout.annotations] == ["hinge loss", "accuracy"]
    assert tuple(fig.layout.yaxis2.range) == (0, 1)
