"""Unpacking a dataset zip without trusting it.

A zip comes from a stranger (an upload) or from the network (a download), so every
member is checked before a byte is written: names that escape the destination
(``../``, absolute paths, drive letters, backslashes), links, password-protected
members, zip bombs (declared sizes, the sizes actually streamed, the compression
ratio) and archives with too many files are refused with an `ArchiveError` whose
message is meant for the user. Only image files are extracted; empty files and
files whose first bytes are not an image are skipped and counted (Microsoft's
"Kaggle Cats and Dogs" zip ships some of each).

Everything is written into a hidden temporary folder beside the destination, which
is renamed into place only when every member has been read: a failed or interrupted
extraction leaves no half-made dataset behind.

Limits (environment variables, read at call time; arguments override them):
  SOFTMAX_MAX_ZIP_FILES   members in the archive            (default 100,000)
  SOFTMAX_MAX_ZIP_BYTES   total uncompressed bytes          (default 2 GiB)
  SOFTMAX_MAX_ZIP_MEMBER  uncompressed bytes of one member  (default 64 MiB)
  SOFTMAX_MAX_ZIP_RATIO   uncompressed / compressed, per member over 1 MiB (default 100)
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from core import paths
from core.data.dataset import is_image_name
from core.images.sniff import readable

DEFAULT_MAX_FILES = 100_000  # Microsoft's zip holds about 25,000 files
DEFAULT_MAX_TOTAL_BYTES = 2 * 1024**3  # the same zip unpacks to about 0.8 GB
DEFAULT_MAX_MEMBER_BYTES = 64 * 1024**2  # far above any photo; stops one-member bombs
DEFAULT_MAX_RATIO = 100  # JPEGs barely compress (ratio ~1); a bomb shows 1,000+
RATIO_MIN_BYTES = 1024**2  # tiny members (an empty or flat image) may compress very well
MAX_NAME_CHARS = 1024
MAX_PART_BYTES = 255  # a file name on Linux and macOS disks, in bytes
MAX_DEPTH = 16
CHUNK = 1024 * 1024

# Reasons a member is skipped (the first two are files the zip holds but cannot be images).
EMPTY = "empty file (0 bytes)"
UNREADABLE = "not a readable image (its first bytes are not JPEG/PNG/BMP/WebP/TIFF)"
NOT_IMAGE = "not an image file"
HIDDEN = "hidden or system file"


class ArchiveError(ValueError):
    """A zip that cannot be imported; the message is meant for the user.

    `damaged` is True when the file itself is broken (not a zip, cut short, bad CRC),
    as opposed to a sound zip that breaks a rule (limits, unsafe names).
    """

    def __init__(self, message: str, damaged: bool = False):
        super().__init__(message)
        self.damaged = damaged


@dataclass
class ExtractReport:
    extracted: int  # image files written
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member name, reason)
    dest: Path | None = None
    total_bytes: int = 0  # bytes written

    @property
    def bad_images(self) -> int:
        """Image-named files that were empty or not images at all (Microsoft's zip has some)."""
        return sum(1 for _name, reason in self.skipped if reason in (EMPTY, UNREADABLE))

    def skipped_reasons(self) -> dict[str, int]:
        """How many members were skipped for each reason, most common first."""
        counts: dict[str, int] = {}
        for _name, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_total_bytes: int
    max_member_bytes: int
    max_ratio: float

    @classmethod
    def from_env(cls, **overrides) -> Limits:
        values = {
            "max_files": _env_number("SOFTMAX_MAX_ZIP_FILES", DEFAULT_MAX_FILES),
            "max_total_bytes": _env_number("SOFTMAX_MAX_ZIP_BYTES", DEFAULT_MAX_TOTAL_BYTES),
            "max_member_bytes": _env_number("SOFTMAX_MAX_ZIP_MEMBER", DEFAULT_MAX_MEMBER_BYTES),
            "max_ratio": _env_number("SOFTMAX_MAX_ZIP_RATIO", DEFAULT_MAX_RATIO),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _env_number(name: str, default: int) -> int:
    try:
        return paths.positive_number(name, default)
    except paths.SettingError as exc:
        raise ArchiveError(str(exc)) from None


def safe_extract_zip(
    src: str | os.PathLike | BinaryIO,
    dest_dir: str | os.PathLike,
    *,
    max_files: int | None = None,
    max_total_bytes: int | None = None,
    max_member_bytes: int | None = None,
    max_ratio: float | None = None,
    strip_single_root: bool = False,
    progress: Callable[[int, int], None] | None = None,
    room: int | None = None,
) -> ExtractReport:
    """Extract the image files of zip `src` into the new folder `dest_dir`, or raise ArchiveError.

    strip_single_root: when every member sits under one top folder (``mydata/cat/0.jpg``),
    drop that folder, so the dataset's classes are the folders users meant.
    progress(done_members, total_members) is called as members are read.
    room: bytes the data folder may still take (its quota, core.data.library); None: no quota.
    """
    limits = Limits.from_env(
        max_files=max_files,
        max_total_bytes=max_total_bytes,
        max_member_bytes=max_member_bytes,
        max_ratio=max_ratio,
    )
    dest = Path(dest_dir)
    if dest.exists() or dest.is_symlink():
        raise ArchiveError(f"'{dest.name}' already exists in {dest.parent}; choose another name.")
    _check_central_directory(src, limits)
    with _open_zip(src) as zf:
        members = zf.infolist()
        _check_overlaps(members)
        plan, skipped = _plan(members, limits, strip_single_root)
        _check_room([m for m, _ in plan], room)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".extract-{dest.name[:40]}-", dir=dest.parent))
        try:
            report = _extract(zf, plan, tmp, limits, skipped, progress, len(members))
            if report.extracted == 0:
                raise ArchiveError(_nothing_message(report.skipped))
            _publish(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    report.dest = dest
    return report


ENTRY_BYTES = 160  # central-directory bytes per entry allowed on average (46 fixed + name + extra)


def _check_central_directory(src, limits: Limits) -> None:
    """Refuse a zip whose central directory is too large before Python's zipfile parses it.

    zipfile builds one object per entry and reads the whole directory whatever its end
    record claims: a zip claiming 7 entries but holding a million cost gigabytes before
    any per-file rule could run. The directory's size is bounded first, then its entries
    are counted by walking their headers (no objects made)."""
    most = 2 * limits.max_files  # x2: folders are entries too
    found = _central_directory(src, most * ENTRY_BYTES)
    if found is None:
        return  # not a zip, or one zipfile cannot read either: _open_zip says so
    declared, size, blob = found
    if declared > most:
        raise ArchiveError(
            f"The zip lists {declared:,} entries; the limit is {limits.max_files:,} files (SOFTMAX_MAX_ZIP_FILES)."
        )
    if blob is None:
        raise ArchiveError(
            f"The zip's index is {size / 1e6:,.1f} MB, more than {limits.max_files:,} files need "
            "(SOFTMAX_MAX_ZIP_FILES): it hides more entries than it declares. Nothing was imported."
        )
    count, i = 0, 0
    while i + 46 <= len(blob) and blob[i : i + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack("<HHH", blob[i + 28 : i + 34])
        i += 46 + n + m + k
        count += 1
    if count > most:
        raise ArchiveError(
            f"The zip holds {count:,} entries; the limit is {limits.max_files:,} files (SOFTMAX_MAX_ZIP_FILES)."
        )


def _central_directory(src, max_bytes: int) -> tuple[int, int, bytes | None] | None:
    """(entries the end record declares, the directory's size, its bytes or None if over
    max_bytes), or None when there is no end record to read."""
    close = isinstance(src, (str, os.PathLike))
    try:
        fh = open(src, "rb") if close else src  # noqa: SIM115 - closed in the finally below
        pos = None if close else fh.tell()
        try:
            end = zipfile._EndRecData(fh)
            if not end:
                return None
            declared, size = int(end[zipfile._ECD_ENTRIES_TOTAL]), int(end[zipfile._ECD_SIZE])
            if size > max_bytes:
                return declared, size, None
            # The directory ends where the end record starts (a zip may follow a prefix).
            fh.seek(max(0, int(end[zipfile._ECD_LOCATION]) - size))
            return declared, size, fh.read(size)
        finally:
            if close:
                fh.close()
            else:
                fh.seek(pos)
    except (AttributeError, IndexError, OSError, TypeError, ValueError):
        return None  # zipfile's internals moved, or not a zip: the later checks still apply


def _check_overlaps(members) -> None:
    """Refuse members whose data overlap: many directory entries sharing one compressed
    stream make a zip of a few kilobytes unpack to gigabytes (an overlapping zip bomb).
    Each member's local header (30 bytes and its name) and data must end before the next starts."""
    files = sorted((m for m in members if not m.is_dir()), key=lambda m: m.header_offset)
    for m, other in itertools.pairwise(files):
        if other.header_offset < m.header_offset + 30 + len(m.filename.encode()) + m.compress_size:
            raise ArchiveError(
                f"Refused: the zip entries {m.filename[:100]!r} and {other.filename[:100]!r} share their "
                "data (overlapping entries): this looks like a zip bomb. Nothing was imported."
            )


def _check_room(wanted, room: int | None) -> None:
    if room is None:
        return
    total = sum(m.file_size for m in wanted)
    if total > room:
        raise ArchiveError(
            f"The zip's images unpack to {total / 1e6:,.0f} MB, but the data folder has only "
            f"{max(room, 0) / 1e6:,.0f} MB left of its quota (SOFTMAX_MAX_DATA_BYTES). Nothing was imported."
        )


def _open_zip(src) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(src)
    except zipfile.BadZipFile:
        raise ArchiveError(
            "This is not a zip archive (or it is damaged or cut short): "
            "zip the dataset folder and try again.",
            damaged=True,
        ) from None
    except (OSError, EOFError) as exc:
        raise ArchiveError(f"Cannot read the archive: {exc}", damaged=True) from None


def _publish(tmp: Path, dest: Path) -> None:
    """Rename the finished folder into place; refuse if someone took the name meanwhile."""
    try:
        os.rename(tmp, dest)
    except OSError:
        raise ArchiveError(
            f"'{dest.name}' appeared in {dest.parent} while extracting; nothing was changed."
        ) from None
    if os.name != "nt":  # mkdtemp makes a private 0700 folder; a dataset is readable
        dest.chmod(0o755)


# ---- checking every member before writing anything ---------------------------------


def _plan(members, limits: Limits, strip: bool):
    """(members to extract as (info, relative path), skipped) or ArchiveError."""
    files = [m for m in members if not m.is_dir()]
    if not members:
        raise ArchiveError("The zip is empty: it holds no files.")
    if len(files) > limits.max_files:
        raise ArchiveError(
            f"The zip holds {len(files):,} files; the limit is {limits.max_files:,} (SOFTMAX_MAX_ZIP_FILES)."
        )
    for m in members:
        _check_member(m, limits)
    skipped: list[tuple[str, str]] = []
    wanted = []
    for m in files:
        reason = _skip_reason(m)
        if reason:
            skipped.append((m.filename, reason))
        else:
            wanted.append(m)
    _check_totals(wanted, limits)
    return _relative_paths(wanted, strip, skipped), skipped


def _check_member(m: zipfile.ZipInfo, limits: Limits) -> None:
    name = m.filename
    problem = _name_problem(name)
    if problem:
        raise ArchiveError(f"Refused: the zip entry {name[:200]!r} {problem}.")
    mode = m.external_attr >> 16
    if m.create_system == 3 and stat.S_ISLNK(mode):
        raise ArchiveError(f"Refused: the zip entry {name!r} is a symbolic link.")
    kind = stat.S_IFMT(mode)  # 0 when the zip tool stored permissions only
    if m.create_system == 3 and kind and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ArchiveError(f"Refused: the zip entry {name!r} is a device or special file.")
    if m.flag_bits & 0x1:
        raise ArchiveError(f"Refused: the zip entry {name!r} is password-protected.")
    if m.file_size > limits.max_member_bytes:
        raise ArchiveError(
            f"Refused: the zip entry {name!r} unpacks to {m.file_size:,} bytes; the limit "
            f"for one file is {limits.max_member_bytes:,} (SOFTMAX_MAX_ZIP_MEMBER)."
        )
    ratio = m.file_size / max(m.compress_size, 1)
    if m.file_size > RATIO_MIN_BYTES and ratio > limits.max_ratio:
        raise ArchiveError(
            f"Refused: the zip entry {name!r} is compressed {ratio:,.0f} to 1 "
            f"(limit {limits.max_ratio:,.0f}, SOFTMAX_MAX_ZIP_RATIO): this looks like a zip bomb."
        )


def _name_problem(name: str) -> str | None:
    if not name:
        return "has no name"
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "contains a backslash (a Windows path that could escape the folder)"
    if name.startswith("/"):
        return "is an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "starts with a drive letter"
    if len(name) > MAX_NAME_CHARS:
        return "has an overlong name"
    parts = [p for p in name.split("/") if p]
    if any(p == ".." for p in parts):
        return "climbs out of the folder with '..'"
    if any(len(p.encode("utf-8")) > MAX_PART_BYTES for p in parts):
        return f"has an overlong name (a part over {MAX_PART_BYTES} bytes, more than a disk allows)"
    if len(parts) > MAX_DEPTH:
        return f"is nested more than {MAX_DEPTH} folders deep"
    if any(ord(c) < 32 for c in name):
        return "contains control characters"
    return None


def _skip_reason(m: zipfile.ZipInfo) -> str | None:
    parts = PurePosixPath(m.filename).parts
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return HIDDEN
    if not is_image_name(parts[-1]):
        return NOT_IMAGE
    if m.file_size == 0:
        return EMPTY
    return None


def _check_totals(wanted, limits: Limits) -> None:
    total = sum(m.file_size for m in wanted)
    packed = sum(m.compress_size for m in wanted)
    # The ratio rule for the archive as a whole: 500 members just under 1 MiB each would
    # each pass the per-member rule, and together unpack 500 MB from under 1 MB.
    if total > RATIO_MIN_BYTES and total / max(packed, 1) > limits.max_ratio:
        raise ArchiveError(
            f"Refused: the zip's images are compressed {total / max(packed, 1):,.0f} to 1 in all "
            f"(limit {limits.max_ratio:,.0f}, SOFTMAX_MAX_ZIP_RATIO): this looks like a zip bomb."
        )
    if total > limits.max_total_bytes:
        raise ArchiveError(
            f"The zip's images unpack to {total / 1e6:,.0f} MB; the limit is "
            f"{limits.max_total_bytes / 1e6:,.0f} MB (SOFTMAX_MAX_ZIP_BYTES)."
        )


def _relative_paths(wanted, strip: bool, skipped) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    paths = [PurePosixPath(*[p for p in m.filename.split("/") if p]) for m in wanted]
    if strip and _single_wrapper(paths):
        paths = [PurePosixPath(*p.parts[1:]) for p in paths]
    plan, seen = [], {}
    for m, rel in zip(wanted, paths):
        key = str(rel).casefold()  # two names one case-insensitive disk would merge
        if key in seen:
            skipped.append((m.filename, "duplicate name in the zip"))
            continue
        seen[key] = m
        plan.append((m, rel))
    folders = {str(parent).casefold() for _, rel in plan for parent in rel.parents}
    kept = []
    for m, rel in plan:
        if str(rel).casefold() in folders:
            skipped.append((m.filename, "a file and a folder share this name"))
        else:
            kept.append((m, rel))
    return kept


def _single_wrapper(paths) -> bool:
    """True when one top folder wraps the dataset (mydata/cat/0.jpg, train/cat.0.jpg).

    Not when that folder is the only class (cat/0.jpg: its name is the label) nor
    PetImages (which names its own layout).
    """
    if not paths or any(len(p.parts) < 2 for p in paths):
        return False
    roots = {p.parts[0] for p in paths}
    if len(roots) != 1 or roots == {"PetImages"}:
        return False
    deep = all(len(p.parts) >= 3 for p in paths)
    labelled = all(len(p.parts) == 2 and "." in PurePosixPath(p.name).stem for p in paths)
    return deep or labelled


# ---- streaming members out, checking what actually comes out ------------------------


def _extract(zf, plan, tmp: Path, limits: Limits, skipped, progress, n_members) -> ExtractReport:
    report = ExtractReport(extracted=0, skipped=skipped)
    done = n_members - len(plan)
    for m, rel in plan:
        target = tmp.joinpath(*rel.parts)
        written, reason = _copy_member(zf, m, target, limits, report.total_bytes)
        if reason:
            report.skipped.append((m.filename, reason))
        else:
            report.extracted += 1
            report.total_bytes += written
        done += 1
        if progress:
            progress(done, n_members)
    return report


def _copy_member(zf, m, target: Path, limits: Limits, total_so_far: int):
    """Stream one member to target: (bytes written, None) or (0, reason it was skipped)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with zf.open(m) as src:
            head = src.read(64)
            if not readable(head):
                return 0, UNREADABLE
            with open(target, "xb") as out:
                chunk = head
                while chunk:
                    written += len(chunk)
                    _check_stream(m, written, total_so_far + written, limits)
                    out.write(chunk)
                    chunk = src.read(CHUNK)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(
            f"The zip is damaged at {m.filename!r} ({exc}): nothing was imported.", damaged=True
        ) from None
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression method
        raise ArchiveError(f"Cannot unpack {m.filename!r}: {exc}") from None
    if written != m.file_size:
        raise ArchiveError(
            f"Refused: the zip entry {m.filename!r} declares {m.file_size:,} bytes but holds "
            f"{written:,}: the archive is damaged or crafted. Nothing was imported.",
            damaged=True,
        )
    return written, None


def _check_stream(m, written: int, total: int, limits: Limits) -> None:
    if written > m.file_size or written > limits.max_member_bytes:
        raise ArchiveError(
            f"Refused: the zip entry {m.filename!r} unpacks to more than it declares "
            f"({m.file_size:,} bytes): this looks like a zip bomb. Nothing was imported."
        )
    if total > limits.max_total_bytes:
        raise ArchiveError(
            f"Refused: the zip unpacks to more than {limits.max_total_bytes / 1e6:,.0f} MB "
            "(SOFTMAX_MAX_ZIP_BYTES). Nothing was imported."
        )


def _nothing_message(skipped) -> str:
    if not skipped:
        return "The zip holds no image files."
    reasons = {}
    for _name, reason in skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    summary = "; ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
    return f"The zip holds no usable image files (.jpg .jpeg .png .bmp .webp .tif .tiff): {summary}."
