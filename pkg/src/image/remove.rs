//! `rmi`: untagging and deleting images, then deleting the layers and blobs nothing needs any more.

use super::lookup;
use crate::container::store as container_store;
use crate::engine::Engine;
use crate::error::{Error, Result};
use image_store::Digest;

#[derive(Debug, Default)]
pub struct RemoveReport {
    pub untagged: Vec<String>,
    pub deleted: Vec<Digest>,
    /// Errors per argument, in order; the command reports them after doing what it could.
    pub errors: Vec<Error>,
}

#[derive(Debug, Default, Clone)]
pub struct RemoveOptions {
    pub force: bool,
    pub all: bool,
}

/// Removes images. Images and containers change under one hold of the store lock, so no container can be
/// created from an image while it is being removed; `force` removes the containers using it too.
pub fn remove(engine: &Engine, inputs: &[String], opts: &RemoveOptions) -> Result<RemoveReport> {
    let mut report = RemoveReport::default();
    if opts.force {
        remove_containers_of(engine, inputs, opts.all)?;
    }
    let held = engine.store.lock()?;
    let mut db = engine.store.images()?;
    let mut containers = container_store::read(&engine.store)?;
    let containers_before = containers.containers.len();
    {
        let db = &mut db;
        let targets: Vec<(String, Option<Digest>)> = if opts.all {
            db.images
                .iter()
                .map(|i| (i.id.to_string(), Some(i.id.clone())))
                .collect()
        } else {
            inputs.iter().map(|i| (i.clone(), None)).collect()
        };
        for (input, id) in targets {
            let img = match id
                .as_ref()
                .and_then(|id| db.get(id))
                .map(Ok)
                .unwrap_or_else(|| lookup::find(db, &input))
            {
                Ok(img) => img,
                // `rmi --force` ignores images that do not exist, as Podman does.
                Err(Error::ImageNotKnown(_)) if opts.force => continue,
                Err(e) => {
                    report.errors.push(e);
                    continue;
                }
            };
            let id = img.id.clone();
            // Naming one of several names only removes that name, as `podman rmi` does.
            let by_name = !opts.all && lookup::matching_name(img, &input).is_some();
            if by_name && img.names.len() > 1 {
                let name = lookup::matching_name(img, &input).expect("checked above");
                db.remove_name(&name);
                report.untagged.push(name);
                continue;
            }
            if !by_name && !opts.all && !opts.force && img.names.len() > 1 {
                report.errors.push(Error::InvalidInput(format!(
                    "unable to delete image {:?} by ID with more than one tag ([{}]): please force removal",
                    id.hex(),
                    img.names.join(" ")
                )));
                continue;
            }
            let using = containers.users_of(&id);
            if !using.is_empty() {
                if !opts.force {
                    report.errors.push(Error::ImageInUse {
                        image: input.clone(),
                        containers: using.join(", "),
                    });
                    continue;
                }
                containers.containers.retain(|c| c.image_id != id);
            }
            if let Some(gone) = db.remove(&id) {
                report.untagged.extend(gone.names);
                report.deleted.push(id);
            }
        }
    }
    if containers.containers.len() != containers_before {
        container_store::write(&engine.store, &held, &containers)?;
    }
    engine.store.write_images_locked(&held, &db)?;
    drop(held);
    if !report.deleted.is_empty() {
        gc(engine)?;
    }
    Ok(report)
}

/// `rmi --force`: the containers using the images go first, stopped and removed as `rm -f` does, so no
/// container is left running on a deleted image. What is created meanwhile is caught under the lock.
fn remove_containers_of(engine: &Engine, inputs: &[String], all: bool) -> Result<()> {
    let images = engine.store.images()?;
    let ids: Vec<Digest> = if all {
        images.images.iter().map(|i| i.id.clone()).collect()
    } else {
        inputs
            .iter()
            .filter_map(|i| lookup::find(&images, i).ok())
            .map(|i| i.id.clone())
            .collect()
    };
    for c in container_store::read(&engine.store)?.containers {
        if ids.contains(&c.image_id) {
            crate::container::lifecycle::remove(engine, &c, true, true)?;
        }
    }
    Ok(())
}

/// Deletes layers and blobs that no image references, after the records are written.
pub fn gc(engine: &Engine) -> Result<()> {
    let _lock = engine.store.lock()?;
    let db = engine.store.images()?;
    engine.store.collect_garbage(&db)?;
    Ok(())
}
