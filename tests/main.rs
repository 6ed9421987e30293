//! Integration tests: one binary (see Cargo.toml `autotests = false`).

mod cli;
mod corpus;
mod forest;
mod gbm;
mod linear;
mod reference;
