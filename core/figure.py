"""Plotly figures from plain dicts, without plotly's validation pass.

The app redraws its figures on every rerun (every slider move on Explain, every training
on Train), and validating a figure property by property costs milliseconds each time:
go.Figure(dict) validates, and so does every fig.update_*() and make_subplots(). Our
figures use a fixed set of properties, so `fast_figure` skips that pass
(`_validate=False` is what plotly.io itself uses to load its templates).
The unit tests read every property back and run plotly's validator over each figure
once (`validated`), so a misspelled property still fails a test, not a user's page.
"""
from __future__ import annotations

import plotly.graph_objects as go


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def validated(fig: go.Figure) -> go.Figure:
    """The same figure through plotly's validator: raises ValueError on a bad property."""
    return go.Figure(fig.to_dict())
