//! Sharded studies through the CLI: a small study run whole and as 3 shards, merged, every output
//! file byte for byte the same; bad merges (mixed studies, a missing or duplicate shard) and bad
//! `--shard` values are one-line errors.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::bin;

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mr-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small, fast study (simulator n 600, ridge everywhere, 7 rounds) with `extra` arguments.
fn study(seed: &str, extra: &[&str], out: &Path) -> Output {
    bin()
        .args(["study", "--n", "600", "--gold", "60", "--test", "150", "--rounds", "7", "--learner", "ridge"])
        .args(["--routers", "meta_r,meta_dr,gold_only,random", "--final-stage", "ridge", "--quiet"])
        .args(["--seed", seed])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs `merge dirs --out out` and returns its output.
fn merge(dirs: &[&Path], out: &Path) -> Output {
    bin().arg("merge").args(dirs).arg("--out").arg(out).arg("--quiet").output().unwrap()
}

/// Asserts failure with one `error:` line on stderr containing every one of `want`.
fn one_line_error(o: &Output, want: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected failure: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for w in want {
        assert!(err.contains(w), "`{w}` not in: {err}");
    }
}

#[test]
fn three_shards_merge_into_the_whole_study_byte_for_byte() {
    let d = tmp_dir("merge");
    ok(&study("5", &[], &d.join("whole")));
    let shards: Vec<PathBuf> = (1..=3).map(|i| d.join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        ok(&study("5", &["--shard", &format!("{}/3", i + 1)], s));
        let files: Vec<_> = std::fs::read_dir(s).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files, vec![std::ffi::OsString::from("shard.json")], "a shard writes only shard.json");
    }
    // Any order of the directories gives the same files.
    ok(&merge(&[&shards[2], &shards[0], &shards[1]], &d.join("merged")));
    for f in ["summary.json", "curves.csv", "rounds.csv", "efficiency_gain.svg"] {
        let whole = std::fs::read(d.join("whole").join(f)).unwrap();
        let merged = std::fs::read(d.join("merged").join(f)).unwrap();
        assert!(whole == merged, "{f} differs between the whole and the merged study");
    }
    let n_files = std::fs::read_dir(d.join("merged")).unwrap().count();
    assert_eq!(n_files, std::fs::read_dir(d.join("whole")).unwrap().count());

    // A missing shard: its rounds (1, 4 of 0..7 for shard 2/3) are named.
    let o = merge(&[&shards[0], &shards[2]], &d.join("bad"));
    one_line_error(&o, &["rounds missing: 1, 4", "shard 2/3"]);
    // A duplicate shard: the round and both directories are named.
    let o = merge(&[&shards[0], &shards[1], &shards[1], &shards[2]], &d.join("bad"));
    one_line_error(&o, &["round 1 is in both", &shards[1].display().to_string()]);
    // Mixed studies: shard 2 of a study with another seed.
    let other = d.join("other2");
    ok(&study("6", &["--shard", "2/3"], &other));
    let o = merge(&[&shards[0], &other, &shards[2]], &d.join("bad"));
    one_line_error(&o, &["different studies", &other.display().to_string()]);
    // Not a shard directory.
    let o = merge(&[&shards[0], &d.join("whole")], &d.join("bad"));
    one_line_error(&o, &["shard.json"]);
    assert!(!d.join("bad").exists(), "a failed merge writes nothing");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_shard_values_are_clear_errors() {
    let d = tmp_dir("bad");
    for bad in ["0/3", "4/3", "1/0", "x/y", "3"] {
        let o = study("5", &["--shard", bad], &d.join("s"));
        one_line_error(&o, &["--shard", bad]);
    }
    // --shard without --out.
    let o = bin()
        .args(["study", "--n", "600", "--gold", "60", "--test", "150", "--rounds", "3", "--learner", "ridge"])
        .args(["--shard", "1/2", "--quiet"])
        .output()
        .unwrap();
    one_line_error(&o, &["--shard", "--out"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// The K-model study (`--models 3 --judges 2`) sharded: 3 shards merge into the whole run's files
/// byte for byte; a missing shard, a shard of another study and a two-model shard among K-model
/// ones are one-line errors.
#[test]
fn many_model_shards_merge_into_the_whole_study_byte_for_byte() {
    let d = tmp_dir("multi");
    let multi = |seed: &str, extra: &[&str], out: &Path| {
        bin()
            .args(["study", "--models", "3", "--judges", "2", "--n", "600", "--gold", "60", "--test", "150"])
            .args(["--rounds", "5", "--learner", "ridge", "--final-stage", "ridge", "--quiet", "--seed", seed])
            .args(["--routers", "gold_only,pref_only,pooled,meta_dr,random"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    ok(&multi("5", &[], &d.join("whole")));
    let shards: Vec<PathBuf> = (1..=3).map(|i| d.join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        ok(&multi("5", &["--shard", &format!("{}/3", i + 1)], s));
    }
    ok(&merge(&[&shards[1], &shards[2], &shards[0]], &d.join("merged")));
    for f in ["summary.json", "curves.csv", "rounds.csv", "quality_cost.svg"] {
        let whole = std::fs::read(d.join("whole").join(f)).unwrap();
        let merged = std::fs::read(d.join("merged").join(f)).unwrap();
        assert!(whole == merged, "{f} differs between the whole and the merged study");
    }
    let summary = std::fs::read_to_string(d.join("merged").join("summary.json")).unwrap();
    assert!(summary.contains("pref_only_judge1"), "{summary}");
    let o = merge(&[&shards[0], &shards[1]], &d.join("bad"));
    one_line_error(&o, &["rounds missing: 2", "shard 3/3"]);
    let other = d.join("other");
    ok(&multi("6", &["--shard", "3/3"], &other));
    let o = merge(&[&shards[0], &shards[1], &other], &d.join("bad"));
    one_line_error(&o, &["different studies"]);
    let two = d.join("two");
    ok(&study("5", &["--shard", "3/3"], &two));
    let o = merge(&[&shards[0], &shards[1], &two], &d.join("bad"));
    one_line_error(&o, &["not a K-model study shard", &two.display().to_string()]);
    let o = merge(&[&two, &shards[0]], &d.join("bad"));
    one_line_error(&o, &["not a study shard"]);
    assert!(!d.join("bad").exists(), "a failed merge writes nothing");
    let _ = std::fs::remove_dir_all(&d);
}
