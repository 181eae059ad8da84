"""What several test folders use: paths, the real server, the browser check.

Fixtures live in tests/conftest.py; this module holds the plain helpers they and the
tests import. Launching the app and the browser is harness/ (shared with bench/).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from harness.app_server import ROOT, AppServer
from harness.browser import CHROMIUM, chromium_found, wait_idle

__all__ = [
    "ARTIFACTS",
    "KAGGLE_SAMPLE",
    "ROOT",
    "Server",
    "go",
    "need_browser",
    "open_session",
    "post_histogram",
    "rendered",
    "wait_idle",
]

KAGGLE_SAMPLE = Path(os.environ.get("SOFTMAX_SAMPLE_DIR", ROOT.parent / "shared" / "data" / "kaggle-sample"))
# Server logs and screenshots of the browser tests: open them after a run.
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"


def need_browser() -> None:
    """Skip without chromium, except in CI (CI=true), where .ci/run installs it."""
    if chromium_found():
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


def open_session(browser, url: str, page: str | None = None, timeout: float = 60_000, width: int = 1400):
    """A new browser context (a new Streamlit session) opened at the app's address, then
    switched to `page` through the sidebar, as a student arriving from a shared link does."""
    ctx = browser.new_context(viewport={"width": width, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(timeout)
    pg.goto(url)
    pg.get_by_test_id("stMetric").first.wait_for()  # the Explain page has drawn
    wait_idle(pg)
    if page:
        go(pg, page)
    return pg


def go(pg, page: str) -> None:
    """Switch page through the sidebar (a reload would start a new session)."""
    pg.get_by_test_id("stSidebarNav").get_by_role("link", name=page).click()
    wait_idle(pg)
    if page == "Train":
        pg.get_by_role("combobox", name="Dataset").wait_for()
        wait_idle(pg)


def rendered(markdown: str) -> str:
    """Markdown source as a reader sees it: core.text.md escapes every punctuation mark of
    a user-supplied string, and the escapes do not show on the page."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def post_histogram(image_bgr: np.ndarray, bins=(8, 8, 8)) -> np.ndarray:
    """The post's feature, written out as in its softmax.py: a reference independent of
    core.images that the tests compare the app's features against."""
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), [0, 180, 0, 256, 0, 256])
    return cv2.normalize(hist, hist).flatten()
