//! Containers: their records (`containers.json`), IDs and names. The runtime that executes them lives in
//! `runtime`; this module only knows what containers exist and what they were created from.

pub mod config;
pub mod create;
pub mod list;
pub mod names;
pub mod store;
