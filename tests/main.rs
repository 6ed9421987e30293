//! Integration tests: one binary (see Cargo.toml `autotests = false`).

mod active;
mod alloc;
mod audit;
mod bad_input;
mod causal;
mod cli;
mod conformance;
mod corpus;
mod determinism;
mod evaluate;
mod forest;
mod gbm;
mod imports;
mod kfit;
mod linear;
mod multi;
mod reference;
mod router;
mod shard;
mod size_limits;
mod sources;
mod stability;
mod study;
mod util;
