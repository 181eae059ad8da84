"""Classify's "where the score comes from": the waterfall of W_j x_j adds up (np.dot) to the
very score the Explain hand-off shows."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from core.explain.state import decode_state
from harness.apptest import open_page
from harness.images import encode
from tests.unit.test_classify import fit, photo, post_histogram


def spec(at, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}"))
    return json.loads(chart.proto.spec)


def classify(model, data: bytes):
    at = open_page("pages/classify.py")
    at.session_state["trained_model"] = model
    at.run()
    at.file_uploader(key="uploads").upload("pet.jpg", data, "image/jpeg")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_waterfall_adds_up_to_the_score_handed_to_explain():
    _, model = fit()
    data = encode(photo("dog"))
    at = classify(model, data)
    x = post_histogram(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)).astype(np.float64)
    z = float(np.dot(model.coef[0], x) + model.intercept[0])
    fig = spec(at, "terms_0")
    bars, labels = fig["data"][0], fig["layout"]["yaxis"]["ticktext"]
    steps, score = np.asarray(bars["x"][:-1]), bars["x"][-1]
    assert score == pytest.approx(z, abs=1e-12) and steps.sum() == pytest.approx(z, abs=1e-12)
    assert labels[-1] == "score dog" and labels[-2] == "bias b"
    assert fig["layout"]["annotations"][-1]["text"] == f"= {z:.4f}"  # the total, in the number column
    assert steps[-1] == model.intercept[0]
    caption = next(c.value for c in at.caption if "the score the Explain page is handed" in c.value)
    assert f"**{z:.4f}**" in caption and "score is 0 by construction" in caption
    at.button(key="explain_0").click().run()
    state, _ = decode_state(at.query_params)
    assert state.scores[1] == score and state.scores[0] == 0  # exactly the waterfall's total


def test_each_class_of_a_three_class_model_has_its_own_waterfall():
    est, model = fit(classes=("cat", "dog", "bird"))
    data = encode(photo("bird"))
    at = classify(model, data)
    x = post_histogram(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)).astype(np.float64)
    scores = est.decision_function(x[None])[0]
    box = at.selectbox(key="terms_class_0")
    assert box.value == int(np.argmax(scores))  # the predicted class first
    for k in range(3):
        box.set_value(k).run()
        fig = spec(at, "terms_0")
        bars = fig["data"][0]
        assert bars["x"][-1] == pytest.approx(float(np.dot(model.coef[k], x) + model.intercept[k]), abs=1e-12)
        assert bars["x"][-1] == pytest.approx(scores[k], abs=1e-9)
        assert fig["layout"]["yaxis"]["ticktext"][-1] == f"score {model.classes[k]}"
