//! The memory budget: the largest allocations whose size comes from user input (a forest's
//! trees, a boosting run's iterations, a study's rounds, a simulated table, cross-fitting
//! repeats, a Hessian) are estimated before anything is allocated and refused with
//! [`Error::TooLarge`] when the estimate exceeds the budget, instead of aborting the process
//! inside the allocator.
//!
//! **The budget.** In order of precedence:
//! 1. [`with_budget`]: a budget for the work run inside a closure on the calling thread (tests,
//!    fuzzing, a server isolating one request);
//! 2. [`set_budget`]: a process-wide budget set by the embedding program;
//! 3. the environment variable [`ENV_VAR`] (`META_ROUTER_MEMORY_BUDGET`): bytes, with an optional
//!    suffix `K`, `M`, `G`, `T` (powers of 1024, e.g. `512M`, `8G`), or a share of the machine's
//!    memory (`75%`);
//! 4. by default [`DEFAULT_PERCENT`] percent of the machine's memory (`MemTotal` of
//!    `/proc/meminfo`), or [`FALLBACK_BYTES`] when the machine does not say.
//!
//! **Estimates** are lower bounds of what a request will certainly hold at once (its containers'
//! fixed sizes times their counts, plus the per-item arrays whose length is known up front),
//! computed with saturating arithmetic ([`product`], [`sum`]) so that no size overflows: a
//! refusal is always right, and a request that passes may still grow (trees deepen with the
//! data). Sizes only known while reading (CSV rows) grow with `try_reserve` instead
//! ([`reserve_rows`]), so an allocation failure is an error too.
//!
//! | request | checked where | estimate (lower bound) |
//! | --- | --- | --- |
//! | a forest's `n_estimators` | `learn::forest` fit | trees x (tree, node, importances `8 d`, OOB bits `n / 8`) |
//! | boosting's `max_iter` | `learn::gbm::boost::fit` | iterations x (tree, leaf, loss records) |
//! | the logistic Hessian | `learn::linear::logistic` fit | `8 (d + 1)^2` |
//! | cross-fitting `repeats` | `causal::meta::estimate_delta` | repeats x `16 n` nuisance values |
//! | a simulated table (`simulate --n`, `study --n`, `d`, `n_topics`, `raw_dim`) | `sim::SimParams::simulate` | `8 n (w + 4) + 8 n_topics (d + 3) + 8 raw_dim d` (`w` the written width; 3 more columns with deployment labels) |
//! | a study's `--rounds` | `eval::study::run_study` | rounds x (routers + 2) curves of 101 points |
//! | a CSV table's rows | `data::read_csv` | doubled capacity x columns x 8, with `try_reserve_exact` |
//!
//! Model files have their own caps (`persist`: payload at most 4 GiB, decoder budget 32 times the
//! payload). Parameters that size nothing up front (depths, leaf counts, bins, `n_oversamples`)
//! need no estimate; the few whose large values are certainly mistakes are bounded in their
//! `validate` (e.g. PCA's `n_power_iter` <= 1000, boosting's `max_bins` <= 255).
//!
//! Checks run on the thread that calls a learner's `fit` (or `simulate`, `run_study`, ...),
//! before it spawns parallel work.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::error::HumanBytes;
use crate::error::{Error, Result};

/// The environment variable that sets the budget (see the module docs for its syntax).
pub use crate::error::BUDGET_ENV_VAR as ENV_VAR;

/// The default budget, in percent of the machine's memory.
pub const DEFAULT_PERCENT: u64 = 50;

/// The budget when the machine's memory is unknown: 8 GiB.
pub const FALLBACK_BYTES: u64 = 8 << 30;

/// A process-wide budget from [`set_budget`]; 0 when unset.
static PROCESS_BUDGET: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// A budget from [`with_budget`] for this thread; 0 when unset.
    static THREAD_BUDGET: Cell<u64> = const { Cell::new(0) };
}

/// The machine's memory in bytes (`MemTotal` of `/proc/meminfo`), read once; `None` when it
/// cannot be read (not Linux, no procfs).
pub fn machine_bytes() -> Option<u64> {
    static MACHINE: OnceLock<Option<u64>> = OnceLock::new();
    *MACHINE.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        parse_meminfo(&text)
    })
}

/// `MemTotal` from the text of `/proc/meminfo`, in bytes.
fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kb.checked_mul(1024).filter(|&b| b > 0)
}

/// Sets (`Some`) or clears (`None`) the process-wide budget, in bytes. It takes precedence
/// over [`ENV_VAR`] and the default; [`with_budget`] takes precedence over it.
pub fn set_budget(bytes: Option<u64>) {
    PROCESS_BUDGET.store(bytes.map_or(0, |b| b.max(1)), Ordering::Relaxed);
}

/// Runs `f` with a budget of `bytes` for the checks made on this thread, then restores the
/// previous one (also when `f` panics).
pub fn with_budget<R>(bytes: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD_BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(THREAD_BUDGET.with(|b| b.replace(bytes.max(1))));
    f()
}

/// Parses a budget: bytes with an optional `K`/`M`/`G`/`T` suffix (powers of 1024, an optional
/// trailing `B` or `iB`), or `P%` of `machine` bytes.
fn parse_budget(text: &str, machine: Option<u64>) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    if let Some(p) = t.strip_suffix('%') {
        let p: f64 = p.trim().parse().ok()?;
        let m = machine.unwrap_or(FALLBACK_BYTES);
        return (p > 0.0 && p <= 100.0).then(|| ((m as f64) * p / 100.0) as u64).filter(|&b| b > 0);
    }
    let t = t.trim_end_matches("IB").trim_end_matches('B');
    let (digits, shift) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let v: u64 = digits.trim().parse().ok()?;
    v.checked_mul(1u64 << shift).filter(|&b| b > 0)
}

/// The budget in force on this thread, in bytes (see the module docs).
///
/// # Errors
/// [`Error::InvalidParam`] when [`ENV_VAR`] is set to something that is not a budget.
pub fn budget_bytes() -> Result<u64> {
    let scoped = THREAD_BUDGET.with(Cell::get);
    if scoped > 0 {
        return Ok(scoped);
    }
    let set = PROCESS_BUDGET.load(Ordering::Relaxed);
    if set > 0 {
        return Ok(set);
    }
    if let Ok(text) = std::env::var(ENV_VAR) {
        return parse_budget(&text, machine_bytes()).ok_or_else(|| {
            Error::param(
                "memory budget",
                ENV_VAR,
                format!("expected bytes with an optional K/M/G/T suffix or a percentage, got `{text}`"),
            )
        });
    }
    Ok(machine_bytes().map_or(FALLBACK_BYTES, |m| m / 100 * DEFAULT_PERCENT))
}

/// The product of sizes, saturating at `u64::MAX` (never overflows).
pub fn product(factors: &[usize]) -> u64 {
    factors.iter().fold(1u64, |acc, &f| acc.saturating_mul(f as u64))
}

/// The sum of byte counts, saturating at `u64::MAX`.
pub fn sum(parts: &[u64]) -> u64 {
    parts.iter().fold(0u64, |acc, &p| acc.saturating_add(p))
}

/// Checks that `needed` bytes fit in the budget; `what` names the parameter and its value as
/// the user wrote them (`"n_estimators 1000000000"`), `purpose` what the memory is for
/// (`"the forest"`).
///
/// # Errors
/// [`Error::TooLarge`] when they do not; [`Error::InvalidParam`] for a malformed [`ENV_VAR`].
pub fn check(what: impl fmt::Display, purpose: &str, needed: u64) -> Result<()> {
    let budget = budget_bytes()?;
    if needed <= budget {
        return Ok(());
    }
    Err(Error::TooLarge {
        what: what.to_string(),
        purpose: purpose.to_string(),
        needed_bytes: needed,
        budget_bytes: budget,
        machine_bytes: machine_bytes(),
    })
}

/// Makes room for more rows in columns that grow while a table is read (all of the same
/// length): doubles their capacity (at least 1,024 rows) with `try_reserve_exact`, after
/// checking the grown table against the budget. `what` names the table (`"the rows of a.csv"`).
///
/// # Errors
/// [`Error::TooLarge`] when the grown table would pass the budget or the allocator refuses.
pub fn reserve_rows(columns: &mut [&mut Vec<f64>], what: &str) -> Result<()> {
    let Some(len) = columns.first().map(|c| c.len()) else { return Ok(()) };
    let rows = len.saturating_mul(2).max(1024);
    let needed = product(&[rows, columns.len(), 8]);
    let what = format!("{what} ({rows} rows of {} columns)", columns.len());
    check(&what, "the table in memory", needed)?;
    for c in columns.iter_mut() {
        c.try_reserve_exact(rows.saturating_sub(c.len())).map_err(|_| Error::TooLarge {
            what: what.clone(),
            purpose: "the table in memory (the allocator refused)".to_string(),
            needed_bytes: needed,
            budget_bytes: budget_bytes().unwrap_or(0),
            machine_bytes: machine_bytes(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse() {
        assert_eq!(parse_budget("1000", None), Some(1000));
        assert_eq!(parse_budget("512M", None), Some(512 << 20));
        assert_eq!(parse_budget("8g", None), Some(8 << 30));
        assert_eq!(parse_budget("8GiB", None), Some(8 << 30));
        assert_eq!(parse_budget("2TB", None), Some(2 << 40));
        assert_eq!(parse_budget("25%", Some(1000)), Some(250));
        for bad in ["", "0", "x", "-5", "150%", "99999999999T", "G"] {
            assert_eq!(parse_budget(bad, Some(1000)), None, "{bad}");
        }
        assert_eq!(parse_meminfo("MemTotal:       24683584 kB\nMemFree: 1 kB\n"), Some(24683584 * 1024));
        assert_eq!(parse_meminfo("nothing"), None);
    }

    #[test]
    fn checks_refuse_with_one_line_and_scopes_restore() {
        let e = with_budget(12_000_000_000, || check("n_estimators 1000000000", "the forest", 96_000_000_000));
        let msg = e.unwrap_err().to_string();
        assert!(
            msg.starts_with("n_estimators 1000000000 would need ~96 GB for the forest (the budget is 12 GB"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        assert!(with_budget(100, || check("x", "y", 100)).is_ok());
        assert!(with_budget(100, || with_budget(10, || check("x", "y", 50)).is_err() && check("x", "y", 50).is_ok()));
        assert_eq!(product(&[usize::MAX, usize::MAX, 2]), u64::MAX);
        assert_eq!(sum(&[u64::MAX, 1]), u64::MAX);
        assert_eq!(HumanBytes(u64::MAX).to_string(), "more than 18 EB");
        assert_eq!(HumanBytes(1_500_000).to_string(), "1.5 MB");
        assert_eq!(HumanBytes(999).to_string(), "999 bytes");
    }

    #[test]
    fn reserve_grows_or_refuses() {
        let (mut a, mut b): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        assert!(with_budget(1 << 20, || reserve_rows(&mut [&mut a, &mut b], "rows")).is_ok());
        assert!(a.capacity() >= 1024 && b.capacity() >= 1024);
        a.resize(a.capacity(), 0.0);
        b.resize(b.capacity(), 0.0);
        let e = with_budget(20_000, || reserve_rows(&mut [&mut a, &mut b], "the rows of a.csv")).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        assert!(e.to_string().starts_with("the rows of a.csv (2048 rows of 2 columns) would need ~33 kB"), "{e}");
    }
}
