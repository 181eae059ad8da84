"""The load test, short: a class's worth of sessions on one real server, no errors.

The full run (20 Explain sessions + 2 training on the Kaggle sample, 60 s, p95 < 1 s)
is `python bench/load_test.py`; here 6 Explain sessions (over Streamlit's websocket
protocol) and 2 chromium pages training on the Kaggle sample for 15 s check that nothing
fails under concurrency, and 8 sessions + 2 trainers on 2 app processes behind nginx
(deploy/nginx.conf) for 12 s check the multi-process set-up. Latency is not asserted here (timed tests flake on a shared CI
box); the script reports it. SOFTMAX_LOAD_FULL=1 also runs the full load as a test
(marked `load`). The script runs in its own process: its asyncio Playwright cannot share
a process with the suite's sync Playwright.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT
from tests.support import need_browser as _need_browser

pytestmark = pytest.mark.e2e


def _run(tmp_path, *args: str, timeout: float) -> tuple[dict, str]:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.load_test", *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "SOFTMAX_SAMPLE_DIR": os.environ.get(
                "SOFTMAX_SAMPLE_DIR", str(ROOT.parent / "shared" / "data" / "kaggle-sample")
            ),
        },
    )
    assert out.exists(), proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout


def test_six_sessions_and_two_trainers_run_without_errors(kaggle_sample, tmp_path):
    _need_browser()
    report, text = _run(
        tmp_path,
        "--sessions",
        "6",
        "--duration",
        "15",
        "--think",
        "0.5",
        "--trainer-client",
        "browser",
        timeout=240,
    )
    print(text)
    assert report["errors"] == 0, report["error_samples"]
    assert report["reruns"] >= 6 * 3  # every session kept getting answers
    assert report["trainings"] >= 2  # both trainers finished at least one run on the real images
    assert report["median_ms"] > 0 and report["p95_ms"] >= report["median_ms"]


def test_two_processes_behind_nginx_serve_sessions_and_trainers_without_errors(kaggle_sample, tmp_path):
    """The lecture-hall set-up, short: 2 app processes behind deploy/nginx.conf (sticky
    sessions), sharing the data and cache folders; socket trainers on the Kaggle sample."""
    from harness.proxy import nginx_found

    if nginx_found() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed: .ci/run installs it")
        pytest.skip("nginx is not installed (apt-get install -y nginx-light)")
    report, text = _run(
        tmp_path, "--processes", "2", "--sessions", "8", "--trainers", "2", "--duration", "12", timeout=240
    )
    print(text)
    assert report["errors"] == 0, report["error_samples"]
    assert report["proxy"] and report["processes"] == 2
    assert report["reruns"] >= 8 * 3 and report["trainings"] >= 2


@pytest.mark.load
@pytest.mark.skipif(
    os.environ.get("SOFTMAX_LOAD_FULL") != "1",
    reason="the full load run takes minutes: set SOFTMAX_LOAD_FULL=1 or run python bench/load_test.py",
)
def test_full_load_meets_the_target(kaggle_sample, tmp_path):
    _need_browser()
    report, text = _run(tmp_path, timeout=900)
    print(text)
    assert report["passed"], text
