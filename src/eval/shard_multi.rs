//! Sharded K-model studies ([`crate::eval::study_multi`]): the rounds of one study split over
//! jobs exactly as for two models ([`crate::eval::shard`]: shard `I/N` runs the rounds `r` with
//! `r mod N = I - 1`, each bit-identical to round `r` of a whole run), and merged back into the
//! very [`MultiStudyOutcome`] one unsharded run gives, so that
//! [`MultiStudyOutcome::write_dir`] writes the same bytes.
//!
//! A shard is stored as `shard.json`:
//! ```text
//! {"format": "meta-router-multi-shard", "version": .., "fingerprint": 16 hex digits,
//!  "shard": "I/N", "total_rounds": R, "title": .., "models": [..], "sources": [..],
//!  "routers": [names],
//!  "rounds": [{"round": r, "oracle": RESULT, "routers": [RESULT, ..], "singles": "c q v c q v .."}]}
//! RESULT = {"gain": "v v ..", "area": "v", "matched_cost_gain": "v"}
//! ```
//! with every number written as the shortest round-trip decimal (parsed back exactly), the
//! single models as (mean cost, mean quality, quality minus the mixing line) triples in model
//! order. The fingerprint is FNV-1a (64 bit) over the crate version, the seed, every setting, the
//! figure title, the model and judge names, the costs (per model and, when given, per query) and
//! the data (features, gold and every judge's labels, the truth), as the bits of each `f64`.
//! `meta-router merge` tells the two kinds apart by `"format"`.

use std::path::{Path, PathBuf};

use faer::Mat;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::shard::{Fnv, ShardIndex, ShardSpec, cover, floats_text, parse_floats, read_json, write_json};
use crate::eval::study::StudyConfig;
use crate::eval::study_multi::{
    MultiRound, MultiRouterRound, MultiStudyData, MultiStudyOutcome, SingleRound, check_config, router_names, run_round,
};
use crate::par;
use crate::rng::Seed;

/// The `"format"` of a K-model shard file.
pub const MULTI_FORMAT: &str = "meta-router-multi-shard";

fn matrix(h: &mut Fnv, m: &Mat<f64>) {
    h.bytes(&(m.nrows() as u64).to_le_bytes());
    h.bytes(&(m.ncols() as u64).to_le_bytes());
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            h.bytes(&m[(i, j)].to_bits().to_le_bytes());
        }
    }
}

/// The K-model study fingerprint (see the module docs), as 16 hex digits.
pub fn multi_fingerprint(data: &MultiStudyData, cfg: &StudyConfig, seed: Seed, title: &str) -> String {
    let mut h = Fnv::new();
    h.text(env!("CARGO_PKG_VERSION"));
    h.text(MULTI_FORMAT);
    h.bytes(&seed.0.to_le_bytes());
    h.text(&format!("{cfg:?}"));
    h.text(title);
    for names in [&data.models, &data.judges] {
        h.bytes(&(names.len() as u64).to_le_bytes());
        for n in names {
            h.text(n);
        }
    }
    h.floats(&data.costs);
    for m in std::iter::once(&data.x).chain(std::iter::once(&data.gold)).chain(&data.pref) {
        matrix(&mut h, m);
    }
    for m in [&data.psi, &data.cost_table] {
        match m {
            Some(m) => {
                h.bytes(&[1]);
                matrix(&mut h, m);
            }
            None => h.bytes(&[0]),
        }
    }
    format!("{:016x}", h.0)
}

/// A K-model shard's results: the rounds it ran and what identifies its study.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiShard {
    /// The study fingerprint ([`multi_fingerprint`]).
    pub fingerprint: String,
    /// Which shard this is.
    pub spec: ShardSpec,
    /// The study's total rounds.
    pub total_rounds: usize,
    /// The title of the study's figure.
    pub title: String,
    /// Model names.
    pub models: Vec<String>,
    /// Judge names.
    pub sources: Vec<String>,
    /// Router names, in reporting order.
    pub routers: Vec<String>,
    /// `(round index, result)`, ascending by round.
    pub rounds: Vec<(usize, MultiRound)>,
}

/// Runs shard `spec` of a K-model study: the rounds [`ShardSpec::rounds`] in parallel, each
/// exactly as in [`crate::eval::study_multi::run_multi_study`].
///
/// # Errors
/// As [`crate::eval::study_multi::run_multi_study`].
pub fn run_multi_shard(
    data: &MultiStudyData,
    cfg: &StudyConfig,
    seed: Seed,
    spec: ShardSpec,
    title: &str,
) -> Result<MultiShard> {
    data.validate()?;
    check_config(cfg, data)?;
    let routers = router_names(cfg, &data.judges);
    let which = spec.rounds(cfg.rounds);
    let per_round = crate::budget::product(&[routers.len() + 2, crate::eval::curves::GRID * 8 + 64]);
    let need = crate::budget::product(&[which.len()]).saturating_mul(per_round);
    crate::budget::check(format_args!("--rounds {}", cfg.rounds), "the shard's per-round results", need)?;
    let rounds = par::try_map_indexed(which.len(), |k| run_round(data, cfg, seed, which[k]))?;
    Ok(MultiShard {
        fingerprint: multi_fingerprint(data, cfg, seed, title),
        spec,
        total_rounds: cfg.rounds,
        title: title.to_string(),
        models: data.models.clone(),
        sources: data.judges.clone(),
        routers,
        rounds: which.into_iter().zip(rounds).collect(),
    })
}

fn result_json(r: &MultiRouterRound) -> Value {
    json!({
        "gain": floats_text(&r.gain),
        "area": floats_text(&[r.area]),
        "matched_cost_gain": floats_text(&[r.matched_cost_gain]),
    })
}

fn names(v: &Value, key: &str, bad: &dyn Fn(&str) -> Error) -> Result<Vec<String>> {
    v[key]
        .as_array()
        .ok_or_else(|| bad(&format!("no \"{key}\"")))?
        .iter()
        .map(|n| n.as_str().map(str::to_string).ok_or_else(|| bad(&format!("a name in \"{key}\" is not a string"))))
        .collect()
}

impl MultiShard {
    /// The `shard.json` object (see the module docs).
    pub fn to_json(&self) -> Value {
        let rounds: Vec<Value> = self
            .rounds
            .iter()
            .map(|(r, round)| {
                let singles: Vec<f64> = round.singles.iter().flat_map(|s| [s.cost, s.quality, s.vs_mixing]).collect();
                json!({
                    "round": r,
                    "oracle": result_json(&round.oracle),
                    "routers": round.routers.iter().map(result_json).collect::<Vec<_>>(),
                    "singles": floats_text(&singles),
                })
            })
            .collect();
        let mut m = Map::new();
        m.insert("format".into(), json!(MULTI_FORMAT));
        m.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        m.insert("fingerprint".into(), json!(self.fingerprint));
        m.insert("shard".into(), json!(self.spec.to_string()));
        m.insert("total_rounds".into(), json!(self.total_rounds));
        m.insert("title".into(), json!(self.title));
        m.insert("models".into(), json!(self.models));
        m.insert("sources".into(), json!(self.sources));
        m.insert("routers".into(), json!(self.routers));
        m.insert("rounds".into(), Value::Array(rounds));
        Value::Object(m)
    }

    /// Writes `dir/shard.json` (creating `dir`).
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be written.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_json(dir, &self.to_json())
    }

    /// Reads `dir/shard.json`.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be read; [`Error::InvalidData`] naming the file when it is
    /// not a K-model shard or a round is malformed.
    pub fn read(dir: &Path) -> Result<MultiShard> {
        let (v, p) = read_json(dir, MULTI_FORMAT, "K-model study shard")?;
        let bad = |why: &str| Error::data(format!("{p}: not a K-model study shard ({why})"));
        let string = |k: &str| v[k].as_str().map(str::to_string).ok_or_else(|| bad(&format!("no \"{k}\"")));
        let spec = ShardSpec::parse(&string("shard")?).map_err(|_| bad("bad \"shard\""))?;
        let total_rounds = v["total_rounds"].as_u64().map(|t| t as usize).ok_or_else(|| bad("no \"total_rounds\""))?;
        let (models, sources, routers) =
            (names(&v, "models", &bad)?, names(&v, "sources", &bad)?, names(&v, "routers", &bad)?);
        let mut rounds = Vec::new();
        for rv in v["rounds"].as_array().ok_or_else(|| bad("no \"rounds\""))? {
            let r = rv["round"].as_u64().map(|t| t as usize).ok_or_else(|| bad("a round without \"round\""))?;
            let at = || format!("{p}: round {r}");
            let one = |x: &Value, key: &str| -> Result<f64> {
                let s = x[key].as_str().ok_or_else(|| bad(&format!("round {r}: no \"{key}\"")))?;
                match parse_floats(s, &at)?.as_slice() {
                    [v] => Ok(*v),
                    _ => Err(bad(&format!("round {r}: \"{key}\" is not one number"))),
                }
            };
            let result = |x: &Value| -> Result<MultiRouterRound> {
                let gain =
                    parse_floats(x["gain"].as_str().ok_or_else(|| bad(&format!("round {r}: no \"gain\"")))?, &at)?;
                Ok(MultiRouterRound { gain, area: one(x, "area")?, matched_cost_gain: one(x, "matched_cost_gain")? })
            };
            let routers_v = rv["routers"].as_array().ok_or_else(|| bad(&format!("round {r}: no \"routers\"")))?;
            let router_rounds = routers_v.iter().map(&result).collect::<Result<Vec<_>>>()?;
            if router_rounds.len() != routers.len() {
                return Err(bad(&format!("round {r}: {} results for {} routers", router_rounds.len(), routers.len())));
            }
            let s =
                parse_floats(rv["singles"].as_str().ok_or_else(|| bad(&format!("round {r}: no \"singles\"")))?, &at)?;
            if s.len() != 3 * models.len() {
                return Err(bad(&format!(
                    "round {r}: \"singles\" holds {} numbers for {} models",
                    s.len(),
                    models.len()
                )));
            }
            let singles =
                s.chunks_exact(3).map(|c| SingleRound { cost: c[0], quality: c[1], vs_mixing: c[2] }).collect();
            rounds.push((r, MultiRound { routers: router_rounds, oracle: result(&rv["oracle"])?, singles }));
        }
        Ok(MultiShard {
            fingerprint: string("fingerprint")?,
            spec,
            total_rounds,
            title: string("title")?,
            models,
            sources,
            routers,
            rounds,
        })
    }
}

/// Combines K-model shards (each with its directory, for messages) into the outcome of the whole
/// study and its figure title.
///
/// # Errors
/// As [`crate::eval::shard::merge_shards`]: shards of different studies, a round in two shards,
/// missing rounds, each named in one line.
pub fn merge_multi_shards(shards: &[(PathBuf, MultiShard)]) -> Result<(MultiStudyOutcome, String)> {
    let index: Vec<ShardIndex<'_>> = shards
        .iter()
        .map(|(dir, s)| ShardIndex::new(dir, &s.fingerprint, s.spec, s.total_rounds, &s.routers, &s.rounds))
        .collect();
    let order = cover(&index)?;
    let first = &shards[0].1;
    let rounds = order.into_iter().map(|(k, j)| shards[k].1.rounds[j].1.clone()).collect();
    let outcome = MultiStudyOutcome {
        models: first.models.clone(),
        sources: first.sources.clone(),
        routers: first.routers.clone(),
        rounds,
    };
    Ok((outcome, first.title.clone()))
}
