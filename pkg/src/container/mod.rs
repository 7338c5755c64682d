//! Containers: their records (`containers.json`), configuration, run state, the monitor that owns a
//! running container, and the lifecycle operations. The runtime that executes them lives in `runtime`.

pub mod attach;
pub mod commit;
pub mod config;
pub mod cp;
pub mod create;
pub mod diff;
pub mod exec;
pub mod export;
pub mod external;
pub mod fsview;
pub mod inspect;
pub mod lifecycle;
pub mod list;
pub mod logfile;
pub mod monitor;
pub mod mount;
pub mod names;
pub mod notify;
pub mod parse;
pub mod paths;
pub mod pause;
pub mod spec;
pub mod state;
pub mod stats;
pub mod store;
pub mod top;
