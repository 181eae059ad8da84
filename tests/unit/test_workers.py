"""core.workers: heavy work in a separate process, its answers and its failures here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core.learn import workers
from core.learn.config import TrainingError
from tests.support import ROOT


# Module-level, so a worker process can import them by name.
def pid_and_sum(a: int, b: int) -> tuple[int, int]:
    return os.getpid(), a + b


def refuse() -> None:
    raise TrainingError("Only one class ('cat', 3 images)")


def count_slowly(n: int, progress=None) -> int:
    for i in range(n + 1):
        progress(i, n)
        time.sleep(0.05)
    return n


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_work_runs_in_another_process_and_its_answer_comes_back():
    pid, total = workers.run(pid_and_sum, 2, b=3)
    assert total == 5 and pid != os.getpid()


def test_an_error_meant_for_the_user_arrives_as_itself():
    with pytest.raises(TrainingError, match="Only one class"):
        workers.run(refuse)


def test_progress_reaches_the_waiting_thread_in_order_and_ends_complete():
    seen = []
    assert workers.run(count_slowly, 10, progress=lambda d, t: seen.append((d, t))) == 10
    assert seen, "no progress was reported while the work ran"
    assert seen == sorted(seen) and all(t == 10 for _, t in seen)
    assert 0 < len(seen) <= 11


def test_a_worker_that_dies_gives_a_clear_error_and_the_next_call_works():
    with pytest.raises(workers.WorkerError, match="stopped before it finished"):
        workers.run(die)
    assert workers.run(pid_and_sum, 1, 1)[1] == 2


def test_zero_workers_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setenv(workers.ENV, "0")
    seen = []
    assert workers.run(pid_and_sum, 1, 2) == (os.getpid(), 3)
    assert workers.run(count_slowly, 2, progress=lambda d, t: seen.append(d)) == 2
    assert seen == [0, 1, 2]


def test_a_bad_worker_count_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(workers.ENV, "two")
    workers.warm()  # on page load: quiet; the message comes when the user trains
    with pytest.raises(workers.WorkerError, match="SOFTMAX_TRAIN_WORKERS must be a whole number"):
        workers.run(pid_and_sum, 1, 2)


def test_workers_exit_when_their_server_is_killed(tmp_path):
    """A server killed with SIGKILL cannot stop its workers: they must notice and exit."""
    script = tmp_path / "server.py"
    script.write_text(
        "import os, time\n"
        "from core.learn import workers\n"
        "if __name__ == '__main__':\n"
        "    print(workers.run(os.getpid), flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        worker = int(proc.stdout.readline())
        assert _alive(worker)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the worker outlived its killed server"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
