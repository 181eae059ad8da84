"""The Train and Classify pages in a real browser, looked at the way a student would.

At 1400 px and on a 390 x 844 phone, after a training and an upload: no sideways
scroll, no metric or label cut off, no "None" or "nan" where a number belongs, the
confusion matrix darker where there are more images, the report printed as sklearn
prints it; the uploads survive a visit to the Explain page, which says where its
scores came from. Screenshots: tests/e2e/artifacts/{train,train-weights,classify}-{1400,390}.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.paths import data_dir
from harness.images import CLASS_COLORS, encode, make_image, make_kaggle_folder
from tests.support import ARTIFACTS, go, open_session, wait_idle

pytestmark = pytest.mark.e2e
WIDTHS = (1400, 390)

# Elements wider than their box (a cut label, a clipped metric), and the page's own width.
LAYOUT = """() => {
  const doc = document.documentElement;
  // charts a student can see (not those inside a closed "Why this answer?")
  const shownPlots = () => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.checkVisibility());
  const cut = [...document.querySelectorAll(
      '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], [data-testid="stWidgetLabel"], '
      + '[data-testid="stCaptionContainer"], .katex-display')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 2)
    .map(e => e.innerText.slice(0, 60));
  // A chart's title or tick label that runs past the chart's own box.
  for (const plot of shownPlots()) {
    const box = plot.getBoundingClientRect();
    for (const t of plot.querySelectorAll('.gtitle, .ytick text, .xtick text')) {
      const r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 2 || r.right > box.right + 2)) cut.push('chart: ' + t.textContent.slice(0, 60));
    }
  }
  // Two pieces of a chart's text drawn over each other (a bar's value over an axis label,
  // two panels' titles): each pair once; slanted tick labels among themselves are plotly's.
  const overlap = [];
  const TEXT = '.gtitle, .xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .annotation-text, '
    + '.bartext, .textpoint text, .legendtext';
  for (const plot of shownPlots()) {
    const items = [...plot.querySelectorAll(TEXT)]
      .filter(t => t.textContent.trim() && getComputedStyle(t).visibility !== 'hidden' && t.getAttribute('opacity') !== '0')
      .map(t => ({t, r: t.getBoundingClientRect(), tick: !!t.closest('.xtick')}))
      .filter(a => a.r.width > 0 && a.r.height > 0);
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.tick && b.tick) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 2 && h > 2) overlap.push(`${a.t.textContent.slice(0, 40)} | ${b.t.textContent.slice(0, 40)}`);
    }
  }
  return {page: doc.scrollWidth - doc.clientWidth, cut, overlap};
}"""
# Every visible chart drawn at its box's width (plotly redraws a moment after a resize).
REFLOWED = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.checkVisibility()).every(p => {
  const box = p.getBoundingClientRect(), svg = p.querySelector('.main-svg');
  return !box.width || !svg || Math.abs(svg.getBoundingClientRect().width - box.width) <= 2;
})"""
# A number's place holding the words a bug leaves there.
NOT_NUMBERS = re.compile(r"(?<![\w'])(None|nan|NaN|undefined)(?![\w'])")


def _look(pg, name: str, width: int) -> dict:
    height = 844 if width < 500 else 1000
    pg.set_viewport_size({"width": width, "height": height})
    wait_idle(pg)
    pg.wait_for_timeout(400)  # charts lay out again at the new width
    try:  # ... each chart once its drawing fits its box again (a dozen charts take a moment)
        pg.wait_for_function(REFLOWED, timeout=10_000)
    except PlaywrightTimeout:
        pass  # the check below then names what does not fit
    layout = pg.evaluate(LAYOUT)
    text = pg.get_by_test_id("stMain").inner_text()
    # The page scrolls inside Streamlit's main block: a window as tall as the page shows it all.
    tall = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": width, "height": min(max(tall, height), 16000)})
    pg.wait_for_timeout(400)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))
    pg.set_viewport_size({"width": width, "height": height})
    return {**layout, "bad": NOT_NUMBERS.findall(text), "text": text}


def _confusion_colours(pg) -> dict:
    """The confusion matrix as plotly drew it: its counts and the colour scale it resolved."""
    return pg.evaluate(
        """() => {
          const plots = [...document.querySelectorAll('.js-plotly-plot')];
          const title = p => (p._fullLayout?.title?.text || p.layout?.title?.text || '');
          const cm = plots.find(p => title(p).includes('Confusion'));
          if (!cm) return {titles: plots.map(title)};
          const hm = cm._fullData.find(t => t.type === 'heatmap');
          return {z: hm.z, scale: hm.colorscale, zmax: hm.zmax};
        }"""
    )


def _darkness(css: str) -> float:
    if css.startswith("#"):
        r, g, b = (int(css[i : i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return 1 - (0.299 * r + 0.587 * g + 0.114 * b) / 255


def test_train_page_reads_right_at_every_width(browser, app_server):
    make_kaggle_folder(data_dir() / "pets", per_class=30)
    pg = open_session(browser, app_server.url, "Train")
    pg.get_by_role("button", name="Train", exact=True).click()
    pg.get_by_text("Results on pets").wait_for(timeout=60_000)
    wait_idle(pg, 60_000)
    for width in WIDTHS:
        seen = _look(pg, "train", width)
        assert seen["page"] <= 1, f"sideways scroll of {seen['page']} px at {width} px"
        assert seen["cut"] == [], (width, seen["cut"])
        assert seen["overlap"] == [], (width, seen["overlap"])
        assert seen["bad"] == [], (width, seen["bad"])
    # The other tab of what the model learned: the weights as colours, their numbers clear.
    pg.get_by_role("tab", name="Weights as colours").click()
    wait_idle(pg)
    for width in WIDTHS:
        seen = _look(pg, "train-weights", width)
        assert seen["cut"] == [] and seen["overlap"] == [], (width, seen["cut"], seen["overlap"])
    pg.get_by_role("tab", name="Confusion matrix").click()
    wait_idle(pg)
    # Darker means more images, in the colours plotly resolved.
    cm = _confusion_colours(pg)
    assert "z" in cm, cm
    scale = cm["scale"]
    dark = [_darkness([c for at, c in scale if at <= z / cm["zmax"]][-1]) for row in cm["z"] for z in row]
    counts = [z for row in cm["z"] for z in row]
    ranked = [d for _, d in sorted(zip(counts, dark))]
    assert ranked == sorted(ranked) and ranked[0] < ranked[-1]
    # The report as sklearn prints it: the accuracy row's precision and recall blank.
    row = pg.get_by_test_id("stTable").first.locator("tr", has_text="accuracy")
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[:2] == ["", ""] and re.fullmatch(r"0\.\d\d|1\.00", cells[2]), cells
    pg.context.close()


def test_classify_keeps_the_uploads_through_a_visit_to_explain(browser, app_server, tmp_path):
    make_kaggle_folder(data_dir() / "pets", per_class=20)
    pg = open_session(browser, app_server.url, "Classify")
    pg.get_by_role("button", name="Train a model now").click()
    wait_idle(pg, 60_000)
    photos = []
    for i, c in enumerate(("cat", "dog", "cat")):
        path = tmp_path / f"{c}-{i}.jpg"
        path.write_bytes(encode(make_image(CLASS_COLORS[c], size=(300, 400), seed=i, noise=40)))
        photos.append(str(path))
    uploader = pg.get_by_test_id("stFileUploader").filter(has_text="Images to classify")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(photos)
    pg.get_by_text("3 images, most confident first").wait_for(timeout=30_000)
    wait_idle(pg)
    pg.get_by_text("Why this answer?").first.click()  # its histogram and its terms, drawn
    pg.get_by_text("The score of").first.wait_for()
    wait_idle(pg)
    for width in WIDTHS:
        seen = _look(pg, "classify", width)
        assert seen["page"] <= 1, f"sideways scroll of {seen['page']} px at {width} px"
        assert seen["cut"] == [], (width, seen["cut"])
        assert seen["overlap"] == [], (width, seen["overlap"])  # the open "Why this answer?" too
        assert seen["bad"] == [], (width, seen["bad"])
    pg.set_viewport_size({"width": 1400, "height": 1000})
    wait_idle(pg)
    # To the Explain page with one image's scores, and back.
    pg.get_by_role("button", name="Open these scores on the Explain page").first.click()
    wait_idle(pg)
    pg.get_by_text(
        re.compile(r"cat-0\.jpg|dog-1\.jpg|cat-2\.jpg")
    ).first.wait_for()  # where the scores came from
    go(pg, "Classify")
    pg.get_by_text("3 images, most confident first").wait_for(timeout=30_000)
    assert pg.get_by_text("kept from earlier in this session").count() == 1
    pg.context.close()
