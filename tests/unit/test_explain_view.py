"""core.explain: the view-model computes, from one checked state, exactly what the public
core.softmax functions give one call at a time; the state's operations say what they did."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import softmax as sm
from core.explain import words
from core.explain.state import (
    BASES,
    MAX_CLASSES,
    SCORE_LIMIT,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    ExplainState,
    add_class,
    default_state,
    paste_scores,
    remove_class,
)
from core.explain.view import curve_grid, descend, explain_view
from core.text import md, number, tex_number


@st.composite
def states(draw):
    k = draw(st.integers(2, MAX_CLASSES))
    return ExplainState(
        tuple(f"c{i}" for i in range(k)),
        tuple(draw(st.lists(st.floats(-SCORE_LIMIT, SCORE_LIMIT), min_size=k, max_size=k))),
        draw(st.integers(0, k - 1)),
        draw(st.sampled_from(list(BASES))),
        draw(st.floats(TEMPERATURE_MIN, TEMPERATURE_MAX)),
    )


def same(a, b) -> bool:
    """Equal to the last bit (nan equal to nan): the view must not change a single number."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@given(states(), st.one_of(st.none(), st.floats(-1e5, 1e5)))
@settings(max_examples=200, deadline=None)
def test_the_view_equals_the_public_functions_exactly(s, shift):
    v = explain_view(s, shift)
    b, t, y = BASES[s.base], s.temperature, s.target
    table = sm.post_table(s.scores, t, b)
    assert same(v.table.exp, table.exp) and same(v.table.probabilities, table.probabilities)
    assert same(v.table.neg_log, table.neg_log)
    assert v.p_true == sm.softmax(s.scores, t)[y]
    assert v.loss == v.losses["cross-entropy"] == sm.cross_entropy(s.scores, y, b, t)
    assert v.losses["hinge"] == sm.hinge_loss(s.scores, y)
    assert v.losses["squared hinge"] == sm.squared_hinge_loss(s.scores, y)
    assert same(v.gradients["cross-entropy"], sm.softmax_gradient(s.scores, y, t, b))
    assert same(v.gradients["hinge"], sm.hinge_gradient(s.scores, y))
    assert same(v.gradients["squared hinge"], sm.squared_hinge_gradient(s.scores, y))
    assert v.rank == sm.rank_of_target(s.scores, y)
    assert (v.top1, v.top5) == (sm.in_top_k(s.scores, y, 1), sm.in_top_k(s.scores, y, 5))
    assert same(v.curve, sm.loss_curve(s.scores, y, curve_grid(s.scores[y]), b, t))
    if shift is None:
        assert v.overflow is None
    else:
        o = sm.overflow_view(np.asarray(s.scores) / t + shift)
        assert same(v.overflow.view.naive_probabilities, o.naive_probabilities)
        assert same(v.overflow.view.stable_probabilities, o.stable_probabilities)
        assert v.overflow.largest_difference == float(
            np.max(np.abs(o.stable_probabilities - table.probabilities))
        )


def test_the_posts_numbers():
    v = explain_view(default_state())
    assert np.round(v.table.exp, 4).tolist() == [0.0321, 3.1899, 0.4449, 49.899]
    assert np.round(v.table.probabilities, 4).tolist() == [0.0006, 0.0596, 0.0083, 0.9315]
    assert round(v.loss, 4) == 0.0709 and v.rank == 1 and v.unit == "nats"
    assert round(explain_view(ExplainState(*default_state().__dict__.values())).loss, 4) == 0.0709
    ten = explain_view(ExplainState(("dog", "cat", "boat", "airplane"), (-3.44, 1.16, -0.81, 3.91), 3, "10"))
    assert round(ten.loss, 4) == 0.0308 and ten.unit == "log10"  # what the post first printed


@pytest.mark.parametrize(
    "c,failure,said", [(1000.0, "overflow", "∞ / ∞"), (-1000.0, "underflow", "0 / 0"), (5.0, None, "agree")]
)
def test_overflow_and_underflow_are_told_apart(c, failure, said):
    o = explain_view(default_state(), shift=c).overflow
    assert o.view.naive_failure == failure
    assert np.allclose(o.view.stable_probabilities, sm.softmax(default_state().scores))
    kind, message = words.overflow_message(o)
    assert said in message and kind == ("success" if failure is None else "error")


@pytest.mark.parametrize("loss", list(sm.LOSSES))
def test_descend_is_gradient_steps_rounded_and_lowers_the_loss(loss):
    start = ExplainState(("dog", "cat", "boat", "airplane"), (-3.44, 1.16, -0.81, 3.91), 1)
    d = descend(start, loss, 0.5, steps=20)
    assert len(d.states) == len(d.losses) == 21 and d.states[0] == start
    scores = np.asarray(start.scores)
    fn, grad = sm.LOSSES[loss]
    for i, state in enumerate(d.states[1:]):
        scores = np.round(sm.gradient_step(scores, grad(scores, 1), 0.5), 4)
        assert state.scores == pytest.approx(tuple(scores), abs=1e-12), i
        assert d.losses[i + 1] == pytest.approx(fn(state.scores, 1))
    assert d.losses[-1] < d.losses[0]
    assert words.descent_summary(d).startswith(f"20 steps of {loss} at learning rate 0.5")
    with pytest.raises(ValueError):
        descend(start, loss, 0.5, steps=0)
    with pytest.raises(ValueError):
        descend(start, loss, -1.0)


def test_removing_the_true_class_says_which_class_is_true_now():
    s, said = remove_class(default_state(), 3)
    assert s.classes == ("dog", "cat", "boat") and s.target == 0
    assert said == ["'airplane' was the true class; now 'dog' is (choose another under True class)."]
    s, said = remove_class(default_state(), 0)  # not the true one: it follows its row, silently
    assert s.classes[s.target] == "airplane" and said == []
    two = ExplainState(("a", "b"), (1.0, 2.0), 0)
    assert remove_class(two, 0) == (two, ["A softmax needs at least 2 classes."])


def test_adding_and_pasting():
    s, said = add_class(default_state())
    assert s.classes[-1] == "class 5" and s.scores[-1] == 0.0 and said == []
    s, said = paste_scores(default_state(), "1; 2, 3e1, -99")
    assert s.scores == (1.0, 2.0, 30.0, -SCORE_LIMIT) and "clamped" in said[0]
    assert paste_scores(default_state(), "1, [x](http://e)")[1] == [
        f"'{md('[x](http://e)')}' is not a number: paste numbers separated by commas."
    ]  # a pasted string is shown as text
    s, said = paste_scores(default_state(), "1, 2, 3")  # one fewer than the post's 4 classes
    assert s.classes == ("dog", "cat", "boat") and s.target == 0
    assert said == [
        "3 scores for 4 classes: airplane was removed.",
        "The true class, airplane, was removed: the true class is now dog.",
    ]
    assert paste_scores(default_state(), "1, 2, 3, 4")[1] == []  # as many as there are: nothing to say


def test_words_keep_names_as_text_and_numbers_whole():
    s = ExplainState(("**cat**", "$dog$"), (-30.0, 1.0), 0)
    v = explain_view(s)
    assert words.topk_sentence(v).startswith(r"**\*\*cat\*\***")
    assert r"| **\*\*cat\*\*** (true) |" in words.gradient_table(v, "hinge")
    assert r"| \$dog\$ |" in words.gradient_table(v, "hinge")
    p, loss = words.formulas(v)
    assert r"\times 10^{-14}" in p and r"\text{cat}" in p and "$" not in p + loss
    assert math.isfinite(v.loss) and tex_number(v.loss) in loss


def test_the_overflow_verdict_compares_the_naive_form_with_the_stable_one():
    """At c = -740 the naive exponentials are subnormal: no nan, but digits lost. The page
    once said 'both forms agree' there, quoting a difference that did not compare them."""
    from core.explain import words
    from core.explain.state import default_state
    from core.explain.view import explain_view

    kind, text = words.overflow_message(explain_view(default_state(), shift=-740).overflow)
    assert kind == "warning" and "lost precision" in text
    o = explain_view(default_state(), shift=-740).overflow
    assert o.naive_difference > 1e-5
    kind, text = words.overflow_message(explain_view(default_state(), shift=100).overflow)
    assert kind == "success" and explain_view(default_state(), shift=100).overflow.naive_difference < 1e-12


@pytest.mark.parametrize("base,t", [("e", 1.0), ("10", 1.0), ("2", 1.0), ("e", 2.5), ("10", 0.5)])
def test_the_gradient_formula_is_the_one_the_table_computes(base, t):
    """p - onehot is the gradient for ln and T = 1 only: with another log base or a
    temperature the formula shows the divisor the table's numbers carry."""
    v = explain_view(ExplainState(("dog", "cat", "boat", "airplane"), (-3.44, 1.16, -0.81, 3.91), 1, base, t))
    formulas = words.loss_formulas(v)
    loss = " ".join(formulas[:-3])  # with T, p's definition has a line of its own
    grad, *hinges = formulas[-3:]
    onehot = np.eye(4)[1]
    divisor = t * math.log(BASES[base])
    np.testing.assert_allclose(v.gradients["cross-entropy"], (v.table.probabilities - onehot) / divisor)
    assert (r"\ln 10" in grad) == (base == "10") and (r"\ln 2" in grad) == (base == "2")
    assert ("T" in grad) == (t != 1) and (f"T = {t:g}" in loss) == (t != 1)
    assert loss.startswith(r"L_{\text{CE}} = -" + words.LOG_SYMBOL[base])
    assert len(hinges) == 2 and hinges[1].endswith("^2")  # the squared hinge has its formula too


def test_the_base_note_uses_this_states_loss():
    post = explain_view(default_state())
    assert "here 0.0709 / 2.3026 = 0.0308" in words.base_note(post)
    moved = explain_view(ExplainState(("a", "b"), (0.0, 0.0), 0, "2", 1.0))  # ln 2 nats = 1 bit
    assert f"here {number(math.log(2))} / 2.3026 = {number(math.log(2) / math.log(10))}" in words.base_note(
        moved
    )
    assert f"here {number(math.log(2))} / 0.6931 = 1.0000 bits" in words.base_note(moved)
    assert "trivially: there are only 4 classes" in words.topk_sentence(post)
