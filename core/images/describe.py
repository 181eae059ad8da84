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


def color_histogram(image_bgr: np.ndarray, bins=DEFAULT_BINS) -> np.ndarray:
    """The post's extract_color_histogram: (prod(bins),) float32."""
    image = as_bgr8(image_bgr)
    bins = check_bins(bins)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(bins), [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)  # default: L2 norm, as the post (OpenCV 3+ branch)
    return hist.flatten()


def describe(data_or_path, bins=DEFAULT_BINS, fast: bool = False) -> np.ndarray:
    """The post's feature of one image given as bytes, a path or a FileRef."""
    return color_histogram(decode_image(data_or_path, fast=fast), bins)
