//! K-fold assignment stratified by label source, for cross-fitting.
//!
//! Gold rows and preference rows are shuffled separately (one stream per repeat:
//! `seed.child(FOLDS)` for repeat 0, `seed.indexed(REPEAT, r)` for repeat `r >= 1`) and dealt
//! round robin, gold rows first: gold row at shuffled position `j` goes to fold `j mod K`, the
//! preference row at position `j` to fold `(n_gold + j) mod K`. Every fold then holds
//! `floor(n_gold / K)` or `ceil(n_gold / K)` gold rows, and fold sizes differ by at most one.
//! The partition is validated before use: every row in exactly one fold, every fold holding
//! rows of both sources.

use crate::error::{Error, Result};
use crate::rng::{Seed, permutation, stream};

/// A partition of `0..n` into `k` folds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folds {
    /// The fold of each row.
    pub fold_of: Vec<usize>,
    /// The number of folds.
    pub k: usize,
}

impl Folds {
    /// The rows of fold `f`, ascending.
    pub fn test_rows(&self, f: usize) -> Vec<usize> {
        (0..self.fold_of.len()).filter(|&i| self.fold_of[i] == f).collect()
    }

    /// The rows outside fold `f`, ascending.
    pub fn train_rows(&self, f: usize) -> Vec<usize> {
        (0..self.fold_of.len()).filter(|&i| self.fold_of[i] != f).collect()
    }

    /// Checks the partition: `k >= 2`, every fold index `< k`, every fold holding gold and
    /// preference rows.
    ///
    /// # Errors
    /// [`Error::InvalidData`] describing the first violation.
    pub fn validate(&self, is_gold: &[f64]) -> Result<()> {
        if self.k < 2 {
            return Err(Error::param("cross-fitting", "folds", format!("needs at least 2 folds, got {}", self.k)));
        }
        if self.fold_of.len() != is_gold.len() {
            return Err(Error::shape("fold assignment vs rows", is_gold.len(), self.fold_of.len()));
        }
        let mut gold = vec![0usize; self.k];
        let mut pref = vec![0usize; self.k];
        for (i, &f) in self.fold_of.iter().enumerate() {
            if f >= self.k {
                return Err(Error::data(format!("row {i} assigned to fold {f} of {}", self.k)));
            }
            if is_gold[i] == 1.0 {
                gold[f] += 1;
            } else {
                pref[f] += 1;
            }
        }
        for f in 0..self.k {
            if gold[f] == 0 || pref[f] == 0 {
                return Err(Error::data(format!(
                    "fold {f} holds {} gold and {} preference rows; every fold needs both",
                    gold[f], pref[f]
                )));
            }
        }
        Ok(())
    }
}

/// The stream for repeat `r` of the fold assignment.
pub fn repeat_seed(seed: Seed, r: usize) -> Seed {
    if r == 0 { seed.child(stream::FOLDS) } else { seed.indexed(stream::REPEAT, r as u64) }
}

/// `k` folds stratified by source (`is_gold[i]` is 1.0 or 0.0), for repeat `repeat`.
///
/// # Errors
/// [`Error::InvalidParam`] for `k < 2`; [`Error::InvalidData`] when there are fewer gold rows
/// or fewer preference rows than folds.
pub fn stratified(is_gold: &[f64], k: usize, seed: Seed, repeat: usize) -> Result<Folds> {
    if k < 2 {
        return Err(Error::param("cross-fitting", "folds", format!("needs at least 2 folds, got {k}")));
    }
    let gold: Vec<usize> = (0..is_gold.len()).filter(|&i| is_gold[i] == 1.0).collect();
    let pref: Vec<usize> = (0..is_gold.len()).filter(|&i| is_gold[i] != 1.0).collect();
    if gold.len() < k {
        return Err(Error::data(format!(
            "{} gold rows cannot fill {k} folds; lower --folds or add gold rows",
            gold.len()
        )));
    }
    if pref.len() < k {
        return Err(Error::data(format!(
            "{} preference rows cannot fill {k} folds; lower --folds or add preference rows",
            pref.len()
        )));
    }
    let mut rng = repeat_seed(seed, repeat).rng();
    let pg = permutation(gold.len(), &mut rng);
    let pp = permutation(pref.len(), &mut rng);
    let mut fold_of = vec![0usize; is_gold.len()];
    for (j, &p) in pg.iter().enumerate() {
        fold_of[gold[p]] = j % k;
    }
    for (j, &p) in pp.iter().enumerate() {
        fold_of[pref[p]] = (gold.len() + j) % k;
    }
    let folds = Folds { fold_of, k };
    folds.validate(is_gold)?;
    Ok(folds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_stratified_and_reproducible() {
        let is_gold: Vec<f64> = (0..103).map(|i| if i % 9 == 0 { 1.0 } else { 0.0 }).collect();
        let n_gold = is_gold.iter().filter(|&&g| g == 1.0).count();
        let f = stratified(&is_gold, 5, Seed(3), 0).unwrap();
        assert_eq!(f, stratified(&is_gold, 5, Seed(3), 0).unwrap());
        assert_ne!(f, stratified(&is_gold, 5, Seed(3), 1).unwrap());
        let mut sizes = [0usize; 5];
        let mut golds = [0usize; 5];
        for (i, &k) in f.fold_of.iter().enumerate() {
            sizes[k] += 1;
            golds[k] += is_gold[i] as usize;
        }
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        assert!(golds.iter().all(|&g| g == n_gold / 5 || g == n_gold / 5 + 1), "{golds:?}");
        for k in 0..5 {
            let (tr, te) = (f.train_rows(k), f.test_rows(k));
            assert_eq!(tr.len() + te.len(), 103);
            assert!(te.iter().all(|i| !tr.contains(i)));
        }
    }

    #[test]
    fn too_few_gold_rows_is_an_error() {
        let is_gold = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let e = stratified(&is_gold, 3, Seed(0), 0).unwrap_err();
        assert!(e.to_string().contains("2 gold rows cannot fill 3 folds"), "{e}");
        assert!(stratified(&is_gold, 1, Seed(0), 0).is_err());
        let bad = Folds { fold_of: vec![0, 0, 1, 1, 1, 0], k: 2 };
        assert!(bad.validate(&is_gold).unwrap_err().to_string().contains("fold 1 holds 0 gold"));
    }
}
