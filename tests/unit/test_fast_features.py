"""The fast extraction path: the decode size it picks, the same numbers as the plain
path (no EXIF orientation, HSV in place), batches in parallel, and the cache's blocks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import core.learn.feature_cache as feature_cache
from core.features import extract_features
from core.images import color_histogram, decode_image, describe, stat_ref
from core.images.decode import FAST_MIN_PIXELS
from core.learn.feature_cache import FeatureCache
from harness.images import encode, jpeg_with_orientation, make_image, write_image


@pytest.mark.parametrize(
    "size, shape",
    [
        ((375, 500), (188, 250)),  # a Kaggle photo: half size (1/4 would leave 11,750 pixels)
        ((60, 80), (30, 40)),  # small: still half size, as before
        ((750, 1000), (188, 250)),  # 1/4 leaves 46,875 pixels
        ((3000, 4000), (375, 500)),  # a 12-megapixel photo: 1/8, 187,500 pixels
    ],
)
def test_fast_decode_is_as_small_as_the_pixels_left_allow(size, shape):
    data = encode(make_image(size=size, noise=40), ".jpg")
    out = decode_image(data, fast=True)
    assert out.shape[:2] == shape
    assert out.shape[0] * out.shape[1] >= min(FAST_MIN_PIXELS, size[0] * size[1] // 4)
    assert decode_image(encode(make_image(size=size), ".png"), fast=True).shape[:2] == size  # JPEGs only


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_describe_equals_the_histogram_of_the_displayed_image(tmp_path, fast, orientation):
    path = tmp_path / "photo.jpg"
    path.write_bytes(
        jpeg_with_orientation(make_image(size=(90, 140), noise=60, seed=orientation), orientation)
    )
    shown = decode_image(path, fast=fast)  # EXIF applied, as cv2.imread does
    np.testing.assert_array_equal(describe(path, fast=fast), color_histogram(shown))
    if not fast:  # the post's own loop: cv2.imread, then the histogram
        np.testing.assert_array_equal(describe(path), color_histogram(cv2.imread(str(path))))


def test_describe_leaves_the_callers_image_alone():
    img = make_image(size=(40, 60), noise=50)
    before = img.copy()
    color_histogram(img)
    np.testing.assert_array_equal(img, before)


def test_threads_give_the_rows_and_reasons_of_one_by_one(tmp_path):
    paths = []
    for i in range(70):
        paths.append(
            write_image(
                tmp_path / f"img{i:03d}.jpg",
                color_bgr=(3 * i, 255 - 3 * i, 90),
                size=(30, 40),
                noise=30,
                seed=i,
            )
        )
        if i % 17 == 0:
            bad = tmp_path / f"bad{i:03d}.jpg"
            bad.write_bytes(b"\xff\xd8\xff" + b"garbage" * 10)
            paths.append(bad)
    one = extract_features(paths, cache_dir=False, workers=1)
    many = extract_features(paths, cache_dir=False, workers=3)
    np.testing.assert_array_equal(many.X, one.X)
    assert many.paths == one.paths and many.skipped == one.skipped and len(one.skipped) == 5
    for p, row in zip(one.paths, one.X):
        np.testing.assert_array_equal(row, describe(p, fast=True))


def test_cache_blocks_round_trip_and_a_merge_looks_up_only_unknown_files(tmp_path, monkeypatch):
    files = [write_image(tmp_path / "imgs" / f"i{i}.jpg", size=(20, 30), seed=i) for i in range(6)]
    keys = [stat_ref(p).cache_key for p in files]
    fc = FeatureCache(tmp_path / "cache", (8, 8, 8), True)
    rows = np.arange(6 * 512, dtype=np.float32).reshape(6, 512)
    fc.put_many(keys[:3], rows[:3], {})
    fc.put_many(keys[3:], rows[3:], {1: "not an image"})
    fc.flush()
    back = FeatureCache(tmp_path / "cache", (8, 8, 8), True).load()
    out = np.zeros((6, 512), np.float32)
    found, reasons = back.gather(keys, out, list(range(6)))
    assert found == [True] * 6 and reasons == {4: "not an image"}
    np.testing.assert_array_equal(out[[0, 1, 2, 3, 5]], rows[[0, 1, 2, 3, 5]])
    # A merge: the keys the caller just listed are not looked up again.
    monkeypatch.setattr(feature_cache, "MAX_CHUNKS", 0)
    looked_up = []
    real = feature_cache.stat_ref
    monkeypatch.setattr(feature_cache, "stat_ref", lambda p: looked_up.append(p) or real(p))
    back.compact(current=set(keys[:4]))
    assert sorted(looked_up) == sorted(k[0] for k in keys[4:])
    merged = FeatureCache(tmp_path / "cache", (8, 8, 8), True).load()
    assert len(list(merged.dir.glob("chunk-*.npz"))) == 1 and len(merged) == 6
