//! The Monte-Carlo study among `K` models (issue #13): today's study ([`crate::eval::study`])
//! with a quality-cost curve ([`crate::eval::quality_cost`]) in place of the efficiency gain.
//!
//! Round `r` draws, from `seed.indexed(ROUND, r)` exactly as today's study:
//! * a permutation of the `n` rows: the first `n_test` are test rows, the next `n_gold` training
//!   rows keep their gold labels (every model's), the rest keep their judges' labels;
//! * optionally a PCA fitted on the round's training rows only;
//! * every router of today's names trained for every model by
//!   [`crate::router::multi::train_multi`] with the round's router seed
//!   `round_seed.child(ROUTER)` (the same for every router and model), giving `psi_hat_k` on the
//!   gold scale on the test rows; the reference model is the cheapest;
//! * `random`: for each model but the reference, in model order, a random permutation of the
//!   test rows drawn from one stream `seed.indexed(EVAL, r)`, its ranks as scores (the first is
//!   today's random order);
//! * the oracle: the true `psi_k` where known, else the test gold labels.
//!
//! Per router and round, the quality-cost curve of its `psi_hat` against the test rows' gold
//! qualities under the models' constant costs, and its **area** above the random-mixing line
//! over `u = 0.20..0.80`. For two models this is today's efficiency gain bit for bit, and the
//! rows, seeds and training calls are today's, so `K = 2` with one judge reproduces today's
//! study's per-round AUCs to the last digit (a test checks it). Each single model alone is
//! reported as a point: its mean cost, its mean gold quality, and its quality minus the mixing
//! line's at its own cost (`<= 0`; zero for a model on the mixing hull).
//!
//! Summary over `R` rounds, per router: the mean area, its Monte-Carlo standard error
//! `sd / sqrt(R)`, and the paired difference to `pooled` with its paired standard error
//! ([`crate::eval::paired::paired_diff`]).
//!
//! Rounds run in parallel and are gathered in round order: bit-identical for any thread count.
//! Per-query costs ([`MultiStudyData::cost_table`], e.g. token costs): the curves use each test
//! row's own costs ([`Costs::PerQuery`]), a single model's cost is its mean over the test rows,
//! and the reference is the model cheapest on average over all rows. With constant columns the
//! figures equal those of constant costs to the last digit.
//!
//! With several judges, `pref_only` (every judge's labels) is joined by one `pref_only_<judge>`
//! per judge: the same router on that judge's labels alone (the per-source baselines).
//!
//! Not (yet) supported here: active gold selection, the paper's curve protocol.

use faer::Mat;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::active::GoldSelection;
use crate::eval::paired::paired_diff;
use crate::eval::quality_cost::{Costs, QualityCostCurve, QualityCostScratch};
use crate::eval::study::{CurveProtocol, RoundSplit, StudyConfig, StudyRouter};
use crate::par;
use crate::rng::{Seed, permutation, stream};
use crate::router::RouterKind;
use crate::router::multi::{ModelCosts, MultiData, MultiSpec, train_multi};
use crate::sim::multi::MultiSimData;

/// A table for the K-model study: features, every model's gold and judge labels on every row,
/// the truth when known.
#[derive(Clone, Debug)]
pub struct MultiStudyData {
    /// Features, `n x d`.
    pub x: Mat<f64>,
    /// Model names.
    pub models: Vec<String>,
    /// Judge names.
    pub judges: Vec<String>,
    /// Cost of a call to each model; with [`MultiStudyData::cost_table`], each model's mean
    /// cost over the rows (it chooses the reference, the cheapest on average).
    pub costs: Vec<f64>,
    /// Per-query costs, `n x K` (token costs of each query on each model), when they vary;
    /// the curves then use the test rows' own costs.
    pub cost_table: Option<Mat<f64>>,
    /// Gold qualities (or gains against a common baseline), `n x K`.
    pub gold: Mat<f64>,
    /// Per judge, preference qualities, `n x K`.
    pub pref: Vec<Mat<f64>>,
    /// The true gains `psi_k`, `n x K`, when known.
    pub psi: Option<Mat<f64>>,
}

impl From<MultiSimData> for MultiStudyData {
    fn from(s: MultiSimData) -> Self {
        MultiStudyData {
            x: s.x,
            models: s.models,
            judges: s.judges,
            costs: s.costs,
            cost_table: None,
            gold: s.gold,
            pref: s.pref,
            psi: Some(s.psi),
        }
    }
}

impl MultiStudyData {
    /// Checks shapes, finiteness and the models' spec (names, costs).
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], non-finite values, an invalid [`MultiSpec`].
    pub fn validate(&self) -> Result<()> {
        let (n, k) = (self.x.nrows(), self.models.len());
        self.spec().validate()?;
        if n == 0 || self.x.ncols() == 0 {
            return Err(Error::empty("study data: no rows or no feature columns"));
        }
        if self.pref.is_empty() || self.pref.len() != self.judges.len() {
            return Err(Error::shape(
                "study data: judges' label tables vs judge names",
                self.judges.len(),
                self.pref.len(),
            ));
        }
        crate::check::finite_matrix("features", self.x.as_ref())?;
        let tables = std::iter::once(("gold labels", &self.gold))
            .chain(self.pref.iter().map(|p| ("preference labels", p)))
            .chain(self.psi.iter().map(|p| ("true psi", p)))
            .chain(self.cost_table.iter().map(|c| ("costs", c)));
        for (what, m) in tables {
            if m.nrows() != n || m.ncols() != k {
                return Err(Error::shape(format!("study data: {what} (rows x models)"), n * k, m.nrows() * m.ncols()));
            }
            crate::check::finite_matrix(what, m.as_ref())?;
        }
        if let Some(c) = &self.cost_table {
            for (j, name) in self.models.iter().enumerate() {
                if let Some(i) = (0..n).find(|&i| c[(i, j)] < 0.0) {
                    return Err(Error::param(
                        "study",
                        "costs",
                        format!("model `{name}` has the negative cost {} on row {}", c[(i, j)], i + 1),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sets per-query costs (`n x K`) and each model's mean cost from them.
    pub fn set_cost_table(&mut self, table: Mat<f64>) {
        let n = table.nrows().max(1) as f64;
        self.costs = (0..table.ncols()).map(|j| (0..table.nrows()).map(|i| table[(i, j)]).sum::<f64>() / n).collect();
        self.cost_table = Some(table);
    }

    fn spec(&self) -> MultiSpec {
        MultiSpec { models: self.models.clone(), costs: ModelCosts::PerModel(self.costs.clone()), reference: None }
    }
}

/// One router's result in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiRouterRound {
    /// The quality-cost curve's gain above the mixing line on the grid.
    pub gain: Vec<f64>,
    /// Its area (mean over `u = 0.20..0.80`).
    pub area: f64,
    /// Quality at the best single model's cost minus that model's, per query.
    pub matched_cost_gain: f64,
}

/// A single model alone in one round (mean over the test rows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SingleRound {
    /// Mean cost per query.
    pub cost: f64,
    /// Mean gold quality.
    pub quality: f64,
    /// Mean quality minus the mixing line's at the model's own cost (`<= 0`).
    pub vs_mixing: f64,
}

/// One round: every router, the oracle, every single model.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiRound {
    /// Results in the order of [`MultiStudyOutcome::routers`].
    pub routers: Vec<MultiRouterRound>,
    /// The oracle (true psi, else the gold labels).
    pub oracle: MultiRouterRound,
    /// One per model.
    pub singles: Vec<SingleRound>,
}

/// Every round of a K-model study.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStudyOutcome {
    /// Model names.
    pub models: Vec<String>,
    /// Judge names.
    pub sources: Vec<String>,
    /// Router names, in reporting order.
    pub routers: Vec<String>,
    /// Rounds, in round order.
    pub rounds: Vec<MultiRound>,
}

/// A router's summary over rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiRouterSummary {
    /// Its name.
    pub name: String,
    /// Mean area.
    pub area: f64,
    /// Monte-Carlo standard error of the mean area (NaN for one round).
    pub area_se: f64,
    /// Mean paired area difference to `pooled` (`None` without `pooled`).
    pub diff_vs_pooled: Option<f64>,
    /// Its paired standard error (`None` for fewer than two rounds).
    pub diff_vs_pooled_se: Option<f64>,
    /// Mean quality gain at the best single model's cost.
    pub matched_cost_gain: f64,
}

/// A single model's summary over rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct SingleSummary {
    /// The model's name.
    pub name: String,
    /// Mean cost per query.
    pub cost: f64,
    /// Mean gold quality.
    pub quality: f64,
    /// Mean quality minus the mixing line's at the model's own cost (`<= 0`).
    pub vs_mixing: f64,
}

/// The summary of a K-model study.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiSummary {
    /// Rounds.
    pub rounds: usize,
    /// Model names.
    pub models: Vec<String>,
    /// Judge names.
    pub sources: Vec<String>,
    /// One per router, in reporting order.
    pub routers: Vec<MultiRouterSummary>,
    /// The oracle.
    pub oracle: MultiRouterSummary,
    /// One per model.
    pub singles: Vec<SingleSummary>,
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let r = v.len() as f64;
    let mean = v.iter().sum::<f64>() / r;
    let se = if v.len() > 1 {
        (v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / (r - 1.0)).sqrt() / r.sqrt()
    } else {
        f64::NAN
    };
    (mean, se)
}

impl MultiStudyOutcome {
    /// Summarises every router, the oracle and the single models.
    ///
    /// # Errors
    /// [`Error::Empty`] without rounds; [`Error::Shape`] for a ragged round.
    pub fn summary(&self) -> Result<MultiSummary> {
        if self.rounds.is_empty() {
            return Err(Error::empty("study summary: no rounds"));
        }
        for r in &self.rounds {
            if r.routers.len() != self.routers.len() {
                return Err(Error::shape("study round: results per router", self.routers.len(), r.routers.len()));
            }
            if r.singles.len() != self.models.len() {
                return Err(Error::shape("study round: single models", self.models.len(), r.singles.len()));
            }
        }
        let areas: Vec<Vec<f64>> =
            (0..self.routers.len()).map(|j| self.rounds.iter().map(|r| r.routers[j].area).collect()).collect();
        let pooled = self.routers.iter().position(|n| n == "pooled");
        let summarise = |name: &str, a: &[f64], matched: &[f64]| {
            let (area, area_se) = mean_se(a);
            let d = pooled.and_then(|p| paired_diff(a, &areas[p]));
            MultiRouterSummary {
                name: name.to_string(),
                area,
                area_se,
                diff_vs_pooled: d.map(|d| d.0),
                diff_vs_pooled_se: d.and_then(|d| d.1),
                matched_cost_gain: matched.iter().sum::<f64>() / matched.len() as f64,
            }
        };
        let routers = self
            .routers
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let m: Vec<f64> = self.rounds.iter().map(|r| r.routers[j].matched_cost_gain).collect();
                summarise(name, &areas[j], &m)
            })
            .collect();
        let oa: Vec<f64> = self.rounds.iter().map(|r| r.oracle.area).collect();
        let om: Vec<f64> = self.rounds.iter().map(|r| r.oracle.matched_cost_gain).collect();
        let mut oracle = summarise("oracle", &oa, &om);
        (oracle.diff_vs_pooled, oracle.diff_vs_pooled_se) = (None, None);
        let rf = self.rounds.len() as f64;
        let singles = self
            .models
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let sum = |f: fn(&SingleRound) -> f64| self.rounds.iter().map(|r| f(&r.singles[k])).sum::<f64>() / rf;
                SingleSummary {
                    name: name.clone(),
                    cost: sum(|s| s.cost),
                    quality: sum(|s| s.quality),
                    vs_mixing: sum(|s| s.vs_mixing),
                }
            })
            .collect();
        Ok(MultiSummary {
            rounds: self.rounds.len(),
            models: self.models.clone(),
            sources: self.sources.clone(),
            routers,
            oracle,
            singles,
        })
    }
}

/// A finite number, or JSON null.
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, num)
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => "-".into(),
    }
}

impl MultiSummary {
    /// The summary as one JSON object: `rounds`, `models`, `sources`, `routers` (per name:
    /// `area`, `area_se`, `diff_vs_pooled`, `diff_vs_pooled_se`, `matched_cost_gain`), `oracle`
    /// (the same fields) and `singles` (per model: `cost`, `quality`, `vs_mixing`); non-finite
    /// figures are null.
    pub fn to_json(&self) -> Map<String, Value> {
        let router = |r: &MultiRouterSummary| {
            json!({
                "area": num(r.area),
                "area_se": num(r.area_se),
                "diff_vs_pooled": opt(r.diff_vs_pooled),
                "diff_vs_pooled_se": opt(r.diff_vs_pooled_se),
                "matched_cost_gain": num(r.matched_cost_gain),
            })
        };
        let mut routers = Map::new();
        for r in &self.routers {
            routers.insert(r.name.clone(), router(r));
        }
        let mut singles = Map::new();
        for s in &self.singles {
            singles.insert(
                s.name.clone(),
                json!({"cost": num(s.cost), "quality": num(s.quality), "vs_mixing": num(s.vs_mixing)}),
            );
        }
        let mut obj = Map::new();
        obj.insert("rounds".into(), json!(self.rounds));
        obj.insert("models".into(), json!(self.models));
        obj.insert("sources".into(), json!(self.sources));
        obj.insert("routers".into(), Value::Object(routers));
        obj.insert("oracle".into(), router(&self.oracle));
        obj.insert("singles".into(), Value::Object(singles));
        obj
    }

    /// The summary as a text table: one line per router and the oracle (area, its SE, the
    /// paired difference to `pooled` and its SE, the gain at the best single model's cost),
    /// then one line per single model (mean cost, mean quality, quality minus the mixing line).
    pub fn table(&self) -> String {
        let w = self.routers.iter().map(|r| r.name.len()).chain(self.singles.iter().map(|s| s.name.len())).max();
        let w = w.unwrap_or(0).max(12);
        let mut out = format!(
            "{:<w$} {:>9} {:>9} {:>12} {:>9} {:>12}\n",
            "router", "area", "area_se", "vs_pooled", "se", "matched_cost"
        );
        for r in self.routers.iter().chain(std::iter::once(&self.oracle)) {
            out.push_str(&format!(
                "{:<w$} {:>9} {:>9} {:>12} {:>9} {:>12}\n",
                r.name,
                cell(Some(r.area)),
                cell(Some(r.area_se)),
                cell(r.diff_vs_pooled),
                cell(r.diff_vs_pooled_se),
                cell(Some(r.matched_cost_gain)),
            ));
        }
        out.push_str(&format!("{:<w$} {:>9} {:>9} {:>12}\n", "model", "cost", "quality", "vs_mixing"));
        for s in &self.singles {
            out.push_str(&format!(
                "{:<w$} {:>9} {:>9} {:>12}\n",
                s.name,
                cell(Some(s.cost)),
                cell(Some(s.quality)),
                cell(Some(s.vs_mixing))
            ));
        }
        out
    }
}

pub(crate) fn check_config(cfg: &StudyConfig, data: &MultiStudyData) -> Result<()> {
    cfg.validate(data.x.nrows(), data.x.ncols())?;
    if !matches!(cfg.gold_selection, GoldSelection::Random) {
        return Err(Error::param("study", "--gold-selection", "the many-model study draws gold rows at random only"));
    }
    if cfg.curves != CurveProtocol::Standard {
        return Err(Error::param("study", "--curves", "the many-model study has the standard curve protocol only"));
    }
    Ok(())
}

fn round_result(c: &QualityCostCurve) -> MultiRouterRound {
    MultiRouterRound { gain: c.gain.clone(), area: c.area, matched_cost_gain: c.matched_cost_gain }
}

/// Whether `which` is followed by one baseline per judge (`pref_only` with several judges).
fn per_judge_baseline(which: StudyRouter, judges: usize) -> bool {
    judges > 1 && which == StudyRouter::Trained(RouterKind::PrefOnly)
}

/// The reported router names: the study's routers in order, each `pref_only` followed by
/// `pref_only_<judge>` per judge when there are several judges.
pub(crate) fn router_names(cfg: &StudyConfig, judges: &[String]) -> Vec<String> {
    let mut names = Vec::with_capacity(cfg.routers.len() + judges.len());
    for &r in &cfg.routers {
        names.push(r.name().to_string());
        if per_judge_baseline(r, judges.len()) {
            names.extend(judges.iter().map(|j| format!("pref_only_{j}")));
        }
    }
    names
}

/// One round (see the module docs).
pub(crate) fn run_round(data: &MultiStudyData, cfg: &StudyConfig, seed: Seed, r: usize) -> Result<MultiRound> {
    let k = data.models.len();
    let split = RoundSplit::new(data.x.as_ref(), cfg, seed, r)?;
    let RoundSplit { round_seed, ref x_train, ref x_test, .. } = split;
    let (test, train) = (split.test(), split.train());
    let n_gold = cfg.n_gold;
    let nt = train.len();
    let gold_train = Mat::from_fn(nt, k, |i, j| if i < n_gold { data.gold[(train[i], j)] } else { f64::NAN });
    let judges_train: Vec<Mat<f64>> = data
        .pref
        .iter()
        .map(|p| Mat::from_fn(nt, k, |i, j| if i < n_gold { f64::NAN } else { p[(train[i], j)] }))
        .collect();
    let judge_refs: Vec<_> = judges_train.iter().map(Mat::as_ref).collect();
    let gold_everywhere = Mat::from_fn(nt, k, |i, j| data.gold[(train[i], j)]);
    let train_data = MultiData {
        x: x_train.as_ref(),
        gold: gold_train.as_ref(),
        judges: &judge_refs,
        gold_everywhere: Some(gold_everywhere.as_ref()),
    };
    let spec = data.spec();
    let reference = spec.validate()?;
    let gold_test = Mat::from_fn(cfg.n_test, k, |i, j| data.gold[(test[i], j)]);
    let cost_test = data.cost_table.as_ref().map(|c| Mat::from_fn(cfg.n_test, k, |i, j| c[(test[i], j)]));
    let costs = match &cost_test {
        Some(c) => Costs::PerQuery(c.as_ref()),
        None => Costs::PerModel(&data.costs),
    };
    let mut scratch = QualityCostScratch::default();
    let mut curve = QualityCostCurve::default();

    let router_seed = round_seed.child(stream::ROUTER);
    let mut routers = Vec::with_capacity(cfg.routers.len() + data.judges.len());
    for &which in &cfg.routers {
        let psi_hat = match which {
            StudyRouter::Random => {
                let mut rng = seed.indexed(stream::EVAL, r as u64).rng();
                let mut psi = Mat::<f64>::zeros(cfg.n_test, k);
                for j in (0..k).filter(|&j| j != reference) {
                    let order = permutation(cfg.n_test, &mut rng);
                    for (pos, &row) in order.iter().enumerate() {
                        psi[(row, j)] = (cfg.n_test - pos) as f64;
                    }
                }
                psi
            }
            StudyRouter::Trained(kind) => {
                train_multi(kind, &train_data, &spec, &cfg.router, router_seed)?.predict(x_test.as_ref())?
            }
        };
        scratch.curve_into(gold_test.as_ref(), psi_hat.as_ref(), costs, &mut curve)?;
        routers.push(round_result(&curve));
        if per_judge_baseline(which, data.judges.len()) {
            for judge in &judge_refs {
                let one = MultiData { judges: std::slice::from_ref(judge), ..train_data };
                let psi_hat = train_multi(RouterKind::PrefOnly, &one, &spec, &cfg.router, router_seed)?
                    .predict(x_test.as_ref())?;
                scratch.curve_into(gold_test.as_ref(), psi_hat.as_ref(), costs, &mut curve)?;
                routers.push(round_result(&curve));
            }
        }
    }
    let truth = match &data.psi {
        Some(p) => Mat::from_fn(cfg.n_test, k, |i, j| p[(test[i], j)]),
        None => gold_test.clone(),
    };
    scratch.curve_into(gold_test.as_ref(), truth.as_ref(), costs, &mut curve)?;
    let oracle = round_result(&curve);
    let m = cfg.n_test as f64;
    let singles = (0..k)
        .map(|j| {
            let total = (0..cfg.n_test).map(|i| gold_test[(i, j)]).sum::<f64>();
            let (total_cost, cost) = match &cost_test {
                Some(c) => {
                    let t = (0..cfg.n_test).map(|i| c[(i, j)]).sum::<f64>();
                    (t, t / m)
                }
                None => (data.costs[j] * m, data.costs[j]),
            };
            let vs_mixing = (total - scratch.mixing_total_at(total_cost)) / m;
            SingleRound { cost, quality: total / m, vs_mixing }
        })
        .collect();
    Ok(MultiRound { routers, oracle, singles })
}

/// Runs the K-model study (see the module docs). `cfg` is today's [`StudyConfig`]: gold rows,
/// test rows, rounds, routers, the router configuration and an optional PCA.
///
/// # Errors
/// Invalid data ([`MultiStudyData::validate`]) or settings ([`StudyConfig::validate`]; active
/// gold selection or the paper curves), or the first failing round's error (lowest round index).
pub fn run_multi_study(data: &MultiStudyData, cfg: &StudyConfig, seed: Seed) -> Result<MultiStudyOutcome> {
    data.validate()?;
    check_config(cfg, data)?;
    let per_round =
        crate::budget::product(&[router_names(cfg, &data.judges).len() + 2, crate::eval::curves::GRID * 8 + 64]);
    let need = crate::budget::product(&[cfg.rounds]).saturating_mul(per_round);
    crate::budget::check(format_args!("--rounds {}", cfg.rounds), "the study's per-round results", need)?;
    let rounds = par::try_map_indexed(cfg.rounds, |r| run_round(data, cfg, seed, r))?;
    Ok(MultiStudyOutcome {
        models: data.models.clone(),
        sources: data.judges.clone(),
        routers: router_names(cfg, &data.judges),
        rounds,
    })
}

impl MultiStudyOutcome {
    /// Writes `summary.json` ([`MultiSummary::to_json`]), `curves.csv` (per router and the
    /// oracle, the mean gain above the mixing line with its 10-90% band at each grid point
    /// `u` of the cost range), `rounds.csv` (every round's area per router and the oracle) and
    /// `quality_cost.svg` (the mean curves over their bands, `u = 0.20..0.80`) into `dir`
    /// (created if needed). No timing goes into them, so they are byte-identical across runs
    /// and thread counts.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be written; the summary's errors.
    pub fn write_dir(&self, dir: &std::path::Path, title: &str) -> Result<()> {
        use std::fmt::Write as _;
        let summary = self.summary()?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let write = |name: &str, body: String| crate::outfile::write(dir.join(name), body);
        let json = serde_json::to_string_pretty(&Value::Object(summary.to_json()))
            .map_err(|e| Error::data(format!("cannot encode summary.json: {e}")))?;
        write("summary.json", json + "\n")?;
        let mut bands = Vec::with_capacity(self.routers.len() + 1);
        for (j, name) in self.routers.iter().enumerate() {
            let curves: Vec<&[f64]> = self.rounds.iter().map(|r| r.routers[j].gain.as_slice()).collect();
            bands.push(crate::eval::summary::summarise(name, &curves, &[], None));
        }
        let oracle: Vec<&[f64]> = self.rounds.iter().map(|r| r.oracle.gain.as_slice()).collect();
        bands.push(crate::eval::summary::summarise("oracle", &oracle, &[], None));
        let mut csv = String::from("router,u,mean,p10,p90\n");
        for b in &bands {
            for i in 0..b.mean.len() {
                let _ =
                    writeln!(csv, "{},{},{},{},{}", b.name, crate::eval::curves::rho(i), b.mean[i], b.p10[i], b.p90[i]);
            }
        }
        write("curves.csv", csv)?;
        let mut rounds = String::from("round,router,area\n");
        for (r, round) in self.rounds.iter().enumerate() {
            for (name, x) in self.routers.iter().zip(&round.routers) {
                let _ = writeln!(rounds, "{r},{name},{}", x.area);
            }
            let _ = writeln!(rounds, "{r},oracle,{}", round.oracle.area);
        }
        write("rounds.csv", rounds)?;
        let svg = crate::eval::svg::bands_svg_on(
            &bands,
            title,
            "Position in the cost range (0 cheapest model, 1 dearest)",
            "Quality gain over random mixing (mean, 10-90% band)",
        );
        write("quality_cost.svg", svg)
    }
}
