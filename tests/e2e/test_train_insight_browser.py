"""A real browser on the Train page's insight views, as a student would look at them, at
1400 px and at 390 px (a phone): the weights drawn in the colours they vote with (bluish
votes dog, reddish votes cat on reddish cats and bluish dogs), the loss, the split seeds
and the alpha sweep; no sideways scroll, no "None" or "nan", the numbers shown equal
core's. Then Classify with that model: an upload's score as a waterfall adding up to z.
Screenshots: tests/e2e/artifacts/train-insight-1400.png and -390.png (-alpha-1400.png and
-alpha-390.png: the Regularisation tab; -readme.png: the README's picture),
classify-terms-1400.png and -390.png."""

from __future__ import annotations

import colorsys
import os
import re
from pathlib import Path

import numpy as np
import pytest

from core.charts.insight import swatch
from core.learn import insight
from core.learn.classify import classify_one
from core.learn.config import ALPHAS, TrainConfig
from core.learn.train import train_folder
from core.text import number
from harness.images import CLASS_COLORS, encode, make_image, write_image
from tests.support import ARTIFACTS, wait_idle

pytestmark = pytest.mark.e2e
UPLOAD_INPUT = ".st-key-uploads [data-testid='stFileUploaderDropzoneInput']"

# What plotly drew, from its resolved traces (the chart element's _fullData).
DRAWN = """key => {
  const plot = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  if (!plot || !plot._fullData) return null;
  return plot._fullData.map(t => ({x: Array.from(t.x || []), y: Array.from(t.y || []),
    colours: t.marker && Array.isArray(t.marker.color) ? t.marker.color : [],
    customdata: Array.from(t.customdata || []), type: t.type}));
}"""
OVERFLOW = """() => {
  const boxes = 'html, body, [data-testid=stApp], [data-testid=stMain], [data-testid=stMainBlockContainer]';
  const wide = [...document.querySelectorAll(boxes)].filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => [e.tagName, e.scrollWidth, e.clientWidth]);
  const cut = [...document.querySelectorAll('[data-testid=stMetricValue], [data-testid=stMetricLabel]')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText);
  const charts = [...document.querySelectorAll('.js-plotly-plot')].filter(e => e.offsetParent !== null)
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length;
  return {wide, cut, charts, text: document.querySelector('[data-testid=stMain]').innerText};
}"""


def make_pets(root: Path) -> Path:
    """Reddish cats and bluish dogs (noisy, so each image spreads over a few colour bins),
    and 15 of each in the other's colours: the confident mistakes."""
    for c in ("cat", "dog"):
        for i in range(150):
            write_image(root / f"{c}.{i}.jpg", color_bgr=CLASS_COLORS[c], seed=i, noise=60)
    for i in range(15):
        write_image(root / f"cat.{1000 + i}.jpg", color_bgr=CLASS_COLORS["dog"], seed=4000 + i, noise=60)
        write_image(root / f"dog.{1000 + i}.jpg", color_bgr=CLASS_COLORS["cat"], seed=5000 + i, noise=60)
    return root


def drawn(page, key: str) -> list[dict]:
    page.wait_for_function(f"({DRAWN})('{key}') !== null")
    return page.evaluate(DRAWN, key)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def hue_of(css: str) -> float:
    r, g, b = (int(c) / 255 for c in re.findall(r"\d+", css)[:3])
    return 360 * colorsys.rgb_to_hsv(r, g, b)[0]


def check(page, width: int) -> None:
    """What a student would notice at this width, on each tab of the new views."""
    for name in ("Weights as colours", "Other splits", "Regularisation"):
        tab(page, name)
        page.wait_for_timeout(300)  # plotly redraws at the tab's width
        seen = page.evaluate(OVERFLOW)
        assert seen["wide"] == [], f"{width}px, {name}: the page scrolls sideways {seen['wide']}"
        assert seen["cut"] == [], f"{width}px, {name}: metrics cut off {seen['cut']}"
        assert seen["charts"] == 0, f"{width}px, {name}: a chart runs off the screen"
        assert not re.search(r"\b(None|nan|NaN)\b", seen["text"]), f"{width}px, {name}"
    assert page.get_by_test_id("stException").count() == 0


def screenshot(page, width: int, name: str) -> None:
    page.mouse.move(1, 1)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": height + 40})  # the app scrolls inside; show it all
    wait_idle(page)
    page.wait_for_timeout(600)  # plotly redraws at the new size
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_insight_views_as_a_student_sees_them(page, app_server):
    data = Path(os.environ["SOFTMAX_DATA_DIR"])
    root = make_pets(data / "pets")
    run = train_folder(root, TrainConfig(), dataset_name="pets", within=data)  # core's numbers
    post = run.post
    page.goto(app_server.url + "/train")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_idle(page, timeout=60_000)
    page.get_by_text("Where the loss comes from").wait_for()

    # The loss: its mean is log_loss, both shown as core computes them.
    losses = insight.image_losses(post)
    assert metric(page, "Mean of −ln p(true class)") == number(losses.mean)
    assert metric(page, "scikit-learn's log_loss") == number(insight.test_log_loss(post))
    hist = drawn(page, "loss_hist")
    assert sorted(hist[0]["x"] + hist[1]["x"]) == pytest.approx(sorted(losses.loss))

    # The weights, drawn in the colours they vote with.
    tab(page, "Weights as colours")
    bars = drawn(page, "weights_chart")[0]
    vector = insight.weight_vector(post.model.coef, post.model.intercept, post.classes, 0)
    assert bars["x"] == pytest.approx([w.weight for w in (*vector.positive, *vector.negative)])
    bluish = [150 <= hue_of(c) <= 260 for c in bars["colours"]]
    reddish = [hue_of(c) <= 45 or hue_of(c) >= 330 for c in bars["colours"]]
    x = np.asarray(bars["x"])
    assert x[0] > 0 and bluish[0] and x[-len(vector.negative)] < 0 and reddish[-len(vector.negative)]
    assert x[(x > 0) & bluish].sum() > x[(x > 0) & reddish].sum()  # the dogs are bluish: they vote dog
    assert -x[(x < 0) & reddish].sum() > -x[(x < 0) & bluish].sum()  # the cats reddish
    notes = page.locator(".st-key-weights_chart .annotation-text").evaluate_all(
        "es => es.map(e => e.textContent)"
    )
    assert "votes dog →" in notes and "← votes cat" in notes
    # A click on the most negative bar chooses it: the images with the most of that colour.
    bar = page.locator(".st-key-weights_chart .point").nth(len(vector.positive))
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    chosen = page.get_by_test_id("stSelectbox").filter(has_text="Colour (click a bar")
    assert swatch(vector.negative[0].index, post.model.bins).label in chosen.evaluate(
        "e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')"
    )
    gallery = page.get_by_test_id("stImage").filter(has_text="of pixels")
    assert gallery.count() >= 1

    # How sure: five splits, and the sweep.
    tab(page, "Other splits")
    button = page.get_by_role("button", name=re.compile(r"^Train on \d+ splits"))
    n = int(re.search(r"\d+", button.inner_text()).group())
    button.click()
    wait_idle(page, timeout=120_000)
    seeds = drawn(page, "seeds_chart")
    assert len(seeds[0]["x"]) == 5 * n  # five models, n splits each
    assert page.get_by_text(re.compile(rf"^Over {n} splits")).count() == 1
    tab(page, "Regularisation")
    page.get_by_role("button", name="Sweep alpha").click()
    wait_idle(page, timeout=120_000)
    assert drawn(page, "alpha_accuracy")[0]["x"] == pytest.approx(list(ALPHAS))

    check(page, 1400)
    screenshot(page, 1400, "train-insight-alpha-1400.png")  # the Regularisation tab
    tab(page, "Weights as colours")
    tab(page, "Other splits")
    screenshot(page, 1400, "train-insight-1400.png")
    # The README's picture (docs/train-insight.png is a copy): from the replay to the top losses.
    top = page.get_by_role("heading", name="What the model learned, epoch by epoch").bounding_box()
    end = page.get_by_role("heading", name="Probability gaps").bounding_box()
    main = page.get_by_test_id("stMainBlockContainer").bounding_box()
    clip = {"x": main["x"], "y": top["y"] - 10, "width": main["width"], "height": end["y"] - top["y"]}
    page.screenshot(path=str(ARTIFACTS / "train-insight-readme.png"), clip=clip, full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    check(page, 390)
    screenshot(page, 390, "train-insight-alpha-390.png")
    page.set_viewport_size({"width": 390, "height": 844})
    tab(page, "Weights as colours")
    tab(page, "Other splits")
    screenshot(page, 390, "train-insight-390.png")

    # Classify, with the model just trained: a dog's score, term by term, adds up to z.
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Classify").click()
    wait_idle(page)
    data = encode(make_image(CLASS_COLORS["dog"], size=(120, 160), noise=60, seed=7))
    page.locator(UPLOAD_INPUT).set_input_files(
        [{"name": "my-dog.jpg", "mimeType": "image/jpeg", "buffer": data}]
    )
    wait_idle(page)
    page.get_by_text("Where the score comes from").wait_for()
    wait_idle(page)
    result = classify_one(post.model, "my-dog.jpg", data)
    terms = insight.score_terms(post.model, result.hist, 0)
    steps = drawn(page, "terms_0")[0]
    assert steps["x"][-1] == pytest.approx(result.scores[1], abs=1e-12)  # the score Explain is handed
    assert steps["colours"][: len(terms.terms)] == [swatch(t.index, post.model.bins).css for t in terms.terms]
    caption = page.get_by_text("the score the Explain page is handed").inner_text()
    assert f"= {number(result.scores[1])}" in caption
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 1000})
        wait_idle(page)
        page.wait_for_timeout(300)
        seen = page.evaluate(OVERFLOW)
        assert seen["wide"] == [] and seen["charts"] == 0, (width, seen["wide"])
        assert not re.search(r"\b(None|nan|NaN)\b", seen["text"])
        screenshot(page, width, f"classify-terms-{width}.png")
