"""Images: the one place that sniffs, sizes, reads, decodes, describes and thumbnails them.

sniff.py      what the first bytes and the header say (format, width, height)
files.py      reading a planted file safely (regular, bounded, the file that was listed)
decode.py     pixels, with the memory bounded by the pixel limit before decoding
describe.py   the post's feature: the HSV colour histogram
thumbnail.py  small JPEGs for the pages, bounded on both sides
"""

from core import MAX_PIXELS
from core.images.decode import check_pixels, decode_image
from core.images.describe import DEFAULT_BINS, MAX_BINS, check_bins, color_histogram, describe
from core.images.files import MAX_FILE_BYTES, FileRef, ImageError, read_file, stat_ref
from core.images.sniff import image_size, readable, sniff, upload_problem
from core.images.thumbnail import data_uri, file_thumbnail, thumbnail

__all__ = [
    "DEFAULT_BINS",
    "MAX_BINS",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "FileRef",
    "ImageError",
    "check_bins",
    "check_pixels",
    "color_histogram",
    "data_uri",
    "decode_image",
    "describe",
    "file_thumbnail",
    "image_size",
    "read_file",
    "readable",
    "sniff",
    "stat_ref",
    "thumbnail",
    "upload_problem",
]
