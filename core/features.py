"""The post's colour-histogram feature, safe image decoding, and fast cached extraction.

`color_histogram` is exactly the post's `extract_color_histogram`. `extract_features`
describes a whole folder in parallel over every core (joblib; see BACKEND), with a disk
cache (core.feature_cache) so a second run only loads. Two modes:

- exact (fast=False): decode as the post's `cv2.imread` does; the features equal the
  post's loop.
- fast (fast=True): JPEGs are decoded at half size by libjpeg's DCT scaling
  (cv2.IMREAD_REDUCED_COLOR_2), about 4x less decoding work. A colour histogram barely
  notices (bench/bench_features.py prints the accuracy of both modes).
"""

from __future__ import annotations

import math
import os
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# A second guard inside OpenCV's own decoders; must be set before cv2 first decodes.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(50_000_000))

import cv2
import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from core import paths as app_paths
from core.feature_cache import FeatureCache, file_key

MAX_PIXELS = 50_000_000  # 50 megapixels: far above any photo a histogram needs
MAX_FILE_BYTES = 200 * 1024 * 1024  # refuse to read more than this into memory
DEFAULT_BINS = (8, 8, 8)  # the post's 8 hue x 8 saturation x 8 value bins
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

Progress = Callable[[int, int], None]


class ImageError(ValueError):
    """An image we will not describe; the message says why, for the user."""


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


# ---- the post's feature ------------------------------------------------------------
def color_histogram(image_bgr: np.ndarray, bins=DEFAULT_BINS) -> np.ndarray:
    """The post's 3D HSV colour histogram, L2-normalised and flattened (float32)."""
    image = _as_bgr8(image_bgr)
    bins = _check_bins(bins)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)  # default: L2 norm, as the post (OpenCV 3+ branch)
    return hist.flatten()  # (prod(bins),) float32


def _as_bgr8(image: np.ndarray) -> np.ndarray:
    """Grayscale, BGRA, 16-bit and float images as the 8-bit BGR the feature expects."""
    image = np.asarray(image)
    if image.size == 0:
        raise ImageError("empty image (0 pixels)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)  # as libpng strips 16-bit samples
    elif image.dtype.kind == "f":
        image = np.clip(np.nan_to_num(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ImageError(f"unsupported image shape {image.shape}")


def _check_bins(bins) -> tuple[int, int, int]:
    try:
        bins = tuple(int(b) for b in bins)
    except TypeError:
        raise ValueError("bins must be three integers, e.g. (8, 8, 8)") from None
    if len(bins) != 3 or not all(1 <= b <= 256 for b in bins):
        raise ValueError(f"bins must be three integers between 1 and 256, got {bins}")
    return bins


# ---- decoding ----------------------------------------------------------------------
def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from the header alone, or None if not recognised."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return "png", w, h
        if data[:2] == b"\xff\xd8":
            return _jpeg_size(data)
        if data[:2] == b"BM" and len(data) >= 26:
            w, h = struct.unpack("<ii", data[18:26])
            return "bmp", abs(w), abs(h)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff_size(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", data[6:10])
            return "gif", w, h
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes):
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return "jpeg", w, h
        i += 2 + length
    return None


def _webp_size(data: bytes):
    chunk = data[12:16]
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return "webp", w, h
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return "webp", w & 0x3FFF, h & 0x3FFF
    return None


def _tiff_size(data: bytes):
    end = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", data[4:8])
    (count,) = struct.unpack(end + "H", data[ifd : ifd + 2])
    found = {}
    for k in range(count):
        e = ifd + 2 + 12 * k
        tag, typ = struct.unpack(end + "HH", data[e : e + 4])
        if tag in (256, 257):
            fmt = "H" if typ == 3 else "I"
            (found[tag],) = struct.unpack(end + fmt, data[e + 8 : e + 8 + struct.calcsize(fmt)])
    if 256 in found and 257 in found:
        return "tiff", found[256], found[257]
    return None


def _read_bytes(path) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ImageError(f"file too large: {size / 2**20:.0f} MB, limit {MAX_FILE_BYTES // 2**20} MB")
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except IsADirectoryError:
        raise ImageError("a folder, not an image file") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except OSError as err:
        raise ImageError(f"cannot read file ({err.strerror or err})") from None


_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _decode_flag(header, fast: bool, longest: int | None) -> int:
    """JPEGs can be decoded at 1/2, 1/4 or 1/8 size for a fraction of the work."""
    if not header or header[0] != "jpeg":
        return cv2.IMREAD_COLOR
    factor = 2 if fast else 1
    if longest:
        side = max(header[1], header[2])
        factor = max([factor, *(f for f in (2, 4, 8) if side // f >= longest)])
    return _REDUCED[factor]


def decode_image(data: bytes | str | Path, fast: bool = False, longest: int | None = None) -> np.ndarray:
    """Decode bytes or a file into an 8-bit BGR image, as `cv2.imread` does.

    EXIF orientation is applied (cv2's default); grayscale, alpha and 16-bit images come
    back as 8-bit BGR. Images above MAX_PIXELS are refused from their header, before any
    pixel memory is allocated. fast=True decodes JPEGs at half size; longest=n decodes a
    JPEG at 1/2, 1/4 or 1/8 size when its longest side stays at least n (thumbnails).
    """
    if isinstance(data, (str, Path)):
        data = _read_bytes(data)
    elif hasattr(data, "getvalue"):  # a Streamlit UploadedFile or io.BytesIO
        data = data.getvalue()
    data = bytes(data) if not isinstance(data, bytes) else data
    if len(data) == 0:
        raise ImageError("empty file")
    header = image_size(data)
    if header is not None:
        fmt, w, h = header
        _check_pixels(w, h)
    flag = _decode_flag(header, fast, longest)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise ImageError("not an image (or corrupt)")
    if header is None:
        _check_pixels(image.shape[1], image.shape[0])
    return image  # (h, w, 3) uint8 BGR


def _check_pixels(w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise ImageError(f"not an image (or corrupt): header says {w} x {h} pixels")
    if w * h > MAX_PIXELS:
        raise ImageError(f"too large: {w} x {h} pixels, limit {MAX_PIXELS:,}")


def describe(data_or_path, bins=DEFAULT_BINS, fast: bool = False) -> np.ndarray:
    """The post's feature of one image given as bytes or a path."""
    return color_histogram(decode_image(data_or_path, fast=fast), bins)


# ---- extraction over many files ----------------------------------------------------
def _describe_batch(start: int, paths: list[str], bins, fast: bool, in_worker: bool):
    """Describe paths; returns (start, [row or reason]). Runs inside a worker process."""
    if in_worker:
        cv2.setNumThreads(1)  # the pool is the parallelism; avoid oversubscription
    out: list[np.ndarray | str] = []
    for path in paths:
        try:
            out.append(describe(path, bins, fast))
        except ImageError as err:
            out.append(str(err))
        except (MemoryError, cv2.error, OSError, ValueError) as err:
            out.append(f"could not be described ({type(err).__name__}: {err})")
    return start, out


def extract_features(
    paths: Iterable,
    bins=DEFAULT_BINS,
    fast: bool = True,
    cache_dir=None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Features:
    """Describe every image, in parallel, reusing the disk cache; never fails on one file.

    cache_dir: None for core.paths.cache_dir(), a folder, or False for no cache at all.
    workers: parallel workers (None: one per core). progress(done, total) is called from
    this process as work completes. Rows of X follow the order of the paths that decoded.
    """
    paths = [os.fspath(p) for p in paths]
    bins = _check_bins(bins)
    total = len(paths)
    results: list[np.ndarray | str | None] = [None] * total
    keys, cache, cached = _lookup(paths, bins, fast, cache_dir, results)
    todo = [i for i, r in enumerate(results) if r is None]
    done = total - len(todo)
    _report(progress, done, total)
    last_flush = time.monotonic()
    try:
        for idx, rows in _run(paths, todo, bins, fast, workers):
            for i, row in zip(idx, rows):
                results[i] = row
                if cache is not None and keys[i] is not None:
                    cache.put(keys[i], row)
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
        cache.compact()
    return _assemble(paths, results, bins, cached, cache)


def _lookup(paths, bins, fast, cache_dir, results):
    """Fill results from the cache; returns each path's key (None if unreadable)."""
    keys: list = [None] * len(paths)
    dirs: dict[str, str] = {}
    for i, path in enumerate(paths):
        try:
            keys[i] = file_key(path, dirs)
        except FileNotFoundError:
            results[i] = "file not found"
        except OSError as err:
            results[i] = f"cannot read file ({err.strerror or err})"
    if cache_dir is False:
        return keys, None, 0
    root = app_paths.cache_dir() if cache_dir is None else Path(cache_dir)
    cache = FeatureCache(root, bins, fast).load()
    hits = 0
    for i, key in enumerate(keys):
        if key is not None:
            results[i] = cache.get(key)
            hits += results[i] is not None
    return keys, cache, hits


def _maybe_flush(cache: FeatureCache | None, last: float) -> float:
    """Save finished rows every FLUSH_ROWS rows or FLUSH_SECONDS; returns the last save time."""
    now = time.monotonic()
    if cache is not None and (cache.pending >= FLUSH_ROWS or (cache.pending and now - last >= FLUSH_SECONDS)):
        cache.flush()
        return now
    return last


def _run(paths, todo, bins, fast, workers):
    """Yield (indices, rows-or-reasons) batch by batch, as they complete."""
    if not todo:
        return
    n_workers = _n_workers(workers)
    size = _batch_size(len(todo), n_workers)
    batches = [todo[k : k + size] for k in range(0, len(todo), size)]
    if n_workers == 1 or len(todo) < MIN_PARALLEL:
        for batch in batches:
            _, rows = _describe_batch(0, [paths[i] for i in batch], bins, fast, False)
            yield batch, rows
        return
    # Ordered results: joblib's unordered mode does not notice a dead worker (it can hang).
    parallel = Parallel(n_jobs=n_workers, backend=BACKEND, return_as="generator")
    in_worker = BACKEND != "threading"  # threads share this process's OpenCV settings
    jobs = (
        delayed(_describe_batch)(k, [paths[i] for i in batch], bins, fast, in_worker)
        for k, batch in enumerate(batches)
    )
    for k, rows in parallel(jobs):
        yield batches[k], rows


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


def _assemble(paths, results, bins, cached, cache) -> Features:
    dim = int(np.prod(bins))
    ok = [i for i, r in enumerate(results) if not isinstance(r, str)]
    X = np.empty((len(ok), dim), np.float32)  # (n_decoded, prod(bins))
    for row, i in enumerate(ok):
        X[row] = results[i]
    skipped = [(paths[i], r) for i, r in enumerate(results) if isinstance(r, str)]
    notes = list(cache.notes) if cache is not None else []
    return Features(X, [paths[i] for i in ok], skipped, cached, notes)
