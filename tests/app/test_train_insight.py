"""The Train page's insight views, driven as a user does (AppTest, widgets by key): the
numbers shown are checked against scikit-learn run by hand on the same features."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from core.charts.insight import swatch
from core.dataset import load_dataset
from core.explain.state import decode_state
from core.features import extract_features
from core.paths import data_dir
from core.text import number, percent
from harness.apptest import open_page
from harness.images import make_kaggle_folder, write_image
from tests.support import rendered

PAGE = "pages/train.py"


def hard_pets(name="pets", classes=("cat", "dog")) -> Path:
    """Reddish cats and bluish dogs, and a few in the other's colours: the model makes
    confident mistakes on those (the top losses)."""
    root = make_kaggle_folder(data_dir() / name, per_class=16, classes=classes)
    swapped = {"cat": (200, 120, 30), "dog": (30, 60, 200), "bird": (30, 60, 200)}
    for c in classes:
        for i in range(3):
            write_image(root / f"{c}.{100 + i}.jpg", color_bgr=swapped[c], seed=40 + i)
    return root


def by_hand(root: Path, epochs=10):
    """The post's softmax.py by hand: features, labels, the test rows, the fitted model."""
    ds = load_dataset(root)
    feats = extract_features(ds.paths, cache_dir=False)
    label_of = dict(zip(ds.paths, ds.labels))
    le = LabelEncoder()
    y = le.fit_transform([label_of[p] for p in feats.paths])
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.25, random_state=42)
    clf = SGDClassifier(loss="log_loss", random_state=967, max_iter=epochs, tol=None).fit(feats.X[tr], y[tr])
    return feats, y, te, clf


def train_on(name="pets"):
    at = open_page(PAGE)
    box = at.selectbox(key="dataset")
    box.select_index([str(o).startswith(name) for o in box.options].index(True)).run()
    at.button(key="train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def spec(at, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    return json.loads(chart.proto.spec)


def gallery(at, says: str) -> list[str]:
    """The captions of the image gallery whose first caption contains `says`."""
    lists = [[rendered(i.caption) for i in el.proto.imgs] for el in at.get("image")]
    return next(c for c in lists if c and says in c[0])


NUMBER = r"[\d.]+(?: × 10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"  # as core.text.number prints one


def shown_number(text: str) -> float:
    if "×" not in text:
        return float(text)
    mantissa, power = text.split(" × 10")
    return float(mantissa) * 10 ** -int(power[1:].translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))


def test_the_mean_loss_is_log_loss_and_the_costliest_image_opens_on_explain():
    root = hard_pets()
    at = train_on()
    feats, y, te, clf = by_hand(root)
    proba = clf.predict_proba(feats.X[te])
    expected = log_loss(y[te], proba, labels=[0, 1])
    assert metric(at, "Mean of −ln p(true class)") == number(expected)
    assert metric(at, "scikit-learn's log_loss") == number(expected)
    per_image = -np.log(proba[np.arange(len(te)), y[te]])
    worst = int(np.argmax(per_image))
    top = gallery(at, "loss ")  # the top losses
    assert top[0].startswith("1. ") and top[0].endswith(f"loss {number(per_image[worst], 2)}")
    assert "cat → dog" in top[0] or "dog → cat" in top[0]  # a confident mistake
    for caption in top:  # the p shown and the loss shown agree: loss = -ln p, to its 2 places
        found = re.search(rf"[→,] \w+(?:, right)? · p\(\w+\)\s({NUMBER}) · loss\s({NUMBER})$", caption)
        assert found, caption
        p, loss = (shown_number(x) for x in found.groups())
        assert -math.log(p) == pytest.approx(loss, abs=0.011), caption
    at.selectbox(key="loss_pick").set_value(0).run()
    at.button(key="loss_explain").click().run()
    assert not at.exception and at.title[0].value.startswith("Explain")
    state, messages = decode_state(at.query_params)
    z = clf.decision_function(feats.X[te][worst : worst + 1].astype(np.float64))[0]
    assert messages == [] and state.classes == ("cat", "dog") and state.target == y[te][worst]
    assert state.scores == pytest.approx((0.0, z), abs=1e-9)  # class_scores of its cached histogram
    assert any(Path(feats.paths[te[worst]]).name in rendered(m.value) for m in at.markdown)


def test_the_epoch_slider_replays_a_refit_with_max_iter_k():
    root = hard_pets()
    at = train_on()
    assert at.slider(key="replay_epoch").value == 10  # the reported model first
    at.slider(key="replay_epoch").set_value(2).run()
    feats, y, te, clf = by_hand(root, epochs=2)
    pred = clf.predict(feats.X[te])
    assert metric(at, "Test accuracy after epoch 2") == f"{np.mean(pred == y[te]):.1%}"
    np.testing.assert_array_equal(spec(at, "confusion")["data"][0]["z"], confusion_matrix(y[te], pred))
    bars = spec(at, "weights_chart")["data"][0]
    order = np.argsort(-clf.coef_[0], kind="stable")[:8]
    np.testing.assert_allclose(bars["x"][:8], clf.coef_[0][order], rtol=1e-6)
    assert spec(at, "weights_chart")["layout"]["title"]["text"] == "Weights as colours, epoch 2 of 10"


def test_choosing_a_colour_shows_the_test_images_with_most_of_it():
    root = hard_pets()
    at = train_on()
    feats, _, te, clf = by_hand(root)
    bins = (8, 8, 8)
    box = at.selectbox(key="weights_bin")
    first = box.value
    assert first == int(np.argmax(clf.coef_[0]))  # the largest weight first: it votes dog
    assert swatch(first, bins).label.split()[0] in ("azure", "blue", "cyan")  # bluish dogs
    negative = int(np.argmin(clf.coef_[0]))
    assert swatch(negative, bins).label.split()[0] in ("red", "red-orange", "orange")  # reddish cats
    box.set_value(negative).run()
    X = feats.X[te]
    shares = X[:, negative] / X.sum(axis=1)
    best = int(np.argmax(shares))
    shown = gallery(at, "of pixels")
    assert shown[0].startswith(f"{percent(shares[best], 0)} of pixels · z ")
    z = clf.decision_function(X[best : best + 1].astype(np.float64))[0]
    assert f"z {'+' if z > 0 else ''}{number(z, 2)}" in shown[0]
    assert len(shown) == min(8, int((shares > 0).sum()))


def test_three_classes_have_a_row_each_and_their_confused_pairs():
    hard_pets("zoo", classes=("bird", "cat", "dog"))
    at = train_on("zoo")
    assert at.selectbox(key="weights_class").options == ["bird", "cat", "dog"]
    at.selectbox(key="weights_class").set_value(2).run()
    notes = spec(at, "weights_chart")["layout"]["annotations"]
    assert [n["text"] for n in notes] == ["votes dog →", "← votes the other classes"]
    pairs = next(d.value for d in at.dataframe if "% of actual" in d.value.columns)
    cm = at.session_state["train_run"].run.post.confusion
    off = sorted((cm[a, p] for a in range(3) for p in range(3) if a != p and cm[a, p]), reverse=True)
    assert list(pairs["images"]) == off[:5]


def test_seeds_and_the_alpha_sweep_run_on_their_buttons():
    hard_pets()
    at = train_on()
    assert not any("95% interval" in d.value.columns for d in at.dataframe)  # nothing until asked
    at.selectbox(key="seeds_n").set_value(5).run()
    at.button(key="seeds_run").click().run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "95% interval" in d.value.columns)
    post = at.session_state["train_run"].run.post
    assert len(table) == 5 and table.iloc[0]["model"] == "The post's recipe"
    assert any(rendered(m.value).startswith("Over 5 splits") for m in at.markdown)
    assert any(
        rendered(m.value).startswith("Against the post's recipe on the same splits") for m in at.markdown
    )
    claim = next(rendered(i.value) for i in at.info if "a difference or noise?" in i.value)
    assert "The post's 1.0-point gap (65% vs 64%)" in claim
    at.button(key="sweep_run").click().run()
    assert not at.exception and not at.error
    sweep = next(d.value for d in at.dataframe if "|W|" in d.value.columns)
    assert list(sweep["alpha"]) == ["1e-06", "1e-05", "1e-04 (chosen)", "1e-03", "1e-02", "1e-01"]
    chosen = sweep[sweep["alpha"].str.endswith("(chosen)")].iloc[0]
    assert chosen["test accuracy"] == pytest.approx(100 * post.accuracy)  # the reported model
    assert any("The test log loss is lowest at alpha" in rendered(m.value) for m in at.markdown)
    at.run()  # both stay on show, for these results
    assert any("95% interval" in d.value.columns for d in at.dataframe)
    assert any("|W|" in d.value.columns for d in at.dataframe)
