//! Integration tests: one binary (see Cargo.toml `autotests = false`).

mod causal;
mod cli;
mod forest;
mod study;
