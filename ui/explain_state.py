"""The Explain page's state on the Streamlit side: widgets <-> state <-> URL.

The canonical state is one `ExplainState` in st.session_state (it survives page
switches) mirrored in the URL's query parameters (so a link shares it). A run:
`start()` loads a new URL state (a shared link, or another page's `hand_off`) into
the widgets; the page draws them with the callbacks below; `finish(...)` reads what
they hold back into the state and the URL. The callbacks run before the script, so
they change the state through core.explain.state and put it into the widgets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from core.explain import state as es
from core.explain.state import MAX_CLASSES, PARAMS, SCORE_LIMIT, ExplainState
from core.explain.view import Descent, descend
from core.text import md
from ui import addresses

STATE = "explain_state"  # the canonical state: survives page switches, mirrors the URL
WRITTEN = "explain_url_written"  # the query params this page wrote lately (ui.addresses)
NOTICE = "explain_notice"  # (messages, state) from the last URL load, shown while it holds
INPUT_MSGS = "explain_input_messages"  # why a callback refused or fixed an input, shown on the next run
NOTES = "explain_notes"  # what a callback did that the user should know (e.g. the true class moved)
SOURCE = "explain_source"  # where handed-over scores came from (see hand_off)
DESCENT = "explain_descent"  # the last "take N steps": its losses, shown while its end state holds
RANGE = "score_range"  # the score sliders span +-this (a widget: the user can widen or narrow it)
PAGE = "pages/explain.py"
# Slider spans to choose from. Narrow by default for fine control (a pixel is a few
# hundredths of a score), widened when a score needs it; the exact box takes +-50 always.
RANGES = (10.0, 20.0, 50.0)


@dataclass(frozen=True)
class Source:
    """Where the scores on the page came from, when another page handed them over."""

    text: str  # e.g. "image cat.7.jpg scored by model pets · softmax · 61.2%" (plain text)
    back_page: str | None
    back_label: str | None
    params: dict[str, str]  # the URL state it handed over
    state: ExplainState


# ---------------------------------------------------------------- another page's way in


def hand_off(
    classes: Sequence[str],
    scores: Sequence[float],
    target: int,
    *,
    source: str,
    back_page: str | None = None,
    back_label: str | None = None,
) -> None:
    """Open these scores on the Explain page, saying where they came from.

    The scores are brought inside what Explain can show (at most ten classes, scores
    within +-50, clean unique names); what had to change is said on the Explain page.
    `source` is shown there as plain text; `back_page` (a page path) and `back_label`
    give a link back. Does not return (st.switch_page)."""
    wanted = ExplainState(tuple(str(c) for c in classes), tuple(float(x) for x in scores), int(target))
    state, messages = es.clamp_state(wanted)
    params = es.encode_state(state)
    st.session_state[SOURCE] = Source(str(source), back_page, back_label, params, state)
    st.session_state[NOTICE] = (messages, state)
    addresses.forget(WRITTEN)  # whatever this page wrote lately, these params are new
    st.switch_page(PAGE, query_params=params)


def source() -> tuple[Source | None, bool]:
    """(where the scores came from, whether they were changed since), or (None, False)."""
    src = st.session_state.get(SOURCE)
    if src is None:
        return None, False
    return src, st.session_state.get(STATE) != src.state


# ---------------------------------------------------------------- state <-> widgets


def _load(state: ExplainState) -> None:
    """Put a whole state into the widgets (reset, URL, add/remove, gradient steps)."""
    ss = st.session_state
    for i in range(MAX_CLASSES):
        for key in (f"name_{i}", f"slider_{i}", f"number_{i}"):
            ss.pop(key, None)
    for key in ("target", "base", "temperature"):
        ss.pop(key, None)
    ss[STATE] = state
    _fill_widgets(state)


def _fill_widgets(state: ExplainState) -> None:
    """Give every widget its value before it is drawn: the state's on a first visit,
    else its own, re-assigned. A page that Streamlit re-registers (a page switch, a deep
    link through the router) gets new widget ids; re-assigning keeps the values."""
    ss = st.session_state
    values = {"target": state.target, "base": state.base, "temperature": state.temperature}
    for i, (name, score) in enumerate(zip(state.classes, state.scores)):
        values.update({f"name_{i}": name, f"slider_{i}": score, f"number_{i}": score})
    for key, value in values.items():
        ss[key] = ss.get(key, value)


def _from_widgets() -> ExplainState:
    """The state the widgets hold right now (used by callbacks, before the script runs)."""
    ss = st.session_state
    k = len(ss[STATE].classes)
    names, _ = es.unique_names([str(ss.get(f"name_{i}", "")) for i in range(k)])
    scores = tuple(es.clamp_score(ss.get(f"number_{i}") or 0.0) for i in range(k))
    target = int(ss.get("target", 0))
    return ExplainState(
        tuple(names),
        scores,
        target if target < k else 0,
        ss.get("base", "e"),
        float(ss.get("temperature", 1.0)),
    )


def _sync_from_url() -> None:
    """Load the URL's state on a first visit, or when another page handed scores over."""
    ss = st.session_state
    ours = {k: v for k, v in st.query_params.to_dict().items() if k in PARAMS}
    # An address this page wrote itself is not news: a key press during a rerun sends the
    # address the browser had then, which may be a few states old; loading it would undo them.
    if STATE in ss and (not ours or addresses.written_lately(WRITTEN, ours)):
        return
    state, messages = es.decode_state(ours) if ours else (es.default_state(), [])
    src = ss.get(SOURCE)
    if src is not None and src.params == ours:
        messages = messages or ss.get(NOTICE, ([], None))[0]
    else:
        ss.pop(SOURCE, None)
    _load(state)
    ss[NOTICE] = (messages, state)


def _widget_scores() -> list[float]:
    ss = st.session_state
    return [float(ss.get(f"number_{i}") or 0.0) for i in range(len(ss[STATE].classes))]


def needed_range(scores: Sequence[float]) -> float:
    """The narrowest slider span that holds every score."""
    top = max(abs(x) for x in scores)
    return next((r for r in RANGES if top <= r), RANGES[-1])


def start() -> ExplainState:
    """First thing on every run: the state the widgets are about to be drawn with."""
    ss = st.session_state
    _sync_from_url()
    _fill_widgets(ss[STATE])
    need = needed_range(_widget_scores())  # a typed, pasted or linked score may need more
    if ss.get(RANGE) is None or ss[RANGE] < need:
        ss[RANGE] = need
    return ss[STATE]


def slider_range() -> float:
    return float(st.session_state[RANGE])


def finish(
    raw_names: Sequence[str], scores: Sequence[float], target: int, base: str, temperature: float
) -> tuple[ExplainState, list[str]]:
    """After the widgets are drawn: the state they hold, kept and written to the URL.
    Returns it with what was wrong with the names (empty, too long, repeated)."""
    names, name_messages = es.unique_names(list(raw_names))
    state = ExplainState(
        tuple(names), tuple(es.clamp_score(x) for x in scores), int(target), base, float(temperature)
    )
    st.session_state[STATE] = state
    _write_url(state)
    return state, name_messages


def _write_url(state: ExplainState) -> None:
    params = es.encode_state(state)
    if {k: st.query_params.get(k) for k in PARAMS} != params:
        st.query_params.update(params)
    addresses.remember(WRITTEN, params)


@dataclass(frozen=True)
class Notices:
    """What to tell the user on this run; Markdown, names in it escaped."""

    repairs: list[str]  # what loading the link (or a hand-off) had to change; goes once the state moves on
    errors: list[str]  # why the last action was refused or its input fixed
    notes: list[str]  # what the last action did that is easy to miss


def notices(state: ExplainState) -> Notices:
    ss = st.session_state
    notice, loaded = ss.get(NOTICE, ([], None))
    return Notices(list(notice) if loaded == state else [], ss.pop(INPUT_MSGS, []), ss.pop(NOTES, []))


def show_source(box) -> None:
    """Where handed-over scores came from (plain text), with the way back."""
    src, changed = source()
    if src is None:
        return
    with box.container(border=True):
        st.markdown(f"Scores from {md(src.text)}")
        if changed:
            st.caption("You have moved them since; the link back shows the original.")
        if src.back_page:
            st.page_link(src.back_page, label=md(src.back_label or "Back"), icon=":material/arrow_back:")


def show_notices(box, state: ExplainState, name_messages: list[str]) -> None:
    """The link's repairs, the last action's errors and notes, what was wrong with the names."""
    said = notices(state)
    with box:
        if said.repairs:
            st.warning("The link's state was repaired:\n\n" + "\n".join(f"- {m}" for m in said.repairs))
        for m in said.errors:
            st.error(m)
        for m in said.notes + name_messages:
            st.warning(m)


def shift_if_open(tabs_key: str, tab: str, shift_key: str, default: float) -> float | None:
    """The overflow tab's c when that tab is the open one (its number box is drawn later in
    the run, so its value is read from the session), else None: nothing to compute."""
    ss = st.session_state
    return float(ss.get(shift_key, default)) if ss.get(tabs_key) == tab else None


def last_descent(state: ExplainState) -> Descent | None:
    """The last "take N steps", while the page still shows where it ended."""
    d = st.session_state.get(DESCENT)
    return d if d is not None and d.final == state else None


# ---------------------------------------------------------------- callbacks


def _apply(state: ExplainState, messages: list[str], before: ExplainState) -> None:
    """A refused action's messages are errors; a done one's are notes on what it did."""
    if state == before:
        if messages:
            st.session_state[INPUT_MSGS] = messages
        return
    if messages:
        st.session_state[NOTES] = messages
    _load(state)


def on_slider(i: int) -> None:
    st.session_state[f"number_{i}"] = st.session_state[f"slider_{i}"]


def on_number(i: int) -> None:
    ss = st.session_state
    value = ss[f"number_{i}"]
    if value is None or not math.isfinite(value):
        ss[INPUT_MSGS] = [f"Score {i + 1} must be a number; it was left at {ss[f'slider_{i}']:g}."]
        ss[f"number_{i}"] = ss[f"slider_{i}"]
        return
    if abs(value) > SCORE_LIMIT:
        ss[INPUT_MSGS] = [f"Scores go from {-SCORE_LIMIT:g} to {SCORE_LIMIT:g}; {value:g} was clamped."]
        value = es.clamp_score(value)
        ss[f"number_{i}"] = value
    ss[f"slider_{i}"] = value


def reset() -> None:
    _load(es.default_state())
    st.session_state[NOTICE] = ([], None)
    st.session_state.pop(SOURCE, None)
    st.session_state.pop(RANGE, None)


def on_range() -> None:
    """A narrower span than the scores need is not taken: the scores stay, and the user is told."""
    ss = st.session_state
    scores = _widget_scores()
    need, chosen = needed_range(scores), ss.get(RANGE)
    if chosen is None or chosen < need:
        ss[RANGE] = need
        if chosen is not None:
            top = max(scores, key=abs)
            ss[NOTES] = [
                f"A score is {top:g}: the sliders need ±{need:g}. Bring it within ±{chosen:g} "
                "(in its exact box) to narrow them."
            ]


def add_class() -> None:
    before = _from_widgets()
    _apply(*es.add_class(before), before)


def remove_class(i: int) -> None:
    before = _from_widgets()
    _apply(*es.remove_class(before, i), before)


def take_steps() -> None:
    ss = st.session_state
    d = descend(
        _from_widgets(),
        ss.get("step_loss", "cross-entropy"),
        float(ss.get("step_lr") or 1.0),
        int(ss.get("step_n") or 1),
    )
    ss[DESCENT] = d
    _load(d.final)


def apply_pasted() -> None:
    before = _from_widgets()
    _apply(*es.paste_scores(before, str(st.session_state.get("paste", ""))), before)
