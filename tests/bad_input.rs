//! The bad-input table (issue 6): every command of the built binary, fed bad input, exits non-zero with
//! one clear line on stderr naming the fault, never panics or prints a backtrace, and leaves no output
//! file behind (so no NaN can reach one). Clap usage errors exit 2 and may take several lines.
//!
//! Cases are written as command lines; `{name}` stands for the fixture `name` in a per-process temp dir
//! and `{out}` for the case's own output path, which must not exist after the run.

use crate::util::bin;
use std::path::{Path, PathBuf};

/// A per-process fixture directory, filled once.
fn fixtures() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("mr-bad-input-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        write_fixtures(&d);
        d
    })
}

fn run_ok(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into()
}

/// Replaces field `col` (0-based) of line `line` (1-based, the header is line 1) of a CSV text.
fn edit_csv(text: &str, line: usize, col: usize, value: &str) -> String {
    let mut s = String::new();
    for (i, l) in text.lines().enumerate() {
        if i + 1 == line {
            let mut f: Vec<&str> = l.split(',').collect();
            f[col] = value;
            s.push_str(&f.join(","));
        } else {
            s.push_str(l);
        }
        s.push('\n');
    }
    s
}

fn write_fixtures(d: &Path) {
    let w = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    // small learner tables
    w("ok.csv", "x1,x2,y\n1,2,3\n2,1,4\n3,3,5\n4,0,7\n");
    w("ragged.csv", "x1,x2,y\n1,2,3\n2,1\n3,3,5\n");
    w("unparsable.csv", "x1,x2,y\n1,2,3\n2,abc,4\n3,3,5\n");
    w("nan_feature.csv", "x1,x2,y\n1,2,3\n2,NaN,4\n3,3,5\n");
    w("inf_feature.csv", "x1,x2,y\n1,2,3\n2,inf,4\n3,3,5\n");
    w("nan_label.csv", "x1,x2,y\n1,2,3\n2,1,NaN\n3,3,5\n");
    w("inf_label.csv", "x1,x2,y\n1,2,3\n2,1,-inf\n3,3,5\n");
    w("empty.csv", "");
    w("header_only.csv", "x1,x2,y\n");
    w("duplicate.csv", "x1,x1,y\n1,2,3\n2,1,4\n3,3,5\n");
    std::fs::write(d.join("not_utf8.csv"), b"\xff\xfe,y\n1,2\n2,3\n").unwrap();
    w("one_feature.csv", "x1,y\n1,3\n2,4\n");
    w("one_class.csv", "x1,x2,y\n1,2,1\n2,1,1\n3,3,1\n4,0,1\n");
    w("three_class.csv", "x1,x2,y\n1,2,0\n2,1,2\n3,3,1\n4,0,0\n");
    w("fraction.csv", "x1,x2,y\n1,2,0.5\n2,1,0\n3,3,1\n4,0,0\n");
    w("constant.csv", "x1,x2,y\n1,2,3\n2,1,3\n3,3,3\n4,0,3\n");
    w("negative_weight.csv", "x1,x2,y,w\n1,2,3,-1\n2,1,4,1\n3,3,5,1\n4,0,7,1\n");
    w("zero_weight.csv", "x1,x2,y,w\n1,2,3,0\n2,1,4,0\n3,3,5,0\n4,0,7,0\n");
    // finite, but its squares overflow f64 (1e200^2 = 1e400)
    w("huge_feature.csv", "x1,x2,y\n1,2,0\n2,1e200,1\n3,3,0\n4,0,1\n5,-1,1\n");

    // the simulator's table: x1..x50, gs, pb, psi, delta
    let sim = d.join("sim.csv");
    run_ok(&["simulate", "--n", "400", "--seed", "1", "-o", sim.to_str().unwrap()]);
    let sim_text = std::fs::read_to_string(&sim).unwrap();
    let header: Vec<&str> = sim_text.lines().next().unwrap().split(',').collect();
    let (gs, pb) = (header.iter().position(|c| *c == "gs").unwrap(), header.iter().position(|c| *c == "pb").unwrap());
    w("sim_nan_gs.csv", &edit_csv(&sim_text, 8, gs, "NaN"));
    w("sim_nan_pb.csv", &edit_csv(&sim_text, 8, pb, "NaN"));

    // a deployment table x1..x5, source, label: every fifth row gold (80 gold, 320 preference)
    let mut dep = String::from("x1,x2,x3,x4,x5,source,label\n");
    for (i, l) in sim_text.lines().skip(1).enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let gold = i % 5 == 0;
        dep.push_str(&f[..5].join(","));
        dep.push_str(if gold { ",gold," } else { ",pref," });
        dep.push_str(f[if gold { gs } else { pb }]);
        dep.push('\n');
    }
    w("dep.csv", &dep);
    w("dep_no_gold.csv", &dep.replace(",gold,", ",pref,"));
    w("dep_no_pref.csv", &dep.replace(",pref,", ",gold,"));
    w("dep_nan_label.csv", &edit_csv(&dep, 8, 6, "NaN"));
    w("dep_silver.csv", &edit_csv(&dep, 8, 5, "silver"));
    w("dep_inf_feature.csv", &edit_csv(&dep, 8, 1, "inf"));
    w("dep_huge_feature.csv", &edit_csv(&dep, 8, 1, "1e200"));
    w("dep_nan_feature.csv", &edit_csv(&dep, 8, 1, "NaN"));
    w("dep_dup_column.csv", &dep.replacen("x2", "x1", 1));
    let lines: Vec<&str> = dep.lines().collect();
    let gold3 = lines[1..].iter().filter(|l| l.contains(",gold,")).take(3);
    let pref40 = lines[1..].iter().filter(|l| l.contains(",pref,")).take(40);
    let few: Vec<&str> = std::iter::once(lines[0]).chain(gold3.copied()).chain(pref40.copied()).collect();
    w("dep_3_gold.csv", &(few.join("\n") + "\n"));
    // a query table without x3
    let no_x3: String = dep
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(2);
            f.join(",") + "\n"
        })
        .collect();
    w("dep_no_x3.csv", &no_x3);

    // a valid router (ridge, small), then corrupted copies
    let model = d.join("router.mr");
    run_ok(&[
        "fit",
        "--data",
        d.join("dep.csv").to_str().unwrap(),
        "--learner",
        "ridge",
        "-o",
        model.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(d.join("garbage.mr"), (0..100u32).map(|i| (i * 37 + 11) as u8).collect::<Vec<u8>>()).unwrap();
    std::fs::write(d.join("empty.mr"), b"").unwrap();
    std::fs::write(d.join("truncated.mr"), &bytes[..bytes.len() * 2 / 5]).unwrap();
    let mut v99 = bytes.clone();
    v99[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(d.join("version99.mr"), v99).unwrap();
    let mut flipped = bytes.clone();
    let at = bytes.len() - 20;
    flipped[at] ^= 0x10;
    std::fs::write(d.join("flipped.mr"), flipped).unwrap();
    // a saved learner, not a router
    run_ok(&[
        "learn",
        "--learner",
        "ridge",
        "--data",
        d.join("ok.csv").to_str().unwrap(),
        "--target",
        "y",
        "--save", // the old spelling of `-o/--out`, a hidden alias
        d.join("regressor.mr").to_str().unwrap(),
    ]);
}

/// How a case must fail.
#[derive(Clone, Copy)]
enum Want {
    /// Our error: a non-zero exit code and one line on stderr containing this.
    Line(&'static str),
    /// A clap usage error: exit 2, stderr contains `error:` and this.
    Usage(&'static str),
}

/// Runs one case; returns a description of every broken expectation (empty when the case holds).
fn check(tag: &str, i: usize, cmd: &str, want: Want) -> Vec<String> {
    let d = fixtures();
    let out_path = d.join(format!("out-{tag}-{i}"));
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_dir_all(&out_path);
    let args: Vec<String> = cmd
        .split_whitespace()
        .map(|a| {
            let mut a = a.to_string();
            while let (Some(s), Some(e)) = (a.find('{'), a.find('}')) {
                let name = &a[s + 1..e];
                let p = if name == "out" { out_path.clone() } else { d.join(name) };
                a.replace_range(s..=e, p.to_str().unwrap());
            }
            a
        })
        .collect();
    let out = bin().args(&args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let mut bad = Vec::new();
    let code = out.status.code();
    for forbidden in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if err.contains(forbidden) {
            bad.push(format!("stderr contains `{forbidden}`"));
        }
    }
    match want {
        Want::Line(s) => {
            if out.status.success() || code.is_none() {
                bad.push(format!("exit code {code:?}, want non-zero"));
            }
            if err.lines().count() != 1 || err.trim().is_empty() {
                bad.push(format!("stderr has {} lines, want one non-empty line", err.lines().count()));
            }
            if !err.contains(s) {
                bad.push(format!("stderr lacks `{s}`"));
            }
        }
        Want::Usage(s) => {
            if code != Some(2) {
                bad.push(format!("exit code {code:?}, want 2"));
            }
            if !err.contains("error:") || !err.contains(s) {
                bad.push(format!("stderr lacks `error:` or `{s}`"));
            }
        }
    }
    if out_path.is_file() {
        let text = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned();
        let nan = if text.contains("NaN") { " (containing NaN)" } else { "" };
        bad.push(format!("the output file was written{nan}"));
    } else if out_path.exists() {
        bad.push("the output directory was created".into());
    }
    if bad.is_empty() {
        vec![]
    } else {
        vec![format!(
            "case {i} `{cmd}`: {}\n    stderr: {}",
            bad.join("; "),
            err.trim_end().replace('\n', "\n            ")
        )]
    }
}

/// Runs every case (outputs go to `out-TAG-N`) and fails listing every broken case.
fn check_all(tag: &str, cases: &[(&str, Want)]) {
    let failures: Vec<String> =
        cases.iter().enumerate().flat_map(|(i, &(cmd, want))| check(tag, i, cmd, want)).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

use Want::{Line, Usage};

/// `cmd`, then each `(flag, value)` of `defaults` whose flag `rest` does not give, then `rest`.
fn with_defaults(cmd: &str, defaults: &[(&str, &str)], rest: &str) -> String {
    let mut s = cmd.to_string();
    for (flag, value) in defaults {
        if !rest.split_whitespace().any(|a| a == *flag) {
            s += &format!(" {flag} {value}");
        }
    }
    s + " " + rest
}

const STUDY_DEFAULTS: [(&str, &str); 5] =
    [("--data", "{sim.csv}"), ("--learner", "ridge"), ("--rounds", "1"), ("--gold", "50"), ("--test", "100")];

#[test]
fn bad_input_table() {
    let l = |rest: &str| with_defaults("learn --target y -o {out}", &[("--learner", "ridge")], rest);
    let s = |rest: &str| with_defaults("study --quiet --out {out}", &STUDY_DEFAULTS, rest);
    let fit = |rest: &str| with_defaults("fit -o {out}", &[("--learner", "ridge")], rest);
    let route = |rest: &str| format!("route --model {{router.mr}} -o {{out}} {rest}");
    let cases: Vec<(String, Want)> = vec![
        // --- CSV input
        (l("--data {missing.csv}"), Line("missing.csv: No such file")),
        ("learn --learner ridge --data {ok.csv} --target z".into(), Line("no column `z`; the file has: x1, x2, y")),
        (l("--data {ragged.csv}"), Line("line 3: ragged row: 2 fields where the header has 3")),
        (l("--data {unparsable.csv}"), Line("line 3, column `x2`: cannot parse `abc` as a number")),
        (l("--data {nan_feature.csv}"), Line("line 3, column `x2`: missing or NaN value")),
        (l("--data {inf_feature.csv}"), Line("line 3, column `x2`: infinite value")),
        (l("--data {nan_label.csv}"), Line("line 3, column `y`: missing or NaN value")),
        (l("--data {inf_label.csv}"), Line("line 3, column `y`: infinite value")),
        (l("--data {empty.csv}"), Line("empty.csv, line 1: the file has no header row")),
        (l("--data {header_only.csv}"), Line("header_only.csv: no data rows after the header")),
        (l("--data {duplicate.csv}"), Line("line 1, column `x1`: duplicate column name")),
        (l("--data {not_utf8.csv}"), Line("line 1: invalid UTF-8")),
        (l("--data {ok.csv} --test {one_feature.csv}"), Line("one_feature.csv has feature columns [x1]")),
        (fit("--data {dep_silver.csv}"), Line("line 8, column `source`: unknown source `silver`")),
        (fit("--data {dep_dup_column.csv}"), Line("line 1, column `x1`: duplicate column name")),
        (fit("--data {dep_inf_feature.csv}"), Line("line 8, column `x2`: infinite value")),
        (fit("--data {dep_nan_feature.csv}"), Line("line 8, column `x2`: missing or NaN value")),
        (fit("--data {dep_huge_feature.csv}"), Line("feature column 1 (`x2`) is too large for f64 arithmetic")),
        (fit("--data {dep.csv} --label-col lab"), Line("no column `lab`")),
        (fit("--data {dep.csv} --source-col src"), Line("no column `src`")),
        (fit("--data {dep.csv} --features x1,x9"), Line("no column `x9`")),
        (
            fit("--data {dep.csv} --weight-col label"),
            Line("line 2, column `label`: sample weight must be a finite number >= 0 (found -"),
        ),
        // --- parameters
        (
            "learn --learner foo --data {ok.csv} --target y".into(),
            Usage("invalid value 'foo' for '--learner <LEARNER>'"),
        ),
        (l("--data {ok.csv} --param zzz=1"), Line("`zzz` for ridge: unknown parameter; ridge takes: alpha")),
        (l("--data {ok.csv} --param alpha=-1"), Line("`alpha` for ridge: must be a finite number >= 0, got -1")),
        (l("--data {ok.csv} --param alpha"), Line("`alpha` for ridge: expected `name=value`")),
        (l("--data {ok.csv} --param alpha=abc"), Line("`abc` is not a number")),
        (l("--data {ok.csv} --param alpha=nan"), Line("`alpha` for ridge")),
        (
            l("--data {one_class.csv} --learner logistic --param C=0"),
            Line("`C` for logistic: must be a finite number > 0, got 0"),
        ),
        (l("--data {ok.csv} --learner rf --param n_estimators=0"), Line("`n_estimators` for rf: must be >= 1, got 0")),
        (l("--data {ok.csv} --learner rf --param max_depth=0"), Line("`max_depth` for rf: must be >= 1, got 0")),
        (l("--data {ok.csv} --learner rf --param min_samples_leaf=0"), Line("`min_samples_leaf` for rf: must be >= 1")),
        (
            l("--data {ok.csv} --learner hgb --param max_bins=300"),
            Line("`max_bins` for hgb: must be in 2..=255, got 300"),
        ),
        (l("--data {ok.csv} --learner hgb --param learning_rate=0"), Line("`learning_rate` for hgb: must be a finite")),
        (
            "learn --learner pca --data {ok.csv} --param n_components=5".into(),
            Line("`n_components` for pca: 5 exceeds"),
        ),
        (
            l("--data {negative_weight.csv} --weight-col w"),
            Line("line 2, column `w`: sample weight must be a finite number >= 0 (found -1)"),
        ),
        // `--weight`: the old spelling of `--weight-col`, a hidden alias
        (l("--data {zero_weight.csv} --weight w"), Line("sample weights sum to zero")),
        (fit("--data {dep.csv} --learner foo"), Usage("invalid value 'foo' for '--learner <LEARNER>'")),
        (fit("--data {dep.csv} --param alpha=-1"), Line("`alpha` for ridge: must be a finite number >= 0")),
        (fit("--data {dep.csv} --param zzz=1"), Line("`zzz` for ridge: unknown parameter")),
        // --- learners
        (
            l("--data {huge_feature.csv}"),
            Line(
                "ridge: feature column 1 (`x2`) is too large for f64 arithmetic: its sum of squares overflows (largest |value| 1e200)",
            ),
        ),
        (l("--data {huge_feature.csv} --learner logistic"), Line("logistic: feature column 1 (`x2`) is too large")),
        (
            "learn --learner pca --data {huge_feature.csv} -o {out}".into(),
            Line("pca: feature column 1 (`x2`) is too large for f64 arithmetic"),
        ),
        (l("--data {one_class.csv} --learner logistic"), Line("single class")),
        (l("--data {one_class.csv} --learner rfc"), Line("single class")),
        (l("--data {one_class.csv} --learner hgbc"), Line("single class")),
        (
            l("--data {three_class.csv} --learner logistic"),
            Line("line 3, column `y`: classifier target must be 0 or 1 (found 2)"),
        ),
        (l("--data {three_class.csv} --learner rfc"), Line("line 3, column `y`: classifier target must be 0 or 1")),
        (l("--data {three_class.csv} --learner hgbc"), Line("line 3, column `y`: classifier target must be 0 or 1")),
        (
            l("--data {fraction.csv} --learner logistic"),
            Line("line 2, column `y`: classifier target must be 0 or 1 (found 0.5)"),
        ),
        (l("--data {constant.csv}"), Line("constant target")),
        (l("--data {constant.csv} --learner hgb"), Line("constant target")),
        (l("--data {constant.csv} --learner rf"), Line("constant target")),
        // --- the causal core, through `fit`
        (fit("--data {dep_no_gold.csv}"), Line("no gold rows")),
        (fit("--data {dep_no_pref.csv}"), Line("no preference rows")),
        (fit("--data {dep_nan_label.csv}"), Line("line 8, column `label`: missing or NaN value")),
        (fit("--data {dep.csv} --folds 0"), Line("`n_folds` for router: must be >= 2, got 0")),
        (fit("--data {dep.csv} --folds 1"), Line("`n_folds` for router: must be >= 2, got 1")),
        (fit("--data {dep_3_gold.csv} --folds 5"), Line("3 gold rows cannot fill 5 folds")),
        (fit("--data {dep.csv} --folds 100"), Line("80 gold rows cannot fill 100 folds")),
        (fit("--data {dep.csv} --align w9"), Usage("invalid value 'w9' for '--align <ALIGN>'")),
        (fit("--data {dep.csv} --method magic"), Usage("invalid value 'magic' for '--method <METHOD>'")),
        (fit("--data {dep.csv} --propensity guessed"), Usage("[possible values: known, estimated]")),
        (
            fit("--data {dep.csv} --final-param alpha=1"),
            Line("`--final-param` for router: needs a named --final-stage"),
        ),
        (fit("--data {dep.csv} --final-stage ridge --final-param zzz=1"), Line("`zzz` for ridge: unknown parameter")),
        (
            fit("--data {dep.csv} --propensity estimated --clip 0.7"),
            Line("`clip` for propensity: must lie in (0, 0.5)"),
        ),
        (fit("--data {dep.csv} --repeats 0"), Line("`repeats` for router: must be >= 1, got 0")),
        (fit("--data {dep.csv} --pca 0"), Line("`--pca` for fit: must be >= 1, got 0")),
        (fit("--data {dep.csv} --pca 99"), Line("99 exceeds min(n_rows, n_features) = 5")),
        (fit("--data {dep.csv} --usage 1.5"), Line("`usage` for router: must lie in [0, 1], got 1.5")),
        (fit("--data {dep.csv} --threshold nan"), Line("`threshold` for router: is NaN")),
        // --- routers and saved models, through `route`
        (route("--data {dep.csv} --usage 1.5"), Line("`--usage` for route: must lie in [0, 1], got 1.5")),
        (route("--data {dep.csv} --usage=-0.1"), Line("`--usage` for route: must lie in [0, 1], got -0.1")),
        (route("--data {dep.csv} --usage nan"), Line("`--usage` for route: must lie in [0, 1], got NaN")),
        (route("--data {dep.csv} --threshold nan"), Line("`threshold` for router: is NaN")),
        (route("--data {dep_no_x3.csv}"), Line("no column `x3`")),
        (route("--data {dep_nan_feature.csv}"), Line("line 8, column `x2`: missing or NaN value")),
        (route("--data {header_only.csv}"), Line("no column `x3`")),
        (
            route("--data {dep.csv} --lambda 1 --cost-primary-col label --cost-alternative-col nope"),
            Line("no column `nope`"),
        ),
        (
            route("--data {dep.csv} --lambda 1"),
            Line("`--lambda` for route: with a two-model router needs --cost-primary-col"),
        ),
        (route("--data {dep.csv} --budget 3"), Line("`--budget` for route: applies to a router among K models")),
        ("route --model {garbage.mr} --data {dep.csv} -o {out}".into(), Line("not a meta-router file (wrong magic")),
        ("route --model {empty.mr} --data {dep.csv} -o {out}".into(), Line("not a meta-router file (too short)")),
        ("route --model {truncated.mr} --data {dep.csv} -o {out}".into(), Line("truncated or padded")),
        ("route --model {version99.mr} --data {dep.csv} -o {out}".into(), Line("format version 99")),
        ("route --model {flipped.mr} --data {dep.csv} -o {out}".into(), Line("checksum mismatch")),
        ("route --model {missing.mr} --data {dep.csv} -o {out}".into(), Line("missing.mr: No such file")),
        ("route --model {regressor.mr} --data {dep.csv} -o {out}".into(), Line("holds a Regressor, expected a Router")),
        ("route --model {dep.csv} --data {dep.csv} -o {out}".into(), Line("not a meta-router file")),
        // --- study
        (s("--rounds 0"), Line("`--rounds` for study: must be at least 1, got 0")),
        (s("--gold 300 --test 200"), Line("--gold 300 + --test 200 leaves no preference rows")),
        (s("--gold 0"), Line("`--gold` for study: must be at least 1, got 0")),
        (s("--test 0"), Line("`--test` for study: must be at least 1, got 0")),
        (s("--routers meta_dr,foo"), Line("unknown router `foo`")),
        (s("--gold-col GL"), Line("no column `GL`")),
        (s("--pref-col PL"), Line("no column `PL`")),
        (s("--psi-col truth"), Line("no column `truth`")),
        (s("--learner foo"), Usage("invalid value 'foo' for '--learner <LEARNER>'")),
        (s("--param alpha=-3"), Line("`alpha` for ridge: must be a finite number >= 0, got -3")),
        (s("--folds 1"), Line("`n_folds` for router: must be >= 2, got 1")),
        (s("--protocol foo"), Usage("[possible values: crossfit, paper]")),
        (s("--final-stage foo"), Usage("invalid value 'foo' for '--final-stage <FINAL_STAGE>'")),
        (s("--final-param alpha=1"), Line("`--final-param` for router: needs a named --final-stage")),
        (s("--sim-param scale=2"), Line("`--sim-param` for study: applies to the built-in simulator")),
        (s("--data {sim_nan_gs.csv}"), Line("line 8, column `gs`: missing or NaN value")),
        (s("--data {sim_nan_pb.csv}"), Line("line 8, column `pb`: missing or NaN value")),
        (
            "study --n 0 --learner ridge --rounds 1 --quiet --out {out}".into(),
            Line("`n` for simulator: must be at least 1"),
        ),
        // --- simulate
        ("simulate --n 0 -o {out}".into(), Line("`n` for simulator: must be at least 1, got 0")),
        ("simulate --n 10 --param foo=1 -o {out}".into(), Line("`foo` for simulator: unknown parameter")),
        ("simulate --n 10 --param scale -o {out}".into(), Line("`scale` for simulator: expected `name=value`")),
        (
            "simulate --n 10 --param scale=nan -o {out}".into(),
            Line("`scale` for simulator: must be a finite number > 0"),
        ),
        (
            "simulate --n 10 --param scale=-1 -o {out}".into(),
            Line("`scale` for simulator: must be a finite number > 0"),
        ),
        // --- clap usage errors
        ("frobnicate".into(), Usage("unrecognized subcommand 'frobnicate'")),
        ("fit --data {dep.csv}".into(), Usage("--out <OUT>")),
        ("route --model {router.mr} -o {out}".into(), Usage("--data <DATA>")),
        ("learn --data {ok.csv}".into(), Usage("--learner <LEARNER>")),
        (fit("--data {dep.csv} --folds abc"), Usage("invalid value 'abc' for '--folds <FOLDS>'")),
        ("simulate --n many -o {out}".into(), Usage("invalid value 'many'")),
        ("study --bogus".into(), Usage("unexpected argument '--bogus'")),
    ];
    assert!(cases.len() >= 45, "{}", cases.len());
    let cases: Vec<(&str, Want)> = cases.iter().map(|(c, w)| (c.as_str(), *w)).collect();
    check_all("table", &cases);
}

/// Regression (found by this table, fixed): `learn --test FILE` with NaN or inf in the test file's features exits 0 and reports
/// `r2 NaN (test)` (`"value": null` with `--json`): a silent NaN instead of an error naming the cell.
#[test]
fn learn_rejects_non_finite_test_features_by_line_and_column() {
    check_all(
        "learn-test",
        &[
            ("learn --learner ridge --data {ok.csv} --target y --test {nan_feature.csv}", Line("line 3, column `x2`")),
            ("learn --learner ridge --data {ok.csv} --target y --test {inf_feature.csv}", Line("line 3, column `x2`")),
        ],
    );
}

/// Regression (found by this table, fixed): `learn` reported a NaN/inf training feature as `non-finite value NaN in features at row 1,
/// column 1` (0-based data row and column index, no file name), where `fit`, `route` and `study` say
/// `FILE, line 3, column `x2``; a user reads "row 1, column 1" as the first row and `x1`. Classifier
/// targets likewise say `at row 0` (0-based) without the file or line.
#[test]
fn learn_names_bad_cells_by_file_line_and_column() {
    check_all(
        "learn-rows",
        &[
            ("learn --learner ridge --data {nan_feature.csv} --target y", Line("line 3, column `x2`")),
            ("learn --learner ridge --data {inf_feature.csv} --target y", Line("line 3, column `x2`")),
            ("learn --learner logistic --data {fraction.csv} --target y", Line("line 2, column `y`")),
        ],
    );
}

/// Regression (found by this table, fixed with clap's `allow_negative_numbers`): a negative value after a space (`--threshold -0.5`, `--usage -0.1`) is rejected by the
/// argument parser as `unexpected argument '-0' found` (exit 2), so a legitimate negative threshold
/// can only be passed as `--threshold=-0.5`, and an out-of-range usage gets a misleading message.
#[test]
fn negative_numbers_after_a_space_are_values() {
    let d = fixtures();
    let out = d.join("neg-threshold.csv");
    let status = bin()
        .args(["route", "--model"])
        .arg(d.join("router.mr"))
        .arg("--data")
        .arg(d.join("dep.csv"))
        .args(["--threshold", "-0.5", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    check_all("negative", &[("route --model {router.mr} --data {dep.csv} --usage -0.1 -o {out}", Line("got -0.1"))]);
}
