//! The `meta-router` command line: argument definitions (clap) and dispatch.
//!
//! Each subcommand lives in its own file with its argument struct and its `run`; this file only
//! lists them. Errors are printed by [`main_with_args`] as one `error: ...` line on stderr with a
//! non-zero exit code; nothing a user types reaches a panic.

pub mod args;
pub mod audit;
pub mod evaluate;
pub mod fit;
pub mod learn;
pub mod many;
pub mod merge;
pub mod route;
pub mod simulate;
pub mod study;
pub mod suggest;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Train LLM routers from a few gold-standard labels and many biased preference labels.
#[derive(Debug, Parser)]
#[command(
    name = "meta-router",
    version,
    about,
    long_about = None,
    after_help = "Sizes that cannot fit in memory are refused before allocating; the budget is half the \
                  machine's memory unless META_ROUTER_MEMORY_BUDGET (e.g. 8G) says otherwise."
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit one learner on a CSV, predict a test CSV, report time and quality.
    Learn(learn::LearnArgs),
    /// Write a simulated table with known truth (x1..xd, gs, pb, psi, delta).
    Simulate(simulate::SimulateArgs),
    /// Monte-Carlo study of routers on a CSV or the built-in simulator.
    Study(Box<study::StudyArgs>),
    /// Fit the debiased router on gold and preference labels and save it.
    Fit(Box<fit::FitArgs>),
    /// Score queries with a saved router and decide primary or alternative per row.
    Route(route::RouteArgs),
    /// Evaluate a saved router on held-out queries: EG curve and AUC with confidence intervals.
    Evaluate(Box<evaluate::EvaluateArgs>),
    /// Audit the judge: where preference labels are biased against gold labels, with confidence
    /// intervals and a heterogeneity test.
    Audit(Box<audit::AuditArgs>),
    /// Choose pool queries to grade next, with known inclusion probabilities.
    Suggest(suggest::SuggestArgs),
    /// Combine the shards of one study (`study --shard I/N`) into the files one whole run writes.
    Merge(merge::MergeArgs),
}

/// Runs a parsed command.
///
/// # Errors
/// Whatever the subcommand reports.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Learn(a) => learn::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Study(a) => study::run(*a),
        Command::Fit(a) => fit::run(*a),
        Command::Route(a) => route::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Evaluate(a) => evaluate::run(*a),
        Command::Audit(a) => audit::run(*a),
        Command::Suggest(a) => suggest::run(a),
    }
}

/// Parses `args` (program name first), runs, and maps the outcome to an exit code:
/// 0 on success, 2 for a usage error (clap's message), 1 for any other error.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
