//! Determinism across thread counts (issue 6): the whole study with every router and every
//! regression learner, the estimated-propensity path with every classifier, and `fit` then
//! `route` through saved files, each run in rayon pools of 1, 2 and 8 threads and compared byte
//! for byte.

use meta_router::Seed;
use meta_router::causal::Propensity;
use meta_router::eval::{StudyConfig, StudyData, run_study};
use meta_router::learn::{ClassifierSpec, Predict, RegressorSpec};
use meta_router::router::Router;
use meta_router::router::{RouterConfig, RouterKind, train_router};
use meta_router::sim::SimParams;

use crate::util::{bin, in_pools};

/// Small, fast settings of each regression learner (the code paths are those of the defaults).
fn learner(name: &str) -> RegressorSpec {
    let mut spec = RegressorSpec::from_name(name).unwrap();
    let params: &[&str] = match name {
        "rf" => &["n_estimators=12", "max_depth=6", "max_features=sqrt"],
        "hgb" => &["max_iter=15", "max_leaf_nodes=8", "min_samples_leaf=10"],
        _ => &[],
    };
    spec.set_params(params).unwrap();
    spec
}

#[test]
fn study_outputs_are_byte_identical_for_every_learner_and_thread_count() {
    let data: StudyData = SimParams { n: 700, ..Default::default() }.simulate(Seed(21)).unwrap().into();
    for name in RegressorSpec::NAMES {
        let spec = learner(name);
        let cfg = StudyConfig {
            n_gold: 60,
            n_test: 150,
            rounds: 2,
            router: RouterConfig::with_learner(spec),
            ..Default::default()
        };
        let outputs = in_pools(|| {
            let outcome = run_study(&data, &cfg, Seed(3)).unwrap();
            let dir = std::env::temp_dir().join(format!(
                "mr-det-{}-{name}-{}",
                std::process::id(),
                rayon::current_num_threads()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            outcome.summary().unwrap().write_dir(&outcome, &dir, "determinism").unwrap();
            let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
            (read("summary.json"), read("curves.csv"), read("rounds.csv"))
        });
        assert!(outputs[0] == outputs[1] && outputs[0] == outputs[2], "learner {name}");
    }
}

#[test]
fn estimated_propensity_is_byte_identical_for_every_classifier() {
    let sim = SimParams { n: 600, ..Default::default() }.simulate(Seed(4)).unwrap();
    let data: StudyData = sim.into();
    let n = data.x.nrows();
    let is_gold: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { 1.0 } else { 0.0 }).collect();
    let label: Vec<f64> = (0..n).map(|i| if is_gold[i] == 1.0 { data.gold[i] } else { data.pref[i] }).collect();
    let rd = meta_router::router::RouterData {
        x: data.x.as_ref(),
        is_gold: &is_gold,
        label: &label,
        gold_everywhere: None,
        weights: None,
    };
    for cname in ClassifierSpec::NAMES {
        let mut classifier = ClassifierSpec::from_name(cname).unwrap();
        let small: &[&str] = match *cname {
            "rfc" => &["n_estimators=10", "max_depth=5"],
            "hgbc" => &["max_iter=10", "max_leaf_nodes=6", "min_samples_leaf=10"],
            _ => &[],
        };
        classifier.set_params(small).unwrap();
        let mut cfg = RouterConfig::with_learner(learner("ridge"));
        cfg.delta.propensity = Propensity::estimated(classifier);
        for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
            let bits = in_pools(|| {
                let r = train_router(kind, &rd, &cfg, Seed(9)).unwrap();
                r.psi.predict(data.x.as_ref()).unwrap().iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
            });
            assert!(bits[0] == bits[1] && bits[0] == bits[2], "{cname} {kind:?}");
        }
    }
}

#[test]
fn fit_then_route_through_files_is_byte_identical() {
    let dir = std::env::temp_dir().join(format!("mr-det-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = dir.join("sim.csv");
    let ok = bin().args(["simulate", "--n", "800", "--seed", "5", "-o"]).arg(&sim).status().unwrap();
    assert!(ok.success());
    // Deployment data: one label per row, its source gold for every tenth row.
    let text = std::fs::read_to_string(&sim).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (gs, pb) = (header.iter().position(|h| *h == "gs").unwrap(), header.iter().position(|h| *h == "pb").unwrap());
    let feats: Vec<usize> = (0..header.len()).filter(|&j| header[j].starts_with('x')).collect();
    let mut deploy = String::new();
    deploy.push_str(&feats.iter().map(|&j| header[j]).collect::<Vec<_>>().join(","));
    deploy.push_str(",source,label\n");
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let (src, lab) = if i % 10 == 0 { ("gold", f[gs]) } else { ("pref", f[pb]) };
        deploy.push_str(&feats.iter().map(|&j| f[j]).collect::<Vec<_>>().join(","));
        deploy.push_str(&format!(",{src},{lab}\n"));
    }
    let train = dir.join("deploy.csv");
    std::fs::write(&train, deploy).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "8"] {
        let model = dir.join(format!("router-{threads}.mr"));
        let decisions = dir.join(format!("decisions-{threads}.csv"));
        let fit = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args(["fit", "--source-col", "source", "--label-col", "label", "--learner", "hgb"])
            .args(["--param", "max_iter=20", "--data"])
            .arg(&train)
            .arg("-o")
            .arg(&model)
            .output()
            .unwrap();
        assert!(fit.status.success(), "{}", String::from_utf8_lossy(&fit.stderr));
        let route = bin()
            .env("RAYON_NUM_THREADS", threads)
            .args(["route", "--usage", "0.3", "--model"])
            .arg(&model)
            .arg("--data")
            .arg(&sim)
            .arg("-o")
            .arg(&decisions)
            .output()
            .unwrap();
        assert!(route.status.success(), "{}", String::from_utf8_lossy(&route.stderr));
        // The saved model, reloaded, scores exactly as the file says.
        let router = Router::load(&model).unwrap();
        outputs.push((std::fs::read(&model).unwrap(), std::fs::read(&decisions).unwrap(), router.feature_names.len()));
    }
    assert!(outputs[0] == outputs[1] && outputs[0] == outputs[2]);
}
