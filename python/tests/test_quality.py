"""The estimators match scikit-learn's figures on the reference data (tests/data/reference.json,
computed with scikit-learn 1.9.1 by make_reference.py; see tests/data/README.md)."""

import json

import numpy as np
import pytest

import meta_router as mr
from conftest import DATA

REF = json.load(open(DATA / "reference.json"))


def r2(y, p):
    return 1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def auc(y, s):
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for v in np.unique(s):  # average ranks of ties
        m = s == v
        ranks[m] = ranks[m].mean()
    pos = y == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


def split(n):
    te = np.arange(n) % 5 == 0
    return ~te, te


@pytest.mark.parametrize("alpha", ["1e-06", "0.1", "1", "100"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_coefficients(diabetes, alpha, weighted):
    X, y, w = diabetes
    ref = REF[f"ridge_diabetes{'_weighted' if weighted else ''}_alpha_{alpha}"]
    m = mr.Ridge(alpha=float(alpha)).fit(X, y, sample_weight=w if weighted else None)
    np.testing.assert_allclose(m.coef_, ref["coef"], rtol=1e-6, atol=1e-6)
    assert abs(m.intercept_ - ref["intercept"]) < 1e-6


@pytest.mark.parametrize("key,C,weighted", [("logistic_breast_cancer_C_0.01", 0.01, False),
                                            ("logistic_breast_cancer_C_1", 1.0, False),
                                            ("logistic_breast_cancer_C_100", 100.0, False),
                                            ("logistic_breast_cancer_weighted_C_1", 1.0, True)])
def test_logistic_coefficients(cancer, key, C, weighted):
    X, y, w = cancer
    m = mr.LogisticRegression(C=C, max_iter=500).fit(X, y, sample_weight=w if weighted else None)
    np.testing.assert_allclose(m.coef_[0], REF[key]["coef"], rtol=1e-4, atol=1e-4)
    assert abs(m.intercept_[0] - REF[key]["intercept"]) < 1e-4


def test_pca(diabetes):
    X, _, _ = diabetes
    ref = REF["pca_diabetes_5"]
    m = mr.PCA(5, svd_solver="full").fit(X)
    for k in ("explained_variance", "explained_variance_ratio", "singular_values", "mean"):
        np.testing.assert_allclose(getattr(m, k + "_"), ref[k], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.components_, ref["components"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(m.inverse_transform(m.transform(X)).shape, X.shape)


def test_forest_regressor(diabetes):
    X, y, _ = diabetes
    tr, te = split(len(y))
    s = [r2(y[te], mr.RandomForestRegressor(100, max_depth=20, max_features="sqrt", random_state=k)
            .fit(X[tr], y[tr]).predict(X[te])) for k in range(5)]
    assert np.mean(s) >= REF["accuracy"]["rf_diabetes_r2_mean_of_5_seeds"] - 0.03


def test_boosting_regressor(diabetes):
    X, y, _ = diabetes
    tr, te = split(len(y))
    p = mr.HistGradientBoostingRegressor(random_state=0).fit(X[tr], y[tr]).predict(X[te])
    assert r2(y[te], p) >= REF["accuracy"]["hgb_diabetes_r2"] - 0.03


def test_forest_classifier(cancer):
    X, y, _ = cancer
    tr, te = split(len(y))
    s = [auc(y[te], mr.RandomForestClassifier(100, max_depth=20, random_state=k)
             .fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]) for k in range(5)]
    assert np.mean(s) >= REF["accuracy"]["rfc_breast_cancer_auc_mean_of_5_seeds"] - 0.01


def test_boosting_classifier(cancer):
    X, y, _ = cancer
    tr, te = split(len(y))
    p = mr.HistGradientBoostingClassifier(random_state=0).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    assert auc(y[te], p) >= REF["accuracy"]["hgbc_breast_cancer_auc"] - 0.01
