"""Explain: scores -> exp -> probabilities -> loss, live, from the post's worked example.

The whole state lives in the URL (core.urlstate) so it can be shared, and so the
Classify page can hand a real model's scores over. The maths is in core.softmax.
"""

import inspect
import math
import re

import numpy as np
import pandas as pd
import streamlit as st

from core import softmax as sm
from core.charts.explain import gradient_figure, loss_curve_figure, probability_figure
from core.urlstate import (
    BASES,
    MAX_CLASSES,
    MIN_CLASSES,
    NAME_MAX,
    PARAMS,
    SCORE_LIMIT,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    ExplainState,
    decode_state,
    default_state,
    encode_state,
    unique_names,
)
from ui.router import ensure_router

ensure_router()

ss = st.session_state
STATE = "explain_state"  # the canonical state: survives page switches, mirrors the URL
WRITTEN = "explain_url_written"  # the query params this page last wrote (to spot a hand-over)
NOTICE = "explain_notice"  # (messages, state) from the last URL load, shown while it holds
INPUT_MSGS = "explain_input_messages"  # what a callback had to fix, shown on the next run
BASE_LABELS = {"e": "ln (nats)", "10": "log10 (the post's first print)", "2": "log2 (bits)"}
LOG_SYMBOL = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}
LOSS_NAMES = list(sm.LOSSES)
TABS = ["Losses and gradients", "Shift and overflow"]
CODE = [
    sm.post_table,
    sm.log_softmax,
    sm.softmax,
    sm.softmax_gradient,
    sm.cross_entropy,
    sm.hinge_loss,
    sm.hinge_gradient,
    sm.squared_hinge_loss,
    sm.squared_hinge_gradient,
]


# ---------------------------------------------------------------- state <-> widgets


def clamp_score(x: float) -> float:
    return float(min(max(x, -SCORE_LIMIT), SCORE_LIMIT))


def load_state(state: ExplainState) -> None:
    """Put a whole state into the widgets (reset, URL, add/remove, gradient step)."""
    for i in range(MAX_CLASSES):
        for key in (f"name_{i}", f"slider_{i}", f"number_{i}"):
            ss.pop(key, None)
    for key in ("target", "base", "temperature"):
        ss.pop(key, None)
    ss[STATE] = state
    fill_widgets(state)


def fill_widgets(state: ExplainState) -> None:
    """Give every widget its value before it is drawn: the state's on a first visit,
    else its own, re-assigned. A page that Streamlit re-registers (a page switch, a deep
    link through the router) gets new widget ids; re-assigning keeps the values."""
    values = {"target": state.target, "base": state.base, "temperature": state.temperature}
    for i, (name, score) in enumerate(zip(state.classes, state.scores)):
        values.update({f"name_{i}": name, f"slider_{i}": score, f"number_{i}": score})
    for key, value in values.items():
        ss[key] = ss[key] if key in ss else value


def state_from_widgets() -> ExplainState:
    """The state the widgets hold right now (used by callbacks, before the script runs)."""
    k = len(ss[STATE].classes)
    names, _ = unique_names([str(ss.get(f"name_{i}", "")) for i in range(k)])
    scores = tuple(clamp_score(ss.get(f"number_{i}") or 0.0) for i in range(k))
    target = int(ss.get("target", 0))
    return ExplainState(
        tuple(names),
        scores,
        target if target < k else 0,
        ss.get("base", "e"),
        float(ss.get("temperature", 1.0)),
    )


def sync_from_url() -> None:
    """Load the URL's state on a first visit, or when another page handed scores over."""
    ours = {k: v for k, v in st.query_params.to_dict().items() if k in PARAMS}
    if STATE in ss and (not ours or ours == ss.get(WRITTEN)):
        return
    state, messages = decode_state(ours) if ours else (default_state(), [])
    load_state(state)
    ss[NOTICE] = (messages, state)


def write_url(state: ExplainState) -> None:
    params = encode_state(state)
    if {k: st.query_params.get(k) for k in PARAMS} != params:
        st.query_params.update(params)
    ss[WRITTEN] = params


# ---------------------------------------------------------------- callbacks


def on_slider(i: int) -> None:
    ss[f"number_{i}"] = ss[f"slider_{i}"]


def on_number(i: int) -> None:
    value = ss[f"number_{i}"]
    if value is None or not math.isfinite(value):
        ss[INPUT_MSGS] = [f"Score {i + 1} must be a number; it was left at {ss[f'slider_{i}']:g}."]
        ss[f"number_{i}"] = ss[f"slider_{i}"]
        return
    if abs(value) > SCORE_LIMIT:
        ss[INPUT_MSGS] = [f"Scores go from {-SCORE_LIMIT:g} to {SCORE_LIMIT:g}; {value:g} was clamped."]
        value = clamp_score(value)
        ss[f"number_{i}"] = value
    ss[f"slider_{i}"] = value


def reset() -> None:
    load_state(default_state())
    ss[NOTICE] = ([], None)


def add_class() -> None:
    s = state_from_widgets()
    if len(s.classes) >= MAX_CLASSES:
        ss[INPUT_MSGS] = [f"The explainer shows at most {MAX_CLASSES} classes."]
        return
    names, _ = unique_names(list(s.classes) + [f"class {len(s.classes) + 1}"])
    load_state(ExplainState(tuple(names), s.scores + (0.0,), s.target, s.base, s.temperature))


def remove_class(i: int) -> None:
    s = state_from_widgets()
    if len(s.classes) <= MIN_CLASSES:
        ss[INPUT_MSGS] = [f"A softmax needs at least {MIN_CLASSES} classes."]
        return
    keep = [j for j in range(len(s.classes)) if j != i]
    target = 0 if s.target == i else keep.index(s.target)
    load_state(
        ExplainState(
            tuple(s.classes[j] for j in keep), tuple(s.scores[j] for j in keep), target, s.base, s.temperature
        )
    )


def take_step() -> None:
    s = state_from_widgets()
    grad = gradients(s)[ss.get("step_loss", LOSS_NAMES[0])]
    new = sm.gradient_step(s.scores, grad, float(ss.get("step_lr") or 1.0))
    scores = tuple(clamp_score(round(float(x), 4)) for x in new)
    load_state(ExplainState(s.classes, scores, s.target, s.base, s.temperature))


def apply_pasted() -> None:
    text = str(ss.get("paste", "")).strip()
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    bad = [p for p in parts if not _is_number(p)]
    if bad:
        ss[INPUT_MSGS] = [f"'{bad[0][:30]}' is not a number: paste numbers separated by commas."]
    elif not MIN_CLASSES <= len(parts) <= MAX_CLASSES:
        ss[INPUT_MSGS] = [f"Paste {MIN_CLASSES} to {MAX_CLASSES} scores; you pasted {len(parts)}."]
    else:
        s = state_from_widgets()
        names = list(s.classes[: len(parts)])
        names += [f"class {j + 1}" for j in range(len(names), len(parts))]
        names, _ = unique_names(names)
        scores = [float(p) for p in parts]
        if any(abs(x) > SCORE_LIMIT for x in scores):
            ss[INPUT_MSGS] = [
                f"Scores go from {-SCORE_LIMIT:g} to {SCORE_LIMIT:g}; larger ones were clamped."
            ]
        load_state(
            ExplainState(
                tuple(names),
                tuple(clamp_score(x) for x in scores),
                s.target if s.target < len(parts) else 0,
                s.base,
                s.temperature,
            )
        )


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# ---------------------------------------------------------------- maths for the page


def gradients(s: ExplainState) -> dict[str, np.ndarray]:
    return {
        "cross-entropy": sm.softmax_gradient(s.scores, s.target, s.temperature, BASES[s.base]),
        "hinge": sm.hinge_gradient(s.scores, s.target),
        "squared hinge": sm.squared_hinge_gradient(s.scores, s.target),
    }


def fmt(x: float) -> str:
    x = float(x) + 0.0  # -0.0 (from -log 1) prints as 0.0000
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-4 or abs(x) >= 1e6):
        return f"{x:.3e}"
    return f"{x:.4f}"


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers as the page prints them (4 decimals, inf, nan); cheaper to send than a Styler."""
    return pd.DataFrame(
        {c: [fmt(x) for x in df[c]] if df[c].dtype.kind == "f" else df[c] for c in df}, index=df.index
    )


def md_text(text: str) -> str:
    """Text shown as itself in Markdown: every ASCII punctuation mark escaped (so no
    markup, link, LaTeX, colour directive or table cell break comes from a class name)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def md_table(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table, numbers as the page prints them. One markdown
    element costs a fraction of an st.dataframe (no Arrow tables), on every rerun."""
    cols = [df.index.name or "", *df.columns]
    rows = [
        [name, *(fmt(v) if isinstance(v, float) else str(v) for v in values)]
        for name, values in zip(df.index, df.itertuples(index=False))
    ]
    head = "| " + " | ".join(md_text(c) for c in cols) + " |"
    rule = "|:---|" + "|".join("---:" if df[c].dtype.kind == "f" else ":---" for c in df.columns) + "|"
    body = ["| " + " | ".join(md_text(str(c)) for c in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def tex_num(x: float) -> str:
    """fmt() for LaTeX: 2.868e-177 -> 2.868 \\times 10^{-177}, inf -> \\infty."""
    if math.isinf(x):
        return r"\infty"
    text = fmt(x)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def tex_name(name: str) -> str:
    """A class name that is safe inside \\text{} in KaTeX."""
    safe = "".join(c for c in name if c.isalnum() or c in " -.,:()'")
    return safe or "y"


# ---------------------------------------------------------------- rendering


def class_rows(k: int) -> tuple[list[str], list[float]]:
    names, scores = [], []
    for i in range(k):
        c_name, c_slider, c_number, c_remove = st.columns([2, 3.5, 1.8, 0.9], vertical_alignment="bottom")
        name = c_name.text_input(f"Class {i + 1} name", key=f"name_{i}", max_chars=NAME_MAX)
        label = name.strip() or f"class {i + 1}"
        c_slider.slider(
            f"score of {label}",
            -SCORE_LIMIT,
            SCORE_LIMIT,
            step=0.01,
            key=f"slider_{i}",
            on_change=on_slider,
            args=(i,),
        )
        score = c_number.number_input(
            f"exact score of {label}",
            -SCORE_LIMIT,
            SCORE_LIMIT,
            step=0.01,
            format="%.4f",
            key=f"number_{i}",
            on_change=on_number,
            args=(i,),
            label_visibility="hidden",
        )
        c_remove.button(
            "✕",
            key=f"remove_{i}",
            help=f"Remove {label}",
            on_click=remove_class,
            args=(i,),
            disabled=k <= MIN_CLASSES,
        )
        names.append(name)
        scores.append(clamp_score(score if score is not None else ss[f"slider_{i}"]))
    return names, scores


def toolbar(k: int) -> None:
    c1, c2, c3 = st.columns([1.3, 1, 3])
    c1.button("Reset to the post's example", key="reset", on_click=reset, icon=":material/restart_alt:")
    c2.button(
        "Add a class", key="add_class", on_click=add_class, disabled=k >= MAX_CLASSES, icon=":material/add:"
    )
    with c3.expander("Paste scores (e.g. a model's raw outputs)"):
        st.text_input("Scores, comma-separated", key="paste", placeholder="-3.44, 1.16, -0.81, 3.91")
        st.button("Use these scores", key="apply_paste", on_click=apply_pasted)


def options(names: list[str]) -> tuple[int, str, float]:
    k = len(names)
    if int(ss.get("target", 0)) >= k:
        ss["target"] = 0
    target = st.radio("True class", range(k), key="target", format_func=lambda i: names[i], horizontal=True)
    base = st.radio(
        "Log base of the loss", list(BASES), key="base", format_func=BASE_LABELS.get, horizontal=True
    )
    st.caption(
        "Natural log is the right one: the softmax is built from $e^{s}$, so "
        r"$-\ln p_y = \ln\sum_j e^{s_j} - s_y$ and its gradient is exactly $p - \text{onehot}$; "
        "log10 only divides the loss by ln 10 = 2.3026 (0.0709 / 2.3026 = 0.0308, the number "
        "the post first printed), log2 gives bits."
    )
    temperature = st.slider(
        "Temperature T (softmax of s / T)",
        TEMPERATURE_MIN,
        TEMPERATURE_MAX,
        step=0.05,
        key="temperature",
        help="T < 1 sharpens the probabilities, T > 1 flattens them.",
    )
    return target, base, temperature


def post_table(s: ExplainState, table: sm.PostTable) -> None:
    e, p, nll = table.exp, table.probabilities, table.neg_log
    t = "" if s.temperature == 1 else "/T"
    log = {"e": "-ln p", "10": "-log10 p", "2": "-log2 p"}[s.base]
    df = pd.DataFrame(
        {
            "true class": ["✔" if i == s.target else "" for i in range(len(s.classes))],
            "score s": s.scores,
            f"exp(s{t})": e,
            "probability p": p,
            log: nll,
        },
        index=pd.Index(s.classes, name="class"),
    )
    # Numbers stay numbers (sortable, copyable), printed as fmt() prints them. A pandas
    # Styler (to colour the true class's row) cost 9 ms of every slider move; this 1.5 ms.
    config = {c: st.column_config.NumberColumn(format=column_format(df[c])) for c in df.columns[1:]}
    config["true class"] = st.column_config.TextColumn(width="small")
    st.dataframe(df, key="post_table", width="stretch", column_config=config)
    if not np.all(np.isfinite(e)):
        st.caption(
            f"exp(s{t}) overflows to inf above 709.78; the probabilities are still exact because "
            "they are computed after subtracting the largest score (see the overflow tab)."
        )


def column_format(values) -> str:
    """fmt()'s choice for a whole column: 4 decimals, or 3-digit scientific when a value
    would print as 0.0000 or run to seven digits or more."""
    x = np.abs(np.asarray(values, dtype=float))
    x = x[np.isfinite(x) & (x != 0)]
    return "%.3e" if np.any((x < 1e-4) | (x >= 1e6)) else "%.4f"


def formulas(s: ExplainState, table: sm.PostTable) -> None:
    y = tex_name(s.classes[s.target])
    over_t = "" if s.temperature == 1 else "/T"
    num, den, p = table.exp[s.target], table.exp.sum(), table.probabilities
    loss = table.neg_log[s.target]
    st.latex(
        rf"p_{{\text{{{y}}}}} = \frac{{e^{{s_{{\text{{{y}}}}}{over_t}}}}}{{\sum_j e^{{s_j{over_t}}}}}"
        rf" = \frac{{{tex_num(num)}}}{{{tex_num(den)}}} = {tex_num(p[s.target])}"
    )
    st.latex(
        rf"L = -{LOG_SYMBOL[s.base]} p_{{\text{{{y}}}}} = -{LOG_SYMBOL[s.base]} {tex_num(p[s.target])}"
        rf" = {tex_num(loss)}"
    )


def headline(s: ExplainState, p: np.ndarray, loss: float) -> None:
    name = s.classes[s.target]
    rank = sm.rank_of_target(s.scores, s.target)
    c1, c2, c3 = st.columns(3)
    c1.metric(f"p({name})", fmt(p[s.target]))
    c2.metric({"e": "loss, nats", "10": "loss, log10", "2": "loss, bits"}[s.base], fmt(loss))
    c3.metric("rank of the true class", f"{rank} of {len(s.classes)}")


def charts(s: ExplainState, p: np.ndarray, loss: float) -> None:
    left, right = st.columns(2)
    left.plotly_chart(probability_figure(s.classes, p, s.target), key="chart_p")
    y = s.scores[s.target]
    grid = np.linspace(min(-15.0, y - 5), max(15.0, y + 5), 241)
    curve = sm.loss_curve(s.scores, s.target, grid, BASES[s.base], s.temperature)
    unit = {"e": "nats", "10": "log10", "2": "bits"}[s.base]
    right.plotly_chart(loss_curve_figure(grid, curve, y, loss, s.classes[s.target], unit), key="chart_loss")


def losses_tab(s: ExplainState) -> None:
    grads = gradients(s)
    ce = sm.cross_entropy(s.scores, s.target, BASES[s.base], s.temperature)
    values = {
        "cross-entropy": ce,
        "hinge": sm.hinge_loss(s.scores, s.target),
        "squared hinge": sm.squared_hinge_loss(s.scores, s.target),
    }
    cols = st.columns(3)
    for col, (name, v) in zip(cols, values.items()):
        col.metric(name, fmt(v))
    st.latex(
        r"L_{\text{CE}} = -\log p_y \qquad L_{\text{hinge}} = \sum_{j \ne y} \max(0, s_j - s_y + 1)"
        r"\qquad \frac{\partial L_{\text{CE}}}{\partial s_j} = p_j - [j = y]"
    )
    move = st.radio("Loss to descend", LOSS_NAMES, key="step_loss", horizontal=True)
    g = grads[move]
    arrows = ["↑ raise" if x < -1e-12 else "↓ lower" if x > 1e-12 else "· hold" for x in g]
    df = pd.DataFrame(
        {"score": s.scores, **{f"dL/ds {n}": grads[n] for n in LOSS_NAMES}, f"move ({move})": arrows},
        index=pd.Index(s.classes, name="class"),
    )
    st.markdown(md_table(df))
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    c1.number_input("Learning rate", 0.01, 10.0, value=1.0, step=0.1, key="step_lr")
    c2.button(
        "Take one gradient step",
        key="step",
        on_click=take_step,
        icon=":material/south_east:",
        help="scores <- scores - learning rate x gradient of the chosen loss",
    )
    st.caption(
        "The hinge losses stop pushing once the true class wins by the margin of 1; "
        "cross-entropy never stops: it always wants a little more probability on the true class."
    )
    st.plotly_chart(gradient_figure(s.classes, grads), key="chart_grad")


def overflow_tab(s: ExplainState, p: np.ndarray) -> None:
    st.markdown(
        "Adding the same number **c** to every score changes nothing: "
        r"$e^{s_j + c} / \sum_k e^{s_k + c} = e^{s_j} / \sum_k e^{s_k}$. "
        "That is why we may subtract the largest score before exponentiating, and why we must: "
        "a float64 $e^x$ overflows to inf above 709.78."
    )
    c = st.number_input("Add c to every score", -1e5, 1e5, value=1000.0, step=100.0, key="shift")
    view = sm.overflow_view(np.asarray(s.scores) / s.temperature + c)
    z = "s" if s.temperature == 1 else "s/T"
    df = pd.DataFrame(
        {
            f"{z} + c": view.scores,
            "naive exp": view.naive_exp,
            "naive p": view.naive_probabilities,
            f"{z} + c - max": view.shifted,
            "stable exp": view.stable_exp,
            "stable p": view.stable_probabilities,
        },
        index=pd.Index(s.classes, name="class"),
    )
    st.dataframe(as_text(df), key="overflow_table", width="stretch")
    diff = float(np.max(np.abs(view.stable_probabilities - p)))
    if view.naive_broken:
        st.error(
            f"Naive softmax broke (inf / inf = nan) with c = {c:g}; the max-subtracted form "
            f"still gives the same probabilities (largest difference {diff:.1e})."
        )
    else:
        st.success(
            f"Both forms agree with c = {c:g}; the probabilities did not move "
            f"(largest difference {diff:.1e}). Try c = 1000."
        )


def topk_line(s: ExplainState) -> None:
    rank = sm.rank_of_target(s.scores, s.target)
    top1, top5 = sm.in_top_k(s.scores, s.target, 1), sm.in_top_k(s.scores, s.target, 5)
    st.markdown(
        f"**{s.classes[s.target]}** ranks **{rank}** of {len(s.classes)}: "
        f"top-1 {'correct' if top1 else 'wrong'}, top-5 {'correct' if top5 else 'wrong'}.",
        help="The post's remark: on ImageNet a prediction counts as top-5 correct when the true "
        "label is among the five highest scores. With 5 classes or fewer, top-5 is always correct.",
    )


def show_code() -> None:
    box = st.expander("Show the code that computes these numbers", key="show_code", on_change="rerun")
    if box.open:
        box.code("\n\n".join(inspect.getsource(f) for f in CODE), language="python")


def messages(notice_box, s: ExplainState, name_messages: list[str]) -> None:
    notice, state = ss.get(NOTICE, ([], None))
    with notice_box:
        if notice and state == s:
            st.warning("The link's state was repaired:\n\n" + "\n".join(f"- {m}" for m in notice))
        for m in ss.pop(INPUT_MSGS, []):
            st.error(m)
        for m in name_messages:
            st.warning(m)


def main() -> None:
    sync_from_url()
    fill_widgets(ss[STATE])
    k = len(ss[STATE].classes)
    st.title("Explain: from scores to a loss")
    st.caption(
        "Drag a class's score and watch the post's table recompute: "
        "exp(score), the probability, and the cross-entropy loss of the true class."
    )
    toolbar(k)
    notice_box = st.container()
    left, right = st.columns([5, 4], gap="large")
    with left:
        raw_names, scores = class_rows(k)
    names, name_messages = unique_names(raw_names)
    with right:
        target, base, temperature = options(names)
    s = ExplainState(tuple(names), tuple(scores), int(target), base, float(temperature))
    ss[STATE] = s
    write_url(s)
    messages(notice_box, s, name_messages)

    table = sm.post_table(s.scores, s.temperature, BASES[s.base])
    p, loss = table.probabilities, float(table.neg_log[s.target])
    with right:
        headline(s, p, loss)
        topk_line(s)
        formulas(s, table)
    post_table(s, table)
    charts(s, p, loss)
    # Tabs that track state run only the open one: the page stays fast on every slider move.
    tabs = st.tabs(TABS, key="explain_tab", on_change="rerun")
    with tabs[0]:
        if tabs[0].open is not False:
            losses_tab(s)
    with tabs[1]:
        if tabs[1].open:
            overflow_tab(s, p)
    show_code()


main()
