//! Seeds and counter-based stream derivation.
//!
//! Every random decision in meta-router is drawn from a stream named by its *position*:
//! `(seed, purpose, index)` — the round of a study, the fold of a cross-fit, the tree of a
//! forest, the bootstrap of a tree. Streams are derived by mixing those three numbers with the
//! SplitMix64 finaliser (Steele, Lea & Flood 2014), so
//!
//! * no stream depends on thread scheduling or on how many other streams were drawn before it;
//! * adding a new purpose never perturbs existing streams (unlike sequential seed derivation);
//! * `seed.indexed(TREE, k)` for k = 0, 1, ... are statistically independent starting points.
//!
//! A derived [`Seed`] becomes a generator with [`Seed::rng`], a `Xoshiro256PlusPlus`
//! (Blackman & Vigna 2021) seeded through SplitMix64 as `rand_xoshiro` does.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// The generator every learner uses.
pub type Rng = Xoshiro256PlusPlus;

/// A 64-bit seed from which independent streams are derived by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Seed(pub u64);

/// Named purposes of random streams. The numeric values are part of the reproducibility
/// contract: changing one changes every result drawn from it.
pub mod stream {
    /// Fold assignment in cross-fitting.
    pub const FOLDS: u64 = 0x01;
    /// Outcome nuisance models (indexed by fold).
    pub const NUISANCE_OUTCOME: u64 = 0x02;
    /// Propensity nuisance models (indexed by fold).
    pub const NUISANCE_PROPENSITY: u64 = 0x03;
    /// Final-stage (CATE) models.
    pub const FINAL: u64 = 0x04;
    /// One tree of an ensemble (indexed by tree).
    pub const TREE: u64 = 0x05;
    /// Bootstrap draws (indexed by tree).
    pub const BOOTSTRAP: u64 = 0x06;
    /// Feature subsampling (indexed by tree).
    pub const FEATURE_SUBSAMPLE: u64 = 0x07;
    /// The simulator.
    pub const SIM: u64 = 0x08;
    /// Monte-Carlo rounds of a study (indexed by round).
    pub const ROUND: u64 = 0x09;
    /// Router (psi) models.
    pub const ROUTER: u64 = 0x0A;
    /// Binning subsamples.
    pub const BINNING: u64 = 0x0B;
    /// Validation splits (early stopping, model selection).
    pub const VALIDATION: u64 = 0x0C;
    /// Randomized linear algebra (randomized SVD).
    pub const SKETCH: u64 = 0x0D;
    /// Row subsampling in boosting (indexed by iteration).
    pub const ROW_SUBSAMPLE: u64 = 0x0E;
    /// Random baselines and tie-breaking in evaluation.
    pub const EVAL: u64 = 0x0F;
    /// Repeats of cross-fitting (indexed by repeat).
    pub const REPEAT: u64 = 0x10;
    /// Active gold selection: the draws of each batch after the first (indexed by batch).
    pub const ACTIVE: u64 = 0x11;
    /// Preference sources after the first: each source's bias estimator (indexed by source).
    pub const SOURCE: u64 = 0x12;
}

/// The SplitMix64 finaliser: a bijective, avalanching 64-bit mix.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Seed {
    /// The stream for one purpose.
    #[inline]
    pub fn child(self, purpose: u64) -> Seed {
        Seed(mix64(self.0 ^ mix64(purpose.wrapping_mul(0xD6E8_FEB8_6659_FD93))))
    }

    /// The stream for item `index` of one purpose (fold k, tree t, round r, ...).
    #[inline]
    pub fn indexed(self, purpose: u64, index: u64) -> Seed {
        Seed(mix64(self.child(purpose).0 ^ mix64(index.wrapping_add(0xA076_1D64_78BD_642F))))
    }

    /// A generator for this stream.
    pub fn rng(self) -> Rng {
        Rng::seed_from_u64(self.0)
    }
}

/// Fisher–Yates shuffle driven by our generator (kept here so the algorithm, and so every
/// permutation a seed gives, is pinned by this crate rather than by a dependency's version).
pub fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    use rand::RngExt;
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// A random permutation of `0..n`.
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    shuffle(&mut p, rng);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;
    use std::collections::HashSet;

    #[test]
    fn indexed_streams_do_not_collide_on_a_grid() {
        let mut seen = HashSet::new();
        for s in 0..20u64 {
            for purpose in 0..20u64 {
                for i in 0..50u64 {
                    assert!(seen.insert(Seed(s).indexed(purpose, i).0), "collision at {s},{purpose},{i}");
                }
            }
        }
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Seed(42).indexed(stream::TREE, 3).rng(), |r, _: u64| Some(r.random::<u64>()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Seed(42).indexed(stream::TREE, 3).rng(), |r, _: u64| Some(r.random::<u64>()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(Seed(42).indexed(stream::TREE, 3), Seed(42).indexed(stream::TREE, 4));
        assert_ne!(Seed(42).child(stream::TREE), Seed(42).child(stream::BOOTSTRAP));
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut rng = Seed(7).rng();
        let mut p = permutation(1000, &mut rng);
        assert_ne!(p, (0..1000).collect::<Vec<_>>());
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<_>>());
    }
}
