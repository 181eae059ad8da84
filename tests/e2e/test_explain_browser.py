"""A real browser: open Explain, move the airplane score, see the new probability."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core import softmax as sm
from tests.support import ARTIFACTS, wait_idle

pytestmark = pytest.mark.e2e
POST = [-3.44, 1.16, -0.81, 3.91]


def p_airplane(page) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text="p(airplane)")
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_explain_journey(page, app_server):
    page.goto(app_server.url)
    wait_idle(page)
    assert p_airplane(page) == "0.9315"
    assert "0.0709" in page.get_by_test_id("stMetric").filter(has_text="loss, nats").inner_text()

    # Exact entry: type a new airplane score, as a user does.
    box = page.get_by_label("exact score of airplane")
    box.fill("1")
    box.press("Enter")
    wait_idle(page)
    assert p_airplane(page) == f"{sm.softmax(POST[:3] + [1.0])[3]:.4f}" == "0.4257"

    # The slider: a keyboard step of 0.01, as a user with arrow keys.
    thumb = page.get_by_role("slider", name="score of airplane")
    moved = (
        "() => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes('p(airplane)') && !m.innerText.includes('0.4257'))"
    )
    for _ in range(3):  # a key press can land while the thumb is still taking focus: retry
        thumb.focus()
        thumb.press("ArrowRight")
        try:
            page.wait_for_function(moved, timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    wait_idle(page)
    value = float(box.input_value())  # the exact entry follows the slider
    assert value > 1.0
    assert p_airplane(page) == f"{sm.softmax(POST[:3] + [value])[3]:.4f}"

    # Remove a class with its row's button: the table loses a row, the numbers follow.
    page.get_by_role("button", name="✕").first.click()  # dog
    wait_idle(page)
    assert p_airplane(page) == f"{sm.softmax(POST[1:3] + [value])[2]:.4f}"

    # The state is in the address bar: reopening the link shows the same numbers.
    params = parse_qs(urlparse(page.url).query)
    assert params["scores"] == [f"1.16,-0.81,{value:g}"] and params["classes"] == ["cat,boat,airplane"]
    shown = p_airplane(page)
    assert page.get_by_test_id("stException").count() == 0

    page.locator("h1").first.click()  # move focus (and its tooltip) off the last button
    page.mouse.move(5, 5)
    page.set_viewport_size({"width": 1400, "height": 2700})  # the app scrolls inside; show it all
    wait_idle(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explain.png"), full_page=True)

    page.goto(page.url)
    wait_idle(page)
    assert p_airplane(page) == shown


def test_broken_link_shows_a_message_not_a_traceback(page, app_server):
    page.goto(app_server.url + "/?scores=nan,abc,1e308&classes=solo")
    wait_idle(page)
    assert page.get_by_text("repaired").count() >= 1
    assert p_airplane(page) == "0.9315"
    assert page.get_by_test_id("stException").count() == 0
