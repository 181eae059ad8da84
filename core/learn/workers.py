"""Heavy numeric work in worker processes, so the web server stays responsive.

A Streamlit server runs every session's script as a thread of one Python process. A
training is thousands of short NumPy and scikit-learn calls that hold the interpreter
lock (the GIL): while one student trains, every other student's slider waits its turn
for the interpreter. `run(fn, ...)` does the work in a separate process instead; the
session's thread only waits (without the lock) for the answer.

- Workers are fresh interpreters (never a fork of a server full of threads), started
  the first time they are needed, or ahead of time by `warm()`, and reused. By default
  there is one worker per core, less one for the server itself (and at least one): on
  the 2-core machine this app is measured on, training runs on one core while the
  server answers everyone on the other. `SOFTMAX_TRAIN_WORKERS=n` sets
  the count; 0 runs the work in the calling thread (as the command line does).
- Arguments and results cross to the worker and back as pickles over a pipe between
  the server and its own child process: arrays and results the app made itself, never
  bytes a user supplied (see the README's Security section).
- A worker that dies (killed, out of memory) is replaced on the next call; the call
  that was running gets a WorkerError with a message meant for the user. A worker
  whose server dies (even by SIGKILL) exits too.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from joblib.externals.loky import ProcessPoolExecutor

ENV = "SOFTMAX_TRAIN_WORKERS"
POLL = 0.1  # seconds between progress reports
IDLE_SECONDS = 600  # an idle worker exits after this, giving its memory back

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_warmed: ProcessPoolExecutor | None = None  # the executor warm() last started a worker in


class WorkerError(RuntimeError):
    """The worker process stopped before it answered; the message is meant for the user."""


def worker_count() -> int:
    """How many worker processes (0: work in the calling thread)."""
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            return max(0, int(raw))
        except ValueError:
            raise WorkerError(f"{ENV} must be a whole number, got {raw!r}") from None
    return max(1, (os.cpu_count() or 1) - 1)


def _executor() -> ProcessPoolExecutor:
    """The worker processes: loky's executor (shipped inside joblib). Unlike the standard
    library's spawn, its workers do not re-run the parent's __main__, which in a
    Streamlit server is the page script. Our own instance, not loky's shared reusable
    one, which joblib.Parallel also uses and would then find unprepared. Workers exit
    after IDLE_SECONDS with nothing to do (the next call starts one again), and when
    their server dies (_watch_parent)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=worker_count(), timeout=IDLE_SECONDS, initializer=_watch_parent
            )
        return _pool


def _drop(pool: ProcessPoolExecutor) -> None:
    """Forget a broken executor: the next call starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, kill_workers=True)


def _watch_parent() -> None:
    """In each worker: exit as soon as the server is gone, even when it was killed
    (SIGKILL, the OOM killer) and could not stop its workers. An orphan is adopted by
    another process, so its parent's pid changes."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="watch-server", daemon=True).start()


def run(fn, *args, progress=None, **kwargs):
    """fn(*args, **kwargs) in a worker process; its result, or its exception, here.

    fn must be a module-level function (the worker imports it by name). progress, if
    given, is called here with what fn reports through the `progress=` callable it is
    handed (e.g. progress("features", done, total)), every POLL seconds with the latest
    report; an exception from it
    (say, Streamlit stopping the script) ends the wait, and the worker finishes its job
    anyway (work it caches is not lost)."""
    if worker_count() == 0:
        return fn(*args, **kwargs) if progress is None else fn(*args, progress=progress, **kwargs)
    with contextlib.ExitStack() as stack:
        reporter = None
        if progress is not None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="softmax-progress-"))
            reporter = FileProgress(os.path.join(folder, "progress"))
            kwargs["progress"] = reporter
        pool = _executor()
        try:
            future = pool.submit(fn, *args, **kwargs)
            while True:
                try:
                    return future.result(timeout=POLL if reporter else None)
                except FutureTimeout:
                    # Every poll, even with nothing new: each call is a point where the
                    # session can be stopped (Streamlit raises at its next element).
                    seen = reporter.read()
                    if seen is not None:
                        progress(*seen)
        except BrokenProcessPool:  # loky's TerminatedWorkerError is one
            _drop(pool)
            raise WorkerError(
                "The training process stopped before it finished (out of memory, "
                "or it was killed). Nothing was lost: try again, or with fewer "
                "images or fewer histogram bins."
            ) from None


class FileProgress:
    """A progress(*numbers_or_words) callable that a worker process can be handed: it
    writes its arguments to a small file (replaced atomically) that the waiting thread
    reads and passes on, e.g. progress("features", done, total)."""

    def __init__(self, path: str):
        self.path, self.last, self.last_stage = path, 0.0, None

    def __call__(self, *args) -> None:
        now = time.monotonic()
        # The last report of a stage and the first of the next always get through.
        final = len(args) >= 2 and isinstance(args[-1], int) and args[-2] == args[-1]
        if not final and args[:1] == self.last_stage and now - self.last < POLL:
            return
        self.last, self.last_stage = now, args[:1]
        try:
            with open(self.path + ".tmp", "w") as f:
                json.dump([a if isinstance(a, (int, float, str)) else str(a) for a in args], f)
            os.replace(self.path + ".tmp", self.path)
        except OSError:  # the waiting side has gone (its folder with it): nothing to report to
            pass

    def read(self) -> tuple | None:
        try:
            with open(self.path) as f:
                return tuple(json.load(f))
        except (OSError, ValueError):
            return None


def warm() -> None:
    """Start a worker now (its imports take a second or two), without waiting; cheap
    when one is already running."""
    global _warmed
    try:
        if worker_count() == 0:
            return
    except WorkerError:  # a bad SOFTMAX_TRAIN_WORKERS: run() says so when the user trains
        return
    pool = _executor()
    if pool is not _warmed:
        try:
            pool.submit(_ready)
        except (BrokenProcessPool, RuntimeError):  # the next run() reports the problem
            _drop(pool)
            return
        _warmed = pool


def _ready() -> bool:
    import core.learn.train  # noqa: F401 - the import (NumPy, scikit-learn) is the warm-up

    return True


def shutdown() -> None:
    """Stop the workers (the server's exit does this by itself)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, kill_workers=True)
