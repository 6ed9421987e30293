//! The command line, end to end through `cli::main_with_args` and the built binary.

use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meta-router"))
}

pub fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mr-it-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn learn_reports_json_and_errors_are_one_line() {
    let p = tmp("small.csv");
    std::fs::write(&p, "x1,x2,y\n1,2,3\n2,1,4\n3,3,5\n4,0,7\n").unwrap();
    let out = bin()
        .args(["learn", "--learner", "constant", "--data"])
        .arg(&p)
        .args(["--target", "y", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["learner", "n_train", "n_test", "d", "fit_seconds", "predict_seconds", "metric", "value"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["value"], 0.0); // a constant's R^2 on its own training data

    let out =
        bin().args(["learn", "--learner", "constant", "--data"]).arg(&p).args(["--target", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no column `nope`") && err.contains("x1, x2, y"), "{err}");
    assert!(!err.contains("panicked"));
}
