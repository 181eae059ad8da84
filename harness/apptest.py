"""Streamlit's AppTest, started the way a user arrives: through the router."""

from __future__ import annotations

import contextlib

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


@contextlib.contextmanager
def shared_script_cache():
    """Keep compiled page bytecode across AppTest runs, as a real server does (benchmarks
    of a rerun would otherwise time the page's compilation too)."""
    from streamlit.runtime.scriptrunner import script_cache

    shared = script_cache.ScriptCache()
    original = script_cache.ScriptCache.get_bytecode
    script_cache.ScriptCache.get_bytecode = lambda self, path: original(shared, path)
    try:
        yield
    finally:
        script_cache.ScriptCache.get_bytecode = original
