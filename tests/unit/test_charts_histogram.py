"""The histogram pictures say where an image's pixels really are (checked on images we paint)."""

import colorsys

import numpy as np
import pytest

from core.charts.histogram import (
    bin_colors,
    brightness_figure,
    hue_label,
    hue_saturation_figure,
    pixel_shares,
    probability_figure,
    top_bins,
    top_bins_figure,
)
from tests.support import post_histogram


def painted(parts, size=100):
    """An image made of vertical bands: parts = [(bgr, fraction of columns), ...]."""
    img = np.zeros((size, size, 3), np.uint8)
    col = 0
    for bgr, frac in parts:
        width = round(size * frac)
        img[:, col : col + width] = bgr
        col += width
    return img


RED, BLUE = (0, 0, 230), (230, 0, 0)  # BGR, full saturation: hue bins 0 and 5 (240 degrees)


def test_shares_are_fractions_of_pixels_despite_l2_normalisation():
    hist = post_histogram(painted([(RED, 0.7), (BLUE, 0.3)]))
    shares = pixel_shares(hist)
    assert shares.shape == (8, 8, 8)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[0, 7, 7] == pytest.approx(0.7)  # red: hue bin 0, top saturation and value
    assert shares[5, 7, 7] == pytest.approx(0.3)  # blue: 240 degrees is hue bin 5 of 8


def test_heat_map_shows_the_hue_saturation_mass_and_the_value_marginal():
    hist = post_histogram(painted([(RED, 0.7), (BLUE, 0.3)]))
    heat, _strip = hue_saturation_figure(hist).data
    (value,) = brightness_figure(hist).data
    z = np.array(heat.z)  # (saturation, hue), % of pixels
    assert z.shape == (8, 8)
    assert z[7, 0] == pytest.approx(70) and z[7, 5] == pytest.approx(30)
    assert z.sum() == pytest.approx(100)
    assert heat.x[0].startswith("red") or heat.x[0].startswith("orange")
    assert "blue" in heat.x[5]
    fig = hue_saturation_figure(hist)  # under the columns, the hue's name; its range in the hover
    assert fig.layout.xaxis2.ticktext[5] == "blue" and heat.x[5] == "blue 225-270°"
    assert np.array(value.x)[-1] == pytest.approx(100)  # both colours are fully bright


def test_hue_strip_is_painted_in_each_columns_own_hue():
    fig = hue_saturation_figure(np.ones(512))
    strip = fig.data[1]
    for i, css in enumerate(strip.marker.color):
        r, g, b = (int(v) / 255 for v in css[4:-1].split(","))
        h, _s, _v = colorsys.rgb_to_hsv(r, g, b)
        assert i / 8 <= h < (i + 1) / 8, (i, css)


def test_other_bins_work_and_wrong_length_is_refused():
    img = painted([(RED, 0.5), ((0, 200, 0), 0.5)])
    hist = post_histogram(img, bins=(4, 4, 4))
    fig = hue_saturation_figure(hist, bins=(4, 4, 4))
    assert np.array(fig.data[0].z).shape == (4, 4)
    with pytest.raises(ValueError, match="bins"):
        hue_saturation_figure(hist, bins=(8, 8, 8))
    with pytest.raises(ValueError, match="non-negative"):
        pixel_shares(-np.ones(512))


def test_top_bins_are_the_dominant_colours_as_swatches():
    hist = post_histogram(painted([(RED, 0.6), (BLUE, 0.3), ((0, 200, 0), 0.1)]))
    rows = top_bins(hist, n=5)
    assert [round(r["share"], 2) for r in rows] == [0.6, 0.3, 0.1]  # empty bins are not listed
    r, g, b = rows[0]["rgb"]
    assert r > 200 and g < r and b < 80  # the red-orange bin (0-45 degrees) is painted red-orange
    r, g, b = rows[1]["rgb"]
    assert b > 200 and r < 120
    fig = top_bins_figure(hist, n=5)
    assert list(fig.data[0].x) == pytest.approx([60, 30, 10])
    assert fig.layout.yaxis.autorange == "reversed"  # largest drawn on top
    assert "blue" in fig.layout.yaxis.ticktext[1]
    # each share in the column right of the plot, on its bar's row
    notes = fig.layout.annotations
    assert [(a.y, a.text, a.x, a.xref) for a in notes] == [
        (0, "60.0%", 1, "paper"),
        (1, "30.0%", 1, "paper"),
        (2, "10.0%", 1, "paper"),
    ]


def test_bin_colors_sit_at_bin_centres():
    colors = bin_colors((8, 8, 8))
    assert colors.shape == (8, 8, 8, 3)
    for idx in [(1, 4, 4), (0, 7, 7), (5, 3, 6), (7, 7, 1)]:
        h, s, v = colorsys.rgb_to_hsv(*(colors[idx] / 255))
        assert (h, s, v) == pytest.approx([(i + 0.5) / 8 for i in idx], abs=0.02)
    assert hue_label(0, 8).endswith("0-45°")


def test_probability_bars_highlight_the_answer_and_grey_it_when_unsure():
    fig = probability_figure(["cat", "dog"], [0.35, 0.65], threshold=0.6)
    bars = fig.data[0]
    assert list(bars.x) == [0.35, 0.65]
    notes = [a for a in fig.layout.annotations if a.xref == "paper" and a.x == 1]  # the number column
    assert [(a.y, a.text) for a in notes] == [(0, "0.350"), (1, "0.650")]
    assert list(fig.layout.yaxis.ticktext) == ["cat", "dog"]
    evil = probability_figure(["<b>x</b>", "dog"], [0.5, 0.5])
    assert evil.layout.yaxis.ticktext[0] == "&lt;b&gt;x&lt;/b&gt;" and "<b>" not in evil.data[0].customdata[0]
    assert bars.marker.color[1] != bars.marker.color[0]
    unsure = probability_figure(["cat", "dog"], [0.45, 0.55], threshold=0.6)
    assert unsure.data[0].marker.color[0] == unsure.data[0].marker.color[1]
    assert any(s.x0 == 0.6 for s in unsure.layout.shapes)
    with pytest.raises(ValueError, match="3 classes but 2"):
        probability_figure(["a", "b", "c"], [0.5, 0.5])
