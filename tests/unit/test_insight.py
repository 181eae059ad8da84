"""core.learn.insight: every view's numbers against an independent computation
(scikit-learn's log_loss, np.dot, a refit with max_iter=k, a brute-force sort)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix, log_loss

from core.learn import insight, train
from core.learn.config import TrainConfig
from core.learn.model import SavedModel

CONFIG = TrainConfig(bins=(2, 2, 2))  # 8 colour bins: instant fits


def _data(n=160, k=2, seed=0):
    """Histogram-like rows (non-negative, L2-normalised) whose first bins depend on the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.random((n, 8)) ** 3
    X[np.arange(n), y] += rng.random(n)  # overlapping classes: some confident mistakes
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    names = ["bird", "cat", "dog"][-k:] if k <= 3 else None
    return X.astype(np.float32), [names[i] for i in y]


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "three-classes"])
def run(request):
    X, labels = _data(k=request.param)
    return X, train.train_arrays(X, labels, CONFIG, with_hinge=False)


def test_weight_vector_is_the_largest_weights_of_each_sign():
    coef = np.array([[0.5, -2.0, 0.0, 3.0, -0.1, 1.0, -0.7, 0.2]])
    v = insight.weight_vector(coef, np.array([0.3]), ("cat", "dog"), 0, n=3)
    assert [w.index for w in v.positive] == [3, 5, 0] and [w.weight for w in v.positive] == [3.0, 1.0, 0.5]
    assert [w.index for w in v.negative] == [1, 6, 4]  # most negative first
    assert (v.votes_for, v.votes_against) == ("dog", "cat")  # a binary model's z is dog's score
    assert v.bias == 0.3 and v.norm == pytest.approx(np.sqrt((coef**2).sum()))
    three = insight.weight_vector(np.vstack([coef, -coef, coef]), np.zeros(3), ("a", "b", "c"), 1, n=8)
    assert three.votes_for == "b" and three.votes_against == "the other classes"
    assert len(three.positive) == 3 and len(three.negative) == 4  # the zero weight votes for nobody


def test_test_colours_are_the_images_with_most_of_each_bin():
    rng = np.random.default_rng(1)
    X = rng.random((40, 8)).astype(np.float32)
    X[3] = 0  # an image with no pixels at all (shares 0, not nan)
    c = insight.test_colours(X, n=5, chunk=3)  # blocks that do not divide 8
    shares = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-30)
    for j in range(8):
        expected = np.argsort(-shares[:, j], kind="stable")[:5]
        np.testing.assert_array_equal(c.positions[j], expected)
        np.testing.assert_allclose(c.shares[j], shares[expected, j], rtol=1e-6)
        np.testing.assert_array_equal(c.values[j], X[expected, j])


def test_images_with_colour_carry_the_models_scores(run):
    X, r = run
    post = r.post
    j = insight.weight_vector(post.model.coef, post.model.intercept, post.classes, 0).positive[0].index
    found = insight.images_with_colour(post, r.colours, j, 0)
    assert found and len(found) <= insight.N_IMAGES
    for img in found:
        x = X[img.row]
        assert img.share == pytest.approx(x[j] / x.sum(), rel=1e-6) and img.x == x[j]
        scores = post.model.class_scores(x)[0]
        assert img.score == pytest.approx(scores[1] if len(post.classes) == 2 else scores[0], abs=1e-12)
        assert img.actual == post.classes[post.y[img.row]]
    shares = [img.share for img in found]
    assert shares == sorted(shares, reverse=True)


def test_mean_loss_is_sklearns_log_loss(run):
    _, r = run
    post = r.post
    losses = insight.image_losses(post)
    y = post.y[post.test_idx]
    k = len(post.classes)
    assert losses.mean == pytest.approx(log_loss(y, post.proba_test, labels=range(k)), abs=1e-12)
    assert losses.mean == insight.test_log_loss(post)
    assert losses.mean == pytest.approx(r.curves.test_loss[-1], abs=1e-12)  # the curve's last point
    np.testing.assert_allclose(losses.loss, -np.log(post.proba_test[np.arange(len(y)), y]), rtol=1e-6)
    np.testing.assert_array_equal(losses.correct, post.pred_test == y)


def test_a_certain_mistake_costs_what_log_loss_charges_it():
    """p(true) = 0 would be an infinite loss; log_loss clips at float64's eps, and so do we."""
    fake = SimpleNamespace(
        y=np.array([0, 1, 1]),
        test_idx=np.array([0, 1, 2]),
        proba_test=np.array([[1.0, 0.0], [1.0, 0.0], [0.2, 0.8]]),
        pred_test=np.array([0, 0, 1]),
        classes=("cat", "dog"),
    )
    losses = insight.image_losses(fake)
    assert losses.loss[1] == pytest.approx(-np.log(np.finfo(float).eps)) and np.isfinite(losses.loss).all()
    assert losses.mean == pytest.approx(log_loss(fake.y, fake.proba_test, labels=[0, 1]), abs=1e-12)
    share = 100 * losses.loss[1] / losses.loss.sum()
    assert f"the 1 mistake carries {share:.0f}%" in insight.loss_sentence(losses)


def test_top_losses_are_the_costliest_and_carry_the_scores_for_explain(run):
    X, r = run
    post = r.post
    losses = insight.image_losses(post)
    top = insight.top_losses(post, losses, n=5)
    assert [c.loss for c in top] == sorted(losses.loss, reverse=True)[:5]
    for c in top:
        x = X[c.row]
        np.testing.assert_allclose(c.scores, post.model.class_scores(x)[0], atol=1e-12)
        assert c.loss == pytest.approx(-np.log(c.p_true))
        assert c.predicted == post.classes[int(np.argmax(c.scores))]
    assert top[0].actual != top[0].predicted  # the costliest image is a mistake


def test_confused_pairs_read_the_confusion_matrix():
    X, labels = _data(n=300, k=3, seed=4)
    post = train.train_arrays(X, labels, CONFIG, with_hinge=False, with_curves=False).post
    losses = insight.image_losses(post)
    pairs = insight.confused_pairs(post, losses, n=6)
    cm = confusion_matrix(post.y[post.test_idx], post.pred_test)
    off = sorted(
        ((cm[a, p], a, p) for a in range(3) for p in range(3) if a != p and cm[a, p]), key=lambda t: -t[0]
    )
    assert [p.images for p in pairs] == [t[0] for t in off]
    first = pairs[0]
    a, p = post.classes.index(first.actual), post.classes.index(first.predicted)
    assert first.of_actual == pytest.approx(cm[a, p] / cm[a].sum())
    mask = (post.y[post.test_idx] == a) & (post.pred_test == p)
    assert first.loss == pytest.approx(losses.loss[mask].sum() / losses.loss.sum())


@pytest.mark.parametrize("transform", ["none", "hellinger"])
def test_score_terms_add_up_to_the_score_np_dot_gives(run, transform):
    X, r = run
    model = replace(r.post.model, transform=transform)
    x = X[0]
    features = np.sqrt(x.astype(np.float64)) if transform == "hellinger" else x.astype(np.float64)
    for row in range(model.coef.shape[0]):
        t = insight.score_terms(model, x, row, n=3)
        by_hand = float(np.dot(model.coef[row], features) + model.intercept[row])
        assert t.score == model.class_scores(x)[0][model.classes.index(t.cls)]
        assert t.score == pytest.approx(by_hand, abs=1e-12)
        assert t.total == pytest.approx(by_hand, abs=1e-12)
        values = model.coef[row] * features
        assert [abs(term.value) for term in t.terms] == sorted(np.abs(values), reverse=True)[:3]
        assert t.n_other == 8 - len(t.terms) and t.bias == model.intercept[row]
    if model.is_binary:
        assert insight.score_terms(model, x, 0).cls == model.classes[1]  # z is class 1's score


def test_a_bin_the_image_has_no_pixels_in_is_no_term():
    model = SavedModel(("cat", "dog"), np.arange(1.0, 9.0)[None], np.array([0.5]), "sgd-log", (2, 2, 2), True)
    x = np.array([0, 0, 1, 0, 0, 0, 2, 0], dtype=np.float32)
    t = insight.score_terms(model, x, 0, n=4)
    assert [term.index for term in t.terms] == [6, 2] and t.other == 0 and t.n_other == 6
    assert t.score == 7 * 2 + 3 * 1 + 0.5
    text = insight.terms_sentence(t, model.classes)
    assert "**17.5000**" in text and "cat's score is 0" in text


@pytest.mark.parametrize("k", [1, 4])
def test_the_epoch_replay_is_a_refit_with_max_iter_k(run, k):
    X, r = run
    post = r.post
    view = insight.at_epoch(post, r.curves, k)
    tr, te = post.train_idx, post.test_idx
    clf = SGDClassifier(loss="log_loss", random_state=967, max_iter=k, tol=None, alpha=1e-4).fit(
        X[tr], post.y[tr]
    )
    np.testing.assert_allclose(view.coef, clf.coef_, rtol=1e-12)
    np.testing.assert_allclose(view.intercept, np.ravel(clf.intercept_), rtol=1e-12)
    np.testing.assert_array_equal(
        view.confusion, confusion_matrix(post.y[te], clf.predict(X[te]), labels=range(len(post.classes)))
    )
    assert view.test_acc == np.mean(clf.predict(X[te]) == post.y[te]) and view.epoch == k and not view.is_last
    last = insight.at_epoch(post, r.curves, 99)  # clamped: the reported model
    assert last.is_last and last.test_acc == post.accuracy
    np.testing.assert_array_equal(last.confusion, post.confusion)


def test_the_reported_view_is_the_reported_model(run):
    """Without learning curves the replay shows the reported model: its accuracy, its confusion
    and scikit-learn's log loss on the test images."""
    _, result = run
    post = result.post
    view = insight.reported_view(post)
    assert view.epoch == view.epochs == post.config.epochs
    assert view.test_acc == post.accuracy and np.array_equal(view.confusion, post.confusion)
    assert view.test_loss == insight.test_log_loss(post)
