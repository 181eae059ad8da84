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
from core.explain import words
from core.explain.view import LOSS_NAMES, MAX_STEPS, ExplainView, explain_view, nonfinite_exp
from core.text import md, number
from ui import explain_live as live
from ui import explain_state as es
from ui.router import ensure_router

ensure_router()

BASE_LABELS = {"e": "ln (nats)", "10": "log10 (the post's first print)", "2": "log2 (bits)"}
TABS = ["Losses and gradients", "Shift and overflow"]
CHART = {"displayModeBar": False}  # plotly's tool bar would cover the chart's title on hover
# What core.explain.view calls (core.softmax's kernels), and the functions a reader would call.
CODE = [sm._log_softmax, sm.softmax, sm._post_table, sm._softmax_gradient, sm.softmax_gradient]
CODE += [sm._margins, sm.hinge_loss, sm._hinge_gradient, sm._squared_hinge_gradient]


def class_rows(k: int, limit: float) -> tuple[list[str], list[float]]:
    names, scores = [], []
    for i in range(k):
        # Name and its remove button, then the score: two lines on a phone, one on a laptop.
        left, right = st.columns([2.5, 5.5], vertical_alignment="bottom")
        c_name = left.container(horizontal=True, vertical_alignment="bottom", wrap=False)
        name = c_name.text_input(f"Class {i + 1} name", key=f"name_{i}", max_chars=xs.NAME_MAX)
        label = md(name.strip() or f"class {i + 1}")
        c_name.button(
            "✕", key=f"remove_{i}", help=f"Remove {label}", on_click=es.remove_class, args=(i,),
            disabled=k <= xs.MIN_CLASSES,
        )  # fmt: skip
        c_slider, c_number = right.columns([2.1, 1.9], vertical_alignment="bottom", wrap=False)
        c_slider.slider(
            f"score of {label}", -limit, limit, step=live.SCORE_STEP, key=f"slider_{i}",
            on_change=es.on_slider, args=(i,),
        )  # fmt: skip
        score = c_number.number_input(
            f"exact score of {label}", -xs.SCORE_LIMIT, xs.SCORE_LIMIT, step=0.01, format="%g",
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


def options(names: list[str]):
    """The true class, the log base and T; and the box under the base for its note, which
    needs the view (written once the view is computed)."""
    c_target, c_base, c_t = st.columns([4, 4, 3], gap="medium")
    target = c_target.radio(
        "True class", range(len(names)), key="target", format_func=lambda i: md(names[i]), horizontal=True
    )
    base = c_base.radio(
        "Log base of the loss", list(BASE_LABELS), key="base", format_func=BASE_LABELS.get, horizontal=True
    )
    note = c_base.empty()
    temperature = c_t.slider(
        "Temperature T (softmax of s / T)", xs.TEMPERATURE_MIN, xs.TEMPERATURE_MAX, step=live.TEMPERATURE_STEP,
        key="temperature", help="T < 1 sharpens the probabilities, T > 1 flattens them.",
    )  # fmt: skip
    return target, base, temperature, note


def formulas(v: ExplainView) -> None:
    st.markdown(words.topk_sentence(v), help=words.TOPK_HELP)
    for formula in words.formulas(v):
        st.latex(formula)
    if nonfinite_exp(v):
        st.caption(words.exp_overflow_note(v))


def losses_tab(v: ExplainView) -> None:
    for col, name in zip(st.columns(3), LOSS_NAMES):
        col.metric(name, number(v.losses[name]))
    for formula in words.loss_formulas(v):
        st.latex(formula)
    move = st.radio("Loss to descend", LOSS_NAMES, key="step_loss", horizontal=True)
    st.markdown(words.gradient_table(v, move))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.number_input("Learning rate", 0.01, 10.0, value=1.0, step=0.1, key="step_lr", width=150)
        st.number_input("Steps", 1, MAX_STEPS, value=1, step=1, key="step_n", width=130)
        st.button(
            "Take the steps", key="step", on_click=es.take_steps, icon=":material/south_east:",
            help="scores <- scores - learning rate x gradient of the chosen loss, that many times",
        )  # fmt: skip
    descent = es.last_descent(v.state)
    if descent is not None:
        st.caption(words.descent_summary(descent))
        st.plotly_chart(descent_figure(descent.losses, descent.loss_name), key="chart_descent", config=CHART)
    st.caption(words.HINGE_NOTE)
    st.caption(
        "All three losses' gradients, one panel each, each on its own scale (compare directions, not sizes):"
    )
    st.plotly_chart(
        gradient_figure(v.state.classes, v.gradients, v.state.target), key="chart_grad", config=CHART
    )


def overflow_tab(v: ExplainView) -> None:
    st.markdown(words.SHIFT_NOTE)
    st.number_input("Add c to every score", -1e5, 1e5, value=1000.0, step=100.0, key="shift")
    o, z = v.overflow, "s" if v.state.temperature == 1 else "s/T"
    columns = {  # what breaks and what does not first: the key columns stay in sight on a phone
        "naive exp": o.view.naive_exp,
        "naive p": o.view.naive_probabilities,
        "stable p": o.view.stable_probabilities,
        f"{z} + c": o.view.scores,
        f"{z} + c - max": o.view.shifted,
        "stable exp": o.view.stable_exp,
    }
    df = pd.DataFrame(
        {c: [number(x) for x in values] for c, values in columns.items()},
        index=pd.Index(v.state.classes, name="class"),
    )
    st.dataframe(df, key="overflow_table", width="stretch")
    kind, message = words.overflow_message(o, z)
    getattr(st, kind)(message)


def show_code() -> None:
    box = st.expander("Show the code that computes these numbers", key="show_code", on_change="rerun")
    if box.open:
        box.code("\n\n".join(inspect.getsource(f) for f in CODE), language="python")


start = es.start()
st.title("Explain: from scores to a loss")
st.caption(
    "Drag a class's score and watch the post's table recompute: exp(score), the probability, and the loss."
)
source_box, notice_box, headline_box = st.container(), st.container(), st.container()
controls, table_box = st.columns([3, 2], gap="large")
with controls:
    raw_names, scores = class_rows(len(start.classes), es.slider_range())
    toolbar(len(start.classes))
target, base, temperature, base_note_box = options(xs.unique_names(raw_names)[0])
state, name_messages = es.finish(raw_names, scores, target, base, temperature)
es.show_source(source_box)
es.show_notices(notice_box, state, name_messages)

# Tabs that track state run only the open one: the page stays fast on every slider move.
view = explain_view(state, shift=es.shift_if_open("explain_tab", TABS[1], "shift", default=1000.0))
base_note_box.caption(words.base_note(view))
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
    config=CHART,
)
tabs = st.tabs(TABS, key="explain_tab", on_change="rerun")
with tabs[0]:
    if tabs[0].open is not False:
        losses_tab(view)
with tabs[1]:
    if tabs[1].open:
        overflow_tab(view)
show_code()
