//! Active gold selection (issue 14, section 3): the sampling realises its stated inclusion
//! probabilities, every row keeps the floor, the design's known propensity keeps the DR mean
//! unbiased, `--gold-selection random` is today's study, bad input is named, and active studies
//! are bit-identical for 1, 2 and 8 threads.

use faer::Mat;
use meta_router::causal::drlearner::dr_pseudo;
use meta_router::eval::active::{
    ActiveConfig, GoldRule, GoldSelection, check_batches, inclusion_probabilities, select_gold, systematic_sample,
};
use meta_router::eval::{StudyConfig, StudyData, StudyRouter, run_study};
use meta_router::learn::RegressorSpec;
use meta_router::rng::Seed;
use meta_router::router::{RouterConfig, RouterKind};
use meta_router::sim::SimParams;
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::util::{bin, in_pools, tmp};

#[test]
fn systematic_sampling_realises_the_stated_inclusion_probabilities() {
    // 40 rows, skewed scores (one large enough to be capped at 1), a batch of 6, floor 0.2
    let mut rng = Seed(1).rng();
    let mut s: Vec<f64> = (0..40).map(|_| rng.random::<f64>().powi(3)).collect();
    s[7] = 50.0;
    let (b, floor) = (6, 0.2);
    let inc = inclusion_probabilities(&s, b, floor).unwrap();
    let sum: f64 = inc.p.iter().sum();
    assert!((sum - b as f64).abs() < 1e-9, "probabilities sum to {sum}");
    assert_eq!(inc.p[7], 1.0, "the dominant row is capped at 1");
    let min = floor * b as f64 / s.len() as f64;
    assert!(inc.p.iter().all(|&p| p >= min - 1e-12 && p <= 1.0), "floor {min}: {:?}", inc.p);
    let draws = 20_000u64;
    let mut count = vec![0u64; s.len()];
    for k in 0..draws {
        let d = systematic_sample(&inc.p, &mut Seed(1000 + k).rng());
        assert_eq!(d.len(), b);
        d.iter().for_each(|&i| count[i] += 1);
    }
    for (i, (&c, &p)) in count.iter().zip(&inc.p).enumerate() {
        let freq = c as f64 / draws as f64;
        let se = (p * (1.0 - p) / draws as f64).sqrt().max(1e-12);
        assert!((freq - p).abs() <= 4.5 * se + 1e-12, "row {i}: frequency {freq} vs probability {p} (se {se})");
    }
}

/// One seed of an adaptive two-batch design on rows with a known bias: returns the DR mean of
/// `phi` with the design's known propensity and with the plain gold share.
fn two_batch_dr_means(seed: u64) -> (f64, f64, f64) {
    let n = 2000;
    let (b1, b2) = (60, 60);
    let mut rng = Seed(seed).rng();
    let x: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    // Delta(x) = 0.5 + 0.5 x^2 (mean 1.0); gold o(1) = Delta + noise, preference o(0) = noise
    let delta: Vec<f64> = x.iter().map(|v| 0.5 + 0.5 * v * v).collect();
    let o1: Vec<f64> = delta.iter().map(|d| d + 0.3 * rng.sample::<f64, _>(StandardNormal)).collect();
    let o0: Vec<f64> = (0..n).map(|_| 0.3 * rng.sample::<f64, _>(StandardNormal)).collect();
    // batch 1: rows 0..b1 (the rows are in random order)
    let q1 = b1 as f64 / n as f64;
    // the rule uses batch 1's labels: scores |x| scaled by the first batch's mean gold label
    let m1 = o1[..b1].iter().sum::<f64>() / b1 as f64;
    let eligible: Vec<usize> = (b1..n).collect();
    let s: Vec<f64> = eligible.iter().map(|&i| m1.abs() * x[i] * x[i]).collect();
    let inc = inclusion_probabilities(&s, b2, 0.2).unwrap();
    let drawn = systematic_sample(&inc.p, &mut Seed(seed).child(77).rng());
    let mut t = vec![0.0; n];
    t[..b1].iter_mut().for_each(|v| *v = 1.0);
    drawn.iter().for_each(|&j| t[eligible[j]] = 1.0);
    let all_s: Vec<f64> = x.iter().map(|v| m1.abs() * v * v).collect();
    let e: Vec<f64> = (0..n)
        .map(|i| {
            let p2 = if i < b1 { inc.would_be(all_s[i], 0.2, eligible.len()) } else { inc.p[i - b1] };
            1.0 - (1.0 - q1) * (1.0 - p2.min(1.0 - 1e-9))
        })
        .collect();
    let o: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { o1[i] } else { o0[i] }).collect();
    // constant outcome models (the IPW part carries everything): mu0 = 0, mu1 = 0
    let zero = vec![0.0; n];
    let phi = dr_pseudo(&o, &t, &e, &zero, &zero).unwrap();
    let share = (b1 + b2) as f64 / n as f64;
    let phi_naive = dr_pseudo(&o, &t, &vec![share; n], &zero, &zero).unwrap();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (mean(&phi), mean(&phi_naive), mean(&delta))
}

#[test]
fn the_known_propensity_keeps_the_dr_mean_unbiased_under_adaptive_selection() {
    let seeds = 400;
    let (mut d, mut dn) = (Vec::new(), Vec::new());
    for k in 0..seeds {
        let (known, naive, truth) = two_batch_dr_means(k);
        d.push(known - truth);
        dn.push(naive - truth);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let se = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64 / v.len() as f64).sqrt()
    };
    let (m, s) = (mean(&d), se(&d));
    assert!(m.abs() < 3.0 * s, "bias with the known propensity {m} (se {s})");
    // the gold share ignores that high-Delta rows were favoured: clearly biased upwards
    let (mn, sn) = (mean(&dn), se(&dn));
    assert!(mn > 0.1 && mn > 5.0 * sn, "bias with the gold share {mn} (se {sn})");
}

fn small_study(selection: GoldSelection) -> StudyConfig {
    let ridge = RegressorSpec::from_name("ridge").unwrap();
    StudyConfig {
        n_gold: 60,
        n_test: 150,
        rounds: 3,
        routers: vec![
            StudyRouter::Trained(RouterKind::MetaDr),
            StudyRouter::Trained(RouterKind::MetaR),
            StudyRouter::Trained(RouterKind::GoldOnly),
            StudyRouter::Random,
        ],
        router: RouterConfig::with_learner(ridge),
        gold_selection: selection,
        ..Default::default()
    }
}

#[test]
fn active_studies_are_bit_identical_for_any_thread_count_and_differ_from_random() {
    let data: StudyData = SimParams { n: 700, ..Default::default() }.simulate(Seed(5)).unwrap().into();
    let active = GoldSelection::Active(ActiveConfig { batches: vec![30, 30], rule: GoldRule::Neyman, floor: 0.3 });
    let cfg = small_study(active);
    let outs = in_pools(|| run_study(&data, &cfg, Seed(2)).unwrap());
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let random = run_study(&data, &small_study(GoldSelection::Random), Seed(2)).unwrap();
    assert_ne!(outs[0], random, "active selection changed nothing");
    let unc = GoldSelection::Active(ActiveConfig { batches: vec![20, 40], rule: GoldRule::Uncertainty, floor: 0.5 });
    let a = run_study(&data, &small_study(unc.clone()), Seed(2)).unwrap();
    assert_eq!(a, pool_run(&data, &small_study(unc)));
}

fn pool_run(data: &StudyData, cfg: &StudyConfig) -> meta_router::eval::StudyOutcome {
    crate::util::pool(2).install(|| run_study(data, cfg, Seed(2)).unwrap())
}

#[test]
fn gold_selection_random_with_batches_is_the_study_without_the_flag() {
    let base = ["study", "--n", "600", "--gold", "60", "--test", "150", "--rounds", "2", "--learner", "ridge"];
    let run = |extra: &[&str]| {
        let out = bin()
            .args(base)
            .args(["--routers", "meta_dr,gold_only", "--json", "--quiet"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    let plain = run(&[]);
    assert_eq!(plain, run(&["--gold-selection", "random"]));
    assert_eq!(plain, run(&["--gold-selection", "random", "--gold-batches", "30,30"]));
    assert_ne!(plain, run(&["--gold-selection", "active", "--gold-batches", "30,30"]));
}

fn stderr_of(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!e.contains("panicked"), "{e}");
    e
}

#[test]
fn bad_batches_budgets_and_pools_are_named() {
    assert!(check_batches(&[50, 50], 100).is_ok());
    let e = check_batches(&[50, 40], 100).unwrap_err().to_string();
    assert!(e.contains("--gold-batches") && e.contains("90") && e.contains("100"), "{e}");
    let e = check_batches(&[100, 0], 100).unwrap_err().to_string();
    assert!(e.contains("--gold-batches") && e.contains("batch 2 is 0"), "{e}");
    let base =
        ["study", "--n", "600", "--gold", "60", "--test", "150", "--rounds", "1", "--learner", "ridge", "--quiet"];
    let e = stderr_of(&[&base[..], &["--gold-selection", "active", "--gold-batches", "30,20"]].concat());
    assert!(e.contains("--gold-batches") && e.contains("sums to 50"), "{e}");
    let e = stderr_of(&[&base[..], &["--gold-selection", "active", "--gold-batches", "60,0"]].concat());
    assert!(e.contains("batch 2 is 0"), "{e}");
    let e = stderr_of(&[&base[..], &["--gold-selection", "active", "--gold-batches", "30,x"]].concat());
    assert!(e.contains("`x`"), "{e}");
    let e = stderr_of(&[&base[..], &["--gold-selection", "active", "--gold-floor", "0"]].concat());
    assert!(e.contains("--gold-floor"), "{e}");

    // suggest: a router fitted on a small simulated table
    let dir = crate::util::tmp_dir("active-suggest");
    let sim = dir.join("sim.csv");
    let out = bin().args(["simulate", "--n", "400", "--seed", "3", "-o"]).arg(&sim).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&sim).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (gs, pb) = (header.iter().position(|&h| h == "gs").unwrap(), header.iter().position(|&h| h == "pb").unwrap());
    let nx = header.iter().filter(|h| h.starts_with('x')).count();
    let mut train = format!("{},source,label\n", header[..nx].join(","));
    let mut pool = format!("{}\n", header[..nx].join(","));
    for (i, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let gold = i % 5 == 0;
        let label = if gold { f[gs] } else { f[pb] };
        train.push_str(&format!("{},{},{label}\n", f[..nx].join(","), if gold { "gold" } else { "pref" }));
        if i < 30 {
            pool.push_str(&format!("{}\n", f[..nx].join(",")));
        }
    }
    let (train_p, pool_p, model) = (dir.join("train.csv"), dir.join("pool.csv"), dir.join("r.mr"));
    std::fs::write(&train_p, train).unwrap();
    std::fs::write(&pool_p, &pool).unwrap();
    let out = bin()
        .args(["fit", "--data"])
        .arg(&train_p)
        .args(["--learner", "rf", "--param", "n_estimators=10", "--nuisance", "ridge", "-o"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let next = dir.join("next.csv");
    let suggest = |pool: &std::path::Path, budget: &str| {
        let mut c = bin();
        c.args(["suggest", "--model"]).arg(&model).arg("--pool").arg(pool).args(["--budget", budget, "-o"]).arg(&next);
        c.output().unwrap()
    };
    let out = suggest(&pool_p, "5");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&next).unwrap();
    assert_eq!(written.lines().count(), 6);
    let head = written.lines().next().unwrap();
    assert!(head.starts_with("pool_row,") && head.ends_with("inclusion_prob,ipw_weight"), "{head}");
    for l in written.lines().skip(1) {
        let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
        let (p, w) = (f[f.len() - 2], f[f.len() - 1]);
        assert!(p > 0.0 && p <= 1.0 && (w * p - 1.0).abs() < 1e-12, "{l}");
    }
    let out = suggest(&pool_p, "31");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("--budget") && e.contains("31") && e.contains("30 rows"), "{e}");
    let wrong = tmp("active-wrong-pool.csv");
    std::fs::write(&wrong, pool.replacen("x1,", "y1,", 1)).unwrap();
    let out = suggest(&wrong, "5");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(1) && e.contains("x1"), "{e}");
    // the weight column's companion: fit with a per-row known propensity, and a bad one named
    let out = bin()
        .args(["fit", "--data"])
        .arg(&train_p)
        .args(["--learner", "ridge", "--nuisance", "ridge", "--propensity-col", "label", "-o"])
        .arg(dir.join("bad.mr"))
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(1) && e.contains("label") && e.contains("(0, 1)"), "{e}");
}

#[test]
fn a_known_constant_propensity_is_the_gold_share() {
    // train_router_known with e = the gold share everywhere gives the same meta_dr as the
    // default (known share) propensity, up to the alignment's weights (all equal: same c)
    let n = 500;
    let mut rng = Seed(8).rng();
    let x = Mat::from_fn(n, 3, |_, _| rng.sample::<f64, _>(StandardNormal));
    let is_gold: Vec<f64> = (0..n).map(|i| f64::from(i % 10 == 0)).collect();
    let label: Vec<f64> =
        (0..n).map(|i| x[(i, 0)] + 0.3 * is_gold[i] + 0.2 * rng.sample::<f64, _>(StandardNormal)).collect();
    let data = meta_router::router::RouterData {
        x: x.as_ref(),
        is_gold: &is_gold,
        label: &label,
        gold_everywhere: None,
        weights: None,
    };
    let ridge = RegressorSpec::from_name("ridge").unwrap();
    let cfg = RouterConfig::with_learner(ridge);
    let a = meta_router::router::train_router(RouterKind::MetaDr, &data, &cfg, Seed(1)).unwrap();
    let b = meta_router::router::train_router_known(RouterKind::MetaDr, &data, &vec![0.1; n], &cfg, Seed(1)).unwrap();
    let (pa, pb) = (a.predict_psi(x.as_ref()).unwrap(), b.predict_psi(x.as_ref()).unwrap());
    assert!((a.scale - b.scale).abs() < 1e-12 * a.scale);
    assert!(pa.iter().zip(&pb).all(|(u, v)| (u - v).abs() < 1e-9), "known share and e = share differ");
    let e = meta_router::router::train_router_known(RouterKind::MetaDr, &data, &vec![1.0; n], &cfg, Seed(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("known propensity") && e.contains("(0, 1)"), "{e}");
}

/// The control design of the random-vs-active comparison, `--gold-floor 1`: the scores no
/// longer matter, so the design is a simple random sample of `G` rows in two steps. Every row's
/// known propensity must then be exactly the gold share `G / N` (`1 - (1 - b1/N)(1 - b2/(N - b1))`
/// = `G / N`), the first batch must be rows `0..b1` (random selection's first rows), and the
/// second batch must be uniform over the other rows (each with frequency `b2 / (N - b1)`).
#[test]
fn the_uniform_control_design_is_a_simple_random_sample_with_the_gold_share() {
    let sim = SimParams { n: 240, d: 6, ..Default::default() }.simulate(Seed(6)).unwrap();
    let n = sim.x.nrows();
    let (b1, b2) = (24, 16);
    let control = ActiveConfig { batches: vec![b1, b2], rule: GoldRule::Neyman, floor: 1.0 };
    let ridge = RegressorSpec::from_name("ridge").unwrap();
    let cfg = RouterConfig::with_learner(ridge);
    let share = (b1 + b2) as f64 / n as f64;
    let draws = 300u64;
    let mut count = vec![0u64; n];
    for k in 0..draws {
        let sel = select_gold(sim.x.as_ref(), &sim.gold, &sim.pref, &control, &cfg, Seed(500 + k)).unwrap();
        assert!(sel.e.iter().all(|&e| (e - share).abs() <= 1e-15), "seed {k}: e differs from the share {share}");
        assert_eq!(sel.is_gold.iter().filter(|&&g| g == 1.0).count(), b1 + b2);
        assert!(sel.is_gold[..b1].iter().all(|&g| g == 1.0), "the first batch is not rows 0..b1");
        sel.is_gold.iter().enumerate().for_each(|(i, &g)| count[i] += u64::from(g == 1.0));
    }
    let p = b2 as f64 / (n - b1) as f64;
    let se = (p * (1.0 - p) / draws as f64).sqrt();
    let freq: Vec<f64> = count[b1..].iter().map(|&c| c as f64 / draws as f64).collect();
    // every row within 4.5 se of p, and the rows' mean frequency (the second batch size) exact
    assert!(freq.iter().all(|f| (f - p).abs() < 4.5 * se), "{freq:?} vs {p}");
    let mean = freq.iter().sum::<f64>() / freq.len() as f64;
    assert!((mean - p).abs() < 1e-12, "{mean} vs {p}");
    // the first and the second half of the eligible rows are drawn equally often (no position
    // effect of the systematic sample's order): 108 rows each, se of the difference of means
    let half = freq.len() / 2;
    let (lo, hi) = (freq[..half].iter().sum::<f64>() / half as f64, freq[half..].iter().sum::<f64>() / half as f64);
    assert!((lo - hi).abs() < 4.5 * se * (2.0 / half as f64).sqrt(), "{lo} vs {hi}");
}

/// Under the study's own configuration (forest psi and nuisances, the `auto` final stage), the
/// known-propensity path given the gold share as `e` trains the same router as the gold-share
/// path on the same (scattered, as the control's) gold rows: bit for bit with `--align none`
/// for `meta_dr`, `meta_r` and `gold_only`; `mean_shift`'s shift, a Horvitz-Thompson weighted
/// mean difference, to a few ulps. With `--align std` the Horvitz-Thompson weights
/// (`1/e` on gold rows, `1/(1-e)` on preference rows, constant within each source) move the
/// weighted standard deviations, hence `c`, by a few ulps only. (Forests then turn such ulps into
/// a different but equally likely forest, as a one-ulp change of the labels does on the
/// share path itself: measured 0.05 to 0.17 max |psi_hat| change on this table, against 0.3
/// for another seed; so agreement "to 1e-9" holds for smooth learners only, and the control
/// differs from random selection by a re-draw, not a bias.) The control design's `e` is the
/// share to 1e-15 (see the test above).
#[test]
fn the_known_share_path_is_the_share_path_under_the_study_defaults() {
    let sim = SimParams { n: 700, d: 6, ..Default::default() }.simulate(Seed(12)).unwrap();
    let n = sim.x.nrows();
    let (b1, b2) = (40, 40);
    // gold rows scattered as the control's are (rows 0..b1 and every 8th row after them)
    let mut is_gold: Vec<f64> = (0..n).map(|i| f64::from(i < b1)).collect();
    (b1..n).step_by(8).take(b2).for_each(|i| is_gold[i] = 1.0);
    assert_eq!(is_gold.iter().sum::<f64>(), (b1 + b2) as f64);
    let label: Vec<f64> = (0..n).map(|i| if is_gold[i] == 1.0 { sim.gold[i] } else { sim.pref[i] }).collect();
    let e = vec![is_gold.iter().sum::<f64>() / n as f64; n];
    let data = meta_router::router::RouterData {
        x: sim.x.as_ref(),
        is_gold: &is_gold,
        label: &label,
        gold_everywhere: None,
        weights: None,
    };
    let mut std_cfg = RouterConfig::default();
    // fewer trees than the default (speed); every other setting is the study's
    for spec in [&mut std_cfg.learner, &mut std_cfg.delta.nuisance] {
        spec.set_params(&["n_estimators=30"]).unwrap();
    }
    let none_cfg = RouterConfig { align: meta_router::causal::Align::None, ..std_cfg.clone() };
    let bits = |v: Vec<f64>| v.iter().map(|z| z.to_bits()).collect::<Vec<u64>>();
    for kind in [RouterKind::MetaDr, RouterKind::MetaR, RouterKind::MeanShift, RouterKind::GoldOnly] {
        let a = meta_router::router::train_router(kind, &data, &none_cfg, Seed(3)).unwrap();
        let b = meta_router::router::train_router_known(kind, &data, &e, &none_cfg, Seed(3)).unwrap();
        let (da, db) = (a.predict_delta(sim.x.as_ref()).unwrap(), b.predict_delta(sim.x.as_ref()).unwrap());
        if kind == RouterKind::MeanShift {
            // the shift is a Horvitz-Thompson weighted mean difference: the same to a few ulps
            let (sa, sb) = (a.diagnostics.delta_mean.unwrap(), b.diagnostics.delta_mean.unwrap());
            assert!((sa - sb).abs() <= 1e-14, "mean_shift: shift {sa} vs {sb}");
        } else {
            let same = bits(a.predict_psi(sim.x.as_ref()).unwrap()) == bits(b.predict_psi(sim.x.as_ref()).unwrap());
            assert!(same, "{kind:?}: psi_hat differs");
            assert!(da.map(bits) == db.map(bits), "{kind:?}: Delta_hat differs");
        }
        assert_eq!(
            a.diagnostics.final_stage.map(|f| f.chosen),
            b.diagnostics.final_stage.map(|f| f.chosen),
            "{kind:?}: final stage"
        );
        let a = meta_router::router::train_router(kind, &data, &std_cfg, Seed(3)).unwrap();
        let b = meta_router::router::train_router_known(kind, &data, &e, &std_cfg, Seed(3)).unwrap();
        assert!((a.scale - b.scale).abs() <= 1e-14 * a.scale, "{kind:?}: c {} vs {}", a.scale, b.scale);
        // meta_dr's and mean_shift's Delta_hat is smooth in c (mu0 is fitted on preference
        // rows, which c does not touch); meta_r's forest m(x) sees c r on gold rows: a re-draw
        if let (Some(da), Some(db), false) =
            (a.diagnostics.delta_mean, b.diagnostics.delta_mean, kind == RouterKind::MetaR)
        {
            assert!((da - db).abs() <= 1e-12, "{kind:?}: mean Delta {da} vs {db}");
        }
    }
}
