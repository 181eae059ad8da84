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


# Right margin for value_column: room for "= -12.3456" or "-1.29 × 10⁻⁵" beside the plot.
VALUE_MARGIN = 90


def value_column(positions, texts, yref: str = "y") -> list[dict]:
    """Each horizontal bar's number in a column right of the plot, on the bar's row.

    Printed outside the bar's end, a number runs into the axis labels when the plot is
    narrow (a phone) or the bar ends near the left edge (a negative score); in its own
    column it never meets a bar or a label, at any width. Use with a right margin of
    VALUE_MARGIN px."""
    return [
        {
            "x": 1,
            "xref": "paper",
            "xanchor": "left",
            "xshift": 6,
            "y": y,
            "yref": yref,
            "text": text,
            "showarrow": False,
            "font": {"size": 12},
        }
        for y, text in zip(positions, texts)
    ]
