"""Classifying uploads: right probabilities, a clear reason per bad file, the hand-off to Explain."""

from __future__ import annotations

import io
import math
import resource
import struct
import time
import zlib

import cv2
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

from core.explain.state import ExplainState, clamp_state, decode_state, encode_state
from core.learn.classify import (
    NOT_SURE,
    classify_batch,
    classify_one,
    explain_table,
    loss_for,
    model_summary,
    probability_note,
    results_table,
    table_csv,
)
from core.learn.model import SavedModel
from core.softmax import softmax
from harness.images import CLASS_COLORS, encode, make_image
from tests.support import post_histogram


def fit(classes=("cat", "dog"), bins=(8, 8, 8), loss="log_loss", multinomial=False, n=30):
    images = [make_image(CLASS_COLORS[c], seed=i, noise=60) for c in classes for i in range(n)]
    X = np.array([post_histogram(im, bins) for im in images], dtype=np.float64)
    y = np.repeat(np.arange(len(classes)), n)
    if multinomial:
        est, kind = LogisticRegression(max_iter=500).fit(X, y), "multinomial"
    else:
        est = SGDClassifier(loss=loss, random_state=967, max_iter=10, tol=None).fit(X, y)
        kind = "sgd-log" if loss == "log_loss" else "sgd-hinge"
    return est, SavedModel.from_estimator(est, classes, bins, False, kind, dataset="test")


@pytest.fixture(scope="module")
def binary():
    return fit()


def photo(color="cat", seed=100, size=(375, 500)):
    return make_image(CLASS_COLORS[color], size=size, seed=seed, noise=60)


def huge_png(w=20000, h=20000) -> bytes:
    """A valid 1-bit PNG of w x h pixels: 50 MB of rows compress to ~50 KB, 1.2 GB once decoded."""

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    comp, row, parts = zlib.compressobj(9), b"\x00" * (1 + (w + 7) // 8), []
    for _ in range(h):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
    b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    tiff = (
        b"MM\x00*"
        + struct.pack(">IH", 8, 1)
        + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
        + struct.pack(">I", 0)
    )
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def test_probabilities_sum_to_one_and_equal_sklearn(binary):
    est, model = binary
    files = [
        ("cat.jpg", encode(photo("cat"))),
        ("dog.png", encode(photo("dog"), ".png")),
        ("dog.webp", encode(photo("dog", 7), ".webp")),
        ("cat.bmp", encode(photo("cat", 8), ".bmp")),
    ]
    results = classify_batch(model, files)
    assert [r.error for r in results] == [None] * 4
    assert [r.predicted for r in results] == ["cat", "dog", "dog", "cat"]
    for (_name, data), r in zip(files, results):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        expected = est.predict_proba(post_histogram(image)[None].astype(np.float64))[0]
        np.testing.assert_allclose(r.probabilities, expected, atol=1e-9)
        assert r.probabilities.sum() == pytest.approx(1.0)


def test_every_bad_file_gets_its_own_reason_and_the_rest_is_classified(binary):
    _, model = binary
    good = encode(photo("dog"))
    files = [
        ("notes.jpg", b"these are my holiday notes, not a photo\n"),
        ("empty.jpg", b""),
        ("truncated.jpg", good[: len(good) // 2]),
        ("huge.png", huge_png()),
        ("anim.gif", GIF),
        ("good.jpg", good),
    ]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t0 = time.perf_counter()
    results = classify_batch(model, files)
    elapsed = time.perf_counter() - t0
    reasons = {r.name: r.error for r in results}
    assert "text" in reasons["notes.jpg"]
    assert "empty" in reasons["empty.jpg"]
    assert "corrupt" in reasons["truncated.jpg"]
    assert "20000 x 20000" in reasons["huge.png"] and "too large" in reasons["huge.png"]
    assert "GIF" in reasons["anim.gif"]
    assert reasons["good.jpg"] is None and results[-1].predicted == "dog"
    # Refused from its header: decoding 400 million pixels would take seconds and 1.2 GB.
    assert elapsed < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 300_000


def test_exif_orientation_grayscale_alpha_and_16_bit_are_read(binary):
    _, model = binary
    img = photo("cat", size=(60, 120))
    rotated = classify_one(model, "r.jpg", with_exif_orientation(encode(img), 6))
    shown = cv2.imdecode(np.frombuffer(rotated.thumbnail, np.uint8), cv2.IMREAD_COLOR)
    assert rotated.ok and shown.shape[:2] == (120, 60)  # turned upright, as a viewer shows it
    gray = classify_one(model, "g.png", encode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), ".png"))
    bgra = classify_one(model, "a.png", encode(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA), ".png"))
    deep = classify_one(model, "d.png", encode(img.astype(np.uint16) * 257, ".png"))
    plain = classify_one(model, "p.png", encode(img, ".png"))
    assert gray.ok and bgra.ok and deep.ok
    np.testing.assert_allclose(bgra.probabilities, plain.probabilities, atol=1e-12)
    np.testing.assert_allclose(deep.probabilities, plain.probabilities, atol=1e-12)


def test_a_model_with_other_bins_sees_its_own_features():
    est, model = fit(bins=(4, 4, 4))
    data = encode(photo("dog"))
    r = classify_one(model, "x.jpg", data)
    assert r.hist.shape == (64,)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    expected = est.predict_proba(post_histogram(image, (4, 4, 4))[None].astype(np.float64))[0]
    np.testing.assert_allclose(r.probabilities, expected, atol=1e-9)


def test_threshold_turns_a_weak_answer_into_not_sure(binary):
    _, model = binary
    r = classify_one(model, "x.jpg", encode(photo("cat")))
    p = r.confidence
    assert r.answer(threshold=p - 0.01) == "cat"
    assert r.answer(threshold=min(1.0, p + 0.001)) == NOT_SURE


def test_table_is_sorted_by_confidence_and_the_csv_reads_back(binary):
    _, model = binary
    files = [(f"img{i}.jpg", encode(photo("cat" if i % 2 else "dog", seed=i))) for i in range(6)]
    files.insert(2, ("bad.jpg", b"nope"))
    results = classify_batch(model, files)
    df = results_table(results, model.classes, threshold=0.5)
    assert "bad.jpg" not in set(df["file"]) and len(df) == 6  # a failed file has its own message, not a row
    assert not results[2].ok
    conf = df["confidence"].to_numpy()
    assert np.all(np.diff(conf) <= 0) and len(conf) == 6
    back = pd.read_csv(io.BytesIO(table_csv(df)))
    # The answer and the probabilities first: what a phone shows without scrolling sideways.
    assert list(back.columns) == ["file", "answer", "p(cat)", "p(dog)", "confidence", "most likely"]
    np.testing.assert_allclose(back["p(cat)"].iloc[:6] + back["p(dog)"].iloc[:6], 1, atol=1e-5)


def test_binary_hand_off_scores_are_zero_and_z_and_reproduce_the_probabilities(binary):
    est, model = binary
    r = classify_one(model, "x.jpg", encode(photo("dog")))
    # What the Classify page hands to Explain: the image's scores, inside what Explain shows.
    state, messages = clamp_state(ExplainState(model.classes, tuple(map(float, r.scores)), 0))
    assert messages == [] and state.classes == ("cat", "dog") and state.target == 0
    assert state.scores[0] == 0 and state.scores[1] == pytest.approx(
        float(est.decision_function(r.hist[None].astype(np.float64))[0])
    )
    back, _ = decode_state(encode_state(state))  # what the Explain page will read from the URL
    np.testing.assert_allclose(softmax(back.scores), r.probabilities, atol=1e-12)
    table = explain_table(model, r, "cat")
    assert list(table.columns) == ["class", "score W.x+b", "exp(score)", "softmax p", "-ln p", "true class"]
    assert table["true class"].tolist() == [True, False]
    assert loss_for(r, model, "cat") == pytest.approx(-math.log(r.probabilities[0]))
    assert "[0, z]" in probability_note(model)


def test_one_vs_rest_probabilities_are_not_the_softmax_and_the_page_says_so():
    _est, model = fit(classes=("cat", "dog", "bird"))
    r = classify_one(model, "x.jpg", encode(photo("bird")))
    table = explain_table(model, r, "bird")
    assert "model's p (one-vs-rest)" in table.columns
    assert not np.allclose(table["softmax p"], table["model's p (one-vs-rest)"])
    np.testing.assert_allclose(table["model's p (one-vs-rest)"], r.probabilities)
    assert "one-vs-rest" in probability_note(model) and "not a softmax" in probability_note(model)


def test_multinomial_probabilities_are_the_softmax():
    _est, model = fit(classes=("cat", "dog", "bird"), multinomial=True)
    r = classify_one(model, "x.jpg", encode(photo("bird")))
    table = explain_table(model, r, "bird")
    assert "model's p (one-vs-rest)" not in table.columns
    np.testing.assert_allclose(table["softmax p"], r.probabilities, atol=1e-12)


def test_hinge_model_ranks_by_score_without_probabilities():
    _est, model = fit(loss="hinge")
    r = classify_one(model, "x.jpg", encode(photo("dog")))
    assert r.probabilities is None and r.confidence is None
    assert r.predicted == "dog" and r.answer(threshold=0.99) == "dog"
    assert "no probabilities" in probability_note(model)


def test_the_model_is_named_for_what_its_probabilities_are():
    """Two classes: SGDClassifier's log loss is exactly a softmax of [0, z]; more: one-vs-rest."""
    W = np.zeros((1, 512))
    two = SavedModel(("cat", "dog"), W, np.zeros(1), "sgd-log", (8, 8, 8), True)
    three = SavedModel(("cat", "dog", "bird"), np.zeros((3, 512)), np.zeros(3), "sgd-log", (8, 8, 8), True)
    lr = SavedModel(("cat", "dog", "bird"), np.zeros((3, 512)), np.zeros(3), "multinomial", (8, 8, 8), True)
    assert "exactly a softmax" in model_summary(two) and "one-vs-rest" not in model_summary(two)
    assert "one-vs-rest" in model_summary(three) and "not one softmax" in model_summary(three)
    assert "a true softmax" in model_summary(lr)
