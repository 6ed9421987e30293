//! The Monte-Carlo study end to end: the issue's acceptance test on fewer rounds, bit-identical
//! outputs for any thread count, the CLI's files, and its errors.

use meta_router::Seed;
use meta_router::causal::FinalStage;
use meta_router::eval::{CurveProtocol, StudyConfig, StudyData, StudyRouter, run_study};
use meta_router::learn::RegressorSpec;
use meta_router::router::{Protocol, RouterConfig};
use meta_router::sim::SimParams;

use crate::util::bin;

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mr-study-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Ridge everywhere; the final stage a ridge whose alpha is chosen by leave-one-out among
/// 10..10^4 (the default final stage also tries shallow forests and boosting, which is slower).
fn ridge_config() -> RouterConfig {
    let learner = RegressorSpec::from_name("ridge").unwrap();
    let mut fin = learner.clone();
    fin.set_param("alphas", "10,100,1000,10000").unwrap();
    let mut cfg = RouterConfig::with_learner(learner);
    cfg.delta.final_stage = FinalStage::Fixed(fin);
    cfg
}

#[test]
fn meta_routers_beat_the_baselines_on_the_simulator() {
    let data: StudyData = SimParams::default().simulate(Seed(2026)).unwrap().into();
    let routers =
        StudyRouter::parse_list("meta_r,meta_dr,pooled,pref_only,gold_only,mean_shift,all_gold,random").unwrap();
    let cfg = StudyConfig { rounds: 20, routers, router: ridge_config(), ..Default::default() };
    let summary = run_study(&data, &cfg, Seed(7)).unwrap().summary().unwrap();
    let get = |name: &str| summary.routers.iter().find(|r| r.name == name).unwrap();
    for meta in ["meta_r", "meta_dr"] {
        let m = get(meta);
        for base in ["pooled", "pref_only", "gold_only", "random"] {
            let b = get(base);
            let margin = 2.0 * (m.auc_se.powi(2) + b.auc_se.powi(2)).sqrt();
            assert!(
                m.auc - b.auc > margin,
                "{meta} {} vs {base} {} (margin {margin})\n{}",
                m.auc,
                b.auc,
                summary.table()
            );
        }
        // The heterogeneous bias is estimated better than by a global shift.
        assert!(m.delta_rmse.unwrap() < 0.85 * get("mean_shift").delta_rmse.unwrap(), "{}", summary.table());
        // No assertion that `all_gold` beats the meta-routers: it is not a theorem (lifted
        // preference labels can be less noisy than gold ones, as on `gold_10pct`).
    }
    // Random routing gains nothing on average.
    assert!(get("random").auc.abs() < 3.0 * get("random").auc_se + 1e-3, "{}", summary.table());
}

/// The acceptance test on the default pipeline, not only on ridge: forests for psi and the
/// nuisances, the `Auto` final stage, on a small simulated study. The default `meta_dr` must
/// beat the best baseline (pooled, pref_only, gold_only, mean_shift) by more than two paired
/// standard errors over the same rounds.
#[test]
fn the_default_pipeline_beats_the_best_baseline_on_a_small_study() {
    let data: StudyData = SimParams { n: 1800, ..Default::default() }.simulate(Seed(31)).unwrap().into();
    let routers = StudyRouter::parse_list("meta_dr,pooled,pref_only,gold_only,mean_shift").unwrap();
    let cfg = StudyConfig { n_test: 300, rounds: 8, routers, ..Default::default() };
    assert_eq!(cfg.router.learner.name(), "rf");
    assert!(matches!(cfg.router.delta.final_stage, FinalStage::Auto));
    let s = run_study(&data, &cfg, Seed(5)).unwrap().summary().unwrap();
    let m = s.routers.iter().find(|r| r.name == "meta_dr").unwrap();
    let (d, se) = (m.paired.diff_vs_best.unwrap(), m.paired.diff_vs_best_se.unwrap());
    assert!(d > 2.0 * se && se > 0.0, "meta_dr vs the best baseline: {d} (se {se})\n{}", s.table());
}

#[test]
fn outputs_are_bit_identical_for_any_thread_count() {
    let data: StudyData = SimParams { n: 900, ..Default::default() }.simulate(Seed(5)).unwrap().into();
    let cfg = StudyConfig { n_gold: 60, n_test: 200, rounds: 4, router: ridge_config(), ..Default::default() };
    let mut files: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = Vec::new();
    for threads in crate::util::THREADS {
        let outcome = crate::util::pool(threads).install(|| run_study(&data, &cfg, Seed(11))).unwrap();
        let dir = tmp_dir(&format!("threads{threads}"));
        outcome.summary().unwrap().write_dir(&outcome, &dir, "determinism").unwrap();
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        files.push((read("summary.json"), read("curves.csv"), read("rounds.csv")));
    }
    assert!(files[0] == files[1] && files[0] == files[2]);
}

#[test]
fn paired_standard_errors_are_smaller_than_unpaired_ones() {
    let data: StudyData = SimParams { n: 1200, ..Default::default() }.simulate(Seed(9)).unwrap().into();
    let routers = StudyRouter::parse_list("meta_dr,pooled,pref_only,all_gold").unwrap();
    let cfg = StudyConfig { n_gold: 60, n_test: 300, rounds: 5, routers, router: ridge_config(), ..Default::default() };
    let s = run_study(&data, &cfg, Seed(3)).unwrap().summary().unwrap();
    let get = |name: &str| s.routers.iter().find(|r| r.name == name).unwrap();
    let (m, pooled) = (get("meta_dr"), get("pooled"));
    let unpaired = (m.auc_se.powi(2) + pooled.auc_se.powi(2)).sqrt();
    let paired = m.paired.diff_vs_pooled_se.unwrap();
    assert!(paired < unpaired, "paired {paired} vs unpaired {unpaired}\n{}", s.table());
    // The mean paired difference is the difference of the means.
    assert!((m.paired.diff_vs_pooled.unwrap() - (m.auc - pooled.auc)).abs() < 1e-12);
    let best = s.best_baseline.as_deref().unwrap();
    assert!(best == "pooled" || best == "pref_only");
    assert!((m.paired.diff_vs_best.unwrap() - (m.auc - get(best).auc)).abs() < 1e-12);
    assert!((get("all_gold").paired.gap_closed.unwrap() - 1.0).abs() < 1e-12, "{}", s.table());
}

#[test]
fn paper_protocol_measures_gains_over_its_random_permutation() {
    let data: StudyData = SimParams { n: 1500, ..Default::default() }.simulate(Seed(8)).unwrap().into();
    let router = RouterConfig { protocol: Protocol::Paper, ..ridge_config() };
    let routers = StudyRouter::parse_list("meta_dr,pooled,all_gold,random").unwrap();
    let cfg = StudyConfig { rounds: 4, routers, router, curves: CurveProtocol::Paper, ..Default::default() };
    let outcome = run_study(&data, &cfg, Seed(1)).unwrap();
    for round in &outcome.rounds {
        // Random against its own permutation gains exactly nothing.
        assert!(round.routers[3].curve.iter().all(|&v| v == 0.0));
        // Gold labels everywhere beat the random permutation on this data.
        assert!(meta_router::eval::curves::auc(&round.routers[2].curve) > 0.0);
    }
    let s = outcome.summary().unwrap();
    assert!(s.routers.iter().all(|r| r.auc.is_finite()));
}

#[test]
fn study_cli_writes_table_json_and_four_files() {
    let dir = tmp_dir("cli");
    let data = dir.join("sim.csv");
    let out = bin().args(["simulate", "--n", "800", "--seed", "3", "-o"]).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let header = std::fs::read_to_string(&data).unwrap().lines().next().unwrap().to_string();
    assert!(header.starts_with("x1,x2,") && header.ends_with("x50,gs,pb,psi,delta"), "{header}");

    let out = bin()
        .args(["study", "--data"])
        .arg(&data)
        .args(["--features", "x*", "--gold", "50", "--test", "200", "--rounds", "3", "--learner", "ridge"])
        .args(["--routers", "meta_dr,pooled,random", "--final-stage", "ridge", "--json", "--quiet", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rounds"], 3);
    assert!(v["seconds"].as_f64().unwrap() >= 0.0);
    for r in ["meta_dr", "pooled", "random"] {
        for k in ["auc", "auc_se", "peak_eg", "peak_rho", "oracle_fraction"] {
            assert!(v["routers"][r][k].is_number(), "{r}.{k} in {v}");
        }
    }
    assert!(v["routers"]["meta_dr"]["delta_rmse"].is_number() && v["routers"]["random"]["delta_rmse"].is_null());
    // Paired comparisons: pooled is the only baseline run, so it is also the best one; no all_gold, no gap.
    assert_eq!(v["best_baseline"], "pooled");
    for k in ["diff_vs_pooled", "diff_vs_pooled_se", "diff_vs_best", "diff_vs_best_se"] {
        assert!(v["routers"]["meta_dr"][k].is_number(), "meta_dr.{k} in {v}");
    }
    assert_eq!(v["routers"]["pooled"]["diff_vs_pooled"], 0.0);
    assert!(v["routers"]["meta_dr"]["gap_closed"].is_null());

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap();
    assert!(summary.get("seconds").is_none());
    assert_eq!(summary["routers"], v["routers"]);
    let curves = std::fs::read_to_string(dir.join("out/curves.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 4 * 101);
    let rounds = std::fs::read_to_string(dir.join("out/rounds.csv")).unwrap();
    assert_eq!(rounds.lines().count(), 1 + 3 * 4);
    let svg = std::fs::read_to_string(dir.join("out/efficiency_gain.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for r in ["meta_dr", "pooled", "random"] {
        assert!(svg.contains(&format!(r#"class="line" data-router="{r}""#)), "no line for {r}");
    }

    // The table form, on the built-in simulator.
    let out = bin()
        .args(["study", "--n", "700", "--gold", "40", "--test", "150", "--rounds", "2", "--learner", "ridge"])
        .args(["--routers", "meta_r,gold_only", "--final-stage", "ridge", "--final-param", "alpha=100", "--quiet"])
        .args(["--pca", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("meta_r") && table.contains("gold_only") && table.contains("oracle"), "{table}");
}

#[test]
fn study_cli_errors_name_the_fault() {
    let dir = tmp_dir("errors");
    let csv = dir.join("small.csv");
    let mut body = String::from("embd.PC1,embd.PC2,GL,PL\n");
    for i in 0..40 {
        body.push_str(&format!("{},{},{},{}\n", i, (i * 7) % 11, (i % 5) as f64 * 0.1, (i % 3) as f64 * 0.2));
    }
    std::fs::write(&csv, &body).unwrap();
    let nan_csv = dir.join("nan.csv");
    std::fs::write(&nan_csv, body.replacen("\n0,0,0,0\n", "\n0,0,NaN,0\n", 1)).unwrap();
    let run = |extra: &[&str], data: &std::path::Path| {
        let out = bin()
            .args(["study", "--data"])
            .arg(data)
            .args(["--gold-col", "GL", "--pref-col", "PL", "--features", "embd.PC*", "--learner", "ridge", "--quiet"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!err.contains("panicked") && err.lines().count() == 1, "{err}");
        err
    };
    let e = run(&["--gold", "30", "--test", "10"], &csv);
    assert!(e.contains("--gold") && e.contains("40 rows"), "{e}");
    let e = run(&["--gold", "5", "--test", "10", "--routers", "meta_r,magic"], &csv);
    assert!(e.contains("magic") && e.contains("meta_dr"), "{e}");
    let e = run(&["--gold", "5", "--test", "10", "--rounds", "0"], &csv);
    assert!(e.contains("--rounds"), "{e}");
    let e = run(&["--gold", "5", "--test", "10", "--psi-col", "truth"], &csv);
    assert!(e.contains("no column `truth`") && e.contains("GL"), "{e}");
    let e = run(&["--gold", "5", "--test", "10"], &nan_csv);
    assert!(e.contains("GL") && e.contains("line 2"), "{e}");
}
