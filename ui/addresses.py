"""A page's state in the address bar, and which addresses the page wrote itself.

A rerun carries the address the browser had when it asked for it. While the student
drags, types or presses keys, or while Play runs, that can be one the page wrote a few
reruns ago: loading it would undo what happened since. So each page remembers the
addresses it wrote lately, and only another address (a shared link, a hand-over from
another page) is loaded.
"""

from __future__ import annotations

import streamlit as st

KEPT = 32  # addresses remembered per page


def written_lately(key: str, params: dict) -> bool:
    """These query params are one the page (session-state key `key`) wrote lately."""
    return params in (st.session_state.get(key) or [])


def remember(key: str, params: dict) -> None:
    """The page has just written `params`: remember them, newest last."""
    kept = [p for p in (st.session_state.get(key) or []) if p != params]
    st.session_state[key] = [*kept, params][-KEPT:]


def forget(key: str) -> None:
    """What the page wrote before is no longer its own (another page hands it a state)."""
    st.session_state[key] = []
