"""A real browser on the Playground: steps lower the loss shown, the plot draws what the
numbers say, a click adds a point, and the page fits a desktop and a phone."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from core.playground.urlstate import PARAMS, decode_state
from core.playground.view import build_view
from tests.support import ARTIFACTS, wait_idle
from ui.playground_state import PLAY_STEPS

pytestmark = pytest.mark.e2e
PLANE = "[data-testid='stPlotlyChart']"  # the first chart on the page is the plane


def total_loss(page) -> float:
    metric = page.get_by_test_id("stMetric").filter(has_text="total loss")
    return float(metric.get_by_test_id("stMetricValue").inner_text())


def step_shown(page) -> int:
    caption = page.get_by_text(re.compile(r"^Step \d+ of this run")).inner_text()
    return int(caption.split()[1])


def shown_state(page):
    query = parse_qs(urlparse(page.url).query)
    state, messages = decode_state({k: v[-1] for k, v in query.items() if k in PARAMS})
    assert not messages, messages
    return state


def drawn_plane(page) -> dict:
    """What plotly drew on the plane: the regions' corners and the class lines' colours."""
    return (
        page.locator(PLANE)
        .first.locator(".js-plotly-plot")
        .evaluate(
            """gd => ({
            regions: gd._fullData.filter(t => t.fill === 'toself').map(t => [t.x, t.y]),
            lines: gd._fullData.filter(t => t.mode === 'lines').map(t => t.line.color),
            points: gd._fullData.filter(t => t.customdata).reduce((n, t) => n + t.x.length, 0),
        })"""
        )
    )


def assert_regions(drawn: dict, view) -> None:
    """The regions drawn are the exact polygons of the model the page says it has."""
    want = [c for c in view.plane.regions if len(c)]
    assert len(drawn["regions"]) == len(want)
    for (x, y), corners in zip(drawn["regions"], want):
        np.testing.assert_allclose(np.c_[x, y], np.vstack([corners, corners[:1]]), atol=1e-9)


def click_plane_at(page, x1: float, x2: float) -> None:
    plot = page.locator(PLANE).first.locator(".js-plotly-plot")
    plot.scroll_into_view_if_needed()
    x, y = plot.evaluate(
        """(gd, [x1, x2]) => {
            const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [r.left + xa._offset + xa.d2p(x1), r.top + ya._offset + ya.d2p(x2)];
        }""",
        [x1, x2],
    )
    page.mouse.click(x, y)


def choose(page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    if not page.get_by_role("option", name=option).is_visible():
        box.press("ArrowDown")  # a click on an already focused box can leave it shut
    page.get_by_role("option", name=option).click()
    wait_idle(page)


def overflow(page) -> list:
    """Every page-level box wider than its viewport (a sideways scroll on a phone)."""
    boxes = "html, body, [data-testid=stApp], [data-testid=stMain], [data-testid=stMainBlockContainer]"
    return page.evaluate(
        """boxes => [...document.querySelectorAll(boxes)]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => [e.tagName, e.scrollWidth, e.clientWidth])""",
        boxes,
    )


def full_screenshot(page, path, width: int) -> None:
    page.mouse.move(1, 1)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": height + 40})  # the app scrolls inside; show it all
    wait_idle(page)
    page.wait_for_timeout(500)  # plotly redraws at the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_playground_journey(page, app_server):
    page.goto(f"{app_server.url}/playground")
    wait_idle(page, 60_000)
    page.locator(PLANE).first.locator(".js-plotly-plot").wait_for()
    start = total_loss(page)

    # The regions and lines drawn are those of the W and b the page says it has.
    view = build_view(shown_state(page))
    drawn = drawn_plane(page)
    assert_regions(drawn, view)
    assert drawn["points"] == len(view.points)

    page.get_by_role("button", name="One step").click()
    wait_idle(page)
    one = total_loss(page)
    assert one < start
    page.get_by_role("button", name="Run 100 steps").click()
    wait_idle(page)
    assert total_loss(page) < one
    assert page.get_by_text("Step 101 of this run").count() == 1
    after = build_view(shown_state(page))
    assert f"{after.evaluation.total:.4f}" == f"{total_loss(page):.4f}"  # what is shown is the URL's state
    assert_regions(drawn_plane(page), after)
    # The README's picture (docs/playground.png is a copy: a test run leaves the checkout clean)
    full_screenshot(page, ARTIFACTS / "playground-readme.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Play: the page steps on its own, frame by frame, until it is switched off.
    page.get_by_text("Play", exact=True).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
            .some(c => /^Step (\\d+) of this run/.test(c.innerText) && +RegExp.$1 >= 111)""",
        timeout=20_000,
    )  # two frames or more
    at_click = step_shown(page)
    page.get_by_text("Play", exact=True).click()
    wait_idle(page)
    page.wait_for_timeout(500)
    stopped = step_shown(page)
    page.wait_for_timeout(1000)
    assert step_shown(page) == stopped and stopped >= 111
    # it stops at once: at most the frame in flight and one more (no backlog of frames)
    assert stopped <= at_click + 2 * PLAY_STEPS, (at_click, stopped)

    # A click on empty space in "adds a point" mode adds a point of the chosen class there.
    choose(page, "A click on the plot", "adds a point")
    click_plane_at(page, -2.4, -2.6)
    wait_idle(page)
    points = shown_state(page).all_points()
    assert len(points) == len(view.points) + 1
    x1, x2, cls = points[-1]
    assert abs(x1 + 2.4) <= 0.11 and abs(x2 + 2.6) <= 0.11 and cls == 0  # the nearest click target

    body = page.locator("[data-testid=stMain]").inner_text()
    assert "nan" not in body.split() and "None" not in body
    assert page.get_by_test_id("stException").count() == 0
    assert overflow(page) == []
    full_screenshot(page, ARTIFACTS / "playground-1400.png", 1400)

    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    page.wait_for_timeout(500)
    assert overflow(page) == []
    full_screenshot(page, ARTIFACTS / "playground-390.png", 390)
