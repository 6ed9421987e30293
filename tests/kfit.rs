//! `fit` and `route` among K models on the command line (issue #13): long-format data fitted
//! through the CLI gives the library's `train_multi` on the equivalent wide tables bit for bit;
//! `route` decides as `choose_at` of `scores_batch`; budgets meet their targets; PCA, per-query
//! costs and every bad input of the long format are checked.

use std::path::{Path, PathBuf};

use faer::Mat;
use meta_router::Seed;
use meta_router::cli::simulate::sim_params;
use meta_router::learn::{Predict, RegressorSpec};
use meta_router::router::multi::{
    BudgetTarget, CostTable, ModelCosts, MultiData, MultiRouter, MultiSpec, calibrate_lambda, train_multi,
};
use meta_router::router::{RouterConfig, RouterKind};
use meta_router::sim::{MultiSimData, Scenario, simulate_multi};

use crate::util::{bin, bits, run_json, run_ok, tmp_dir};

const N: usize = 400;
const HOLDOUT: usize = 100;
const SEED: u64 = 5;
const COSTS: &str = "m0=1,m1=10,m2=4";

/// The simulator's three models and two judges, as the CLI draws them.
fn world() -> MultiSimData {
    let p = sim_params(Scenario::from_name("default").unwrap(), N, &[]).unwrap();
    simulate_multi(&p, 3, 2, Seed(SEED)).unwrap()
}

/// `simulate --long`: the long training file (300 queries, 20% with gold) and the 100 held-out
/// queries (wide), once per test directory.
fn files(tag: &str) -> (PathBuf, PathBuf) {
    let dir = tmp_dir(&format!("kfit-{tag}"));
    let (train, test) = (dir.join("train.csv"), dir.join("test.csv"));
    run_ok(
        bin()
            .args(["simulate", "--models", "3", "--judges", "2", "--n", &N.to_string(), "--seed", &SEED.to_string()])
            .args(["--gold-share", "0.2", "--holdout", &HOLDOUT.to_string(), "--long"])
            .arg(&train)
            .arg("-o")
            .arg(&test),
    );
    (train, test)
}

/// A CSV as header and rows of fields (no quoting in these files).
fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

/// The features of the first `rows` rows (or the given rows) of the world.
fn features(w: &MultiSimData, rows: std::ops::Range<usize>) -> Mat<f64> {
    Mat::from_fn(rows.len(), w.x.ncols(), |i, j| w.x[(rows.start + i, j)])
}

fn fit(train: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    run_json(
        bin()
            .args(["fit", "--json", "--learner", "ridge", "--model-col", "model", "--costs", COSTS, "--data"])
            .arg(train)
            .args(extra)
            .arg("-o")
            .arg(out),
    )
}

fn route(model: &Path, data: &Path, out: &Path, extra: &[&str]) -> String {
    let o = run_ok(bin().args(["route", "--model"]).arg(model).arg("--data").arg(data).args(extra).arg("-o").arg(out));
    String::from_utf8(o.stdout).unwrap()
}

/// `at lambda X (` in route's first line.
fn printed_lambda(stdout: &str) -> f64 {
    let rest = stdout.split("at lambda ").nth(1).unwrap();
    rest.split(' ').next().unwrap().parse().unwrap()
}

/// The route CSV: per row the chosen model's index, the K scores, the cost.
fn decisions(path: &Path, models: &[String]) -> (Vec<usize>, Mat<f64>, Vec<f64>) {
    let (h, rows) = read(path);
    assert_eq!(h[0], "choice");
    assert_eq!(h[h.len() - 1], "cost");
    let psi = Mat::from_fn(rows.len(), models.len(), |i, k| {
        rows[i][col(&h, &format!("psi_hat_{}", models[k]))].parse().unwrap()
    });
    let choice = rows.iter().map(|r| models.iter().position(|m| *m == r[0]).unwrap()).collect();
    let cost = rows.iter().map(|r| r[h.len() - 1].parse().unwrap()).collect();
    (choice, psi, cost)
}

#[test]
fn the_long_file_trains_what_train_multi_trains_on_the_wide_tables_bit_for_bit() {
    let (train, test) = files("roundtrip");
    let w = world();
    let n_train = N - HOLDOUT;
    // the long file: every judge label of every model, gold on a fifth of the queries, the
    // features once per query
    let (h, rows) = read(&train);
    assert_eq!(&h[..5], ["query", "model", "source", "label", "x1"]);
    let gold_queries: Vec<usize> = rows
        .iter()
        .filter(|r| r[2] == "gold" && r[1] == "m0")
        .map(|r| r[0].trim_start_matches('q').parse().unwrap())
        .collect();
    assert_eq!(gold_queries.len(), 60);
    assert_eq!(rows.len(), n_train * 3 * 2 + 60 * 3);
    assert_eq!(rows.iter().filter(|r| !r[4].is_empty()).count(), n_train, "features on one row per query");
    // the equivalent wide tables, NaN where the long file has no label
    let mut gold = Mat::from_fn(n_train, 3, |_, _| f64::NAN);
    for &i in &gold_queries {
        for k in 0..3 {
            gold[(i, k)] = w.gold[(i, k)];
        }
    }
    let prefs: Vec<Mat<f64>> = w.pref.iter().map(|p| Mat::from_fn(n_train, 3, |i, k| p[(i, k)])).collect();
    let judges: Vec<_> = prefs.iter().map(Mat::as_ref).collect();
    let x = features(&w, 0..n_train);
    let data = MultiData { x: x.as_ref(), gold: gold.as_ref(), judges: &judges, gold_everywhere: None };
    let spec = MultiSpec {
        models: vec!["m0".into(), "m1".into(), "m2".into()],
        costs: ModelCosts::PerModel(vec![1.0, 10.0, 4.0]),
        reference: None,
    };
    let cfg = RouterConfig::with_learner(RegressorSpec::from_name("ridge").unwrap());
    let trained = train_multi(RouterKind::MetaDr, &data, &spec, &cfg, Seed(42)).unwrap();
    let dir = tmp_dir("kfit-roundtrip");
    let (saved, out) = (dir.join("r.mr"), dir.join("route.csv"));
    let v = fit(&train, &saved, &[]);
    assert_eq!(v["models"], serde_json::json!(["m0", "m1", "m2"]));
    assert_eq!(v["reference"], "m0");
    assert_eq!(v["sources"], serde_json::json!(["judge0", "judge1"]));
    assert_eq!(v["queries"], n_train);
    assert_eq!(v["per_model"]["m1"]["gold"], 60);
    assert_eq!(v["per_model"]["m1"]["pref"]["judge1"], n_train);
    assert_eq!(v["per_model"]["m1"]["diagnostics"]["n_gold"], 60);
    assert!(v["per_model"]["m0"]["scale"].is_null());
    assert_eq!(v["lambda"], 0.0);
    let router = MultiRouter::load(&saved).unwrap();
    let xt = features(&w, n_train..N);
    let (lib, cli) = (trained.predict(xt.as_ref()).unwrap(), router.scores_batch(xt.as_ref()).unwrap());
    for k in 0..3 {
        assert_eq!(bits(lib.col_as_slice(k)), bits(cli.col_as_slice(k)), "model m{k}");
    }
    // route: the same scores, row by row, and the decision of choose_at at lambda 0
    route(&saved, &test, &out, &[]);
    let (choice, psi, cost) = decisions(&out, &router.models);
    for i in 0..HOLDOUT {
        let row: Vec<f64> = (0..3).map(|k| cli[(i, k)]).collect();
        assert_eq!(bits(&row), bits(&(0..3).map(|k| psi[(i, k)]).collect::<Vec<_>>()), "row {i}");
        assert_eq!(choice[i], router.choose_at(&row, None, 0.0).unwrap(), "row {i}");
        assert_eq!(cost[i], [1.0, 10.0, 4.0][choice[i]]);
    }
    // at lambda 0 the estimated best model; every model chosen somewhere in this world
    assert!((0..3).all(|k| choice.contains(&k)), "{choice:?}");
}

#[test]
fn budgets_meet_their_targets_and_route_decides_as_choose_at() {
    let (train, test) = files("budget");
    let w = world();
    let dir = tmp_dir("kfit-budget");
    let (saved, out) = (dir.join("r.mr"), dir.join("route.csv"));
    // fit: calibrated on the training queries; the smallest lambda that meets the target
    let v = fit(&train, &saved, &["--budget", "3"]);
    let b = &v["budget"];
    assert_eq!(b["target_kind"], "mean_cost");
    let realised = b["realised"].as_f64().unwrap();
    assert!(realised <= 3.0 && realised > 2.9, "{b}");
    let router = MultiRouter::load(&saved).unwrap();
    assert_eq!(v["lambda"].as_f64().unwrap().to_bits(), router.lambda.to_bits());
    let psi_train = router.scores_batch(features(&w, 0..N - HOLDOUT).as_ref()).unwrap();
    let costs = [1.0, 10.0, 4.0];
    let again = calibrate_lambda(psi_train.as_ref(), CostTable::PerModel(&costs), BudgetTarget::MeanCost(3.0)).unwrap();
    assert_eq!(again.lambda.to_bits(), router.lambda.to_bits());
    let mean_at = |psi: &Mat<f64>, l: f64| {
        let m = psi.nrows();
        (0..m).map(|i| costs[router.choose_at(&[psi[(i, 0)], psi[(i, 1)], psi[(i, 2)]], None, l).unwrap()]).sum::<f64>()
            / m as f64
    };
    let below = f64::from_bits(router.lambda.to_bits() - 1);
    assert!(mean_at(&psi_train, router.lambda) <= 3.0 && mean_at(&psi_train, below) > 3.0);
    // route at the stored lambda: choose_at of scores_batch, row by row
    let xt = features(&w, N - HOLDOUT..N);
    let batch = router.scores_batch(xt.as_ref()).unwrap();
    let stdout = route(&saved, &test, &out, &[]);
    assert!(stdout.contains("(stored, calibrated at fit)"), "{stdout}");
    let (choice, _, _) = decisions(&out, &router.models);
    for (i, &c) in choice.iter().enumerate() {
        let row = [batch[(i, 0)], batch[(i, 1)], batch[(i, 2)]];
        assert_eq!(c, router.choose(&row, None).unwrap(), "row {i}");
    }
    // route --budget: calibrated on the routed queries, realised <= target, printed
    let stdout = route(&saved, &test, &out, &["--budget", "2.5"]);
    let (choice, _, cost) = decisions(&out, &router.models);
    let mean = cost.iter().sum::<f64>() / cost.len() as f64;
    let lambda = printed_lambda(&stdout);
    assert!(mean <= 2.5 && mean_at(&batch, f64::from_bits(lambda.to_bits() - 1)) > 2.5, "{stdout}");
    assert!(stdout.contains(&format!("mean cost {mean:.6}")), "{stdout}");
    assert!(stdout.contains("budget: mean cost target 2.5, realised"), "{stdout}");
    for (i, &c) in choice.iter().enumerate() {
        assert_eq!(c, router.choose_at(&[batch[(i, 0)], batch[(i, 1)], batch[(i, 2)]], None, lambda).unwrap());
    }
    // --share m1=0.1: at most a tenth of the queries go to m1 (the dearest)
    let stdout = route(&saved, &test, &out, &["--share", "m1=0.1"]);
    let (choice, _, _) = decisions(&out, &router.models);
    let share = choice.iter().filter(|&&c| c == 1).count() as f64 / choice.len() as f64;
    assert!(share <= 0.1 && share > 0.05, "{share} {stdout}");
    // --lambda overrides the stored one; a huge lambda sends everything to the cheapest model
    route(&saved, &test, &out, &["--lambda", "1e9"]);
    assert!(decisions(&out, &router.models).0.iter().all(|&c| c == 0));
}

#[test]
fn pca_scores_are_the_gains_of_the_components_and_per_query_costs_change_decisions() {
    let (train, test) = files("pca");
    let w = world();
    let dir = tmp_dir("kfit-pca");
    let (saved, out) = (dir.join("r.mr"), dir.join("route.csv"));
    let v = fit(&train, &saved, &["--pca", "6"]);
    assert_eq!(v["pca"], 6);
    let router = MultiRouter::load(&saved).unwrap();
    let pca = router.pca.as_ref().unwrap();
    let xt = features(&w, N - HOLDOUT..N);
    let z = pca.transform(xt.as_ref()).unwrap();
    let batch = router.scores_batch(xt.as_ref()).unwrap();
    for k in 1..3 {
        let g = router.gains[k].as_ref().unwrap();
        assert_eq!(g.psi.n_features(), 6);
        let by_hand: Vec<f64> = g.psi.predict(z.as_ref()).unwrap().iter().map(|v| v / g.scale).collect();
        assert_eq!(bits(&by_hand), bits(batch.col_as_slice(k)), "model m{k}");
    }
    // the PCA was fitted on the 300 unique queries: refitting it by hand gives the same scores
    let p = meta_router::learn::pca::PcaParams { n_components: 6, ..Default::default() };
    let again = p.fit(features(&w, 0..N - HOLDOUT).as_ref(), Seed(42).child(meta_router::rng::stream::SKETCH)).unwrap();
    assert_eq!(bits(again.transform(xt.as_ref()).unwrap().col_as_slice(0)), bits(z.col_as_slice(0)));
    route(&saved, &test, &out, &[]);
    let (_, psi, _) = decisions(&out, &router.models);
    // the row path (one-row PCA transform) and the batch path agree to rounding, not to the bit
    for i in 0..HOLDOUT {
        for k in 0..3 {
            assert!((psi[(i, k)] - batch[(i, k)]).abs() <= 1e-12 * (1.0 + batch[(i, k)].abs()), "row {i}");
        }
    }

    // per-query costs: m1 free on even rows, m2 dear on odd rows; at lambda 0.05 each row
    // takes argmax psi_hat_k - 0.05 cost_k with its own costs
    let (h, rows) = read(&test);
    let costed = dir.join("costed.csv");
    let mut text = String::from("x1");
    for j in 2..=50 {
        text += &format!(",x{j}");
    }
    text += ",price_m0,price_m1,price_m2\n";
    let qc: Vec<[f64; 3]> =
        (0..HOLDOUT).map(|i| if i % 2 == 0 { [1.0, 0.0, 4.0] } else { [1.0, 10.0, 40.0] }).collect();
    for (i, r) in rows.iter().enumerate() {
        let xs: Vec<&str> = (1..=50).map(|j| r[col(&h, &format!("x{j}"))].as_str()).collect();
        text += &format!("{},{},{},{}\n", xs.join(","), qc[i][0], qc[i][1], qc[i][2]);
    }
    std::fs::write(&costed, text).unwrap();
    route(&saved, &costed, &out, &["--cost-cols", "price_*", "--lambda", "0.05"]);
    let (choice, psi, cost) = decisions(&out, &router.models);
    let mut changed = 0;
    for i in 0..HOLDOUT {
        let u: Vec<f64> = (0..3).map(|k| psi[(i, k)] - 0.05 * qc[i][k]).collect();
        let best = (0..3).fold(0, |b, k| if u[k] > u[b] || (u[k] == u[b] && qc[i][k] < qc[i][b]) { k } else { b });
        assert_eq!(choice[i], best, "row {i}");
        assert_eq!(cost[i], qc[i][best]);
        let at_stored = router.choose_at(&[psi[(i, 0)], psi[(i, 1)], psi[(i, 2)]], None, 0.05).unwrap();
        changed += usize::from(at_stored != best);
    }
    assert!(changed > 10, "{changed} decisions changed by the per-query costs");
    assert!(choice.iter().step_by(2).filter(|&&c| c == 1).count() > 25, "m1 free on even rows");

    // a router fitted with --per-query-costs needs them at route time
    let pq = dir.join("pq.mr");
    let v = run_json(
        bin()
            .args([
                "fit",
                "--json",
                "--learner",
                "ridge",
                "--model-col",
                "model",
                "--per-query-costs",
                "--reference",
                "m0",
            ])
            .arg("--data")
            .arg(&train)
            .arg("-o")
            .arg(&pq),
    );
    assert!(v["per_model"]["m1"]["cost"].is_null());
    let e = fails(bin().args(["route", "--model"]).arg(&pq).arg("--data").arg(&test).arg("-o").arg(&out));
    assert!(e.contains("per-query costs") && e.contains("--cost-cols"), "{e}");
    route(&pq, &costed, &out, &["--cost-cols", "price_*", "--budget", "2"]);
    let (_, _, cost) = decisions(&out, &router.models);
    assert!(cost.iter().sum::<f64>() / HOLDOUT as f64 <= 2.0);
}

/// Runs a command that must fail with our one-line error; returns stderr.
fn fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{cmd:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_long_format_input_is_named_by_line_column_and_model() {
    let dir = tmp_dir("kfit-bad");
    let head = "query,model,source,label,x1,x2\n";
    // 12 queries, gold and judge labels of both models, features on each query's first row
    let good: String = (0..12)
        .map(|q| {
            let (x1, x2) = (q as f64 / 7.0, (q * q % 5) as f64);
            format!(
                "q{q},a,gold,{},{x1},{x2}\nq{q},b,gold,{},,\nq{q},a,jA,{},,\nq{q},b,jA,{},,\n",
                q % 3,
                q % 4,
                q % 2,
                (q + 1) % 3
            )
        })
        .collect();
    let next = good.lines().count() + 2;
    let fit_on = |name: &str, body: &str, extra: &[&str]| {
        let p = dir.join(name);
        std::fs::write(&p, format!("{head}{body}")).unwrap();
        let mut cmd = bin();
        cmd.args(["fit", "--learner", "ridge", "--model-col", "model", "--data"]).arg(&p).args(extra);
        cmd.arg("-o").arg(dir.join("out.mr"));
        fails(&mut cmd)
    };
    let costs = ["--costs", "a=1,b=2"];
    let (l, l1) = (next, next + 1);
    let cases: Vec<(&str, String, Vec<&str>, String)> = vec![
        (
            "dup.csv",
            format!("{good}q2,b,jA,3,,\n"),
            costs.to_vec(),
            format!("line {l}, column `source`: lines 13 and {l} both label query `q2`, model `b`, source `jA`"),
        ),
        (
            "feat.csv",
            format!("{good}q20,a,jA,3,1,2\nq20,b,jA,3,1,2.5\n"),
            costs.to_vec(),
            format!("line {l1}, column `x2`: lines {l} and {l1} give query `q20` different features (`x2`: 2 and 2.5)"),
        ),
        (
            "nofeat.csv",
            format!("{good}q20,a,jA,3,,\n"),
            costs.to_vec(),
            format!("line {l}, column `query`: query `q20` (first on this line) has no row with its features"),
        ),
        (
            "nocost.csv",
            format!("{good}q20,c,jA,3,1,1\n"),
            costs.to_vec(),
            format!("line {l}, column `model`: model `c` is not in --costs (models: a, b)"),
        ),
        (
            "absent.csv",
            good.clone(),
            vec!["--costs", "a=1,b=2,z=3"],
            "`--costs` for long-format data: model `z` has no label".into(),
        ),
        (
            "nan.csv",
            format!("{good}q20,a,jA,nan,1,1\n"),
            costs.to_vec(),
            format!("line {l}, column `label`: missing or NaN value"),
        ),
        (
            "inf.csv",
            format!("{good}q20,a,jA,-inf,1,1\n"),
            costs.to_vec(),
            format!("line {l}, column `label`: infinite value"),
        ),
        ("costs.csv", good.clone(), vec![], "routing among models needs their costs".into()),
        ("neg.csv", good.clone(), vec!["--costs", "a=1,b=-2"], "the cost of model `b` must be finite and >= 0".into()),
        ("twice.csv", good.clone(), vec!["--costs", "a=1,b=2,a=3"], "model `a` is given twice".into()),
        (
            "src.csv",
            good.clone(),
            vec!["--costs", "a=1,b=2", "--sources", "jB"],
            "line 4, column `source`: source `jA` is neither the gold source `gold` nor a judge of --sources (jB)"
                .into(),
        ),
        (
            "ref.csv",
            good.clone(),
            vec!["--costs", "a=1,b=2", "--reference", "zz"],
            "unknown reference model `zz`".into(),
        ),
        (
            "share.csv",
            good.clone(),
            vec!["--costs", "a=1,b=2", "--share", "zz=0.5"],
            "`zz` is not a model of the router".into(),
        ),
        ("weight.csv", good.clone(), vec!["--costs", "a=1,b=2", "--weight-col", "x1"], "`--weight-col` for fit".into()),
        (
            "pqb.csv",
            good.clone(),
            vec!["--per-query-costs", "--reference", "a", "--budget", "1"],
            "calibrate the budget at `route` time".into(),
        ),
    ];
    // the good file fits
    let p = dir.join("good.csv");
    std::fs::write(&p, format!("{head}{good}")).unwrap();
    run_ok(
        bin()
            .args(["fit", "--learner", "ridge", "--model-col", "model", "--data"])
            .arg(&p)
            .args(costs)
            .arg("-o")
            .arg(dir.join("good.mr")),
    );
    for (name, body, extra, want) in &cases {
        let e = fit_on(name, body, extra);
        assert!(e.contains(want.as_str()), "{name}: {e}");
        assert_eq!(e.lines().count(), 1, "{name}: {e}");
    }
    // a model without gold labels (where the reference has one), from the trainer
    let body: String = good.lines().filter(|l| !l.contains(",b,gold,")).map(|l| format!("{l}\n")).collect();
    let e = fit_on("nogold.csv", &body, &costs);
    assert!(e.contains("model `b` has no gold labels"), "{e}");
    // two-model flags with --model-col, K-model flags without it: usage errors naming the flag
    let p = dir.join("dup.csv");
    for (extra, flag) in
        [(vec!["--model-col", "model", "--usage", "0.5"], "--usage"), (vec!["--costs", "a=1"], "--model-col")]
    {
        let out = bin().args(["fit", "--data"]).arg(&p).args(&extra).arg("-o").arg(dir.join("o.mr")).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag), "{extra:?}");
    }
}

#[test]
fn flags_of_one_kind_of_router_are_errors_with_the_other() {
    let (train, test) = files("flags");
    let dir = tmp_dir("kfit-flags");
    let (saved, out) = (dir.join("r.mr"), dir.join("o.csv"));
    fit(&train, &saved, &["--lambda", "0.01"]);
    assert_eq!(MultiRouter::load(&saved).unwrap().lambda, 0.01);
    for (flag, value) in [("--usage", "0.5"), ("--threshold", "0"), ("--cost-primary-col", "x1")] {
        let mut cmd = bin();
        cmd.args(["route", "--model"]).arg(&saved).arg("--data").arg(&test).args([flag, value]);
        if flag == "--cost-primary-col" {
            cmd.args(["--lambda", "1"]);
        }
        let e = fails(cmd.arg("-o").arg(&out));
        assert!(e.contains(&format!("`{flag}` for route: applies to a two-model router")), "{e}");
    }
    let e = fails(
        bin()
            .args(["route", "--model"])
            .arg(&saved)
            .arg("--data")
            .arg(&test)
            .args(["--cost-cols", "nope_*", "-o"])
            .arg(&out),
    );
    assert!(e.contains("no column `nope_m0`"), "{e}");
    // a two-model router: the K-model flags are refused, and it routes as before
    let two = dir.join("two.csv");
    run_ok(bin().args(["simulate", "--n", "300", "--scenario", "selected_gold", "-o"]).arg(&two));
    let r2 = dir.join("two.mr");
    run_ok(bin().args(["fit", "--learner", "ridge", "--features", "x*", "--data"]).arg(&two).arg("-o").arg(&r2));
    for (flag, value) in [("--budget", "3"), ("--share", "m1=0.2"), ("--cost-cols", "cost_*")] {
        let mut cmd = bin();
        cmd.args(["route", "--model"]).arg(&r2).arg("--data").arg(&two).args([flag, value]).arg("-o").arg(&out);
        let e = fails(&mut cmd);
        assert!(e.contains(&format!("`{flag}` for route: applies to a router among K models")), "{e}");
    }
    let stdout = route(&r2, &two, &out, &["--usage", "0.3"]);
    assert!(stdout.contains("realised usage 0.3000"), "{stdout}");
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("psi_hat,decision\n"));
}

#[test]
fn simulate_long_leaves_the_wide_table_as_it_was() {
    let dir = tmp_dir("kfit-sim");
    let (plain, with_long, long) = (dir.join("plain.csv"), dir.join("with.csv"), dir.join("long.csv"));
    let base = ["simulate", "--models", "3", "--judges", "1", "--n", "50", "--seed", "9", "-o"];
    run_ok(bin().args(base).arg(&plain));
    run_ok(bin().args(base).arg(&with_long).arg("--long").arg(&long).args(["--gold-share", "0.1"]));
    assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&with_long).unwrap());
    let (h, rows) = read(&long);
    assert_eq!(h.len(), 4 + 50);
    assert_eq!(rows.len(), 50 * 3 + 5 * 3, "one judge everywhere, gold on 5 queries");
    assert!(rows.iter().all(|r| r[2] == "gold" || r[2] == "judge0"));
    let e = fails(bin().args(base).arg(&plain).arg("--long").arg(&long).args(["--holdout", "50"]));
    assert!(e.contains("--holdout"), "{e}");
    let e = fails(bin().args(base).arg(&plain).arg("--long").arg(&long).args(["--gold-share", "1.5"]));
    assert!(e.contains("`--gold-share` for simulate: must lie in [0, 1]"), "{e}");
}
