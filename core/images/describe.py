"""The post's feature: a 3-D HSV colour histogram, L2-normalised and flattened."""

from __future__ import annotations

import cv2
import numpy as np

from core.images.decode import as_bgr8, decode_image

DEFAULT_BINS = (8, 8, 8)  # the post's 8 hue x 8 saturation x 8 value bins
MAX_BINS = 256  # per channel: OpenCV's calcHist over 8-bit values has no more


def check_bins(bins) -> tuple[int, int, int]:
    try:
        bins = tuple(int(b) for b in bins)
    except (TypeError, ValueError):
        raise ValueError("bins must be three integers, e.g. (8, 8, 8)") from None
    if len(bins) != 3 or not all(1 <= b <= MAX_BINS for b in bins):
        raise ValueError(f"bins must be three integers between 1 and {MAX_BINS}, got {bins}")
    return bins


_CHANNELS = [0, 1, 2]
_RANGES = [0, 180, 0, 256, 0, 256]  # OpenCV's 8-bit hue is 0-179; saturation and value 0-255


def color_histogram(image_bgr: np.ndarray, bins=DEFAULT_BINS) -> np.ndarray:
    """The post's extract_color_histogram: (prod(bins),) float32."""
    image = as_bgr8(image_bgr)
    return _histogram(cv2.cvtColor(image, cv2.COLOR_BGR2HSV), check_bins(bins))


def _histogram(hsv: np.ndarray, bins: tuple[int, int, int]) -> np.ndarray:
    hist = cv2.calcHist([hsv], _CHANNELS, None, list(bins), _RANGES)
    cv2.normalize(hist, hist)  # default: L2 norm, as the post (OpenCV 3+ branch)
    return hist.reshape(-1)


def describe(data_or_path, bins=DEFAULT_BINS, fast: bool = False) -> np.ndarray:
    """The post's feature of one image given as bytes, a path or a FileRef.

    The same numbers as color_histogram(decode_image(...)), with less work: no EXIF
    orientation (rotating moves pixels, it does not change their histogram) and the HSV
    conversion done in place in the freshly decoded image."""
    bins = check_bins(bins)
    image = decode_image(data_or_path, fast=fast, orient=False)  # our own array: free to overwrite
    return _histogram(cv2.cvtColor(image, cv2.COLOR_BGR2HSV, dst=image), bins)
