//! Creating and removing container records.

use super::names::{new_id, random_name, valid_name};
use super::store::{self, ContainerRecord};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::image::config::ImageConfigFile;
use crate::image::lookup;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct CreateOptions {
    pub image: String,
    pub name: Option<String>,
    /// Overrides the image's Cmd when not empty.
    pub command: Vec<String>,
    pub entrypoint: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
}

/// Records a new container from a local image and returns it.
pub fn create(engine: &Engine, opts: &CreateOptions) -> Result<ContainerRecord> {
    if let Some(n) = &opts.name {
        if !valid_name(n) {
            return Err(Error::InvalidInput(format!(
                "container name {n:?} is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )));
        }
    }
    store::update(&engine.store, |db| {
        let images = engine.store.images()?;
        let image = lookup::find(&images, &opts.image)?;
        let config =
            ImageConfigFile::parse(&engine.store.read_blob(&image.id)?).map_err(Error::InvalidArchive)?;
        let entrypoint = opts
            .entrypoint
            .clone()
            .or(config.config.entrypoint.clone())
            .unwrap_or_default();
        let cmd = if opts.command.is_empty() {
            config.config.cmd.clone().unwrap_or_default()
        } else {
            opts.command.clone()
        };
        let command: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
        let name = match &opts.name {
            Some(n) => {
                if let Some(other) = db.containers.iter().find(|c| &c.name == n) {
                    return Err(Error::NameInUse(n.clone(), other.id.clone()));
                }
                n.clone()
            }
            None => loop {
                let n = random_name();
                if !db.containers.iter().any(|c| c.name == n) {
                    break n;
                }
            },
        };
        let image_name = if lookup::matching_name(image, &opts.image).is_some() || image.names.is_empty() {
            lookup::matching_name(image, &opts.image).unwrap_or_else(|| image.id.hex().to_string())
        } else {
            image.names[0].clone()
        };
        let rec = ContainerRecord {
            id: new_id(),
            name,
            image_id: image.id.clone(),
            image_name,
            command,
            created: chrono::Utc::now(),
            labels: opts.labels.clone(),
        };
        db.containers.push(rec.clone());
        Ok(rec)
    })
}

/// Removes container records; returns the IDs removed, with an error per input that matched nothing.
pub fn remove(engine: &Engine, inputs: &[String], all: bool) -> Result<(Vec<String>, Vec<Error>)> {
    store::update(&engine.store, |db| {
        let targets: Vec<String> = if all {
            db.containers.iter().map(|c| c.id.clone()).collect()
        } else {
            inputs.to_vec()
        };
        let mut removed = vec![];
        let mut errors = vec![];
        for t in targets {
            match db.find(&t).map(|c| c.id.clone()) {
                Ok(id) => {
                    db.containers.retain(|c| c.id != id);
                    removed.push(id);
                }
                Err(e) => errors.push(e),
            }
        }
        Ok((removed, errors))
    })
}
