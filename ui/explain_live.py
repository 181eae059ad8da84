"""The Explain page's live block: the headline (p, loss, rank) and the post's table with
its probability bars, drawn in the browser by one st.components.v2 component.

At rest the block shows the server's numbers (core.explain.view, formatted by
core.text.number). While a score slider or the temperature is dragged, the browser
computes the same numbers from the slider's value (ui/explain_live.js, the same
operations as core.softmax's kernels) and redraws them on every change: the table,
the bars and the headline follow the pointer, and the server hears the final value on
release. Class names travel as data and are set as text (never as HTML).
"""

from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from core.explain.view import ExplainView
from core.text import number

_HERE = Path(__file__).parent
_COMPONENT = st.components.v2.component(
    "softmax_explained.explain_live",
    css=(_HERE / "explain_live.css").read_text(encoding="utf-8"),
    js=(_HERE / "explain_live.js").read_text(encoding="utf-8"),
)
SCORE_STEP = 0.01  # the score sliders' step (pages/explain.py)
TEMPERATURE_STEP = 0.05
LOG_COLUMN = {"e": "-ln p", "10": "-log10 p", "2": "-log2 p"}


def _json_number(x: float) -> float | str:
    """JSON has no inf or nan: those go as the strings JavaScript's Number() reads."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def columns(view: ExplainView) -> list[str]:
    t = "" if view.state.temperature == 1 else "/T"
    return ["class", "score s", f"exp(s{t})", "probability p", LOG_COLUMN[view.state.base]]


def payload(view: ExplainView, part: str) -> dict:
    """What the component draws: the state to compute from while dragging, and the
    server's numbers (raw and as shown) for when nothing is."""
    s, table = view.state, view.table
    return {
        "part": part,
        "classes": list(s.classes),
        "scores": [float(x) for x in s.scores],
        "target": s.target,
        "base": s.base,
        "temperature": float(s.temperature),
        "sliders": [f"slider_{i}" for i in range(len(s.classes))],
        "temperatureSlider": "temperature",
        "step": SCORE_STEP,
        "temperatureStep": TEMPERATURE_STEP,
        "columns": columns(view),
        "labels": {
            "p": f"p({view.true_class})",
            "loss": f"loss, {view.unit}",
            "rank": "rank of the true class",
        },
        "values": {
            "exp": [_json_number(x) for x in table.exp],
            "p": [_json_number(x) for x in table.probabilities],
            "nll": [_json_number(x) for x in table.neg_log],
            "rank": view.rank,
        },
        "shown": {
            "headline": {"p": number(view.p_true), "loss": number(view.loss)},
            "score": [number(x) for x in s.scores],
            "exp": [number(x) for x in table.exp],
            "p": [number(x) for x in table.probabilities],
            "nll": [number(x) for x in table.neg_log],
        },
    }


def headline(view: ExplainView) -> None:
    """p of the true class, its loss and its rank, in large type."""
    _COMPONENT(key="explain_live_headline", data=payload(view, "headline"))


def table(view: ExplainView) -> None:
    """The post's table (the true class's row marked) and the probability bars."""
    _COMPONENT(key="explain_live_table", data=payload(view, "table"))
