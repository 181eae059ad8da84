"""A real browser: open Train, pick a dataset, train, read the report."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from harness.images import make_kaggle_folder
from tests.support import ARTIFACTS, wait_idle

pytestmark = pytest.mark.e2e


def test_train_journey(page, app_server):
    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=16)
    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "birds", per_class=8, classes=("bird", "dog"))
    page.goto(app_server.url + "/train")
    wait_idle(page)

    # pick the dataset in the select box, as a user does
    page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name=re.compile(r"^pets")).click()
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_idle(page, timeout=60_000)

    page.get_by_text("Results on pets").wait_for()
    metric = page.get_by_test_id("stMetric").filter(has_text="Softmax (log loss) accuracy")
    assert re.search(r"\d+\.\d%", metric.inner_text())
    assert "24 / 8" in page.get_by_test_id("stMetric").filter(has_text="train / test").inner_text()
    page.get_by_text("As the post prints it").first.click()
    code = page.get_by_test_id("stCode").first.inner_text()
    for word in ("precision", "recall", "f1-score", "support", "cat", "dog", "macro avg"):
        assert word in code
    assert page.get_by_test_id("stException").count() == 0

    # click the confusion matrix's bottom-right cell (actual dog, predicted dog): its images
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Confusion matrix")
    chart.scroll_into_view_if_needed()
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.75 * box["height"])
    wait_idle(page)
    page.get_by_text(re.compile(r"^5 test images are dog and predicted dog")).wait_for()
    cell = page.get_by_role("tabpanel").filter(has_text="See the images in a cell")  # not the other galleries
    cell.get_by_test_id("stImage").locator("img").nth(4).wait_for()  # their 5 thumbnails
    wait_idle(page)
    assert cell.get_by_test_id("stImage").locator("img").count() == 5
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 4000})  # the app scrolls inside; show it all
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "train.png"), full_page=True)


def test_two_sessions_train_the_same_dataset_at_once(browser, app_server):
    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=60)
    pages = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(app_server.url + "/train")
        wait_idle(pg)
        pages.append(pg)
    for pg in pages:  # both clicks land before either training can finish
        pg.get_by_role("button", name="Train", exact=True).click()
    for pg in pages:
        wait_idle(pg, timeout=90_000)
        pg.get_by_text("Results on pets").wait_for()
        assert "90 / 30" in pg.get_by_test_id("stMetric").filter(has_text="train / test").inner_text()
        assert pg.get_by_test_id("stException").count() == 0
    texts = [pg.get_by_test_id("stMetric").filter(has_text="Softmax").inner_text() for pg in pages]
    assert texts[0] == texts[1]  # the same run, whichever session did the work
    for pg in pages:
        pg.context.close()
