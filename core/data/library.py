"""The datasets in the data folder: listing them, naming them, and adding zips to them.

The app reads datasets only from `core.paths.data_dir()` (SOFTMAX_DATA_DIR): users pick
a dataset by name, never by typing a server path, and every name is checked so that it
cannot reach outside that folder.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.data.archive import ExtractReport, safe_extract_zip
from core.data.dataset import DatasetError, load_dataset

SYNTHETIC_MARKER = "SYNTHETIC.txt"
MAX_NAME_CHARS = 64


class LibraryError(ValueError):
    """A dataset name that cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # the folder's name inside the data dir
    path: Path  # give this to load_dataset, with within= the data folder
    n_images: int
    classes: list[str]
    synthetic: bool  # made by core.demo: never the real experiment
    layout: str  # as core.dataset reports it: kaggle-flat, class-folders, petimages

    @property
    def label(self) -> str:
        """What a select box shows: 'name — N images, K classes'."""
        text = f"{self.name} — {self.n_images:,} images, {len(self.classes)} classes"
        return text + " (synthetic demo)" if self.synthetic else text


# folder path -> (signature of its folders' mtimes, DatasetInfo or problem text)
_CACHE: dict[str, tuple[tuple, DatasetInfo | str]] = {}
_CACHE_LOCK = threading.Lock()


def _root(data_dir) -> Path:
    return Path(data_dir).resolve() if data_dir is not None else paths.data_dir()


def list_datasets(data_dir=None) -> tuple[list[DatasetInfo], list[str]]:
    """Every usable dataset in the data dir (sorted by name), and a message per unusable folder."""
    root = _root(data_dir)
    if not root.is_dir():
        return [], []
    infos, problems = [], []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith(".") or not _is_dir_inside(entry, root):
            continue
        result = _describe_cached(Path(entry.path), root)
        if isinstance(result, DatasetInfo):
            infos.append(result)
        else:
            problems.append(f"{entry.name}: {result}")
    return infos, problems


def _is_dir_inside(entry: os.DirEntry, root: Path) -> bool:
    try:
        if not entry.is_dir():
            return False
        return Path(entry.path).resolve().is_relative_to(root)
    except OSError:
        return False


def _describe_cached(folder: Path, root: Path) -> DatasetInfo | str:
    signature = _signature(folder)
    key = str(folder)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit and hit[0] == signature:
        return hit[1]
    result = _describe(folder, root)
    with _CACHE_LOCK:
        _CACHE[key] = (signature, result)
    return result


def _signature(folder: Path, depth: int = 2) -> tuple:
    """The mtimes of the folder and its subfolders (2 levels): a file added or removed changes one."""
    out = []
    stack = [(str(folder), 0)]
    while stack:
        path, level = stack.pop()
        try:
            out.append((path, os.stat(path).st_mtime_ns))
            if level < depth:
                with os.scandir(path) as it:
                    for e in it:
                        if e.is_dir(follow_symlinks=False):
                            stack.append((e.path, level + 1))
        except OSError:
            out.append((path, None))
    return tuple(sorted(out, key=lambda t: t[0]))


def _describe(folder: Path, root: Path) -> DatasetInfo | str:
    try:
        ds = load_dataset(folder, within=root)
    except DatasetError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return DatasetInfo(
        name=folder.name,
        path=folder,
        n_images=len(ds.paths),
        classes=list(ds.classes),
        synthetic=is_synthetic_folder(folder),
        layout=ds.layout,
    )


def describe_dataset(name: str, data_dir=None) -> DatasetInfo:
    """The DatasetInfo of one dataset by name; LibraryError if missing, DatasetError if unusable."""
    folder = resolve_dataset(name, data_dir)
    result = _describe_cached(folder, _root(data_dir))
    if isinstance(result, str):
        raise DatasetError(f"{name}: {result}")
    return result


def _check_name(name) -> str:
    """A problem with name as one folder name, or ''."""
    if not isinstance(name, str) or not name:
        return "no dataset name given"
    if "\x00" in name:
        return "the name contains a NUL character"
    if len(name) > 255:
        return "the name is too long"
    if name in (".", "..") or "/" in name or "\\" in name or os.path.isabs(name):
        return "a dataset is named by its folder in the data dir, not by a path"
    if len(name) >= 2 and name[1] == ":":
        return "a dataset is named by its folder in the data dir, not by a path"
    if name.startswith("."):
        return "hidden folders are not datasets"
    return ""


def resolve_dataset(name: str, data_dir=None) -> Path:
    """The folder of dataset `name` inside the data dir, or LibraryError (never a path outside)."""
    root = _root(data_dir)
    problem = _check_name(name)
    if problem:
        raise LibraryError(f"Refused dataset name {str(name)[:80]!r}: {problem}.")
    folder = root / name
    try:
        real = folder.resolve()
    except (OSError, RuntimeError):
        raise LibraryError(f"Dataset {name!r} cannot be opened.") from None
    if not real.is_relative_to(root):
        raise LibraryError(f"Refused dataset {name!r}: it points outside the data dir {root}.")
    if not real.is_dir():
        raise LibraryError(f"No dataset named {name!r} in the data dir {root} (was it removed?).")
    return folder


def sanitize_name(raw: str) -> str:
    """A safe folder name from a file name: 'My Photos (2).zip' -> 'my-photos-2'."""
    stem = os.path.basename(str(raw).replace("\\", "/"))
    stem = re.sub(r"\.zip$", "", stem, flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")
    return slug[:MAX_NAME_CHARS].strip("-_") or "dataset"


def unique_name(raw: str, data_dir=None) -> str:
    """sanitize_name(raw), with -2, -3, ... added if that folder exists or is reserved."""
    root = _root(data_dir)
    base = sanitize_name(raw)
    name, n = base, 1
    while _taken(root, name):
        n += 1
        name = f"{base[: MAX_NAME_CHARS - 6]}-{n}"
    return name


RESERVED = ".uploads"  # hidden: <name>.reserved while a zip is being unpacked as <name>


def _taken(root: Path, name: str) -> bool:
    return (
        (root / name).exists()
        or (root / name).is_symlink()
        or (root / RESERVED / f"{name}.reserved").exists()
    )


def reserve_name(raw: str, data_dir=None) -> tuple[str, Path]:
    """A new dataset name, reserved atomically: sessions unpacking zips of the same name at
    once get name, name-2, name-3... Returns (name, the reservation file to remove)."""
    root = _root(data_dir)
    for _ in range(1000):
        name = unique_name(raw, root)
        mark = root / RESERVED / f"{name}.reserved"
        try:
            mark.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except (FileExistsError, FileNotFoundError):
            continue  # another session reserved it a moment ago (or tidied the folder): again
        if (root / name).exists():  # made meanwhile without a reservation (the demo set)
            mark.unlink(missing_ok=True)
            continue
        return name, mark
    raise LibraryError("Could not find a free name for the dataset.")


# ---- the data folder's quota ---------------------------------------------------------

DEFAULT_MAX_DATA_BYTES = 20 * 1024**3  # every dataset of one server together; the Kaggle set is ~0.8 GB


def max_data_bytes() -> int:
    try:
        return paths.positive_number("SOFTMAX_MAX_DATA_BYTES", DEFAULT_MAX_DATA_BYTES)
    except paths.SettingError as exc:
        raise LibraryError(str(exc)) from None


def used_bytes(data_dir=None) -> int:
    """Bytes of the regular files in the data folder (links not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(_root(data_dir)):
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def room_left(data_dir=None) -> int:
    """Bytes the data folder may still take before its quota (SOFTMAX_MAX_DATA_BYTES)."""
    return max_data_bytes() - used_bytes(data_dir)


@dataclass(frozen=True)
class ImportResult:
    name: str
    report: ExtractReport
    info: DatasetInfo | None  # None when the files are there but load_dataset refuses them
    problem: str  # load_dataset's message in that case, else ''


def import_zip(src, filename: str, data_dir=None, **limits) -> ImportResult:
    """Extract an uploaded dataset zip into the data dir under a new safe name.

    Raises core.data.archive.ArchiveError (nothing written) for a hostile or broken zip,
    or one that would take the data folder over its quota (SOFTMAX_MAX_DATA_BYTES).
    A zip whose images load_dataset refuses (one class only, say) stays, with `problem` set.
    """
    root = _root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    room = room_left(root)
    name, mark = reserve_name(filename, root)
    try:
        report = safe_extract_zip(src, root / name, strip_single_root=True, room=room, **limits)
    finally:
        mark.unlink(missing_ok=True)
        try:
            mark.parent.rmdir()  # the last reservation: leave no trace
        except OSError:
            pass
    result = _describe_cached(root / name, root)
    if isinstance(result, str):
        return ImportResult(name, report, None, result)
    return ImportResult(name, report, result, "")


def preferred_dataset(infos: list[DatasetInfo]) -> DatasetInfo | None:
    """The dataset to offer first: the post's Dogs vs Cats photos (the largest folder of
    cats and dogs), else the largest real dataset, else the synthetic demo."""
    real = [d for d in infos if not d.synthetic]
    cats_dogs = [d for d in real if {c.lower() for c in d.classes} == {"cat", "dog"}]
    for group in (cats_dogs, real, infos):
        if group:
            return max(group, key=lambda d: (d.n_images, d.name))
    return None


def is_synthetic_folder(folder) -> bool:
    """Made by core.data.demo: never the real experiment (its marker file says so)."""
    return (Path(folder) / SYNTHETIC_MARKER).is_file()
