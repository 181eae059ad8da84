"""The Classify page driven as a user does: upload files the test makes, read the answers."""

from __future__ import annotations

import os
import re
import time

import cv2
import numpy as np
import pytest

from core.explain.state import decode_state
from core.learn.model import SavedModel
from core.paths import models_dir
from core.softmax import softmax
from harness.apptest import open_page
from harness.images import encode, make_kaggle_folder
from tests.support import rendered
from tests.unit.test_classify import GIF, fit, huge_png, photo, post_histogram


@pytest.fixture(scope="module")
def binary():
    return fit()  # (sklearn estimator, SavedModel) on reddish cats and bluish dogs


def page_with(model: SavedModel):
    at = open_page("pages/classify.py")
    at.session_state["trained_model"] = model
    return at.run()


def upload(at, *files):
    up = at.file_uploader(key="uploads")
    for name, data in files:
        up.upload(name, data, "image/jpeg" if name.endswith("jpg") else "application/octet-stream")
    return at.run()


def sklearn_proba(est, data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return est.predict_proba(post_histogram(image)[None].astype(np.float64))[0]


def test_uploads_get_probabilities_that_sum_to_one_and_equal_predict_proba(binary):
    est, model = binary
    files = [(f"photo{i}.jpg", encode(photo("cat" if i % 2 else "dog", seed=i))) for i in range(3)]
    at = upload(page_with(model), *files)
    assert not at.exception
    table = at.dataframe[0].value  # the batch table, most confident first
    assert sorted(table["file"]) == sorted(n for n, _ in files)
    assert np.all(np.diff(table["confidence"].to_numpy()) <= 0)
    for name, data in files:
        row = table[table["file"] == name].iloc[0]
        got = np.array([row["p(cat)"], row["p(dog)"]])
        assert got.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(got, sklearn_proba(est, data), atol=1e-9)
        np.testing.assert_allclose(
            got,
            model.predict_proba(
                post_histogram(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
            )[0],
            atol=1e-12,
        )
        assert row["most likely"] == ("cat" if got[0] > got[1] else "dog")
    assert at.get("download_button")[0].proto.label.startswith("Download the table")
    # the cards under the table come in the table's order, not the upload's
    cards = [i.caption for el in at.get("image") for i in el.proto.imgs if i.caption in dict(files)]
    assert cards == list(table["file"])


def test_one_image_shows_its_answer_and_the_explain_table(binary):
    est, model = binary
    data = encode(photo("dog"))
    at = upload(page_with(model), ("dog.jpg", data))
    p = sklearn_proba(est, data)
    assert at.success[0].value == f"**dog** with probability {p[1]:.1%}"
    assert "[0, z]" in " ".join(rendered(i.value) for i in at.info)  # the binary model's score is explained
    why = at.dataframe[0].value  # the Explain table (a Styler): score, exp, softmax p, -ln p
    np.testing.assert_allclose(why["softmax p"], p, atol=1e-9)
    assert why["score W.x+b"].iloc[0] == 0  # softmax([0, z]) is the binary model's probability
    at.selectbox(key="true_0").set_value("cat").run()
    loss = next(m.value for m in at.markdown if "Cross-entropy loss" in m.value)
    assert "**cat**" in loss and f"{-np.log(p[0]):.4f}" in loss


def test_threshold_says_not_sure_below_it(binary):
    est, model = binary
    data = encode(photo("cat"))
    p = sklearn_proba(est, data).max()
    at = upload(page_with(model), ("cat.jpg", data))
    at.slider(key="threshold").set_value(round(p - 0.05, 2)).run()
    assert at.success[0].value.startswith("**cat**") and not any("not sure" in w.value for w in at.warning)
    at.slider(key="threshold").set_value(min(1.0, round(p + 0.01, 2))).run()
    assert not at.success
    assert any(w.value.startswith("**not sure**: most likely cat") for w in at.warning)


def old_version_bytes(model: SavedModel) -> bytes:
    """The model as an earlier version of the app would have written it (format 0)."""
    import io
    import json

    header = {"format_version": 0, "classes": list(model.classes), "kind": model.kind}
    buf = io.BytesIO()
    np.savez(
        buf,
        coef=model.coef,
        intercept=model.intercept,
        header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
    )
    return buf.getvalue()


def test_bad_files_each_get_a_message_and_the_rest_is_classified(binary):
    _, model = binary
    good = encode(photo("dog"))
    at = upload(
        page_with(model),
        ("notes.jpg", b"just some text\n"),
        ("empty.jpg", b""),
        ("cut.jpg", good[:300]),
        ("huge.png", huge_png()),
        ("anim.jpg", GIF),
        ("good.jpg", good),
    )
    assert not at.exception
    errors = " | ".join(rendered(e.value) for e in at.error)
    for name, words in [
        ("notes.jpg", "text"),
        ("empty.jpg", "empty"),
        ("cut.jpg", "corrupt"),
        ("huge.png", "20000 x 20000"),
        ("anim.jpg", "GIF"),
    ]:
        assert re.search(rf"\*\*{re.escape(name)}\*\*: [^|]*{words}", errors), (name, errors)
    # One image could be classified: its card, and no table counting the failures as images.
    assert not any("file" in d.value.columns for d in at.dataframe)
    assert len(at.success) == 1 and at.success[0].value.startswith("**dog**")


def test_hand_off_opens_the_explain_page_with_the_images_scores(binary):
    est, model = binary
    data = encode(photo("cat"))
    at = upload(page_with(model), ("cat.jpg", data))
    at.selectbox(key="true_0").set_value("dog").run()
    at.button(key="explain_0").click().run()
    assert not at.exception
    state, messages = decode_state(at.query_params)
    assert messages == []
    assert state.classes == ("cat", "dog") and state.target == 1
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    z = est.decision_function(post_histogram(image)[None].astype(np.float64))[0]
    assert state.scores == pytest.approx((0.0, z), abs=1e-12)
    np.testing.assert_allclose(softmax(state.scores), sklearn_proba(est, data), atol=1e-12)
    assert at.title[0].value.startswith("Explain")  # we are on the Explain page now, with our scores
    assert [at.number_input(key=f"number_{j}").value for j in range(2)] == pytest.approx([0.0, z], abs=1e-9)
    assert at.radio(key="target").value == 1  # the true class the user chose: dog


def test_no_model_offers_one_click_training_on_the_synthetic_demo():
    at = open_page("pages/classify.py")
    assert "no trained model yet" in at.warning[0].value
    assert any("synthetic demo set" in m for m in map(lambda e: rendered(e.value), at.markdown))
    at.button(key="quick_train").click().run(timeout=120)
    assert not at.exception
    model = at.session_state["trained_model"]
    assert set(model.classes) == {"warm", "green", "blue"} and model.meta["synthetic"] is True
    assert any("synthetic demo set" in w.value for w in at.warning)  # said clearly, after training too
    assert list(models_dir().glob("*.npz"))  # saved for the next visit


def test_no_model_prefers_the_real_cats_and_dogs_folder(isolated_dirs):
    make_kaggle_folder(isolated_dirs / "data" / "dogs-vs-cats", per_class=12)
    at = open_page("pages/classify.py")
    assert any(
        "**dogs-vs-cats** (24 images, classes cat, dog)" in m
        for m in map(lambda e: rendered(e.value), at.markdown)
    )
    at.button(key="quick_train").click().run(timeout=120)
    assert not at.exception
    assert at.session_state["trained_model"].classes == ("cat", "dog")
    assert not any("synthetic" in w.value for w in at.warning)


def test_saved_models_newest_first_and_an_old_format_is_explained(binary):
    _, model = binary
    other_bins = fit(bins=(4, 4, 4))[1]
    models_dir().mkdir(parents=True)
    model.save(models_dir() / "older.npz")
    os.utime(models_dir() / "older.npz", (time.time() - 100, time.time() - 100))
    other_bins.save(models_dir() / "newer-4bins.npz")
    (models_dir() / "ancient.npz").write_bytes(old_version_bytes(model))
    at = open_page("pages/classify.py")
    options = at.selectbox(key="saved_model").options  # described, newest first
    assert options[0].startswith("Saved: test · 4x4x4") and options[1].startswith("Saved: test · 8x8x8")
    assert any(
        "ancient.npz" in rendered(w.value) and "another version of the app" in rendered(w.value)
        for w in at.warning
    )
    assert any("4x4x4 histogram bins" in i.value for i in at.info)
    at = upload(at, ("dog.jpg", encode(photo("dog"))))
    assert not at.exception and at.success[0].value.startswith("**dog**")
    at.selectbox(key="saved_model").set_value(at.selectbox(key="saved_model").options[1]).run()
    assert not any("4x4x4" in i.value for i in at.info) and at.success[0].value.startswith("**dog**")


def test_an_uploaded_model_file_of_an_older_version_is_refused_clearly(binary):
    _, model = binary
    at = page_with(model)
    at.file_uploader(key="model_file").upload("old.npz", old_version_bytes(model)).run()
    assert any(
        "old.npz" in rendered(e.value) and "another version of the app" in rendered(e.value) for e in at.error
    )
    at.file_uploader(key="model_file").clear().upload("good.npz", fit(bins=(4, 4, 4))[1].to_bytes()).run()
    assert any("4x4x4" in i.value for i in at.info)


def test_camera_snapshot_is_classified_when_the_camera_is_on(binary):
    _, model = binary
    at = page_with(model)
    assert not at.camera_input  # the camera is not requested on load
    at.toggle(key="use_camera").set_value(True).run()
    at.camera_input(key="camera").upload("snap.jpg", encode(photo("cat")), "image/jpeg")
    at.run()
    assert not at.exception and at.success[0].value.startswith("**cat**")


def test_many_images_three_classes_table_and_one_picked_for_details():
    est, model = fit(classes=("cat", "dog", "bird"))
    files = [(f"img{i}.jpg", encode(photo(("cat", "dog", "bird")[i % 3], seed=i))) for i in range(8)]
    at = upload(page_with(model), *files)
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 8 and np.all(np.diff(table["confidence"].to_numpy()) <= 0)
    for name, data in files:
        row = table[table["file"] == name].iloc[0]
        got = row[["p(cat)", "p(dog)", "p(bird)"]].to_numpy(dtype=float)
        assert got.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(got, sklearn_proba(est, data), atol=1e-9)
    assert len(at.success) + sum("not sure" in w.value for w in at.warning) == 1  # one card, not eight
    at.selectbox(key="detail").set_value(5).run()
    assert at.image[0].proto.imgs[0].caption == "img5.jpg"
    assert any("one-vs-rest" in rendered(i.value) and "not a softmax" in rendered(i.value) for i in at.info)
    why = at.dataframe[1].value
    assert "model's p (one-vs-rest)" in why.columns  # beside the softmax of the scores, which differs


def test_a_hinge_model_answers_by_score_without_probabilities():
    _, model = fit(loss="hinge")
    at = upload(page_with(model), ("dog.jpg", encode(photo("dog"))))
    assert not at.exception
    assert at.success[0].value == "**dog** (highest score; this model gives no probabilities)"
    assert any("no probabilities" in rendered(i.value) for i in at.info)


def test_the_session_model_comes_first_then_saved_ones(binary):
    _, model = binary
    fit(bins=(4, 4, 4))[1].save(models_dir() / "saved.npz")
    at = page_with(model)
    options = at.selectbox(key="saved_model").options
    assert options[0].startswith("Trained in this session") and options[1].startswith("Saved: test · 4x4x4")


def test_images_kept_from_before_a_page_switch_survive_a_new_upload(binary):
    """A visit to Explain and back, then one more file (even one that is not an image):
    the earlier images are still classified; removing a file from the uploader drops it."""
    _, model = binary
    at = upload(page_with(model), ("a.jpg", encode(photo("cat"))), ("b.jpg", encode(photo("dog", seed=3))))
    at.switch_page("pages/explain.py").run()
    at.switch_page("pages/classify.py").run()
    assert any("2 image(s) kept" in c.value for c in at.caption)
    at.file_uploader(key="uploads").upload("notes.jpg", b"just some text", "image/jpeg").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "file" in d.value.columns)
    assert set(table["file"]) == {"a.jpg", "b.jpg"}
    assert any("notes.jpg" in rendered(e.value) for e in at.error)
    at.file_uploader(key="uploads").clear().run()  # the user removes notes.jpg
    assert not any("notes.jpg" in rendered(e.value) for e in at.error)
    assert next(d.value for d in at.dataframe if "file" in d.value.columns).shape[0] == 2
