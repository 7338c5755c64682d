//! Containers: their records (`containers.json`), configuration, run state, the monitor that owns a
//! running container, and the lifecycle operations. The runtime that executes them lives in `runtime`.

pub mod config;
pub mod create;
pub mod exec;
pub mod external;
pub mod inspect;
pub mod lifecycle;
pub mod list;
pub mod logfile;
pub mod monitor;
pub mod names;
pub mod notify;
pub mod parse;
pub mod paths;
pub mod spec;
pub mod state;
pub mod store;
