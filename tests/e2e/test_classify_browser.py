"""A real browser: open Classify, choose images in the file chooser, read the answer."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np
import pytest

from core.explain.state import decode_state
from core.learn.model import SavedModel
from core.paths import models_dir
from harness.images import encode
from tests.support import ARTIFACTS, wait_idle
from tests.unit.test_classify import fit, photo, post_histogram

pytestmark = pytest.mark.e2e

UPLOAD_INPUT = ".st-key-uploads [data-testid='stFileUploaderDropzoneInput']"  # the images, not the model file


def open_classify(page, app_server):
    """As a user does: open the app, then Classify in the sidebar."""
    page.goto(app_server.url)
    wait_idle(page)
    page.locator("[data-testid='stSidebarNav']").get_by_text("Classify").click()
    wait_idle(page)
    page.get_by_role("heading", name="Classify").wait_for()


def choose_files(page, files):
    page.locator(UPLOAD_INPUT).first.set_input_files(
        [
            {"name": n, "mimeType": "image/jpeg" if n.endswith(".jpg") else "image/png", "buffer": b}
            for n, b in files
        ]
    )
    wait_idle(page)
    page.get_by_text(re.compile(r"with probability|not sure")).first.wait_for()
    wait_idle(page)


def test_upload_a_photo_and_read_the_answer_and_why(page, app_server):
    est, model = fit()
    model.save(models_dir() / "cats-vs-dogs.npz")  # as the Train page would have saved it
    data = encode(photo("cat", size=(375, 500)))
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    p_cat = est.predict_proba(post_histogram(image)[None].astype(np.float64))[0][0]

    open_classify(page, app_server)
    choose_files(page, [("my-cat.jpg", data), ("notes.jpg", b"not a photo at all\n")])

    alerts = page.locator("[data-testid='stAlertContentSuccess']").all_inner_texts()
    assert any(f"cat with probability {p_cat:.1%}" in a for a in alerts), alerts
    errors = " ".join(page.locator("[data-testid='stAlertContentError']").all_inner_texts())
    assert "notes.jpg" in errors and "text" in errors
    page.locator(".js-plotly-plot").nth(1).wait_for()  # one image: its "why" is open, the heat map drawn
    page.set_viewport_size({"width": 1400, "height": 2700})  # the app scrolls inside: show it all
    wait_idle(page)
    page.wait_for_timeout(800)  # let plotly finish painting before the picture is taken
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "classify.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.get_by_role("button", name=re.compile("Open these scores on the Explain page")).click()
    page.wait_for_url(re.compile(r"/\?classes=.*scores="))  # Explain is the app's default page: "/"
    wait_idle(page)
    page.get_by_role("heading", name=re.compile("^Explain")).wait_for()
    query = {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}
    state, messages = decode_state(query)
    z = est.decision_function(post_histogram(image)[None].astype(np.float64))[0]
    assert messages == [] and state.classes == ("cat", "dog")
    assert state.scores == pytest.approx((0.0, z), abs=1e-9)


def test_from_nothing_one_click_trains_then_classifies(page, app_server):
    open_classify(page, app_server)
    page.get_by_text("There is no trained model yet").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "classify-no-model.png"))
    page.get_by_role("button", name="Train a model now").click()
    wait_idle(page, timeout=120_000)
    page.get_by_text("synthetic demo set").first.wait_for()
    choose_files(page, [("blob.png", encode(photo("dog"), ".png"))])
    answer = page.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentWarning']")
    text = " ".join(answer.all_inner_texts())
    assert re.search(r"(warm|green|blue) with probability|not sure", text), text
    saved = list(models_dir().glob("*.npz"))
    assert len(saved) == 1 and SavedModel.load(saved[0]).meta["synthetic"] is True
