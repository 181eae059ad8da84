"""What an image file says it is, from its first bytes and its header alone.

The one sniffer of the app: uploads, zip members and dataset files are all judged here,
before any decoder sees them. A name or an extension says nothing (a user chose it);
the bytes do. `image_size` reads the width and height the way the decoder will find
them, so that the pixel limit is checked before a single pixel is allocated.
"""

from __future__ import annotations

import struct

# Formats OpenCV decodes for this app (the dataset extensions .jpg .png .bmp .webp .tif).
READABLE = ("JPEG", "PNG", "BMP", "WEBP", "TIFF")
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic):
# the frame header that holds the image's size. 0xC4 (DHT), 0xC8 (JPG) and 0xCC (DAC)
# share the range but are not frames.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn stand alone
_SOS, _EOI = 0xDA, 0xD9


def sniff(data: bytes) -> str | None:
    """'JPEG', 'PNG', 'BMP', 'WEBP', 'GIF', 'TIFF', or None for anything else.

    data: bytes or any bytes-like object (a memoryview of a reused read buffer)."""
    head = bytes(data[:12])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def readable(data: bytes) -> bool:
    """Do the first bytes announce a format this app decodes?"""
    return sniff(data) in READABLE


def upload_problem(name: str, data: bytes) -> str | None:
    """Why an uploaded file cannot be classified, judged from its bytes; None if it may be."""
    if not data:
        return "the file is empty (0 bytes)"
    kind = sniff(data)
    if kind == "GIF":
        return "GIF images are not supported (a GIF may hold many frames): save it as JPEG or PNG"
    if kind == "TIFF":
        return "TIFF files are not accepted here: save it as JPEG or PNG"
    if kind is None:
        looks_text = all(b in b"\t\n\r" or 32 <= b < 127 for b in data[:64])
        what = "text" if looks_text else "not an image this page reads"
        return f"this file is {what}, not a JPEG, PNG, BMP or WebP image (whatever its name '{name}' says)"
    return None


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the header alone, or None when it cannot be read."""
    kind = sniff(data)
    try:
        if kind == "PNG" and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return "png", w, h
        if kind == "JPEG":
            return _jpeg_size(data)
        if kind == "BMP" and len(data) >= 26:
            w, h = struct.unpack("<ii", data[18:26])
            return "bmp", abs(w), abs(h)
        if kind == "WEBP":
            return _webp_size(data)
        if kind == "TIFF":
            return _tiff_size(data)
        if kind == "GIF":
            w, h = struct.unpack("<HH", data[6:10])
            return "gif", w, h
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[str, int, int] | None:
    """The first frame header's size, found the way libjpeg finds it.

    libjpeg skips any bytes that are not a marker ("extraneous bytes before marker") and
    any 0xFF fill bytes, so a stray byte must not hide the frame from this parser either:
    it reads the same frame the decoder will. No frame before the scan data: None."""
    i, n = 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            i += 1  # extraneous byte: libjpeg warns and skips it
            continue
        while i < n and data[i] == 0xFF:
            i += 1  # fill bytes
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker in _NO_LENGTH:
            continue
        if marker in (_SOS, _EOI):
            return None  # scan data or the end before any frame header
        if i + 2 > n:
            return None
        (length,) = struct.unpack(">H", data[i : i + 2])
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 3 : i + 7])
            return "jpeg", w, h
        if length < 2:
            return None
        i += length
    return None


def _webp_size(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return "webp", w, h
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return "webp", w & 0x3FFF, h & 0x3FFF
    return None


def _tiff_size(data: bytes) -> tuple[str, int, int] | None:
    end = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", data[4:8])
    (count,) = struct.unpack(end + "H", data[ifd : ifd + 2])
    found = {}
    for k in range(count):
        e = ifd + 2 + 12 * k
        tag, typ = struct.unpack(end + "HH", data[e : e + 4])
        if tag in (256, 257):
            fmt = "H" if typ == 3 else "I"
            (found[tag],) = struct.unpack(end + fmt, data[e + 8 : e + 8 + struct.calcsize(fmt)])
    if 256 in found and 257 in found:
        return "tiff", found[256], found[257]
    return None
