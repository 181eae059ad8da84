"""The Playground's Streamlit side: widgets <-> state <-> URL, the callbacks, the run so far.

One canonical `PlaygroundState` lives in session state and mirrors the URL. Every
widget is "controlled": its on_change callback turns the new value into a new state
(with its consequences: new data resizes W, a step appends to the run's history), and
before the widgets are drawn they are all set from that state. So the page reads no
widget values at all: it calls `start()`, gets a `View` back and lays it out.

The run is what the loss chart shows: the steps taken since the weights were last set
by hand (or by randomise, reset, a link) on the same data, loss, lambda and T. Changing
any of those starts a new run at step 0; the learning rate and N do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import streamlit as st

from core.playground.data import (
    CLASS_NAMES,
    EXTENT,
    PRESETS,
    add_point,
    classes_for,
    move_point,
    remove_point,
)
from core.playground.model import (
    WEIGHT_LIMIT,
    Model,
    Record,
    evaluate,
    initial_model,
    numeric_gradient,
    random_model,
    train,
)
from core.playground.urlstate import PARAMS, PlaygroundState, decode_state, encode_state
from core.playground.view import View, build_view, point_table
from core.text import number
from ui import addresses

ss = st.session_state
STATE = "pg_state"  # the canonical state: survives page switches, mirrors the URL
WRITTEN = "pg_url_written"  # the query params this page wrote lately (ui.addresses)
NOTICE = "pg_notice"  # (messages, state) from the last link loaded, shown while it holds
MESSAGES = "pg_messages"  # what a callback had to fix or refuse, shown on the next run
WEIGHTS_VERSION = "pg_weights_version"  # see weight_key
RUN = "pg_history"  # the Run: the steps since the weights were last set
PLANE_N = "pg_plane_n"  # the plane chart's key suffix: a new key clears a handled click
TABLE_N = "pg_table_n"
TABLE_ORDER = "pg_table_order"  # point indices in the order the table last showed them
POINT = "pg_point"  # the chosen point, 1-based as shown, or None
MAX_RECORDS = 20_001  # a run's history; past it the oldest steps are forgotten
PLAY = "pg_play"  # the Play toggle: steps on a timer, the CS231n demo's "repeated update"
PLAY_EVERY = 0.5  # seconds between frames: longer than a frame takes to draw, so no backlog builds up
PLAY_STEPS = 8  # steps a frame (16 a second)
PLAY_MAX = 1000  # steps one press of Play takes at most, so a forgotten tab stops costing a core
CLICK_MODES = {"choose": "chooses a point", "add": "adds a point", "move": "moves the chosen point"}


# ---------------------------------------------------------------- the run (loss history)


@dataclass
class Run:
    setup: tuple  # (points, loss, lambda, T): what the losses were measured on
    start: tuple  # (W, b) at step 0: what Reset goes back to
    end: tuple  # (W, b) after the last step
    records: list[Record] = field(default_factory=list)  # step 0, 1, ...
    first_step: int = 0  # the step number of records[0] once old steps were forgotten


def _setup(s: PlaygroundState) -> tuple:
    return (s.all_points(), s.loss, s.lam, s.temperature)


def current_run(view: View) -> Run:
    """The run the current weights continue, or a new one starting at them."""
    s, run = view.state, ss.get(RUN)
    if run is None or run.setup != _setup(s) or run.end != (s.W, s.b):
        run = Run(_setup(s), (s.W, s.b), (s.W, s.b), [Record.of(view.model, view.evaluation)])
        ss[RUN] = run
    return run


# ---------------------------------------------------------------- state <-> widgets


def weight_key(name: str, j: int) -> str:
    """The number box of weight `name` ("w1", "w2" or "b") of class j. Its key carries a
    version that changes whenever the page (not the user) sets W: a browser that sends a
    box's value from before (a Play frame can land before the last one is drawn) then
    names a box that no longer exists, and cannot put old weights back."""
    return f"pg_{name}_{j}_v{ss.get(WEIGHTS_VERSION, 0)}"


def _forget_weight_boxes() -> None:
    for key in [k for k in ss if isinstance(k, str) and k.startswith(("pg_w1_", "pg_w2_", "pg_b_"))]:
        del ss[key]


def _widget_values(s: PlaygroundState) -> dict:
    values = {
        "pg_preset": s.preset,
        "pg_k": s.k,
        "pg_n": s.per_class,
        "pg_seed": s.seed,
        "pg_loss": s.loss,
        "pg_lambda": s.lam,
        "pg_lr": s.lr,
        "pg_T": s.temperature,
        "pg_steps": s.steps,
        "pg_shade": -1 if s.shade is None else s.shade,
    }
    for j, ((w1, w2), bj) in enumerate(zip(s.W, s.b)):
        values.update({weight_key("w1", j): w1, weight_key("w2", j): w2, weight_key("b", j): bj})
    return values


def load_state(s: PlaygroundState, typed: bool = False) -> None:
    """Make `s` the state and put it into the widgets. New weights from anywhere but the
    boxes themselves (`typed`) get new boxes (see weight_key)."""
    old = ss.get(STATE)
    ss[STATE] = s
    if not typed and (old is None or (old.W, old.b) != (s.W, s.b)):
        _forget_weight_boxes()
        ss[WEIGHTS_VERSION] = ss.get(WEIGHTS_VERSION, 0) + 1
    fill_widgets(s)


def fill_widgets(s: PlaygroundState) -> None:
    """Every widget shows the state. Set before they are drawn, on every run: a page
    switch re-registers widgets, and this keeps their values."""
    for key, value in _widget_values(s).items():
        ss[key] = value
    n = len(s.all_points())
    if ss.get(POINT) is not None and not 1 <= ss[POINT] <= n:
        ss[POINT] = None
    ss.setdefault(POINT, None)
    ss.setdefault("pg_click", "choose")
    ss.setdefault("pg_add_class", 0)
    if ss["pg_add_class"] >= s.k or ss.get("pg_pclass", 0) >= s.k:
        ss["pg_add_class"] = ss["pg_pclass"] = 0
    ss.setdefault("pg_px", 0.0)
    ss.setdefault("pg_py", 0.0)
    ss.setdefault("pg_pclass", 0)
    ss.setdefault(PLANE_N, 0)
    ss.setdefault(TABLE_N, 0)


def sync_from_url() -> None:
    """Load the link's state on a first visit, or when the URL changed under the page.
    A URL this page wrote itself lately is not a change: the browser can send the one
    from a frame ago while Play is on, and loading it would undo a frame's steps."""
    ours = {k: v for k, v in st.query_params.to_dict().items() if k in PARAMS}
    if STATE in ss and (not ours or addresses.written_lately(WRITTEN, ours)):
        return
    state, messages = decode_state(ours) if ours else (PlaygroundState(), [])
    load_state(state)
    ss[NOTICE] = (messages, state)


def write_url(s: PlaygroundState) -> None:
    params = encode_state(s)
    current = {k: st.query_params.get(k) for k in PARAMS if k in st.query_params}
    if current != params:
        for k in set(current) - set(params):
            del st.query_params[k]
        st.query_params.update(params)
    addresses.remember(WRITTEN, params)


def say(message: str) -> None:
    ss.setdefault(MESSAGES, []).append(message)


def start() -> View:
    """Called first by the page: the state (from the link or this session), the widgets
    set from it, and everything the page shows."""
    sync_from_url()
    s = ss[STATE]
    fill_widgets(s)
    return build_view(s)


def finish(view: View) -> None:
    """Called last by the page: the URL says what the page shows."""
    write_url(view.state)


# ---------------------------------------------------------------- callbacks


def on_data() -> None:
    """Preset, classes, points per class or seed changed: new points, W resized if K did."""
    s = ss[STATE]
    preset = ss["pg_preset"] if ss.get("pg_preset") in PRESETS else s.preset
    k = classes_for(preset, int(ss.get("pg_k") or s.k))
    seed = s.seed if ss.get("pg_seed") is None else int(ss["pg_seed"])
    new = replace(s, preset=preset, k=k, per_class=int(ss.get("pg_n") or s.per_class), seed=seed, points=None)
    if k != s.k:
        m = initial_model(seed, k)
        new = new.with_weights(m.W, m.b)
        if s.shade is not None and s.shade >= k:
            new = replace(new, shade=None)
    if points_edited(s):
        say("The points you added, moved or removed were replaced by the preset's.")
    load_state(new)


def new_points() -> None:
    ss["pg_seed"] = (ss[STATE].seed + 1) % 1_000_000
    on_data()


def on_weights() -> None:
    s = ss[STATE]
    W, b = [list(row) for row in s.W], list(s.b)
    for j in range(s.k):
        for d in (0, 1):
            W[j][d] = _weight(weight_key(f"w{d + 1}", j), W[j][d], f"w{d + 1} of {CLASS_NAMES[j]}")
        b[j] = _weight(weight_key("b", j), b[j], f"b of {CLASS_NAMES[j]}")
    load_state(s.with_weights(W, b), typed=True)


def _weight(key: str, old: float, what: str) -> float:
    value = ss.get(key)
    if value is None or not math.isfinite(value):
        say(f"{what} must be a number; it stays {number(old)}.")
        return old
    if abs(value) > WEIGHT_LIMIT:
        say(f"Weights go from −{WEIGHT_LIMIT:g} to {WEIGHT_LIMIT:g}; {what} was clamped.")
    return float(min(max(value, -WEIGHT_LIMIT), WEIGHT_LIMIT))


def on_settings() -> None:
    """Loss, lambda, learning rate, T, N steps or the shading changed."""
    s = ss[STATE]

    def get(key: str, old):
        value = ss.get(key)
        return old if value is None or (isinstance(value, float) and not math.isfinite(value)) else value

    shade = int(get("pg_shade", -1))
    new = replace(
        s,
        loss=get("pg_loss", s.loss),
        lam=float(get("pg_lambda", s.lam)),
        lr=float(get("pg_lr", s.lr)),
        temperature=float(get("pg_T", s.temperature)),
        steps=int(get("pg_steps", s.steps)),
        shade=shade if 0 <= shade < s.k else None,
    )
    load_state(new)


def randomise() -> None:
    s = ss[STATE]
    m = random_model(s.k)
    load_state(s.with_weights(m.W, m.b))


def take_steps(n: int) -> None:
    """n steps of gradient descent in this one run: the browser gets one rerun, not n."""
    view = build_view(ss[STATE])
    run = current_run(view)
    s, pts = view.state, view.points
    path = train(view.model, pts.X, pts.y, s.loss, s.lam, s.lr, n, s.temperature)
    new = s.with_weights(path.model.W, path.model.b)
    run.records.extend(path.records)
    if len(run.records) > MAX_RECORDS:
        drop = len(run.records) - MAX_RECORDS
        run.records[:drop] = []
        run.first_step += drop
    run.end = (new.W, new.b)
    if path.clipped:
        say(
            f"A weight reached ±{WEIGHT_LIMIT:g} and was held there: the learning rate is too big to descend."
        )
    load_state(new)


def play_every() -> float | None:
    """The page fragment's timer: a frame every PLAY_EVERY seconds while Play is on."""
    return PLAY_EVERY if ss.get(PLAY) else None


def on_play() -> None:
    ss["pg_play_left"] = PLAY_MAX


def play_frame(timer: float | None) -> None:
    """Called first in the page's fragment: while playing, this frame's steps. The timer
    is fixed when the fragment is set up, so a change of Play reruns the whole page."""
    if play_every() != timer:
        st.rerun(scope="app")
    if not ss.get(PLAY):
        return
    left = ss.get("pg_play_left", PLAY_MAX) - PLAY_STEPS
    take_steps(PLAY_STEPS)
    ss["pg_play_left"] = left
    record = ss[RUN].records[-1]
    if left <= 0 or record.gradient_norm < 1e-9:
        ss[PLAY] = False  # before the toggle is drawn: it shows off after this frame
        say(
            "Play stopped: the gradient is 0, nothing moves any more."
            if record.gradient_norm < 1e-9
            else f"Play stopped after {PLAY_MAX} steps; press it again for more."
        )
        st.rerun(scope="app")


def run_steps() -> None:
    take_steps(int(ss[STATE].steps))


def reset() -> None:
    """Back to the weights this run started from; the history starts again."""
    run, s = ss.get(RUN), ss[STATE]
    if run is not None and run.setup == _setup(s):
        W, b = run.start
        ss.pop(RUN)
        load_state(s.with_weights(W, b))


def restore_points() -> None:
    load_state(replace(ss[STATE], points=None))


def points_edited(s: PlaygroundState) -> bool:
    return s.points is not None


# ---------------------------------------------------------------- points: choose, add, move


def chosen_index(view: View) -> int | None:
    p = ss.get(POINT)
    return p - 1 if p is not None and 1 <= p <= len(view.points) else None


def _edit(change, *args) -> bool:
    s = ss[STATE]
    try:
        points = change(s.all_points(), *args)
    except ValueError as exc:
        say(str(exc).capitalize() + ".")
        return False
    load_state(replace(s, points=points))
    return True


def add_typed_point() -> None:
    x1, x2 = float(ss.get("pg_px") or 0.0), float(ss.get("pg_py") or 0.0)
    if _edit(add_point, x1, x2, int(ss.get("pg_pclass", 0))):
        ss[POINT] = len(ss[STATE].all_points())  # the new point is the chosen one


def move_chosen() -> None:
    p = ss.get(POINT)
    if p is None:
        say("Choose a point first (by its number, in the table, or by clicking it).")
        return
    _edit(
        move_point,
        p - 1,
        float(ss.get("pg_px") or 0.0),
        float(ss.get("pg_py") or 0.0),
        int(ss.get("pg_pclass", 0)),
    )


def remove_chosen() -> None:
    p = ss.get(POINT)
    if p is None:
        say("Choose a point first (by its number, in the table, or by clicking it).")
        return
    if _edit(remove_point, p - 1):
        ss[POINT] = None


def on_point() -> None:
    """A point was chosen: the move fields start at where it is."""
    p, points = ss.get(POINT), ss[STATE].all_points()
    if p is not None and 1 <= p <= len(points):
        ss["pg_px"], ss["pg_py"], ss["pg_pclass"] = (
            float(points[p - 1][0]),
            float(points[p - 1][1]),
            int(points[p - 1][2]),
        )


@dataclass(frozen=True)
class Click:
    point: int | None  # a data point's index, when the click landed on one
    x1: float
    x2: float


def read_click(selection) -> Click | None:
    """A plotly_chart selection as a click: on a point (its customdata is its index) or
    on the invisible grid (its coordinates). None for an empty or unreadable selection."""
    try:
        points = selection["selection"]["points"]
        first = points[0]
        x1, x2 = float(first["x"]), float(first["y"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not (math.isfinite(x1) and math.isfinite(x2)):
        return None
    data = first.get("customdata")
    if isinstance(data, (list, tuple)):
        data = data[0] if data else None
    point = int(data) if isinstance(data, (int, float)) and not isinstance(data, bool) else None
    return Click(point, x1, x2)


def plane_key() -> str:
    return f"pg_plane_{ss.get(PLANE_N, 0)}"


def on_plane_click() -> None:
    click = read_click(ss.get(plane_key()))
    ss[PLANE_N] = ss.get(PLANE_N, 0) + 1  # a new chart: the next click is a change again
    if click is None:
        return
    mode = ss.get("pg_click", "choose")
    if click.point is not None and mode != "add":
        ss[POINT] = click.point + 1
        on_point()
        return
    x1, x2 = (min(max(v, -EXTENT), EXTENT) for v in (click.x1, click.x2))
    if mode == "add":
        if _edit(add_point, x1, x2, int(ss.get("pg_add_class", 0))):
            ss[POINT] = len(ss[STATE].all_points())
    elif mode == "move":
        p = ss.get(POINT)
        if p is None:
            say("Choose a point first, then click where it should go.")
            return
        cls = ss[STATE].all_points()[p - 1][2]
        _edit(move_point, p - 1, x1, x2, cls)


def table_key() -> str:
    return f"pg_table_{ss.get(TABLE_N, 0)}"


def point_frame(view: View) -> tuple[pd.DataFrame, dict]:
    """Every point's scores, probabilities (or margins) and loss, worst first, and the
    columns' formats; remembers the order, so a chosen row means the point it showed."""
    t = point_table(view)
    ss[TABLE_ORDER] = [int(i) for i in t.order]
    names, y, predicted = view.classes, view.points.y, view.evaluation.predicted
    cols = {
        "point": t.order + 1,
        "class": [names[y[i]] for i in t.order],
        "predicted": [names[predicted[i]] for i in t.order],
    }
    cols |= {f"s {c}": t.scores[:, j] for j, c in enumerate(names)}
    cols |= {f"{t.second_name} {c}": t.second[:, j] for j, c in enumerate(names)}
    df = pd.DataFrame(cols | {"loss": t.losses})
    return df, {c: st.column_config.NumberColumn(format=column_format(df[c])) for c in df.columns[3:]}


def column_format(values) -> str:
    """core.text.number's choice for a whole column: four decimals, or three significant
    digits and an exponent when a value would print as 0.0000 (a confident p of 1e-9)."""
    x = np.abs(np.asarray(values, dtype=float))
    return "%.3e" if np.any((x > 0) & (x < 5e-5)) else "%.4f"


def on_table_select() -> None:
    """A row was chosen: the point it showed (the order is the one the user saw)."""
    try:
        row = ss[table_key()]["selection"]["rows"][0]
        index = ss[TABLE_ORDER][row]
    except (KeyError, IndexError, TypeError):
        return
    ss[TABLE_N] = ss.get(TABLE_N, 0) + 1
    ss[POINT] = index + 1
    on_point()


# ---------------------------------------------------------------- hand-off to Explain


def open_in_explain(view: View, i: int) -> None:
    """The chosen point's scores on the Explain page (its true class as the target)."""
    from ui.explain_state import hand_off  # here, not at the top: only a click needs Explain's state

    y = int(view.points.y[i])
    hand_off(
        list(view.classes),
        # to 6 decimals: X W^T + b leaves float dust (-0.27480000000000016) that Explain's
        # boxes would show in full; no loss it shows moves at 4 decimals
        [round(float(v), 6) for v in view.evaluation.scores[i]],
        y,
        source=f"Playground point {i + 1} ({view.classes[y]})",
        back_page="pages/playground.py",
        back_label="Back to the Playground",
    )


# ---------------------------------------------------------------- what the page shows


def take_messages() -> list[str]:
    return ss.pop(MESSAGES, [])


def link_notice(s: PlaygroundState) -> list[str]:
    """What the last link needed repaired, while the page still shows that link's state."""
    messages, state = ss.get(NOTICE, ([], None))
    return messages if state == s else []


def input_format(x: float, digits: int = 2) -> str:
    """A number box's format: four decimals, or an exponent when that would print 0.0000
    (`digits` after the point: a weight's narrow box shows "-1.0e-06" whole, not "1.000e-")."""
    return f"%.{digits}e" if x != 0 and abs(x) < 5e-5 else "%.4f"


def compare_runs(view: View, steps: int, lam: float) -> tuple[dict[str, list[Record]], dict[str, View]]:
    """Softmax and hinge trained side by side from this run's step 0, with the page's
    learning rate and the given lambda (the lesson shows best at 0). Remembered, so
    moving another widget does not retrain."""
    s, run = view.state, current_run(view)
    s = replace(s, lam=float(lam))
    key = (s.all_points(), s.lam, s.temperature, s.lr, run.start, steps)
    memo = ss.get("pg_compare")
    if memo is not None and memo[0] == key:
        return memo[1]
    start, pts = Model.of(*run.start), view.points
    runs, ends = {}, {}
    for loss in ("cross-entropy", "hinge"):
        first = evaluate(start, pts.X, pts.y, loss, s.lam, s.temperature)
        path = train(start, pts.X, pts.y, loss, s.lam, s.lr, steps, s.temperature)
        runs[loss] = [Record.of(start, first), *path.records]
        ends[loss] = build_view(replace(s.with_weights(path.model.W, path.model.b), loss=loss, shade=None))
    ss["pg_compare"] = (key, (runs, ends))
    return runs, ends


def gradient_check(view: View) -> float:
    """The largest gap between the backward pass and central differences of the loss."""
    s, pts, ev = view.state, view.points, view.evaluation
    dW, db = numeric_gradient(view.model, pts.X, pts.y, s.loss, s.lam, s.temperature)
    return float(max(np.abs(dW - ev.dW).max(), np.abs(db - ev.db).max()))
