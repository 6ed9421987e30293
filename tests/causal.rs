//! The causal core end to end: baselines, meta-routers, recovery of known biases, bad input.

use faer::Mat;
use meta_router::causal::{
    Align, FinalStage, Propensity, Protocol, RouterConfig, RouterData, RouterKind, train_router,
};
use meta_router::learn::{Predict, RegressorSpec};
use meta_router::{Error, Seed};
use rand_distr::{Distribution, Normal};

/// Simulated routing data with known truth.
pub struct Sim {
    pub x: Mat<f64>,
    pub is_gold: Vec<f64>,
    pub label: Vec<f64>,
    pub gold: Vec<f64>,
    pub psi: Vec<f64>,
    pub delta: Vec<f64>,
}

/// Shape of a simulated data set.
#[derive(Clone, Copy)]
pub struct Spec {
    pub n: usize,
    pub d: usize,
    pub n_gold: usize,
    /// Preference labels sit on `scale` times the gold scale.
    pub scale: f64,
    pub noise: f64,
    pub seed: u64,
}

/// `n` rows, `d` features N(0, 1); gold label `psi + noise`, preference label
/// `scale * (psi - delta) + noise`; `n_gold` gold rows drawn at random.
pub fn simulate(spec: Spec, psi_fn: impl Fn(&[f64]) -> f64, delta_fn: impl Fn(&[f64]) -> f64) -> Sim {
    let Spec { n, d, n_gold, scale, noise, seed } = spec;
    let mut rng = Seed(seed).rng();
    let normal = Normal::new(0.0, 1.0).unwrap();
    let x = Mat::from_fn(n, d, |_, _| normal.sample(&mut rng));
    let mut row = vec![0.0; d];
    let (mut psi, mut delta, mut gold, mut pref) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        for j in 0..d {
            row[j] = x[(i, j)];
        }
        let p = psi_fn(&row);
        let dl = delta_fn(&row);
        psi.push(p);
        delta.push(dl);
        gold.push(p + noise * normal.sample(&mut rng));
        pref.push(scale * (p - dl) + noise * normal.sample(&mut rng));
    }
    let perm = meta_router::rng::permutation(n, &mut rng);
    let mut is_gold = vec![0.0; n];
    for &i in &perm[..n_gold] {
        is_gold[i] = 1.0;
    }
    let label = (0..n).map(|i| if is_gold[i] == 1.0 { gold[i] } else { pref[i] }).collect();
    Sim { x, is_gold, label, gold, psi, delta }
}

impl Sim {
    pub fn data(&self) -> RouterData<'_> {
        RouterData {
            x: self.x.as_ref(),
            is_gold: &self.is_gold,
            label: &self.label,
            gold_everywhere: Some(&self.gold),
            weights: None,
        }
    }
}

fn constant_cfg() -> RouterConfig {
    let c = RegressorSpec::from_name("constant").unwrap();
    RouterConfig { learner: c.clone(), nuisance: c, align: Align::None, ..Default::default() }
}

#[test]
fn a_constant_bias_is_recovered_by_both_learners() {
    let sim =
        simulate(Spec { n: 3000, d: 3, n_gold: 300, scale: 1.0, noise: 0.3, seed: 1 }, |x| 0.2 + 0.0 * x[0], |_| 0.5);
    let cfg = constant_cfg();
    for kind in [RouterKind::MetaR, RouterKind::MetaDr, RouterKind::MeanShift] {
        let r = train_router(kind, &sim.data(), &cfg, Seed(7)).unwrap();
        let d = r.predict_delta(sim.x.as_ref()).unwrap().unwrap();
        assert!((d[0] - sim.delta[0]).abs() < 0.06, "{}: Delta_hat = {}", kind.name(), d[0]);
        let psi = r.predict_psi(sim.x.as_ref()).unwrap();
        assert!((psi[0] - sim.psi[0]).abs() < 0.05, "{}: psi_hat = {}", kind.name(), psi[0]);
    }
    // pooled without debiasing is pulled towards the preference mean 0.2 - 0.5
    let pooled = train_router(RouterKind::Pooled, &sim.data(), &cfg, Seed(7)).unwrap();
    assert!(pooled.predict_psi(sim.x.as_ref()).unwrap()[0] < -0.2);
}

#[test]
fn every_router_trains_and_reports() {
    let sim = simulate(
        Spec { n: 600, d: 4, n_gold: 60, scale: 2.0, noise: 0.3, seed: 2 },
        |x| 0.1 + 0.3 * x[0],
        |x| 0.2 * x[1],
    );
    let cfg = RouterConfig { align: Align::Wasserstein, ..constant_cfg() };
    for kind in RouterKind::ALL {
        let r = train_router(kind, &sim.data(), &cfg, Seed(3)).unwrap();
        assert_eq!(r.kind, kind);
        assert_eq!(RouterKind::from_name(kind.name()).unwrap(), kind);
        assert!(r.scale > 1.0 && r.scale < 3.0, "{}: c = {}", kind.name(), r.scale);
        assert_eq!(r.diagnostics.n_gold, 60);
        assert_eq!(r.delta.is_some(), kind.is_meta() || kind == RouterKind::MeanShift);
        if kind.is_meta() {
            let fs = r.diagnostics.final_stage.as_ref().unwrap();
            assert!(!fs.candidates.is_empty());
            assert!(r.diagnostics.overlap.is_some());
        }
    }
    assert!(RouterKind::from_name("random").unwrap_err().to_string().contains("random"));
}

#[test]
fn results_are_bit_identical_across_thread_counts() {
    let sim =
        simulate(Spec { n: 500, d: 3, n_gold: 50, scale: 1.5, noise: 0.3, seed: 4 }, |x| 0.3 * x[0], |x| 0.2 * x[1]);
    let cfg = RouterConfig {
        propensity: Propensity::estimated(meta_router::causal::default_propensity_classifier()),
        repeats: 2,
        ..constant_cfg()
    };
    let run = || -> Vec<u64> {
        let mut bits = vec![];
        for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
            let r = train_router(kind, &sim.data(), &cfg, Seed(9)).unwrap();
            bits.extend(r.predict_psi(sim.x.as_ref()).unwrap().iter().map(|v| v.to_bits()));
            bits.extend(r.predict_delta(sim.x.as_ref()).unwrap().unwrap().iter().map(|v| v.to_bits()));
        }
        bits
    };
    let base = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(run);
    for k in [2, 8] {
        assert_eq!(base, rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap().install(run), "{k} threads");
    }
}

#[test]
fn paper_protocol_clips_delta_and_skips_alignment() {
    let sim = simulate(Spec { n: 800, d: 3, n_gold: 100, scale: 3.0, noise: 0.3, seed: 5 }, |x| 0.3 * x[0], |_| 5.0);
    let cfg = RouterConfig { protocol: Protocol::Paper, align: Align::Std, ..constant_cfg() };
    for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
        let r = train_router(kind, &sim.data(), &cfg, Seed(1)).unwrap();
        assert_eq!(r.scale, 1.0);
        assert_eq!(r.delta_clip, Some([-1.2, 1.2]));
        let d = r.predict_delta(sim.x.as_ref()).unwrap().unwrap();
        assert!(d.iter().all(|v| v.abs() <= 1.2));
        assert!(r.diagnostics.rows_kept.is_some());
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let sim = simulate(Spec { n: 100, d: 2, n_gold: 20, scale: 1.0, noise: 0.3, seed: 6 }, |x| x[0], |_| 0.1);
    let cfg = constant_cfg();
    let mut d = sim.data();
    d.gold_everywhere = None;
    let e = train_router(RouterKind::AllGold, &d, &cfg, Seed(0)).unwrap_err();
    assert!(e.to_string().contains("gold_everywhere"), "{e}");
    let none = vec![0.0; 100];
    let e = train_router(RouterKind::Pooled, &RouterData { is_gold: &none, ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(e.to_string().contains("no gold rows"), "{e}");
    let all = vec![1.0; 100];
    let e = train_router(RouterKind::Pooled, &RouterData { is_gold: &all, ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(e.to_string().contains("no preference rows"), "{e}");
    let mut lab = sim.label.clone();
    lab[7] = f64::NAN;
    let e = train_router(RouterKind::MetaR, &RouterData { label: &lab, ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(matches!(e, Error::NonFinite { row: 7, .. }), "{e}");
    let e =
        train_router(RouterKind::MetaR, &RouterData { label: &lab[..50], ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e}");
    let mut g = sim.is_gold.clone();
    g[3] = 0.5;
    let e = train_router(RouterKind::MetaR, &RouterData { is_gold: &g, ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(e.to_string().contains("is_gold at row 3"), "{e}");
    let few: Vec<f64> = (0..100).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect();
    let e = train_router(RouterKind::MetaDr, &RouterData { is_gold: &few, ..sim.data() }, &cfg, Seed(0)).unwrap_err();
    assert!(e.to_string().contains("3 gold rows cannot fill 5 folds"), "{e}");
    let bad = RouterConfig { n_folds: 1, ..constant_cfg() };
    assert!(train_router(RouterKind::MetaR, &sim.data(), &bad, Seed(0)).is_err());
    let fixed = RouterConfig { final_stage: FinalStage::Fixed(RegressorSpec::from_name("constant").unwrap()), ..cfg };
    let r = train_router(RouterKind::MetaR, &sim.data(), &fixed, Seed(0)).unwrap();
    assert!(r.diagnostics.final_stage.unwrap().candidates.is_empty());
    assert!(r.psi.predict_row(&[0.0, 0.0]).unwrap().is_finite());
}
