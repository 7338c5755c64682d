//! The engine handle every command starts from: resolved paths and the opened store.

use crate::config::storage::{self, Overrides, StoragePaths};
use crate::error::Result;
use image_store::Store;

pub struct Engine {
    pub paths: StoragePaths,
    pub store: Store,
}

impl Engine {
    pub fn open(overrides: &Overrides) -> Result<Engine> {
        let paths = storage::resolve(overrides)?;
        let store = Store::open(&paths.graph_root)?;
        Ok(Engine { paths, store })
    }
}
