//! Sharded studies: a study's rounds split over jobs, and the shards merged back into the very
//! outcome one unsharded run gives.
//!
//! Shard `I/N` (1-based `I`, `1 <= I <= N`) runs the rounds `r` of `0..R` with
//! `r mod N = I - 1`. Round `r` draws everything from the study seed and `r` alone
//! ([`crate::eval::study`]), so it is bit-identical to round `r` of a whole run.
//!
//! A shard is stored as `shard.json`:
//! ```text
//! {"format": "meta-router-shard", "version": crate version, "fingerprint": 16 hex digits,
//!  "shard": "I/N", "total_rounds": R, "title": figure title, "routers": [names],
//!  "rounds": [{"round": r, "oracle": "v v ..", "routers": [{"curve": "v v ..", "delta_rmse": v|null}]}]}
//! ```
//! Curves are strings of space-separated shortest round-trip decimals (Rust's `f64` Display,
//! parsed back exactly by `str::parse`; NaN and infinities included), so a merged study is
//! byte-for-byte the unsharded one. `delta_rmse` is written the same way.
//!
//! The fingerprint is FNV-1a (64 bit) over the crate version, the seed, every setting
//! ([`StudyConfig`], including the total rounds), the figure title and the data (features,
//! both labels, the truth and the preference scale, as the bits of each `f64`). Shards merge only
//! when their fingerprints agree and their rounds cover `0..R` exactly once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::curves::GRID;
use crate::eval::progress::Progress;
use crate::eval::study::{StudyConfig, StudyData, run_round};
use crate::eval::summary::{Round, RouterRound, StudyOutcome};
use crate::par;
use crate::rng::Seed;

/// The file a shard is written to inside its directory.
pub const SHARD_FILE: &str = "shard.json";

/// The `"format"` of a two-model shard file.
pub const FORMAT: &str = "meta-router-shard";

/// Which part of a study a job runs: shard `index` of `count` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    /// 1-based shard number, `1..=count`.
    pub index: usize,
    /// Number of shards, at least 1.
    pub count: usize,
}

impl ShardSpec {
    /// Parses `I/N` with `1 <= I <= N`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `--shard` and the value.
    pub fn parse(s: &str) -> Result<Self> {
        let bad =
            |why: &str| Error::param("study", "--shard", format!("expected I/N with 1 <= I <= N, got `{s}`: {why}"));
        let (i, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("I is not a whole number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad("I must be in 1..=N"));
        }
        Ok(ShardSpec { index, count })
    }

    /// The rounds of `0..total` this shard runs, ascending.
    pub fn rounds(self, total: usize) -> Vec<usize> {
        (self.index - 1..total).step_by(self.count).collect()
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bit.
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    /// The FNV-1a offset basis.
    pub(crate) fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    pub(crate) fn text(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
    pub(crate) fn floats(&mut self, v: &[f64]) {
        self.bytes(&(v.len() as u64).to_le_bytes());
        for x in v {
            self.bytes(&x.to_bits().to_le_bytes());
        }
    }
    pub(crate) fn opt_floats(&mut self, v: Option<&[f64]>) {
        match v {
            Some(v) => {
                self.bytes(&[1]);
                self.floats(v);
            }
            None => self.bytes(&[0]),
        }
    }
}

/// The study fingerprint (see the module docs), as 16 hex digits.
pub fn fingerprint(data: &StudyData, cfg: &StudyConfig, seed: Seed, title: &str) -> String {
    let mut h = Fnv::new();
    h.text(env!("CARGO_PKG_VERSION"));
    h.bytes(&seed.0.to_le_bytes());
    h.text(&format!("{cfg:?}"));
    h.text(title);
    h.bytes(&(data.x.nrows() as u64).to_le_bytes());
    h.bytes(&(data.x.ncols() as u64).to_le_bytes());
    for j in 0..data.x.ncols() {
        for i in 0..data.x.nrows() {
            h.bytes(&data.x[(i, j)].to_bits().to_le_bytes());
        }
    }
    h.floats(&data.gold);
    h.floats(&data.pref);
    h.opt_floats(data.psi.as_deref());
    h.opt_floats(data.delta.as_deref());
    h.opt_floats(data.scale.as_ref().map(std::slice::from_ref));
    format!("{:016x}", h.0)
}

/// A shard's results: the rounds it ran and what identifies its study.
#[derive(Clone, Debug, PartialEq)]
pub struct Shard {
    /// The study fingerprint ([`fingerprint`]).
    pub fingerprint: String,
    /// Which shard this is.
    pub spec: ShardSpec,
    /// The study's total rounds.
    pub total_rounds: usize,
    /// The title of the study's figure.
    pub title: String,
    /// Router names, in reporting order.
    pub routers: Vec<String>,
    /// `(round index, result)`, ascending by round.
    pub rounds: Vec<(usize, Round)>,
}

/// Runs shard `spec` of a study: the rounds [`ShardSpec::rounds`] in parallel, each exactly as
/// in [`crate::eval::run_study`]; `progress` is told of each (with the shard's round count).
///
/// # Errors
/// As [`crate::eval::run_study`].
pub fn run_shard(
    data: &StudyData,
    cfg: &StudyConfig,
    seed: Seed,
    spec: ShardSpec,
    title: &str,
    progress: &dyn Progress,
) -> Result<Shard> {
    data.validate()?;
    cfg.validate(data.n_rows(), data.x.ncols())?;
    let which = spec.rounds(cfg.rounds);
    let per_round = crate::budget::product(&[cfg.routers.len() + 2, GRID * 8 + size_of::<RouterRound>()]);
    let need = crate::budget::product(&[which.len()]).saturating_mul(per_round + size_of::<Result<Round>>() as u64);
    crate::budget::check(format_args!("--rounds {}", cfg.rounds), "the shard's per-round results", need)?;
    let pref_scale = data.pref_scale();
    let done = AtomicUsize::new(0);
    let rounds = par::try_map_indexed(which.len(), |k| {
        let out = run_round(data, cfg, pref_scale, seed, which[k]);
        progress.round_done(done.fetch_add(1, Ordering::Relaxed) + 1, which.len());
        out
    })?;
    Ok(Shard {
        fingerprint: fingerprint(data, cfg, seed, title),
        spec,
        total_rounds: cfg.rounds,
        title: title.to_string(),
        routers: cfg.routers.iter().map(|r| r.name().to_string()).collect(),
        rounds: which.into_iter().zip(rounds).collect(),
    })
}

pub(crate) fn floats_text(v: &[f64]) -> String {
    let mut s = String::with_capacity(v.len() * 20);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{x}");
    }
    s
}

pub(crate) fn parse_floats(s: &str, what: &dyn Fn() -> String) -> Result<Vec<f64>> {
    s.split_ascii_whitespace()
        .map(|t| t.parse::<f64>().map_err(|_| Error::data(format!("{}: `{t}` is not a number", what()))))
        .collect()
}

impl Shard {
    /// The `shard.json` object (see the module docs).
    pub fn to_json(&self) -> Value {
        let rounds: Vec<Value> = self
            .rounds
            .iter()
            .map(|(r, round)| {
                let routers: Vec<Value> = round
                    .routers
                    .iter()
                    .map(|rr| {
                        json!({
                            "curve": floats_text(&rr.curve),
                            "delta_rmse": rr.delta_rmse.map(|d| floats_text(&[d])),
                        })
                    })
                    .collect();
                json!({"round": r, "oracle": floats_text(&round.oracle), "routers": routers})
            })
            .collect();
        let mut m = Map::new();
        m.insert("format".into(), json!(FORMAT));
        m.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
        m.insert("fingerprint".into(), json!(self.fingerprint));
        m.insert("shard".into(), json!(self.spec.to_string()));
        m.insert("total_rounds".into(), json!(self.total_rounds));
        m.insert("title".into(), json!(self.title));
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
    /// not a shard.
    pub fn read(dir: &Path) -> Result<Shard> {
        let (v, p) = read_json(dir, FORMAT, "study shard")?;
        let bad = |why: &str| Error::data(format!("{p}: not a study shard ({why})"));
        let string = |k: &str| v[k].as_str().map(str::to_string).ok_or_else(|| bad(&format!("no \"{k}\"")));
        let spec = ShardSpec::parse(&string("shard")?).map_err(|_| bad("bad \"shard\""))?;
        let total_rounds = v["total_rounds"].as_u64().map(|t| t as usize).ok_or_else(|| bad("no \"total_rounds\""))?;
        let routers: Vec<String> = v["routers"]
            .as_array()
            .ok_or_else(|| bad("no \"routers\""))?
            .iter()
            .map(|n| n.as_str().map(str::to_string).ok_or_else(|| bad("a router name is not a string")))
            .collect::<Result<_>>()?;
        let mut rounds = Vec::new();
        for rv in v["rounds"].as_array().ok_or_else(|| bad("no \"rounds\""))? {
            let r = rv["round"].as_u64().map(|t| t as usize).ok_or_else(|| bad("a round without \"round\""))?;
            let at = || format!("{p}: round {r}");
            let oracle = parse_floats(rv["oracle"].as_str().ok_or_else(|| bad("a round without \"oracle\""))?, &at)?;
            let mut rrs = Vec::new();
            for rr in rv["routers"].as_array().ok_or_else(|| bad("a round without \"routers\""))? {
                let curve = parse_floats(rr["curve"].as_str().ok_or_else(|| bad("a router without \"curve\""))?, &at)?;
                let delta_rmse = match &rr["delta_rmse"] {
                    Value::Null => None,
                    Value::String(s) => parse_floats(s, &at)?.first().copied(),
                    _ => return Err(bad("\"delta_rmse\" is neither null nor a string")),
                };
                rrs.push(RouterRound { curve, delta_rmse });
            }
            rounds.push((r, Round { routers: rrs, oracle }));
        }
        Ok(Shard { fingerprint: string("fingerprint")?, spec, total_rounds, title: string("title")?, routers, rounds })
    }
}

/// Combines shards (each with the directory it came from, for messages) into the outcome of the
/// whole study and its figure title.
///
/// # Errors
/// [`Error::InvalidData`] in one line when the shards belong to different studies (naming two
/// directories whose fingerprints differ), when a round is in two shards (naming it and both
/// directories), or when rounds are missing (naming them, and the missing shards when every
/// shard has the same `N`).
pub fn merge_shards(shards: &[(PathBuf, Shard)]) -> Result<(StudyOutcome, String)> {
    let index: Vec<ShardIndex<'_>> = shards
        .iter()
        .map(|(dir, s)| ShardIndex::new(dir, &s.fingerprint, s.spec, s.total_rounds, &s.routers, &s.rounds))
        .collect();
    let order = cover(&index)?;
    let first = &shards[0].1;
    let rounds = order.into_iter().map(|(k, j)| shards[k].1.rounds[j].1.clone()).collect();
    Ok((StudyOutcome { routers: first.routers.clone(), rounds }, first.title.clone()))
}

impl<'a> ShardIndex<'a> {
    /// The index of a shard with these fields and `(round, result)` pairs.
    pub(crate) fn new<R>(
        dir: &'a Path,
        fingerprint: &'a str,
        spec: ShardSpec,
        total_rounds: usize,
        routers: &'a [String],
        rounds: &[(usize, R)],
    ) -> Self {
        ShardIndex { dir, fingerprint, spec, total_rounds, routers, rounds: rounds.iter().map(|(r, _)| *r).collect() }
    }
}

/// `value` as `dir/shard.json` (creating `dir`).
pub(crate) fn write_json(dir: &Path, value: &Value) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let body = serde_json::to_string(value).map_err(|e| Error::data(format!("cannot encode {SHARD_FILE}: {e}")))?;
    crate::outfile::write(dir.join(SHARD_FILE), body + "\n")
}

/// `dir/shard.json` parsed, with its path for messages, when its `"format"` is `format`
/// (`what` names the kind of shard in the error).
pub(crate) fn read_json(dir: &Path, format: &str, what: &str) -> Result<(Value, String)> {
    let path = dir.join(SHARD_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let p = path.display().to_string();
    let v: Value = serde_json::from_str(&text).map_err(|e| Error::data(format!("{p}: not a {what} ({e})")))?;
    if v["format"] != format {
        return Err(Error::data(format!("{p}: not a {what} (no \"format\": \"{format}\")")));
    }
    Ok((v, p))
}

/// What [`cover`] needs to know of a shard: where it came from, what identifies its study, and
/// the rounds it holds (in its own order).
pub(crate) struct ShardIndex<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) fingerprint: &'a str,
    pub(crate) spec: ShardSpec,
    pub(crate) total_rounds: usize,
    pub(crate) routers: &'a [String],
    pub(crate) rounds: Vec<usize>,
}

/// Checks that `shards` are of one study and hold each of its rounds exactly once, and returns,
/// for rounds `0..R` in order, `(shard, position in that shard's rounds)`; the errors of
/// [`merge_shards`].
pub(crate) fn cover(shards: &[ShardIndex<'_>]) -> Result<Vec<(usize, usize)>> {
    let Some(first) = shards.first() else {
        return Err(Error::data("merge: no shard directories given"));
    };
    let dir0 = first.dir;
    for s in &shards[1..] {
        if s.fingerprint != first.fingerprint {
            return Err(Error::data(format!(
                "merge: {} and {} are shards of different studies (fingerprints {} and {}: data, settings, \
                 seed, rounds or version differ)",
                dir0.display(),
                s.dir.display(),
                first.fingerprint,
                s.fingerprint
            )));
        }
    }
    let total = first.total_rounds;
    let mut slots: Vec<Option<(usize, usize)>> = vec![None; total];
    for (k, s) in shards.iter().enumerate() {
        if s.routers != first.routers || s.total_rounds != total {
            return Err(Error::data(format!("merge: {} does not match {}", s.dir.display(), dir0.display())));
        }
        for (j, &r) in s.rounds.iter().enumerate() {
            let slot = slots.get_mut(r).ok_or_else(|| {
                Error::data(format!("merge: {} holds round {r}, beyond the study's {total} rounds", s.dir.display()))
            })?;
            if let Some((other, _)) = slot {
                return Err(Error::data(format!(
                    "merge: round {r} is in both {} and {} (duplicate or overlapping shards)",
                    shards[*other].dir.display(),
                    s.dir.display()
                )));
            }
            *slot = Some((k, j));
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&r| slots[r].is_none()).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().take(10).map(usize::to_string).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        let n = first.spec.count;
        let which = if shards.iter().all(|s| s.spec.count == n) {
            let mut absent: Vec<usize> = missing.iter().map(|r| r % n + 1).collect();
            absent.sort_unstable();
            absent.dedup();
            let names: Vec<String> = absent.iter().map(|i| format!("{i}/{n}")).collect();
            format!(" (shard {} not given)", names.join(", "))
        } else {
            String::new()
        };
        return Err(Error::data(format!(
            "merge: {} of {total} rounds missing: {}{more}{which}",
            missing.len(),
            list.join(", ")
        )));
    }
    Ok(slots.into_iter().flatten().collect())
}

/// The `"format"` of the shard in `dir` (`dir/shard.json`), to tell a two-model shard from a
/// K-model one (`eval::shard_multi`).
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::InvalidData`] naming the file when it is not
/// JSON with a `"format"` string.
pub fn format_of(dir: &Path) -> Result<String> {
    let path = dir.join(SHARD_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| Error::data(format!("{}: not a study shard ({e})", path.display())))?;
    v["format"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::data(format!("{}: not a study shard (no \"format\")", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_partition_rounds() {
        assert_eq!(ShardSpec::parse("2/3").unwrap(), ShardSpec { index: 2, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "x/y", "3", "1/-2", ""] {
            let e = ShardSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--shard") && e.contains(bad), "{e}");
        }
        let all: Vec<Vec<usize>> = (1..=3).map(|i| ShardSpec { index: i, count: 3 }.rounds(7)).collect();
        assert_eq!(all, vec![vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
        assert!(ShardSpec { index: 5, count: 5 }.rounds(3).is_empty());
    }

    #[test]
    fn shards_round_trip_exactly_and_merge_checks_coverage() {
        let whole = crate::eval::summary::test_outcome();
        let mut rounds = whole.rounds.clone();
        rounds[1].routers[0].curve[3] = 0.1 + 0.2; // a value with 17 significant digits
        rounds[2].routers[0].delta_rmse = Some(f64::NAN);
        let whole = StudyOutcome { rounds, ..whole };
        let make = |i: usize| {
            let spec = ShardSpec { index: i, count: 2 };
            Shard {
                fingerprint: "00000000000000ab".into(),
                spec,
                total_rounds: 4,
                title: "t".into(),
                routers: whole.routers.clone(),
                rounds: spec.rounds(4).into_iter().map(|r| (r, whole.rounds[r].clone())).collect(),
            }
        };
        let dir = std::env::temp_dir().join(format!("mr-shard-unit-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        make(1).write(&a).unwrap();
        make(2).write(&b).unwrap();
        let (ra, rb) = (Shard::read(&a).unwrap(), Shard::read(&b).unwrap());
        let (merged, title) = merge_shards(&[(b.clone(), rb.clone()), (a.clone(), ra.clone())]).unwrap();
        assert_eq!(title, "t");
        assert_eq!(merged.rounds_csv(), whole.rounds_csv());
        assert_eq!(merged.rounds[1], whole.rounds[1]);
        assert!(merged.rounds[2].routers[0].delta_rmse.unwrap().is_nan());
        let e = merge_shards(&[(a.clone(), ra.clone())]).unwrap_err().to_string();
        assert!(e.contains("rounds missing: 1, 3") && e.contains("shard 2/2"), "{e}");
        let e = merge_shards(&[(a.clone(), ra.clone()), (b.clone(), ra.clone())]).unwrap_err().to_string();
        assert!(e.contains("round 0 is in both"), "{e}");
        let other = Shard { fingerprint: "ff".into(), ..rb };
        let e = merge_shards(&[(a, ra), (b, other)]).unwrap_err().to_string();
        assert!(e.contains("different studies"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
