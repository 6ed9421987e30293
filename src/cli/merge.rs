//! `meta-router merge`: combines the shards of one study (`study --shard I/N --out DIR`, see
//! [`crate::eval::shard`]) into exactly the files one unsharded run writes (summary.json,
//! curves.csv, rounds.csv, efficiency_gain.svg, through [`crate::eval::Summary::write_dir`]
//! with the study's own figure title), and prints the study's table.
//!
//! K-model shards (`study --models K --shard I/N`, [`crate::eval::shard_multi`]) merge into the
//! K-model study's files (quality_cost.svg in place of efficiency_gain.svg).
//!
//! Shards of different studies (fingerprints differ), a round in two shards, or missing rounds
//! are one-line errors naming the directories or rounds.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::eval::shard::{self, Shard, merge_shards};
use crate::eval::shard_multi::{MULTI_FORMAT, MultiShard, merge_multi_shards};

/// Arguments of `meta-router merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard directories (each holding the shard.json of `study --shard I/N --out DIR`),
    /// in any order; together they must hold every round of one study exactly once.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write summary.json, curves.csv, rounds.csv and efficiency_gain.svg.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `meta-router merge`.
///
/// # Errors
/// An unreadable shard, shards that do not form one whole study, an unwritable `--out`.
pub fn run(args: MergeArgs) -> Result<()> {
    if shard::format_of(&args.dirs[0])? == MULTI_FORMAT {
        return run_multi(&args);
    }
    let shards = args.dirs.iter().map(|d| Ok((d.clone(), Shard::read(d)?))).collect::<Result<Vec<_>>>()?;
    let (outcome, title) = merge_shards(&shards)?;
    let summary = outcome.summary()?;
    summary.write_dir(&outcome, &args.out, &title)?;
    if !args.quiet {
        println!("merged {} shards: {} rounds of {title}", shards.len(), outcome.rounds.len());
        print!("{}", summary.table());
        println!("wrote summary.json, curves.csv, rounds.csv, efficiency_gain.svg to {}", args.out.display());
    }
    Ok(())
}

/// `merge` of K-model shards ([`crate::eval::shard_multi`]): summary.json, curves.csv,
/// rounds.csv and quality_cost.svg through [`crate::eval::study_multi::MultiStudyOutcome::write_dir`].
fn run_multi(args: &MergeArgs) -> Result<()> {
    let shards = args.dirs.iter().map(|d| Ok((d.clone(), MultiShard::read(d)?))).collect::<Result<Vec<_>>>()?;
    let (outcome, title) = merge_multi_shards(&shards)?;
    outcome.write_dir(&args.out, &title)?;
    if !args.quiet {
        println!("merged {} shards: {} rounds of {title}", shards.len(), outcome.rounds.len());
        print!("{}", outcome.summary()?.table());
        println!("wrote summary.json, curves.csv, rounds.csv, quality_cost.svg to {}", args.out.display());
    }
    Ok(())
}
