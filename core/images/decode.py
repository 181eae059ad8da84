"""Decoding an image into pixels, with the memory it may take bounded before it starts.

Every decode in the app comes here. The header gives the size the decoder will
allocate; an image whose size is over the pixel limit, or whose header does not give a
size at all, is refused before OpenCV sees it (OpenCV's own limit, set in core/__init__,
is the second guard). EXIF orientation is applied as cv2.imread does; grayscale, alpha
and 16-bit images come back as 8-bit BGR.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core import MAX_PIXELS
from core.images.files import FileRef, ImageError, read_file
from core.images.sniff import READABLE, image_size, sniff

_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def check_pixels(w: int, h: int) -> None:
    if w <= 0 or h <= 0:
        raise ImageError(f"not an image (or corrupt): header says {w} x {h} pixels")
    if w * h > MAX_PIXELS:
        raise ImageError(f"too large: {w} x {h} pixels, limit {MAX_PIXELS:,}")


def _as_bytes(data) -> bytes:
    if isinstance(data, (str, Path, FileRef, os.PathLike)):
        return read_file(data)
    if hasattr(data, "getvalue"):  # a Streamlit UploadedFile or io.BytesIO
        data = data.getvalue()
    return data if isinstance(data, bytes) else bytes(data)


# Fast features: a JPEG is decoded at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling: the
# Huffman decoding is the same, the inverse DCT, upsampling, colour conversion and the
# histogram get 4x, 16x, 64x fewer pixels): at 1/2 size, or smaller where at least this
# many pixels are left, as many as a Kaggle photo (500 x 375) has at 1/2. At 1/2 every
# model the app trains stays within half a point of exact features; at 1/4, a Kaggle
# photo's 12,000 pixels cost the Linear SVM 0.57 point (bench/bench_features.py, 25,000
# images). A 12-megapixel phone photo decodes at 1/8 and still keeps 190,000 pixels.
FAST_MIN_PIXELS = 40_000


def _reduction(header: tuple[str, int, int], fast: bool, longest: int | None) -> int:
    """JPEGs decode at 1/2, 1/4 or 1/8 size for a fraction of the work (libjpeg's DCT scaling)."""
    if header[0] != "jpeg":
        return 1
    factor = 1
    w, h = header[1], header[2]
    if fast:
        factor = max([2, *(f for f in (4, 8) if (w // f) * (h // f) >= FAST_MIN_PIXELS)])
    if longest:
        side = max(w, h)
        factor = max([factor, *(f for f in (2, 4, 8) if side // f >= longest)])
    return factor


def gate(data) -> tuple[str, int, int]:
    """The decode gate: what the bytes are and how large the image says it is, checked
    against the pixel limit before any decoder sees them; (format, width, height) or
    ImageError. data: bytes or a bytes-like view (a reused read buffer)."""
    if len(data) == 0:
        raise ImageError("empty file")
    kind = sniff(data)
    if kind not in READABLE:
        raise ImageError("not an image (or corrupt)" if kind is None else f"{kind} images are not supported")
    header = image_size(data)
    if header is None:
        raise ImageError(
            f"refused: the {kind} header does not say how large the image is (corrupt or crafted)"
        )
    check_pixels(header[1], header[2])
    return header


def decode_image(data, fast: bool = False, longest: int | None = None, orient: bool = True) -> np.ndarray:
    """Bytes, an uploaded file, a path or a FileRef -> (h, w, 3) uint8 BGR, or ImageError.

    fast=True decodes JPEGs at half size; longest=n decodes a JPEG at 1/2, 1/4 or 1/8 size
    when its longest side stays at least n (thumbnails). orient=False skips the EXIF
    orientation (a rotation only moves pixels: a colour histogram is the same without it,
    and the EXIF block is not parsed).
    """
    data = _as_bytes(data)
    header = gate(data)
    flag = _REDUCED[_reduction(header, fast, longest)]
    if not orient:
        flag |= cv2.IMREAD_IGNORE_ORIENTATION
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise ImageError("not an image (or corrupt)")
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image  # what IMREAD_COLOR gives for every format: nothing to convert
    return as_bgr8(image)


def as_bgr8(image: np.ndarray) -> np.ndarray:
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
