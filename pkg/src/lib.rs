//! The selkie engine library: configuration, image references, image and container operations,
//! output formatting and the built-in OCI runtime. The CLI in `cmd/` only parses flags and calls in here.

#![recursion_limit = "256"]

pub mod cgroups;
pub mod config;
pub mod container;
pub mod engine;
pub mod error;
pub mod format;
pub mod image;
pub mod network;
pub mod reference;
pub mod registry;
pub mod rootless;
pub mod runtime;
pub mod seccomp;
pub mod system;

pub use engine::Engine;
pub use error::{Error, Result};
pub mod systemd;
pub mod volume;
