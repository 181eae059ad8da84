"""Images the tests and benchmarks make themselves (no data we did not create)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def make_image(color_bgr=(40, 120, 200), size=(48, 64), noise=20, seed=0) -> np.ndarray:
    """A (h, w, 3) uint8 BGR image of one colour plus noise, so histograms differ."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = np.empty((h, w, 3), np.int16)
    img[:] = color_bgr
    img += rng.integers(-noise, noise + 1, size=img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(img: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok, ext
    return buf.tobytes()


def write_image(path: Path, img: np.ndarray | None = None, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if img is None:
        img = make_image(**kw)
    path.write_bytes(encode(img, path.suffix.lower() or ".jpg"))
    return path


# Reddish "cats" and bluish "dogs": separable by colour, as a histogram model needs.
CLASS_COLORS = {"cat": (30, 60, 200), "dog": (200, 120, 30), "bird": (40, 200, 60)}


def make_kaggle_folder(root: Path, per_class: int = 12, classes=("cat", "dog")) -> Path:
    """A flat Kaggle-style folder: cat.0.jpg, dog.0.jpg, ..."""
    root.mkdir(parents=True, exist_ok=True)
    for c in classes:
        for i in range(per_class):
            write_image(root / f"{c}.{i}.jpg", color_bgr=CLASS_COLORS[c], seed=i)
    return root


def make_class_folders(root: Path, per_class: int = 12, classes=("cat", "dog")) -> Path:
    """One folder per class: root/<class>/<i>.jpg."""
    for c in classes:
        for i in range(per_class):
            write_image(root / c / f"{i}.jpg", color_bgr=CLASS_COLORS[c], seed=i)
    return root


def make_zip(entries, compression=None) -> bytes:
    """A zip's bytes from entries (name or ZipInfo, bytes); deflated unless told otherwise."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if compression is None else compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def jpeg_with_orientation(img, orientation: int) -> bytes:
    """A JPEG whose EXIF says 'rotate to display' (an APP1 segment holding only the
    Orientation tag, after SOI)."""
    import struct

    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = encode(img, ".jpg")
    return data[:2] + app1 + data[2:]
