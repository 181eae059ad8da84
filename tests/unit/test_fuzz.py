"""Fuzzing the softmax maths and the URL-state parser with hypothesis.

tests/unit/test_softmax.py checks the maths against scipy and sklearn on moderate
scores (|s| <= 100); tests/unit/test_urlstate.py fuzzes decode_state with short
text. Here the inputs are what a hostile or careless caller can send: every finite
float64 (up to +-1.8e308), garbage of every type, percent-escapes, unicode, huge
and repeated query values, and the page's own widget ranges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core import softmax as sm
from core.explain.state import (
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
    encode_state,
)
from core.text import clean_name, name_key

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_finite = st.floats(allow_nan=False, allow_infinity=False)  # the whole float64 range
scores_any = st.lists(any_finite, min_size=2, max_size=16)
temperatures = st.floats(min_value=1e-3, max_value=1e3)
bases = st.sampled_from([math.e, 10.0, 2.0])


def _scores_and_target(draw_scores=scores_any):
    return draw_scores.flatmap(lambda s: st.tuples(st.just(s), st.integers(0, len(s) - 1)))


# ---------------------------------------------------------------- softmax maths


@given(scores_any, temperatures)
@FUZZ
def test_softmax_is_a_distribution_for_every_finite_input(scores, t):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        try:
            p = sm.softmax(scores, t)
        except FloatingPointError as exc:  # pragma: no cover - reported by the assert below
            pytest.fail(f"softmax({scores}, {t}) hit a float error: {exc}")
    assert p.shape == (len(scores),)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
    assert math.isclose(p.sum(), 1.0, rel_tol=0, abs_tol=1e-9)


@given(scores_any, temperatures)
@FUZZ
def test_softmax_keeps_the_order_of_the_scores(scores, t):
    s = np.asarray(scores)
    p = sm.softmax(s, t)
    order = np.argsort(s, kind="stable")
    assert np.all(np.diff(p[order]) >= -1e-15)  # a higher score never gets less probability
    assert p[int(np.argmax(s))] == p.max()


@given(_scores_and_target(), temperatures, bases)
@FUZZ
def test_cross_entropy_is_never_nan_or_negative(st_, t, base):
    scores, y = st_
    loss = sm.cross_entropy(scores, y, base, t)
    assert not math.isnan(loss) and loss >= 0
    # inf only when the true class trails by more than float64 can hold
    if math.isinf(loss):
        assert (max(scores) - scores[y]) / t > 700


@given(_scores_and_target(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=16)), temperatures, bases)
@FUZZ
def test_gradient_is_finite_sums_to_zero_and_points_the_right_way(st_, t, base):
    scores, y = st_
    g = sm.softmax_gradient(scores, y, t, base)
    assert np.all(np.isfinite(g))
    scale = t * math.log(base)
    assert abs(g.sum()) * scale < 1e-9  # (p - onehot) sums to 0
    assert g[y] <= 0 and np.all(np.delete(g, y) >= 0)  # raise the true class, lower the rest
    assert np.all(np.abs(g * scale) <= 1 + 1e-12)


@given(_scores_and_target(), st.floats(0, 1e6))
@FUZZ
def test_hinge_losses_are_non_negative_and_their_gradients_balance(st_, margin):
    scores, y = st_
    with np.errstate(over="ignore"):  # a squared violation past 1e154 is honestly inf
        for loss, grad in (sm.LOSSES["hinge"], sm.LOSSES["squared hinge"]):
            lv = loss(scores, y, margin)
            g = grad(scores, y, margin)
            assert not math.isnan(lv) and lv >= 0
            assert not np.any(np.isnan(g))
            if loss is sm.hinge_loss:
                assert g.sum() == 0 and g[y] <= 0
                assert (lv == 0) == (g[y] == 0)


@given(
    _scores_and_target(st.lists(st.floats(-SCORE_LIMIT, SCORE_LIMIT), min_size=2, max_size=MAX_CLASSES)),
    st.floats(TEMPERATURE_MIN, TEMPERATURE_MAX),
    st.sampled_from(list(BASES.values())),
)
@FUZZ
def test_everything_the_page_can_ask_for_is_finite(st_, t, base):
    """The Explain page's ranges: scores +-50, T 0.05..10, 2..10 classes: all finite."""
    scores, y = st_
    grid = np.linspace(min(-15.0, scores[y] - 5), max(15.0, scores[y] + 5), 241)
    curve = sm.loss_curve(scores, y, grid, base, t)
    assert np.all(np.isfinite(curve)) and np.all(curve >= -1e-12)
    i = int(np.argmin(np.abs(grid - scores[y])))
    moved = list(scores)
    moved[y] = grid[i]
    assert math.isclose(curve[i], sm.cross_entropy(moved, y, base, t), rel_tol=1e-9, abs_tol=1e-12)
    for _name, (loss, grad) in sm.LOSSES.items():
        assert math.isfinite(loss(scores, y)) and np.all(np.isfinite(grad(scores, y)))
        step = sm.gradient_step(scores, grad(scores, y), 0.1)
        assert np.all(np.isfinite(step))
    assert 1 <= sm.rank_of_target(scores, y) <= len(scores)


@given(scores_any)
@FUZZ
def test_overflow_view_stable_form_never_breaks(scores):
    with np.errstate(over="ignore"):
        view = sm.overflow_view(scores)
    assert np.all(np.isfinite(view.stable_probabilities))
    assert math.isclose(view.stable_probabilities.sum(), 1.0, abs_tol=1e-9)
    assert np.all(view.shifted <= 0)
    if max(scores) < 700 and min(scores) > -700:
        assert not view.naive_broken


garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.one_of(st.text(max_size=5), st.none(), st.floats()), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.lists(st.floats(), max_size=1),  # fewer than two classes
    st.lists(st.lists(st.floats(), min_size=2, max_size=2), min_size=2, max_size=2),  # 2-D
    st.lists(st.sampled_from([math.nan, math.inf, -math.inf, 1.0]), min_size=2, max_size=4),
)


@given(garbage, st.one_of(st.integers(-5, 20), st.floats(), st.text(max_size=3), st.none(), st.booleans()))
@FUZZ
def test_bad_input_raises_value_error_and_nothing_else(scores, target):
    """Anything that is not K >= 2 finite numbers and a valid index: a ValueError with a message."""
    try:
        s = np.asarray(scores, dtype=np.float64)
        valid = s.ndim == 1 and s.size >= 2 and np.all(np.isfinite(s))
    except (TypeError, ValueError):
        valid = False
    assume(
        not valid or not (isinstance(target, int) and not isinstance(target, bool) and 0 <= target < s.size)
    )
    for fn in (
        sm.cross_entropy,
        sm.softmax_gradient,
        sm.hinge_loss,
        sm.squared_hinge_gradient,
        sm.rank_of_target,
    ):
        with pytest.raises(ValueError) as err:
            fn(scores, target)
        assert str(err.value)


# ---------------------------------------------------------------- the URL-state parser


def _valid(state: ExplainState) -> None:
    assert MIN_CLASSES <= len(state.classes) == len(state.scores) <= MAX_CLASSES
    assert len({name_key(c) for c in state.classes}) == len(state.classes)  # none reads like another
    assert all(clean_name(c) == (c, []) for c in state.classes)  # nothing invisible, NFC
    assert all(
        isinstance(c, str) and 0 < len(c) <= NAME_MAX and c == " ".join(c.split()) for c in state.classes
    )
    assert all(isinstance(x, float) and math.isfinite(x) and abs(x) <= SCORE_LIMIT for x in state.scores)
    assert isinstance(state.target, int) and 0 <= state.target < len(state.classes)
    assert state.base in BASES
    assert TEMPERATURE_MIN <= state.temperature <= TEMPERATURE_MAX


number_text = st.one_of(
    st.sampled_from(
        [
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "1e308",
            "-1e308",
            "1e309",
            "1e-320",
            "0x10",
            "1_000",
            " 3.91 ",
            "",
            " ",
            "-0",
            "+5",
            "٣",
            "1,5",
            "--1",
            "1e",
            "∞",
        ]
    ),
    any_finite.map(repr),
    st.integers().map(str),
    st.text(max_size=12),
)
percent_text = st.lists(
    st.sampled_from(
        [
            "%",
            "%2",
            "%2C",
            "%ZZ",
            "%00",
            "%E2%82",
            "%FF",
            "%25",
            "a",
            ",",
            " ",
            "\x00",
            "\u202e",
            "é",
            "名",
            "🐱",
            "\n",
            "\ud800",
        ]
    ),
    max_size=40,
).map("".join)
value = st.one_of(
    st.text(max_size=400),
    number_text,
    percent_text,
    st.lists(number_text, max_size=12).map(",".join),
    st.lists(percent_text, max_size=12).map(",".join),
)
query = st.dictionaries(
    st.one_of(st.sampled_from(PARAMS), st.text(max_size=10)),
    st.one_of(value, st.lists(value, max_size=4)),
    max_size=8,
)


@given(query)
@FUZZ
def test_decode_state_never_raises_and_always_gives_a_valid_state(params):
    state, messages = decode_state(params)
    _valid(state)
    assert all(isinstance(m, str) and m for m in messages)
    assert decode_state(encode_state(state)) == (state, [])  # what the page writes back is clean


@given(
    st.sampled_from(["classes", "scores", "target", "base", "temperature"]),
    st.integers(2_001, 200_000),
    st.sampled_from(["a", ",", "1,", "%", "9"]),
)
@settings(max_examples=30, deadline=None)
def test_huge_values_are_ignored_quickly(name, n, unit):
    state, messages = decode_state({name: (unit * n)[:n]})
    _valid(state)
    assert messages  # the user is told the link was repaired


name_chars = st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
long_names = st.lists(
    st.text(name_chars, min_size=NAME_MAX - 2, max_size=NAME_MAX).filter(lambda n: clean_name(n) == (n, [])),
    min_size=MAX_CLASSES - 2,
    max_size=MAX_CLASSES,
    unique_by=name_key,
)


@given(long_names, st.data())
@FUZZ
def test_the_longest_states_the_page_can_hold_survive_a_link(names, data):
    """Ten 40-character names in any script: the link must carry them all, not drop them."""
    k = len(names)
    state = ExplainState(
        tuple(names),
        tuple(data.draw(st.lists(st.floats(-SCORE_LIMIT, SCORE_LIMIT), min_size=k, max_size=k))),
        data.draw(st.integers(0, k - 1)),
        data.draw(st.sampled_from(list(BASES))),
        data.draw(st.floats(TEMPERATURE_MIN, TEMPERATURE_MAX)),
    )
    assert decode_state(encode_state(state)) == (state, [])
