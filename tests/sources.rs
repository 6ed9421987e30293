//! Several preference sources (issue 13, `router::sources`): one source is today's router bit
//! for bit; each source's bias is recovered; source-specific biases are corrected where pooling
//! is not; per-source weights act as documented; bad input; thread counts.

use faer::Mat;
use meta_router::causal::{Align, FinalStage, Propensity};
use meta_router::learn::{ClassifierSpec, RegressorSpec};
use meta_router::router::sources::{SourceData, SourcesRouter, train_router_sources, validate_sources};
use meta_router::router::{Protocol, RouterConfig, RouterData, RouterKind, TrainedRouter, train_router};
use meta_router::sim::SimParams;
use meta_router::sim::multi::simulate_multi;
use meta_router::{Error, Seed};
use rand_distr::{Distribution, Normal};

use crate::causal::{Spec, simulate};
use crate::util::{bits, in_pools};

fn spec(name: &str, params: &[&str]) -> RegressorSpec {
    let mut s = RegressorSpec::from_name(name).unwrap();
    s.set_params(params).unwrap();
    s
}

/// Ridge for psi and the nuisances, a fixed ridge final stage: fast, and linear in `x`.
fn ridge_cfg(align: Align) -> RouterConfig {
    let mut cfg = RouterConfig::with_learner(spec("ridge", &[]));
    cfg.align = align;
    cfg.delta.final_stage = FinalStage::Fixed(spec("ridge", &["alpha=10"]));
    cfg
}

/// Rows of several sources: every gold query once with source 0, every other query once per
/// preference source `s = 1..=n_sources` (rows repeat), labels from `label(q, s)`.
struct Rows {
    x: Mat<f64>,
    source: Vec<usize>,
    label: Vec<f64>,
    n_sources: usize,
}

impl Rows {
    fn new(queries: &Mat<f64>, is_gold: &[bool], n_sources: usize, label: impl Fn(usize, usize) -> f64) -> Rows {
        let mut of = Vec::new();
        let (mut source, mut labels) = (Vec::new(), Vec::new());
        for (q, &g) in is_gold.iter().enumerate() {
            let srcs: Vec<usize> = if g { vec![0] } else { (1..=n_sources).collect() };
            for s in srcs {
                of.push(q);
                source.push(s);
                labels.push(label(q, s));
            }
        }
        let x = Mat::from_fn(of.len(), queries.ncols(), |i, j| queries[(of[i], j)]);
        Rows { x, source, label: labels, n_sources }
    }

    fn data(&self) -> SourceData<'_> {
        SourceData {
            x: self.x.as_ref(),
            source: &self.source,
            label: &self.label,
            n_sources: self.n_sources,
            gold_everywhere: None,
            weights: None,
            source_weights: None,
        }
    }
}

fn assert_same(kind: RouterKind, got: &SourcesRouter, want: &TrainedRouter, x: faer::MatRef<'_, f64>) {
    let r = &got.router;
    assert_eq!(r.scale.to_bits(), want.scale.to_bits(), "{kind:?}: scale");
    assert_eq!(bits(&r.predict_psi(x).unwrap()), bits(&want.predict_psi(x).unwrap()), "{kind:?}: psi");
    let (a, b) = (r.predict_delta(x).unwrap(), want.predict_delta(x).unwrap());
    assert_eq!(a.map(|v| bits(&v)), b.map(|v| bits(&v)), "{kind:?}: delta");
    assert_eq!(r.diagnostics, want.diagnostics, "{kind:?}: diagnostics");
    assert_eq!(r.delta_clip, want.delta_clip, "{kind:?}");
    assert_eq!(got.sources.len(), 1);
    assert_eq!(got.sources[0].scale.to_bits(), want.scale.to_bits());
    assert_eq!(got.sources[0].delta_mean.map(f64::to_bits), want.diagnostics.delta_mean.map(f64::to_bits));
}

#[test]
fn one_source_is_train_router_bit_for_bit_for_every_router_and_configuration() {
    let sim =
        simulate(Spec { n: 500, d: 4, n_gold: 80, scale: 1.7, noise: 0.3, seed: 31 }, |x| 0.4 * x[0], |x| 0.3 * x[1]);
    let rd = sim.data();
    let source: Vec<usize> = sim.is_gold.iter().map(|&g| if g == 1.0 { 0 } else { 1 }).collect();
    let w: Vec<f64> = (0..500).map(|i| 0.5 + (i % 3) as f64).collect();
    let sd = SourceData {
        x: rd.x,
        source: &source,
        label: rd.label,
        n_sources: 1,
        gold_everywhere: rd.gold_everywhere,
        weights: None,
        source_weights: None,
    };
    let ridge = RouterConfig { gold_weight: 2.0, ..RouterConfig::with_learner(spec("ridge", &[])) };
    for kind in RouterKind::ALL {
        let want = train_router(kind, &rd, &ridge, Seed(8)).unwrap();
        assert_same(kind, &train_router_sources(kind, &sd, &ridge, Seed(8)).unwrap(), &want, rd.x);
    }
    // row weights, an estimated propensity, an outcome covariate, repeats, wasserstein
    let mut other = ridge_cfg(Align::Wasserstein);
    other.delta.propensity = Propensity::estimated(ClassifierSpec::from_name("logistic").unwrap());
    other.delta.outcome_covariate = true;
    other.delta.repeats = 2;
    let (rdw, sdw) = (RouterData { weights: Some(&w), ..rd }, SourceData { weights: Some(&w), ..sd });
    for kind in [RouterKind::PrefOnly, RouterKind::MeanShift, RouterKind::MetaR, RouterKind::MetaDr] {
        let want = train_router(kind, &rdw, &other, Seed(8)).unwrap();
        assert_same(kind, &train_router_sources(kind, &sdw, &other, Seed(8)).unwrap(), &want, rd.x);
    }
    // a forest for psi and the nuisances, the default final-stage selection
    let rf = RouterConfig::with_learner(spec("rf", &["n_estimators=8", "max_depth=4"]));
    for kind in [RouterKind::Pooled, RouterKind::MetaDr] {
        let want = train_router(kind, &rd, &rf, Seed(3)).unwrap();
        assert_same(kind, &train_router_sources(kind, &sd, &rf, Seed(3)).unwrap(), &want, rd.x);
    }
    // the paper protocol (one source only)
    let paper = RouterConfig { protocol: Protocol::Paper, ..RouterConfig::with_learner(spec("ridge", &[])) };
    let want = train_router(RouterKind::MetaR, &rd, &paper, Seed(2)).unwrap();
    assert_same(
        RouterKind::MetaR,
        &train_router_sources(RouterKind::MetaR, &sd, &paper, Seed(2)).unwrap(),
        &want,
        rd.x,
    );
}

/// Three sources with constant biases `b_s` of different signs on scales `k_s` (gold-scale
/// psi = 0.5 x_0; source `s` labels `k_s (psi - b_s) + k_s 0.3 N`, gold labels `psi + 0.3 N`,
/// so the std alignment's `c_s` estimates `k_s`).
fn constant_biases() -> (Rows, [f64; 3], [f64; 3]) {
    let (n, d) = (3000, 3);
    let b = [0.5, -0.4, 0.25];
    let k = [1.0, 2.0, 0.5];
    let mut rng = Seed(17).rng();
    let normal = Normal::new(0.0, 1.0).unwrap();
    let q = Mat::from_fn(n, d, |_, _| normal.sample(&mut rng));
    let is_gold: Vec<bool> = (0..n).map(|i| i % 8 == 0).collect();
    let noise: Vec<[f64; 4]> = (0..n).map(|_| std::array::from_fn(|_| normal.sample(&mut rng))).collect();
    let rows = Rows::new(&q, &is_gold, 3, |i, s| {
        let psi = 0.5 * q[(i, 0)];
        if s == 0 { psi + 0.3 * noise[i][0] } else { k[s - 1] * (psi - b[s - 1] + 0.3 * noise[i][s]) }
    });
    (rows, b, k)
}

#[test]
fn each_sources_constant_bias_is_recovered_on_its_own_scale() {
    // 375 gold rows, 2625 rows per source. On the gold scale the bias mean is the mean gold
    // label minus the mean rescaled source label, each with noise sd 0.3 plus the spread of
    // psi = 0.5 x_0 (sd 0.5), which the R/DR nuisances remove and mean_shift does not: its SE
    // is about sqrt(0.09 / 375 + 0.09 / 2625) ~ 0.017 with ideal nuisances and
    // sqrt(0.34 / 375 + 0.34 / 2625) ~ 0.032 without; c_s (SE ~ 1 / sqrt(2 * 375) ~ 3.7%
    // relative) adds <= 0.02. The tolerance 0.1 is ~3 SE of the worst case; a source's bias
    // taken for another's (they differ by >= 0.25) or a scale left out (the scales differ by
    // factors 2 and 4) fails it. The scales themselves within 12% (~3 SE).
    let (rows, b, k) = constant_biases();
    let cfg = ridge_cfg(Align::Std);
    for kind in [RouterKind::MetaDr, RouterKind::MetaR, RouterKind::MeanShift] {
        let fit = train_router_sources(kind, &rows.data(), &cfg, Seed(4)).unwrap();
        for (s, f) in fit.sources.iter().enumerate() {
            assert_eq!(f.source, s + 1);
            assert!((f.scale / k[s] - 1.0).abs() < 0.12, "{kind:?} source {}: c_s {} vs {}", s + 1, f.scale, k[s]);
            let on_gold = f.delta_mean.unwrap() / f.scale;
            assert!((on_gold - b[s]).abs() < 0.1, "{kind:?} source {}: bias {on_gold} vs {}", s + 1, b[s]);
            if kind.is_meta() {
                assert!(f.overlap.is_some() && f.final_stage.is_some());
            }
        }
        // the router is on source 1's scale and psi / scale = 0.5 x_0 on the gold scale: every
        // source's lifted labels were put on source 1's scale (without the factors c_1 / c_s
        // the slope would be ~0.58, the sources' scales 1, 2, 0.5 averaged over their rows);
        // the slope's error is mean_shift's c_s error (~3.7% of 0.5) at most, the
        // intercept's that of the bias estimates (<= 0.03)
        assert_eq!(fit.router.scale.to_bits(), fit.sources[0].scale.to_bits());
        let q = Mat::from_fn(3, 3, |i, j| if j == 0 { i as f64 - 1.0 } else { 0.0 });
        let psi: Vec<f64> = fit.router.predict_psi(q.as_ref()).unwrap().iter().map(|p| p / fit.router.scale).collect();
        let (slope, at0) = ((psi[2] - psi[0]) / 2.0, psi[1]);
        assert!((slope - 0.5).abs() < 0.04 && at0.abs() < 0.05, "{kind:?}: psi_hat slope {slope}, psi_hat(0) {at0}");
    }
    // pooling without debiasing is off by the sources' average bias
    let pooled = train_router_sources(RouterKind::Pooled, &rows.data(), &cfg, Seed(4)).unwrap();
    let zero = pooled.router.predict_psi(Mat::<f64>::zeros(1, 3).as_ref()).unwrap()[0] / pooled.router.scale;
    assert!(zero < -0.05, "pooled psi_hat(0) = {zero}");
}

#[test]
fn source_specific_linear_biases_meta_routers_beat_pooled() {
    // simulate_multi, model 1's column, three judges with their own scales and linear biases
    // along their own directions u_{1+s}; 400 gold queries, the other 1600 labelled by every
    // judge.
    let p = SimParams { n: 2000, gold_noise: 0.3, delta_mean: 0.3, delta_slope: 0.4, ..Default::default() };
    let m = simulate_multi(&p, 2, 3, Seed(6)).unwrap();
    let is_gold: Vec<bool> = (0..p.n).map(|i| i % 5 == 0).collect();
    let rows = Rows::new(&m.x, &is_gold, 3, |i, s| if s == 0 { m.gold[(i, 1)] } else { m.pref[s - 1][(i, 1)] });
    let cfg = ridge_cfg(Align::Std);
    let rmse = |kind: RouterKind| {
        let fit = train_router_sources(kind, &rows.data(), &cfg, Seed(2)).unwrap();
        let psi = fit.router.predict_psi(m.x.as_ref()).unwrap();
        let sq: f64 = (0..p.n).map(|i| (psi[i] / fit.router.scale - m.psi[(i, 1)]).powi(2)).sum();
        (sq / p.n as f64).sqrt()
    };
    let [pooled, shift, meta_r, meta_dr] =
        [RouterKind::Pooled, RouterKind::MeanShift, RouterKind::MetaR, RouterKind::MetaDr].map(rmse);
    eprintln!("psi rmse: pooled {pooled:.4}, mean_shift {shift:.4}, meta_r {meta_r:.4}, meta_dr {meta_dr:.4}");
    for (kind, meta) in [("meta_r", meta_r), ("meta_dr", meta_dr)] {
        assert!(meta < 0.75 * pooled, "{kind}: rmse {meta} vs pooled {pooled}");
    }
    // one constant shift per source removes the means but not the slopes
    assert!(meta_dr < shift && shift < pooled, "mean_shift {shift}, pooled {pooled}");
}

#[test]
fn per_source_weights_weigh_the_psi_regression_only() {
    let (rows, _, _) = constant_biases();
    let data = rows.data();
    let cfg = ridge_cfg(Align::None);
    let x0 = Mat::<f64>::zeros(1, 3);
    // with c_s = 1 (no alignment), source weights v_s are the row weights v_s on their rows
    let v = [2.0, 0.5, 1.0];
    let as_rows: Vec<f64> = rows.source.iter().map(|&s| if s == 0 { 1.0 } else { v[s - 1] }).collect();
    let by_source = SourceData { source_weights: Some(&v), ..data };
    let by_row = SourceData { weights: Some(&as_rows), ..data };
    for kind in [RouterKind::Pooled, RouterKind::PrefOnly] {
        let a = train_router_sources(kind, &by_source, &cfg, Seed(1)).unwrap();
        let b = train_router_sources(kind, &by_row, &cfg, Seed(1)).unwrap();
        assert_eq!(
            bits(&a.router.predict_psi(rows.x.as_ref()).unwrap()),
            bits(&b.router.predict_psi(rows.x.as_ref()).unwrap())
        );
    }
    // weighting a source pulls pooled psi_hat towards its labels: at x = 0 source 1 reads
    // -0.5, source 2 reads 2 * 0.4 (weighted means -0.47 and 0.76)
    let at0 = |v: [f64; 3]| {
        let d = SourceData { source_weights: Some(&v), ..data };
        train_router_sources(RouterKind::Pooled, &d, &cfg, Seed(1)).unwrap().router.predict_psi(x0.as_ref()).unwrap()[0]
    };
    let (to1, to2) = (at0([50.0, 1.0, 1.0]), at0([1.0, 50.0, 1.0]));
    assert!(to1 < -0.35 && to2 > 0.6, "psi_hat(0): {to1} weighting source 1, {to2} weighting source 2");
    // the bias estimates ignore the source weights; the psi regression does not
    let plain = train_router_sources(RouterKind::MetaDr, &data, &cfg, Seed(1)).unwrap();
    let weighted = train_router_sources(RouterKind::MetaDr, &by_source, &cfg, Seed(1)).unwrap();
    for (a, b) in plain.sources.iter().zip(&weighted.sources) {
        assert_eq!(a.delta_mean.map(f64::to_bits), b.delta_mean.map(f64::to_bits));
        assert_eq!(a.predict_delta(x0.as_ref()).unwrap(), b.predict_delta(x0.as_ref()).unwrap());
    }
    assert_ne!(plain.router.predict_psi(x0.as_ref()).unwrap(), weighted.router.predict_psi(x0.as_ref()).unwrap());
}

#[test]
fn a_single_source_of_several_is_the_two_source_router_on_its_rows() {
    let (rows, _, _) = constant_biases();
    let data = rows.data();
    let cfg = ridge_cfg(Align::Std);
    let all = train_router_sources(RouterKind::MetaDr, &data, &cfg, Seed(5)).unwrap();
    for s in 1..=3 {
        let one = data.single(s).unwrap();
        assert!(one.source.iter().all(|&t| t <= 1) && one.n_sources == 1);
        let is_gold: Vec<f64> = one.source.iter().map(|&t| if t == 0 { 1.0 } else { 0.0 }).collect();
        let rd = RouterData {
            x: one.x.as_ref(),
            is_gold: &is_gold,
            label: &one.label,
            gold_everywhere: None,
            weights: None,
        };
        for kind in [RouterKind::PrefOnly, RouterKind::MetaDr] {
            let got = train_router_sources(kind, &one.view(), &cfg, Seed(5)).unwrap();
            let want = train_router(kind, &rd, &cfg, Seed(5)).unwrap();
            assert_same(kind, &got, &want, one.x.as_ref());
            // its scale is source s's scale in the joint fit
            assert_eq!(got.router.scale.to_bits(), all.sources[s - 1].scale.to_bits(), "source {s}");
        }
    }
    assert!(data.single(4).unwrap_err().to_string().contains("preference source 4"));
}

fn err(data: &SourceData<'_>) -> String {
    let cfg = ridge_cfg(Align::Std);
    train_router_sources(RouterKind::MetaDr, data, &cfg, Seed(0)).unwrap_err().to_string()
}

#[test]
fn bad_sources_are_clear_errors() {
    let (rows, _, _) = constant_biases();
    let data = rows.data();
    let mut source = rows.source.clone();
    source[7] = 4;
    let e = err(&SourceData { source: &source, ..data });
    assert!(e.contains("row 7") && e.contains("is 4") && e.contains("1..=3"), "{e}");
    let e = err(&SourceData { n_sources: 4, ..data });
    assert!(e.contains("preference source 4 has no rows"), "{e}");
    let no_gold: Vec<usize> = rows.source.iter().map(|&s| s.max(1)).collect();
    assert!(err(&SourceData { source: &no_gold, ..data }).contains("no gold rows"));
    assert!(matches!(validate_sources(&SourceData { source: &rows.source[1..], ..data }), Err(Error::Shape { .. })));
    assert!(matches!(validate_sources(&SourceData { label: &rows.label[1..], ..data }), Err(Error::Shape { .. })));
    assert!(err(&SourceData { n_sources: 0, ..data }).contains("n_sources"));
    let e = err(&SourceData { source_weights: Some(&[1.0, 1.0]), ..data });
    assert!(e.contains("source_weights") && e.contains("expected 3"), "{e}");
    for bad in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        let e = err(&SourceData { source_weights: Some(&[1.0, bad, 1.0]), ..data });
        assert!(e.contains("source_weights") && e.contains("preference source 2"), "{bad}: {e}");
    }
    // a source whose labels are constant: the alignment says so and names the source
    let mut label = rows.label.clone();
    for (l, &s) in label.iter_mut().zip(&rows.source) {
        if s == 3 {
            *l = 1.0;
        }
    }
    let e = err(&SourceData { label: &label, ..data });
    assert!(e.contains("preference source 3") && e.contains("constant"), "{e}");
    // the paper protocol takes one source; all_gold needs gold everywhere
    let paper = RouterConfig { protocol: Protocol::Paper, ..ridge_cfg(Align::Std) };
    let e = train_router_sources(RouterKind::MetaR, &data, &paper, Seed(0)).unwrap_err().to_string();
    assert!(e.contains("paper protocol") && e.contains("3"), "{e}");
    let e = train_router_sources(RouterKind::AllGold, &data, &ridge_cfg(Align::Std), Seed(0)).unwrap_err();
    assert!(e.to_string().contains("gold_everywhere"), "{e}");
}

#[test]
fn several_sources_are_bit_identical_for_1_2_and_8_threads() {
    let (rows, _, _) = constant_biases();
    let mut cfg = RouterConfig::with_learner(spec("rf", &["n_estimators=6", "max_depth=4"]));
    cfg.delta.final_stage = FinalStage::Fixed(spec("ridge", &["alpha=10"]));
    cfg.delta.propensity = Propensity::estimated(ClassifierSpec::from_name("logistic").unwrap());
    for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
        let out = in_pools(|| {
            let r = train_router_sources(kind, &rows.data(), &cfg, Seed(12)).unwrap();
            let mut v = bits(&r.router.predict_psi(rows.x.as_ref()).unwrap());
            for f in &r.sources {
                v.extend(bits(&f.predict_delta(rows.x.as_ref()).unwrap().unwrap()));
                v.push(f.scale.to_bits());
            }
            v
        });
        assert!(out[0] == out[1] && out[0] == out[2], "{kind:?}");
    }
}
