//! Image operations: everything `images`, `load`, `save`, `import`, `rmi`, `tag`, `inspect` and
//! `history` do, behind one function each.

pub mod config;
pub mod history;
pub mod import;
pub mod ingest;
pub mod inspect;
pub mod list;
pub mod load;
pub mod lookup;
pub mod remove;
pub mod save;
pub mod tag;
