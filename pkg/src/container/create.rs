//! Changes to container records that are not part of the lifecycle: renaming.

use super::names::valid_name;
use super::store;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// Renames a container; the new name must be valid and unused.
pub fn rename(engine: &Engine, container: &str, new_name: &str) -> Result<()> {
    if !valid_name(new_name) {
        return Err(Error::InvalidInput(format!(
            "container name {new_name:?} is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        )));
    }
    store::update(&engine.store, |db| {
        if let Some(other) = db.containers.iter().find(|c| c.name == new_name) {
            return Err(Error::NameInUse(new_name.to_string(), other.id.clone()));
        }
        let id = db.find(container)?.id.clone();
        if let Some(c) = db.containers.iter_mut().find(|c| c.id == id) {
            c.name = new_name.to_string();
        }
        Ok(())
    })?;
    // The configuration keeps the name too (for inspect and restarts).
    let id = super::lifecycle::find(engine, new_name)?.id;
    let mut cfg = super::lifecycle::config_of(engine, &id)?;
    cfg.name = new_name.to_string();
    let p = super::paths::ContainerPaths::new(engine.store.root(), &id).create_config();
    image_store::atomic::write_atomic(&p, &serde_json::to_vec(&cfg).expect("config serialises")).map_err(
        |e| Error::Io {
            context: format!("writing {}", p.display()),
            source: e,
        },
    )
}

/// Removes containers by name or ID, forcibly (running ones are killed); returns the IDs removed and an
/// error per input that matched nothing. Used where removing containers is a consequence (`volume rm -f`).
pub fn remove(engine: &Engine, inputs: &[String], all: bool) -> Result<(Vec<String>, Vec<Error>)> {
    let targets: Vec<String> = if all {
        store::read(&engine.store)?
            .containers
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        inputs.to_vec()
    };
    let mut removed = vec![];
    let mut errors = vec![];
    for t in targets {
        match super::lifecycle::find(engine, &t) {
            Ok(rec) => {
                super::lifecycle::remove(engine, &rec, true, false)?;
                removed.push(rec.id);
            }
            Err(e) => errors.push(e),
        }
    }
    Ok((removed, errors))
}
