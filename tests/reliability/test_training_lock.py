"""The training lock: no click, rerun, stopped session, closed tab or killed process can
leave the Train page waiting on nobody.

The lock is core.learn.lock.training_lock (an OS file lock held only inside a `with`),
taken by the one training road, ui.training.train.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

import ui.training
from core.learn import workers
from core.learn.config import TrainConfig
from core.learn.lock import LockTimeout, lock_path, read_holder, training_lock
from core.learn.train import train_folder
from core.paths import data_dir
from harness.apptest import open_page
from harness.images import make_kaggle_folder
from tests.support import ROOT, open_session, rendered, wait_idle

PAGE = "pages/train.py"


def _dataset(name="pets", per_class=16) -> Path:
    return make_kaggle_folder(data_dir() / name, per_class=per_class)


def _free(root: Path) -> bool:
    """Can a new session take the lock at once?"""
    try:
        with training_lock(root, who="probe", timeout=0):
            return True
    except LockTimeout:
        return False


class Interrupting:
    """Streamlit as ui.training sees it, raising at its n-th call the way Streamlit does
    when a widget changes (RerunException) or the session ends (StopException)."""

    def __init__(self, target, fail_at: int, error: type, counter: list):
        self._target, self._fail_at, self._error, self._counter = target, fail_at, error, counter

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if name == "session_state":
            return value
        if callable(value):
            return self._wrap(value)
        return value

    def _wrap(self, fn):
        def call(*args, **kwargs):
            self._counter[0] += 1
            if self._counter[0] == self._fail_at:
                raise RerunException(RerunData()) if self._error is RerunException else StopException()
            out = fn(*args, **kwargs)
            return Interrupting(out, self._fail_at, self._error, self._counter) if _is_element(out) else out

        return call

    def __enter__(self):
        self._target.__enter__()
        return self

    def __exit__(self, *exc):
        return self._target.__exit__(*exc)


def _is_element(x) -> bool:
    return type(x).__name__ in ("DeltaGenerator",)


def _calls_in_one_training(monkeypatch) -> int:
    counter = [0]
    monkeypatch.setattr(ui.training, "st", Interrupting(st, 0, StopException, counter))
    at = open_page(PAGE)
    at.button(key="train").click().run()
    assert not at.exception and "trained_model" in at.session_state
    monkeypatch.setattr(ui.training, "st", st)
    return counter[0]


def test_a_training_interrupted_at_any_streamlit_call_leaves_no_lock(monkeypatch):
    """Every call the training road makes to Streamlit, interrupted in turn (a rerun, a
    stopped session): afterwards a new session trains at once, without waiting."""
    monkeypatch.setenv(workers.ENV, "0")  # in the session's thread: the same calls every time
    root = _dataset()
    n = _calls_in_one_training(monkeypatch)
    assert n >= 5, n  # the note, the bar, its progress, clearing it, keeping the run
    for k in range(1, n + 1):
        for error in (RerunException, StopException):
            monkeypatch.setattr(ui.training, "st", Interrupting(st, k, error, [0]))
            at = open_page(PAGE)
            at.button(key="train").click().run()
            monkeypatch.setattr(ui.training, "st", st)
            assert _free(root), f"the lock was left held after an interruption at call {k} ({error.__name__})"
    fresh = open_page(PAGE)
    t0 = time.perf_counter()
    fresh.button(key="train").click().run()
    assert not fresh.exception and time.perf_counter() - t0 < 10
    assert not any("Waited" in c.value for c in fresh.caption)


def test_a_worker_killed_mid_training_releases_the_lock_and_the_next_training_works(monkeypatch):
    root = _dataset(per_class=400)  # long enough for the page to hear progress before it ends
    monkeypatch.setenv(workers.ENV, "1")
    real = ui.training._Feedback.progress
    killed = []

    def kill_the_worker(self, *args):  # at the first report of progress, as the OOM killer would
        if not killed:
            for proc in list(workers._pool._processes.values()):
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(proc.pid)
        return real(self, *args)

    monkeypatch.setattr(ui.training._Feedback, "progress", kill_the_worker)
    at = open_page(PAGE)
    at.button(key="train").click().run(timeout=60)
    assert killed and any("stopped before it finished" in rendered(e.value) for e in at.error)
    assert _free(root)
    monkeypatch.setattr(ui.training._Feedback, "progress", real)
    again = open_page(PAGE)
    again.button(key="train").click().run(timeout=60)
    assert not again.exception and "trained_model" in again.session_state


def test_waiting_says_who_holds_it_and_for_how_long_and_cancel_stops_waiting():
    root = _dataset()
    with training_lock(root, who="someone"):
        at = open_page(PAGE)
        ui.training.WAIT_SECONDS, saved = 1.2, ui.training.WAIT_SECONDS
        try:
            at.button(key="train").click().run()
        finally:
            ui.training.WAIT_SECONDS = saved
        assert any("Cannot train" in rendered(e.value) and "waited" in rendered(e.value) for e in at.error)
        assert "trained_model" not in at.session_state
    assert _free(root)


def _child(script: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True, env=env
    )


def test_a_killed_process_holding_the_lock_does_not_block_the_next_training():
    root = _dataset()
    child = _child(
        f"""
        import time
        from core.learn.lock import training_lock
        with training_lock({str(root)!r}, who="child"):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    try:
        assert child.stdout.readline().strip() == "held"
        holder = read_holder(lock_path(root))
        assert holder is not None and holder.pid == child.pid and not holder.here  # who holds it
        assert not _free(root)
        child.send_signal(signal.SIGKILL)  # as the OOM killer would
        child.wait(10)
        t0 = time.perf_counter()
        assert _free(root) and time.perf_counter() - t0 < 1.0  # the kernel released it
    finally:
        child.kill()
        child.wait()


def test_two_processes_training_the_same_dataset_take_turns_and_agree():
    root = _dataset(per_class=30)
    script = f"""
        import json, time
        from core.learn.config import TrainConfig
        from core.learn.lock import training_lock
        from core.learn.train import train_folder
        with training_lock({str(root)!r}, who="child"):
            t0 = time.time()
            run = train_folder({str(root)!r}, TrainConfig(bins=(4, 4, 4)))
            time.sleep(0.5)
            print(json.dumps([t0, time.time(), run.post.accuracy]), flush=True)
        """
    children = [_child(script) for _ in range(2)]

    out = [json.loads(c.communicate(timeout=120)[0]) for c in children]
    (_, a1, acc_a), (b0, _, acc_b) = sorted(out)
    assert a1 <= b0 + 0.05, "the two trainings overlapped: the lock did not hold across processes"
    assert acc_a == acc_b
    assert train_folder(root, TrainConfig(bins=(4, 4, 4))).post.accuracy == acc_a  # and this one too


@pytest.mark.e2e
def test_reruns_during_a_training_in_a_real_browser_never_leave_train_waiting(browser, app_server):
    """Keys pressed on the Epochs slider while a training runs (each one a rerun), then a
    new session, in a new tab, trains at once."""
    _dataset(per_class=40)
    pg = open_session(browser, app_server.url, "Train")
    pg.get_by_text("Parameters (the post's, with fast features)").click()
    slider = pg.get_by_role("slider", name="Epochs")
    for _ in range(3):
        pg.get_by_role("button", name="Train", exact=True).click()
        for _key in range(4):
            slider.press("ArrowRight")
            pg.wait_for_timeout(40)
        wait_idle(pg, 60_000)
    pg.context.close()  # the tab is closed (perhaps mid-rerun)
    other = open_session(browser, app_server.url, "Train")
    t0 = time.perf_counter()
    other.get_by_role("button", name="Train", exact=True).click()
    other.get_by_text("Results on pets").wait_for(timeout=30_000)
    assert time.perf_counter() - t0 < 20
    assert other.get_by_text("Another session has been training").count() == 0
    other.context.close()


def test_the_lock_is_released_when_its_body_raises_and_a_stopped_waiter_holds_nothing(tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    with pytest.raises(RuntimeError), training_lock(root, who="a"):
        assert not _free(root)
        raise RuntimeError("a rerun lands here")
    assert _free(root)
    calls = []

    def give_up(holder, waited):
        calls.append((holder.who if holder else None, round(waited, 1)))
        raise StopException()  # the waiting session was stopped: it holds nothing

    with training_lock(root, who="holder"):
        with pytest.raises(StopException):
            with training_lock(root, who="waiter", wait=give_up):
                pass
        assert calls and calls[0][0] == "holder"
    assert _free(root)
