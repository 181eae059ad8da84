"""The Playground's state <-> URL: exact round trips, and every broken value repaired."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.playground.data import EXTENT, MAX_POINTS, make_points
from core.playground.model import WEIGHT_LIMIT
from core.playground.urlstate import (
    LR_MAX,
    PARAMS,
    STEPS_MAX,
    PlaygroundState,
    decode_state,
    encode_state,
)


def test_the_default_state_round_trips_without_messages():
    s = PlaygroundState()
    assert decode_state(encode_state(s)) == (s, [])
    assert decode_state({}) == (s, [])
    assert len(s.W) == 3 and len(s.b) == 3  # the seed's starting weights


def test_an_edited_state_round_trips_exactly():
    pts = make_points("rings", 4, 5, seed=9)[:-1] + ((2.95, -3.0, 3),)
    s = PlaygroundState(
        "rings", 4, 5, 9, pts, ((0.1 + 0.2, -1 / 3), (19.99, -20.0), (0.0, 1e-17), (-2.5, 3)), (0.5, -0.25, 0, 1 / 7),
        "hinge", 0.125, 0.003, 2.5, 250, 2,
    )  # fmt: skip
    params = encode_state(s)
    assert params["shade"] == "green" and params["loss"] == "hinge"
    assert decode_state(params) == (s, [])


@pytest.mark.parametrize(
    "params,message",
    [
        ({"data": "<b>moons</b>"}, r"\<b\>moons"),  # shown escaped, not as markup
        ({"k": "9"}, "outside 2 to 5"),
        ({"k": "two"}, "not a whole number"),
        ({"n": "1e308"}, "outside 1 to 60"),
        ({"seed": "-1"}, "outside 0 to 999999"),
        ({"lambda": "nan"}, "not a number"),
        ({"lr": "inf"}, "not a number"),
        ({"lr": "0"}, "outside 0.0001 to 10"),
        ({"T": "1e-300"}, "outside 0.05 to 10"),
        ({"steps": "100000"}, "outside 1 to 1000"),
        ({"loss": "squared hinge"}, "not one of cross-entropy, hinge"),
        ({"shade": "magenta"}, "not one of its classes"),
        ({"W": "1,2;3"}, "not two numbers"),
        ({"W": "1,2"}, "1 rows for 3 classes"),
        ({"W": "1,2;3,4;5,6", "b": "1,nan,2"}, "not a number"),
        ({"W": "1e308,2;3,4;5,6"}, "clamped"),
        ({"points": "1,2,0;x,y,z;1,1,7"}, "2 of the link's points were not"),
        ({"points": "9,9,0"}, "outside the plane"),
        ({"points": ";;;"}, "no usable point"),
        ({"data": "xor", "k": "4"}, "has 2 classes"),
        ({"b": "x" * 500}, "500 characters long"),
    ],
)
def test_a_broken_link_is_repaired_and_says_so(params, message):
    state, messages = decode_state(params)
    assert any(message in m for m in messages), messages
    assert 2 <= state.k <= 5 and len(state.W) == len(state.b) == state.k
    assert decode_state(encode_state(state)) == (state, [])  # what the page writes back is clean


def test_repaired_values_are_in_range():
    state, _ = decode_state(
        {"W": "1e308,-1e308;0,0;0,0", "lr": "1e9", "steps": "1e9", "points": "100,-100,0", "k": "3"}
    )
    assert state.W[0] == (WEIGHT_LIMIT, -WEIGHT_LIMIT)
    assert state.lr == LR_MAX and state.steps == STEPS_MAX
    assert state.points == ((EXTENT, -EXTENT, 0),)


def test_a_huge_link_is_bounded():
    many = ";".join("0.5,0.5,0" for _ in range(MAX_POINTS + 50))
    state, messages = decode_state({"points": many})
    assert len(state.points) == MAX_POINTS and any("kept the first" in m for m in messages)
    state, messages = decode_state({"points": "1" * 100_000})
    assert state.points is None and any("characters long" in m for m in messages)


def test_a_repeated_parameter_takes_the_last_value():
    assert decode_state({"k": ["2", "4"]})[0].k == 4


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(PARAMS), st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=3)
    )
)
def test_decode_never_raises_and_always_gives_a_usable_state(params):
    state, messages = decode_state(params)
    assert 2 <= state.k <= 5 and len(state.W) == state.k
    assert all(math.isfinite(v) and abs(v) <= WEIGHT_LIMIT for row in state.W for v in row)
    assert all(math.isfinite(v) for v in (state.lam, state.lr, state.temperature))
    assert 1 <= len(state.all_points()) <= MAX_POINTS
    assert all(isinstance(m, str) for m in messages)
