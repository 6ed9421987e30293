"""scikit-learn's own checks, when scikit-learn is installed (an optional test dependency)."""

import numpy as np
import pytest

import meta_router as mr

sklearn = pytest.importorskip("sklearn")


def test_clone_and_pipeline():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=200)
    est = mr.RandomForestRegressor(n_estimators=10, random_state=0)
    c = clone(est)
    assert c.get_params() == est.get_params()
    s = cross_val_score(make_pipeline(mr.PCA(3, random_state=0), mr.Ridge()), X, y, cv=3)
    assert np.all(s > 0.5)
    s = cross_val_score(mr.LogisticRegression(), X, (y > 0).astype(int), cv=3, scoring="roc_auc")
    assert np.all(s > 0.8)
