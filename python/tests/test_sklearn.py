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
    s = cross_val_score(make_pipeline(mr.PCA(5, random_state=0), mr.Ridge()), X, y, cv=3)
    assert np.all(s > 0.5)
    s = cross_val_score(mr.LogisticRegression(), X, (y > 0).astype(int), cv=3, scoring="roc_auc")
    assert np.all(s > 0.8)


# Checks that fail by design, with the reason (scikit-learn marks the same ones on its own forests).
EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data":
        "bootstrap draws differ between a weight of 2 and a repeated row (see learn/mod.rs's contract)",
    "check_sample_weight_equivalence_on_sparse_data": "sparse input is not supported",
}


@pytest.mark.parametrize("est", [
    mr.Ridge(), mr.LogisticRegression(), mr.PCA(random_state=0),
    mr.RandomForestRegressor(n_estimators=5, random_state=0),
    mr.RandomForestClassifier(n_estimators=5, random_state=0),
    mr.HistGradientBoostingRegressor(max_iter=10, random_state=0),
    mr.HistGradientBoostingClassifier(max_iter=10, random_state=0),
], ids=lambda e: type(e).__name__)
def test_check_estimator(est):
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    expected = EXPECTED if "RandomForest" in type(est).__name__ else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = check_estimator(est, on_fail=None, expected_failed_checks=expected)
    failed = [(r["check_name"], str(r["exception"])[:300]) for r in res if r["status"] == "failed"]
    assert not failed, failed
