//! The serving path allocates nothing: `Router::score_into` is called under a counting global
//! allocator (counts are per thread, so tests running in parallel do not interfere).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use meta_router::Seed;
use meta_router::learn::pca::PcaParams;
use meta_router::router::Router;
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router};

use crate::causal::{Spec, simulate};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter is a
// thread-local `Cell` with a const initialiser, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn score_into_does_not_allocate() {
    let sim = simulate(Spec { n: 400, d: 8, n_gold: 50, scale: 1.0, noise: 0.3, seed: 3 }, |x| x[0], |x| 0.3 * x[1]);
    let cfg = RouterConfig::default();
    let names: Vec<String> = (0..8).map(|j| format!("x{j}")).collect();
    let plain =
        Router::new(train_router(RouterKind::MetaR, &sim.data(), &cfg, Seed(1)).unwrap(), names.clone(), None).unwrap();
    let pca = PcaParams { n_components: 4, ..Default::default() }.fit(sim.x.as_ref(), Seed(2)).unwrap();
    let z = pca.transform(sim.x.as_ref()).unwrap();
    let zd = RouterData { x: z.as_ref(), ..sim.data() };
    let with_pca =
        Router::new(train_router(RouterKind::MetaDr, &zd, &cfg, Seed(1)).unwrap(), names, Some(pca)).unwrap();
    let row: Vec<f64> = (0..8).map(|j| sim.x[(5, j)]).collect();
    for r in [&plain, &with_pca] {
        let mut scratch = vec![0.0; r.scratch_len()];
        let first = r.score_into(&row, &mut scratch).unwrap();
        let before = allocations();
        let mut same = true;
        for _ in 0..100 {
            same &= r.score_into(&row, &mut scratch).unwrap().to_bits() == first.to_bits();
        }
        assert_eq!(allocations(), before, "score_into allocated");
        assert!(same);
    }
    // the counter does see allocations: the convenience `score` allocates its PCA scratch
    let before = allocations();
    with_pca.score(&row).unwrap();
    assert!(allocations() > before);
}

#[test]
fn many_model_scores_into_does_not_allocate() {
    use meta_router::router::multi::{ModelCosts, MultiData, MultiRouter, MultiSpec, train_multi};
    let sim =
        meta_router::sim::simulate_multi(&meta_router::sim::SimParams { n: 300, ..Default::default() }, 3, 1, Seed(4))
            .unwrap();
    let n = 300;
    let gold = faer::Mat::from_fn(n, 3, |i, j| if i < 60 { sim.gold[(i, j)] } else { f64::NAN });
    let judge = faer::Mat::from_fn(n, 3, |i, j| if i < 60 { f64::NAN } else { sim.pref[0][(i, j)] });
    let judges = [judge.as_ref()];
    let data = MultiData { x: sim.x.as_ref(), gold: gold.as_ref(), judges: &judges, gold_everywhere: None };
    let spec =
        MultiSpec { models: sim.models.clone(), costs: ModelCosts::PerModel(sim.costs.clone()), reference: None };
    let trained = train_multi(RouterKind::MetaDr, &data, &spec, &RouterConfig::default(), Seed(1)).unwrap();
    let d = sim.x.ncols();
    let r = MultiRouter::new(trained, (0..d).map(|j| format!("x{j}")).collect(), None).unwrap();
    let row: Vec<f64> = (0..d).map(|j| sim.x[(7, j)]).collect();
    let (mut out, mut first) = ([0.0; 3], [0.0; 3]);
    r.scores_into(&row, &mut [], &mut first).unwrap();
    let before = allocations();
    let mut same = true;
    for _ in 0..100 {
        r.scores_into(&row, &mut [], &mut out).unwrap();
        same &= out == first;
        same &= r.choose(&out, None).unwrap() < 3;
    }
    assert_eq!(allocations(), before, "scores_into or choose allocated");
    assert!(same);
}
