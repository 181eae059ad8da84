"""How every page draws a figure: st.plotly_chart with the app's chart settings."""

from __future__ import annotations

import streamlit as st

# No mode bar: on hover it covered the charts' titles, and zoom/pan teach nothing here.
CONFIG = {"displayModeBar": False, "responsive": True}


def chart(fig, key: str, container=st, **kwargs):
    """Draw fig (a core.charts figure) full width; returns what st.plotly_chart returns
    (the selection, with on_select)."""
    return container.plotly_chart(fig, key=key, config=CONFIG, width="stretch", **kwargs)
