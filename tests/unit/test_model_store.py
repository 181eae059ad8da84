import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

from core.learn.model import ModelFormatError, SavedModel

BINS = (2, 2, 2)  # 8 features keep the fits instant


def _data(k, n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 8))  # float64: sklearn keeps float32 input in float32
    y = np.digitize(X[:, 0] + 0.1 * rng.normal(size=n), np.linspace(0, 1, k + 1)[1:-1])
    return X, y


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize(
    "make,kind",
    [
        (lambda: SGDClassifier(loss="log_loss", random_state=967, max_iter=10, tol=None), "sgd-log"),
        (lambda: LogisticRegression(max_iter=500), "multinomial"),
    ],
)
def test_probabilities_equal_sklearn_after_a_round_trip(k, make, kind):
    X, y = _data(k)
    est = make().fit(X, y)
    names = [f"c{i}" for i in range(k)]
    m = SavedModel.from_bytes(SavedModel.from_estimator(est, names, BINS, True, kind).to_bytes())
    np.testing.assert_allclose(m.predict_proba(X), est.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(m.decision(X), est.decision_function(X), atol=1e-9)
    assert m.predict(X) == [names[i] for i in est.predict(X)]


def test_binary_score_is_the_softmax_of_zero_and_z():
    X, y = _data(2)
    est = SGDClassifier(loss="log_loss", random_state=967, max_iter=10, tol=None).fit(X, y)
    m = SavedModel.from_estimator(est, ["cat", "dog"], BINS, False, "sgd-log")
    s = m.class_scores(X)
    assert np.all(s[:, 0] == 0)
    e = np.exp(s)
    np.testing.assert_allclose(e / e.sum(1, keepdims=True), m.predict_proba(X), atol=1e-12)


def test_hinge_model_refuses_probabilities():
    X, y = _data(2)
    est = SGDClassifier(loss="hinge", random_state=967, max_iter=10, tol=None).fit(X, y)
    m = SavedModel.from_estimator(est, ["cat", "dog"], BINS, True, "sgd-hinge")
    with pytest.raises(ModelFormatError, match="not probabilities"):
        m.predict_proba(X)


def test_save_is_atomic_and_loads_back(tmp_path):
    X, y = _data(3)
    est = LogisticRegression(max_iter=500).fit(X, y)
    m = SavedModel.from_estimator(
        est, ["a", "b", "c"], BINS, True, "multinomial", transform="hellinger", dataset="demo", accuracy=0.5
    )
    path = m.save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    back = SavedModel.load(path)
    assert back.meta == {"dataset": "demo", "accuracy": 0.5} and back.transform == "hellinger"
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(np.sqrt(X)), atol=1e-12)


@pytest.mark.parametrize(
    "data,msg",
    [
        (b"", "not a model file"),
        (b"\x80\x04garbage pickle", "not a model file"),
        (b"PK\x03\x04truncated zip", "not a model file"),
    ],
)
def test_garbage_is_refused_clearly(data, msg):
    with pytest.raises(ModelFormatError, match=msg):
        SavedModel.from_bytes(data)


def test_pickled_arrays_are_never_loaded(tmp_path):
    import io

    buf = io.BytesIO()
    np.savez(
        buf, coef=np.array([object()], dtype=object), intercept=np.zeros(1), header=np.zeros(1, np.uint8)
    )
    with pytest.raises(ModelFormatError, match="not a model file"):
        SavedModel.from_bytes(buf.getvalue())


def test_older_format_is_refused_with_advice():
    X, y = _data(2)
    est = SGDClassifier(loss="log_loss", max_iter=5, tol=None).fit(X, y)
    good = SavedModel.from_estimator(est, ["cat", "dog"], BINS, True, "sgd-log").to_bytes()
    import io
    import json

    with np.load(io.BytesIO(good)) as z:
        arrays = dict(z)
    header = json.loads(arrays["header"].tobytes())
    header["format_version"] = 0
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ModelFormatError, match="another version of the app.*train it again"):
        SavedModel.from_bytes(buf.getvalue())


def test_features_of_other_bins_are_refused():
    X, y = _data(2)
    est = SGDClassifier(loss="log_loss", max_iter=5, tol=None).fit(X, y)
    m = SavedModel.from_estimator(est, ["cat", "dog"], BINS, True, "sgd-log")
    with pytest.raises(ModelFormatError, match="expects 8 features"):
        m.predict_proba(np.zeros((1, 512)))
