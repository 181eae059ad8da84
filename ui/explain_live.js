// The Explain page's live block (st.components.v2): the headline (p, loss, rank) or the
// post's table with its probability bars. At rest it shows what the server computed
// (data.shown). While a score slider (or the temperature) is being dragged it computes
// the same numbers here, from the slider's value, on every change the slider draws:
// the server hears the final value on release and then sends its own numbers again.
//
// Every string from the user (class names) arrives as data and is set as textContent:
// nothing here is ever parsed as HTML.

// ------------------------------------------------------------------ the maths
// The same operations, in the same order, as core/softmax.py's kernels.

export function explain(scores, target, temperature, base) {
  const t = temperature;
  const max = Math.max(...scores);
  const shifted = scores.map((s) => (s - max) / t); // max is 0: nothing overflows
  const lse = Math.log(shifted.reduce((acc, z) => acc + Math.exp(z), 0));
  const logp = shifted.map((z) => z - lse);
  const lnBase = Math.log(base === "e" ? Math.E : Number(base));
  const probabilities = logp.map(Math.exp);
  const negLog = logp.map((l) => -l / lnBase);
  const exp = scores.map((s) => Math.exp(s / t)); // as written: Infinity above 709.78
  const rank = scores.filter((s, j) => j !== target && s >= scores[target]).length + 1;
  return { exp, probabilities, negLog, p: probabilities[target], loss: negLog[target], rank };
}

// ------------------------------------------------------------------ numbers, as core.text.number

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// Python rounds an exact tie to even (0.03125 -> 0.0312); toFixed/toExponential round it up.
function halfEven(x, digits, exponential) {
  const text = exponential ? x.toExponential(digits) : x.toFixed(digits);
  const exact = exponential ? x.toExponential(Math.min(100, digits + 40)) : x.toFixed(Math.min(100, digits + 40));
  const [mant] = exact.split("e");
  const cut = mant.indexOf(".") + 1 + digits;
  if (!/^50*$/.test(mant.slice(cut))) return text;
  const last = Number(mant[cut - 1]);
  if (last % 2 === 1) return text; // rounding up lands on even
  const kept = mant.slice(0, cut).replace(/\.$/, "");
  return exponential ? `${kept}e${exact.split("e")[1]}` : kept;
}

export function number(x, decimals = 4) {
  x = x + 0.0;
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x === 0) x = 0; // -0 prints as 0
  if (x !== 0 && (Math.abs(x) < 10 ** -decimals || Math.abs(x) >= 1e6)) {
    const [mantissa, exponent] = halfEven(x, 2, true).split("e");
    const sup = String(Number(exponent)).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c]);
    return `${mantissa} × 10${sup}`;
  }
  return halfEven(x, decimals, false);
}

// ------------------------------------------------------------------ drawing

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawHeadline(root, data) {
  const box = el("div", "headline");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "the true class's probability and loss");
  for (const [name, label] of [["p", data.labels.p], ["loss", data.labels.loss], ["rank", data.labels.rank]]) {
    const tile = el("div", `tile tile-${name}`);
    tile.append(el("div", "label", label), el("div", "value"));
    tile.lastChild.dataset.cell = name;
    box.append(tile);
  }
  root.append(box);
}

function drawTable(root, data) {
  const wrap = el("div", "table-wrap");
  const table = el("table", "post");
  table.setAttribute("aria-label", "the post's table");
  const head = el("tr");
  data.columns.forEach((c, i) => head.append(el("th", i ? "num" : "", c)));
  table.append(el("thead"));
  table.firstChild.append(head);
  const body = el("tbody");
  data.classes.forEach((name, i) => {
    const tr = el("tr", i === data.target ? "true" : "");
    const th = el("th", "name");
    th.setAttribute("scope", "row");
    th.append(el("span", "", name));
    if (i === data.target) th.append(el("span", "badge", "true class"));
    tr.append(th);
    for (const col of ["score", "exp", "p", "nll"]) {
      const td = el("td", "num");
      td.dataset.cell = col;
      tr.append(td);
    }
    body.append(tr);
  });
  table.append(body);
  wrap.append(table);

  const bars = el("div", "bars");
  bars.setAttribute("role", "img");
  bars.setAttribute("aria-label", "probabilities, the true class in red");
  bars.append(el("div", "bars-title", "Probabilities (true class in red)"));
  data.classes.forEach((name, i) => {
    const row = el("div", i === data.target ? "bar true" : "bar");
    const track = el("div", "track");
    track.append(el("div", "fill"));
    row.append(el("div", "bar-name", name), track, el("div", "bar-value"));
    bars.append(row);
  });
  root.append(wrap, bars);
}

function setCell(node, text, value) {
  if (node.textContent !== text) node.textContent = text;
  node.dataset.value = String(value);
}

// Fill the drawn block with numbers: the server's (shown) or computed here (live).
function fill(root, data, live) {
  const k = data.classes.length;
  const n = live
    ? live
    : {
        exp: data.values.exp,
        probabilities: data.values.p,
        negLog: data.values.nll,
        p: data.values.p[data.target],
        loss: data.values.nll[data.target],
        rank: data.values.rank,
        scores: data.scores,
      };
  const text = (key, i, x) => (live ? number(x) : data.shown[key][i]);
  if (data.part === "headline") {
    setCell(root.querySelector('[data-cell="p"]'), live ? number(n.p) : data.shown.headline.p, n.p);
    setCell(root.querySelector('[data-cell="loss"]'), live ? number(n.loss) : data.shown.headline.loss, n.loss);
    setCell(root.querySelector('[data-cell="rank"]'), `${n.rank} of ${k}`, n.rank);
    return;
  }
  const rows = root.querySelectorAll("tbody tr");
  const bars = root.querySelectorAll(".bar");
  for (let i = 0; i < k; i++) {
    const cells = rows[i].querySelectorAll("td");
    setCell(cells[0], text("score", i, n.scores[i]), n.scores[i]);
    setCell(cells[1], text("exp", i, n.exp[i]), n.exp[i]);
    setCell(cells[2], text("p", i, n.probabilities[i]), n.probabilities[i]);
    setCell(cells[3], text("nll", i, n.negLog[i]), n.negLog[i]);
    bars[i].querySelector(".fill").style.width = `${(100 * n.probabilities[i]).toFixed(2)}%`;
    setCell(bars[i].querySelector(".bar-value"), text("p", i, n.probabilities[i]), n.probabilities[i]);
  }
}

// ------------------------------------------------------------------ following the sliders

function sliderValue(key) {
  const input = document.querySelector(`.st-key-${key} input[type="range"]`);
  if (!input) return null;
  const x = Number(input.value);
  return Number.isFinite(x) ? x : null;
}

// The scores and temperature the sliders show right now, or null when they are where
// the server last put them (nothing is being dragged). A slider holds its value to its
// step (3.14159 shows as 3.14), so it counts as moved only by half a step or more.
function dragged(data) {
  const scores = data.scores.slice();
  let moved = false;
  data.sliders.forEach((key, i) => {
    const x = sliderValue(key);
    if (x !== null && Math.abs(x - data.scores[i]) >= data.step / 2) {
      scores[i] = x;
      moved = true;
    }
  });
  let t = data.temperature;
  const tx = sliderValue(data.temperatureSlider);
  if (tx !== null && tx > 0 && Math.abs(tx - data.temperature) >= data.temperatureStep / 2) {
    t = tx;
    moved = true;
  }
  return moved ? { scores, t } : null;
}

// While a slider is dragged, its exact box beside it shows the same value (as the server
// will print it, %g); the server's rerun on release writes the box for good. A box the
// student is typing in is left alone.
function followBoxes(data, scores) {
  data.sliders.forEach((key, i) => {
    const input = document.querySelector(`.st-key-${key.replace(/^slider_/, "number_")} input`);
    const shown = String(Number(scores[i].toFixed(6)));
    if (input && document.activeElement !== input && input.value !== shown) input.value = shown;
  });
}

function update(state) {
  state.frame = 0;
  const { box, data, host } = state;
  const now = dragged(data);
  if (now && data.part === "table") followBoxes(data, now.scores);
  if (now) {
    const live = explain(now.scores, data.target, now.t, data.base);
    live.scores = now.scores;
    fill(box, data, live);
    host.dataset.liveUpdates = String(Number(host.dataset.liveUpdates || 0) + 1);
  } else {
    fill(box, data, null);
  }
  host.dataset.live = now ? "dragging" : "rest";
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement;
  // Called again on every rerun with new data, on the same element: one observer.
  let state = root.__explainLive;
  if (!state) {
    const box = el("div", "live");
    root.append(box);
    state = { root, box, host: root.host || root, frame: 0 };
    root.__explainLive = state;
    // React redraws a slider's hidden <input type=range> (its aria-valuetext) on every
    // pointer move and key press: one redraw of ours per animation frame at most.
    state.observer = new MutationObserver((records) => {
      const ours = records.some((r) => {
        const c = r.target.closest && r.target.closest('[class*="st-key-"]');
        return c && state.keys.some((k) => c.classList.contains(`st-key-${k}`));
      });
      if (ours && !state.frame) state.frame = requestAnimationFrame(() => update(state));
    });
    state.observer.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext"] });
  }
  state.data = data;
  state.keys = [...data.sliders, data.temperatureSlider];
  const shape = JSON.stringify([data.part, data.classes, data.target, data.columns, data.labels]);
  if (state.shape !== shape) {
    state.box.replaceChildren();
    (data.part === "headline" ? drawHeadline : drawTable)(state.box, data);
    state.shape = shape;
  }
  update(state);
  return () => {
    state.observer.disconnect();
    if (state.frame) cancelAnimationFrame(state.frame);
    delete root.__explainLive;
  };
}
