//! How a study reports progress: an observer called once per finished round. The library draws
//! nothing itself; the CLI turns the calls into a progress bar.
//!
//! Rounds run in parallel, so the observer is called from several threads (hence `Sync`) and
//! the calls arrive in any order; across a study of `R` rounds, `done` takes each value of
//! `1..=R` exactly once. Observing does not change any result or its order.

/// Receives one call per finished round.
pub trait Progress: Sync {
    /// A round has finished (successfully or not); `done` of `total` rounds have finished so far.
    fn round_done(&self, done: usize, total: usize);
}

/// Ignores every call (what `run_study` uses).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn round_done(&self, _done: usize, _total: usize) {}
}

/// Any thread-safe closure `|done, total| ..` is an observer.
impl<F: Fn(usize, usize) + Sync> Progress for F {
    fn round_done(&self, done: usize, total: usize) {
        self(done, total)
    }
}
