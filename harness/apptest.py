"""Streamlit's AppTest, started the way a user arrives: through the router."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from harness.app_server import ROOT

APP = str(ROOT / "streamlit_app.py")


def open_page(page: str | None = None, timeout: float = 30) -> AppTest:
    """Start from the router, as a user does, then switch to `page` (e.g. 'pages/train.py')."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page:
        at.switch_page(page).run()
    return at
