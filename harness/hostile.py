"""Inputs an attacker would send: made here so that the security tests and the benchmark
that measures them share one copy of each."""

from __future__ import annotations

import io
import json
import struct
import zlib

import numpy as np

from harness.images import encode, make_image


def gigapixel_jpeg() -> bytes:
    """630 bytes that libjpeg decodes as 20000 x 20000 (1.2 GB): a small JPEG whose frame
    header says 20000 x 20000, with a stray byte before it that once hid it from the parser."""
    small = encode(make_image(size=(8, 8)), ".jpg")
    sof = next(i for i in range(2, len(small) - 1) if small[i] == 0xFF and small[i + 1] == 0xC0)
    frame = bytearray(small[sof:])
    frame[5:9] = struct.pack(">HH", 20000, 20000)
    return small[:sof] + b"\x00" + bytes(frame)


def model_npz(**arrays) -> bytes:
    """A model file's bytes from its arrays (compressed, as a bomb would be)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def model_header(bins=(8, 8, 8), classes=("cat", "dog"), pad: int = 0) -> np.ndarray:
    """A model file's JSON header as the uint8 array it is stored as (pad: spaces after it)."""
    head = {
        "format_version": 1,
        "classes": list(classes),
        "kind": "sgd-log",
        "bins": list(bins),
        "fast": True,
        "meta": {},
    }
    return np.frombuffer((json.dumps(head) + " " * pad).encode(), np.uint8)


def overlapping_zip(n: int = 200) -> bytes:
    """One compressed stream, and n directory entries that all point at it."""
    payload = b"\xff\xd8\xff" + b"\x00" * (4 * 1024**2)
    body = zlib.compress(payload, 9)[2:-4]  # raw deflate
    crc, name = zlib.crc32(payload), b"cat/0.jpg"
    local = (
        struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), len(payload), len(name), 0)
        + name
    )
    out, central = local + body, b""
    for i in range(n):
        nm = f"cat/{i}.jpg".encode()
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(body),
                len(payload),
                len(nm),
                0,
                0,
                0,
                0,
                0,
                0,
            )
            + nm
        )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), len(out), 0)
    return out + central + end
