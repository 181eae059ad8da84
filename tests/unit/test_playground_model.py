"""The Playground's linear classifier: loss and gradients against an independent NumPy
reference (written here, the CS231n way) and against finite differences; steps descend."""

from __future__ import annotations

import numpy as np
import pytest

from core.playground import model as M
from core.playground.data import as_points, make_points


def reference(W, b, X, y, loss, lam, T=1.0):
    """Loss and (dW, db) written from the formulas, sharing no code with core."""
    n = X.shape[0]
    S = X.dot(W.T) + b  # (n, K)
    if loss == "cross-entropy":
        Z = S / T
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        data = -np.log(P[np.arange(n), y]).mean()
        dS = P.copy()
        dS[np.arange(n), y] -= 1
        dS /= n * T
    else:
        correct = S[np.arange(n), y][:, None]
        margins = np.maximum(0, S - correct + 1.0)
        margins[np.arange(n), y] = 0
        data = margins.sum() / n
        dS = (margins > 0).astype(float)
        dS[np.arange(n), y] = -dS.sum(axis=1)
        dS /= n
    total = data + lam * (W * W).sum()
    return total, dS.T.dot(X) + 2 * lam * W, dS.sum(axis=0)


def random_problem(seed: int, n: int = 40, k: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, (n, 2))
    y = rng.integers(0, k, n)
    return M.Model(rng.normal(0, 1.5, (k, 2)), rng.normal(0, 1, k)), X, y


@pytest.mark.parametrize("loss", ["cross-entropy", "hinge"])
@pytest.mark.parametrize("seed,lam,T", [(0, 0.0, 1.0), (1, 0.1, 1.0), (2, 1.5, 0.5), (3, 0.01, 3.0)])
def test_loss_and_gradient_match_an_independent_reference(loss, seed, lam, T):
    model, X, y = random_problem(seed)
    T = T if loss == "cross-entropy" else 1.0  # the hinge has no temperature
    ev = M.evaluate(model, X, y, loss, lam, T)
    total, dW, db = reference(model.W, model.b, X, y, loss, lam, T)
    assert ev.total == pytest.approx(total, rel=1e-12)
    assert ev.reg_loss == pytest.approx(lam * np.sum(model.W**2))
    assert ev.data_loss == pytest.approx(ev.row_losses.mean())
    np.testing.assert_allclose(ev.dW, dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ev.db, db, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", ["cross-entropy", "hinge"])
@pytest.mark.parametrize("seed", [4, 5, 6])
def test_gradient_matches_finite_differences(loss, seed):
    model, X, y = random_problem(seed, n=30, k=3)
    lam, h = 0.05, 1e-6
    ev = M.evaluate(model, X, y, loss, lam)

    def f(W, b):  # the test's own differences, on the reference loss
        return reference(W, b, X, y, loss, lam)[0]

    for idx in np.ndindex(model.W.shape):
        up, down = model.W.copy(), model.W.copy()
        up[idx] += h
        down[idx] -= h
        assert ev.dW[idx] == pytest.approx((f(up, model.b) - f(down, model.b)) / (2 * h), abs=1e-6)
    for j in range(3):
        up, down = model.b.copy(), model.b.copy()
        up[j] += h
        down[j] -= h
        assert ev.db[j] == pytest.approx((f(model.W, up) - f(model.W, down)) / (2 * h), abs=1e-6)
    # and the page's own check (core.playground.model.numeric_gradient) agrees
    dW, db = M.numeric_gradient(model, X, y, loss, lam)
    np.testing.assert_allclose(dW, ev.dW, atol=1e-6)
    np.testing.assert_allclose(db, ev.db, atol=1e-6)


def test_scores_are_x_w_transpose_plus_b_and_predictions_their_argmax():
    model = M.Model.of([[1, 2], [2, -4], [3, -1]], [0, 0.5, -0.5])
    X, y = np.array([[0.5, 0.4], [-0.3, 0.7]]), np.array([0, 1])
    ev = M.evaluate(model, X, y, "hinge", 0.0)
    np.testing.assert_allclose(ev.scores, [[1.3, -0.1, 0.6], [1.1, -2.9, -2.1]])
    assert ev.predicted.tolist() == [0, 0] and ev.correct.tolist() == [True, False]
    assert ev.accuracy == 0.5
    np.testing.assert_allclose(ev.probabilities.sum(axis=1), 1.0)


def blobs():
    pts = as_points(make_points("blobs", 3, 20, seed=1))
    return pts.X, pts.y


@pytest.mark.parametrize("loss", ["cross-entropy", "hinge"])
def test_one_step_lowers_the_total_loss_on_separable_data(loss):
    X, y = blobs()
    model = M.initial_model(1, 3)
    before = M.evaluate(model, X, y, loss, 0.01)
    after_model, clipped = M.step(model, before, 0.1)
    assert not clipped
    assert M.evaluate(after_model, X, y, loss, 0.01).total < before.total


def test_train_is_n_single_steps_and_records_each():
    X, y = blobs()
    model = M.initial_model(1, 3)
    path = M.train(model, X, y, "cross-entropy", 0.01, 0.5, 5)
    m = model
    for _ in range(5):
        m, _ = M.step(m, M.evaluate(m, X, y, "cross-entropy", 0.01), 0.5)
    np.testing.assert_allclose(path.model.W, m.W)
    assert len(path.records) == 5
    assert path.records[-1].total == pytest.approx(M.evaluate(m, X, y, "cross-entropy", 0.01).total)
    totals = [r.total for r in path.records]
    assert totals == sorted(totals, reverse=True)  # a small step on a convex loss only goes down


def test_softmax_keeps_pushing_where_the_hinge_stops():
    """The lesson of the side-by-side: with no regularisation, on separable data, both reach
    every point right; the hinge's loss and gradient become exactly 0 (every margin met)
    while softmax's loss is never 0, so its weights keep growing."""
    X, y = blobs()
    start = M.initial_model(1, 3)
    soft = M.train(start, X, y, "cross-entropy", 0.0, 1.0, 400)
    hinge = M.train(start, X, y, "hinge", 0.0, 0.1, 400)
    assert soft.records[-1].accuracy == hinge.records[-1].accuracy == 1.0
    assert hinge.records[-1].data == 0.0 and hinge.records[-1].gradient_norm == 0.0
    assert hinge.records[-1].weight_norm == hinge.records[-50].weight_norm  # it stopped
    assert soft.records[-1].data > 0 and soft.records[-1].gradient_norm > 0
    assert soft.records[-1].weight_norm > soft.records[-50].weight_norm  # it did not


def test_a_diverging_learning_rate_is_held_at_the_weight_limit():
    X, y = blobs()
    path = M.train(M.initial_model(1, 3), X, y, "hinge", 5.0, 10.0, 20)
    assert path.clipped
    assert np.all(np.abs(path.model.W) <= M.WEIGHT_LIMIT) and np.all(np.isfinite(path.model.W))


def test_temperature_is_the_softmax_of_scores_over_t():
    model, X, y = random_problem(7)
    hot = M.evaluate(model, X, y, "cross-entropy", 0.0, temperature=2.0)
    scaled = M.evaluate(M.Model(model.W / 2, model.b / 2), X, y, "cross-entropy", 0.0)
    np.testing.assert_allclose(hot.row_losses, scaled.row_losses)
    np.testing.assert_allclose(hot.probabilities, scaled.probabilities)
    np.testing.assert_array_equal(hot.predicted, scaled.predicted)  # T never moves a region


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="K >= 2"):
        M.Model.of([[1, 2]], [0])
    model, X, y = random_problem(8)
    with pytest.raises(ValueError, match="unknown loss"):
        M.evaluate(model, X, y, "squared", 0.0)
    with pytest.raises(ValueError, match="class indices"):
        M.evaluate(model, X, y + 10, "hinge", 0.0)


def test_initial_weights_follow_the_seed():
    a, b = M.initial_model(3, 4), M.initial_model(3, 4)
    np.testing.assert_array_equal(a.W, b.W)
    assert a.W.shape == (4, 2) and a.b.shape == (4,)
    assert not np.array_equal(a.W, M.initial_model(4, 4).W)
