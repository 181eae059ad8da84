"""One Playwright browser for the whole test session, whichever folder asks first.

Sync Playwright refuses to start a second instance in a process (its event loop is
already running), and pytest gives each conftest that defines `browser` its own
session fixture. So tests/e2e's `browser` and ours must be one: if another `browser`
fixture is already alive, reuse its value; otherwise start one as tests/e2e does.
(The clean fix is one `browser` fixture in tests/conftest.py.)
"""
from __future__ import annotations

import pytest



def _alive_browser(request):
    defs = getattr(getattr(request, "_fixturemanager", None), "_arg2fixturedefs", {})  # pytest internals
    for fixturedef in defs.get("browser", []):
        cached = getattr(fixturedef, "cached_result", None)
        if cached is not None and cached[2] is None and cached[0] is not None:
            return cached[0]
    return None


@pytest.fixture(scope="session")
def browser(request):
    alive = _alive_browser(request)
    if alive is not None:
        yield alive
        return
    from tests.e2e.conftest import CHROMIUM, _need_browser

    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )
        yield b
        b.close()
