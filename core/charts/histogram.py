"""Pictures of what the model sees: an HSV colour histogram a person can read.

The post's feature is a 3-D histogram (hue x saturation x value, 8 bins each,
L2-normalised). 512 numbers mean nothing to a reader, so these builders show
them as colours: where the image's pixels fall on the hue-saturation plane, how
bright they are, and which few colours dominate. Pure functions: data in, plotly
figure out (the page only renders them).

L2 normalisation only rescales the counts, so hist / hist.sum() is exactly the
share of the image's pixels in each bin: the figures speak in "% of pixels".
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from core.charts.figure import VALUE_MARGIN, value_column
from core.text import html

# Hue names at their angle on the colour wheel (degrees); OpenCV's H 0-180 is degrees / 2.
_HUE_NAMES = [
    (0, "red"),
    (20, "red-orange"),
    (35, "orange"),
    (60, "yellow"),
    (90, "chartreuse"),
    (120, "green"),
    (150, "spring green"),
    (180, "cyan"),
    (210, "azure"),
    (240, "blue"),
    (270, "violet"),
    (300, "magenta"),
    (330, "rose"),
    (360, "red"),
]


def pixel_shares(hist: np.ndarray, bins: Sequence[int] = (8, 8, 8)) -> np.ndarray:
    """The histogram as shares of pixels, shape (h_bins, s_bins, v_bins), summing to 1."""
    bins = tuple(int(b) for b in bins)
    h = np.asarray(hist, dtype=np.float64).ravel()
    if h.size != int(np.prod(bins)):
        raise ValueError(f"a histogram with bins {bins} has {int(np.prod(bins))} values, got {h.size}")
    if not np.all(np.isfinite(h)) or np.any(h < 0):
        raise ValueError("a colour histogram holds finite, non-negative counts")
    total = h.sum()
    shares = h / total if total > 0 else h
    return shares.reshape(bins)  # cv2.calcHist over channels [0, 1, 2]: C order is (H, S, V)


def bin_colors(bins: Sequence[int] = (8, 8, 8)) -> np.ndarray:
    """The RGB colour (0-255) at the centre of every bin, shape (h_bins, s_bins, v_bins, 3)."""
    return _bin_colors(tuple(int(b) for b in bins))


@functools.lru_cache(maxsize=8)
def _bin_colors(bins: tuple[int, int, int]) -> np.ndarray:
    hb, sb, vb = bins
    out = np.empty((hb, sb, vb, 3), np.uint8)
    for i in range(hb):
        for j in range(sb):
            for k in range(vb):
                rgb = colorsys.hsv_to_rgb((i + 0.5) / hb, (j + 0.5) / sb, (k + 0.5) / vb)
                out[i, j, k] = np.round(np.array(rgb) * 255)
    out.flags.writeable = False  # shared by every caller
    return out


def hue_label(i: int, h_bins: int) -> str:
    """'orange 23-45°': the hue bin's name (its centre) and its range on the colour wheel."""
    lo, hi = 360 * i / h_bins, 360 * (i + 1) / h_bins
    centre = (lo + hi) / 2
    name = min(_HUE_NAMES, key=lambda t: abs(t[0] - centre))[1]
    return f"{name} {lo:.0f}-{hi:.0f}°"


def _css(rgb) -> str:
    r, g, b = (int(c) for c in rgb)
    return f"rgb({r},{g},{b})"


def hue_saturation_figure(hist: np.ndarray, bins: Sequence[int] = (8, 8, 8)) -> go.Figure:
    """Heat map of the pixels over hue x saturation (value summed out, each cell labelled with
    its % of pixels) and a strip of each hue's colour under it. The brightness is its own
    figure (brightness_figure), so that on a phone the two stack instead of squeezing.

    The two panels are laid out by axis domains, not make_subplots: 7 ms instead of 50 ms,
    and this figure is drawn on every upload."""
    shares = pixel_shares(hist, bins)  # (H, S, V)
    hb, sb, _vb = shares.shape
    hs = shares.sum(axis=2).T * 100  # (S, H): rows saturation, columns hue, % of pixels
    hue_x = [hue_label(i, hb) for i in range(hb)]
    sat_y = [f"{100 * j / sb:.0f}-{100 * (j + 1) / sb:.0f}%" for j in range(sb)]
    colors = bin_colors(bins)
    cell_text = [[f"{x:.0f}%" if x >= 0.5 else "" for x in row] for row in hs]
    heat = go.Heatmap(
        x=hue_x,
        y=sat_y,
        z=hs,
        colorscale="Greys",
        zmin=0,
        showscale=False,
        text=cell_text,
        texttemplate="%{text}",
        xgap=1,
        ygap=1,
        xaxis="x",
        yaxis="y",
        hovertemplate="hue %{x}<br>saturation %{y}<br>%{z:.1f}% of pixels<extra></extra>",
    )
    # The strip: each hue at full saturation and brightness, so a reader can name the columns.
    strip = go.Bar(
        x=hue_x,
        y=[1] * hb,
        marker_color=[_css(colors[i, -1, -1]) for i in range(hb)],
        hoverinfo="x",
        showlegend=False,
        xaxis="x2",
        yaxis="y2",
    )
    top = 0.12  # the strip takes the bottom 10% of the figure
    layout = dict(
        title="Pixels by hue and saturation (%)",
        height=460,
        margin=dict(l=10, r=10, t=40, b=10),
        bargap=0,
        showlegend=False,
        xaxis=dict(domain=[0, 1], anchor="y", matches="x2", showticklabels=False),
        yaxis=dict(domain=[top, 1], anchor="x", title="saturation"),
        # the hue's name under its column (its range on the wheel in the hover): fits a phone
        xaxis2=dict(
            domain=[0, 1],
            anchor="y2",
            tickangle=-60,  # steep enough that neighbours never overlap in a phone's narrow columns
            tickmode="array",
            tickvals=hue_x,
            ticktext=[label.rsplit(" ", 1)[0] for label in hue_x],
        ),
        yaxis2=dict(domain=[0, top - 0.015], anchor="x2", visible=False),
    )
    return go.Figure(data=[heat, strip], layout=layout)


def brightness_figure(hist: np.ndarray, bins: Sequence[int] = (8, 8, 8)) -> go.Figure:
    """The pixels over value (brightness), hue and saturation summed out: one grey bar per
    value bin, darkest at the bottom, its share in a column on the right."""
    shares = pixel_shares(hist, bins)  # (H, S, V)
    vb = shares.shape[2]
    value = shares.sum(axis=(0, 1)) * 100  # (V,)
    val_y = [f"{100 * k / vb:.0f}-{100 * (k + 1) / vb:.0f}%" for k in range(vb)]
    colors = bin_colors(bins)
    bars = go.Bar(
        x=value,
        y=val_y,
        orientation="h",
        marker_color=[_css(colors[0, 0, k]) for k in range(vb)],  # grey levels, dark to light
        marker_line=dict(color="black", width=0.5),
        hovertemplate="value %{y}: %{x:.1f}% of pixels<extra></extra>",
        showlegend=False,
    )
    layout = dict(
        title="Brightness (value)",
        height=360,
        margin=dict(l=10, r=VALUE_MARGIN, t=40, b=10),
        bargap=0.1,
        xaxis=dict(title="% of pixels", range=[0, max(float(value.max()) * 1.02, 1)]),
        yaxis=dict(title="value", type="category"),
        annotations=value_column(val_y, [f"{x:.0f}%" if x >= 0.5 else "" for x in value]),
    )
    return go.Figure(data=[bars], layout=layout)


@dataclass(frozen=True)
class Swatch:
    index: int  # flat bin index, C order over (H, S, V)
    css: str  # the bin's centre colour, rgb(...)
    label: str  # 'orange 23-45° · sat 75-88% · val 88-100%' (hover, captions)
    short: str  # 'orange · s 81% · v 94%' (an axis label that fits a phone)


def swatch(index: int, bins: Sequence[int]) -> Swatch:
    hb, sb, vb = (int(b) for b in bins)
    i, j, k = (int(a) for a in np.unravel_index(int(index), (hb, sb, vb)))
    r, g, b = (int(c) for c in bin_colors((hb, sb, vb))[i, j, k])
    hue = hue_label(i, hb)  # 'orange 23-45°'
    s_lo, s_hi, v_lo, v_hi = (100 * j / sb, 100 * (j + 1) / sb, 100 * k / vb, 100 * (k + 1) / vb)
    return Swatch(
        index=int(index),
        css=f"rgb({r},{g},{b})",
        label=f"{hue} · sat {s_lo:.0f}-{s_hi:.0f}% · val {v_lo:.0f}-{v_hi:.0f}%",
        short=f"{hue.rsplit(' ', 1)[0]} · s {(s_lo + s_hi) / 2:.0f}% · v {(v_lo + v_hi) / 2:.0f}%",
    )


def top_bins(hist: np.ndarray, bins: Sequence[int] = (8, 8, 8), n: int = 10) -> list[dict]:
    """The n bins holding the most pixels: index, share, colour and a readable description."""
    shares = pixel_shares(hist, bins)
    colors = bin_colors(bins)
    flat = shares.ravel()
    order = np.argsort(-flat, kind="stable")[:n]
    out = []
    for idx in order:
        if flat[idx] <= 0:
            break
        i, j, k = np.unravel_index(idx, shares.shape)
        sw = swatch(int(idx), bins)
        out.append(
            {
                "index": int(idx),
                "share": float(flat[idx]),
                "rgb": tuple(int(c) for c in colors[i, j, k]),
                "label": sw.label,
                "short": sw.short,
            }
        )
    return out


def top_bins_figure(hist: np.ndarray, bins: Sequence[int] = (8, 8, 8), n: int = 10) -> go.Figure:
    """The dominant colours as swatches: one bar per bin, painted in the bin's colour, its
    share in a column on the right."""
    rows = top_bins(hist, bins, n)  # largest first, drawn on top
    at = list(range(len(rows)))  # by position: two bins may share a short name
    shares = [100 * r["share"] for r in rows]
    bars = go.Bar(
        x=shares,
        y=at,
        customdata=[r["label"] for r in rows],
        orientation="h",
        marker_color=[_css(r["rgb"]) for r in rows],
        marker_line=dict(color="black", width=0.5),
        hovertemplate="%{customdata}<br>%{x:.1f}% of pixels<extra></extra>",
    )
    layout = dict(
        title=f"The {len(rows)} colour bins with the most pixels",
        xaxis=dict(title="% of pixels", range=[0, max(shares, default=1) * 1.02]),
        # the short label fits a phone; the whole one on hover
        yaxis=dict(autorange="reversed", tickmode="array", tickvals=at, ticktext=[r["short"] for r in rows]),
        height=max(220, 32 * len(rows) + 90),
        margin=dict(l=10, r=VALUE_MARGIN, t=40, b=10),
        annotations=value_column(at, [f"{x:.1f}%" for x in shares]),
    )
    return go.Figure(data=[bars], layout=layout)


def probability_figure(
    classes: Sequence[str], probabilities: Sequence[float], threshold: float | None = None
) -> go.Figure:
    """One bar per class; the most probable highlighted; the "not sure" threshold as a line."""
    p = np.asarray(probabilities, dtype=np.float64)
    if len(classes) != p.size:
        raise ValueError(f"{len(classes)} classes but {p.size} probabilities")
    best = int(p.argmax())
    sure = threshold is None or p[best] >= threshold
    colors = ["#1f77b4" if i == best and sure else "#9aa5b1" for i in range(p.size)]
    at = list(range(p.size))  # by position: the names are the tick labels
    bars = go.Bar(
        x=p,
        y=at,
        orientation="h",
        marker_color=colors,
        customdata=[html(c) for c in classes],  # a class name is text, not plotly's HTML
        hovertemplate="%{customdata}: %{x:.4f}<extra></extra>",
    )
    layout = dict(
        xaxis=dict(range=[0, 1.0], title="probability"),
        yaxis=dict(autorange="reversed", tickmode="array", tickvals=at, ticktext=[html(c) for c in classes]),
        height=max(160, 40 * p.size + 80),
        margin=dict(l=10, r=VALUE_MARGIN, t=30, b=10),
        # the numbers in their own column: none sits on the threshold line
        annotations=value_column(at, [f"{x:.3f}" for x in p]),
    )
    if threshold is not None:  # drawn in the layout (add_vline costs 10 ms per figure)
        layout["shapes"] = [
            dict(
                type="line",
                x0=threshold,
                x1=threshold,
                y0=0,
                y1=1,
                yref="paper",
                line=dict(color="#d62728", dash="dash"),
            )
        ]
        layout["annotations"] = [
            *layout["annotations"],
            dict(
                x=threshold,
                y=1,
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                text=f"threshold {threshold:.2f}",
            ),
        ]
    return go.Figure(data=[bars], layout=layout)
