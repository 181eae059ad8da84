"""The Playground as a user drives it: every control by its key, numbers as shown."""

from __future__ import annotations

import numpy as np
import pytest

from core.playground.data import as_points, make_points
from core.playground.model import Model, evaluate
from core.playground.urlstate import PARAMS, PlaygroundState, decode_state, encode_state
from core.text import number, percent
from harness.apptest import open_page
from ui import playground_state as pg

PAGE = "pages/playground.py"


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("Playground")
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def param(at, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[-1] if isinstance(value, list) else value


def state(at) -> PlaygroundState:
    """What the page shows, read back from its URL (which the page writes every run)."""
    s, messages = decode_state({k: param(at, k) for k in PARAMS if k in at.query_params})
    assert not messages, messages
    return s


def expected(s: PlaygroundState):
    pts = as_points(s.all_points())
    return evaluate(Model.of(s.W, s.b), pts.X, pts.y, s.loss, s.lam, s.temperature)


def weight(at, name: str, j: int):
    """A weight's number box (its key carries a version: ui.playground_state.weight_key)."""
    return next(n for n in at.number_input if n.key and n.key.startswith(f"pg_{name}_{j}_v"))


def table(at):
    return at.dataframe[0].value


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def step_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Step "))


@pytest.fixture
def at():
    return ok(open_page(PAGE))


def open_link(params: dict):
    at = open_page()
    at.query_params = params
    return ok(at.switch_page(PAGE).run())


def test_opens_on_the_default_state_and_shows_its_numbers(at):
    s = state(at)
    assert s == PlaygroundState()
    ev = expected(s)
    assert metric(at, "total loss") == number(ev.total)
    assert metric(at, "accuracy") == percent(ev.accuracy)
    assert f"data loss **{number(ev.data_loss)}**" in texts(at.markdown)
    assert weight(at, "w1", 0).value == s.W[0][0]
    assert weight(at, "w1", 0).label == f"w1  (∂L/∂w1 {number(ev.dW[0, 0])})"  # the gradient beside
    assert weight(at, "b", 2).label == f"b  (∂L/∂b {number(ev.db[2])})"
    df = table(at)
    assert len(df) == 60 and list(df["loss"]) == sorted(df["loss"], reverse=True)
    assert df["loss"].iloc[0] == pytest.approx(ev.row_losses.max())
    assert step_caption(at).startswith("Step 0 of this run")
    assert not at.error and not at.warning


def test_one_step_and_run_n_steps_lower_the_loss_and_count_the_steps(at):
    start = expected(state(at)).total
    at.button(key="pg_step").click().run()
    ok(at)
    one = float(metric(at, "total loss"))
    assert one < start and step_caption(at).startswith("Step 1 of")
    assert metric(at, "total loss") == number(expected(state(at)).total)  # the URL holds the new W
    at.number_input(key="pg_steps").set_value(40).run()
    assert at.button(key="pg_run").label == "Run 40 steps"
    at.button(key="pg_run").click().run()
    ok(at)
    assert float(metric(at, "total loss")) < one and step_caption(at).startswith("Step 41 of")
    at.button(key="pg_reset").click().run()
    ok(at)
    assert state(at).W == PlaygroundState().W and step_caption(at).startswith("Step 0 of")
    assert float(metric(at, "total loss")) == pytest.approx(start, abs=1e-4)


def test_play_takes_steps_frame_by_frame_and_stops_itself(at):
    at.toggle(key="pg_play").set_value(True).run()
    ok(at)
    n = pg.PLAY_STEPS
    assert step_caption(at).startswith(f"Step {n} of")  # a frame's steps (the browser's timer repeats it)
    at.run()
    assert step_caption(at).startswith(f"Step {2 * n} of")
    at.toggle(key="pg_play").set_value(False).run()
    at.run()
    assert step_caption(at).startswith(f"Step {2 * n} of")
    # The hinge on separated data stops moving once every margin is met: so does Play.
    at.radio(key="pg_loss").set_value("hinge").run()
    at.number_input(key="pg_lambda").set_value(0.0).run()
    at.toggle(key="pg_play").set_value(True).run()
    for _ in range(30):
        if not at.toggle(key="pg_play").value:
            break
        at.run()
    assert not at.toggle(key="pg_play").value and "the gradient is 0" in texts(at.error)


def test_editing_a_weight_redraws_the_loss_and_starts_a_new_run(at):
    at.button(key="pg_step").click().run()
    weight(at, "w1", 1).set_value(2.5).run()
    ok(at)
    s = state(at)
    assert s.W[1][0] == 2.5
    assert metric(at, "total loss") == number(expected(s).total)
    assert step_caption(at).startswith("Step 0 of")  # a hand-set W is a new start
    weight(at, "b", 0).set_value(-1.25).run()
    assert state(at).b[0] == -1.25


def test_randomise_gives_new_weights(at):
    before = state(at).W
    at.button(key="pg_randomise").click().run()
    ok(at)
    weights = state(at).W
    assert weights != before and len(weights) == 3


def test_the_loss_lambda_temperature_and_learning_rate(at):
    at.radio(key="pg_loss").set_value("hinge").run()
    ok(at)
    s = state(at)
    assert s.loss == "hinge" and metric(at, "total loss") == number(expected(s).total)
    assert "margin blue" in table(at).columns and "p blue" not in table(at).columns
    assert at.slider(key="pg_T").disabled  # the hinge uses no probabilities, and none is shaded
    at.selectbox(key="pg_shade").set_value(0).run()
    assert not at.slider(key="pg_T").disabled  # the p map uses T
    at.selectbox(key="pg_shade").set_value(-1).run()
    at.number_input(key="pg_lambda").set_value(0.5).run()
    assert f"λ·ΣW² **{number(0.5 * np.sum(np.square(state(at).W)))}**" in texts(at.markdown)
    at.radio(key="pg_loss").set_value("cross-entropy").run()
    p_before = table(at)["p blue"].to_numpy()
    at.slider(key="pg_T").set_value(3.0).run()
    ok(at)
    assert state(at).temperature == 3.0
    assert not np.allclose(table(at)["p blue"].to_numpy(), p_before)  # flatter probabilities
    assert metric(at, "total loss") == number(expected(state(at)).total)
    at.number_input(key="pg_lr").set_value(0.05).run()
    assert state(at).lr == 0.05


def test_data_presets_classes_points_and_seed(at):
    at.slider(key="pg_k").set_value(5).run()
    ok(at)
    assert state(at).k == 5 and len(table(at)) == 100
    assert weight(at, "w2", 4)  # five rows of W
    at.slider(key="pg_n").set_value(7).run()
    assert len(table(at)) == 35
    seed_points = state(at).all_points()
    at.number_input(key="pg_seed").set_value(42).run()
    assert state(at).seed == 42 and state(at).all_points() != seed_points
    at.button(key="pg_new_points").click().run()
    assert state(at).seed == 43
    at.selectbox(key="pg_preset").set_value("xor").run()
    ok(at)
    s = state(at)
    assert s.preset == "xor" and s.k == 2 and at.slider(key="pg_k").disabled
    assert len(table(at)) == 14 and len(s.W) == 2


def test_shading_a_classs_probability(at):
    at.selectbox(key="pg_shade").set_value(1).run()
    ok(at)
    assert state(at).shade == 1 and param(at, "shade") == "orange"
    assert "Shade: p(orange)" in texts(at.markdown)
    at.selectbox(key="pg_shade").set_value(-1).run()
    assert state(at).shade is None


def test_choosing_a_point_and_opening_it_on_explain(at):
    at.session_state["pg_tab"] = "Add or move points"
    at.number_input(key="pg_point").set_value(5).run()
    ok(at)
    s = state(at)
    ev = expected(s)
    assert f"loss {number(ev.row_losses[4])}" in texts(at.markdown)
    assert at.number_input(key="pg_px").value == s.all_points()[4][0]  # the move fields follow
    at.button(key="pg_explain").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("Explain")
    assert [at.text_input(key=f"name_{i}").value for i in range(3)] == ["blue", "orange", "green"]
    scores = [at.number_input(key=f"number_{i}").value for i in range(3)]
    np.testing.assert_allclose(scores, ev.scores[4], atol=5e-7)  # rounded to 6 decimals
    assert at.radio(key="target").value == s.all_points()[4][2]


def test_a_click_is_read_from_the_charts_selection():
    from ui.playground_state import Click, read_click

    on_point = {"selection": {"points": [{"x": 1.25, "y": -0.5, "customdata": 7, "curve_number": 3}]}}
    assert read_click(on_point) == Click(7, 1.25, -0.5)
    on_grid = {"selection": {"points": [{"x": -2.4, "y": 3.0, "curve_number": 6}]}}
    assert read_click(on_grid) == Click(None, -2.4, 3.0)
    for broken in (
        None,
        {},
        {"selection": {"points": []}},
        {"selection": {"points": [{"x": "nan", "y": 0}]}},
    ):
        assert read_click(broken) is None


def test_table_columns_keep_tiny_numbers_readable():
    from ui.playground_state import column_format

    assert column_format([0.5, 0.25]) == "%.4f"
    assert column_format([0.5, 3e-9]) == "%.3e"  # would print as 0.0000
    assert column_format([0.0, 1.0]) == "%.4f"


def test_adding_moving_and_removing_points(at):
    at.session_state["pg_tab"] = "Add or move points"
    at.selectbox(key="pg_click").set_value("add").run()
    assert not at.selectbox(key="pg_add_class").disabled
    at.number_input(key="pg_px").set_value(2.5).run()
    at.number_input(key="pg_py").set_value(-2.25).run()
    at.selectbox(key="pg_pclass").set_value(2).run()
    at.button(key="pg_add").click().run()
    ok(at)
    points = state(at).all_points()
    assert len(points) == 61 and points[-1] == (2.5, -2.25, 2)
    assert at.number_input(key="pg_point").value == 61  # the new point is the chosen one
    at.number_input(key="pg_px").set_value(-1.0).run()
    at.button(key="pg_move").click().run()
    assert state(at).all_points()[-1] == (-1.0, -2.25, 2)
    at.button(key="pg_remove").click().run()
    ok(at)
    assert len(state(at).all_points()) == 60 and at.number_input(key="pg_point").value is None
    assert state(at).points is not None  # edited: the link carries the points
    at.button(key="pg_restore").click().run()
    assert state(at).points is None and "points" not in at.query_params


def test_move_without_a_chosen_point_says_so(at):
    at.session_state["pg_tab"] = "Add or move points"
    at.run()
    at.button(key="pg_move").click().run()
    ok(at)
    assert "Choose a point first" in texts(at.error)


def test_softmax_vs_hinge_side_by_side():
    at = open_link({"lr": "1"})
    at.session_state["pg_tab"] = "Softmax vs hinge"
    at.run()
    at.slider(key="pg_compare_steps").set_value(400).run()
    ok(at)
    softmax, hinge = (c.value for c in at.caption if c.value.startswith("data loss"))
    assert "accuracy 100.0%" in softmax and "accuracy 100.0%" in hinge
    assert hinge.startswith("data loss 0.0000") and "gradient size 0.0000" in hinge  # it stopped
    assert not softmax.startswith("data loss 0.0000") and "gradient size 0.0000" not in softmax
    free = float(softmax.split("|W| ")[1].split()[0])
    at.number_input(key="pg_compare_lambda").set_value(0.5).run()  # a strong pull towards W = 0
    softmax = next(c.value for c in at.caption if c.value.startswith("data loss"))
    assert float(softmax.split("|W| ")[1].split()[0]) < free / 2


def test_how_it_is_computed_checks_the_gradient():
    at = open_page(PAGE)
    at.session_state["pg_tab"] = "How it is computed"
    at.run()
    ok(at)
    check = next(m.value for m in at.markdown if m.value.startswith("Gradient check"))
    assert "10⁻" in check  # a difference of order 1e-10, shown with its exponent
    assert "def evaluate" in at.code[0].value


def test_a_link_reproduces_the_page_and_a_broken_one_is_repaired():
    pts = make_points("rings", 4, 5, seed=3)[:-1]
    s = PlaygroundState(
        "rings", 4, 5, 3, pts, ((1, 0), (0, 1), (-1, 0), (0, -1)), (0, 0, 0, 0.5), "hinge", 0.1
    )
    at = open_link(encode_state(s))
    assert state(at) == s and len(table(at)) == 19 and not at.warning
    assert metric(at, "total loss") == number(expected(s).total)
    at = open_link({"k": "1e308", "W": "nan,1;2", "lr": "-5", "points": "9,9,9", "shade": "<img src=x>"})
    warned = texts(at.warning)
    assert "outside 2 to 5" in warned and "not two numbers" in warned and r"\<img" in warned
    assert state(at).k == 5 and param(at, "k") == "5"  # the repaired state is what the URL says now


def test_the_state_survives_a_visit_to_another_page(at):
    at.button(key="pg_step").click().run()
    at.number_input(key="pg_lr").set_value(0.25).run()
    s = state(at)
    at.switch_page("pages/explain.py").run()
    at.switch_page(PAGE).run()
    ok(at)
    assert weight(at, "w1", 0).value == s.W[0][0] and at.number_input(key="pg_lr").value == 0.25
    assert step_caption(at).startswith("Step 1 of")
