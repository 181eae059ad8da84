"""core.learn.seeds and core.learn.regularisation: accuracy over split seeds and the alpha
sweep, against the training road run again by hand, numpy, scipy and scikit-learn."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.stats
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, log_loss

from core.learn import regularisation as rg
from core.learn import seeds as sd
from core.learn import train
from core.learn.config import ALPHAS, TrainConfig
from tests.unit.test_insight import _data

CONFIG = TrainConfig(bins=(2, 2, 2))


@pytest.fixture(scope="module")
def data():
    X, labels = _data(n=200, k=2, seed=7)
    _, y = train.check_labels(labels)
    return X, labels, y


def test_t_quantiles_are_scipys():
    for df in range(1, 200):
        assert sd.t975(df) == pytest.approx(scipy.stats.t.ppf(0.975, df), abs=1e-4)


def test_each_seed_is_the_training_road_with_split_seed_42_plus_k(data):
    X, labels, y = data
    spread = sd.seed_spread(X, y, CONFIG, 4)
    assert spread.seeds == (42, 43, 44, 45)
    for k, seed in enumerate(spread.seeds):
        run = train.train_arrays(X, labels, replace(CONFIG, split_seed=seed), with_curves=False)
        assert spread.of(sd.SOFTMAX).values[k] == run.post.accuracy
        assert spread.of(sd.SVM).values[k] == run.hinge.accuracy
        tr, te = run.post.train_idx, run.post.test_idx
        lr = LogisticRegression(max_iter=1000).fit(X[tr], y[tr])
        assert spread.of("Multinomial softmax").values[k] == accuracy_score(y[te], lr.predict(X[te]))
    assert spread.n_test == 50 and len(spread.models) == 5


def test_mean_spread_and_interval_are_numpys_and_scipys():
    values = np.array([0.61, 0.58, 0.64, 0.60, 0.57])
    s = sd.Spread("m", "", values)
    assert s.mean == pytest.approx(values.mean()) and s.sd == pytest.approx(values.std(ddof=1))
    lo, hi = scipy.stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=scipy.stats.sem(values))
    assert s.interval == pytest.approx((lo, hi), abs=1e-5)
    wild = sd.Spread("m", "", np.array([0.5, 0.95, 0.95, 0.95, 0.5]))  # two splits went wrong
    assert wild.high == 1.0 and 0 < wild.low < wild.mean  # an accuracy's interval stays within 0-100%


def _spread(softmax, svm, n_test=250):
    softmax, svm = np.asarray(softmax), np.asarray(svm)
    return sd.SeedSpread(
        tuple(42 + k for k in range(len(softmax))),
        n_test,
        (sd.Spread(sd.SOFTMAX, "", softmax), sd.Spread(sd.SVM, "", svm)),
    )


def test_the_claim_is_answered_from_the_numbers():
    noisy = _spread([0.60, 0.66, 0.55, 0.63, 0.58], [0.59, 0.62, 0.57, 0.64, 0.55])
    text = sd.spread_sentence(noisy)
    diff = noisy.difference()
    assert f"ahead on {int((diff.values > 0).sum())} of 5 splits" in text
    assert "includes 0" in text and "cannot be told apart" in text
    claim = sd.claim_sentence(noisy)
    at_post = diff.sd * np.sqrt(250 / 6250)
    assert "65% vs 64%" in claim and f"about {100 * at_post:.1f} points" in claim
    assert ("within the noise" in claim) == (0.01 / at_post < 2)
    better = _spread([0.65, 0.66, 0.64, 0.67, 0.65], [0.60, 0.62, 0.61, 0.61, 0.60])
    assert "softmax is really the better" in sd.spread_sentence(better)
    worse = _spread([0.60, 0.62, 0.61, 0.61, 0.60], [0.65, 0.66, 0.64, 0.67, 0.65])
    assert "Linear SVM is really the better" in sd.spread_sentence(worse)
    # A big test set makes a small spread: the post's 1 point stands out of it.
    steady = _spread([0.650, 0.652, 0.648, 0.651], [0.640, 0.643, 0.641, 0.639], n_test=6250)
    assert "more than the noise" in sd.claim_sentence(steady)
    level = _spread([0.6, 0.6], [0.6, 0.6])
    assert "level on 2" in sd.spread_sentence(level) and "no spread" in sd.claim_sentence(level)


def test_every_other_model_is_weighed_against_the_posts_recipe():
    spread = sd.SeedSpread(
        (42, 43, 44, 45),
        250,
        (
            sd.Spread(sd.SOFTMAX, "", np.array([0.60, 0.58, 0.62, 0.59])),
            sd.Spread(sd.SVM, "", np.array([0.59, 0.59, 0.60, 0.60])),
            sd.Spread("Multinomial softmax", "", np.array([0.64, 0.62, 0.65, 0.63])),
            sd.Spread("Hellinger features", "", np.array([0.55, 0.53, 0.58, 0.53])),
        ),
    )
    text = sd.variants_sentence(spread)
    lr = spread.difference("Multinomial softmax", sd.SOFTMAX)
    assert f"Multinomial softmax +{100 * lr.mean:.1f} points (95% interval +{100 * lr.low:.1f}" in text
    assert "Multinomial softmax +3.8 points" in text and text.count("better") == 1
    assert "Hellinger features -5.0 points" in text and "worse" in text
    assert "Linear SVM (hinge) -0.3 points" in text and "no clear difference" in text


def test_the_sweep_is_the_posts_model_at_every_alpha(data):
    X, labels, y = data
    run = train.train_arrays(X, labels, CONFIG, with_hinge=False)
    post = run.post
    sweep = rg.alpha_sweep(X, post)
    assert [p.alpha for p in sweep.points] == list(ALPHAS) and sweep.chosen == CONFIG.alpha
    chosen = sweep.at(CONFIG.alpha)
    assert chosen.test_acc == post.accuracy  # the chosen alpha's point is the reported model
    assert chosen.test_loss == pytest.approx(run.curves.test_loss[-1], abs=1e-12)
    tr, te = post.train_idx, post.test_idx
    for p in sweep.points[::2]:
        clf = SGDClassifier(loss="log_loss", random_state=967, max_iter=10, tol=None, alpha=p.alpha)
        clf.fit(X[tr], y[tr])
        assert p.w_norm == pytest.approx(np.sqrt((clf.coef_.astype(np.float64) ** 2).sum()), rel=1e-6)
        assert p.train_acc == accuracy_score(y[tr], clf.predict(X[tr]))
        assert p.test_loss == pytest.approx(
            log_loss(y[te], clf.predict_proba(X[te]), labels=[0, 1]), abs=1e-12
        )
    commonest = np.bincount(y[tr]).argmax()
    assert sweep.majority == np.mean(y[te] == commonest)
    assert sweep.best.test_loss == min(p.test_loss for p in sweep.points)


def _sweep(rows, chosen=1e-4, majority=0.5):
    pts = tuple(rg.AlphaPoint(a, tr, te, 0.0, loss, norm) for a, tr, te, loss, norm in rows)
    return rg.AlphaSweep(pts, chosen, majority)


def test_the_fit_sentence_follows_the_curve():
    classic = _sweep(
        [
            (1e-6, 0.90, 0.60, 0.90, 50.0),  # over-fits
            (1e-4, 0.80, 0.66, 0.70, 10.0),
            (1e-2, 0.70, 0.68, 0.62, 1.0),  # the best
            (1e-1, 0.52, 0.51, 0.69, 0.1),  # under-fits: near the commonest class
        ]
    )
    text = rg.fit_sentence(classic)
    assert "lowest at alpha 1e-02 (0.6200" in text and "at the chosen 1e-04 it is 0.7000" in text
    assert "Over-fitting: at alpha 1e-06 the training accuracy is 30.0 points above" in text
    assert "28.0 more than at the best alpha" in text
    assert "Under-fitting: at alpha 1e-01" in text and "|W| = 50.00 to 0.10" in text
    flat = _sweep([(1e-6, 0.70, 0.69, 0.6, 5.0), (1e-4, 0.70, 0.69, 0.5, 3.0), (1e-1, 0.69, 0.68, 0.55, 1.0)])
    text = rg.fit_sentence(flat)
    assert "the chosen alpha." in text and "Little over-fitting" in text and "No clear under-fitting" in text
    assert "hardly moves with alpha, but the log loss does" in text
    # A gap that every alpha shares is the data's, not the weights' over-fitting.
    stuck = _sweep(
        [(1e-6, 0.93, 0.84, 3.3, 84.0), (1e-4, 0.93, 0.84, 0.7, 9.0), (1e-2, 0.93, 0.84, 0.45, 3.0)]
    )
    text = rg.fit_sentence(stuck)
    assert "Over-fitting" not in text and "a gap no alpha closes" in text and "stays 9.0 points above" in text
