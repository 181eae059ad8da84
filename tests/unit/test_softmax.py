"""core.softmax against trusted references: scipy, scikit-learn, finite differences."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import softmax as scipy_softmax
from sklearn.metrics import log_loss

from core import softmax as sm

POST_SCORES = [-3.44, 1.16, -0.81, 3.91]  # dog, cat, boat, airplane
AIRPLANE = 3

scores_st = st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=2, max_size=12)


def numeric_gradient(f, s, eps=1e-6):
    s = np.asarray(s, dtype=float)
    g = np.zeros_like(s)
    for j in range(s.size):
        up, down = s.copy(), s.copy()
        up[j] += eps
        down[j] -= eps
        g[j] = (f(up) - f(down)) / (2 * eps)
    return g


# ---------------------------------------------------------------- the post's numbers


def test_post_worked_example():
    assert np.round(np.exp(POST_SCORES), 4).tolist() == [0.0321, 3.1899, 0.4449, 49.899]
    assert np.round(sm.softmax(POST_SCORES), 4).tolist() == [0.0006, 0.0596, 0.0083, 0.9315]
    assert round(sm.cross_entropy(POST_SCORES, AIRPLANE), 4) == 0.0709
    # The number the post first printed was -log10(p), not the cross-entropy in nats.
    assert round(sm.cross_entropy(POST_SCORES, AIRPLANE, base=10), 4) == 0.0308
    assert sm.cross_entropy(POST_SCORES, AIRPLANE, base=2) == pytest.approx(0.0709 / math.log(2), abs=1e-3)


# ---------------------------------------------------------------- references


@given(scores_st, st.floats(min_value=0.05, max_value=20))
@settings(max_examples=150, deadline=None)
def test_softmax_and_log_softmax_match_scipy(scores, t):
    s = np.array(scores)
    np.testing.assert_allclose(sm.softmax(s, t), scipy_softmax(s / t), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(sm.log_softmax(s, t), scipy_log_softmax(s / t), rtol=1e-9, atol=1e-9)


@given(scores_st, st.data())
@settings(max_examples=100, deadline=None)
def test_cross_entropy_matches_sklearn_log_loss(scores, data):
    y = data.draw(st.integers(0, len(scores) - 1))
    p = sm.softmax(scores)
    expected = log_loss([y], [p], labels=list(range(len(scores))))
    # log_loss clips p to [eps, 1 - eps]; compare where clipping cannot matter.
    if 1e-12 < p[y] < 1 - 1e-12:
        assert sm.cross_entropy(scores, y) == pytest.approx(expected, rel=1e-7)


def test_cross_entropy_of_batch_matches_sklearn_mean():
    rng = np.random.default_rng(0)
    S = rng.normal(scale=3, size=(50, 5))
    y = rng.integers(0, 5, size=50)
    ours = np.mean([sm.cross_entropy(s, t) for s, t in zip(S, y)])
    theirs = log_loss(y, [sm.softmax(s) for s in S], labels=range(5))
    assert ours == pytest.approx(theirs, rel=1e-9)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", list(sm.LOSSES))
@pytest.mark.parametrize(
    "scores,target",
    [
        (POST_SCORES, 3),
        (POST_SCORES, 0),
        ([0.3, -1.2, 2.5, 0.9, -0.4], 2),
        ([1.0, -2.0], 1),
    ],
)
def test_gradients_match_finite_differences(name, scores, target):
    loss, grad = sm.LOSSES[name]
    numeric = numeric_gradient(lambda s: loss(s, target), scores)
    np.testing.assert_allclose(grad(scores, target), numeric, atol=1e-5)


@pytest.mark.parametrize("t,base", [(0.5, math.e), (2.0, 10), (1.0, 2)])
def test_softmax_gradient_with_temperature_and_base(t, base):
    f = lambda s: sm.cross_entropy(s, 1, base=base, temperature=t)  # noqa: E731
    np.testing.assert_allclose(
        sm.softmax_gradient(POST_SCORES, 1, temperature=t, base=base),
        numeric_gradient(f, POST_SCORES),
        atol=1e-6,
    )


def test_softmax_gradient_is_p_minus_onehot():
    g = sm.softmax_gradient(POST_SCORES, AIRPLANE)
    p = sm.softmax(POST_SCORES)
    np.testing.assert_allclose(g, p - np.eye(4)[AIRPLANE])
    assert g[AIRPLANE] < 0 and np.all(np.delete(g, AIRPLANE) > 0)  # raise airplane, lower the rest
    assert g.sum() == pytest.approx(0, abs=1e-12)


def test_hinge_losses_on_post_example():
    # Airplane beats every other score by more than the margin (cat: 1.16 - 3.91 + 1 < 0).
    assert sm.hinge_loss(POST_SCORES, AIRPLANE) == 0
    assert sm.squared_hinge_loss(POST_SCORES, AIRPLANE) == 0
    # For true class cat: dog 0, boat 0, airplane 3.91 - 1.16 + 1 = 3.75
    assert sm.hinge_loss(POST_SCORES, 1) == pytest.approx(3.75)
    assert sm.squared_hinge_loss(POST_SCORES, 1) == pytest.approx(3.75**2)
    np.testing.assert_allclose(sm.hinge_gradient(POST_SCORES, 1), [0, -1, 0, 1])
    np.testing.assert_allclose(sm.squared_hinge_gradient(POST_SCORES, 1), [0, -7.5, 0, 7.5])


def test_gradient_step_lowers_each_loss():
    for name, (loss, grad) in sm.LOSSES.items():
        s = np.array(POST_SCORES)
        after = sm.gradient_step(s, grad(s, 1), 0.1)
        assert loss(after, 1) < loss(s, 1), name


# ---------------------------------------------------------------- properties


@given(scores_st, st.floats(min_value=-1e4, max_value=1e4))
@settings(max_examples=150, deadline=None)
def test_shift_invariance(scores, c):
    np.testing.assert_allclose(sm.softmax(np.array(scores) + c), sm.softmax(scores), atol=1e-9)


@given(scores_st, st.floats(min_value=0.01, max_value=100))
@settings(max_examples=150, deadline=None)
def test_probabilities_sum_to_one_and_are_in_range(scores, t):
    p = sm.softmax(scores, t)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all((p >= 0) & (p <= 1))
    assert np.argmax(p) == np.argmax(scores) or p[np.argmax(p)] == p[np.argmax(scores)]


def test_temperature_limits():
    hot = sm.softmax(POST_SCORES, temperature=1e6)
    np.testing.assert_allclose(hot, np.full(4, 0.25), atol=1e-5)  # high T: uniform
    cold = sm.softmax(POST_SCORES, temperature=1e-3)
    np.testing.assert_allclose(cold, [0, 0, 0, 1], atol=1e-12)  # low T: one-hot argmax
    assert (
        sm.softmax(POST_SCORES, 0.5)[AIRPLANE]
        > sm.softmax(POST_SCORES)[AIRPLANE]
        > sm.softmax(POST_SCORES, 2)[AIRPLANE]
    )


# ---------------------------------------------------------------- huge and tiny scores


def test_huge_scores_are_finite_and_correct():
    s = [1e4, -1e4, 1e4 - 1.0]
    p = sm.softmax(s)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, scipy_softmax([1.0, -2e4 + 1, 0.0]), rtol=1e-12)
    assert sm.cross_entropy(s, 1) == pytest.approx(2e4 + math.log1p(math.exp(-1)), rel=1e-12)
    assert math.isfinite(sm.cross_entropy(s, 0)) and sm.cross_entropy(s, 0) > 0
    assert np.all(np.isfinite(sm.softmax_gradient(s, 1)))


def test_huge_scores_with_a_tiny_temperature_stay_finite():
    # s / T = 2e5 would overflow exp; shifting before dividing keeps it exact.
    p = sm.softmax([1e4, -1e4, 1e4 - 0.01], temperature=0.05)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1)
    np.testing.assert_allclose(p, scipy_softmax([0.0, -4e5, -0.2]), rtol=1e-9)  # 1e4 - 0.01 is inexact
    curve = sm.loss_curve([1e4, -1e4], 1, [-1e4, 0.0, 1e4], temperature=0.05)
    assert np.all(np.isfinite(curve)) and curve[-1] == pytest.approx(math.log(2))


def test_tiny_scores_and_equal_scores():
    np.testing.assert_allclose(sm.softmax([-1e4, -1e4, -1e4]), [1 / 3] * 3)
    np.testing.assert_allclose(sm.softmax([1e-300, 0.0]), [0.5, 0.5])
    assert sm.cross_entropy([0.0] * 10, 4) == pytest.approx(math.log(10))


def test_naive_form_overflows_where_stable_form_does_not():
    s = np.array(POST_SCORES) + 1000
    view = sm.overflow_view(s)
    assert np.isinf(view.naive_exp[AIRPLANE]) and view.naive_broken
    assert np.isnan(view.naive_probabilities).any()
    np.testing.assert_allclose(view.stable_probabilities, sm.softmax(POST_SCORES))
    assert np.all(view.shifted <= 0) and view.shifted.max() == 0
    ok = sm.overflow_view(POST_SCORES)
    assert not ok.naive_broken
    np.testing.assert_allclose(ok.naive_probabilities, ok.stable_probabilities)
    assert pytest.approx(709.78, abs=0.01) == sm.EXP_OVERFLOW


# ---------------------------------------------------------------- page helpers


def test_loss_curve_matches_pointwise_cross_entropy():
    grid = np.linspace(-10, 10, 41)
    curve = sm.loss_curve(POST_SCORES, AIRPLANE, grid, base=10, temperature=1.5)
    for g, c in zip(grid, curve):
        s = list(POST_SCORES)
        s[AIRPLANE] = g
        assert c == pytest.approx(sm.cross_entropy(s, AIRPLANE, base=10, temperature=1.5))
    assert np.all(np.diff(curve) < 0)  # raising the true score always lowers its loss


def test_rank_and_top_k():
    assert sm.rank_of_target(POST_SCORES, AIRPLANE) == 1
    assert sm.rank_of_target(POST_SCORES, 0) == 4
    assert sm.rank_of_target([1.0, 1.0, 0.0], 1) == 2  # a tie is not a win
    assert sm.in_top_k(POST_SCORES, 2, 3) and not sm.in_top_k(POST_SCORES, 2, 2)
    s = list(range(10))
    assert sm.in_top_k(s, 5, 5) and not sm.in_top_k(s, 4, 5)
    with pytest.raises(ValueError):
        sm.in_top_k(s, 1, 0)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "scores,match",
    [
        ([1.0], "at least 2 classes"),
        ([], "at least 2 classes"),
        ([[1.0, 2.0]], "1-D"),
        ([1.0, float("nan")], "finite"),
        ([1.0, float("inf")], "finite"),
        (["a", "b"], "numbers"),
    ],
)
def test_bad_scores_raise_clear_errors(scores, match):
    with pytest.raises(ValueError, match=match):
        sm.softmax(scores)


def test_bad_target_temperature_base_margin():
    with pytest.raises(ValueError, match="not a class index"):
        sm.cross_entropy(POST_SCORES, 4)
    with pytest.raises(ValueError, match="not a class index"):
        sm.hinge_loss(POST_SCORES, -1)
    with pytest.raises(ValueError, match="an int"):
        sm.cross_entropy(POST_SCORES, 1.5)
    with pytest.raises(ValueError, match="temperature"):
        sm.softmax(POST_SCORES, 0)
    with pytest.raises(ValueError, match="temperature"):
        sm.softmax(POST_SCORES, float("nan"))
    with pytest.raises(ValueError, match="log base"):
        sm.cross_entropy(POST_SCORES, 3, base=1)
    with pytest.raises(ValueError, match="margin"):
        sm.hinge_loss(POST_SCORES, 3, margin=-1)
    with pytest.raises(ValueError, match="learning rate"):
        sm.gradient_step(POST_SCORES, [0, 0, 0, 0], 0)


def test_post_table_is_the_posts_table():
    t = sm.post_table([-3.44, 1.16, -0.81, 3.91])
    np.testing.assert_allclose(t.exp, [0.0321, 3.1899, 0.4449, 49.8990], atol=5e-5)
    np.testing.assert_allclose(t.probabilities, [0.0006, 0.0596, 0.0083, 0.9315], atol=5e-5)
    assert round(t.neg_log[3], 4) == 0.0709
    assert round(sm.post_table([-3.44, 1.16, -0.81, 3.91], base=10).neg_log[3], 4) == 0.0308
    huge = sm.post_table([0.0, 1000.0])  # exp overflows as written; probabilities stay exact
    assert np.isinf(huge.exp[1]) and huge.probabilities[1] == 1.0 and np.isfinite(huge.neg_log[1])


# ---------------------------------------------------------------- batches (the Playground's)


def _batch(n=7, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 3, (n, k)), rng.integers(0, k, n)


def test_row_functions_equal_the_one_example_functions_row_by_row():
    S, y = _batch()
    for T in (0.5, 1.0, 3.0):
        P = sm.softmax_rows(S, T)
        L = sm.cross_entropy_rows(S, y, T)
        G = sm.softmax_gradient_rows(S, y, T)
        for i in range(len(y)):
            np.testing.assert_allclose(P[i], sm.softmax(S[i], T), rtol=1e-12)
            assert L[i] == pytest.approx(sm.cross_entropy(S[i], int(y[i]), temperature=T), rel=1e-12)
            np.testing.assert_allclose(G[i], sm.softmax_gradient(S[i], int(y[i]), T), atol=1e-12)
    H, HG = sm.hinge_rows(S, y), sm.hinge_gradient_rows(S, y)
    for i in range(len(y)):
        assert H[i] == pytest.approx(sm.hinge_loss(S[i], int(y[i])))
        np.testing.assert_array_equal(HG[i], sm.hinge_gradient(S[i], int(y[i])))


def test_row_gradients_match_finite_differences():
    S, y = _batch(n=5, k=3, seed=1)
    for name, (loss, grad) in sm.ROW_LOSSES.items():
        G, h = grad(S, y), 1e-6
        for i, j in np.ndindex(S.shape):
            up, down = S.copy(), S.copy()
            up[i, j] += h
            down[i, j] -= h
            numeric = (loss(up, y)[i] - loss(down, y)[i]) / (2 * h)
            assert numeric == pytest.approx(G[i, j], abs=1e-5), (name, i, j)


def test_row_functions_refuse_bad_shapes_and_targets():
    S, y = _batch()
    with pytest.raises(ValueError):
        sm.softmax_rows(S[0])  # one row is (K,), not (n, K)
    with pytest.raises(ValueError):
        sm.cross_entropy_rows(S, y[:-1])
    with pytest.raises(ValueError):
        sm.cross_entropy_rows(S, np.full(len(y), 9))
    with pytest.raises(ValueError):
        sm.hinge_rows(np.full((2, 3), np.nan), [0, 1])
    assert sm.cross_entropy_rows(np.zeros((0, 3)), np.zeros(0, int)).shape == (0,)
