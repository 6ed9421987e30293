//! The serving router and the `fit` / `route` commands: save/load, decisions, bad input.

use meta_router::learn::RegressorSpec;
use meta_router::router::{Decision, Router, Threshold};
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router};
use meta_router::{Error, Seed};

use crate::causal::{Spec, simulate};
use crate::util::{bin, tmp};

fn trained_router() -> (Router, crate::causal::Sim) {
    let sim =
        simulate(Spec { n: 400, d: 3, n_gold: 60, scale: 1.5, noise: 0.3, seed: 21 }, |x| 0.3 * x[0], |x| 0.2 * x[1]);
    let cfg = RouterConfig::default();
    let t = train_router(RouterKind::MetaDr, &sim.data(), &cfg, Seed(4)).unwrap();
    (Router::new(t, vec!["a".into(), "b".into(), "c".into()], None).unwrap(), sim)
}

#[test]
fn save_load_scores_bit_identically_and_decides() {
    let (mut r, sim) = trained_router();
    let report = r.calibrate_usage(sim.x.as_ref(), 0.25).unwrap();
    assert_eq!(report.target, 0.25);
    let p = tmp("r.mr");
    r.save(&p).unwrap();
    let back = Router::load(&p).unwrap();
    assert_eq!(back.feature_names, r.feature_names);
    assert_eq!(back.threshold, r.threshold);
    let mut row = [0.0; 3];
    for i in 0..sim.x.nrows() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = sim.x[(i, j)];
        }
        assert_eq!(r.score(&row).unwrap().to_bits(), back.score(&row).unwrap().to_bits());
        assert_eq!(r.decide(&row).unwrap(), back.decide(&row).unwrap());
    }
    assert!(matches!(r.score(&[1.0, 2.0]), Err(Error::Shape { .. })));
    assert!(r.score(&[1.0, f64::NAN, 0.0]).is_err());
    r.set_threshold(Threshold::direct(f64::INFINITY).unwrap());
    assert_eq!(r.decide(&row).unwrap(), Decision::Alternative);
    r.set_threshold(Threshold::direct(f64::NEG_INFINITY).unwrap());
    assert_eq!(r.decide(&row).unwrap(), Decision::Primary);
    // a file from another format version is refused with both versions named
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    let e = Router::load(&p).unwrap_err();
    assert!(e.to_string().contains("format version 7"), "{e}");
    let e = meta_router::persist::save(&p, meta_router::persist::Kind::Regressor, &r.psi)
        .and_then(|_| Router::load(&p))
        .unwrap_err();
    assert!(e.to_string().contains("expected a Router"), "{e}");
    let spec = RegressorSpec::from_name("constant").unwrap();
    assert_eq!(spec.name(), "constant");
}

#[test]
fn a_crafted_router_file_is_refused_on_load_not_at_each_query() {
    use meta_router::persist::{Kind, from_bytes, to_bytes};
    let (r, _) = trained_router();
    let load = |r: &Router| from_bytes::<Router>(&to_bytes(Kind::Router, r).unwrap(), Kind::Router);
    assert!(load(&r).is_ok());
    let mut names_short = r.clone();
    names_short.feature_names.pop();
    let e = load(&names_short).unwrap_err();
    assert!(matches!(e, Error::ModelFile { .. }) && e.to_string().contains("feature names vs model features"), "{e}");
    let mut nan_threshold = r.clone();
    nan_threshold.threshold.w = f64::NAN;
    assert!(matches!(load(&nan_threshold), Err(Error::ModelFile { .. })));
    let mut zero_scale = r;
    zero_scale.scale = 0.0;
    assert!(matches!(load(&zero_scale), Err(Error::ModelFile { .. })));
}

/// Writes a deployment CSV (features, source, label) from a simulation; returns its path.
fn deploy_csv(name: &str, edit: impl Fn(usize, &mut Vec<String>)) -> std::path::PathBuf {
    let sim = simulate(Spec { n: 300, d: 2, n_gold: 40, scale: 1.0, noise: 0.3, seed: 5 }, |x| 0.3 * x[0], |_| 0.2);
    let mut s = String::from("x1,x2,source,label\n");
    for i in 0..300 {
        let mut f = vec![
            sim.x[(i, 0)].to_string(),
            sim.x[(i, 1)].to_string(),
            if sim.is_gold[i] == 1.0 { "gold".into() } else { "pref".into() },
            sim.label[i].to_string(),
        ];
        edit(i, &mut f);
        s.push_str(&f.join(","));
        s.push('\n');
    }
    let p = tmp(name);
    std::fs::write(&p, s).unwrap();
    p
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = bin().args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn fit_and_route_happy_path() {
    let train = deploy_csv("train.csv", |_, _| {});
    let model = tmp("cli.mr");
    let dec = tmp("dec.csv");
    for (method, pca) in [("dr", "2"), ("r", "1"), ("pooled", "2")] {
        let (ok, out, err) = run(&[
            "fit",
            "--data",
            train.to_str().unwrap(),
            "--method",
            method,
            "--align",
            "wasserstein",
            "--folds",
            "4",
            "--pca",
            pca,
            "-o",
            model.to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
        assert!(out.contains("40 gold, 260 preference") && out.contains("scale c"), "{out}");
    }
    let (ok, out, err) = run(&["fit", "--data", train.to_str().unwrap(), "--json", "-o", model.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["router"], "meta_dr");
    assert_eq!(v["diagnostics"]["n_gold"], 40);
    assert!(v["diagnostics"]["final_stage"]["chosen"].is_string(), "{v}");
    let (ok, out, err) = run(&[
        "route",
        "--model",
        model.to_str().unwrap(),
        "--data",
        train.to_str().unwrap(),
        "--usage",
        "0.3",
        "-o",
        dec.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("realised usage"), "{out}");
    let text = std::fs::read_to_string(&dec).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("psi_hat,decision"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300);
    assert!(rows.iter().all(|l| l.ends_with(",primary") || l.ends_with(",alternative")));
}

#[test]
fn fit_and_route_bad_input_are_one_line_errors() {
    let model = tmp("bad.mr");
    let m = model.to_str().unwrap();
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (deploy_csv("nogold.csv", |_, f| f[2] = "pref".into()), "no gold rows"),
        (deploy_csv("nopref.csv", |_, f| f[2] = "gold".into()), "no preference rows"),
        (
            deploy_csv("unknown.csv", |i, f| {
                if i == 9 {
                    f[2] = "silver".into()
                }
            }),
            "unknown source `silver`",
        ),
        (
            deploy_csv("nan.csv", |i, f| {
                if i == 4 {
                    f[3] = "NaN".into()
                }
            }),
            "line 6",
        ),
    ];
    for (p, want) in &cases {
        let (ok, _, err) = run(&["fit", "--data", p.to_str().unwrap(), "-o", m]);
        assert!(!ok);
        assert!(err.contains(want), "want `{want}`: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let good = deploy_csv("good.csv", |_, _| {});
    let g = good.to_str().unwrap();
    assert!(run(&["fit", "--data", g, "-o", m]).0);
    let out = tmp("o.csv");
    let o = out.to_str().unwrap();
    let (ok, _, err) = run(&["route", "--model", m, "--data", g, "--usage", "1.5", "-o", o]);
    assert!(!ok && err.contains("[0, 1]"), "{err}");
    let q = tmp("q.csv");
    std::fs::write(&q, "x1,x3\n1,2\n").unwrap();
    let (ok, _, err) = run(&["route", "--model", m, "--data", q.to_str().unwrap(), "-o", o]);
    assert!(!ok && err.contains("no column `x2`"), "{err}");
    let (ok, _, err) = run(&["route", "--model", g, "--data", g, "-o", o]);
    assert!(!ok && err.contains("not a meta-router file"), "{err}");
    let (ok, out, err) = run(&["route", "--model", m, "--data", g, "--threshold", "1e9", "-o", o]);
    assert!(ok && out.contains("0 primary"), "{out}{err}");
    let mut bytes = std::fs::read(&model).unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let older = tmp("v2.mr");
    std::fs::write(&older, bytes).unwrap();
    let (ok, _, err) = run(&["route", "--model", older.to_str().unwrap(), "--data", g, "-o", o]);
    assert!(!ok && err.contains("format version 2"), "{err}");
    let (ok, _, err) = run(&["fit", "--data", g, "--method", "magic", "-o", m]);
    assert!(!ok && err.contains("invalid value 'magic' for '--method"), "{err}");
    let (ok, _, err) = run(&["fit", "--data", g, "--align", "w9", "-o", m]);
    assert!(!ok && err.contains("wasserstein"), "{err}");
}

#[test]
fn a_pca_router_scores_raw_features_one_query_at_a_time() {
    use meta_router::learn::pca::PcaParams;
    let sim =
        simulate(Spec { n: 500, d: 6, n_gold: 60, scale: 1.0, noise: 0.3, seed: 23 }, |x| 0.3 * x[0], |x| 0.2 * x[1]);
    let pca = PcaParams { n_components: 3, ..Default::default() }.fit(sim.x.as_ref(), Seed(1)).unwrap();
    let z = pca.transform(sim.x.as_ref()).unwrap();
    let data = RouterData { x: z.as_ref(), ..sim.data() };
    let t = train_router(RouterKind::MetaR, &data, &RouterConfig::default(), Seed(2)).unwrap();
    let names: Vec<String> = (0..6).map(|j| format!("e{j}")).collect();
    assert!(Router::new(t.clone(), names[..3].to_vec(), Some(pca.clone())).is_err());
    let r = Router::new(t, names, Some(pca)).unwrap();
    let p = tmp("pca.mr");
    r.save(&p).unwrap();
    let back = Router::load(&p).unwrap();
    let mut batch = vec![0.0; 500];
    back.score_batch(sim.x.as_ref(), &mut batch).unwrap();
    let mut scratch = vec![0.0; back.scratch_len()];
    assert_eq!(scratch.len(), 3);
    let mut row = [0.0; 6];
    for (i, &b) in batch.iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = sim.x[(i, j)];
        }
        let one = back.score_into(&row, &mut scratch).unwrap();
        assert!((one - b).abs() <= 1e-12 * b.abs().max(1.0), "row {i}: {one} vs {b}");
        assert_eq!(one.to_bits(), r.score(&row).unwrap().to_bits());
    }
    assert!(back.score_into(&row, &mut [0.0; 2]).is_err());
}

/// Costs are weighed against `psi_hat` on the gold scale, so the same costs route the same way
/// under every alignment. `gold_only` with ridge fits `c y` under `std` and `y` under `none`;
/// ridge is linear in its target, so the two models differ by exactly the factor `c` (~2
/// here, the preference labels' scale) and the gold-scale scores agree to rounding. Were the
/// scores left on the preference scale, the `std` router would double every cost threshold.
#[test]
fn the_same_costs_route_the_same_way_under_every_alignment() {
    use meta_router::causal::align::Align;
    let sim = simulate(
        Spec { n: 400, d: 3, n_gold: 150, scale: 2.0, noise: 0.3, seed: 8 },
        |x| 0.5 * x[0] + 0.2,
        |x| 0.2 * x[1],
    );
    let names = vec!["a".into(), "b".into(), "c".into()];
    let router = |align: Align| {
        let mut cfg = RouterConfig::with_learner(RegressorSpec::from_name("ridge").unwrap());
        cfg.align = align;
        let t = train_router(RouterKind::GoldOnly, &sim.data(), &cfg, Seed(3)).unwrap();
        Router::new(t, names.clone(), None).unwrap()
    };
    let (none, std) = (router(Align::None), router(Align::Std));
    assert_eq!(none.scale, 1.0);
    assert!(std.scale > 1.6 && std.scale < 2.4, "c = {}", std.scale);
    let mut routed_differently_on_the_preference_scale = 0;
    let (mut primary, mut checked) = (0, 0);
    for lambda in [0.0, 0.05, 0.1, 0.2, 0.4] {
        let w = Threshold::from_costs(lambda, 3.0, 1.0).unwrap().w;
        for i in 0..sim.x.nrows() {
            let row = [sim.x[(i, 0)], sim.x[(i, 1)], sim.x[(i, 2)]];
            let (a, b) = (none.score(&row).unwrap(), std.score(&row).unwrap());
            assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()), "row {i}: {a} vs {b}");
            if (a - w).abs() < 1e-9 {
                continue; // a tie at the threshold: rounding may decide either way
            }
            let d = none.decide_with_costs(&row, lambda, 3.0, 1.0).unwrap();
            assert_eq!(d, std.decide_with_costs(&row, lambda, 3.0, 1.0).unwrap(), "row {i}, lambda {lambda}");
            checked += 1;
            primary += (d == Decision::Primary) as usize;
            routed_differently_on_the_preference_scale += ((std.scale * b > w) != (a > w)) as usize;
        }
    }
    assert!(primary > checked / 10 && primary < checked * 9 / 10, "{primary} of {checked}");
    assert!(routed_differently_on_the_preference_scale > 50, "{routed_differently_on_the_preference_scale}");
}

/// A router file of the older kind (thresholds meant for preference-scale scores) loads with its
/// direct or usage threshold divided by `c`, so it routes as it did; a cost threshold is kept.
#[test]
fn an_older_preference_scale_router_file_routes_as_it_did() {
    use meta_router::persist::{Kind, to_bytes};
    use meta_router::router::ThresholdRule;
    let (mut r, sim) = trained_router();
    assert!((r.scale - 1.0).abs() > 0.05, "c = {}", r.scale);
    r.calibrate_usage(sim.x.as_ref(), 0.3).unwrap();
    let c = r.scale;
    let mut old = r.clone();
    old.threshold.w *= c;
    if let ThresholdRule::Usage(u) = &mut old.threshold.rule {
        u.threshold *= c;
    }
    let back = Router::from_bytes(&to_bytes(Kind::RouterPreferenceScale, &old).unwrap()).unwrap();
    assert!((back.threshold.w - r.threshold.w).abs() <= 1e-12 * r.threshold.w.abs().max(1.0));
    let mut row = [0.0; 3];
    let mut agree = 0;
    for i in 0..sim.x.nrows() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = sim.x[(i, j)];
        }
        agree += (back.decide(&row).unwrap() == r.decide(&row).unwrap()) as usize;
    }
    assert!(agree >= sim.x.nrows() - 1, "{agree} of {}", sim.x.nrows());
    let mut costs = r.clone();
    costs.set_threshold(Threshold::from_costs(0.5, 3.0, 1.0).unwrap());
    let back = Router::from_bytes(&to_bytes(Kind::RouterPreferenceScale, &costs).unwrap()).unwrap();
    assert_eq!(back.threshold, costs.threshold);
    // today's files are of the current kind and load unchanged
    assert_eq!(Router::from_bytes(&r.to_bytes().unwrap()).unwrap().threshold, r.threshold);
}
