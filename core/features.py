"""The post's feature and its extraction over many images (names other code relies on).

The work is done in core.images (one image) and core.learn.features (a folder, in
parallel, through the disk cache); this module keeps the contract's names importable.
"""

from core.images import (
    DEFAULT_BINS,
    MAX_FILE_BYTES,
    MAX_PIXELS,
    ImageError,
    color_histogram,
    decode_image,
    describe,
    image_size,
)
from core.learn.features import BACKEND, ExtractionError, Features, extract_features

__all__ = [
    "BACKEND",
    "DEFAULT_BINS",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "ExtractionError",
    "Features",
    "ImageError",
    "color_histogram",
    "decode_image",
    "describe",
    "extract_features",
    "image_size",
]
