//! Integration tests: one binary (see Cargo.toml `autotests = false`).

mod alloc;
mod causal;
mod cli;
mod forest;
mod linear;
mod reference;
mod router;
mod study;
