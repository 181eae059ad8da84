"""Features of a whole folder: the post's colour histogram of every image, in parallel,
through a disk cache (core.learn.feature_cache) so that a second run only loads.

Two modes:
- exact (fast=False): decode as the post's `cv2.imread` does; the features equal the
  post's loop.
- fast (fast=True): JPEGs are decoded at half size by libjpeg's DCT scaling
  (cv2.IMREAD_REDUCED_COLOR_2), about 4x less decoding work. A colour histogram barely
  notices (bench/bench_features.py prints the accuracy of both modes).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from core import paths as app_paths
from core.data.dataset import Dataset
from core.images import DEFAULT_BINS, FileRef, ImageError, check_bins, describe, stat_ref
from core.learn.config import TrainConfig, TrainingError
from core.learn.feature_cache import FeatureCache

# The parent saves finished rows to the cache this often (rows or seconds).
FLUSH_ROWS = 1024
FLUSH_SECONDS = 10.0
# Below this many images to extract, handing out batches costs more than it saves.
MIN_PARALLEL = 16
# joblib backend. "threading" by default: OpenCV releases the GIL while it decodes and
# histograms, so threads use every core with no start-up cost (loky processes need about
# a second to start and import cv2 on 2 cores, longer than describing 1,000 images) and
# no copies of the rows between processes. "loky" isolates a crashing decoder in a worker.
# bench/bench_features.py --threads times both.
BACKEND = "threading"
# The operator's setting for the app: a Dask distributed scheduler to describe images on
# (tcp://host:8786); see deploy/README.md.
DASK_ENV = "SOFTMAX_DASK_SCHEDULER"

Progress = Callable[[int, int], None]


class ExtractionError(RuntimeError):
    """The extraction itself broke (a worker process died); what was done is cached."""


@dataclass
class Features:
    X: np.ndarray  # (n_decoded, prod(bins)) float32, rows in the order of `paths`
    paths: list[str]  # the input paths that decoded, in input order
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    cached: int = 0  # how many rows (or skip reasons) came from the disk cache
    cache_notes: list[str] = field(default_factory=list)  # e.g. a corrupt cache file

    def __len__(self) -> int:
        return len(self.paths)


def _describe_batch(start: int, refs: list[FileRef], bins, fast: bool, in_worker: bool):
    """Describe files; returns (start, rows, reasons): rows (len(refs), prod(bins)) float32,
    reasons {position in refs: why that file has no row}. One array per batch, not one
    object per image: that is what crosses back from a worker process or a cluster."""
    if in_worker:
        cv2.setNumThreads(1)  # the pool is the parallelism; avoid oversubscription
    rows = np.zeros((len(refs), int(np.prod(bins))), np.float32)
    reasons: dict[int, str] = {}
    for j, ref in enumerate(refs):
        try:
            rows[j] = describe(ref, bins, fast)
        except ImageError as err:
            reasons[j] = str(err)
        except (MemoryError, cv2.error, OSError, ValueError) as err:
            reasons[j] = f"could not be described ({type(err).__name__}: {err})"
    return start, rows, reasons


def extract_features(
    paths: Iterable,
    bins=DEFAULT_BINS,
    fast: bool = True,
    cache_dir=None,
    workers: int | None = None,
    progress: Progress | None = None,
    refs: Sequence[FileRef] | None = None,
    scheduler: str | None = None,
) -> Features:
    """Describe every image, in parallel, reusing the disk cache; never fails on one file.

    cache_dir: None for core.paths.cache_dir(), a folder, or False for no cache at all.
    workers: parallel workers (None: one per core). progress(done, total) is called from
    this process as work completes. Rows of X follow the order of the paths that decoded.
    refs: what a listing found at each path (core.data.dataset.Dataset.refs): then no file
    is looked up again, and each is read only if it is still that file.
    scheduler: a Dask distributed scheduler's address (tcp://host:8786): the images are
    described on that cluster's workers through joblib's dask backend (core.learn.cluster);
    None: SOFTMAX_DASK_SCHEDULER if set, else this machine. The cache stays here.
    """
    paths = [os.fspath(p) for p in paths]
    bins = check_bins(bins)
    total = len(paths)
    X = np.zeros((total, int(np.prod(bins))), np.float32)  # (total, d): rows filled as found
    reasons: dict[int, str] = {}  # index -> why that image has no row
    refs = _refs(paths, refs, reasons)
    cache, todo = _lookup(refs, bins, fast, cache_dir, X, reasons)
    cached = total - len(todo) - sum(1 for r in refs if r is None)
    done = total - len(todo)
    _report(progress, done, total)
    last_flush = time.monotonic()
    try:
        for idx, rows, bad in _run(refs, todo, bins, fast, workers, _scheduler(scheduler)):
            X[idx] = rows
            for j, why in bad.items():
                reasons[idx[j]] = why
            if cache is not None:
                cache.put_many([refs[i].cache_key for i in idx], rows, {j: why for j, why in bad.items()})
            done += len(idx)
            last_flush = _maybe_flush(cache, last_flush)
            _report(progress, done, total)
    except TerminatedWorkerError as err:
        saved = "they are cached: run again to resume" if cache is not None else "no cache in use"
        raise ExtractionError(
            f"a worker process died after {done} of {total} images (out of memory, or killed); {saved}."
        ) from err
    finally:
        if cache is not None:
            cache.flush()  # also on Stop or Ctrl-C: the work done so far is kept
    if cache is not None and todo:
        cache.compact(current={ref.cache_key for ref in refs if ref is not None})
    return _assemble(paths, X, reasons, cached, cache)


def _refs(paths: list[str], refs, reasons: dict[int, str]) -> list[FileRef | None]:
    """Each path's FileRef: as listed, or looked up now (None, with a reason, if it cannot be)."""
    if refs is not None:
        if len(refs) != len(paths):
            raise ValueError(f"{len(refs)} refs for {len(paths)} paths")
        return list(refs)
    out: list[FileRef | None] = []
    for i, path in enumerate(paths):
        try:
            out.append(stat_ref(path))
        except FileNotFoundError:
            out.append(None)
            reasons[i] = "file not found"
        except OSError as err:
            out.append(None)
            reasons[i] = f"cannot read file ({err.strerror or err})"
    return out


def _lookup(refs, bins, fast, cache_dir, X, reasons) -> tuple[FeatureCache | None, list[int]]:
    """Fill X and reasons from the cache; returns (the cache or None, indices still to describe)."""
    if cache_dir is False:
        return None, [i for i, ref in enumerate(refs) if ref is not None]
    root = app_paths.cache_dir() if cache_dir is None else Path(cache_dir)
    cache = FeatureCache(root, bins, fast).load()
    live = [i for i, ref in enumerate(refs) if ref is not None]
    found, why = cache.gather([refs[i].cache_key for i in live], X, live)
    reasons.update(why)
    return cache, [i for i, hit in zip(live, found) if not hit]


def _maybe_flush(cache: FeatureCache | None, last: float) -> float:
    """Save finished rows every FLUSH_ROWS rows or FLUSH_SECONDS; returns the last save time."""
    now = time.monotonic()
    if cache is not None and (cache.pending >= FLUSH_ROWS or (cache.pending and now - last >= FLUSH_SECONDS)):
        cache.flush()
        return now
    return last


def _scheduler(scheduler: str | None) -> str | None:
    if scheduler is None:
        scheduler = os.environ.get(DASK_ENV, "").strip() or None
    return scheduler


def _run(refs, todo, bins, fast, workers, scheduler=None):
    """Yield (indices, rows, reasons) batch by batch, as they complete."""
    if not todo:
        return
    if scheduler is not None:
        from core.learn import cluster  # dask is imported only when a cluster is asked for

        yield from cluster.describe(scheduler, refs, todo, bins, fast, _describe_batch)
        return
    n_workers = _n_workers(workers)
    size = _batch_size(len(todo), n_workers)
    batches = [todo[k : k + size] for k in range(0, len(todo), size)]
    if n_workers == 1 or len(todo) < MIN_PARALLEL:
        for batch in batches:
            _, rows, bad = _describe_batch(0, [refs[i] for i in batch], bins, fast, False)
            yield batch, rows, bad
        return
    # Ordered results: joblib's unordered mode does not notice a dead worker (it can hang).
    parallel = Parallel(n_jobs=n_workers, backend=BACKEND, return_as="generator")
    in_worker = BACKEND != "threading"  # threads share this process's OpenCV settings
    jobs = (
        delayed(_describe_batch)(k, [refs[i] for i in batch], bins, fast, in_worker)
        for k, batch in enumerate(batches)
    )
    for k, rows, bad in parallel(jobs):
        yield batches[k], rows, bad


def _n_workers(workers: int | None) -> int:
    if workers is None:
        return max(1, os.cpu_count() or 1)
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return int(workers)


def _batch_size(n: int, n_workers: int) -> int:
    """Small enough for regular progress (about 8 batches per worker), big enough to be cheap."""
    return max(8, min(128, math.ceil(n / (n_workers * 8))))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _assemble(paths, X, reasons, cached, cache) -> Features:
    if reasons:
        ok = np.ones(len(paths), bool)
        ok[list(reasons)] = False
        X = X[ok]  # (n_decoded, prod(bins))
        kept = [p for p, good in zip(paths, ok) if good]
    else:
        kept = paths
    skipped = [(paths[i], reasons[i]) for i in sorted(reasons)]
    notes = list(cache.notes) if cache is not None else []
    return Features(X, kept, skipped, cached, notes)


# ---- a dataset folder ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DatasetFeatures:
    X: np.ndarray  # (n, prod(bins)) float32, rows of the images that decoded
    labels: tuple[str, ...]  # (n,)
    paths: tuple[str, ...]  # (n,)
    skipped: tuple[tuple[str, str], ...]  # (path, reason): not an image, or not decodable
    seconds: float  # time to describe (near zero when the disk cache is warm)
    cache_notes: tuple[str, ...] = ()  # the disk cache's problems (full disk, corrupt file): say so
    fingerprint: str = ""  # changes when any image is added, removed or rewritten


def dataset_features(ds: Dataset, config: TrainConfig, progress=None, cache_dir=None) -> DatasetFeatures:
    """A listed dataset described through the disk cache (no file is looked up again).

    cache_dir: None for core.paths.cache_dir() (a worker process is told the server's
    folder explicitly)."""
    t0 = time.perf_counter()
    feats = extract_features(
        ds.paths,
        bins=config.bins,
        fast=config.fast,
        cache_dir=app_paths.cache_dir() if cache_dir is None else Path(cache_dir),
        progress=progress,
        refs=ds.refs,
    )
    label_of = dict(zip(ds.paths, ds.labels))
    paths = tuple(feats.paths)
    skipped = tuple((str(p), str(r)) for p, r in [*ds.skipped, *feats.skipped])
    if not paths:
        first = f" (first: {Path(skipped[0][0]).name}: {skipped[0][1]})." if skipped else "."
        raise TrainingError(f"None of the {len(ds.paths)} images could be read{first}")
    return DatasetFeatures(
        np.asarray(feats.X),
        tuple(label_of[p] for p in paths),
        paths,
        skipped,
        time.perf_counter() - t0,
        tuple(feats.cache_notes),
        fingerprint(ds.refs),
    )


def fingerprint(refs: Sequence[FileRef]) -> str:
    """A short hash that changes when a file is added, removed or rewritten."""
    import hashlib

    h = hashlib.sha256()
    for ref in refs:
        h.update(f"{ref.real}\0{ref.size}\0{ref.mtime_ns}\0{ref.ctime_ns}\n".encode())
    return h.hexdigest()[:16]
