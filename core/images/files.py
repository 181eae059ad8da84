"""Reading an image file that someone else may have planted: one place, one set of rules.

A file in the shared data folder is not trusted: it may be a FIFO (reading it would hang
the server), a huge file, a link out of the data folder, or a file swapped for another
after it was listed. `read_file` opens only regular files, of bounded size, never
through a final symbolic link, and (given the `FileRef` the listing recorded) only the
very file that was listed: same device and inode, so a folder swapped for a link to
somewhere else since the listing opens nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

MAX_FILE_BYTES = 200 * 1024 * 1024  # an image file read into memory; far above any photo


class ImageError(ValueError):
    """An image (or image file) the app will not use; the message says why, for the user."""


class FileRef(NamedTuple):
    """A file as it was found: its real path and what identifies its content."""

    real: str  # the resolved path (links followed), which is what gets opened
    size: int
    mtime_ns: int
    ctime_ns: int  # the inode change time: a user cannot set it back (touch -r sets mtime only)
    dev: int
    ino: int

    @property
    def cache_key(self) -> tuple[str, int, int, int]:
        """What the feature cache knows a file's content by."""
        return self.real, self.size, self.mtime_ns, self.ctime_ns


def ref_of(real: str, st: os.stat_result) -> FileRef:
    return FileRef(real, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev, st.st_ino)


def stat_ref(path: str | os.PathLike) -> FileRef:
    """The FileRef of a path given by a trusted caller (the command line, a test)."""
    real = os.path.realpath(path)
    return ref_of(real, os.stat(real))


def inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Is path, with every link resolved, inside root (itself resolved)?"""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
    except (OSError, ValueError):
        return False


def read_file(path: str | os.PathLike | FileRef, limit: int = MAX_FILE_BYTES, within=None) -> bytes:
    """The bytes of one image file, or ImageError saying why not.

    path: a FileRef from a listing that checked the data-folder boundary: the file opened
    must still be that very file (device and inode). Or a path: then `within`, if given,
    is the folder it must resolve into (the data folder), checked here at open time.
    """
    expect = path if isinstance(path, FileRef) else None
    if expect is not None:
        target = expect.real
    else:
        target = os.path.realpath(path)  # a link is followed once, here, then checked
        if within is not None and not Path(target).is_relative_to(os.path.realpath(within)):
            raise ImageError("refused: the file resolves outside the data folder")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the last part
        # cannot have become a link since the path was resolved.
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except IsADirectoryError:
        raise ImageError("a folder, not an image file") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except OSError as err:
        raise ImageError(f"cannot open the file ({err.strerror or err})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ImageError("a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageError("not a regular file (a pipe, device or socket)")
        if expect is not None and (st.st_dev, st.st_ino) != (expect.dev, expect.ino):
            raise ImageError("refused: the file was replaced since the folder was listed")
        if st.st_size > limit:
            raise ImageError(f"file too large: {st.st_size / 2**20:.0f} MB, limit {limit // 2**20} MB")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:  # grew while being read
            raise ImageError(f"file too large: more than {limit // 2**20} MB")
        return data
    except OSError as err:
        raise ImageError(f"cannot read the file ({err.strerror or err})") from None
    finally:
        os.close(fd)
