"""core.explain.state: the Explain state survives a URL, and a hostile URL never breaks the page."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.explain.state import (
    MAX_CLASSES,
    NAME_MAX,
    SCORE_LIMIT,
    TEMPERATURE_MAX,
    ExplainState,
    clamp_state,
    decode_state,
    default_state,
    encode_state,
)
from core.text import clean_name, name_key


def test_default_state_is_the_posts_example():
    s = default_state()
    assert s.classes == ("dog", "cat", "boat", "airplane")
    assert s.scores == (-3.44, 1.16, -0.81, 3.91)
    assert s.classes[s.target] == "airplane"
    assert (s.base, s.temperature) == ("e", 1.0)


def test_encoding_is_readable():
    assert encode_state(default_state()) == {
        "classes": "dog,cat,boat,airplane",
        "scores": "-3.44,1.16,-0.81,3.91",
        "target": "3",
        "base": "e",
        "temperature": "1",
    }


def test_empty_url_gives_default_without_messages():
    assert decode_state({}) == (default_state(), [])


# Names as the page keeps them: already clean (NFC, nothing invisible) and no two that
# read the same (core.text.name_key); any other name is repaired, with a message.
names_st = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=NAME_MAX
    ).filter(lambda n: clean_name(n) == (n, [])),
    min_size=2,
    max_size=MAX_CLASSES,
    unique_by=name_key,
)


@given(names_st, st.data())
@settings(max_examples=150, deadline=None)
def test_any_valid_state_round_trips_exactly(names, data):
    k = len(names)
    state = ExplainState(
        classes=tuple(names),
        scores=tuple(data.draw(st.lists(st.floats(-SCORE_LIMIT, SCORE_LIMIT), min_size=k, max_size=k))),
        target=data.draw(st.integers(0, k - 1)),
        base=data.draw(st.sampled_from(["e", "10", "2"])),
        temperature=data.draw(st.floats(0.05, TEMPERATURE_MAX)),
    )
    params = encode_state(state)
    assert all(isinstance(v, str) for v in params.values())
    assert decode_state(params) == (state, [])


def test_names_with_commas_and_percent_signs_round_trip():
    state = ExplainState(("a,b", "100%", "x y", "ünï"), (1.0, 2.0, 3.0, 4.0), 0)
    assert decode_state(encode_state(state)) == (state, [])


def test_list_values_use_the_last_like_st_query_params():
    state, errors = decode_state({"target": ["0", "2"]})
    assert state.target == 2 and errors == []


@pytest.mark.parametrize(
    "params,expect_in_message",
    [
        ({"scores": "nan,1,2,3"}, "not a finite number"),
        ({"scores": "inf,1,2,3"}, "not a finite number"),
        ({"scores": "abc,1,2,3"}, "not a finite number"),
        ({"scores": "1e308,1,2,3"}, "clamped"),
        ({"target": "7"}, "not a class index"),
        ({"target": "x"}, "not a class index"),
        ({"base": "3"}, "not one of e, 10, 2"),
        ({"temperature": "0"}, "not a positive number"),
        ({"temperature": "nan"}, "not a positive number"),
        ({"temperature": "1e9"}, "clamped"),
    ],
)
def test_broken_fields_are_fixed_with_a_message(params, expect_in_message):
    state, errors = decode_state(params)
    assert any(expect_in_message in e for e in errors), errors
    assert all(math.isfinite(x) and abs(x) <= SCORE_LIMIT for x in state.scores)
    assert 0 <= state.target < len(state.classes)


def test_bad_score_becomes_zero_and_huge_score_is_clamped():
    state, _ = decode_state({"scores": "nan,1e308,-1e308,3.91"})
    assert state.scores == (0.0, SCORE_LIMIT, -SCORE_LIMIT, 3.91)
    assert state.classes == default_state().classes  # four scores keep the post's names


def test_eleven_classes_are_cut_to_ten():
    params = {"classes": ",".join(f"c{i}" for i in range(11)), "scores": ",".join("1" * 11)}
    state, errors = decode_state(params)
    assert state.classes == tuple(f"c{i}" for i in range(MAX_CLASSES))
    assert len(state.scores) == MAX_CLASSES
    assert any("kept the first 10" in e for e in errors)


def test_ten_thousand_classes_give_the_default_with_a_message():
    params = {
        "classes": ",".join(f"c{i}" for i in range(10_000)),
        "scores": ",".join("1" for _ in range(10_000)),
    }
    state, errors = decode_state(params)
    assert state == default_state()
    assert len(errors) == 2 and all("characters long" in e for e in errors)


def test_very_long_parameter_is_ignored():
    state, errors = decode_state({"classes": "x" * 1_000_000})
    assert state == default_state()
    assert any("characters long" in e for e in errors)


def test_long_empty_and_duplicate_names_are_repaired():
    state, errors = decode_state({"classes": "cat,cat,," + "n" * 100, "scores": "1,2,3,4"})
    assert state.classes == ("cat", "cat (2)", "class 3", "n" * NAME_MAX)
    assert len(errors) == 3


@pytest.mark.parametrize("classes", ["solo", ""])
def test_one_class_falls_back_to_the_posts_example(classes):
    state, errors = decode_state({"classes": classes, "scores": "1"})
    assert state == default_state()
    assert any("at least 2" in e for e in errors)


def test_mismatched_lengths_are_padded_or_cut():
    state, errors = decode_state({"classes": "a,b,c", "scores": "1,2"})
    assert state.scores == (1.0, 2.0, 0.0) and errors
    state, errors = decode_state({"classes": "a,b", "scores": "1,2,3"})
    assert state.scores == (1.0, 2.0) and errors


def test_scores_without_names_get_numbered_names():
    state, errors = decode_state({"scores": "0.5,-0.5"})
    assert state.classes == ("class 1", "class 2") and state.target == 0 and errors == []


def test_clamp_state_for_a_real_models_scores():
    state, errors = clamp_state(ExplainState(("cat", "dog"), (120.0, -3.0), 1))
    assert state.scores == (SCORE_LIMIT, -3.0) and errors


@given(
    st.dictionaries(
        st.sampled_from(["classes", "scores", "target", "base", "temperature", "x"]),
        st.one_of(st.text(max_size=300), st.lists(st.text(max_size=50), max_size=3)),
    )
)
@settings(max_examples=300, deadline=None)
def test_decode_never_raises_and_always_gives_a_showable_state(params):
    state, errors = decode_state(params)
    assert 2 <= len(state.classes) == len(state.scores) <= MAX_CLASSES
    assert len(set(state.classes)) == len(state.classes)
    assert all(0 < len(c) <= NAME_MAX for c in state.classes)
    assert all(math.isfinite(x) and abs(x) <= SCORE_LIMIT for x in state.scores)
    assert 0 <= state.target < len(state.classes)
    assert state.base in {"e", "10", "2"}
    assert all(isinstance(e, str) and e for e in errors)
    # Whatever came in, what goes back out is a clean state.
    assert decode_state(encode_state(state)) == (state, [])
