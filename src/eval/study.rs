//! The Monte-Carlo study: repeated random splits of one table into test, gold and preference
//! rows; every router trained on the training rows and scored on the test rows.
//!
//! Round `r` draws everything from `seed.indexed(ROUND, r)`:
//! * a permutation of the `n` rows: the first `n_test` are test rows (scored with their gold
//!   labels `g`), the next `n_gold` training rows keep their gold labels, the rest keep their
//!   preference labels (with [`GoldSelection::Active`], the first batch of those `n_gold` rows
//!   starts [`crate::eval::active::select_gold`], which chooses the rest batch by batch, and the
//!   routers train with the design's known propensity, [`train_router_known`]);
//! * optionally a PCA with `K` components fitted on the round's *training* rows only (never the
//!   test rows), applied to both;
//! * every router trained by [`crate::router::train_router`] with the round's router seed
//!   `round_seed.child(ROUTER)`, the same for all routers (common random numbers: differences
//!   between routers are not blurred by different seeds);
//! * `random`, the evaluation baseline: a random permutation of the test rows drawn from
//!   `seed.indexed(EVAL, r)`;
//! * the efficiency-gain curve of each router on the test rows ([`crate::eval::curves`]),
//!   the oracle's (scores = the true psi where known, else the test gold labels), and where the
//!   true psi and delta are known, the RMSE of `Delta_hat / c` on the test rows against the true
//!   bias *on the router's scale*:
//!   ```text
//!   Delta_c(x) / c = E[c gs - pb | x] / c = psi(x) - (s / c) (psi(x) - delta(x))
//!   ```
//!   with `c` the router's alignment constant and `s` the preference scale
//!   ([`StudyData::pref_scale`]). When the alignment recovers the scale (`c = s`) this is the
//!   true `delta`; when it does not, comparing with `delta` itself would charge the learner for
//!   the alignment's error, which is a property of the data, not of the estimate.
//!
//! Rounds run in parallel (rayon, one round per task, gathered in round order); inside a round
//! everything is sequential apart from the learners' own deterministic parallelism. Results are
//! therefore bit-identical for any thread count, and with or without a progress observer
//! ([`crate::eval::progress`]), which is told of each finished round. The feature matrix is shared read-only; each
//! round gathers its training and test rows once and every router reads that one copy.

use std::sync::atomic::{AtomicUsize, Ordering};

use faer::{Mat, MatRef};

use crate::check;
use crate::error::{Error, Result};
use crate::eval::active::{self, GoldSelection};
use crate::eval::curves::{CurveScratch, GRID};
use crate::eval::progress::{NoProgress, Progress};
use crate::eval::summary::{Round, RouterRound, StudyOutcome};
use crate::learn::pca::PcaParams;
use crate::linalg::select::select_rows;
use crate::par;
use crate::rng::{Seed, permutation, stream};
use crate::router::{RouterConfig, RouterData, RouterKind, train_router, train_router_known};
use crate::sim::SimData;

/// A table for a study: features, both labels on every row, and the truth when known.
#[derive(Clone, Debug)]
pub struct StudyData {
    /// Features, `n x d`.
    pub x: Mat<f64>,
    /// Gold labels, one per row.
    pub gold: Vec<f64>,
    /// Preference labels, one per row.
    pub pref: Vec<f64>,
    /// The true gold gain psi(x), when known (simulated data).
    pub psi: Option<Vec<f64>>,
    /// The true bias delta(x) on the gold scale, when known.
    pub delta: Option<Vec<f64>>,
    /// The scale `s` of preference labels, `pb = s (psi - delta) + noise`, when known; when
    /// `None` and psi and delta are given, it is estimated (see [`StudyData::pref_scale`]).
    pub scale: Option<f64>,
}

impl From<SimData> for StudyData {
    fn from(s: SimData) -> Self {
        StudyData { x: s.x, gold: s.gold, pref: s.pref, psi: Some(s.psi), delta: Some(s.delta), scale: Some(s.scale) }
    }
}

impl StudyData {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// The preference scale `s`: as given, or (with psi and delta known) the least-squares
    /// slope through the origin of the preference labels on `eta = psi - delta`,
    /// `s = sum pb eta / sum eta^2`. `None` without the truth or when `eta` is identically 0.
    pub fn pref_scale(&self) -> Option<f64> {
        if self.scale.is_some() {
            return self.scale;
        }
        let (psi, delta) = (self.psi.as_ref()?, self.delta.as_ref()?);
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..psi.len() {
            let eta = psi[i] - delta[i];
            num += self.pref[i] * eta;
            den += eta * eta;
        }
        (den > 0.0).then(|| num / den)
    }

    /// Checks lengths and finiteness.
    ///
    /// # Errors
    /// [`Error::Shape`] for a column of the wrong length, [`Error::NonFinite`] naming the
    /// column and row of a NaN or infinite value, [`Error::Empty`] without rows or features.
    pub fn validate(&self) -> Result<()> {
        let n = self.n_rows();
        if n == 0 || self.x.ncols() == 0 {
            return Err(Error::empty("study data: no rows or no feature columns"));
        }
        check::finite_matrix("features", self.x.as_ref())?;
        let cols = [("gold labels", Some(&self.gold)), ("preference labels", Some(&self.pref))];
        let truths = [("true psi", self.psi.as_ref()), ("true delta", self.delta.as_ref())];
        for (what, col) in cols.into_iter().chain(truths) {
            if let Some(v) = col {
                if v.len() != n {
                    return Err(Error::shape(format!("study data: {what}"), n, v.len()));
                }
                check::finite_slice(what, v)?;
            }
        }
        Ok(())
    }
}

/// A router in a study: a trained router, or the random baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudyRouter {
    /// A random permutation of the test rows.
    Random,
    /// A router trained by [`train_router`].
    Trained(RouterKind),
}

impl StudyRouter {
    /// Every router: the trained ones in [`RouterKind::ALL`] order, then `random`.
    pub fn all() -> Vec<StudyRouter> {
        RouterKind::ALL.iter().map(|&k| StudyRouter::Trained(k)).chain([StudyRouter::Random]).collect()
    }

    /// The name used in every output.
    pub fn name(self) -> &'static str {
        match self {
            StudyRouter::Random => "random",
            StudyRouter::Trained(k) => k.name(),
        }
    }

    /// Parses a name (`random` or a router name).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        if s == "random" { Ok(StudyRouter::Random) } else { RouterKind::from_name(s).map(StudyRouter::Trained) }
    }

    /// Parses a comma list of names; empty entries are skipped, duplicates rejected.
    ///
    /// # Errors
    /// An unknown or repeated name, or an empty list.
    pub fn parse_list(list: &str) -> Result<Vec<StudyRouter>> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let r = StudyRouter::from_name(name).map_err(|e| match e {
                Error::InvalidParam { reason, .. } => Error::param("study", "--routers", reason),
                other => other,
            })?;
            if out.contains(&r) {
                return Err(Error::param("study", "--routers", format!("router `{name}` is listed twice")));
            }
            out.push(r);
        }
        if out.is_empty() {
            return Err(Error::param("study", "--routers", "no router named"));
        }
        Ok(out)
    }
}

/// How curves are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurveProtocol {
    /// `EG(rho)` with every router sending its top `round(rho m)` queries (the default).
    #[default]
    Standard,
    /// The authors' evaluation: curves cut where `psi_hat <= 0`, gain over one random permutation.
    Paper,
}

/// A study's settings.
///
/// Defaults: `n_gold` 100, `n_test` 500, `rounds` 200, every router, the default
/// [`RouterConfig`], the standard curve protocol, no PCA.
#[derive(Clone, Debug)]
pub struct StudyConfig {
    /// Gold-labelled training rows per round.
    pub n_gold: usize,
    /// Test rows per round.
    pub n_test: usize,
    /// Monte-Carlo rounds.
    pub rounds: usize,
    /// Routers to evaluate, in reporting order.
    pub routers: Vec<StudyRouter>,
    /// How routers are trained.
    pub router: RouterConfig,
    /// How curves are computed.
    pub curves: CurveProtocol,
    /// Principal components fitted per round on the training rows (`None`: raw features).
    pub pca: Option<usize>,
    /// How the gold rows are chosen among the training rows (default: at random).
    pub gold_selection: GoldSelection,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            n_gold: 100,
            n_test: 500,
            rounds: 200,
            routers: StudyRouter::all(),
            router: RouterConfig::default(),
            curves: CurveProtocol::Standard,
            pca: None,
            gold_selection: GoldSelection::Random,
        }
    }
}

impl StudyConfig {
    /// Checks the settings against a table of `n` rows and `d` features.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `--rounds`, `--gold`, `--test`, `--pca` or `--routers`.
    pub fn validate(&self, n: usize, d: usize) -> Result<()> {
        if self.rounds == 0 {
            return Err(Error::param("study", "--rounds", "must be at least 1, got 0"));
        }
        if self.n_gold == 0 {
            return Err(Error::param("study", "--gold", "must be at least 1, got 0"));
        }
        if self.n_test == 0 {
            return Err(Error::param("study", "--test", "must be at least 1, got 0"));
        }
        let needed = self.n_gold.saturating_add(self.n_test).saturating_add(1);
        if needed > n {
            return Err(Error::param(
                "study",
                "--gold",
                format!(
                    "--gold {} + --test {} leaves no preference rows: the data has {n} rows, \
                     at least {needed} are needed",
                    self.n_gold, self.n_test
                ),
            ));
        }
        if self.routers.is_empty() {
            return Err(Error::param("study", "--routers", "no router named"));
        }
        if let Some(k) = self.pca {
            if k == 0 || k > d {
                return Err(Error::param("study", "--pca", format!("must be in 1..={d} (the feature count), got {k}")));
            }
        }
        if let GoldSelection::Active(a) = &self.gold_selection {
            a.validate(self.n_gold)?;
        }
        self.router.validate()
    }
}

/// Round `r`'s split of the table's rows (test rows first in the round's permutation, the gold
/// rows the first `n_gold` training rows) and its features, PCA scores fitted on the training
/// rows when `cfg.pca` asks for them. Shared by the two-model and the K-model study, so both
/// see the same rows in every round.
pub(crate) struct RoundSplit {
    /// `seed.indexed(ROUND, r)`: every other stream of the round derives from it.
    pub round_seed: Seed,
    /// The round's permutation of the rows: `perm[..n_test]` test rows, the rest training rows.
    perm: Vec<usize>,
    n_test: usize,
    /// Training rows' features (or PCA scores).
    pub x_train: Mat<f64>,
    /// Test rows' features (or PCA scores).
    pub x_test: Mat<f64>,
}

impl RoundSplit {
    /// Draws round `r` of the study with seed `seed` on the features `x`.
    pub(crate) fn new(x: MatRef<'_, f64>, cfg: &StudyConfig, seed: Seed, r: usize) -> Result<Self> {
        let round_seed = seed.indexed(stream::ROUND, r as u64);
        let perm = permutation(x.nrows(), &mut round_seed.rng());
        let (test, train) = perm.split_at(cfg.n_test);
        let mut x_train = select_rows(x, train);
        let mut x_test = select_rows(x, test);
        if let Some(k) = cfg.pca {
            let pca = PcaParams { n_components: k, ..Default::default() }
                .fit(x_train.as_ref(), round_seed.child(stream::SKETCH))?;
            x_train = pca.transform(x_train.as_ref())?;
            x_test = pca.transform(x_test.as_ref())?;
        }
        Ok(RoundSplit { round_seed, perm, n_test: cfg.n_test, x_train, x_test })
    }

    /// The test rows (table indices).
    pub(crate) fn test(&self) -> &[usize] {
        &self.perm[..self.n_test]
    }

    /// The training rows (table indices); the first `n_gold` are the randomly drawn gold rows.
    pub(crate) fn train(&self) -> &[usize] {
        &self.perm[self.n_test..]
    }
}

/// One round (see the module docs).
pub(crate) fn run_round(
    data: &StudyData,
    cfg: &StudyConfig,
    pref_scale: Option<f64>,
    seed: Seed,
    r: usize,
) -> Result<Round> {
    let split = RoundSplit::new(data.x.as_ref(), cfg, seed, r)?;
    let RoundSplit { round_seed, ref x_train, ref x_test, .. } = split;
    let (test, train) = (split.test(), split.train());
    let n_gold = cfg.n_gold;
    let (is_gold, known_e) = match &cfg.gold_selection {
        GoldSelection::Random => ((0..train.len()).map(|i| if i < n_gold { 1.0 } else { 0.0 }).collect(), None),
        GoldSelection::Active(a) => {
            let gold: Vec<f64> = train.iter().map(|&row| data.gold[row]).collect();
            let pref: Vec<f64> = train.iter().map(|&row| data.pref[row]).collect();
            let sel = active::select_gold(x_train.as_ref(), &gold, &pref, a, &cfg.router, round_seed)?;
            (sel.is_gold, Some(sel.e))
        }
    };
    let label: Vec<f64> = train
        .iter()
        .enumerate()
        .map(|(i, &row)| if is_gold[i] == 1.0 { data.gold[row] } else { data.pref[row] })
        .collect();
    let gold_everywhere: Vec<f64> = train.iter().map(|&row| data.gold[row]).collect();
    let g: Vec<f64> = test.iter().map(|&row| data.gold[row]).collect();
    // The bias on the router's scale needs psi, delta and s; see the module docs.
    let truth: Option<(Vec<f64>, Vec<f64>, f64)> = match (&data.psi, &data.delta, pref_scale) {
        (Some(p), Some(d), Some(s)) => {
            Some((test.iter().map(|&row| p[row]).collect(), test.iter().map(|&row| d[row]).collect(), s))
        }
        _ => None,
    };
    let router_data = RouterData {
        x: x_train.as_ref(),
        is_gold: &is_gold,
        label: &label,
        gold_everywhere: Some(&gold_everywhere),
        weights: None,
    };

    // The random baseline's order, also the paper protocol's reference permutation.
    let random_order = permutation(cfg.n_test, &mut seed.indexed(stream::EVAL, r as u64).rng());
    let mut random_scores = vec![0.0; cfg.n_test];
    for (k, &row) in random_order.iter().enumerate() {
        random_scores[row] = (cfg.n_test - k) as f64;
    }
    let mut scratch = CurveScratch::default();
    let mut curve_of = |scores: &[f64]| -> Result<Vec<f64>> {
        let mut c = vec![0.0; GRID];
        match cfg.curves {
            CurveProtocol::Standard => scratch.efficiency_gain_into(&g, scores, &mut c)?,
            CurveProtocol::Paper => scratch.paper_gain_into(&g, scores, &random_order, &mut c)?,
        }
        Ok(c)
    };

    let router_seed = round_seed.child(stream::ROUTER);
    let mut routers = Vec::with_capacity(cfg.routers.len());
    for &which in &cfg.routers {
        let rr = match which {
            StudyRouter::Random => RouterRound { curve: curve_of(&random_scores)?, delta_rmse: None },
            StudyRouter::Trained(kind) => {
                let trained = match &known_e {
                    None => train_router(kind, &router_data, &cfg.router, router_seed)?,
                    Some(e) => train_router_known(kind, &router_data, e, &cfg.router, router_seed)?,
                };
                let psi_hat = trained.predict_psi(x_test.as_ref())?;
                let delta_rmse = match (&truth, trained.predict_delta(x_test.as_ref())?) {
                    (Some((psi, delta, s)), Some(mut d)) => {
                        let c = trained.scale;
                        let mut sq = 0.0;
                        for i in 0..d.len() {
                            let target = psi[i] - (s / c) * (psi[i] - delta[i]);
                            d[i] = d[i] / c - target;
                            sq += d[i] * d[i];
                        }
                        Some((sq / d.len() as f64).sqrt())
                    }
                    _ => None,
                };
                RouterRound { curve: curve_of(&psi_hat)?, delta_rmse }
            }
        };
        routers.push(rr);
    }
    let oracle = match &data.psi {
        Some(psi) => curve_of(&test.iter().map(|&row| psi[row]).collect::<Vec<f64>>())?,
        None => curve_of(&g.clone())?,
    };
    Ok(Round { routers, oracle })
}

/// Runs a study, reporting no progress (see [`run_study_with`]).
///
/// # Errors
/// Invalid data or settings (see [`StudyData::validate`], [`StudyConfig::validate`]), or the
/// first failing round's error (lowest round index, independent of scheduling).
pub fn run_study(data: &StudyData, cfg: &StudyConfig, seed: Seed) -> Result<StudyOutcome> {
    run_study_with(data, cfg, seed, &NoProgress)
}

/// Runs a study, calling `progress` once per finished round (from the thread that ran it; the
/// counts `1..=rounds` each once, in any order). The outcome is the same as [`run_study`]'s.
///
/// # Errors
/// As [`run_study`]; when the data or settings are invalid, `progress` is never called.
pub fn run_study_with(
    data: &StudyData,
    cfg: &StudyConfig,
    seed: Seed,
    progress: &dyn Progress,
) -> Result<StudyOutcome> {
    data.validate()?;
    cfg.validate(data.n_rows(), data.x.ncols())?;
    let per_round = crate::budget::product(&[cfg.routers.len() + 2, GRID * 8 + size_of::<RouterRound>()]);
    let need = crate::budget::product(&[cfg.rounds]).saturating_mul(per_round + size_of::<Result<Round>>() as u64);
    crate::budget::check(format_args!("--rounds {}", cfg.rounds), "the study's per-round results", need)?;
    let pref_scale = data.pref_scale();
    let done = AtomicUsize::new(0);
    let rounds = par::try_map_indexed(cfg.rounds, |r| {
        let out = run_round(data, cfg, pref_scale, seed, r);
        progress.round_done(done.fetch_add(1, Ordering::Relaxed) + 1, cfg.rounds);
        out
    });
    Ok(StudyOutcome { routers: cfg.routers.iter().map(|r| r.name().to_string()).collect(), rounds: rounds? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_lists_parse_and_reject_bad_names() {
        let v = StudyRouter::parse_list("meta_r, random,gold_only").unwrap();
        assert_eq!(
            v,
            vec![
                StudyRouter::Trained(RouterKind::MetaR),
                StudyRouter::Random,
                StudyRouter::Trained(RouterKind::GoldOnly)
            ]
        );
        let e = StudyRouter::parse_list("meta_r,nope").unwrap_err().to_string();
        assert!(e.contains("--routers") && e.contains("nope") && e.contains("meta_dr"), "{e}");
        assert!(StudyRouter::parse_list("random,random").unwrap_err().to_string().contains("twice"));
        assert!(StudyRouter::parse_list(" , ").is_err());
        assert_eq!(StudyRouter::all().len(), 8);
    }

    #[test]
    fn settings_are_checked_against_the_data() {
        let cfg = StudyConfig::default();
        assert!(cfg.validate(5000, 50).is_ok());
        let e = cfg.validate(600, 50).unwrap_err().to_string();
        assert!(e.contains("--gold") && e.contains("600"), "{e}");
        let e = StudyConfig { rounds: 0, ..Default::default() }.validate(5000, 50).unwrap_err().to_string();
        assert!(e.contains("--rounds"), "{e}");
        let e = StudyConfig { pca: Some(60), ..Default::default() }.validate(5000, 50).unwrap_err().to_string();
        assert!(e.contains("--pca"), "{e}");
    }

    #[test]
    fn preference_scale_is_recovered_from_the_truth() {
        let sim = crate::sim::SimParams { n: 4000, ..Default::default() }.simulate(Seed(3)).unwrap();
        let s = sim.scale;
        let mut d: StudyData = sim.into();
        assert_eq!(d.pref_scale(), Some(s));
        d.scale = None;
        let est = d.pref_scale().unwrap();
        assert!((est - s).abs() < 0.05 * s, "{est} vs {s}");
        d.delta = None;
        assert_eq!(d.pref_scale(), None);
    }

    #[test]
    fn progress_is_told_of_every_round_once_and_changes_nothing() {
        let data: StudyData = crate::sim::SimParams { n: 600, ..Default::default() }.simulate(Seed(9)).unwrap().into();
        let ridge = crate::learn::RegressorSpec::from_name("ridge").unwrap();
        let cfg = StudyConfig {
            n_gold: 60,
            n_test: 150,
            rounds: 6,
            routers: vec![StudyRouter::Trained(RouterKind::GoldOnly), StudyRouter::Random],
            router: RouterConfig::with_learner(ridge),
            ..Default::default()
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let observer = |done: usize, total: usize| {
            assert_eq!(total, 6);
            seen.lock().unwrap().push(done);
        };
        let observed = run_study_with(&data, &cfg, Seed(4), &observer).unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (1..=6).collect::<Vec<_>>());
        let plain = run_study(&data, &cfg, Seed(4)).unwrap();
        assert_eq!(observed, plain);
        assert_eq!(observed.summary().unwrap(), plain.summary().unwrap());
        // Invalid settings fail before any round, so the observer is never called.
        let calls = AtomicUsize::new(0);
        let bad = StudyConfig { n_test: 1000, ..cfg };
        let count = |_: usize, _: usize| {
            calls.fetch_add(1, Ordering::Relaxed);
        };
        assert!(run_study_with(&data, &bad, Seed(4), &count).is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn bad_study_data_is_named() {
        let mut d = StudyData {
            x: Mat::from_fn(4, 1, |i, _| i as f64),
            gold: vec![0.0; 4],
            pref: vec![0.0, f64::NAN, 0.0, 0.0],
            psi: None,
            delta: None,
            scale: None,
        };
        assert!(d.validate().unwrap_err().to_string().contains("preference labels"));
        d.pref[1] = 0.0;
        d.gold.pop();
        assert!(d.validate().unwrap_err().to_string().contains("gold labels"));
    }
}
