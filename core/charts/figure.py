"""Plotly figures as plain dicts, handed to st.plotly_chart without plotly's object tree.

The app redraws its figures on every rerun (every slider move on Explain, every training
on Train). st.plotly_chart only ever calls a figure's to_dict() and serialises the result,
but a go.Figure built from dicts first becomes a tree of validated plotly objects, and
to_dict() deep-copies that tree back into dicts: ~2 ms a figure, about a sixth of an
Explain rerun for its three charts. `SpecFigure` is a go.Figure (so Streamlit takes it)
that keeps the dicts it was given and hands them out as they are.

Nothing is lost by skipping the validation: the unit tests run every figure through
plotly's validator once (`validated`), and read its properties back from there, so a
misspelled property fails a test, not a student's page.
"""

from __future__ import annotations

import plotly.graph_objects as go


class SpecFigure(go.Figure):
    """A figure that is only ever serialised: its spec, as given, is its to_dict()."""

    def __init__(self, data: list[dict], layout: dict):
        super().__init__()  # an empty figure: isinstance checks pass, nothing to validate
        self._spec = {"data": data, "layout": layout}

    def to_dict(self) -> dict:
        return self._spec


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    return SpecFigure(data, layout)


def validated(fig: go.Figure) -> go.Figure:
    """The same figure through plotly's validator (raises ValueError on a bad property),
    as a full go.Figure whose properties can be read back."""
    return go.Figure(fig.to_dict())
