//! `audit`: over simulated training sets with known bias, the coverage of the mean bias's
//! interval, the level and power of the heterogeneity test, the best linear projection's
//! intervals around a known linear bias, and the groups' family-wise error under a constant
//! bias; bit-identical JSON for any thread count; the command line and its bad input.
//!
//! Every set is small (1,000 rows, 6 features, 10% gold rows at random, preference labels on the
//! gold scale so that `--align none` is exact) and the nuisances are ridge regressions, so the
//! Monte-Carlo loops take about a second in release.

use faer::Mat;
use meta_router::Seed;
use meta_router::causal::delta::PooledRows;
use meta_router::causal::meta::dr_pseudo_outcomes;
use meta_router::causal::{DeltaConfig, FinalStage};
use meta_router::eval::audit::{AuditInput, audit};
use meta_router::learn::RegressorSpec;
use meta_router::learn::kmeans::KMeansParams;
use meta_router::sim::SimParams;

use crate::util::{bin, run_json, tmp, tmp_dir};

/// Simulated sets per Monte-Carlo check.
const SETS: usize = 300;
/// Rows per set; every tenth is gold.
const ROWS: usize = 1000;

/// One simulated training set: `(x, t, o, true delta)`, the preference labels on the gold scale
/// (`scale` 1), so that `Delta(x) = E[gs - pb | x] = delta(x)` exactly.
fn set(p: &SimParams, seed: u64) -> (Mat<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let sim = p.simulate(Seed(seed)).unwrap();
    let t: Vec<f64> = (0..p.n).map(|i| f64::from(i % 10 == 0)).collect();
    let o: Vec<f64> = (0..p.n).map(|i| if t[i] == 1.0 { sim.gold[i] } else { sim.pref[i] }).collect();
    (sim.x, t, o, sim.delta)
}

fn params(delta_slope: f64, delta_other: f64) -> SimParams {
    SimParams { n: ROWS, d: 6, scale: 1.0, delta_slope, delta_other, ..Default::default() }
}

/// The ridge DR pseudo-outcomes of one set.
fn pseudo(x: &Mat<f64>, t: &[f64], o: &[f64], seed: u64) -> Vec<f64> {
    let ridge = RegressorSpec::from_name("ridge").unwrap();
    let cfg =
        DeltaConfig { nuisance: ridge.clone(), final_stage: FinalStage::Fixed(ridge.clone()), ..Default::default() };
    let rows = PooledRows { x: x.as_ref(), t, o, w: None };
    dr_pseudo_outcomes(&rows, &ridge, &cfg, Seed(seed)).unwrap().0
}

fn names(d: usize) -> Vec<String> {
    (1..=d).map(|j| format!("x{j}")).collect()
}

#[test]
fn the_mean_bias_interval_covers_and_the_projection_recovers_a_linear_bias() {
    // delta = 0.10 + 0.40 u_1 + 0.05 u_6 with u_j = x_j sqrt(j): linear in x with
    // coefficients 0.40 on x1 and 0.05 sqrt 6 on x6, zero elsewhere (twice the default slope)
    let p = params(0.40, 0.05);
    let truth_slopes = [0.40, 0.0, 0.0, 0.0, 0.0, 0.05 * 6f64.sqrt()];
    let nm = names(6);
    let (mut cover_mean, mut cover_slope, mut reject) = (0usize, [0usize; 6], 0usize);
    for k in 0..SETS {
        let (x, t, o, delta) = set(&p, 1000 + k as u64);
        let phi = pseudo(&x, &t, &o, k as u64);
        let a = audit(&AuditInput { phi: &phi, is_gold: &t, blp_x: x.as_ref(), blp_names: &nm, groups: None }, 0.9)
            .unwrap();
        // the true mean bias over the rows averaged (all of them)
        let truth = delta.iter().sum::<f64>() / delta.len() as f64;
        cover_mean += usize::from(a.mean.ci[0] <= truth && truth <= a.mean.ci[1]);
        for (j, &b) in truth_slopes.iter().enumerate() {
            let ci = a.blp[j + 1].estimate.ci;
            cover_slope[j] += usize::from(ci[0] <= b && b <= ci[1]);
        }
        reject += usize::from(a.heterogeneity.as_ref().unwrap().reject);
    }
    let rate = |c: usize| c as f64 / SETS as f64;
    let slopes: Vec<f64> = cover_slope.iter().map(|&c| rate(c)).collect();
    eprintln!(
        "coverage: mean bias {:.3}, slopes {slopes:.3?}; heterogeneity rejected {:.3}",
        rate(cover_mean),
        rate(reject)
    );
    // Tolerance: with 300 independent sets the coverage of an exact 90% interval is binomial,
    // sd = sqrt(0.9 * 0.1 / 300) = 0.017; 85-95% is +-2.9 sd (a correct interval fails with
    // probability ~0.4%). Seeds are fixed, so the outcome is reproducible.
    assert!((0.85..=0.95).contains(&rate(cover_mean)), "mean bias coverage {}", rate(cover_mean));
    // the slopes: their average coverage in the same window, and none far below it (six
    // intervals; the lowest of six binomials is ~2 sd below the mean)
    let avg = slopes.iter().sum::<f64>() / 6.0;
    assert!((0.85..=0.95).contains(&avg), "slope coverage {slopes:?}");
    assert!(slopes.iter().all(|&c| c >= 0.82), "slope coverage {slopes:?}");
    // power: a slope of 0.4 per standard deviation of x1 (the gold noise has sd 0.55; 100 gold
    // rows) is found in most sets
    assert!(rate(reject) >= 0.8, "heterogeneity rejected in {} of the sets", rate(reject));
}

#[test]
fn a_constant_bias_is_flagged_at_most_at_the_tests_level() {
    // delta = 0.10 everywhere: every slope is zero and every group has the mean bias
    let p = params(0.0, 0.0);
    let nm = names(6);
    let level = 0.9;
    let (mut reject, mut reject_chi2, mut any_group, mut cover) = (0usize, 0usize, 0usize, 0usize);
    for k in 0..SETS {
        let (x, t, o, _) = set(&p, 5000 + k as u64);
        let phi = pseudo(&x, &t, &o, k as u64);
        let clusters = KMeansParams { n_clusters: 4, ..Default::default() }.fit(x.as_ref(), Seed(k as u64)).unwrap();
        let gnames = names(4);
        let input = AuditInput {
            phi: &phi,
            is_gold: &t,
            blp_x: x.as_ref(),
            blp_names: &nm,
            groups: Some((&clusters.labels, &gnames)),
        };
        let a = audit(&input, level).unwrap();
        let h = a.heterogeneity.as_ref().unwrap();
        reject += usize::from(h.reject);
        reject_chi2 += usize::from(h.wald.p_chi_square < 1.0 - level);
        any_group += usize::from(a.groups.as_ref().unwrap().iter().any(|g| g.flagged));
        cover += usize::from(a.mean.ci[0] <= 0.1 && 0.1 <= a.mean.ci[1]);
    }
    let rate = |c: usize| c as f64 / SETS as f64;
    eprintln!(
        "constant bias: heterogeneity rejected {:.3} (chi-square {:.3}), some group flagged {:.3}, mean covered {:.3}",
        rate(reject),
        rate(reject_chi2),
        rate(any_group),
        rate(cover)
    );
    // at most the level plus three binomial standard errors: 0.1 + 3 sqrt(0.09 / 300) = 0.152
    let bound = 0.1 + 3.0 * (0.09f64 / SETS as f64).sqrt();
    assert!(rate(reject) <= bound, "heterogeneity rejected in {} of the sets", rate(reject));
    // Holm controls the family-wise error of the group flags
    assert!(rate(any_group) <= bound, "some group flagged in {} of the sets", rate(any_group));
    assert!((0.85..=0.95).contains(&rate(cover)), "mean bias coverage {}", rate(cover));
}

/// A deployment CSV (`x1..x6, gs, pb, psi, delta, source, label, propensity`, 20% gold at
/// random) with a text column `topic` (`low`/`high` by the sign of x1; the bias grows with x1).
fn cli_file(tag: &str) -> std::path::PathBuf {
    let dir = tmp_dir(tag);
    let sim = dir.join("sim.csv");
    let p = SimParams { n: 1200, d: 6, deploy_gold_share: 0.2, delta_slope: 0.3, ..Default::default() };
    p.simulate(Seed(21)).unwrap().write_csv(&sim).unwrap();
    let text = std::fs::read_to_string(&sim).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{},topic\n", lines.next().unwrap());
    for l in lines {
        let x1: f64 = l.split(',').next().unwrap().parse().unwrap();
        out += &format!("{l},{}\n", if x1 < 0.0 { "low" } else { "high" });
    }
    let path = dir.join("train.csv");
    std::fs::write(&path, out).unwrap();
    path
}

const RIDGE: [&str; 6] = ["--features", "x*", "--nuisance", "ridge", "--seed", "3"];

#[test]
fn the_command_is_bit_identical_for_1_2_and_8_threads_and_finds_the_groups() {
    let data = cli_file("audit-threads");
    let d = data.to_str().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2", "8"] {
        let out = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args(["audit", "--data", d, "--groups", "topic", "--json"])
            .args(RIDGE)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        outs.push(out.stdout);
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let v: serde_json::Value = serde_json::from_slice(&outs[0]).unwrap();
    for key in ["mean_bias", "mean_bias_ci", "blp", "groups", "heterogeneity", "scale"] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    let g = v["groups"].as_array().unwrap();
    assert_eq!(g.len(), 2);
    // groups in name order: high, low; the bias is larger where x1 is high, and both differ from
    // the mean
    assert_eq!(g[0]["name"], "high");
    assert!(g[0]["mean"].as_f64().unwrap() > g[1]["mean"].as_f64().unwrap());
    assert!(g.iter().all(|g| g["flagged"] == true), "{g:?}");
    assert_eq!(v["heterogeneity"]["reject"], true);
    assert_eq!(v["blp"][0]["name"], "intercept");
    assert_eq!(v["blp"].as_array().unwrap().len(), 7);
    for key in ["statistic", "df", "p_value", "reject"] {
        assert!(v["heterogeneity"].get(key).is_some(), "{key}");
    }
    // clusters, a restricted projection, the output directory and the text table
    let dir = tmp_dir("audit-out");
    let v = run_json(
        bin()
            .args(["audit", "--data", d, "--clusters", "3", "--blp-features", "x1,x6", "--json"])
            .args(RIDGE)
            .args(["-o", dir.to_str().unwrap()]),
    );
    assert_eq!(v["groups"].as_array().unwrap().len(), 3);
    assert_eq!(v["blp"].as_array().unwrap().len(), 3);
    assert_eq!(v["heterogeneity"]["df"], 2);
    assert!(dir.join("audit.json").exists() && dir.join("bias_by_group.svg").exists());
    let out = bin().args(["audit", "--data", d]).args(RIDGE).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mean bias") && text.contains("heterogeneity"), "{text}");
}

#[test]
fn bad_input_gives_errors_naming_the_fault() {
    let data = cli_file("audit-bad");
    let d = data.to_str().unwrap();
    let text = std::fs::read_to_string(&data).unwrap();
    let fails = |path: &str, extra: &[&str], want: &str| {
        let out = bin().args(["audit", "--data", path]).args(RIDGE).args(extra).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{extra:?}: want `{want}` in: {err}");
    };
    fails(d, &["--groups", "nope"], "nope");
    fails(d, &["--clusters", "5000"], "--clusters");
    fails(d, &["--clusters", "0"], "--clusters");
    fails(d, &["--level", "1"], "--level");
    fails(d, &["--blp-features", "z*"], "--blp-features");
    fails(d, &["--protocol", "paper"], "--protocol");
    fails(d, &["--weight-col", "psi"], "--weight-col");
    // a group with a single row
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let last = lines.len() - 1;
    lines[last] = lines[last].rsplit_once(',').map(|(a, _)| format!("{a},lonely")).unwrap();
    let single = tmp("audit-single.csv");
    std::fs::write(&single, lines.join("\n") + "\n").unwrap();
    fails(single.to_str().unwrap(), &["--groups", "topic"], "`lonely` has 1 row");
    // no gold rows, no preference rows
    let no_gold = tmp("audit-no-gold.csv");
    std::fs::write(&no_gold, text.replace(",gold,", ",pref,")).unwrap();
    fails(no_gold.to_str().unwrap(), &[], "no rows whose `source` is gold");
    let no_pref = tmp("audit-no-pref.csv");
    std::fs::write(&no_pref, text.replace(",pref,", ",gold,")).unwrap();
    fails(no_pref.to_str().unwrap(), &[], "no rows whose `source` is preference");
    // a NaN label names its line and column
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header.iter().position(|c| *c == "label").unwrap();
    let mut fields: Vec<String> = lines[5].split(',').map(String::from).collect();
    fields[col] = "NaN".into();
    lines[5] = fields.join(",");
    let nan = tmp("audit-nan.csv");
    std::fs::write(&nan, lines.join("\n") + "\n").unwrap();
    let out = bin().args(["audit", "--data", nan.to_str().unwrap()]).args(RIDGE).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("label") && err.contains("line 6"), "{err}");
}
