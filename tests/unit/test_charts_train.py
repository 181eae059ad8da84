"""core.charts.train: each figure shows the numbers it was given."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.charts import train as charts
from core.charts.figure import validated

CURVES = SimpleNamespace(
    epoch=np.arange(1, 4),
    train_loss=[0.9, 0.7, 0.6],
    test_loss=[1.0, 0.8, 0.75],
    train_acc=[0.6, 0.7, 0.72],
    test_acc=[0.55, 0.6, 0.62],
)


def _colour(scale, z, zmax):
    """The colour plotly draws for value z: the scale's stop at or just below z / zmax."""
    stops = [(float(a), c) for a, c in scale]
    return [c for a, c in stops if a <= z / zmax][-1]


def _darkness(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 1 - (0.299 * r + 0.587 * g + 0.114 * b) / 255


def test_confusion_shows_counts_and_row_shares_with_actual_on_rows():
    cm = np.array([[50, 10], [20, 40]])
    fig = validated(charts.confusion_figure(cm, ["cat", "dog"]))
    hm = fig.data[0]
    np.testing.assert_array_equal(np.asarray(hm.z), cm)
    assert list(hm.x) == ["cat", "dog"] and list(hm.y) == ["cat", "dog"]
    texts = {(a.y, a.x): a.text for a in fig.layout.annotations}
    assert texts[("cat", "cat")] == "50<br>83%" and texts[("cat", "dog")] == "10<br>17%"
    assert texts[("dog", "cat")] == "20<br>33%" and texts[("dog", "dog")] == "40<br>67%"
    assert fig.layout.yaxis.title.text == "actual" and fig.layout.xaxis.title.text.startswith("predicted")
    cells = fig.data[1]  # clickable: one point per cell
    assert list(cells.x) == ["cat", "dog", "cat", "dog"] and list(cells.y) == ["cat", "cat", "dog", "dog"]
    # The diagonal (correct answers) is outlined.
    assert [(s.x0 + s.x1) / 2 for s in fig.layout.shapes] == [0, 1]


def test_confusion_colours_run_darker_for_more_images():
    """The first round drew the largest count lightest (plotly's "Blues" runs dark to light)."""
    cm = np.array([[30, 0, 2], [5, 12, 1], [0, 8, 20]])
    fig = validated(charts.confusion_figure(cm, ["a", "b", "c"]))
    hm = fig.data[0]
    scale = hm.colorscale
    flat = sorted(cm.ravel())
    darkness = [_darkness(_colour(scale, z, hm.zmax)) for z in flat]
    assert darkness == sorted(darkness) and darkness[0] < 0.05 < darkness[-1]  # zero is near white
    notes = {(a.y, a.x): a.font.color for a in fig.layout.annotations}
    assert notes[("a", "a")] == "white" and notes[("a", "b")] != "white"  # text readable on its cell


def test_learning_curve_figures_show_train_and_test_per_metric():
    curves = CURVES
    loss = validated(charts.learning_curve_figure(curves, "loss", loss_name="hinge loss"))
    acc = validated(charts.learning_curve_figure(curves, "accuracy"))
    assert {t.name: list(t.y) for t in loss.data} == {"train": [0.9, 0.7, 0.6], "test": [1.0, 0.8, 0.75]}
    assert {t.name: list(t.y) for t in acc.data} == {"train": [0.6, 0.7, 0.72], "test": [0.55, 0.6, 0.62]}
    assert "hinge loss" in loss.layout.title.text and tuple(acc.layout.yaxis.range) == (0, 1)


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


def test_accuracy_comparison_labels_percentages():
    fig = validated(charts.accuracy_comparison_figure(["post", "chi2"], [0.63, 0.69], baseline=0.63))
    assert list(fig.data[0].text) == ["63.0%", "69.0%"] and fig.data[0].textposition == "inside"
    assert fig.layout.shapes[0].x0 == pytest.approx(0.63) and fig.layout.shapes[0].layer == "below"


def test_unvalidated_figures_are_still_valid_plotly():
    """The figures skip plotly's validation for speed: each must still pass it."""
    curves = CURVES
    for fig in (
        charts.confusion_figure(np.array([[5, 1], [2, 4]]), ["cat", "dog"]),
        charts.learning_curve_figure(curves, "loss"),
        charts.learning_curve_figure(curves, "accuracy"),
        charts.gap_distribution_figure([0.1, 0.9], [0.5]),
        charts.reliability_figure([0.2, 0.8], [0.25, 0.7], [10, 30], "dog"),
        charts.accuracy_comparison_figure(["post", "chi2"], [0.63, 0.69], baseline=0.63),
    ):
        validated(fig)


def test_chart_text_from_user_names_is_escaped():
    fig = validated(charts.confusion_figure(np.eye(2, dtype=int), ['<a href="x">cat</a>', "dog"]))
    assert "<a" not in "".join(map(str, fig.data[0].x)) and "&lt;a" in fig.data[0].x[0]
