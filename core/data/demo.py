"""A small synthetic dataset the app makes itself, so the Train page works offline in seconds.

Three made-up classes of 64x64 PNG images whose colours differ by class (a warm, a green
and a blue palette, with random blobs and overlap so the classifier is good but not
perfect). It is written as dataset "synthetic-demo" with a SYNTHETIC.txt marker, which
the library reads to label it "(synthetic demo)": it must never pass for Dogs vs Cats.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from core import paths
from core.data.library import SYNTHETIC_MARKER

DEMO_NAME = "synthetic-demo"
SIZE = 64  # small: the whole set is ~120 files of a few KB
# Hue centres on OpenCV's 0-180 scale; the spread makes neighbouring classes overlap.
PALETTES = {"warm": 18, "green": 60, "blue": 110}

MARKER_TEXT = """\
SYNTHETIC DEMO DATA, made by the app (core/demo.py), not photographs.

{n} images per class of random coloured blobs whose hues differ by class
({classes}). They let the Train page run offline in seconds. Results on
this set say nothing about the post's Dogs vs Cats experiment.
"""


def demo_image(hue: int, rng: np.random.Generator) -> np.ndarray:
    """A (SIZE, SIZE, 3) uint8 BGR image: a background and blobs with hues near `hue`."""
    hsv = np.empty((SIZE, SIZE, 3), np.uint8)
    hsv[..., 0] = _hue(hue + rng.normal(0, 20))
    hsv[..., 1] = rng.integers(40, 200)
    hsv[..., 2] = rng.integers(60, 220)
    for _ in range(rng.integers(3, 8)):
        center = tuple(int(c) for c in rng.integers(0, SIZE, 2))
        radius = int(rng.integers(4, SIZE // 3))
        colour = (
            _hue(hue + rng.normal(0, 30)),
            int(rng.integers(30, 256)),
            int(rng.integers(30, 256)),
        )
        cv2.circle(hsv, center, radius, colour, thickness=-1)
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    noise = rng.integers(-12, 13, bgr.shape)
    return np.clip(bgr.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _hue(value: float) -> int:
    # clipped, not wrapped: a wrapped warm hue (179) would look like magenta, not overlap
    return int(np.clip(value, 0, 179))


def make_demo_dataset(data_dir=None, per_class: int = 40, seed: int = 0) -> Path:
    """Write (or find) data_dir/synthetic-demo/<class>/<i>.png and its marker; return the folder."""
    root = Path(data_dir).resolve() if data_dir is not None else paths.data_dir()
    dest = root / DEMO_NAME
    if (dest / SYNTHETIC_MARKER).is_file():
        return dest
    if dest.exists():
        raise FileExistsError(
            f"{dest} exists but is not the app's synthetic demo (no {SYNTHETIC_MARKER}); "
            "move it away to make the demo set."
        )
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=root))
    try:
        _write_images(tmp, per_class, seed)
        (tmp / SYNTHETIC_MARKER).write_text(
            MARKER_TEXT.format(n=per_class, classes=", ".join(PALETTES)), encoding="utf-8"
        )
        os.chmod(tmp, 0o755)
        os.rename(tmp, dest)  # another session may have won the race: then use its set
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if (dest / SYNTHETIC_MARKER).is_file():
            return dest
        raise
    return dest


def _write_images(folder: Path, per_class: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for cls, hue in PALETTES.items():
        (folder / cls).mkdir()
        for i in range(per_class):
            ok, buf = cv2.imencode(".png", demo_image(hue, rng))
            if not ok:
                raise OSError("OpenCV could not encode a PNG")
            (folder / cls / f"{cls}.{i}.png").write_bytes(buf.tobytes())
