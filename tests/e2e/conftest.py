"""A real `streamlit run` and Debian's chromium driven by Playwright.

On a machine without chromium these tests skip with a reason, except in CI
(CI=true), where a missing browser is a failure: .ci/run installs it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.app_server import AppServer
from tests.conftest import ROOT

CHROMIUM = os.environ.get("SOFTMAX_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _need_browser():
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    msg = f"chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + ": CI must run the browser tests")
    pytest.skip(msg)


class Server(AppServer):
    """A real `streamlit run`, healthy once constructed; its log in tests/e2e/artifacts."""

    def __init__(self, env: dict[str, str], new_session: bool = False):
        super().__init__(env, ARTIFACTS, new_session)
        self.wait_healthy()


@pytest.fixture
def app_server(isolated_dirs):
    """A fresh server per test, with the test's own data dir and cache."""
    server = Server({
        "SOFTMAX_DATA_DIR": os.environ["SOFTMAX_DATA_DIR"],
        "SOFTMAX_CACHE_DIR": os.environ["SOFTMAX_CACHE_DIR"],
    })
    yield server
    server.stop()


@pytest.fixture
def page(browser, app_server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def wait_idle(pg, timeout: float = 30_000):
    """Wait until the script has finished its rerun after an action."""
    pg.wait_for_timeout(150)  # let the rerun start before we look for idleness
    pg.wait_for_selector(IDLE, timeout=timeout)
