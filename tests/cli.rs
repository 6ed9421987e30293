//! The command line, end to end through `cli::main_with_args` and the built binary.

use crate::util::{bin, data, run_json, tmp};

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

fn learn_json(args: &[&str]) -> serde_json::Value {
    let mut cmd = bin();
    cmd.arg("learn");
    for a in args {
        match a.strip_prefix("data:") {
            Some(f) => cmd.arg(data(f)),
            None => cmd.arg(a),
        };
    }
    run_json(cmd.arg("--json"))
}

#[test]
fn learn_runs_ridge_logistic_and_pca_on_the_reference_data() {
    let v = learn_json(&["--learner", "ridge", "--data", "data:diabetes.csv", "--target", "y", "--param", "alpha=0.1"]);
    assert_eq!((v["metric"].as_str(), v["solver"].as_str()), (Some("r2"), Some("cholesky")));
    // in-sample R^2 of ridge(0.1) on diabetes is about 0.51
    assert!((0.45..0.53).contains(&v["value"].as_f64().unwrap()), "{v}");
    let v =
        learn_json(&["--learner", "ridge", "--data", "data:diabetes.csv", "--target", "y", "--param", "alpha=auto"]);
    assert!(v["alpha"].as_f64().unwrap() < 1.0, "{v}");
    let v = learn_json(&["--learner", "logistic", "--data", "data:breast_cancer_standardized.csv", "--target", "t"]);
    assert_eq!(v["converged"], true);
    assert!(v["value"].as_f64().unwrap() > 0.99, "{v}");
    let v = learn_json(&[
        "--learner",
        "pca",
        "--data",
        "data:diabetes.csv",
        "--features",
        "x*",
        "--param",
        "n_components=5",
        "--param",
        "solver=full",
    ]);
    // sum of scikit-learn's five explained variance ratios on diabetes
    assert!((v["value"].as_f64().unwrap() - 0.834_015_448).abs() < 1e-6, "{v}");
    assert!((v["reconstruction_error"].as_f64().unwrap() + v["value"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{v}");
    let out = bin()
        .args(["learn", "--learner", "pca", "--data"])
        .arg(data("diabetes.csv"))
        .args(["--param", "n_components=50"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("n_components"));
}

/// One vocabulary: `--help` lists each flag's choices, shows the one spelling per concept and
/// hides the old spellings, which still parse.
#[test]
fn help_lists_choices_and_hides_the_old_spellings() {
    let help = |cmd: &str| {
        let out = bin().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for cmd in ["fit", "study"] {
        let h = help(cmd);
        for want in [
            "- wasserstein:",
            "- paper:",
            "- estimated:",
            "- median:",
            "- separate:",
            "[possible values: auto, constant, ridge",
            "--final-stage <FINAL_STAGE>",
            "--final-param <NAME=VALUE>",
            "--nuisance <NUISANCE>",
            "-o, --out <OUT>",
        ] {
            assert!(h.contains(want), "{cmd} --help lacks `{want}`:\n{h}");
        }
        assert!(!h.contains("final-learner"), "{h}");
    }
    assert!(help("fit").contains("- mean_shift:"));
    let h = help("learn");
    assert!(h.contains("--weight-col <WEIGHT_COL>") && h.contains("-o, --out <OUT>"), "{h}");
    assert!(!h.contains("--save") && !h.contains("--weight <"), "{h}");

    // the old spellings give the same model as the new ones
    let p = tmp("vocab.csv");
    std::fs::write(&p, "x1,x2,y,w\n1,2,3,1\n2,1,4,2\n3,3,5,1\n4,0,7,3\n5,1,8,1\n").unwrap();
    let fit = |flags: &[&str], out: &std::path::Path| {
        let o = bin()
            .args(["learn", "--learner", "ridge", "--target", "y", "--data"])
            .arg(&p)
            .args(flags)
            .arg(out)
            .output();
        let o = o.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let (old, new) = (tmp("vocab-old.mr"), tmp("vocab-new.mr"));
    assert_eq!(fit(&["--weight", "w", "--save"], &old), fit(&["--weight-col", "w", "-o"], &new));
}
