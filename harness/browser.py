"""Debian's chromium, as every browser test and the load test launch it.

Playwright's own browser download does not work on these machines, so Playwright
drives the system's /usr/bin/chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("SOFTMAX_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags, chromium keeps trying hosts this closed
# network refuses; without --no-sandbox it does not start as root.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A Streamlit page that has finished its rerun.
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def chromium_found() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def launch_options() -> dict:
    """Keyword arguments for playwright's chromium.launch (sync or async API)."""
    return {"executable_path": CHROMIUM, "args": list(LAUNCH_ARGS)}


def wait_idle(pg, timeout: float = 30_000) -> None:
    """Wait until the script has finished its rerun after an action (sync Playwright)."""
    pg.wait_for_timeout(150)  # let the rerun start before looking for idleness
    pg.wait_for_selector(IDLE, timeout=timeout)
