"""The Explain page as a user drives it: widgets by key, numbers as shown on screen."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import softmax as sm
from core.explain.state import ExplainState, default_state, encode_state
from core.text import md, number
from harness.apptest import APP, open_page

POST = list(default_state().scores)
EXPLAIN = "pages/explain.py"


def live(at, part: str) -> dict:
    """What the page hands its live block (ui.explain_live) to show at rest: the headline
    or the post's table. The browser draws exactly these strings (tests/e2e checks)."""
    found = [
        json.loads(e.proto.json)
        for e in at.get("bidi_component")
        if e.proto.component_name == "softmax_explained.explain_live"
    ]
    found = [d for d in found if d["part"] == part]
    assert len(found) == 1, f"{len(found)} live {part} blocks"
    return found[0]


def metric(at, label_start: str) -> str:
    """A headline number (the live block) or an st.metric, by the start of its label."""
    head = live(at, "headline")
    values = {
        head["labels"]["p"]: head["shown"]["headline"]["p"],
        head["labels"]["loss"]: head["shown"]["headline"]["loss"],
        head["labels"]["rank"]: f"{head['values']['rank']} of {len(head['classes'])}",
    }
    values.update({m.label: m.value for m in at.metric})
    matches = [v for label, v in values.items() if label.startswith(label_start)]
    assert matches, f"no metric starting {label_start!r} in {list(values)}"
    return matches[0]


def post_table(at) -> pd.DataFrame:
    """The post's table as numbers, one row per class, as the live block shows it."""
    t = live(at, "table")
    columns = t["columns"][1:]
    values = [t["values"][k] for k in ("exp", "p", "nll")]
    df = pd.DataFrame(
        {
            "true class": ["✔" if i == t["target"] else "" for i in range(len(t["classes"]))],
            columns[0]: t["scores"],
            **{c: [float(x) for x in v] for c, v in zip(columns[1:], values)},
        },
        index=pd.Index(t["classes"], name="class"),
    )
    # What the student reads is the text: it must be the same numbers.
    for key, column in zip(("score", "exp", "p", "nll"), columns):
        assert t["shown"][key] == [number(x) for x in df[column]], key
    return df


def ok(at):
    """The page rendered completely: no exception, the headline numbers are there."""
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("Explain")
    assert metric(at, "p(")
    return at


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


@pytest.fixture
def at():
    return ok(open_page(EXPLAIN))


def test_defaults_show_the_posts_numbers(at):
    assert metric(at, "p(airplane)") == "0.9315"
    assert metric(at, "loss, nats") == "0.0709"
    table = post_table(at)
    assert list(table.index) == ["dog", "cat", "boat", "airplane"]
    assert np.round(table["exp(s)"], 4).tolist() == [0.0321, 3.1899, 0.4449, 49.899]
    assert np.round(table["probability p"], 4).tolist() == [0.0006, 0.0596, 0.0083, 0.9315]
    assert round(table["-ln p"]["airplane"], 4) == 0.0709
    assert table["true class"].tolist() == ["", "", "", "✔"]  # the true class is marked
    assert "0.9315" in texts(at.latex) and "0.0709" in texts(at.latex)
    assert at.slider(key="slider_3").label == "score of airplane"
    assert at.query_params == encode_state(default_state())
    assert not at.error and not at.warning


def test_moving_the_airplane_slider_recomputes_everything(at):
    at.slider(key="slider_3").set_value(1.0).run()
    ok(at)
    scores = POST[:3] + [1.0]
    assert metric(at, "p(airplane)") == f"{sm.softmax(scores)[3]:.4f}" == "0.4257"
    assert metric(at, "loss, nats") == f"{sm.cross_entropy(scores, 3):.4f}"
    assert at.number_input(key="number_3").value == 1.0  # the exact entry follows the slider
    assert at.query_params["scores"] == "-3.44,1.16,-0.81,1"
    assert metric(at, "rank of the true class") == "2 of 4"


def test_exact_number_entry_moves_the_slider(at):
    at.number_input(key="number_1").set_value(3.91).run()
    ok(at)
    assert at.slider(key="slider_1").value == 3.91
    assert metric(at, "p(airplane)") == f"{sm.softmax([-3.44, 3.91, -0.81, 3.91])[3]:.4f}" == "0.4976"


def test_out_of_range_number_stays_in_range(at):
    at.number_input(key="number_0").set_value(1e6).run()
    ok(at)
    value = at.slider(key="slider_0").value
    assert -50 <= value <= 50 and at.number_input(key="number_0").value == value
    assert metric(at, "p(airplane)") == f"{sm.softmax([value] + POST[1:])[3]:.4f}"


@pytest.mark.parametrize(
    "base,label,expected",
    [("10", "loss, log10", "0.0308"), ("2", "loss, bits", "0.1023"), ("e", "loss, nats", "0.0709")],
)
def test_log_base_changes_the_loss(at, base, label, expected):
    at.radio(key="base").set_value(base).run()
    ok(at)
    assert metric(at, label) == expected
    assert metric(at, "p(airplane)") == "0.9315"  # the base changes the loss, never p
    assert at.query_params["base"] == base


def test_temperature_sharpens_and_flattens(at):
    at.slider(key="temperature").set_value(2.0).run()
    ok(at)
    assert metric(at, "p(airplane)") == f"{sm.softmax(POST, 2.0)[3]:.4f}" == "0.7285"
    assert "exp(s/T)" in post_table(at).columns
    at.slider(key="temperature").set_value(0.5).run()
    assert metric(at, "p(airplane)") == f"{sm.softmax(POST, 0.5)[3]:.4f}"
    assert float(metric(at, "p(airplane)")) > 0.9315
    assert at.query_params["temperature"] == "0.5"


def test_choosing_another_true_class(at):
    at.radio(key="target").set_value(1).run()
    ok(at)
    assert metric(at, "p(cat)") == "0.0596"
    assert metric(at, "loss, nats") == f"{sm.cross_entropy(POST, 1):.4f}" == "2.8209"
    assert metric(at, "hinge") == "3.7500"
    assert post_table(at)["true class"].tolist() == ["", "✔", "", ""]  # the mark follows


def test_adding_and_removing_classes(at):
    at.button(key="add_class").click().run()
    ok(at)
    assert at.text_input(key="name_4").value == "class 5"
    assert metric(at, "p(airplane)") == f"{sm.softmax(POST + [0.0])[3]:.4f}"
    for _ in range(5):
        at.button(key="add_class").click().run()
    assert len(post_table(at)) == 10
    assert at.button(key="add_class").disabled
    at.button(key="remove_0").click().run()  # dog goes
    ok(at)
    names = list(post_table(at).index)
    assert names[:3] == ["cat", "boat", "airplane"] and len(names) == 9
    assert metric(at, "p(airplane)")  # the true class followed its row


def test_cannot_go_below_two_classes(at):
    at.button(key="remove_3").click().run()  # airplane, the true class
    assert "'airplane' was the true class; now 'dog' is" in texts(at.warning)
    at.button(key="remove_2").click().run()
    ok(at)
    assert list(post_table(at).index) == ["dog", "cat"]
    assert at.button(key="remove_0").disabled and at.button(key="remove_1").disabled
    # The true class (airplane) was removed: the first class took over, and the page says so.
    assert metric(at, "p(dog)") == f"{sm.softmax([-3.44, 1.16])[0]:.4f}"


def test_renaming_keeps_the_score_and_relabels_the_slider(at):
    at.text_input(key="name_3").input("plane").run()
    ok(at)
    assert at.slider(key="slider_3").label == "score of plane"
    assert metric(at, "p(plane)") == "0.9315"
    assert at.query_params["classes"] == "dog,cat,boat,plane"


def test_duplicate_and_empty_names_get_a_message_and_a_working_page(at):
    at.text_input(key="name_1").input("dog").run()
    ok(at)
    assert "both called 'dog'" in texts(at.warning)
    assert list(post_table(at).index)[:2] == ["dog", "dog (2)"]
    at.text_input(key="name_2").input("   ").run()
    ok(at)
    assert "no name" in texts(at.warning)
    assert metric(at, "p(airplane)") == "0.9315"


def test_look_alike_and_invisible_names_are_told_apart_with_a_note(at):
    at.text_input(key="name_1").input("Dog").run()  # reads the same as 'dog'
    ok(at)
    assert "'Dog' reads the same as 'dog'" in texts(at.warning)
    assert list(post_table(at).index)[:2] == ["dog", "Dog (2)"]
    at.text_input(key="name_2").input("bo\u200bat\u202e").run()
    ok(at)
    assert "invisible or text-direction" in texts(at.warning)
    assert list(post_table(at).index)[2] == "boat"
    assert at.query_params["classes"] == "dog,Dog%20%282%29,boat,airplane"


def test_gradient_step_lowers_the_chosen_loss(at):
    at.radio(key="target").set_value(1).run()  # cat: every loss is large
    before = {name: float(metric(at, name)) for name in ("cross-entropy", "hinge", "squared hinge")}
    assert before["hinge"] == 3.75
    at.radio(key="step_loss").set_value("hinge").run()
    at.button(key="step").click().run()
    ok(at)
    # Hinge gradient: airplane +1, cat -1, learning rate 1: cat 1.16 -> 2.16, airplane 3.91 -> 2.91.
    assert at.slider(key="slider_1").value == pytest.approx(2.16)
    assert at.slider(key="slider_3").value == pytest.approx(2.91)
    assert float(metric(at, "hinge")) == pytest.approx(1.75)
    at.radio(key="step_loss").set_value("cross-entropy").run()
    loss_before = float(metric(at, "cross-entropy"))
    at.button(key="step").click().run()
    assert float(metric(at, "cross-entropy")) < loss_before


def test_reset_returns_to_the_posts_example(at):
    at.slider(key="slider_3").set_value(-10.0).run()
    at.radio(key="base").set_value("10").run()
    at.button(key="add_class").click().run()
    at.button(key="reset").click().run()
    ok(at)
    assert metric(at, "p(airplane)") == "0.9315" and metric(at, "loss, nats") == "0.0709"
    assert at.query_params == encode_state(default_state())


def test_url_state_round_trips_into_a_new_session(at):
    at.text_input(key="name_0").input("wolf").run()
    at.slider(key="slider_0").set_value(2.5).run()
    at.radio(key="base").set_value("2").run()
    at.slider(key="temperature").set_value(1.5).run()
    at.radio(key="target").set_value(2).run()
    shown = (metric(at, "p(boat)"), metric(at, "loss, bits"))
    link = dict(at.query_params)
    assert link == {
        "classes": "wolf,cat,boat,airplane",
        "scores": "2.5,1.16,-0.81,3.91",
        "target": "2",
        "base": "2",
        "temperature": "1.5",
    }

    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.query_params = link
    fresh.run()
    ok(fresh)
    assert (metric(fresh, "p(boat)"), metric(fresh, "loss, bits")) == shown
    assert fresh.slider(key="slider_0").value == 2.5 and fresh.text_input(key="name_0").value == "wolf"
    assert not fresh.warning


def open_link(params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params = params
    return ok(at.run())


@pytest.mark.parametrize(
    "params,message",
    [
        ({"scores": "nan,abc,1e308,3.91"}, "not a finite number"),
        (
            {"classes": ",".join(f"c{i}" for i in range(11)), "scores": ",".join(["1"] * 11)},
            "kept the first 10",
        ),
        ({"classes": "solo", "scores": "1"}, "at least 2"),
        ({"classes": ",".join(f"c{i}" for i in range(10_000))}, "characters long"),
        ({"classes": "a,a,b", "target": "9", "base": "x", "temperature": "-1"}, "both called 'a'"),
    ],
)
def test_broken_links_give_a_message_and_a_working_page(params, message):
    at = open_link(params)
    assert message in texts(at.warning)
    k = len(post_table(at))
    assert 2 <= k <= 10
    at.slider(key="slider_0").set_value(0.5).run()  # and the page still works
    ok(at)
    assert message not in texts(at.warning)  # the repair note goes once the user moves on


def test_one_class_link_shows_the_posts_example():
    at = open_link({"classes": "solo", "scores": "1"})
    assert metric(at, "p(airplane)") == "0.9315"


def test_another_page_can_hand_scores_over(at):
    at.switch_page("pages/train.py").run()
    assert not at.exception
    model = ExplainState(("cat", "dog"), (-0.4, 1.3), 0)
    at.query_params = encode_state(model)
    at.switch_page(EXPLAIN).run()
    ok(at)
    assert list(post_table(at).index) == ["cat", "dog"]
    assert metric(at, "p(cat)") == f"{sm.softmax([-0.4, 1.3])[0]:.4f}"


def test_state_survives_a_visit_to_another_page(at):
    at.slider(key="slider_3").set_value(0.0).run()
    expected = metric(at, "p(airplane)")
    at.switch_page("pages/classify.py").run()
    at.query_params = {}  # the router drops the page's query params on navigation
    at.switch_page(EXPLAIN).run()
    ok(at)
    assert metric(at, "p(airplane)") == expected and at.slider(key="slider_3").value == 0.0


def test_pasting_scores(at):
    at.text_input(key="paste").input("1, two, 3").run()
    at.button(key="apply_paste").click().run()
    ok(at)
    assert "'two' is not a number" in texts(at.error)
    assert metric(at, "p(airplane)") == "0.9315"  # nothing changed
    at.text_input(key="paste").input("1").run()
    at.button(key="apply_paste").click().run()
    assert "you pasted 1" in texts(at.error)
    at.text_input(key="paste").input("0.5, -1, 2, 7, 0").run()
    at.button(key="apply_paste").click().run()
    ok(at)
    assert list(post_table(at).index) == ["dog", "cat", "boat", "airplane", "class 5"]
    assert metric(at, "p(airplane)") == f"{sm.softmax([0.5, -1, 2, 7, 0])[3]:.4f}"


def test_overflow_view_shows_naive_exp_breaking(at):
    at.session_state["explain_tab"] = "Shift and overflow"
    at.run()
    ok(at)
    table = at.dataframe[0].value
    assert table["naive exp"]["airplane"] == "∞" and table["naive p"]["airplane"] == "nan"
    assert table["stable p"].tolist() == ["0.0006", "0.0596", "0.0083", "0.9315"]
    assert "overflowed" in texts(at.error) and "∞ / ∞ = nan" in texts(at.error)
    at.number_input(key="shift").set_value(-1000.0).run()  # every e^(s + c) is 0: underflow, not overflow
    table = at.dataframe[0].value
    assert table["naive exp"].tolist() == ["0.0000"] * 4 and table["naive p"]["airplane"] == "nan"
    assert table["stable p"].tolist() == ["0.0006", "0.0596", "0.0083", "0.9315"]
    assert "underflowed" in texts(at.error) and "0 / 0 = nan" in texts(at.error)
    assert "overflow" not in texts(at.error).replace("underflow", "")
    at.number_input(key="shift").set_value(5.0).run()
    assert "Both forms agree" in texts(at.success)
    assert at.dataframe[0].value["stable p"]["airplane"] == "0.9315"


def test_show_the_code(at):
    at.session_state["show_code"] = True
    at.run()
    code = at.code[0].value
    assert "def softmax(" in code and "def softmax_gradient(" in code and "def hinge_loss(" in code


def test_huge_temperature_effects_stay_finite(at):
    at.number_input(key="number_3").set_value(50.0).run()  # beyond the sliders' +-10: they widen
    assert at.slider(key="slider_3").value == 50.0 and at.slider(key="slider_3").max == 50.0
    at.slider(key="temperature").set_value(0.05).run()  # s/T = 1000: exp overflows, p does not
    ok(at)
    assert metric(at, "p(airplane)") == "1.0000"
    assert metric(at, "loss, nats") == "0.0000"  # not "-0.0000"
    assert math.isinf(post_table(at)["exp(s/T)"]["airplane"])
    assert "overflows" in texts(at.caption)


def test_names_with_markup_and_latex_and_off_grid_values_render():
    at = open_link(
        {
            "classes": "a%2Cb,<b>x</b>,$\\frac{1}{2}$,{}^_",
            "scores": "3.14159265,1,2,-49.99999",
            "temperature": "0.123",
        }
    )
    assert not at.warning
    assert list(post_table(at).index) == ["a,b", "<b>x</b>", "$\\frac{1}{2}$", "{}^_"]
    assert at.slider(key="temperature").value == 0.123
    assert (
        metric(at, "loss, nats")
        == f"{sm.cross_entropy([3.14159265, 1, 2, -49.99999], 3, temperature=0.123):.4f}"
    )
    assert r"\times 10^{" in texts(at.latex)  # tiny probabilities in LaTeX's own notation


HOME = """
import streamlit as st
from ui.explain_state import hand_off

if st.button("Open on Explain", key="go"):
    hand_off(
        ["cat", "dog\\u200b", "[x](http://evil.example)"], [120.0, -3.0, 0.5], 1,
        source="image cat.7.jpg scored by model **pets** · softmax · 61.2%",
        back_page="home.py", back_label="Back to cat.7.jpg",
    )
"""
APP_WITH_HOME = """
import streamlit as st
st.navigation([st.Page("home.py", default=True), st.Page("pages/explain.py")]).run()
"""


def test_hand_off_opens_explain_with_the_scores_where_they_came_from_and_a_way_back(tmp_path):
    """Another page's hand_off: scores clamped into range (and said so), names cleaned,
    the source shown as plain text, a link back; a reset forgets the source."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "explain.py").symlink_to(Path(APP).parent / EXPLAIN)
    (tmp_path / "home.py").write_text(HOME)
    (tmp_path / "app.py").write_text(APP_WITH_HOME)
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=30).run()
    at.button(key="go").click().run()
    ok(at)
    assert list(post_table(at).index) == ["cat", "dog", "[x](http://evil.example)"]
    assert at.slider(key="slider_0").value == 50.0 and at.radio(key="target").value == 1
    warned = texts(at.warning)
    assert "clamped" in warned and "invisible" in warned
    source = texts(at.markdown)
    assert md("image cat.7.jpg scored by model **pets** · softmax · 61.2%") in source  # as text, not bold
    link = at.get("page_link")[0]
    assert link.proto.label == md("Back to cat.7.jpg") and link.proto.page_script_hash
    at.slider(key="slider_2").set_value(1.0).run()
    assert "moved them since" in texts(at.caption)  # the scores are no longer the image's
    at.button(key="reset").click().run()
    assert "cat.7.jpg" not in texts(at.markdown) and not at.get("page_link")


def test_sliders_start_narrow_for_fine_control_and_widen_when_a_score_needs_it():
    at = open_link({"scores": "30,1.16,-0.81,3.91"})
    assert not at.warning  # 30 is a score the page takes: no repair
    assert at.slider(key="slider_0").value == 30 and at.slider(key="slider_0").max == 50
    at.button_group(key="score_range").set_value(10.0).run()  # narrower than 30 needs: refused, said
    ok(at)
    assert at.slider(key="slider_0").max == 50 and at.slider(key="slider_0").value == 30
    assert "the sliders need ±50" in texts(at.warning)
    at.number_input(key="number_0").set_value(5.0).run()
    at.button_group(key="score_range").set_value(10.0).run()
    assert [at.slider(key=f"slider_{i}").max for i in range(4)] == [10.0] * 4  # 0.01 a step over 20
    assert metric(at, "p(airplane)") == f"{sm.softmax([5.0, 1.16, -0.81, 3.91])[3]:.4f}"
    at.button(key="reset").click().run()
    assert at.slider(key="slider_3").max == 10.0 and metric(at, "p(airplane)") == "0.9315"


def test_take_n_steps_draws_the_loss_at_every_step(at):
    from core.explain.view import descend

    at.radio(key="target").set_value(1).run()  # cat: far from the best
    start = at.session_state["explain_state"]
    at.number_input(key="step_n").set_value(10).run()
    at.number_input(key="step_lr").set_value(0.5).run()
    at.button(key="step").click().run()
    ok(at)
    d = descend(start, "cross-entropy", 0.5, 10)
    assert len(d.losses) == 11 and d.losses[-1] < d.losses[0]
    assert [at.slider(key=f"slider_{i}").value for i in range(4)] == pytest.approx(d.final.scores)
    assert metric(at, "p(cat)") == number(sm.softmax(d.final.scores)[1])
    said = texts(at.caption)
    assert (
        f"10 steps of cross-entropy at learning rate 0.5: loss {number(d.losses[0])} → {number(d.losses[-1])}"
        in said
    )
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (chart,) = [c for c in charts if "at each step" in c["layout"]["title"]["text"]]
    assert chart["data"][0]["y"] == pytest.approx(list(d.losses))
    at.slider(key="slider_0").set_value(0.0).run()  # moved on: the chart of those steps goes
    assert "10 steps of" not in texts(at.caption)
