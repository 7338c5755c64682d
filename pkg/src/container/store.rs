//! `containers.json`: the container records, rewritten atomically under the store lock (the same lock
//! as the image records, so that "is this image in use" and "create a container from it" never race).

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use image_store::atomic::write_atomic;
use image_store::lock::Lock;
use image_store::{Digest, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image_id: Digest,
    /// The image as the user named it, for `ps`.
    pub image_name: String,
    pub command: Vec<String>,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Named volumes the container mounts (kept while it exists).
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Volumes created for it alone (the image's VOLUMEs, `-v /path`); `rm -v` removes them.
    #[serde(default)]
    pub anonymous_volumes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ContainerDb {
    pub containers: Vec<ContainerRecord>,
}

impl ContainerDb {
    /// Finds a container by name, full ID or unique ID prefix.
    pub fn find(&self, input: &str) -> Result<&ContainerRecord> {
        if let Some(c) = self.containers.iter().find(|c| c.name == input || c.id == input) {
            return Ok(c);
        }
        let mut hits = self
            .containers
            .iter()
            .filter(|c| !input.is_empty() && c.id.starts_with(input));
        match (hits.next(), hits.next()) {
            (Some(c), None) => Ok(c),
            (Some(_), Some(_)) => Err(Error::InvalidInput(format!(
                "more than one result for container {input:?}"
            ))),
            _ => Err(Error::ContainerNotKnown(input.to_string())),
        }
    }

    /// Names of the containers created from image `id`.
    pub fn users_of(&self, id: &Digest) -> Vec<String> {
        self.containers
            .iter()
            .filter(|c| &c.image_id == id)
            .map(|c| c.name.clone())
            .collect()
    }
}

fn path(store: &Store) -> PathBuf {
    store.root().join("containers.json")
}

/// Reads the records; no lock needed since the file is only ever replaced whole.
pub fn read(store: &Store) -> Result<ContainerDb> {
    let p = path(store);
    match std::fs::read(&p) {
        Ok(data) => serde_json::from_slice(&data)
            .map_err(|e| Error::Config(format!("container records {} are unreadable: {e}", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ContainerDb::default()),
        Err(e) => Err(Error::Io {
            context: format!("reading {}", p.display()),
            source: e,
        }),
    }
}

/// Writes the records; the caller proves it holds the store lock.
pub fn write(store: &Store, _held: &Lock, db: &ContainerDb) -> Result<()> {
    let p = path(store);
    write_atomic(&p, &serde_json::to_vec(db).expect("container records serialise")).map_err(|e| Error::Io {
        context: format!("writing {}", p.display()),
        source: e,
    })
}

/// Changes the records under the store lock.
pub fn update<T>(store: &Store, f: impl FnOnce(&mut ContainerDb) -> Result<T>) -> Result<T> {
    let held = store.lock()?;
    let mut db = read(store)?;
    let out = f(&mut db)?;
    write(store, &held, &db)?;
    Ok(out)
}
