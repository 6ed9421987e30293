//! Sizes that cannot fit (issue 16): every command, and every learner parameter that sizes an
//! allocation, given an impossible value, exits 1 with one clear line on stderr within seconds,
//! never a panic, an allocator abort or a backtrace, and leaves no output file; huge values of
//! parameters that size nothing run normally. Then a property test: `validate()` + `fit` of every
//! learner with parameters drawn from the whole `u64` range on tiny data returns (`Ok` or `Err`)
//! and never panics or aborts; and, ignored by default, the loop that stands in for cargo-fuzz
//! over `fuzzing::fit_params` (see fuzz/README.md).
//!
//! The table runs the binary with `META_ROUTER_MEMORY_BUDGET=4G`, so its outcomes do not depend
//! on the machine's memory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use faer::Mat;
use meta_router::budget;
use meta_router::fuzzing::SIZE_PARAMS;
use meta_router::learn::pca::PcaParams;
use meta_router::learn::{ClassifierSpec, RegressorSpec, TrainSet};
use meta_router::{Error, Seed};
use proptest::prelude::*;

const MAX: &str = "18446744073709551615";

fn fixtures() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("mr-size-limits-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let mut reg = String::from("x1,x2,y\n");
        let mut dep = String::from("x1,x2,source,label\n");
        for i in 0..200 {
            let (a, b) = ((i % 17) as f64 * 0.3, (i % 7) as f64 - 3.0);
            reg.push_str(&format!("{a},{b},{}\n", i % 2));
            let src = if i % 4 == 0 { "gold" } else { "pref" };
            dep.push_str(&format!("{a},{b},{src},{}\n", a - b * 0.1));
        }
        std::fs::write(d.join("reg.csv"), reg).unwrap();
        std::fs::write(d.join("dep.csv"), dep).unwrap();
        // 4 rows x 40,000 features: the logistic Hessian alone would be 12.8 GB
        let cols = 40_000;
        let mut wide: String = (1..=cols).map(|j| format!("x{j},")).collect();
        wide.push_str("y\n");
        for i in 0..4 {
            let row: String = (0..cols).map(|j| format!("{},", (i * 7 + j) % 5)).collect();
            wide.push_str(&format!("{row}{}\n", i % 2));
        }
        std::fs::write(d.join("wide.csv"), wide).unwrap();
        d
    })
}

#[derive(Clone, Copy, Debug)]
enum Want {
    /// Exit 1, one stderr line containing this.
    Refused(&'static str),
    /// Exit 0: a huge value that sizes nothing.
    Runs,
}

/// Runs one case: `{name}` is a fixture, `{out}` the case's output path (absent afterwards
/// unless the run succeeds); `env` is extra environment.
fn run_case(i: usize, case: &str, want: Want, env: &[(&str, &str)]) {
    let d = fixtures();
    let out = d.join(format!("out-{i}"));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir_all(&out);
    let mut args = Vec::new();
    for a in case.split_whitespace() {
        let a = if a == "{out}" {
            out.to_string_lossy().into_owned()
        } else if let Some(name) = a.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            d.join(name).to_string_lossy().into_owned()
        } else {
            a.to_string()
        };
        args.push(a);
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meta-router"));
    cmd.args(&args).env("META_ROUTER_MEMORY_BUDGET", "4G").env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t = Instant::now();
    let o = cmd.output().unwrap();
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("backtrace") && !err.contains("memory allocation"),
        "{case}: {err}"
    );
    assert!(took < Duration::from_secs(30), "{case}: took {took:?}");
    match want {
        Want::Refused(text) => {
            assert_eq!(o.status.code(), Some(1), "{case}: {err}");
            assert_eq!(err.lines().count(), 1, "{case}: {err}");
            assert!(err.starts_with("error: ") && err.contains(text), "{case}: wanted `{text}`, got {err}");
            assert!(!out.exists(), "{case}: left {}", out.display());
        }
        Want::Runs => assert!(o.status.success(), "{case}: {err}"),
    }
}

#[test]
fn impossible_sizes_are_one_line_errors_for_every_command() {
    use Want::{Refused, Runs};
    let learn = |l: &str, p: &str| format!("learn --learner {l} --data {{reg.csv}} --target y --param {p}");
    let fit = |a: &str| format!("fit --data {{dep.csv}} --learner ridge {a} -o {{out}}");
    let study = |a: &str| format!("study --learner ridge --quiet {a} --out {{out}}");
    let cases: Vec<(String, Want)> = vec![
        // --- simulate (and the study's simulated table)
        ("simulate --n 10000000000 -o {out}".into(), Refused("n 10000000000 (with d 50, n_topics 26) would need ~4.3 TB for the simulated table")),
        (format!("simulate --n {MAX} -o {{out}}"), Refused("for the simulated table")),
        (format!("simulate --n 10 --param d={MAX} -o {{out}}"), Refused("for the simulated table")),
        (format!("simulate --n 10 --param n_topics={MAX} -o {{out}}"), Refused("for the simulated table")),
        (study("--rounds 2 --n 10000000000"), Refused("n 10000000000 (with d 50, n_topics 26) would need")),
        // --- the forests (regressor and classifier)
        (
            "learn --learner rf --data {reg.csv} --target y --param n_estimators=1000000000 --param max_depth=1".into(),
            Refused("n_estimators 1000000000 would need ~"),
        ),
        (learn("rf", &format!("n_estimators={MAX}")), Refused("would need ~more than 18 EB for the forest")),
        (learn("rfc", "n_estimators=1000000000"), Refused("n_estimators 1000000000 would need")),
        (learn("rf", &format!("max_samples={MAX}")), Refused("`max_samples`")),
        (learn("rf", &format!("max_depth={MAX}")), Runs),
        (learn("rf", &format!("max_features={MAX}")), Runs),
        (learn("rfc", &format!("min_samples_leaf={MAX}")), Runs),
        (learn("rf", &format!("min_samples_split={MAX}")), Runs),
        // --- boosting
        (learn("hgb", "max_iter=1000000000"), Refused("max_iter 1000000000 would need ~")),
        (learn("hgbc", &format!("max_iter={MAX}")), Refused("for the boosting iterations")),
        (learn("hgb", &format!("max_bins={MAX}")), Refused("`max_bins` for hgb: must be in 2..=255")),
        (learn("hgb", &format!("max_leaf_nodes={MAX}")), Runs),
        (learn("hgbc", &format!("max_depth={MAX}")), Runs),
        (learn("hgb", &format!("min_samples_leaf={MAX}")), Runs),
        (learn("hgb", &format!("n_iter_no_change={MAX} --param early_stopping=true")), Runs),
        // --- linear models and PCA
        ("learn --learner logistic --data {wide.csv} --target y".into(), Refused("40000 features would need ~13 GB")),
        ("learn --learner ridge --data {wide.csv} --target y".into(), Runs),
        (learn("logistic", &format!("max_iter={MAX}")), Runs),
        ("learn --learner pca --data {reg.csv} --param n_components=1000000000".into(), Refused("`n_components`")),
        ("learn --learner pca --data {reg.csv} --param solver=randomized --param n_components=1 --param n_power_iter=1000000000".into(), Refused("`n_power_iter` for pca: must be at most 1000")),
        (format!("learn --learner pca --data {{reg.csv}} --param solver=randomized --param n_components=1 --param n_oversamples={MAX}"), Runs),
        // --- fit
        (fit("--repeats 1000000000"), Refused("repeats 1000000000 would need ~")),
        (fit(&format!("--repeats {MAX}")), Refused("for the cross-fitted nuisances")),
        (fit("--folds 1000000000"), Refused("cannot fill 1000000000 folds")),
        (fit(&format!("--pca {MAX}")), Refused("`n_components`")),
        (format!("fit --data {{dep.csv}} --learner rf --param n_estimators={MAX} -o {{out}}"), Refused("would need ~more than 18 EB")),
        // --- study
        (study("--rounds 1000000000"), Refused("--rounds 1000000000 would need ~")),
        (study(&format!("--rounds {MAX}")), Refused("for the study's per-round results")),
        (study(&format!("--rounds 2 --gold {MAX}")), Refused("leaves no preference rows")),
        (study(&format!("--rounds 2 --test {MAX}")), Refused("leaves no preference rows")),
        (study(&format!("--rounds 2 --pca {MAX}")), Refused("`--pca`")),
        (study(&format!("--rounds 2 --folds {MAX}")), Refused("folds")),
        (format!("study --rounds 1 --quiet --param n_estimators={MAX} --out {{out}}"), Refused("for the forest")),
    ];
    for (i, (case, want)) in cases.iter().enumerate() {
        run_case(i, case, *want, &[]);
    }
    assert!(cases.len() >= 35);
}

#[test]
fn the_budget_is_configurable_and_csv_rows_grow_within_it() {
    // a 200-row table under a 16 kB budget: refused while reading, naming the file
    run_case(
        100,
        "learn --learner ridge --data {reg.csv} --target y",
        Want::Refused("reg.csv (1024 rows of 3 columns) would need ~25 kB for the table in memory"),
        &[("META_ROUTER_MEMORY_BUDGET", "16K")],
    );
    run_case(
        101,
        "learn --learner ridge --data {reg.csv} --target y",
        Want::Runs,
        &[("META_ROUTER_MEMORY_BUDGET", "50%")],
    );
    run_case(
        102,
        "simulate --n 100 -o {out}",
        Want::Refused("`META_ROUTER_MEMORY_BUDGET`"),
        &[("META_ROUTER_MEMORY_BUDGET", "lots")],
    );
    run_case(
        103,
        "simulate --n 100000 -o {out}",
        Want::Refused("the budget is 1.0 MB"),
        &[("META_ROUTER_MEMORY_BUDGET", "1000000")],
    );
}

#[test]
fn outputs_are_written_whole_under_their_name() {
    let d = fixtures();
    let out = d.join("sim-whole.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_meta-router"))
        .args(["simulate", "--n", "50", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 51);
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A value from the whole range (most draws are huge) or a small one.
fn size() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..=64, any::<u64>(), Just(u64::MAX), (0u32..64).prop_map(|s| 1u64 << s)]
}

/// `validate` + `fit` of `learner` with `values` for its size parameters on a 7 x 2 table,
/// under a 4 MB budget; returns the result of the fit, never panics (the caller checks).
fn fit_with(learner: &str, values: &[u64], early_stopping: bool) -> Result<(), Error> {
    let x = Mat::from_fn(7, 2, |i, j| ((i * 3 + j * 5) % 7) as f64);
    let y: Vec<f64> = (0..7).map(|i| (i % 2) as f64).collect();
    let names = SIZE_PARAMS.iter().find(|(l, _)| *l == learner).map(|(_, n)| *n).unwrap_or(&[]);
    let pairs: Vec<String> = names.iter().zip(values).map(|(n, v)| format!("{n}={v}")).collect();
    budget::with_budget(4 << 20, || {
        if learner == "pca" {
            let mut p = PcaParams { solver: meta_router::learn::pca::PcaSolver::Randomized, ..Default::default() };
            for pair in &pairs {
                let (k, v) = pair.split_once('=').unwrap_or_default();
                meta_router::learn::Params::set_param(&mut p, k, v)?;
            }
            meta_router::learn::Params::validate(&p)?;
            return p.fit(x.as_ref(), Seed(3)).map(|_| ());
        }
        let data = TrainSet { x: x.as_ref(), y: &y, weights: None };
        if let Ok(mut spec) = RegressorSpec::from_name(learner) {
            spec.set_params(&pairs)?;
            if early_stopping {
                spec.set_param("early_stopping", "true")?;
            }
            spec.validate()?;
            return spec.fit(data, Seed(3)).map(|_| ());
        }
        let mut spec = ClassifierSpec::from_name(learner)?;
        spec.set_params(&pairs)?;
        if early_stopping {
            spec.set_param("early_stopping", "true")?;
        }
        spec.validate()?;
        spec.fit(data, Seed(3)).map(|_| ())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn validate_and_fit_never_panic_for_any_size(
        learner in 0usize..SIZE_PARAMS.len(),
        values in proptest::collection::vec(size(), 6),
        early in any::<bool>(),
    ) {
        let (name, _) = SIZE_PARAMS[learner];
        let early = early && name.starts_with("hgb");
        let r = std::panic::catch_unwind(|| fit_with(name, &values, early));
        prop_assert!(r.is_ok(), "{name} {values:?} panicked");
        if let Ok(Err(e)) = r {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n') && !msg.is_empty(), "{name}: {msg}");
        }
    }
}

#[test]
fn the_largest_values_are_refused_before_allocating() {
    for (learner, names) in SIZE_PARAMS {
        let values = vec![u64::MAX; names.len()];
        let r = fit_with(learner, &values, false);
        // logistic's one count is an iteration cap that Newton never reaches: it must fit
        assert_eq!(r.is_err(), *learner != "logistic", "{learner}: {r:?}");
        for k in 0..names.len() {
            let mut v = vec![4u64; names.len()];
            v[k] = u64::MAX;
            let _ = fit_with(learner, &v, false);
        }
    }
}

/// The stand-in for a cargo-fuzz campaign of `fuzzing::fit_params` (cargo-fuzz and nightly are
/// not on every machine): random and mutated inputs for `MR_FUZZ_SECS` seconds (default 60),
/// printing the execution count. Run with
/// `cargo test --release --test integration size_limits::fuzz_fit_params -- --ignored --nocapture`.
#[test]
#[ignore]
fn fuzz_fit_params() {
    let secs: u64 = std::env::var("MR_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fit");
    let mut pool: Vec<Vec<u8>> =
        std::fs::read_dir(corpus_dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    let start = Instant::now();
    let (mut execs, mut slowest) = (0u64, Duration::ZERO);
    while start.elapsed() < Duration::from_secs(secs) {
        let r = next();
        let mut input = if r % 3 == 0 || pool.is_empty() {
            (0..(next() % 96) as usize).map(|_| next() as u8).collect::<Vec<u8>>()
        } else {
            pool[(next() % pool.len() as u64) as usize].clone()
        };
        for _ in 0..(next() % 8) {
            if input.is_empty() {
                break;
            }
            let at = (next() % input.len() as u64) as usize;
            match next() % 4 {
                0 => input[at] = next() as u8,
                1 => input[at] = [0u8, 0xFF, 0x7F, 0x80][(next() % 4) as usize],
                2 => input.insert(at, next() as u8),
                _ => {
                    let end = (at + 8).min(input.len());
                    input[at..end].fill(0xFF);
                }
            }
        }
        let t = Instant::now();
        let ok = std::panic::catch_unwind(|| meta_router::fuzzing::fit_params(&input));
        slowest = slowest.max(t.elapsed());
        assert!(ok.is_ok(), "fit_params panicked on {input:?}");
        execs += 1;
        if execs % 64 == 0 && pool.len() < 4096 {
            pool.push(input);
        }
    }
    println!("fuzz_fit_params: {execs} executions in {:?}, slowest {slowest:?}", start.elapsed());
}
