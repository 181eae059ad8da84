"""core.learn: the post's split, fit and report, against scikit-learn run by hand."""

from __future__ import annotations

import os
import time
from dataclasses import FrozenInstanceError, replace

import cv2
import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, classification_report, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from core.images import data_uri, file_thumbnail, stat_ref
from core.learn import beyond, evaluate, saved, train
from core.learn.config import TrainConfig, TrainingError
from core.learn.features import fingerprint
from core.learn.model import SavedModel
from harness.images import make_kaggle_folder, write_image

SMALL = TrainConfig(bins=(2, 2, 2))  # 8 features: instant fits


def fit(X, labels, config=SMALL, **kw):
    """The post's model alone (no SVM, no curves): the TrainResult."""
    return train.train_arrays(X, labels, config, with_hinge=False, with_curves=False, **kw).post


def _data(n=200, k=2, d=8, seed=0):
    """Histogram-like rows (non-negative) whose first features depend on the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.random((n, d)).astype(np.float32)  # (n, d)
    X[np.arange(n), y] += 0.6
    names = ["cat", "dog", "bird", "fish"][:k]
    return X, [names[i] for i in y]


def test_defaults_are_the_posts():
    c = TrainConfig()
    assert (c.bins, c.test_size, c.split_seed, c.sgd_seed, c.epochs, c.loss, c.alpha, c.fast) == (
        (8, 8, 8),
        0.25,
        42,
        967,
        10,
        "log_loss",
        1e-4,
        True,
    )
    with pytest.raises(FrozenInstanceError):
        c.epochs = 3
    assert c.key() == TrainConfig().key() != replace(c, epochs=11).key()


@pytest.mark.parametrize(
    "bad",
    [
        dict(test_size=0),
        dict(test_size=1.0),
        dict(epochs=0),
        dict(alpha=0),
        dict(loss="log"),
        dict(bins=(8, 8)),
    ],
)
def test_bad_settings_are_refused_with_a_message(bad):
    with pytest.raises(TrainingError):
        TrainConfig(**bad)


@pytest.mark.parametrize("k", [2, 3])
def test_same_split_model_and_report_as_the_posts_script(k):
    X, labels = _data(k=k)
    r = fit(X, labels, SMALL)
    # the post's softmax.py, by hand
    le = LabelEncoder()
    y = le.fit_transform(labels)
    tr_X, te_X, tr_y, te_y = train_test_split(X, y, test_size=0.25, random_state=42)
    clf = SGDClassifier(loss="log_loss", random_state=967, max_iter=10, tol=None).fit(tr_X, tr_y)
    pred = clf.predict(te_X)
    assert r.report == classification_report(te_y, pred, target_names=le.classes_, output_dict=True)
    assert r.report_text == classification_report(te_y, pred, target_names=le.classes_)
    assert r.accuracy == accuracy_score(te_y, pred)
    np.testing.assert_array_equal(r.y[r.test_idx], te_y)
    np.testing.assert_allclose(r.proba_test, clf.predict_proba(te_X))
    np.testing.assert_allclose(r.model.predict_proba(te_X), clf.predict_proba(te_X), atol=1e-5)  # float32 X
    assert r.confusion.sum() == len(te_y) and np.trace(r.confusion) == (pred == te_y).sum()
    assert r.classes == tuple(le.classes_) and r.notes == ()


def test_model_meta_and_hinge_kind():
    X, labels = _data()
    r = fit(X, labels, SMALL, dataset_name="pets")
    m = r.model.meta
    assert m["dataset"] == "pets" and m["accuracy"] == r.accuracy
    assert (m["n_train"], m["n_test"]) == (150, 50) and m["config"]["sgd_seed"] == 967
    assert m["trained_at"].endswith("+00:00") and r.model.kind == "sgd-log"
    h = fit(X, labels, replace(SMALL, loss="hinge"))
    assert h.model.kind == "sgd-hinge" and h.proba_test is None
    assert 0 <= h.accuracy <= 1


def test_report_rows_follow_sklearns_order():
    X, labels = _data(k=3)
    r = fit(X, labels, SMALL)
    rows = evaluate.report_rows(r.report)
    assert [row[""] for row in rows] == ["bird", "cat", "dog", "accuracy", "macro avg", "weighted avg"]
    acc = rows[3]
    assert (
        acc["f1-score"] == r.accuracy
        and acc["precision"] is None
        and acc["recall"] is None
        and acc["support"] == 50
    )


def test_one_class_is_refused():
    with pytest.raises(TrainingError, match="at least two classes"):
        fit(np.ones((5, 8)), ["cat"] * 5, SMALL)


def test_three_images_is_refused_naming_the_short_class():
    with pytest.raises(TrainingError, match="'dog' \\(1\\)"):
        fit(np.eye(3, 8), ["cat", "cat", "dog"], SMALL)


def test_a_class_missing_from_the_posts_test_set_gets_a_stratified_split():
    X, labels = _data(n=40, k=2)
    tr, _te = train_test_split(np.arange(40), test_size=0.25, random_state=42)
    for row in tr[:2]:  # two "fish" that the post's split puts both in training
        labels[row] = "fish"
    r = fit(X, labels, SMALL)
    assert "stratified" in r.notes[0]
    assert r.report["fish"]["support"] == 1
    for c in range(3):
        assert c in r.y[r.train_idx] and c in r.y[r.test_idx]


def test_too_few_to_stratify_trains_and_says_which_class_is_untested():
    # 4 images, 2 classes: one test image, so one class cannot be tested
    X = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], np.float32)
    r = fit(X, ["cat", "cat", "dog", "dog"], TrainConfig(bins=(2, 1, 1)))
    assert len(r.test_idx) == 1 and len(r.notes) == 1
    untested = [c for c in r.classes if r.report[c]["support"] == 0]
    assert untested and f"'{untested[0]}'" in r.notes[0]


def test_learning_curve_ends_on_the_reported_model():
    X, labels = _data(k=3)
    r = fit(X, labels, SMALL)
    c = train.learning_curves(X, r)
    assert list(c.epoch) == list(range(1, 11))
    assert c.test_acc[-1] == r.accuracy
    assert c.test_loss[-1] == pytest.approx(log_loss(r.y[r.test_idx], r.proba_test, labels=range(3)))
    assert c.train_acc[-1] == accuracy_score(r.y[r.train_idx], r.pred_train)
    assert np.all(np.isfinite(c.train_loss))
    # The last epoch's weights and predictions are the reported model's.
    np.testing.assert_allclose(c.coef[-1], r.model.coef)
    np.testing.assert_array_equal(c.pred_test[-1], r.pred_test)


def test_probability_gaps_and_samples():
    assert evaluate.probability_gaps(np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])) == pytest.approx(
        [0.5, 0.0]
    )
    X, labels = _data(k=3)
    r = fit(X, labels, SMALL, paths=[f"/x/{i}.jpg" for i in range(len(labels))])
    a, b = evaluate.sample_gaps(r, "train", seed=1), evaluate.sample_gaps(r, "train", seed=2)
    assert len(a) == 5 and [s.row for s in a] != [s.row for s in b]
    assert all(s.row in set(r.train_idx.tolist()) for s in a)
    t = evaluate.sample_gaps(r, "test", seed=1)
    assert all(s.row in set(r.test_idx.tolist()) for s in t)
    s = a[0]
    assert s.actual == labels[s.row] and s.path == f"/x/{s.row}.jpg"
    assert sum(s.probabilities.values()) == pytest.approx(1)
    p = sorted(s.probabilities.values())
    assert s.gap == pytest.approx(p[-1] - p[-2])
    assert s.predicted == max(s.probabilities, key=s.probabilities.get)


def test_reliability_is_binary_only_and_counts_every_test_image():
    X, labels = _data(n=400)
    r = fit(X, labels, SMALL)
    mean_p, observed, counts = evaluate.reliability(r)
    assert counts.sum() == r.n_test and len(mean_p) == len(observed) == len(counts)
    assert np.all((observed >= 0) & (observed <= 1))
    with pytest.raises(TrainingError):
        evaluate.reliability(fit(*_data(k=3), SMALL))


def test_cell_rows_are_the_confusion_counts():
    X, labels = _data(k=3, seed=4)
    r = fit(X, labels, SMALL)
    for i, a in enumerate(r.classes):
        for j, p in enumerate(r.classes):
            rows = evaluate.cell_rows(r, a, p)
            assert len(rows) == r.confusion[i, j]
            assert all(r.classes[r.y[x]] == a for x in rows)


def test_beyond_the_post_starts_from_the_posts_number():
    X, labels = _data(n=300, k=3)
    r = fit(X, labels, SMALL)
    v = beyond.beyond_the_post(X, r)
    assert [x.name for x in v][:1] == ["The post's recipe"] and len(v) == 5
    assert v[0].accuracy == r.accuracy
    assert all(0 <= x.accuracy <= 1 and x.seconds >= 0 for x in v)
    assert any("LogisticRegression" in x.what for x in v)


# -- folders, saving ---------------------------------------------------------------


def test_train_dataset_from_a_folder_skips_unreadable_files(tmp_path):
    root = make_kaggle_folder(tmp_path / "pets", per_class=10)
    (root / "cat.99.jpg").write_bytes(b"not a jpeg at all")
    calls = []
    run = train.train_folder(
        root, TrainConfig(bins=(4, 4, 4)), dataset_name="pets", progress=lambda *a: calls.append(a)
    )
    r = run.post
    assert r.accuracy >= 0.8  # reddish cats, bluish dogs
    assert len(r.y) == 20 and any("cat.99.jpg" in p for p, _ in run.skipped)
    features = [c for c in calls if c[0] == "features"]
    assert features and features[-1] == ("features", 21, 21)
    stages = [c[0] for c in calls]  # what the page's bar says, in order
    assert (
        stages.index("listing") < stages.index("features") < stages.index("training") < stages.index("curves")
    )
    assert ("curves", 10, 10) in calls  # epoch 10 of 10
    assert r.model.meta["dataset"] == "pets" and r.model.bins == (4, 4, 4)
    again = train.train_folder(root, TrainConfig(bins=(4, 4, 4)), dataset_name="pets")  # from memory
    assert again.post.report == r.report and again.from_memory
    (root / "dog.77.jpg").write_bytes((root / "dog.0.jpg").read_bytes())  # a new file: trained again
    third = train.train_folder(root, TrainConfig(bins=(4, 4, 4)), dataset_name="pets")
    assert not third.from_memory and len(third.post.y) == 21


def test_train_dataset_on_a_removed_folder_says_so(tmp_path):
    from core.dataset import DatasetError

    with pytest.raises(DatasetError, match="not found"):
        train.train_folder(tmp_path / "gone")


def test_all_images_unreadable_is_a_clear_error(tmp_path):
    for name in ("cat.0.jpg", "cat.1.jpg", "dog.0.jpg", "dog.1.jpg"):
        (tmp_path / name).write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="None of the 4 images"):
        train.train_folder(tmp_path)


def test_save_list_load_newest_first_and_unreadable_reported():
    X, labels = _data()
    a = fit(X, labels, SMALL, dataset_name="../../etc/passwd").model
    b = fit(X, labels, replace(SMALL, epochs=3), dataset_name="pets").model
    pa = saved.save_model(a)
    pb = saved.save_model(b)
    assert pa.parent == pb.parent and pa.parent.name == ".models"
    assert ".." not in pa.name and "/" not in pa.name and pa.name.endswith(".npz")
    assert saved.save_model(b) == pb  # same settings: same file
    os.utime(pa, (1, 1))  # a is older
    (pa.parent / "broken.npz").write_bytes(b"junk")
    errors = []
    listed = saved.list_saved_models(errors)
    assert [e.path for e in listed] == [pb, pa]
    assert [p.name for p, _ in errors] == ["broken.npz"]
    back = SavedModel.load(pb)
    assert isinstance(back, SavedModel) and back.meta["config"]["epochs"] == 3
    np.testing.assert_allclose(back.predict_proba(X), b.predict_proba(X))


def test_no_models_dir_lists_nothing():
    assert saved.list_saved_models() == []


def test_files_fingerprint_notices_a_change(tmp_path):
    p = write_image(tmp_path / "cat.0.jpg")
    f1 = fingerprint([stat_ref(p)])
    write_image(p, seed=5, size=(50, 70))
    assert fingerprint([stat_ref(p)]) != f1
    q = write_image(tmp_path / "cat.1.jpg")
    assert fingerprint([stat_ref(p), stat_ref(q)]) != fingerprint([stat_ref(p)])


def test_thumbnail_is_a_small_jpeg_or_none(tmp_path):
    p = write_image(tmp_path / "a.jpg", color_bgr=(0, 0, 255), size=(300, 200))
    t = cv2.imdecode(np.frombuffer(file_thumbnail(p, 96), np.uint8), cv2.IMREAD_COLOR)
    assert t.shape == (96, 64, 3) and t[..., 2].mean() > 200  # red stays red
    assert data_uri(file_thumbnail(p)).startswith("data:image/jpeg;base64,")
    # square: the whole image, centred on white, so that a gallery's rows line up
    sq = cv2.imdecode(np.frombuffer(file_thumbnail(p, 96, square=True), np.uint8), cv2.IMREAD_COLOR)
    assert sq.shape == (96, 96, 3)
    assert (
        sq[:, 20:76, 2].mean() > 200 and sq[:, 20:76, :2].mean() < 60
    )  # the red image, whole, in the middle
    assert sq[:, :12].min() > 230 and sq[:, -12:].min() > 230  # white on either side
    assert file_thumbnail(tmp_path / "missing.jpg") is None
    (tmp_path / "bad.jpg").write_bytes(b"xx")
    assert data_uri(file_thumbnail(tmp_path / "bad.jpg")) is None


def test_thumbnail_follows_a_changed_file(tmp_path):
    p = write_image(tmp_path / "a.jpg", color_bgr=(0, 0, 255), size=(300, 200))
    red = file_thumbnail(p, 96)
    assert file_thumbnail(p, 96) == red  # remembered
    write_image(p, color_bgr=(255, 0, 0), size=(300, 200))
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime even on a coarse clock
    blue = cv2.imdecode(np.frombuffer(file_thumbnail(p, 96), np.uint8), cv2.IMREAD_COLOR)
    assert blue[..., 0].mean() > 200 and blue[..., 2].mean() < 60
    p.unlink()
    assert file_thumbnail(p, 96) is None


def test_curves_made_after_the_report_equal_those_made_with_it(tmp_path):
    """The page shows the report first and makes the learning curves next (from the cache)."""
    root = make_kaggle_folder(tmp_path / "pets", per_class=12)
    config = TrainConfig(bins=(4, 4, 4), epochs=4)
    later = train.train_folder(root, config, dataset_name="later", with_curves=False)
    assert later.curves is None
    curves = train.curves_folder(root, later)
    now = train.train_folder(root, config, dataset_name="now").curves
    for field in ("train_loss", "test_loss", "train_acc", "test_acc", "coef", "pred_test"):
        np.testing.assert_allclose(getattr(curves, field), getattr(now, field))
    again = train.train_folder(root, config, dataset_name="later", with_curves=False)
    assert again.from_memory and again.curves is not None  # remembered with its curves
