"""Feature extraction on a Dask distributed cluster, through joblib's dask backend.

For a folder of millions of images: the same batches that threads describe on this
machine (core.learn.features._describe_batch) are sent to the cluster's workers by
joblib's own "dask" backend, and each comes back as one (m, d) float32 array and its
skip reasons. The cache stays on this machine (core.learn.feature_cache), so the rows,
the cache files and the results are the same as a local run's.

What a worker needs: this project importable (the same code: the batches name their
function by module), OpenCV, and the images at the same paths as here (a shared data
folder mounted at the same place). A worker reads each file the way this machine
would (core.images.read_file: regular file, bounded size, the very file that was
listed), so a worker that sees another file at that path refuses it with a reason.

`dask[distributed]` is imported only here, and only when a scheduler is asked for.
"""

from __future__ import annotations

import math
import threading

from core.learn.config import TrainingError

CONNECT_SECONDS = 20  # to reach the scheduler
WORKERS_SECONDS = 60  # for the scheduler to have at least one worker
MAX_BATCH = 2048  # images in one task: a task costs the scheduler about a millisecond

_clients: dict[str, object] = {}
_lock = threading.Lock()


class ClusterError(TrainingError):
    """The cluster could not be used; the message says why, for the user or operator."""


def client(address: str):
    """One distributed.Client per scheduler address, kept for the process's life."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is in requirements.txt
        raise ClusterError(
            "a Dask scheduler was given but dask.distributed is not installed: "
            "pip install 'dask[distributed]'"
        ) from None
    with _lock:
        c = _clients.get(address)
        if c is not None and getattr(c, "status", "") == "running":
            return c
        try:
            c = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        _clients[address] = c
        return c


def _batch_size(n: int, threads: int) -> int:
    """About 4 tasks per worker thread: even load, few tasks for the scheduler."""
    return max(16, min(MAX_BATCH, math.ceil(n / (max(1, threads) * 4))))


def describe(address: str, refs, todo: list[int], bins, fast: bool, describe_batch):
    """Yield (indices, rows, reasons) per batch, in order, as the cluster finishes them."""
    from joblib import Parallel, delayed, parallel_config

    c = client(address)
    threads = sum(c.nthreads().values()) or 1
    size = _batch_size(len(todo), threads)
    batches = [todo[k : k + size] for k in range(0, len(todo), size)]
    jobs = (
        delayed(describe_batch)(k, [refs[i] for i in batch], bins, fast, True)
        for k, batch in enumerate(batches)
    )
    with parallel_config(backend="dask", client=c, wait_for_workers_timeout=WORKERS_SECONDS):
        for k, rows, bad in Parallel(n_jobs=-1, return_as="generator")(jobs):
            yield batches[k], rows, bad


def close() -> None:
    """Close the clients this process opened (the tests; a server closes them at exit)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for c in clients:
        try:
            c.close()
        except Exception:  # closing a client to a scheduler that is gone
            pass
