"""The Python package and the `meta-router` command line give the same models, bit for bit.

Every test fits on the same CSV (written with round-trip floats), the same parameters and
seed on both sides and compares the model files byte for byte and the predictions exactly,
for every memory layout of X the estimators read: C order, Fortran order, and columns sliced
out of a wider C-order array (the CLI's matrices are column-major).
"""

import json

import numpy as np
import pytest

import meta_router as mr
from conftest import DATA, write_csv

LEARNERS = [
    # (estimator, kwargs, CLI learner, CLI params, data, weighted)
    (mr.Ridge, {"alpha": 0.1}, "ridge", ["alpha=0.1"], "diabetes", False),
    (mr.Ridge, {"alpha": 1.0}, "ridge", [], "diabetes", True),
    (mr.RandomForestRegressor, {"n_estimators": 20, "max_depth": 8}, "rf",
     ["n_estimators=20", "max_depth=8"], "diabetes", False),
    (mr.RandomForestRegressor, {"n_estimators": 10}, "rf", ["n_estimators=10"], "diabetes", True),
    (mr.HistGradientBoostingRegressor, {"max_iter": 30}, "hgb", ["max_iter=30"], "diabetes", False),
    (mr.LogisticRegression, {"C": 0.5}, "logistic", ["C=0.5"], "cancer", True),
    (mr.RandomForestClassifier, {"n_estimators": 15}, "rfc", ["n_estimators=15"], "cancer", False),
    (mr.HistGradientBoostingClassifier, {"max_iter": 25, "learning_rate": 0.2}, "hgbc",
     ["max_iter=25", "learning_rate=0.2"], "cancer", True),
]


def layouts(X):
    """The same values in each layout: (name, array)."""
    wide = np.concatenate([X, np.full((X.shape[0], 2), np.nan)], axis=1)
    return [("C", np.ascontiguousarray(X)), ("F", np.asfortranarray(X)), ("C-slice", wide[:, : X.shape[1]])]


def _table(tmp_path, X, y, w):
    cols = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    cols["target"] = y
    cols["weight"] = w
    path = tmp_path / "train.csv"
    write_csv(path, cols)
    return path


@pytest.mark.parametrize("cls,kwargs,name,params,data,weighted", LEARNERS)
def test_learner_matches_cli(tmp_path, cli, request, cls, kwargs, name, params, data, weighted):
    X, y, w = request.getfixturevalue(data)
    csv = _table(tmp_path, X, y, w)
    args = ["learn", "--learner", name, "--data", csv, "--target", "target", "--features", "f*",
            "--seed", 11, "--save", tmp_path / "cli.mr"]
    args += [a for p in params for a in ("--param", p)]
    if weighted:
        args += ["--weight", "weight"]
    cli(*args)
    back = mr.load_model(tmp_path / "cli.mr")
    for order, Xl in layouts(X):
        est = cls(**kwargs)
        if "random_state" in est.get_params():
            est.set_params(random_state=11)
        est.fit(Xl, y, sample_weight=w if weighted else None)
        est.save(tmp_path / "py.mr")
        assert (tmp_path / "py.mr").read_bytes() == (tmp_path / "cli.mr").read_bytes(), order
        for _, Xp in layouts(X):
            if est._estimator_type == "regressor":
                np.testing.assert_array_equal(back.predict(Xp), est.predict(Xl), err_msg=order)
            else:
                np.testing.assert_array_equal(back.predict_proba(Xp), est.predict_proba(Xl), err_msg=order)


def test_default_forest_matches_cli_default(tmp_path, cli, diabetes):
    """scikit-learn's default max_features=1.0 is the CLI's default (all features)."""
    X, y, w = diabetes
    csv = _table(tmp_path, X, y, w)
    cli("learn", "--learner", "rf", "--data", csv, "--target", "target", "--features", "f*",
        "--param", "n_estimators=5", "--seed", 3, "--save", tmp_path / "cli.mr")
    est = mr.RandomForestRegressor(n_estimators=5, random_state=3).fit(X, y)
    np.testing.assert_array_equal(mr.load_model(tmp_path / "cli.mr").predict(X), est.predict(X))


def test_pca_matches_cli(tmp_path, cli, diabetes):
    X, y, w = diabetes
    csv = _table(tmp_path, X, y, w)
    cli("learn", "--learner", "pca", "--data", csv, "--features", "f*", "--param", "n_components=4",
        "--param", "iterated_power=4", "--seed", 2, "--save", tmp_path / "cli.mr")
    back = mr.load_model(tmp_path / "cli.mr")
    for order, Xl in layouts(X):
        est = mr.PCA(4, random_state=2).fit(Xl)
        est.save(tmp_path / "py.mr")
        assert (tmp_path / "py.mr").read_bytes() == (tmp_path / "cli.mr").read_bytes(), order
        for _, Xp in layouts(X):
            np.testing.assert_array_equal(back.transform(Xp), est.transform(Xl), err_msg=order)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, cli):
    """A simulated deployment table: 150 gold rows, the rest preference rows."""
    d = tmp_path_factory.mktemp("sim")
    cli("simulate", "--n", 1200, "--seed", 5, "-o", d / "sim.csv")
    with open(d / "sim.csv") as f:
        header = f.readline().strip().split(",")
    m = np.loadtxt(d / "sim.csv", delimiter=",", skiprows=1)
    feats = [h for h in header if h.startswith("x")]
    X = m[:, [header.index(h) for h in feats]]
    gs, pb = m[:, header.index("gs")], m[:, header.index("pb")]
    is_gold = (np.arange(len(gs)) < 150).astype(float)
    label = np.where(is_gold == 1, gs, pb)
    cols = {h: X[:, j] for j, h in enumerate(feats)}
    cols["source"] = np.where(is_gold == 1, "gold", "pref")
    cols["label"] = label
    write_csv(d / "fit.csv", cols)
    write_csv(d / "queries.csv", {h: X[:300, j] for j, h in enumerate(feats)})
    return d, X, label, is_gold, feats


ROUTERS = [
    ({"method": "dr", "learner": "hgb", "learner_params": {"max_iter": 20}},
     ["--method", "dr", "--learner", "hgb", "--param", "max_iter=20"]),
    ({"method": "r", "learner": "ridge", "pca": 8, "usage": 0.4},
     ["--method", "r", "--learner", "ridge", "--pca", 8, "--usage", 0.4]),
    ({"method": "dr", "learner": "rf", "learner_params": {"n_estimators": 10, "max_depth": 6},
      "propensity": "estimated", "align": "wasserstein", "n_folds": 3, "threshold": 0.05},
     ["--learner", "rf", "--param", "n_estimators=10", "--param", "max_depth=6", "--propensity",
      "estimated", "--align", "wasserstein", "--folds", 3, "--threshold", 0.05]),
]


@pytest.mark.parametrize("kwargs,flags", ROUTERS)
def test_router_matches_cli(tmp_path, cli, deployment, kwargs, flags):
    d, X, label, is_gold, feats = deployment
    cli("fit", "--data", d / "fit.csv", "--features", "x*", "--seed", 17, "-o", tmp_path / "cli.mr", *flags)
    for order, Xl in layouts(X)[1:]:
        mr.MetaRouter(random_state=17, **kwargs).fit(Xl, label, is_gold, feature_names=feats).save(tmp_path / "py.mr")
        assert (tmp_path / "py.mr").read_bytes() == (tmp_path / "cli.mr").read_bytes(), order
    r = mr.MetaRouter(random_state=17, **kwargs).fit(X, label, is_gold, feature_names=feats)
    r.save(tmp_path / "py.mr")
    assert (tmp_path / "py.mr").read_bytes() == (tmp_path / "cli.mr").read_bytes()
    # a router saved in Python routes identically with `meta-router route`
    for extra in ([], ["--usage", 0.25], ["--threshold", -0.1]):
        cli("route", "--model", tmp_path / "py.mr", "--data", d / "queries.csv", "-o", tmp_path / "out.csv", *extra)
        with open(tmp_path / "out.csv") as f:
            f.readline()
            rows = [line.strip().split(",") for line in f]
        psi = np.array([float(a) for a, _ in rows])
        primary = np.array([b == "primary" for _, b in rows])
        kw = {} if not extra else {extra[0][2:]: float(extra[1])}
        out = r.route(X[:300], **kw)
        np.testing.assert_array_equal(out.psi_hat, psi)
        np.testing.assert_array_equal(out.primary, primary)
        np.testing.assert_array_equal(r.predict(X[:300]), psi)
    # a router written by the CLI opens in Python
    back = mr.MetaRouter.load(tmp_path / "cli.mr")
    np.testing.assert_array_equal(back.predict(X[:300]), r.predict(X[:300]))
    assert back.delta_ == r.delta_
    assert back.threshold_ == r.threshold_


def test_router_source_strings(deployment):
    d, X, label, is_gold, feats = deployment
    a = mr.MetaRouter(learner="ridge", random_state=1).fit(X, label, is_gold)
    b = mr.MetaRouter(learner="ridge", random_state=1).fit(X, label, source=np.where(is_gold == 1, "gs", "pb"))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.delta_["n_gold"] == 150 and a.delta_["n_pref"] == len(label) - 150
    assert a.predict_delta(X).shape == (len(label),)
    assert mr.MetaRouter("gold_only", learner="ridge").fit(X, label, is_gold).predict_delta(X) is None


def test_study_matches_cli(cli):
    args = dict(n=1000, n_gold=60, n_test=200, rounds=2, learner="ridge", random_state=4)
    out = cli("study", "--n", 1000, "--gold", 60, "--test", 200, "--rounds", 2, "--learner", "ridge",
              "--seed", 4, "--json", "--quiet")
    want = json.loads(out)
    want.pop("seconds")
    got = mr.study(**args)
    curves = got.pop("curves")
    assert got == want
    assert curves["rho"].shape == curves["meta_dr"]["mean"].shape
    assert set(curves) == {"rho", "oracle", *want["routers"]}


def test_study_on_data_matches_simulator():
    """study(X, gold, pref, psi, delta) on the simulator's own table equals the built-in run
    except for the preference scale (estimated from the table, given by the simulator)."""
    r = mr.study(n=900, n_gold=50, n_test=200, rounds=1, learner="ridge", routers=["meta_dr", "random"])
    assert set(r["routers"]) == {"meta_dr", "random"}
    assert np.isfinite(r["routers"]["meta_dr"]["auc"])
