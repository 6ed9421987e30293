//! Helpers shared by the integration tests: the built binary, its JSON output, the fixture and
//! temporary directories, rayon pools of 1, 2 and 8 threads, and bit patterns of floats.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The thread counts every determinism check runs with.
pub const THREADS: [usize; 3] = [1, 2, 8];

/// The built `meta-router` binary, ready for arguments.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meta-router"))
}

/// Runs a command, asserts that it succeeded, and returns its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs a command that prints one JSON object on success and returns the object.
pub fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = run_ok(cmd);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The checked-in fixture `tests/data/<file>`.
pub fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)
}

/// A per-process temporary directory `mr-it-<pid>/<tag>`, created if missing.
pub fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mr-it-{}", std::process::id())).join(tag);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A path `name` inside the per-process temporary directory.
pub fn tmp(name: &str) -> PathBuf {
    tmp_dir("").join(name)
}

/// A rayon pool of `k` threads.
pub fn pool(k: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap()
}

/// `f` run inside pools of 1, 2 and 8 threads, in that order.
pub fn in_pools<T: Send>(f: impl Fn() -> T + Sync) -> Vec<T> {
    THREADS.iter().map(|&k| pool(k).install(&f)).collect()
}

/// The bit patterns of a slice of floats (for bit-identical comparisons that name the values).
pub fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}
