"""The post's feature, safe decoding, and extract_features (cache disabled here)."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib

import cv2
import numpy as np
import pytest

import core.learn.features as features
from core.features import (
    MAX_PIXELS,
    ImageError,
    color_histogram,
    decode_image,
    describe,
    extract_features,
    image_size,
)
from harness.images import encode, jpeg_with_orientation, make_image, write_image


# ---- the post's code, written as in the post (OpenCV 3+ branch) ---------------------
def extract_color_histogram(image, bins=(8, 8, 8)):
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, bins, [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)
    return hist.flatten()


def post_loop(image_paths, bins=(8, 8, 8)):
    data = []
    for image_path in image_paths:
        image = cv2.imread(str(image_path))
        data.append(extract_color_histogram(image, bins))
    return np.array(data)


def varied_images(folder, n=10, exts=(".jpg", ".png")):
    """Images of different colours, sizes and formats, like a real folder."""
    paths = []
    for i in range(n):
        color = ((37 * i) % 256, (91 * i + 40) % 256, (53 * i + 200) % 256)
        size = (40 + 7 * i, 60 + 5 * i)
        paths.append(
            write_image(
                folder / f"img{i:02d}{exts[i % len(exts)]}", color_bgr=color, size=size, noise=30, seed=i
            )
        )
    return paths


# ---- color_histogram -------------------------------------------------------------
def test_color_histogram_is_the_posts_feature():
    img = make_image(size=(90, 120), noise=60, seed=3)
    hist = color_histogram(img)
    assert hist.dtype == np.float32 and hist.shape == (512,)
    np.testing.assert_array_equal(hist, extract_color_histogram(img))
    assert np.linalg.norm(hist) == pytest.approx(1.0, abs=1e-6)  # L2-normalised


def test_bins_set_the_length():
    img = make_image(noise=60)
    assert color_histogram(img, (4, 4, 4)).shape == (64,)
    assert color_histogram(img, (16, 4, 2)).shape == (128,)
    with pytest.raises(ValueError, match="bins"):
        color_histogram(img, (8, 8))
    with pytest.raises(ValueError, match="bins"):
        color_histogram(img, (0, 8, 8))


def test_grayscale_bgra_and_16_bit_arrays_are_converted_first():
    bgr = make_image(noise=60, seed=1)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(
        color_histogram(gray), color_histogram(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    )
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    np.testing.assert_array_equal(color_histogram(bgra), color_histogram(bgr))
    deep = bgr.astype(np.uint16) * 257  # the same picture in 16 bits
    np.testing.assert_array_equal(color_histogram(deep), color_histogram(bgr))
    with pytest.raises(ImageError, match="empty"):
        color_histogram(np.zeros((0, 5, 3), np.uint8))


# ---- decode_image ----------------------------------------------------------------
def test_decode_matches_cv2_imread(tmp_path):
    path = write_image(tmp_path / "a.jpg", make_image(size=(50, 70), noise=50))
    np.testing.assert_array_equal(decode_image(path), cv2.imread(str(path)))
    np.testing.assert_array_equal(decode_image(path.read_bytes()), cv2.imread(str(path)))


def test_fast_decode_halves_jpegs_only(tmp_path):
    img = make_image(size=(64, 96), noise=50)
    assert decode_image(encode(img, ".jpg"), fast=True).shape == (32, 48, 3)
    assert decode_image(encode(img, ".png"), fast=True).shape == (64, 96, 3)


@pytest.mark.parametrize(
    "size, longest, shape",
    [
        ((375, 500), 96, (94, 125, 3)),  # the Kaggle photo for a 96 px thumbnail: 1/4 size
        ((1500, 2000), 96, (188, 250, 3)),  # the largest reduction, 1/8, still covers 96 px
        ((60, 80), 96, (60, 80, 3)),  # smaller than asked: decoded whole
        ((375, 500), 300, (375, 500, 3)),  # 1/2 would be below the longest side asked for
    ],
)
def test_thumbnail_decode_reduces_a_jpeg_only_as_far_as_asked(size, longest, shape):
    img = make_image(size=size, noise=50)
    assert decode_image(encode(img, ".jpg"), longest=longest).shape == shape
    assert decode_image(encode(img, ".png"), longest=longest).shape == (*size, 3)


def test_png_with_alpha_grayscale_and_16_bit_decode_to_8_bit_bgr():
    bgr = make_image(size=(30, 40), noise=40)
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    bgra[:, :, 3] = 0  # fully transparent: the colour is still the colour
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    deep = bgr.astype(np.uint16) * 257
    for arr, expect in [(bgra, bgr), (gray, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)), (deep, bgr)]:
        out = decode_image(encode(arr, ".png"))
        assert out.dtype == np.uint8 and out.shape == (30, 40, 3)
        np.testing.assert_array_equal(out, expect)


def test_exif_orientation_is_applied_as_imread_does(tmp_path):
    img = make_image(size=(20, 50), noise=30)
    data = jpeg_with_orientation(img, 6)  # "rotate 90 clockwise to display"
    assert decode_image(data).shape == (50, 20, 3)
    path = tmp_path / "rotated.jpg"
    path.write_bytes(data)
    np.testing.assert_array_equal(decode_image(data), cv2.imread(str(path)))
    # a histogram does not care which way up a photo is
    np.testing.assert_allclose(describe(data), describe(encode(img, ".jpg")), atol=1e-6)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"this is a text file renamed to .jpg\n", "not an image (or corrupt)"),
        (encode(make_image(size=(80, 80)), ".jpg")[:400], "not an image (or corrupt)"),
        (encode(make_image(size=(80, 80)), ".png")[:300], "not an image (or corrupt)"),
    ],
    ids=["zero-bytes", "text-renamed", "truncated-jpeg", "truncated-png"],
)
def test_unreadable_bytes_raise_image_error_with_a_reason(data, reason):
    with pytest.raises(ImageError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_image(data)


def test_missing_file_and_folder_give_reasons(tmp_path):
    with pytest.raises(ImageError, match="file not found"):
        decode_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        decode_image(tmp_path)


def _png_bomb(width: int, height: int) -> bytes:
    """A real, tiny, all-black grayscale PNG of width x height pixels."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_its_header():
    bomb = _png_bomb(8000, 8000)  # 64 MP in about 60 kB
    assert len(bomb) < 200_000 and MAX_PIXELS < 8000 * 8000
    start = time.perf_counter()
    with pytest.raises(ImageError, match="too large: 8000 x 8000 pixels"):
        decode_image(bomb)
    assert time.perf_counter() - start < 0.5  # refused before decoding anything


def test_header_claiming_20000_square_is_refused():
    fake = _png_bomb(16, 16).replace(struct.pack(">II", 16, 16), struct.pack(">II", 20000, 20000), 1)
    with pytest.raises(ImageError, match="too large: 20000 x 20000"):
        decode_image(fake)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp", ".webp", ".tiff"])
def test_header_sizes_agree_with_the_decoder(ext):
    img = make_image(size=(37, 53), noise=10)
    data = encode(img, ext)
    _fmt, w, h = image_size(data)
    assert (w, h) == (53, 37)
    assert decode_image(data).shape[:2] == (37, 53)


def test_describe_bytes_equals_describe_path(tmp_path):
    path = write_image(tmp_path / "x.png", make_image(noise=40))
    np.testing.assert_array_equal(describe(path), describe(path.read_bytes()))
    np.testing.assert_array_equal(describe(path), describe(io.BytesIO(path.read_bytes())))
    np.testing.assert_array_equal(describe(path), describe(bytearray(path.read_bytes())))


# ---- extract_features (no cache: see test_feature_cache.py) -------------------------
def test_exact_mode_equals_the_posts_loop(tmp_path):
    paths = varied_images(tmp_path, n=12, exts=(".jpg", ".png", ".bmp"))
    feats = extract_features(paths, fast=False, cache_dir=False, workers=1)
    ref = post_loop(paths)
    assert feats.X.shape == (12, 512) and feats.X.dtype == np.float32
    assert np.abs(feats.X - ref).max() < 1e-6
    assert feats.paths == [str(p) for p in paths]


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_exact_mode_in_parallel_equals_the_posts_loop(tmp_path, monkeypatch, backend):
    monkeypatch.setattr(features, "BACKEND", backend)
    monkeypatch.setattr(features, "MIN_PARALLEL", 0)  # parallel even for a few images
    paths = varied_images(tmp_path, n=20)
    callers = set()
    feats = extract_features(
        paths,
        fast=False,
        cache_dir=False,
        workers=2,
        progress=lambda d, t: callers.add(threading.get_ident()),
    )
    assert feats.paths == [str(p) for p in paths]  # rows in input order despite parallelism
    assert np.abs(feats.X - post_loop(paths)).max() < 1e-6
    # Streamlit widgets may only be updated from the script's own thread
    assert callers == {threading.get_ident()}


def photo_like(seed: int, size=(120, 160)) -> np.ndarray:
    """Smooth colour regions, as in photos (pixel noise is what half-size decoding averages)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    return cv2.resize(small, size[::-1], interpolation=cv2.INTER_CUBIC)


def test_fast_mode_histograms_stay_close_to_exact(tmp_path):
    paths = [write_image(tmp_path / f"p{i}.jpg", photo_like(i)) for i in range(8)]
    fast = extract_features(paths, fast=True, cache_dir=False, workers=1).X
    exact = extract_features(paths, fast=False, cache_dir=False, workers=1).X
    cosine = (fast * exact).sum(axis=1)  # rows are L2-normalised
    assert cosine.min() > 0.98


def test_bad_files_are_skipped_with_reasons_never_fatal(tmp_path):
    good = varied_images(tmp_path, n=3)
    bgr = make_image(size=(30, 40), noise=30)
    alpha = tmp_path / "alpha.png"
    alpha.write_bytes(encode(cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), ".png"))
    gray = tmp_path / "gray.png"
    gray.write_bytes(encode(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), ".png"))
    deep = tmp_path / "deep.png"
    deep.write_bytes(encode(bgr.astype(np.uint16) * 257, ".png"))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(encode(make_image(size=(80, 80)), ".jpg")[:500])
    text = tmp_path / "text.jpg"
    text.write_text("hello, I am not a picture")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bomb(8000, 8000))
    missing = tmp_path / "missing.jpg"
    paths = [good[0], empty, alpha, truncated, gray, text, deep, good[1], bomb, missing, good[2]]
    feats = extract_features(paths, cache_dir=False, workers=1)
    assert feats.paths == [str(p) for p in (good[0], alpha, gray, deep, good[1], good[2])]
    assert feats.X.shape == (6, 512)
    reasons = dict(feats.skipped)
    assert reasons == {
        str(empty): "empty file",
        str(truncated): "not an image (or corrupt)",
        str(text): "not an image (or corrupt)",
        str(bomb): f"too large: 8000 x 8000 pixels, limit {MAX_PIXELS:,}",
        str(missing): "file not found",
    }
    # the alpha, grey and 16-bit PNGs describe the same picture as the colour one
    np.testing.assert_allclose(feats.X[1], color_histogram(bgr), atol=1e-6)
    np.testing.assert_allclose(feats.X[3], color_histogram(bgr), atol=1e-6)


def test_progress_is_reported_regularly_from_this_process(tmp_path):
    paths = varied_images(tmp_path, n=40)
    calls = []
    extract_features(paths, cache_dir=False, workers=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 40) and calls[-1] == (40, 40)
    assert len(calls) >= 5  # batches of 8: the bar moves
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_empty_path_list_gives_empty_features():
    feats = extract_features([], cache_dir=False)
    assert feats.X.shape == (0, 512) and feats.paths == [] and feats.skipped == []


def test_workers_must_be_positive(tmp_path):
    paths = varied_images(tmp_path, n=2)
    with pytest.raises(ValueError, match="workers"):
        extract_features(paths, cache_dir=False, workers=0)
