"""Downloading a dataset: streamed, resumable, and checked, then unpacked safely.

`download` streams a URL to ``dest + ".part"`` (so a half-downloaded file is never taken
for a whole one), resumes it with an HTTP Range request after a dropped connection or
a restart, checks the final size, then renames it into place. `fetch_petimages` uses
it for Microsoft's "Kaggle Cats and Dogs" zip and unpacks it with
`core.archive.safe_extract_zip` as the dataset "kaggle-cats-and-dogs".

Environment: SOFTMAX_PETIMAGES_URL replaces the default URL (a mirror, or a test server).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.data.archive import ArchiveError, ExtractReport, safe_extract_zip
from core.data.library import LibraryError, room_left

PETIMAGES_URL = (
    "https://download.microsoft.com/download/3/E/1/"
    "3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"
)
PETIMAGES_NAME = "kaggle-cats-and-dogs"
PETIMAGES_MB = 790  # what the button promises; the server's Content-Length is what counts
DOWNLOADS = ".downloads"  # hidden, so the library never lists a half-downloaded zip
CHUNK = 256 * 1024
USER_AGENT = "softmax-classifiers-explained (+https://github.com)"

Progress = Callable[[int, "int | None"], None]


class DownloadError(RuntimeError):
    """A download that failed; the message is meant for the user."""


# Failures worth another try: the connection dropped, timed out or was cut short.
_TRANSIENT = (
    ConnectionError,
    TimeoutError,
    socket.timeout,
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
)


class _Retry(Exception):
    """Raised inside one attempt when the server answered with a retryable status."""


def download(
    url: str,
    dest: str | os.PathLike,
    progress: Progress | None = None,
    timeout: float = 30.0,
    retries: int = 4,
    backoff: float = 1.0,
) -> Path:
    """Stream url to dest (resuming dest.part), calling progress(done_bytes, total_bytes or None).

    Retries a dropped connection `retries` times (waiting backoff, 2*backoff, ... seconds),
    each time resuming where it stopped; raises DownloadError with a clear message.
    """
    _check_url(url)
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(dest):
        last_error = None
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                total = _fetch_once(url, part, progress, timeout)
            except (_Retry, *_TRANSIENT) as exc:
                last_error = exc
                continue
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (*_TRANSIENT, OSError)) and not isinstance(
                    exc.reason, socket.gaierror
                ):
                    last_error = exc
                    continue
                raise DownloadError(f"Cannot reach {_host(url)}: {exc.reason}") from None
            _validate(part, total)
            os.replace(part, dest)
            return dest
    have = part.stat().st_size if part.exists() else 0
    raise DownloadError(
        f"The download from {_host(url)} kept failing ({_describe(last_error)}) after "
        f"{retries + 1} tries; {have / 1e6:,.1f} MB are kept and the next try resumes there."
    )


def _check_url(url: str) -> None:
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
        raise DownloadError(f"Not an http(s) URL: {str(url)[:200]!r}")


def _host(url: str) -> str:
    return urllib.request.urlparse(url).netloc or url


def _describe(exc) -> str:
    if exc is None:
        return "no answer"
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason
    text = str(exc) or type(exc).__name__
    return text[:200]


@contextmanager
def _exclusive(dest: Path):
    """One download per file at a time, even across sessions (the lock dies with the process)."""
    lock_path = dest.with_name(dest.name + ".lock")
    with open(lock_path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: no cross-process lock; one user per laptop
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DownloadError(
                f"{dest.name} is already being downloaded (by another session): wait for it."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _fetch_once(url: str, part: Path, progress: Progress | None, timeout: float) -> int | None:
    """One HTTP request, appending to part; returns the full size if the server told it."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        return _http_error(exc, url, part, have)
    with response:
        start, total = _range_of(response, have)
        if start == 0 and have:
            part.unlink()  # the server ignored Range: start over rather than corrupt the file
        if progress:
            progress(start, total)
        with open(part, "ab") as out:
            done = start
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)
    return total


def _http_error(exc: urllib.error.HTTPError, url: str, part: Path, have: int) -> int | None:
    code = exc.code
    exc.close()
    if code == 416 and have:
        full = _total_from_content_range(exc.headers.get("Content-Range", ""))
        if full == have:
            return full  # the part file is already complete
        part.unlink()  # a stale part larger than the file: start over
        raise _Retry("the saved partial download did not match the file; restarting")
    if code in (408, 429, 500, 502, 503, 504):
        raise _Retry(f"the server answered {code} {exc.reason}")
    hint = " (check the URL or SOFTMAX_PETIMAGES_URL)" if code in (403, 404, 410) else ""
    raise DownloadError(f"{_host(url)} answered {code} {exc.reason} for {url}{hint}.")


def _range_of(response, have: int) -> tuple[int, int | None]:
    """(first byte this response carries, full size or None)."""
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if response.status == 206:
        m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not m or int(m.group(1)) != have:
            raise DownloadError("The server answered a resume request with the wrong part of the file.")
        return have, int(m.group(3)) if m.group(3) != "*" else None
    return 0, length


def _total_from_content_range(value: str) -> int | None:
    m = re.match(r"bytes \*/(\d+)", value or "")
    return int(m.group(1)) if m else None


def _validate(part: Path, total: int | None) -> None:
    size = part.stat().st_size if part.exists() else 0
    if size == 0:
        part.unlink(missing_ok=True)
        raise DownloadError("The server sent an empty file.")
    if total is not None and size != total:
        part.unlink()
        raise DownloadError(
            f"The downloaded file has {size:,} bytes but the server announced {total:,}; "
            "it was deleted: try again."
        )


# ---- Microsoft's "Kaggle Cats and Dogs" ------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    path: Path  # the dataset folder, data_dir/kaggle-cats-and-dogs
    report: ExtractReport | None  # None when the dataset was already there
    already_there: bool = False

    @property
    def bad_files(self) -> int:
        """Empty or non-image files in the zip that were skipped (Microsoft ships some)."""
        return self.report.bad_images if self.report else 0


def petimages_url(url: str | None = None) -> str:
    return url or os.environ.get("SOFTMAX_PETIMAGES_URL", "").strip() or PETIMAGES_URL


def partial_bytes(data_dir=None) -> int:
    """How much of the PetImages zip a previous, interrupted download left (0 if none)."""
    root = Path(data_dir).resolve() if data_dir is not None else paths.data_dir()
    part = root / DOWNLOADS / "kagglecatsanddogs.zip.part"
    return part.stat().st_size if part.exists() else 0


def _check_quota(root: Path, zip_path: Path) -> None:
    """The download needs room for the zip and its images under the data folder's quota."""
    have = zip_path.stat().st_size if zip_path.is_file() else partial_bytes(root)
    need = 2 * PETIMAGES_MB * 1_000_000 - have
    try:
        room = room_left(root)
    except LibraryError as exc:
        raise DownloadError(str(exc)) from None
    if room < need:
        raise DownloadError(
            f"The data folder has {max(room, 0) / 1e6:,.0f} MB left of its quota (SOFTMAX_MAX_DATA_BYTES); "
            f"the Cats and Dogs download needs about {need / 1e6:,.0f} MB (the zip, then its images)."
        )


def fetch_petimages(
    data_dir=None,
    url: str | None = None,
    progress: Progress | None = None,
    extract_progress: Callable[[int, int], None] | None = None,
    **download_kw,
) -> FetchResult:
    """Download and unpack the Kaggle Cats and Dogs zip as data_dir/kaggle-cats-and-dogs."""
    root = Path(data_dir).resolve() if data_dir is not None else paths.data_dir()
    dest = root / PETIMAGES_NAME
    if dest.is_dir():
        return FetchResult(dest, None, already_there=True)
    zip_path = root / DOWNLOADS / "kagglecatsanddogs.zip"
    _check_quota(root, zip_path)
    if not zip_path.is_file():  # a zip kept by a failed extraction need not come again
        download(petimages_url(url), zip_path, progress=progress, **download_kw)
    try:
        # The zip itself is deleted once unpacked: its bytes are room for the images.
        room = room_left(root) + zip_path.stat().st_size
        report = safe_extract_zip(zip_path, dest, progress=extract_progress, room=room)
    except ArchiveError as exc:
        if exc.damaged:
            zip_path.unlink(missing_ok=True)  # the next try downloads afresh
            raise DownloadError(
                f"The downloaded file is not a usable zip, so it was deleted: {exc} Try again."
            ) from None
        raise DownloadError(
            f"The download is complete (kept at {zip_path}) but was not unpacked: {exc}"
        ) from None
    zip_path.unlink(missing_ok=True)  # 790 MB we no longer need
    return FetchResult(dest, report)
