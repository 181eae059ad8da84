"""Small JPEGs of images for the pages: bounded on both sides, never the photo itself."""

from __future__ import annotations

import base64
import functools
import os

import cv2
import numpy as np

from core.images.decode import decode_image
from core.images.files import ImageError

DISPLAY_SIDE = 480  # px: the Classify page's picture of an upload
THUMBNAILS = 2048  # file thumbnails remembered (x ~3 KB)


PAD = (255, 255, 255)  # a square thumbnail's border: the page's white


def thumbnail(image_bgr: np.ndarray, longest: int = DISPLAY_SIDE, square: bool = False) -> bytes | None:
    """A JPEG whose longer side is at most `longest` (a 400 x 70000 strip stays inside the
    box too, however thin it gets), or None if it cannot be encoded. `square`: the whole
    image centred on a white `longest` x `longest` square, so that a gallery's rows line up."""
    h, w = image_bgr.shape[:2]
    scale = min(1.0, longest / max(h, w))
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image_bgr = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    if square:
        h, w = image_bgr.shape[:2]
        top, left = (longest - h) // 2, (longest - w) // 2
        image_bgr = cv2.copyMakeBorder(
            image_bgr, top, longest - h - top, left, longest - w - left, cv2.BORDER_CONSTANT, value=PAD
        )
    try:
        ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    except cv2.error:
        return None
    return buf.tobytes() if ok else None


def file_thumbnail(path, longest: int = 96, within=None, square: bool = False) -> bytes | None:
    """A JPEG thumbnail of an image file, or None if it is gone, unreadable or outside
    `within`. Remembered until the file changes: the Train page shows the same few dozen
    on every rerun."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _file_thumbnail(
        os.fspath(path), longest, st.st_size, st.st_mtime_ns, st.st_ctime_ns, within, square
    )


@functools.lru_cache(maxsize=THUMBNAILS)
def _file_thumbnail(
    path: str, longest: int, _size: int, _mtime: int, _ctime: int, within, square: bool
) -> bytes | None:
    from core.images.files import read_file

    try:
        data = read_file(path, within=within)
        image = decode_image(data, longest=longest)  # a JPEG decoded at 1/2 to 1/8 size
    except (ImageError, OSError, ValueError):
        return None
    return thumbnail(image, longest, square)


def data_uri(jpeg: bytes | None) -> str | None:
    """A JPEG as a data: URI for a table's image column (None stays None)."""
    return None if jpeg is None else "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
