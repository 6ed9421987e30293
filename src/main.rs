//! The `meta-router` binary: parse arguments, run, print any error as one line.

use std::process::ExitCode;

fn main() -> ExitCode {
    meta_router::cli::main_with_args(std::env::args_os())
}
