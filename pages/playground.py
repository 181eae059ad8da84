"""Playground: a 2-D softmax classifier you can watch learn (the CS231n demo, and more).

Layout only: the state, its widgets and callbacks are ui/playground_state.py; the maths
is core/playground/; the figures core/charts/playground.py.
"""

import inspect

import streamlit as st

from core.charts.playground import CLASS_COLOURS, PLANE_CONFIG, compare_figure, history_figure, plane_figure
from core.playground import model as pm
from core.playground import urlstate as pu
from core.playground.data import EXTENT, MAX_CLASSES, MAX_PER_CLASS, MIN_CLASSES, PRESETS
from core.text import number, percent
from ui import playground_state as pg
from ui.router import ensure_router

ensure_router()
MARKS = ("●", "■", "◆", "▲", "⬟")  # the plot's marker shapes, in the class's colour
TABS = ["Every point", "Softmax vs hinge", "Add or move points", "How it is computed"]


def chip(j: int, name: str) -> str:
    return f'<span style="color:{CLASS_COLOURS[j]}">{MARKS[j]}</span> **{name}**'


def plane(view, chosen) -> None:
    c1, c2, c3 = st.columns([1.2, 1.5, 1])
    c1.selectbox("Shade", [-1, *range(view.state.k)], key="pg_shade", on_change=pg.on_settings,
                 format_func=lambda j: "class regions" if j < 0 else f"p({view.classes[j]})")  # fmt: skip
    c2.selectbox("A click on the plot", list(pg.CLICK_MODES), key="pg_click", format_func=pg.CLICK_MODES.get)
    adding = st.session_state["pg_click"] == "add"
    c3.selectbox("Class to add", range(view.state.k), key="pg_add_class", format_func=view.classes.__getitem__,
                 disabled=not adding)  # fmt: skip
    fig = plane_figure(view, chosen, clickable=st.session_state["pg_click"] != "choose")
    st.plotly_chart(
        fig, key=pg.plane_key(), on_select=pg.on_plane_click, selection_mode="points", config=PLANE_CONFIG
    )
    dots = " ".join(chip(j, c) for j, c in enumerate(view.classes))
    shade = "the class the model gives each place (its highest score)"
    if view.state.shade is not None:
        shade = f"p({view.classes[view.state.shade]}), from white (0) to full colour (1)"
    st.markdown(
        f"{dots}: the points, in their true class's colour and shape, **ringed in black where the model "
        f"gets them wrong**. Shade: {shade}. A line: where a class's score is 0; its arrow points where "
        "that score grows.",
        unsafe_allow_html=True,
    )


def chosen_point(view, chosen) -> None:
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    c1.number_input("Chosen point", 1, len(view.points), key=pg.POINT, step=1, on_change=pg.on_point,
                    placeholder="none")  # fmt: skip
    if chosen is None:
        c2.caption("Choose a point by its number, by clicking it, or in the table below.")
        return
    ev, y = view.evaluation, int(view.points.y[chosen])
    c2.markdown(
        f"{chip(y, view.classes[y])}, predicted **{view.classes[ev.predicted[chosen]]}**, "
        f"loss {number(ev.row_losses[chosen])}",
        unsafe_allow_html=True,
    )
    if c2.button("Open its scores on Explain", key="pg_explain", icon=":material/calculate:"):
        pg.open_in_explain(view, chosen)


def data_controls(view) -> None:
    with st.container(border=True):
        c1, c2 = st.columns(2)
        c1.selectbox(
            "Data",
            list(PRESETS),
            key="pg_preset",
            on_change=pg.on_data,
            format_func=lambda p: PRESETS[p].label,
        )
        c2.slider("Classes", MIN_CLASSES, MAX_CLASSES, key="pg_k", on_change=pg.on_data,
                  disabled=PRESETS[view.state.preset].fixed_classes is not None)  # fmt: skip
        c1.slider("Points per class", 1, MAX_PER_CLASS, key="pg_n", on_change=pg.on_data)
        c2.number_input("Seed", 0, pu.SEED_MAX, key="pg_seed", step=1, on_change=pg.on_data)
        c1.button(
            "New points (next seed)", key="pg_new_points", on_click=pg.new_points, icon=":material/casino:"
        )
        if pg.points_edited(view.state):
            c2.button("Back to the preset's points", key="pg_restore", on_click=pg.restore_points)


def losses(view, run) -> None:
    ev, before = view.evaluation, run.records[-2] if len(run.records) > 1 else None
    c1, c2, c3 = st.columns([1, 1, 1.3])
    change = None if before is None else number(ev.total - before.total)
    c1.metric("total loss", number(ev.total), change, delta_color="inverse",
              help="Under it: the change since the previous step (green: the loss went down).")  # fmt: skip
    moved = before is not None and ev.accuracy != before.accuracy  # no "↑ 0.0%" for a step that changed none
    c2.metric("accuracy", percent(ev.accuracy), percent(ev.accuracy - before.accuracy) if moved else None)
    c3.markdown(f"= data loss **{number(ev.data_loss)}**  \n\\+ λ·ΣW² **{number(ev.reg_loss)}**")


def optimiser(view, run) -> None:
    b1, b2, b3 = st.columns(3)
    b1.button(
        "One step",
        key="pg_step",
        on_click=pg.take_steps,
        args=(1,),
        type="primary",
        icon=":material/footprint:",
    )
    b2.button(
        f"Run {view.state.steps} steps", key="pg_run", on_click=pg.run_steps, icon=":material/fast_forward:"
    )
    b3.button("Reset to step 0", key="pg_reset", on_click=pg.reset, icon=":material/restart_alt:")
    c1, c2, c3 = st.columns([1, 1, 0.8], vertical_alignment="bottom")
    c1.number_input(
        "Learning rate",
        pu.LR_MIN,
        pu.LR_MAX,
        key="pg_lr",
        step=0.05,
        format=pg.input_format(view.state.lr),
        on_change=pg.on_settings,
    )
    c2.number_input("N steps", 1, pu.STEPS_MAX, key="pg_steps", step=10, on_change=pg.on_settings)
    c3.toggle(
        "Play", key=pg.PLAY, on_change=pg.on_play, help=f"{pg.PLAY_STEPS} steps every {pg.PLAY_EVERY:g} s"
    )
    st.caption(
        f"Step {run.first_step + len(run.records) - 1} of this run. A step: W ← W − learning rate × ∂L/∂W."
    )


def weights(view) -> None:
    ev, k = view.evaluation, view.state.k
    st.markdown("**The model** s = Wx + b. Beside each weight, the slope of the total loss along it.")
    for row in range(0, k, 3):
        cols = st.columns(3)
        for j, col in zip(range(row, min(k, row + 3)), cols):
            col.markdown(chip(j, view.classes[j]), unsafe_allow_html=True)
            for name, key, value, grad in (
                ("w1", pg.weight_key("w1", j), view.state.W[j][0], ev.dW[j, 0]),
                ("w2", pg.weight_key("w2", j), view.state.W[j][1], ev.dW[j, 1]),
                ("b", pg.weight_key("b", j), view.state.b[j], ev.db[j]),
            ):
                col.number_input(f"{name}  (∂L/∂{name} {number(grad)})", -pm.WEIGHT_LIMIT, pm.WEIGHT_LIMIT, key=key,
                                 step=0.1, format=pg.input_format(value, 1), on_change=pg.on_weights)  # fmt: skip
    st.button("Randomise W and b", key="pg_randomise", on_click=pg.randomise, icon=":material/shuffle:")


def loss_settings(view) -> None:
    st.radio("Loss", list(pm.LOSS_LABELS), key="pg_loss", format_func=pm.LOSS_LABELS.get, horizontal=True,
             on_change=pg.on_settings)  # fmt: skip
    c1, c2 = st.columns(2)
    c1.number_input("λ (regularisation)", 0.0, pu.LAMBDA_MAX, key="pg_lambda", step=0.005,
                    format=pg.input_format(view.state.lam),
                    on_change=pg.on_settings)  # fmt: skip
    # T changes neither the loss nor the picture: the hinge uses no probabilities, none is shaded
    unused = view.state.loss == "hinge" and view.state.shade is None
    c2.slider("Temperature T", pu.TEMPERATURE_MIN, pu.TEMPERATURE_MAX, key="pg_T", step=0.05, on_change=pg.on_settings,
              disabled=unused,
              help="Probabilities are softmax(s / T): T < 1 sharpens them, T > 1 flattens them. "
              "The regions never move; the cross-entropy loss and a shaded p map use these "
              "probabilities (the hinge loss uses none: shade a p to see T with it).")  # fmt: skip


def every_point(view) -> None:
    df, config = pg.point_frame(view)
    st.dataframe(df, key=pg.table_key(), on_select=pg.on_table_select, selection_mode="single-row",
                 hide_index=True, column_config=config, height=300)  # fmt: skip
    st.caption("Worst loss first. Choose a row to ring its point on the plot and open its scores on Explain.")


def compare(view) -> None:
    c1, c2 = st.columns([2, 1])
    steps = c1.slider("Steps for both", 10, pu.STEPS_MAX, 300, step=10, key="pg_compare_steps")
    lam = c2.number_input(
        "λ for both", 0.0, pu.LAMBDA_MAX, 0.0, step=0.005, format="%.4f", key="pg_compare_lambda"
    )
    runs, ends = pg.compare_runs(view, steps, lam)
    left, right = st.columns(2)
    for col, (loss, end) in zip((left, right), ends.items()):
        last = runs[loss][-1]
        col.plotly_chart(plane_figure(end, title=f"{pm.LOSS_LABELS[loss]}", height=380, legend=False),
                         key=f"pg_cmp_{loss}", config=PLANE_CONFIG)  # fmt: skip
        col.caption(f"data loss {number(last.data)} · accuracy {percent(last.accuracy)} · |W| {number(last.weight_norm)} "
                    f"· gradient size {number(last.gradient_norm)}")  # fmt: skip
    left.plotly_chart(compare_figure(runs, "weight_norm", "How hard each pushes: |W|", "|W|"), key="pg_cmp_w")
    right.plotly_chart(
        compare_figure(runs, "data", "Data loss (each in its own units)", "data loss"), key="pg_cmp_l"
    )
    st.caption(
        "Both start from this run's step 0 with its learning rate. On separated data both find lines that classify "
        "every point; once every margin is met the hinge loss is exactly 0 and stops pulling, while softmax always "
        "wants a little more probability on the true class, so with λ = 0 its weights grow without end."
    )


def edit_points(view) -> None:
    c1, c2, c3 = st.columns(3)
    c1.number_input("x1", -EXTENT, EXTENT, key="pg_px", step=0.1, format="%.2f")
    c2.number_input("x2", -EXTENT, EXTENT, key="pg_py", step=0.1, format="%.2f")
    c3.selectbox("Class", range(view.state.k), key="pg_pclass", format_func=view.classes.__getitem__)
    b1, b2, b3 = st.columns(3)
    b1.button("Add this point", key="pg_add", on_click=pg.add_typed_point, icon=":material/add:")
    b2.button(
        "Move the chosen point here", key="pg_move", on_click=pg.move_chosen, icon=":material/open_with:"
    )
    b3.button("Remove the chosen point", key="pg_remove", on_click=pg.remove_chosen, icon=":material/delete:")
    st.caption("Or set “A click on the plot” above to add or move points by clicking.")


FORMULAS = (  # one a line: each fits a phone
    r"S = XW^\top + b",
    r"L = \tfrac1n \textstyle\sum_i L_i(S_i) + \lambda \sum W^2",
    r"G_i = \partial L_i / \partial S_i",
    r"\partial L / \partial W = \tfrac1n G^\top X + 2\lambda W",
    r"\partial L / \partial b = \tfrac1n \textstyle\sum_i G_i",
)


def how_it_is_computed(view) -> None:
    for formula in FORMULAS:
        st.latex(formula)
    st.markdown(
        "$L_i$ and $G_i$ are core.softmax's per-row losses and gradients: the ones Explain is tested with."
    )
    check = pg.gradient_check(view)
    st.markdown(
        f"Gradient check (central differences of the total loss): largest difference {number(check)}."
    )
    st.code("\n\n".join(inspect.getsource(f) for f in (pm.evaluate, pm.step)), language="python")


def main(timer: float | None) -> None:
    pg.play_frame(timer)
    view = pg.start()
    run, chosen = pg.current_run(view), pg.chosen_index(view)
    st.title("Playground: watch a softmax classifier learn")
    st.caption("Points in a plane, a linear classifier s = Wx + b, and gradient descent on its loss.")
    for m in pg.link_notice(view.state):
        st.warning(m)
    for m in pg.take_messages():
        st.error(m)
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        plane(view, chosen)
        losses(view, run)
        optimiser(view, run)
        chosen_point(view, chosen)
    with right:
        weights(view)
        loss_settings(view)
        data_controls(view)
    st.plotly_chart(history_figure(run.records, run.first_step), key="pg_history")
    tabs = st.tabs(TABS, key="pg_tab", on_change="rerun")  # only the open tab is computed
    for tab, show in zip(tabs, (every_point, compare, edit_points, how_it_is_computed)):
        with tab:
            if tab.open or (tab.open is None and show is every_point):
                show(view)
    pg.finish(view)


# One fragment holds the page, so Play's frames redraw it without the sidebar and router.
st.fragment(main, run_every=pg.play_every())(pg.play_every())
