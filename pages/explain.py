"""Explain: scores -> exp -> probabilities -> loss, live, from the post's worked example.

Layout only. The state (widgets <-> session <-> URL) is ui.explain_state; every number
shown comes from one view-model, core.explain.view.explain_view; the headline and the
post's table are drawn in the browser (ui.explain_live) so they follow a dragged slider.
Names are shown through core.text.md (Markdown) or as data (charts, the live block),
numbers through core.text.number.
"""

import inspect

import pandas as pd
import streamlit as st

from core import softmax as sm
from core.charts.explain import descent_figure, gradient_figure, loss_curve_figure
from core.explain import state as xs
from core.explain.view import LOSS_NAMES, MAX_STEPS, ExplainView, explain_view, nonfinite_exp
from core.text import md, number, tex_number, tex_text
from ui import explain_live as live
from ui import explain_state as es
from ui.router import ensure_router

ensure_router()

BASE_LABELS = {"e": "ln (nats)", "10": "log10 (the post's first print)", "2": "log2 (bits)"}
LOG_SYMBOL = {"e": r"\ln", "10": r"\log_{10}", "2": r"\log_{2}"}
TABS = ["Losses and gradients", "Shift and overflow"]
# What core.explain.view calls (core.softmax's kernels), and the functions a reader would call.
CODE = [sm._log_softmax, sm.softmax, sm._post_table, sm._softmax_gradient, sm.softmax_gradient]
CODE += [sm._margins, sm.hinge_loss, sm._hinge_gradient, sm._squared_hinge_gradient]


def class_rows(k: int, limit: float) -> tuple[list[str], list[float]]:
    names, scores = [], []
    for i in range(k):
        # Name and its remove button, then the score: two lines on a phone, one on a laptop.
        left, right = st.columns([2.7, 5.3], vertical_alignment="bottom")
        c_name = left.container(horizontal=True, vertical_alignment="bottom", wrap=False)
        name = c_name.text_input(f"Class {i + 1} name", key=f"name_{i}", max_chars=xs.NAME_MAX)
        label = md(name.strip() or f"class {i + 1}")
        c_name.button(
            "✕", key=f"remove_{i}", help=f"Remove {label}", on_click=es.remove_class, args=(i,),
            disabled=k <= xs.MIN_CLASSES,
        )  # fmt: skip
        c_slider, c_number = right.columns([3, 1.3], vertical_alignment="bottom", wrap=False)
        c_slider.slider(
            f"score of {label}", -limit, limit, step=live.SCORE_STEP, key=f"slider_{i}",
            on_change=es.on_slider, args=(i,),
        )  # fmt: skip
        score = c_number.number_input(
            f"exact score of {label}", -xs.SCORE_LIMIT, xs.SCORE_LIMIT, step=0.01, format="%.4f",
            key=f"number_{i}", on_change=es.on_number, args=(i,), label_visibility="hidden",
        )  # fmt: skip
        names.append(name)
        scores.append(score if score is not None else st.session_state[f"slider_{i}"])
    return names, scores


def toolbar(k: int) -> None:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(
            "Reset to the post's example", key="reset", on_click=es.reset, icon=":material/restart_alt:"
        )
        st.button(
            "Add a class", key="add_class", on_click=es.add_class, disabled=k >= xs.MAX_CLASSES,
            icon=":material/add:",
        )  # fmt: skip
        st.segmented_control(
            "Slider range", es.RANGES, key="score_range", format_func=lambda r: f"±{r:g}",
            on_change=es.on_range, help="Narrow for fine control; the exact box takes any score from -50 to 50.",
        )  # fmt: skip
    with st.expander("Paste scores (e.g. a model's raw outputs)"):
        st.text_input("Scores, comma-separated", key="paste", placeholder="-3.44, 1.16, -0.81, 3.91")
        st.button("Use these scores", key="apply_paste", on_click=es.apply_pasted)


def options(names: list[str]) -> tuple[int, str, float]:
    c_target, c_base, c_t = st.columns([4, 4, 3], gap="medium")
    target = c_target.radio(
        "True class", range(len(names)), key="target", format_func=lambda i: md(names[i]), horizontal=True
    )
    base = c_base.radio(
        "Log base of the loss", list(BASE_LABELS), key="base", format_func=BASE_LABELS.get, horizontal=True
    )
    c_base.caption(
        "Natural log is the right one: the softmax is built from $e^{s}$, so "
        r"$-\ln p_y = \ln\sum_j e^{s_j} - s_y$ and its gradient is exactly $p - \text{onehot}$; "
        "log10 only divides the loss by ln 10 = 2.3026 (0.0709 / 2.3026 = 0.0308, the number "
        "the post first printed), log2 gives bits."
    )
    temperature = c_t.slider(
        "Temperature T (softmax of s / T)", xs.TEMPERATURE_MIN, xs.TEMPERATURE_MAX, step=live.TEMPERATURE_STEP,
        key="temperature", help="T < 1 sharpens the probabilities, T > 1 flattens them.",
    )  # fmt: skip
    return target, base, temperature


def formulas(v: ExplainView) -> None:
    y, t, log = tex_text(v.true_class), "" if v.state.temperature == 1 else "/T", LOG_SYMBOL[v.state.base]
    num, den = v.table.exp[v.state.target], v.table.exp.sum()
    st.markdown(
        f"**{md(v.true_class)}** ranks **{v.rank}** of {len(v.state.classes)}: "
        f"top-1 {'correct' if v.top1 else 'wrong'}, top-5 {'correct' if v.top5 else 'wrong'}.",
        help="The post's remark: on ImageNet a prediction counts as top-5 correct when the true "
        "label is among the five highest scores. With 5 classes or fewer, top-5 is always correct.",
    )
    # One step a line, so the formulas fit a phone however long the numbers get.
    st.latex(
        rf"\begin{{aligned}} p_{{\text{{{y}}}}} &= \frac{{e^{{s_{{\text{{{y}}}}}{t}}}}}{{\sum_j e^{{s_j{t}}}}}"
        rf" = \frac{{{tex_number(num)}}}{{{tex_number(den)}}} \\ &= {tex_number(v.p_true)} \end{{aligned}}"
    )
    st.latex(
        rf"\begin{{aligned}} L &= -{log} p_{{\text{{{y}}}}} = -{log} {tex_number(v.p_true)} \\"
        rf" &= {tex_number(v.loss)} \text{{ {v.unit}}} \end{{aligned}}"
    )
    if nonfinite_exp(v):
        st.caption(
            f"exp(s{t}) overflows to ∞ above 709.78; the probabilities are still exact because "
            "they are computed after subtracting the largest score (see the overflow tab)."
        )


def losses_tab(v: ExplainView) -> None:
    for col, name in zip(st.columns(3), LOSS_NAMES):
        col.metric(name, number(v.losses[name]))
    for formula in (
        r"L_{\text{CE}} = -\log p_y, \qquad \frac{\partial L_{\text{CE}}}{\partial s_j} = p_j - [j = y]",
        r"L_{\text{hinge}} = \sum_{j \ne y} \max(0, s_j - s_y + 1)",
    ):
        st.latex(formula)
    move = st.radio("Loss to descend", LOSS_NAMES, key="step_loss", horizontal=True)
    g = v.gradients[move]
    arrows = ["↑ raise" if x < -1e-12 else "↓ lower" if x > 1e-12 else "· hold" for x in g]
    rows = [
        f"| {'**' + md(c) + '** (true)' if i == v.state.target else md(c)} | {number(s)} | {number(g[i])} | {a} |"
        for i, (c, s, a) in enumerate(zip(v.state.classes, v.state.scores, arrows))
    ]
    st.markdown("\n".join([f"| class | score | ∂L/∂s ({move}) | move |", "|:---|---:|---:|:---|", *rows]))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.number_input("Learning rate", 0.01, 10.0, value=1.0, step=0.1, key="step_lr", width=150)
        st.number_input("Steps", 1, MAX_STEPS, value=1, step=1, key="step_n", width=130)
        st.button(
            "Take the steps", key="step", on_click=es.take_steps, icon=":material/south_east:",
            help="scores <- scores - learning rate x gradient of the chosen loss, that many times",
        )  # fmt: skip
    descent = es.last_descent(v.state)
    if descent is not None:
        st.caption(
            f"{len(descent.losses) - 1} step{'s' if len(descent.losses) > 2 else ''} of {descent.loss_name} at "
            f"learning rate {descent.learning_rate:g}: loss {number(descent.losses[0])} → {number(descent.losses[-1])}."
        )
        st.plotly_chart(descent_figure(descent.losses, descent.loss_name), key="chart_descent")
    st.caption(
        "The hinge losses stop pushing once the true class wins by the margin of 1; "
        "cross-entropy never stops: it always wants a little more probability on the true class."
    )
    st.caption("All three losses' gradients, side by side:")
    st.plotly_chart(gradient_figure(v.state.classes, v.gradients, v.state.target), key="chart_grad")


def overflow_tab(v: ExplainView) -> None:
    st.markdown(
        "Adding the same number **c** to every score changes nothing: "
        r"$e^{s_j + c} / \sum_k e^{s_k + c} = e^{s_j} / \sum_k e^{s_k}$. "
        "That is why we may subtract the largest score before exponentiating, and why we must: "
        "a float64 $e^x$ overflows to ∞ above 709.78 and underflows to 0 below about −745."
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
        {c: [number(x) for x in values] for c, values in columns.items()},
        index=pd.Index(v.state.classes, name="class"),
    )
    st.dataframe(df, key="overflow_table", width="stretch")
    diff = f"largest difference {o.largest_difference:.1e}"
    if o.view.naive_failure == "overflow":
        st.error(
            f"Naive softmax overflowed with c = {o.shift:g}: the largest e^({z} + c) is ∞, so the sum is ∞ "
            f"and ∞ / ∞ = nan. The max-subtracted form still gives the same probabilities ({diff})."
        )
    elif o.view.naive_failure == "underflow":
        st.error(
            f"Naive softmax underflowed with c = {o.shift:g}: every e^({z} + c) is below the smallest float64 "
            f"(about e^−745), so each is 0, the sum is 0 and 0 / 0 = nan. The max-subtracted form still gives "
            f"the same probabilities ({diff}): its largest term is e^0 = 1."
        )
    else:
        st.success(
            f"Both forms agree with c = {o.shift:g}; the probabilities did not move ({diff}). Try c = 1000 or −1000."
        )


def show_code() -> None:
    box = st.expander("Show the code that computes these numbers", key="show_code", on_change="rerun")
    if box.open:
        box.code("\n\n".join(inspect.getsource(f) for f in CODE), language="python")


def source_line(box) -> None:
    src, changed = es.source()
    if src is not None:
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


start = es.start()
st.title("Explain: from scores to a loss")
st.caption(
    "Drag a class's score and watch the post's table recompute: exp(score), the probability, and the loss."
)
source_box, notice_box, headline_box = st.container(), st.container(), st.container()
controls, table_box = st.columns([5, 4], gap="large")
with controls:
    raw_names, scores = class_rows(len(start.classes), es.slider_range())
    toolbar(len(start.classes))
target, base, temperature = options(xs.unique_names(raw_names)[0])
state, name_messages = es.finish(raw_names, scores, target, base, temperature)
source_line(source_box)
messages(notice_box, es.notices(state), name_messages)

# Tabs that track state run only the open one: the page stays fast on every slider move.
tab_open = st.session_state.get("explain_tab", TABS[0])
view = explain_view(state, shift=st.session_state.get("shift", 1000.0) if tab_open == TABS[1] else None)
with headline_box:
    live.headline(view)
with table_box:
    live.table(view)
left, right = st.columns([4, 5], gap="large")
with left:
    formulas(view)
right.plotly_chart(
    loss_curve_figure(
        view.curve_grid, view.curve, state.scores[state.target], view.loss, view.true_class, view.unit
    ),
    key="chart_loss",
)
tabs = st.tabs(TABS, key="explain_tab", on_change="rerun")
with tabs[0]:
    if tabs[0].open is not False:
        losses_tab(view)
with tabs[1]:
    if tabs[1].open:
        overflow_tab(view)
show_code()
