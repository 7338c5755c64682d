//! The selkie engine library: configuration, image references, image and container operations,
//! output formatting and the built-in OCI runtime. The CLI in `cmd/` only parses flags and calls in here.

pub mod format;
pub mod runtime;
