"""One training of a dataset at a time, across sessions and across app processes.

A second session that trains the same folder waits for the first and then reuses its
cached features, instead of describing every image a second time beside it.

`training_lock` is the only way to take the lock, and it is one construct: a context
manager whose `with` body runs while the lock is held, released on any way out of the
body (an exception, a rerun or stop that Streamlit raises at its next call, a session
that ends). While it waits it calls `wait(holder, seconds)`, which may show a message
and may raise to give up waiting: the lock is not held during the wait, so nothing can
be left behind. Between taking the lock and entering the body there is no call that
can raise but the OS's.

The lock is an OS file lock (flock) on a file in the cache folder, which every app
process of one deployment shares: the kernel releases it when its process dies, even by
SIGKILL, so a dead holder never blocks anyone. The file also says who holds it and since
when, so a waiting student can be told.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core import paths as app_paths
from core.learn.config import TrainingError

try:
    import fcntl
except ImportError:  # Windows: a lock per process (one app process on a laptop)
    fcntl = None

POLL_SECONDS = 0.5


class LockTimeout(TrainingError):
    """Waited longer than allowed for another training of the same dataset."""


@dataclass(frozen=True)
class Holder:
    """Who holds a dataset's lock (as they wrote it when they took it)."""

    who: str  # an opaque id of the holding session
    pid: int
    host: str
    since: float  # time.time() when it was taken

    @property
    def here(self) -> bool:
        """Held by this very process (another session of this server)."""
        return self.pid == os.getpid() and self.host == socket.gethostname()

    def held_for(self) -> float:
        return max(0.0, time.time() - self.since)


@dataclass(frozen=True)
class Held:
    waited: float  # seconds spent waiting for another holder (0: it was free)


def lock_path(dataset: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
    """The lock file of one dataset folder (by its resolved path) in the cache folder."""
    real = os.path.realpath(dataset)
    name = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    base = Path(folder) if folder is not None else app_paths.cache_dir() / "locks"
    return base / f"{name}.lock"


def read_holder(path: str | os.PathLike) -> Holder | None:
    """Who the lock file says holds it (None: nobody wrote, or it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.loads(fh.read(4096) or "null")
        return Holder(str(d["who"]), int(d["pid"]), str(d["host"]), float(d["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


_local: dict[str, threading.Lock] = {}  # the fallback without fcntl
_local_guard = threading.Lock()


@contextlib.contextmanager
def training_lock(
    dataset: str | os.PathLike,
    *,
    who: str,
    wait: Callable[[Holder | None, float], None] | None = None,
    timeout: float = 600.0,
    folder: str | os.PathLike | None = None,
) -> Iterator[Held]:
    """Hold the dataset's lock for the `with` body; see the module's docstring.

    who: an id of the session taking it (shown to others as "another session").
    wait(holder, seconds): called about every POLL_SECONDS while another holds it.
    timeout: seconds to wait before LockTimeout.
    """
    path = lock_path(dataset, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        with _process_lock(path, who, wait, timeout) as held:
            yield held
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        waited = _acquire(fd, path, wait, timeout)
        try:
            _write_holder(fd, who)
            yield Held(waited)
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)  # closing also releases a lock taken just before an exception


def _acquire(fd: int, path: Path, wait, timeout: float) -> float:
    t0 = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return time.monotonic() - t0
        except BlockingIOError:
            pass
        waited = time.monotonic() - t0
        if waited > timeout:
            holder = read_holder(path)
            since = f" (for {holder.held_for():.0f} s)" if holder else ""
            raise LockTimeout(
                f"another session has been training this dataset{since}; waited {waited:.0f} s: try again later"
            )
        if wait is not None:
            wait(read_holder(path), waited)
        time.sleep(POLL_SECONDS)


def _write_holder(fd: int, who: str) -> None:
    record = {"who": who, "pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    data = json.dumps(record).encode()
    with contextlib.suppress(OSError):  # a full disk: the lock still holds, its note is empty
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)


@contextlib.contextmanager
def _process_lock(path: Path, who: str, wait, timeout: float) -> Iterator[Held]:
    with _local_guard:
        lock = _local.setdefault(str(path), threading.Lock())
    t0 = time.monotonic()
    while not lock.acquire(timeout=POLL_SECONDS):
        waited = time.monotonic() - t0
        if waited > timeout:
            raise LockTimeout(f"another session has been training this dataset; waited {waited:.0f} s")
        if wait is not None:
            wait(None, waited)
    try:
        yield Held(time.monotonic() - t0)
    finally:
        lock.release()
