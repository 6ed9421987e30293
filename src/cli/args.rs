//! The argument groups the subcommands share (`#[command(flatten)]`), so that one concept has
//! one flag spelling everywhere, and the one conversion from router arguments to a
//! [`RouterConfig`] that `fit` and `study` both use.
//!
//! Spellings: `--data`, `--features`, `--weight-col`, `--learner`, `--param NAME=VALUE`,
//! `--nuisance`/`--nuisance-param`, `--final-stage`/`--final-param`, `--seed`, `--json`,
//! `-o/--out`. Old spellings stay as hidden aliases (`--weight`, `--final-learner`, `--save`).
//!
//! Choices are parsed by clap (so `--help` lists them and a bad value is a usage error naming
//! the flag): small CLI-side [`ValueEnum`]s mapped onto the library's enums (the library does
//! not depend on clap), and [`PossibleValuesParser`]s over the learner name lists.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};

use crate::causal::nuisance::DEFAULT_CLIP;
use crate::causal::{
    Aggregate, Align, DeltaConfig, DrOutcome, FinalStage, NuisanceFit, Propensity, Selection,
    default_propensity_classifier,
};
use crate::error::{Error, Result};
use crate::eval::active::{ActiveConfig, DEFAULT_FLOOR, GoldRule, GoldSelection, check_batches};
use crate::learn::{ClassifierSpec, RegressorSpec};
use crate::router::{Protocol, RouterConfig};

/// The regressor names, for `--learner`, `--nuisance` (router learners).
fn regressor_names() -> PossibleValuesParser {
    PossibleValuesParser::new(RegressorSpec::NAMES.iter().copied())
}

/// `auto` and the regressor names, for `--final-stage`.
fn final_stage_names() -> PossibleValuesParser {
    PossibleValuesParser::new(std::iter::once("auto").chain(RegressorSpec::NAMES.iter().copied()))
}

/// The classifier names, for `--classifier`.
fn classifier_names() -> PossibleValuesParser {
    PossibleValuesParser::new(ClassifierSpec::NAMES.iter().copied())
}

/// Every name `learn --learner` takes: the regressors, the classifiers and `pca`.
fn learn_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        RegressorSpec::NAMES.iter().chain(ClassifierSpec::NAMES).copied().chain(std::iter::once("pca")),
    )
}

/// Deployment data's label columns, shared by `fit` and `audit`: one label per row, and its
/// source.
#[derive(Debug, Args)]
pub struct LabelColumnArgs {
    /// The column saying which rows carry gold labels (`gold`/`gs`/`1`) and which preference
    /// labels (`pref`/`pb`/`0`).
    #[arg(long, default_value = "source")]
    pub source_col: String,
    /// The label column (gold label on gold rows, preference label on preference rows).
    #[arg(long, default_value = "label")]
    pub label_col: String,
}

/// Input data: the training CSV, its feature columns and an optional sample-weight column
/// (`fit`, `learn`).
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Training CSV (with a header).
    #[arg(long)]
    pub data: PathBuf,
    /// Feature columns: comma list of names or globs, e.g. 'x*' or 'embd.PC*' (default: every
    /// column without another role).
    #[arg(long)]
    pub features: Option<String>,
    /// A sample-weight column (finite, >= 0).
    #[arg(long, alias = "weight")]
    pub weight_col: Option<String>,
}

/// Held-out or audited queries: the CSV and its feature columns (`evaluate`).
#[derive(Debug, Args)]
pub struct QueriesArgs {
    /// Queries CSV (with a header).
    #[arg(long)]
    pub data: PathBuf,
    /// Feature columns: comma list of names or globs (default: the model's feature columns;
    /// when given, they must select exactly the model's features).
    #[arg(long)]
    pub features: Option<String>,
}

/// Confidence intervals: their level and the bootstrap's resamples (`evaluate`).
#[derive(Debug, Args)]
pub struct IntervalArgs {
    /// Confidence level of every interval, in (0, 1).
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// Bootstrap resamples (>= 1).
    #[arg(long, default_value_t = 2000)]
    pub bootstrap: usize,
}

/// The learner of `meta-router learn`: a regressor, a classifier or `pca`, with parameters.
#[derive(Debug, Args)]
pub struct LearnerArgs {
    /// The learner: a regressor, a classifier, or `pca`.
    #[arg(long, value_parser = learn_names())]
    pub learner: String,
    /// Learner parameters, `name=value` (repeatable; scikit-learn's names where one exists).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

/// The seed of every random choice.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed of every random choice (and of the simulated table, where there is one).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Many models and judges (issue #13): `simulate` writes the K-model table, `study` runs the
/// K-model study (`--models` absent: today's two-model commands, unchanged).
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Number of models K (2..=64; model 0 is the cheapest, the reference): `simulate` writes
    /// wide columns per model, `study` routes among them (the quality-cost curve's area).
    #[arg(long, value_name = "K")]
    pub models: Option<usize>,
    /// Number of judges S with `--models` (1..=64; each judge's bias is estimated on its own).
    #[arg(long, value_name = "S", default_value_t = 1, requires = "models")]
    pub judges: usize,
}

/// `study --models` on a wide table of your own (`--data`): which columns hold each model's gold
/// and judge labels, and what each model costs.
#[derive(Debug, Args)]
pub struct WideArgs {
    /// Gold-label columns, one per model, as one pattern with a single `*` that stands for the
    /// model name (e.g. `gs_*`: `gs_gpt`, `gs_llama` are models `gpt`, `llama`).
    #[arg(long, value_name = "PATTERN", requires = "data")]
    pub gold_cols: Option<String>,
    /// Preference-label columns: one pattern per judge, comma separated, each with a single `*`
    /// for the model name and matching the same models as `--gold-cols` (e.g. `pb_*` or
    /// `judgeA_*,judgeB_*`).
    #[arg(long, value_name = "PATTERNS", requires = "gold_cols")]
    pub pref_cols: Option<String>,
    /// Judge names, comma separated, one per `--pref-cols` pattern (default: each pattern's
    /// text before the `*`, without a trailing `_`).
    #[arg(long, value_name = "NAMES", requires = "pref_cols")]
    pub sources: Option<String>,
    /// Cost of a call to each model, `name=cost` comma separated (every model; >= 0), e.g.
    /// `gpt=10,mixtral=1,llama=0.5`. The cheapest model is the reference.
    #[arg(long, value_name = "LIST", requires = "gold_cols")]
    pub costs: Option<String>,
    /// Per-query costs instead of `--costs`: one column per model, as one pattern with a single
    /// `*` for the model name (e.g. `cost_*`; finite, >= 0), such as each query's token cost on
    /// each model. The curves use the test rows' own costs; the model cheapest on average is the
    /// reference.
    #[arg(long, value_name = "PATTERN", requires = "gold_cols", conflicts_with = "costs")]
    pub cost_cols: Option<String>,
}

/// Output: a JSON report instead of text, and where results are written (`learn`, `study`,
/// `evaluate`; `fit`, `route` and `simulate` take a required `-o/--out` of their own).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the results here (the fitted model for `learn`; a directory for `study` and
    /// `evaluate`).
    #[arg(short = 'o', long = "out", alias = "save")]
    pub out: Option<PathBuf>,
}

/// `--align`: the scale alignment (maps to [`Align`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlignArg {
    /// No alignment: c = 1.
    None,
    /// max |y| / max |r|.
    Amplitude,
    /// sd(y) / sd(r).
    Std,
    /// The 2-Wasserstein optimum.
    Wasserstein,
}

impl From<AlignArg> for Align {
    fn from(a: AlignArg) -> Self {
        match a {
            AlignArg::None => Align::None,
            AlignArg::Amplitude => Align::Amplitude,
            AlignArg::Std => Align::Std,
            AlignArg::Wasserstein => Align::Wasserstein,
        }
    }
}

/// `--protocol`: how `Delta_hat` is estimated (maps to [`Protocol`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Cross-fitted nuisances, selected final stage, alignment.
    Crossfit,
    /// The authors' reference script (in-sample nuisances, its clips and masks).
    Paper,
}

impl ProtocolArg {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolArg::Crossfit => "crossfit",
            ProtocolArg::Paper => "paper",
        }
    }
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::Crossfit => Protocol::CrossFit,
            ProtocolArg::Paper => Protocol::Paper,
        }
    }
}

/// `--propensity`: known gold share or an estimated classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PropensityArg {
    /// The gold share (gold rows drawn at random).
    Known,
    /// A cross-fitted classifier (`--classifier`), clipped to [clip, 1 - clip].
    Estimated,
}

/// `--aggregate`: how cross-fitting repeats are combined (maps to [`Aggregate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AggregateArg {
    /// The mean.
    Mean,
    /// The median.
    Median,
}

impl From<AggregateArg> for Aggregate {
    fn from(a: AggregateArg) -> Self {
        match a {
            AggregateArg::Mean => Aggregate::Mean,
            AggregateArg::Median => Aggregate::Median,
        }
    }
}

/// `--dr-outcome`: how the DR-learner forms `mu1` (maps to [`DrOutcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DrOutcomeArg {
    /// mu1 = mu0 + the mean gold residual.
    Shift,
    /// mu1 fitted on gold rows alone (T-learner).
    Separate,
}

impl From<DrOutcomeArg> for DrOutcome {
    fn from(d: DrOutcomeArg) -> Self {
        match d {
            DrOutcomeArg::Shift => DrOutcome::Shift,
            DrOutcomeArg::Separate => DrOutcome::Separate,
        }
    }
}

/// `--final-select`: how the Auto final stage picks its candidate (maps to [`Selection`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SelectionArg {
    /// The lowest cross-validated loss.
    Argmin,
    /// The simplest candidate within one paired standard error of the lowest loss.
    OneSe,
    /// Non-negative least-squares stacking of the candidates' out-of-fold predictions.
    Stack,
    /// The lowest loss if it beats the constant by more than 1.645 paired standard errors.
    Test,
    /// The lowest loss shrunk towards the constant by its calibration slope in [0, 1].
    Calibrate,
}

impl From<SelectionArg> for Selection {
    fn from(s: SelectionArg) -> Self {
        match s {
            SelectionArg::Argmin => Selection::Argmin,
            SelectionArg::OneSe => Selection::OneSe,
            SelectionArg::Stack => Selection::Stack,
            SelectionArg::Test => Selection::Test,
            SelectionArg::Calibrate => Selection::Calibrate,
        }
    }
}

/// `--nuisance-fit`: how the outcome nuisances are made out of sample (maps to
/// [`NuisanceFit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NuisanceFitArg {
    /// Out of bag for meta_r when the nuisance learner is a bagged forest (the default
    /// nuisance); cross-fitted for meta_dr, other learners and several judges.
    Auto,
    /// K-fold cross-fitting (--folds fits on K-1 folds; any learner).
    Crossfit,
    /// One forest, each row predicted by the trees that left it out (rf with bootstrap only).
    Oob,
}

impl From<NuisanceFitArg> for NuisanceFit {
    fn from(n: NuisanceFitArg) -> Self {
        match n {
            NuisanceFitArg::Auto => NuisanceFit::Auto,
            NuisanceFitArg::Crossfit => NuisanceFit::CrossFit,
            NuisanceFitArg::Oob => NuisanceFit::Oob,
        }
    }
}

/// How routers are trained (`fit`, `study`); [`RouterArgs::config`] turns them into a
/// [`RouterConfig`].
#[derive(Debug, Args)]
pub struct RouterArgs {
    /// The psi learner and, unless --nuisance is given, the outcome nuisances (default `rf`:
    /// the paper's forest, 100 trees, depth 20, sqrt features; --param overrides).
    #[arg(long, value_parser = regressor_names())]
    pub learner: Option<String>,
    /// Parameters of the psi learner, `name=value` (repeatable; also applied to the nuisances
    /// when --nuisance is not given).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The outcome nuisance learner (default: the psi learner with its parameters).
    #[arg(long, value_parser = regressor_names())]
    pub nuisance: Option<String>,
    /// Parameters of the nuisance learner, `name=value` (repeatable).
    #[arg(long = "nuisance-param", value_name = "NAME=VALUE")]
    pub nuisance_params: Vec<String>,
    /// The propensity: the known gold share (gold rows drawn at random) or an estimated
    /// classifier.
    #[arg(long, value_enum, default_value_t = PropensityArg::Known)]
    pub propensity: PropensityArg,
    /// The propensity classifier for `--propensity estimated` (default: logistic).
    #[arg(long, value_parser = classifier_names())]
    pub classifier: Option<String>,
    /// The propensity clip eps for `--propensity estimated`, in (0, 0.5).
    #[arg(long, default_value_t = DEFAULT_CLIP, allow_negative_numbers = true)]
    pub clip: f64,
    /// Scale alignment of gold labels onto the preference scale.
    #[arg(long, value_enum, default_value_t = AlignArg::Std)]
    pub align: AlignArg,
    /// Cross-fitting folds (>= 2).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Cross-fitting repeats (>= 1).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// How cross-fitting repeats are combined.
    #[arg(long, value_enum, default_value_t = AggregateArg::Mean)]
    pub aggregate: AggregateArg,
    /// How the DR-learner forms mu1.
    #[arg(long, value_enum, default_value_t = DrOutcomeArg::Shift)]
    pub dr_outcome: DrOutcomeArg,
    /// How the meta-routers' nuisances are made out of sample: out of bag from one forest
    /// (`oob`, needs a random-forest nuisance with bootstrap), K-fold cross-fitting
    /// (`crossfit`), or `auto`: out of bag for meta_r's bagged forest nuisance, cross-fitted for
    /// meta_dr, for other learners and for several judges.
    #[arg(long, value_enum, default_value_t = NuisanceFitArg::Auto)]
    pub nuisance_fit: NuisanceFitArg,
    /// Final stage of the meta-learners: `auto` (selected by cross-validated loss) or a
    /// regressor name, e.g. `ridge`.
    #[arg(long, alias = "final-learner", value_parser = final_stage_names(), default_value = "auto")]
    pub final_stage: String,
    /// Final-stage learner parameters, `name=value` (repeatable; with a named --final-stage).
    #[arg(long = "final-param", value_name = "NAME=VALUE")]
    pub final_params: Vec<String>,
    /// `crossfit` or `paper` (the authors' reference protocol for training and, in `study`,
    /// the curves).
    #[arg(long, value_enum, default_value_t = ProtocolArg::Crossfit)]
    pub protocol: ProtocolArg,
    /// How the `auto` final stage picks its candidate.
    #[arg(long, value_enum, default_value_t = SelectionArg::Calibrate)]
    pub final_select: SelectionArg,
    /// Add the cross-fitted outcome prediction (m_hat for meta_r, mu0_hat for meta_dr) as a
    /// covariate of the final stage (new rows get it from the nuisance refitted on all rows).
    #[arg(long)]
    pub outcome_covariate: bool,
    /// meta_dr with `--dr-outcome shift`: mu1 = mu0 + g(x), g a ridge fit (alpha by
    /// leave-one-out) of the gold residuals in each fold, instead of mu0 + a constant.
    #[arg(long)]
    pub dr_gold_ridge: bool,
}

/// A router learner by name (`None`: the default forest) with `params` applied and checked.
fn router_learner(name: Option<&str>, params: &[String]) -> Result<RegressorSpec> {
    let mut spec = crate::router::router_learner(name)?;
    spec.set_params(params)?;
    spec.validate()?;
    Ok(spec)
}

impl RouterArgs {
    /// The router configuration these arguments describe: the one conversion `fit` and
    /// `study` share. Learner parameters are applied and checked here; the configuration's
    /// own domains (folds, repeats, clip) by [`RouterConfig::validate`].
    ///
    /// # Errors
    /// An unknown or invalid learner parameter, `--final-param` without a named
    /// `--final-stage`.
    pub fn config(&self) -> Result<RouterConfig> {
        let learner = router_learner(self.learner.as_deref(), &self.params)?;
        let nuisance = match &self.nuisance {
            Some(n) => router_learner(Some(n), &self.nuisance_params)?,
            None => {
                let mut s = learner.clone();
                s.set_params(&self.nuisance_params)?;
                s
            }
        };
        let propensity = match self.propensity {
            PropensityArg::Known => Propensity::Known,
            PropensityArg::Estimated => {
                let classifier = match &self.classifier {
                    Some(c) => ClassifierSpec::from_name(c)?,
                    None => default_propensity_classifier(),
                };
                Propensity::Estimated { classifier, clip: self.clip }
            }
        };
        let final_stage = if self.final_stage == "auto" {
            if !self.final_params.is_empty() {
                return Err(Error::param("router", "--final-param", "needs a named --final-stage, not `auto`"));
            }
            FinalStage::Auto
        } else {
            let mut spec = RegressorSpec::from_name(&self.final_stage)?;
            spec.set_params(&self.final_params)?;
            FinalStage::Fixed(spec)
        };
        let mut cfg = RouterConfig {
            learner,
            align: self.align.into(),
            protocol: self.protocol.into(),
            delta: DeltaConfig {
                nuisance,
                propensity,
                n_folds: self.folds,
                repeats: self.repeats,
                aggregate: self.aggregate.into(),
                final_stage,
                dr_outcome: self.dr_outcome.into(),
                nuisance_fit: self.nuisance_fit.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        cfg.delta.selection = self.final_select.into();
        cfg.delta.outcome_covariate = self.outcome_covariate;
        cfg.delta.dr_gold_ridge = self.dr_gold_ridge;
        Ok(cfg)
    }
}

/// `--gold-selection`: how a study chooses its gold rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GoldSelectionArg {
    /// A simple random sample (today's study).
    Random,
    /// A random first batch, then batches chosen by `--gold-rule` with known probabilities.
    Active,
}

/// `--gold-rule`: the score that chooses the next batch (see `meta_router::eval::active`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GoldRuleArg {
    /// sqrt(sigma^2 + (Delta_hat - mean)^2): the DR-learner's Neyman allocation (studies only).
    Neyman,
    /// |Delta_hat - mean| of the default meta-router (studies only).
    Bias,
    /// The forest's tree disagreement on psi_hat inside the usage band 0.2..0.8.
    Uncertainty,
}

impl From<GoldRuleArg> for GoldRule {
    fn from(r: GoldRuleArg) -> Self {
        match r {
            GoldRuleArg::Neyman => GoldRule::Neyman,
            GoldRuleArg::Bias => GoldRule::Bias,
            GoldRuleArg::Uncertainty => GoldRule::Uncertainty,
        }
    }
}

/// How a study chooses its gold rows: `--gold-selection`, `--gold-batches`, `--gold-rule`,
/// `--gold-floor`.
#[derive(Clone, Debug, Args)]
pub struct GoldSelectionArgs {
    /// Gold rows at random (default, today's study) or chosen actively, batch by batch.
    #[arg(long, value_enum, default_value_t = GoldSelectionArg::Random)]
    pub gold_selection: GoldSelectionArg,
    /// Batch sizes, comma separated, summing to the gold count (e.g. 50,50); the first is
    /// random [default with active: two halves of the gold count].
    #[arg(long, value_name = "B1,B2,...")]
    pub gold_batches: Option<String>,
    /// The rule choosing each batch after the first (active only).
    #[arg(long, value_enum, default_value_t = GoldRuleArg::Neyman)]
    pub gold_rule: GoldRuleArg,
    /// The share of each chosen batch's probability spread uniformly (every row keeps at least
    /// this share of the uniform probability), in (0, 1].
    #[arg(long, default_value_t = DEFAULT_FLOOR)]
    pub gold_floor: f64,
}

impl GoldSelectionArgs {
    /// The study's gold selection for `n_gold` gold rows.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `--gold-batches` (not a list of integers, a zero batch, a
    /// sum other than the gold count) or `--gold-floor`.
    pub fn selection(&self, n_gold: usize) -> Result<GoldSelection> {
        let batches = match &self.gold_batches {
            Some(list) => {
                let mut v = Vec::new();
                for part in list.split(',').map(str::trim) {
                    let b: usize = part.parse().map_err(|_| {
                        Error::param("study", "--gold-batches", format!("`{part}` in `{list}` is not a row count"))
                    })?;
                    v.push(b);
                }
                check_batches(&v, n_gold)?;
                Some(v)
            }
            None => None,
        };
        match self.gold_selection {
            GoldSelectionArg::Random => Ok(GoldSelection::Random),
            GoldSelectionArg::Active => {
                let batches = batches.unwrap_or_else(|| vec![n_gold / 2, n_gold - n_gold / 2]);
                let a = ActiveConfig { batches, rule: self.gold_rule.into(), floor: self.gold_floor };
                a.validate(n_gold)?;
                Ok(GoldSelection::Active(a))
            }
        }
    }
}
