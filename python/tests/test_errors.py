"""Bad input raises the right Python exception, carrying the crate's message."""

import pickle

import numpy as np
import pytest

import meta_router as mr

ALL = [mr.RandomForestRegressor, mr.RandomForestClassifier, mr.HistGradientBoostingRegressor,
       mr.HistGradientBoostingClassifier, mr.Ridge, mr.LogisticRegression]


def small(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(float)
    return X, y


@pytest.mark.parametrize("cls", ALL)
def test_shapes_and_dtypes(cls):
    X, y = small()
    with pytest.raises(ValueError, match="2-d"):
        cls().fit(X[:, 0], y)
    with pytest.raises(TypeError, match="object array"):
        cls().fit(np.array([[{"a": 1}, 2.0]] * 4, dtype=object), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="Complex"):
        cls().fit(X + 1j, y)
    with pytest.raises(ValueError, match="dtype"):
        cls().fit(np.array([["a", "b"], ["c", "d"]]), [0, 1])
    with pytest.raises(ValueError, match="rows"):
        cls().fit(X, y[:-1])
    with pytest.raises(ValueError, match="y is None"):
        cls().fit(X, None)
    with pytest.raises(ValueError, match="empty"):
        cls().fit(X[:0], y[:0])
    with pytest.raises(mr.NotFittedError):
        cls().predict(X)
    m = cls().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])


@pytest.mark.parametrize("cls", [mr.RandomForestRegressor, mr.Ridge, mr.LogisticRegression, mr.RandomForestClassifier])
def test_nan_is_refused_with_its_position(cls):
    X, y = small()
    Xn = X.copy()
    Xn[7, 2] = np.nan
    with pytest.raises(ValueError, match="row 7") as e:
        cls().fit(Xn, y)
    assert "column 2" in str(e.value) or "col 2" in str(e.value) or "2" in str(e.value)
    m = cls().fit(X, y)
    with pytest.raises(ValueError, match="row 7"):
        m.predict(Xn)


@pytest.mark.parametrize("cls", [mr.HistGradientBoostingRegressor, mr.HistGradientBoostingClassifier])
def test_boosting_takes_missing_values(cls):
    X, y = small(200)
    X[::7, 1] = np.nan
    p = cls(max_iter=10).fit(X, y).predict(X)
    assert np.isfinite(np.asarray(p, dtype=float)).all()


def test_crate_parameter_errors_are_value_errors():
    X, y = small()
    with pytest.raises(ValueError, match="n_estimators"):
        mr.RandomForestRegressor(n_estimators=0).fit(X, y)
    with pytest.raises(ValueError, match="max_features"):
        mr.RandomForestRegressor(max_features="most").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        mr.Ridge(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate"):
        mr.HistGradientBoostingRegressor(learning_rate=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="invalid parameter"):
        mr.Ridge().set_params(nope=1)
    with pytest.raises(ValueError, match="random_state"):
        mr.RandomForestRegressor(random_state="x").fit(X, y)


def test_classifier_labels():
    X, y = small()
    with pytest.raises(ValueError, match="one class"):
        mr.LogisticRegression().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="binary"):
        mr.LogisticRegression().fit(X, np.arange(len(y)) % 3)
    labels = np.where(y == 1, "yes", "no")
    m = mr.RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
    assert list(m.classes_) == ["no", "yes"]
    assert set(m.predict(X)) <= {"no", "yes"}
    assert m.predict_proba(X).shape == (len(y), 2)


def test_weights_are_checked():
    X, y = small()
    with pytest.raises(ValueError):
        mr.Ridge().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="sample_weight"):
        mr.Ridge().fit(X, y, sample_weight=np.ones(3))


def test_files(tmp_path):
    X, y = small()
    with pytest.raises(OSError, match="nope"):
        mr.load_model(tmp_path / "nope.mr")
    (tmp_path / "junk.mr").write_bytes(b"not a model file at all, sorry")
    with pytest.raises(OSError):
        mr.load_model(tmp_path / "junk.mr")
    m = mr.Ridge().fit(X, y)
    m.save(tmp_path / "r.mr")
    raw = bytearray((tmp_path / "r.mr").read_bytes())
    raw[-3] ^= 0xFF
    (tmp_path / "bad.mr").write_bytes(bytes(raw))
    with pytest.raises(OSError, match="checksum"):
        mr.load_model(tmp_path / "bad.mr")
    with pytest.raises(OSError):
        mr.MetaRouter.load(tmp_path / "r.mr")
    with pytest.raises(ValueError, match="ridge"):
        mr.RandomForestRegressor.load(tmp_path / "r.mr")
    with pytest.raises(OSError):
        m.save(tmp_path / "no" / "such" / "dir" / "r.mr")


def test_router_errors():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    label = X[:, 0] + rng.normal(size=300)
    is_gold = (np.arange(300) < 60).astype(float)
    with pytest.raises(ValueError, match="method"):
        mr.MetaRouter("xx").fit(X, label, is_gold)
    with pytest.raises(ValueError, match="align"):
        mr.MetaRouter(align="xx", learner="ridge").fit(X, label, is_gold)
    with pytest.raises(ValueError, match="gold"):
        mr.MetaRouter(learner="ridge").fit(X, label, np.zeros(300))
    with pytest.raises(ValueError, match="exactly one"):
        mr.MetaRouter(learner="ridge").fit(X, label)
    with pytest.raises(ValueError, match="neither gold"):
        mr.MetaRouter(learner="ridge").fit(X, label, source=["maybe"] * 300)
    r = mr.MetaRouter(learner="ridge", random_state=0).fit(X, label, is_gold)
    Xn = X.copy()
    Xn[3, 1] = np.inf
    with pytest.raises(ValueError, match="row 3"):
        r.predict(Xn)
    with pytest.raises(ValueError, match="usage"):
        r.route(X, usage=1.5)
    with pytest.raises(ValueError, match="features"):
        r.predict(X[:, :3])
    out = r.route(X, cost_primary=2.0, cost_alternative=1.0, cost_weight=0.1)
    np.testing.assert_array_equal(out.primary, out.psi_hat > 0.1)
    assert out.usage == out.primary.mean()


def test_float32_and_layouts():
    X, y = small(100, 4)
    m = mr.RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    m32 = mr.RandomForestRegressor(n_estimators=5, random_state=0).fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(m32.predict(X.astype(np.float32)),
                                  m.predict(X.astype(np.float32).astype(np.float64)))
    for est in (mr.Ridge(), mr.LogisticRegression(), mr.HistGradientBoostingRegressor(max_iter=5, random_state=0)):
        a = est.fit(X, y)
        pa = a.predict(X)
        b = pickle.loads(pickle.dumps(a))
        np.testing.assert_array_equal(b.predict(np.asfortranarray(X)), pa)
        np.testing.assert_array_equal(a.predict(X[::-1])[::-1], pa)
        fresh = type(est)(**est.get_params()).fit(np.asfortranarray(X), y)
        np.testing.assert_array_equal(fresh.predict(X), pa)
