//! Integration tests: one binary (see Cargo.toml `autotests = false`).

mod alloc;
mod causal;
mod cli;
mod reference;
mod router;
