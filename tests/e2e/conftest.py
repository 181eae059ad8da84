"""A real `streamlit run` and Debian's chromium driven by Playwright.

On a machine without chromium these tests skip with a reason, except in CI
(CI=true), where a missing browser is a failure: .ci/run installs it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `streamlit run` on a free local port. new_session=True puts it in its own
    process group, so a SIGKILL of the group takes its workers with it."""

    def __init__(self, env: dict[str, str], new_session: bool = False):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = ARTIFACTS / f"server-{self.port}.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
            "--server.headless", "true", "--server.port", str(self.port),
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=new_session,
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy in time")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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
