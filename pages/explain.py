"""Explain: scores -> exp -> probabilities -> loss, live, from the post's worked example.

Layout only. The state (widgets <-> session <-> URL) is ui.explain_state; every number
shown comes from one view-model, core.explain.view.explain_view; names are shown
through core.text.md (Markdown) and core.text.html (charts), numbers through
core.text.number.
"""

import inspect

import pandas as pd
import streamlit as st

from core import softmax as sm
from core.charts.explain import gradient_figure, loss_curve_figure, probability_figure
from core.explain import state as xs
from core.explain.view import LOSS_NAMES, MAX_STEPS, ExplainView, explain_view, nonfinite_exp
from core.text import md, number, tex_number, tex_text
from ui import explain_state as es
from ui.router import ensure_router

ensure_router()

BASE_LABELS = {"e": "ln (nats)", "10": "log10 (the post's first print)", "2": "log2 (bits)"}
LOG_SYMBOL = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}
TABS = ["Losses and gradients", "Shift and overflow"]
CODE = [sm.post_table, sm.log_softmax, sm.softmax, sm.softmax_gradient, sm.cross_entropy]
CODE += [sm.hinge_loss, sm.hinge_gradient, sm.squared_hinge_loss, sm.squared_hinge_gradient]


def class_rows(k: int) -> tuple[list[str], list[float]]:
    names, scores = [], []
    for i in range(k):
        c_name, c_slider, c_number, c_remove = st.columns([2, 3.5, 1.8, 0.9], vertical_alignment="bottom")
        name = c_name.text_input(f"Class {i + 1} name", key=f"name_{i}", max_chars=xs.NAME_MAX)
        label = md(name.strip() or f"class {i + 1}")
        c_slider.slider(
            f"score of {label}", -xs.SCORE_LIMIT, xs.SCORE_LIMIT, step=0.01, key=f"slider_{i}",
            on_change=es.on_slider, args=(i,),
        )  # fmt: skip
        score = c_number.number_input(
            f"exact score of {label}", -xs.SCORE_LIMIT, xs.SCORE_LIMIT, step=0.01, format="%.4f",
            key=f"number_{i}", on_change=es.on_number, args=(i,), label_visibility="hidden",
        )  # fmt: skip
        c_remove.button(
            "✕", key=f"remove_{i}", help=f"Remove {label}", on_click=es.remove_class, args=(i,),
            disabled=k <= xs.MIN_CLASSES,
        )  # fmt: skip
        names.append(name)
        scores.append(score if score is not None else st.session_state[f"slider_{i}"])
    return names, scores


def toolbar(k: int) -> None:
    c1, c2, c3 = st.columns([1.3, 1, 3])
    c1.button("Reset to the post's example", key="reset", on_click=es.reset, icon=":material/restart_alt:")
    c2.button(
        "Add a class",
        key="add_class",
        on_click=es.add_class,
        disabled=k >= xs.MAX_CLASSES,
        icon=":material/add:",
    )
    with c3.expander("Paste scores (e.g. a model's raw outputs)"):
        st.text_input("Scores, comma-separated", key="paste", placeholder="-3.44, 1.16, -0.81, 3.91")
        st.button("Use these scores", key="apply_paste", on_click=es.apply_pasted)


def options(names: list[str]) -> tuple[int, str, float]:
    if int(st.session_state.get("target", 0)) >= len(names):
        st.session_state["target"] = 0
    target = st.radio(
        "True class", range(len(names)), key="target", format_func=lambda i: md(names[i]), horizontal=True
    )
    base = st.radio(
        "Log base of the loss", list(BASE_LABELS), key="base", format_func=BASE_LABELS.get, horizontal=True
    )
    st.caption(
        "Natural log is the right one: the softmax is built from $e^{s}$, so "
        r"$-\ln p_y = \ln\sum_j e^{s_j} - s_y$ and its gradient is exactly $p - \text{onehot}$; "
        "log10 only divides the loss by ln 10 = 2.3026 (0.0709 / 2.3026 = 0.0308, the number "
        "the post first printed), log2 gives bits."
    )
    temperature = st.slider(
        "Temperature T (softmax of s / T)", xs.TEMPERATURE_MIN, xs.TEMPERATURE_MAX, step=0.05, key="temperature",
        help="T < 1 sharpens the probabilities, T > 1 flattens them.",
    )  # fmt: skip
    return target, base, temperature


def headline(v: ExplainView) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric(f"p({md(v.true_class)})", number(v.p_true))
    c2.metric(f"loss, {v.unit}", number(v.loss))
    c3.metric("rank of the true class", f"{v.rank} of {len(v.state.classes)}")
    st.markdown(
        f"**{md(v.true_class)}** ranks **{v.rank}** of {len(v.state.classes)}: "
        f"top-1 {'correct' if v.top1 else 'wrong'}, top-5 {'correct' if v.top5 else 'wrong'}.",
        help="The post's remark: on ImageNet a prediction counts as top-5 correct when the true "
        "label is among the five highest scores. With 5 classes or fewer, top-5 is always correct.",
    )
    y, t = tex_text(v.true_class), "" if v.state.temperature == 1 else "/T"
    num, den = v.table.exp[v.state.target], v.table.exp.sum()
    log = LOG_SYMBOL[v.state.base]
    st.latex(
        rf"p_{{\text{{{y}}}}} = \frac{{e^{{s_{{\text{{{y}}}}}{t}}}}}{{\sum_j e^{{s_j{t}}}}}"
        rf" = \frac{{{tex_number(num)}}}{{{tex_number(den)}}} = {tex_number(v.p_true)}"
    )
    st.latex(rf"L = -{log} p_{{\text{{{y}}}}} = -{log} {tex_number(v.p_true)} = {tex_number(v.loss)}")


def column_format(values) -> str:
    """The column's choice of number(): 4 decimals, or scientific when a value would
    print as 0.0000 or run to seven digits or more."""
    shown = [number(x) for x in values]
    return "%.2e" if any("×" in x for x in shown) else "%.4f"


def post_table(v: ExplainView) -> None:
    s, t = v.state, "" if v.state.temperature == 1 else "/T"
    log = {"e": "-ln p", "10": "-log10 p", "2": "-log2 p"}[s.base]
    df = pd.DataFrame(
        {
            "true class": ["✔" if i == s.target else "" for i in range(len(s.classes))],
            "score s": s.scores,
            f"exp(s{t})": v.table.exp,
            "probability p": v.table.probabilities,
            log: v.table.neg_log,
        },
        index=pd.Index(s.classes, name="class"),
    )
    config = {c: st.column_config.NumberColumn(format=column_format(df[c])) for c in df.columns[1:]}
    config["true class"] = st.column_config.TextColumn(width="small")
    st.dataframe(df, key="post_table", width="stretch", column_config=config)
    if nonfinite_exp(v):
        st.caption(
            f"exp(s{t}) overflows to inf above 709.78; the probabilities are still exact because "
            "they are computed after subtracting the largest score (see the overflow tab)."
        )


def charts(v: ExplainView) -> None:
    left, right = st.columns(2)
    left.plotly_chart(
        probability_figure(v.state.classes, v.table.probabilities, v.state.target), key="chart_p"
    )
    y = v.state.scores[v.state.target]
    fig = loss_curve_figure(v.curve_grid, v.curve, y, v.loss, v.true_class, v.unit)
    right.plotly_chart(fig, key="chart_loss")


def losses_tab(v: ExplainView) -> None:
    for col, name in zip(st.columns(3), LOSS_NAMES):
        col.metric(name, number(v.losses[name]))
    st.latex(
        r"L_{\text{CE}} = -\log p_y \qquad L_{\text{hinge}} = \sum_{j \ne y} \max(0, s_j - s_y + 1)"
        r"\qquad \frac{\partial L_{\text{CE}}}{\partial s_j} = p_j - [j = y]"
    )
    move = st.radio("Loss to descend", LOSS_NAMES, key="step_loss", horizontal=True)
    g = v.gradients[move]
    arrows = ["↑ raise" if x < -1e-12 else "↓ lower" if x > 1e-12 else "· hold" for x in g]
    rows = [f"| {md(c)} | {number(s)} | " + " | ".join(number(v.gradients[n][i]) for n in LOSS_NAMES) + f" | {a} |"
            for i, (c, s, a) in enumerate(zip(v.state.classes, v.state.scores, arrows))]  # fmt: skip
    head = "| class | score | " + " | ".join(f"dL/ds {n}" for n in LOSS_NAMES) + f" | move ({move}) |"
    st.markdown("\n".join([head, "|:---|---:|---:|---:|---:|:---|", *rows]))
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    c1.number_input("Learning rate", 0.01, 10.0, value=1.0, step=0.1, key="step_lr")
    c2.number_input("Steps", 1, MAX_STEPS, value=1, step=1, key="step_n")
    c3.button(
        "Take the steps", key="step", on_click=es.take_steps, icon=":material/south_east:",
        help="scores <- scores - learning rate x gradient of the chosen loss, that many times",
    )  # fmt: skip
    st.caption(
        "The hinge losses stop pushing once the true class wins by the margin of 1; "
        "cross-entropy never stops: it always wants a little more probability on the true class."
    )
    st.plotly_chart(gradient_figure(v.state.classes, v.gradients), key="chart_grad")


def overflow_tab(v: ExplainView) -> None:
    st.markdown(
        "Adding the same number **c** to every score changes nothing: "
        r"$e^{s_j + c} / \sum_k e^{s_k + c} = e^{s_j} / \sum_k e^{s_k}$. "
        "That is why we may subtract the largest score before exponentiating, and why we must: "
        "a float64 $e^x$ overflows to inf above 709.78."
    )
    st.number_input("Add c to every score", -1e5, 1e5, value=1000.0, step=100.0, key="shift")
    o, z = v.overflow, "s" if v.state.temperature == 1 else "s/T"
    columns = {
        f"{z} + c": o.view.scores,
        "naive exp": o.view.naive_exp,
        "naive p": o.view.naive_probabilities,
        f"{z} + c - max": o.view.shifted,
        "stable exp": o.view.stable_exp,
        "stable p": o.view.stable_probabilities,
    }
    df = pd.DataFrame(
        {c: [number(x) for x in xs] for c, xs in columns.items()},
        index=pd.Index(v.state.classes, name="class"),
    )
    st.dataframe(df, key="overflow_table", width="stretch")
    diff = f"largest difference {o.largest_difference:.1e}"
    if o.view.naive_broken:
        st.error(
            f"Naive softmax broke (inf / inf = nan) with c = {o.shift:g}; the max-subtracted form "
            f"still gives the same probabilities ({diff})."
        )
    else:
        st.success(
            f"Both forms agree with c = {o.shift:g}; the probabilities did not move ({diff}). Try c = 1000."
        )


def show_code() -> None:
    box = st.expander("Show the code that computes these numbers", key="show_code", on_change="rerun")
    if box.open:
        box.code("\n\n".join(inspect.getsource(f) for f in CODE), language="python")


def source_line(box) -> None:
    src, changed = es.source()
    if src is None:
        return
    with box.container(border=True):
        st.markdown(f"Scores from {md(src.text)}")
        if changed:
            st.caption("You have moved them since; the link back shows the original.")
        if src.back_page:
            st.page_link(src.back_page, label=md(src.back_label or "Back"), icon=":material/arrow_back:")


def messages(box, said: es.Notices, name_messages: list[str]) -> None:
    with box:
        if said.repairs:
            st.warning("The link's state was repaired:\n\n" + "\n".join(f"- {m}" for m in said.repairs))
        for m in said.errors:
            st.error(m)
        for m in said.notes + name_messages:
            st.warning(m)


k = len(es.start().classes)
st.title("Explain: from scores to a loss")
st.caption(
    "Drag a class's score and watch the post's table recompute: "
    "exp(score), the probability, and the cross-entropy loss of the true class."
)
source_box = st.container()
toolbar(k)
notice_box = st.container()
left, right = st.columns([5, 4], gap="large")
with left:
    raw_names, scores = class_rows(k)
names, _ = xs.unique_names(raw_names)
with right:
    target, base, temperature = options(names)
state, name_messages = es.finish(raw_names, scores, target, base, temperature)
source_line(source_box)
messages(notice_box, es.notices(state), name_messages)

# Tabs that track state run only the open one: the page stays fast on every slider move.
tab_open = st.session_state.get("explain_tab", TABS[0])
view = explain_view(state, shift=st.session_state.get("shift", 1000.0) if tab_open == TABS[1] else None)
with right:
    headline(view)
post_table(view)
charts(view)
tabs = st.tabs(TABS, key="explain_tab", on_change="rerun")
with tabs[0]:
    if tabs[0].open is not False:
        losses_tab(view)
with tabs[1]:
    if tabs[1].open:
        overflow_tab(view)
show_code()
