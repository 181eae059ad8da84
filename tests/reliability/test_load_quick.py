"""The load test, short: a class's worth of sessions on one real server, no errors.

The full run (20 Explain sessions + 2 training on the Kaggle sample, 60 s, p95 < 1 s)
is `python bench/load_test.py`; here 6 Explain sessions (over Streamlit's websocket
protocol) and 2 chromium pages training on the Kaggle sample for 15 s check that nothing
fails under concurrency. Latency is not asserted here (timed tests flake on a shared CI box); the
script reports it. SOFTMAX_LOAD_FULL=1 also runs the full load as a test (marked `load`).
"""
from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import _need_browser

pytestmark = pytest.mark.e2e


def _load_script():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_test"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_six_sessions_and_two_trainers_run_without_errors(kaggle_sample):
    _need_browser()
    lt = _load_script()
    args = lt.parse(["--sessions", "6", "--duration", "15", "--think", "0.5"])
    report = lt.run(args)
    lt.print_report(report, args.target_p95)
    assert report.errors == 0, report.error_samples
    assert report.reruns >= 6 * 3  # every session kept getting answers
    assert report.trainings >= 2  # both trainers finished at least one run on the real images


@pytest.mark.load
@pytest.mark.skipif(os.environ.get("SOFTMAX_LOAD_FULL") != "1",
                    reason="the full load run takes minutes: set SOFTMAX_LOAD_FULL=1 "
                           "or run python bench/load_test.py")
def test_full_load_meets_the_target(kaggle_sample):
    _need_browser()
    lt = _load_script()
    args = lt.parse([])
    report = lt.run(args)
    lt.print_report(report, args.target_p95)
    assert report.passed, report
