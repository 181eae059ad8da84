"""A real browser on the Explain page, checked the way a student would look at it.

One server for the module. At 1400 px and at 390 x 844 (a phone): no sideways scroll,
nothing cut off (a metric, a label, a formula, a table cell), no "None" or "nan" where a
number belongs, the numbers shown equal core.softmax's, the true class marked. While a
slider is dragged the headline, the post's table and the bars follow the pointer,
computed in the browser: equal to core.softmax to 1e-9. Screenshots go to
tests/e2e/artifacts/ (explain-1400.png, explain-390.png, explain-drag.png).
"""

from __future__ import annotations

import json
import math
import os
import random
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core import softmax as sm
from core.explain.state import BASES, ExplainState, encode_state
from core.text import number
from tests.support import ARTIFACTS, Server, wait_idle

pytestmark = pytest.mark.e2e
POST = [-3.44, 1.16, -0.81, 3.91]

# Everything the live block (ui/explain_live.js) shows, read from its shadow DOM.
READ_LIVE = """(part) => {
  const box = document.querySelector(`.st-key-explain_live_${part}`);
  const host = box && [box, ...box.querySelectorAll('*')].find(e => e.shadowRoot);
  if (!host) return null;
  const root = host.shadowRoot;
  if (!root.querySelector('.live [data-cell]')) return null;
  const cells = [...root.querySelectorAll('[data-cell]')].map(c => ({
    cell: c.dataset.cell, text: c.textContent, value: c.dataset.value,
    row: c.closest('tr') ? [...c.closest('tbody').children].indexOf(c.closest('tr')) : null,
  }));
  const rows = [...root.querySelectorAll('tbody tr')].map(r => ({
    name: r.querySelector('th span').textContent, isTrue: r.classList.contains('true'),
    background: getComputedStyle(r).backgroundColor,
  }));
  const bars = [...root.querySelectorAll('.bar')].map(b => ({
    name: b.querySelector('.bar-name').textContent, colour: getComputedStyle(b.querySelector('.fill')).backgroundColor,
    width: b.querySelector('.fill').getBoundingClientRect().width, track: b.querySelector('.track').getBoundingClientRect().width,
  }));
  const cut = [...root.querySelectorAll('.label, .value, th, td, .bar-name, .bar-value')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
  const columns = [...root.querySelectorAll('thead th')].map(th => {
    const r = th.getBoundingClientRect(); return {text: th.textContent, left: r.left, right: r.right};
  });
  const tiles = [...root.querySelectorAll('.tile')].map(t => {
    const r = t.getBoundingClientRect(); return {text: t.textContent, bottom: r.bottom};
  });
  const table = root.querySelector('table.post');
  const lines = e => { const g = document.createRange(); g.selectNodeContents(e);
    return new Set([...g.getClientRects()].map(x => Math.round(x.top))).size; };
  const fit = table && {table: table.getBoundingClientRect().width,
    box: root.querySelector('.live').getBoundingClientRect().width,
    wrapped: [...root.querySelectorAll('td.num')].filter(td => lines(td) > 1).map(td => td.textContent)};
  return {cells, rows, bars, cut, columns, tiles, fit, text: root.querySelector('.live').textContent,
          live: host.dataset.live, updates: Number(host.dataset.liveUpdates || 0)};
}"""

# What a person notices on the page around the live block.
PAGE_PROBLEMS = """() => {
  const doc = document.documentElement;
  const cut = sel => [...document.querySelectorAll(sel)]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => (e.innerText || e.textContent).slice(0, 60));
  return {
    sideways: doc.scrollWidth - doc.clientWidth,
    formulas: cut('.katex-display'),
    metrics: cut('[data-testid=stMetricValue], [data-testid=stMetricLabel]'),
    labels: cut('[data-testid=stWidgetLabel] p, button p, [data-testid=stMarkdownContainer] p'),
    // a number must show whole in its box; so must a name of up to 10 characters (a longer
    // one scrolls in its box, and shows whole in the table)
    inputs: [...document.querySelectorAll('[data-testid=stNumberInput] input, [data-testid=stTextInput] input')]
      .filter(e => (e.type !== 'text' || e.value.length <= 10) && e.scrollWidth > e.clientWidth + 1)
      .map(e => e.value),
    text: document.querySelector('[data-testid=stMain]').innerText,
  };
}"""


TWO_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("explain-e2e")
    (base / "data").mkdir()
    srv = Server({"SOFTMAX_DATA_DIR": str(base / "data"), "SOFTMAX_CACHE_DIR": str(base / "cache")})
    yield srv
    srv.stop()


def open_explain(browser, server, width: int, height: int, params: dict | None = None):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(server.url + "/" + (f"?{urlencode(params)}" if params else ""))
    pg.locator(".st-key-explain_live_headline").wait_for()
    wait_idle(pg)
    wait_live(pg, "headline")
    return pg


def wait_live(pg, part: str, condition: str = "true", timeout: float = 30_000) -> None:
    """Wait until the live block `part` is drawn and `condition` (JS, on its reading `b`) holds."""
    pg.wait_for_function(
        f"(() => {{ const b = ({READ_LIVE})('{part}'); return b !== null && ({condition}); }})()",
        timeout=timeout,
    )


def live(pg, part: str) -> dict:
    return pg.evaluate(READ_LIVE, part)


def shown(pg, part: str, cell: str) -> list[str]:
    return [c["text"] for c in live(pg, part)["cells"] if c["cell"] == cell]


def p_airplane(pg) -> str:
    return shown(pg, "headline", "p")[0]


def check_numbers(pg, scores, target, temperature=1.0, base="e", rel=1e-9) -> None:
    """Every number the live block shows is core.softmax's, as text and to 1e-9 as a value."""
    table = sm.post_table(scores, temperature, BASES[base])
    expected = {"score": scores, "exp": table.exp, "p": table.probabilities, "nll": table.neg_log}
    cells = live(pg, "table")["cells"]
    for key, values in expected.items():
        got = [c for c in cells if c["cell"] == key]
        assert [c["text"] for c in got] == [number(x) for x in values], key
        for c, x in zip(got, values):
            v = float(c["value"])
            assert v == x or math.isclose(v, x, rel_tol=rel, abs_tol=1e-300), (key, v, x)
    head = {c["cell"]: c for c in live(pg, "headline")["cells"]}
    assert head["p"]["text"] == number(table.probabilities[target])
    assert math.isclose(float(head["loss"]["value"]), table.neg_log[target], rel_tol=rel, abs_tol=1e-300)
    assert head["rank"]["text"] == f"{sm.rank_of_target(scores, target)} of {len(scores)}"


def look(pg, name: str) -> dict:
    """Screenshot the whole page (the app scrolls inside; grow the viewport to show it)."""
    pg.locator("h1").first.click()  # focus and tooltips off the last control
    pg.mouse.move(1, 1)
    size = pg.viewport_size
    full = pg.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": size["width"], "height": max(size["height"], full)})
    wait_idle(pg)
    pg.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=True)
    problems = pg.evaluate(PAGE_PROBLEMS)
    pg.set_viewport_size(size)
    return problems


def assert_nothing_a_student_would_notice(pg, problems: dict) -> None:
    assert problems["sideways"] <= 0, f"the page scrolls sideways by {problems['sideways']} px"
    assert problems["formulas"] == [], f"formulas cut off: {problems['formulas']}"
    assert problems["metrics"] == [], f"metrics cut off: {problems['metrics']}"
    assert problems["labels"] == [], f"labels cut off: {problems['labels']}"
    assert problems["inputs"] == [], f"numbers or names cut off in their boxes: {problems['inputs']}"
    for part in ("headline", "table"):
        block = live(pg, part)
        assert block["cut"] == [], f"{part}: cut off {block['cut']}"
        assert "None" not in block["text"] and "nan" not in block["text"], block["text"]
    assert "None" not in problems["text"]
    assert pg.get_by_test_id("stException").count() == 0


@pytest.mark.parametrize(
    "width,height", [(1280, 800), (1400, 1000), (390, 844)], ids=["small-laptop", "laptop", "phone"]
)
def test_what_a_student_sees(browser, server, width, height):
    pg = open_explain(browser, server, width, height)
    check_numbers(pg, POST, 3)
    assert p_airplane(pg) == "0.9315" and shown(pg, "headline", "loss") == ["0.0709"]
    table = live(pg, "table")
    # The true class stands out: its row is marked and tinted, its bar red, the others blue.
    assert [r["isTrue"] for r in table["rows"]] == [False, False, False, True]
    assert table["rows"][3]["background"] != table["rows"][0]["background"]
    assert [b["colour"] for b in table["bars"]] == ["rgb(31, 119, 180)"] * 3 + ["rgb(214, 39, 40)"]
    assert table["bars"][3]["width"] == pytest.approx(0.9315 * table["bars"][3]["track"], abs=2)
    if width < 500:
        # A phone: p and the loss on the first screen; every column of the post's table
        # (-ln p included) inside the screen.
        tiles = {t["text"].split("0.")[0]: t["bottom"] for t in live(pg, "headline")["tiles"]}
        assert tiles["p(airplane)"] <= height and tiles["loss, nats"] <= height, tiles
        assert [c["text"] for c in table["columns"]][-1] == "-ln p"
        assert all(c["left"] >= 0 and c["right"] <= width for c in table["columns"]), table["columns"]
    assert_nothing_a_student_would_notice(pg, look(pg, f"explain-{width}.png"))

    # A confident mistake: airplane far behind. A tiny p keeps its exponent everywhere.
    pg.goto(server.url + "/?" + urlencode({"scores": "-3.44,1.16,-0.81,-30"}))
    wait_idle(pg)
    wait_live(pg, "headline", "b.cells[0].text.includes('×')")
    scores = [-3.44, 1.16, -0.81, -30.0]
    check_numbers(pg, scores, 3)
    tiny = number(sm.softmax(scores)[3])
    assert "× 10⁻" in tiny and p_airplane(pg) == tiny
    fit = live(pg, "table")["fit"]  # the post's table inside its column, every column seen
    assert fit["table"] <= fit["box"] + 1, fit
    if width >= 1280:
        assert fit["wrapped"] == [], fit  # a laptop: 9.36 × 10⁻¹⁴ on one line
    latex = pg.locator(".katex-display").first.inner_text()
    assert "10" in latex and tiny.split(" ")[0] in latex  # the formula keeps the exponent too
    assert_nothing_a_student_would_notice(pg, look(pg, f"explain-tiny-{width}.png"))
    pg.context.close()


def seen(texts: list[str]) -> list[str]:
    """Text as a reader sees it: without core.text.md's invisible word joiners."""
    return [t.replace("\u2060", "") for t in texts]


HOSTILE = ["**bold**", "<img src=x onerror=alert(1)>", "[a](http://evil.example)", "$\\Huge{x}$"]


def test_names_are_shown_as_text_everywhere(browser, server):
    """Markdown, HTML and LaTeX in class names (from a shared link) stay text: in the labels,
    the radio, the headline, the table, the top-k line and the charts; nothing is fetched."""
    pg = open_explain(browser, server, 1400, 1000, {"classes": ",".join(HOSTILE), "scores": "1,2,3,4"})
    alerts = []
    pg.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    assert [r["name"] for r in live(pg, "table")["rows"]] == HOSTILE
    assert live(pg, "headline")["tiles"][0]["text"].startswith(f"p({HOSTILE[3]})")
    labels = seen(pg.locator("[data-testid=stWidgetLabel]").all_inner_texts())
    assert [f"score of {n}" for n in HOSTILE] == [t for t in labels if t.startswith("score of")]
    options = seen(pg.get_by_test_id("stRadio").first.locator("[role=radiogroup] label").all_inner_texts())
    assert [o.strip() for o in options] == HOSTILE
    assert f"{HOSTILE[3]} ranks 1 of 4" in seen([pg.get_by_test_id("stMain").inner_text()])[0]
    ticks = pg.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(p => p._fullLayout.xaxis.ticktext || [])"
    )
    assert all("&lt;img" in t for t in ticks if "img" in t) and ticks, ticks  # escaped, drawn as text
    svg_text = pg.evaluate("() => [...document.querySelectorAll('.xtick text')].map(t => t.textContent)")
    assert HOSTILE[1] in svg_text
    page = pg.evaluate(
        "() => ({imgs: document.querySelectorAll('img[src=x]').length,"
        " links: [...document.querySelectorAll('a')].filter(a => a.hostname === 'evil.example').length,"
        " huge: document.querySelectorAll('.sizing.reset-size6.size10, .huge').length})"
    )
    assert page == {"imgs": 0, "links": 0, "huge": 0} and alerts == []
    pg.context.close()


def test_explain_journey(browser, server):
    pg = open_explain(browser, server, 1400, 1000)
    # Exact entry: type a new airplane score, as a user does.
    box = pg.get_by_label("exact score of airplane")
    box.fill("1")
    box.press("Enter")
    wait_idle(pg)
    wait_live(pg, "headline", "b.cells[0].text === '0.4257'", timeout=10_000)
    assert p_airplane(pg) == f"{sm.softmax(POST[:3] + [1.0])[3]:.4f}" == "0.4257"

    # The slider, from the keyboard: a step of 0.01 per arrow key.
    thumb = pg.get_by_role("slider", name="score of airplane")
    for _ in range(3):  # a key press can land while the thumb is still taking focus: retry
        thumb.focus()
        thumb.press("ArrowRight")
        try:
            wait_live(pg, "headline", "b.cells[0].text !== '0.4257'", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    wait_idle(pg)
    value = float(box.input_value())  # the exact entry follows the slider
    assert value > 1.0
    wait_scores(pg, POST[:3] + [value])
    assert p_airplane(pg) == f"{sm.softmax(POST[:3] + [value])[3]:.4f}"

    # Remove dog with its row's button: the table loses a row, the numbers follow.
    pg.get_by_role("button", name="✕").first.click()
    wait_idle(pg)
    wait_scores(pg, POST[1:3] + [value])
    check_numbers(pg, POST[1:3] + [value], 2)

    # The state is in the address bar: reopening the link shows the same numbers.
    params = parse_qs(urlparse(pg.url).query)
    assert params["scores"] == [f"1.16,-0.81,{value:g}"] and params["classes"] == ["cat,boat,airplane"]
    shown_before = p_airplane(pg)
    pg.goto(pg.url)
    wait_idle(pg)
    wait_live(pg, "headline")
    assert p_airplane(pg) == shown_before
    assert pg.get_by_test_id("stException").count() == 0
    pg.context.close()


def test_broken_link_shows_a_message_not_a_traceback(browser, server):
    pg = open_explain(browser, server, 1400, 1000, {"scores": "nan,abc,1e308", "classes": "solo"})
    assert pg.get_by_text("repaired").count() >= 1
    assert p_airplane(pg) == "0.9315"
    assert pg.get_by_test_id("stException").count() == 0
    pg.context.close()


# ---------------------------------------------------------------- live while dragging


def set_slider_in_browser(pg, key: str, value: float) -> float:
    """What React does on a drag, done directly: the slider's input takes a value (held to
    its step, as a range input does) and its aria-valuetext is redrawn. Returns the value."""
    return pg.evaluate(
        """([key, value]) => {
            const input = document.querySelector(`.st-key-${key} input[type="range"]`);
            input.value = String(value);
            input.setAttribute('aria-valuetext', input.value);
            return Number(input.value);
        }""",
        [key, value],
    )


def wait_scores(pg, scores: list[float]) -> None:
    """Wait until the live table shows these scores (its first column, as values) and the
    headline is drawn."""
    want = [repr(float(x)).removesuffix(".0") for x in scores]
    condition = f"JSON.stringify(b.cells.filter(c => c.cell === 'score').map(c => String(Number(c.value)))) === '{json.dumps(want, separators=(',', ':'))}'"
    try:
        wait_live(pg, "table", condition, timeout=5_000)
    except PlaywrightTimeout:
        got = [c["value"] for c in live(pg, "table")["cells"] if c["cell"] == "score"]
        raise AssertionError(f"the live table shows scores {got}, not {want}") from None
    # after a page load the headline's frame can mount a moment after the table's
    wait_live(pg, "headline", timeout=10_000)
    pg.evaluate(TWO_FRAMES)  # and anything else set with them (the temperature) drawn too


def test_the_browsers_numbers_equal_core_softmax_for_random_states(browser, server):
    """Random scores, temperatures and log bases, each loaded from a link, then slider
    values set in the browser: the live block's numbers equal core.softmax's to 1e-9."""
    rng = random.Random(int(os.environ.get("EXPLAIN_SEED", "15")))
    pg = open_explain(browser, server, 1400, 1000)
    for _ in range(4):
        k = rng.randint(2, 6)
        scores = [round(rng.uniform(-9.5, 9.5), 2) for _ in range(k)]
        target, t, base = rng.randrange(k), rng.choice([0.25, 0.5, 1.0, 2.35, 7.0]), rng.choice(list(BASES))
        state = ExplainState(tuple(f"c{i}" for i in range(k)), tuple(scores), target, base, t)
        pg.goto(server.url + "/?" + urlencode(encode_state(state)))
        wait_idle(pg)
        wait_scores(pg, scores)
        check_numbers(pg, scores, target, t, base)  # the server's numbers, as drawn
        for _ in range(5):
            i = rng.randrange(k)
            scores[i] = set_slider_in_browser(pg, f"slider_{i}", round(rng.uniform(-10, 10), 2))
            if rng.random() < 0.4:
                t = set_slider_in_browser(pg, "temperature", round(rng.uniform(0.05, 10), 2))
            wait_scores(pg, scores)  # drawn on the next animation frame
            check_numbers(pg, scores, target, t, base)
    pg.context.close()


# A pointer stream as fast as a real mouse sends one (two events a frame, about 120 a second),
# made in the page so that the test's own round trips do not set the pace. Returns
# (updates of the live table, seconds).
FAST_DRAG = """async ([x0, y, width, ms]) => {
  const host = [...document.querySelectorAll('.st-key-explain_live_table *')].find(e => e.shadowRoot);
  const before = Number(host.dataset.liveUpdates || 0);
  const t0 = performance.now();
  await new Promise(done => {
    const tick = () => {
      const t = performance.now() - t0;
      if (t > ms) return done();
      for (const k of [0, 0.5]) {
        const x = x0 - width * 0.5 * Math.min(1, (t + k * 8) / ms);
        window.dispatchEvent(new PointerEvent('pointermove', {clientX: x, clientY: y, pointerId: 1,
          pointerType: 'mouse', isPrimary: true, buttons: 1, bubbles: true}));
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
  return [Number(host.dataset.liveUpdates || 0) - before, (performance.now() - t0) / 1000];
}"""


def test_the_table_follows_a_mouse_drag(browser, server):
    """A real drag of the airplane slider: the headline, the table and the bars follow the
    pointer (the server hears nothing until release), then the server's numbers agree."""
    pg = open_explain(browser, server, 1400, 1000)
    track = pg.locator(".st-key-slider_3 [role=group] > div").first.bounding_box()
    x0, y = track["x"] + track["width"] * (3.91 + 10) / 20, track["y"] + track["height"] / 2
    pg.mouse.move(x0, y)
    pg.mouse.down()
    seen = set()
    for i in range(1, 41):  # the mouse, moved by the test: every move is drawn
        pg.mouse.move(x0 - i * track["width"] / 200, y)
        if i % 8 == 0:
            seen.add(p_airplane(pg))
    assert len(seen) == 5, f"the headline did not follow the pointer: {seen}"
    assert live(pg, "headline")["live"] == "dragging"
    pg.evaluate(
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )  # the last move drawn
    dragged = float(pg.evaluate("document.querySelector('.st-key-slider_3 input').value"))
    check_numbers(pg, POST[:3] + [dragged], 3)  # the browser's numbers, mid-drag
    # The exact box beside the slider follows it too (the server hears of it on release).
    assert pg.get_by_label("exact score of airplane").input_value() == f"{dragged:g}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "explain-drag.png"))

    # How fast it follows: a steady two-second drag at a real mouse's event rate.
    x1 = x0 - 40 * track["width"] / 200
    updates, seconds = pg.evaluate(FAST_DRAG, [x1, y, track["width"], 2000])
    pg.evaluate(TWO_FRAMES)
    dragged = float(pg.evaluate("document.querySelector('.st-key-slider_3 input').value"))
    assert dragged < -5, dragged  # the pointer stream moved the slider
    check_numbers(pg, POST[:3] + [dragged], 3)
    assert pg.get_by_label("exact score of airplane").input_value() == f"{dragged:g}"

    pg.mouse.up()
    wait_idle(pg)
    wait_live(pg, "table", "b.live === 'rest'")  # the server's rerun has caught up with the slider
    final = float(pg.get_by_label("exact score of airplane").input_value())
    assert final == float(pg.evaluate("document.querySelector('.st-key-slider_3 input').value"))
    check_numbers(pg, POST[:3] + [final], 3)  # the server's numbers after release: the same
    assert parse_qs(urlparse(pg.url).query)["scores"][0].endswith(f",{final:g}")  # and the link
    rate = updates / seconds
    print(f"\nlive updates during a drag: {updates} in {seconds:.2f} s = {rate:.0f} per second")
    (ARTIFACTS / "explain-drag-rate.txt").write_text(f"{rate:.1f} updates/s ({updates} in {seconds:.2f} s)\n")
    assert rate >= 30, f"{rate:.0f} updates a second during a drag (target 30)"
    pg.context.close()


def test_quick_key_presses_all_count(browser, server):
    """A teacher taps an arrow key five times, faster than the server answers: every press
    counts (a rerun that carried an address from a few presses ago used to undo them)."""
    pg = open_explain(browser, server, 1400, 1000)
    thumb = pg.get_by_role("slider", name="score of airplane")
    thumb.focus()
    for _ in range(5):
        pg.keyboard.press("ArrowLeft")
        pg.wait_for_timeout(30)
    box = pg.get_by_label("exact score of airplane")
    try:
        pg.wait_for_function(
            "() => document.querySelector('.st-key-number_3 input').value === '3.86'", timeout=10_000
        )
    except PlaywrightTimeout:
        pass
    pg.wait_for_timeout(1500)  # anything still to come from the server
    wait_idle(pg)
    assert box.input_value() == "3.86", "five presses of 0.01 from 3.91"
    wait_scores(pg, POST[:3] + [3.86])
    check_numbers(pg, POST[:3] + [3.86], 3)
    assert parse_qs(urlparse(pg.url).query)["scores"] == ["-3.44,1.16,-0.81,3.86"]
    pg.context.close()
