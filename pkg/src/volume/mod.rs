//! Named volumes with Podman's `local` driver: a directory per volume under the graph root
//! (`volumes/<name>/_data`, what containers mount) and a record per volume in `volumes.json`.
//!
//! This module owns the records and the directories: creating (by `volume create`, or on first use by a
//! container), listing, removing, and the first-mount copy-up of a container's content into a volume.
//! It never mounts anything and never decides what a container mounts; the container engine asks it
//! for a volume's path ([`ensure`], [`create_anonymous`]) and tells it when a container goes away
//! (volumes are in use while a container's record lists them: [`users`]).
//!
//! Every change happens under the store lock ([`Store::lock`](image_store::Store::lock)); callers
//! that already hold it use the `_locked` variants, since a second `flock` from the same process
//! would wait for itself.

pub mod copy_up;
pub mod filter;
pub mod options;
mod pattern;
pub mod rows;
pub mod store;

pub use copy_up::{chown_if_needed, copy_up, copy_up_if_needed};

use crate::container;
use crate::container::names::{new_id, valid_name};
use crate::engine::Engine;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use image_store::lock::Lock;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use store::VolumeDb;

/// The only driver: a directory on the host.
pub const LOCAL_DRIVER: &str = "local";

/// One volume, as kept in `volumes.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `--opt` values as Podman records them (`o=uid=1000` also as `UID`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    /// Created for one container alone (an image VOLUME, `-v /path`).
    #[serde(default)]
    pub anonymous: bool,
    /// Owner given with `-o o=uid=N,gid=N` (0 when not given).
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    /// The next mount copies the container's content at the mount point into the volume.
    #[serde(default)]
    pub needs_copy_up: bool,
    /// The next mount gives the volume the owner and mode of the container's mount point.
    #[serde(default)]
    pub needs_chown: bool,
}

impl VolumeRecord {
    /// Whether copy-up is off for this volume (`--opt nocopy`).
    pub fn no_copy(&self) -> bool {
        self.options.keys().any(|k| k.eq_ignore_ascii_case("nocopy"))
    }
}

/// What `volume create` asks for.
#[derive(Debug, Default, Clone)]
pub struct CreateOptions {
    /// `None`: a random 64-hex name.
    pub name: Option<String>,
    /// `None` or `local`.
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `--opt KEY=VALUE`, checked by [`options::parse`].
    pub options: BTreeMap<String, String>,
    /// `--ignore`: an existing volume of that name is returned as it is.
    pub ignore_existing: bool,
    pub anonymous: bool,
}

/// Podman's message for a name that does not exist.
pub fn not_known(name: &str) -> Error {
    Error::VolumeNotKnown(name.to_string())
}

/// Checks a user-given volume name against Podman's rule.
pub fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "volume name {name:?} is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        )))
    }
}

/// Creates a volume (or, with `ignore_existing`, returns the existing one of that name).
pub fn create(engine: &Engine, opts: &CreateOptions) -> Result<VolumeRecord> {
    let held = engine.store.lock()?;
    create_locked(engine, &held, opts)
}

/// As [`create`], with the store lock already held.
pub fn create_locked(engine: &Engine, held: &Lock, opts: &CreateOptions) -> Result<VolumeRecord> {
    if let Some(name) = &opts.name {
        check_name(name)?;
    }
    let driver = opts.driver.as_deref().unwrap_or(LOCAL_DRIVER);
    if driver != LOCAL_DRIVER {
        return Err(Error::InvalidInput(format!(
            "volume driver {driver:?} is not available: no volume plugin with name {driver} available (only \"local\" is supported)"
        )));
    }
    let parsed = options::parse(&opts.options)?;
    store::update_locked(&engine.store, held, |_, db| {
        let name = match &opts.name {
            Some(n) => {
                if let Some(existing) = db.volumes.get(n) {
                    if opts.ignore_existing {
                        return Ok(existing.clone());
                    }
                    return Err(Error::InvalidInput(format!(
                        "volume with name {n} already exists: volume already exists"
                    )));
                }
                n.clone()
            }
            None => loop {
                let n = new_id();
                if !db.volumes.contains_key(&n) {
                    break n;
                }
            },
        };
        store::make_dirs(&engine.store, &name, parsed.owner)?;
        let (uid, gid) = parsed.owner.unwrap_or((0, 0));
        let rec = VolumeRecord {
            name: name.clone(),
            driver: LOCAL_DRIVER.to_string(),
            labels: opts.labels.clone(),
            options: parsed.recorded,
            created: Utc::now(),
            anonymous: opts.anonymous,
            uid,
            gid,
            needs_copy_up: true,
            needs_chown: parsed.owner.is_none(),
        };
        db.volumes.insert(name, rec.clone());
        Ok(rec)
    })
}

/// The `_data` path of volume `name`, creating the volume first when it does not exist (a container's
/// `-v NAME:/path` creates it, as in Podman).
pub fn ensure(engine: &Engine, name: &str) -> Result<PathBuf> {
    let held = engine.store.lock()?;
    ensure_locked(engine, &held, name)
}

/// As [`ensure`], for a caller that already holds the store lock.
pub fn ensure_locked(engine: &Engine, held: &Lock, name: &str) -> Result<PathBuf> {
    let opts = CreateOptions {
        name: Some(name.to_string()),
        ignore_existing: true,
        ..Default::default()
    };
    create_locked(engine, held, &opts)?;
    Ok(store::data_path(&engine.store, name))
}

/// Creates an anonymous volume (random 64-hex name) and returns its name and `_data` path.
pub fn create_anonymous(engine: &Engine) -> Result<(String, PathBuf)> {
    let held = engine.store.lock()?;
    create_anonymous_locked(engine, &held)
}

/// As [`create_anonymous`], with the store lock already held.
pub fn create_anonymous_locked(engine: &Engine, held: &Lock) -> Result<(String, PathBuf)> {
    let opts = CreateOptions {
        anonymous: true,
        ..Default::default()
    };
    let rec = create_locked(engine, held, &opts)?;
    let path = store::data_path(&engine.store, &rec.name);
    Ok((rec.name, path))
}

/// The `_data` path of a volume (whether or not it exists).
pub fn data_path(engine: &Engine, name: &str) -> PathBuf {
    store::data_path(&engine.store, name)
}

/// All volumes, by name.
pub fn list(engine: &Engine) -> Result<Vec<VolumeRecord>> {
    Ok(store::read(&engine.store)?.volumes.into_values().collect())
}

/// Whether a volume of exactly this name exists (`volume exists`).
pub fn exists(engine: &Engine, name: &str) -> Result<bool> {
    Ok(store::read(&engine.store)?.volumes.contains_key(name))
}

/// What a name or prefix matched.
enum Found<'d> {
    One(&'d VolumeRecord),
    Several,
    Nothing,
}

fn search<'d>(db: &'d VolumeDb, input: &str) -> Found<'d> {
    if let Some(v) = db.volumes.get(input) {
        return Found::One(v);
    }
    let mut hits = db
        .volumes
        .values()
        .filter(|v| !input.is_empty() && v.name.starts_with(input));
    match (hits.next(), hits.next()) {
        (Some(v), None) => Found::One(v),
        (Some(_), Some(_)) => Found::Several,
        _ => Found::Nothing,
    }
}

fn ambiguous(input: &str) -> Error {
    Error::InvalidInput(format!("more than one result for volume name {input:?}"))
}

/// Finds a volume by full name or unique name prefix, as Podman's `LookupVolume`.
pub fn find<'d>(db: &'d VolumeDb, input: &str) -> Result<&'d VolumeRecord> {
    match search(db, input) {
        Found::One(v) => Ok(v),
        Found::Several => Err(ambiguous(input)),
        Found::Nothing => Err(not_known(input)),
    }
}

/// Looks a volume up by full name or unique prefix.
pub fn lookup(engine: &Engine, input: &str) -> Result<VolumeRecord> {
    find(&store::read(&engine.store)?, input).cloned()
}

/// As [`lookup`], with `None` when nothing matches (an ambiguous prefix is still an error).
pub fn lookup_opt(engine: &Engine, input: &str) -> Result<Option<VolumeRecord>> {
    match search(&store::read(&engine.store)?, input) {
        Found::One(v) => Ok(Some(v.clone())),
        Found::Several => Err(ambiguous(input)),
        Found::Nothing => Ok(None),
    }
}

/// IDs of the containers whose records list volume `name` (named or anonymous).
pub fn users(engine: &Engine, name: &str) -> Vec<String> {
    container::store::read(&engine.store)
        .map(|db| users_in(&db, name))
        .unwrap_or_default()
}

/// Names of the volumes at least one container uses (the complement of `dangling=true`).
pub fn used_names(engine: &Engine) -> Result<BTreeSet<String>> {
    Ok(container::store::read(&engine.store)?
        .containers
        .into_iter()
        .flat_map(|c| c.volumes.into_iter().chain(c.anonymous_volumes))
        .collect())
}

fn users_in(db: &container::store::ContainerDb, name: &str) -> Vec<String> {
    db.containers
        .iter()
        .filter(|c| c.volumes.iter().chain(&c.anonymous_volumes).any(|v| v == name))
        .map(|c| c.id.clone())
        .collect()
}

/// Why one volume of [`remove_many`] was not removed; the CLI maps these to Podman's exit codes.
#[derive(Debug)]
pub enum NotRemoved {
    /// No volume has that name (`volume rm` exits 1).
    Unknown(Error),
    /// Containers use it and `force` was not given (exits 2).
    InUse(Error),
    /// Anything else (exits 125).
    Failed(Error),
}

impl NotRemoved {
    pub fn error(&self) -> &Error {
        match self {
            NotRemoved::Unknown(e) | NotRemoved::InUse(e) | NotRemoved::Failed(e) => e,
        }
    }
}

/// What [`remove_many`] did: the names removed, in order, and what it could not remove.
#[derive(Debug, Default)]
pub struct RemoveReport {
    pub removed: Vec<String>,
    pub not_removed: Vec<NotRemoved>,
}

/// Removes volumes given by name or unique prefix. A volume a container uses is refused unless `force`,
/// which first removes those containers (through `container::create::remove`).
pub fn remove_many(engine: &Engine, names: &[String], force: bool) -> Result<RemoveReport> {
    if force {
        let db = store::read(&engine.store)?;
        let containers = container::store::read(&engine.store)?;
        let mut doomed: Vec<String> = vec![];
        for n in names {
            if let Ok(v) = find(&db, n) {
                for id in users_in(&containers, &v.name) {
                    if !doomed.contains(&id) {
                        doomed.push(id);
                    }
                }
            }
        }
        if !doomed.is_empty() {
            // Outside the volume update: container removal takes the store lock itself.
            let (_, errors) = container::create::remove(engine, &doomed, false)?;
            if let Some(e) = errors
                .into_iter()
                .find(|e| !matches!(e, Error::ContainerNotKnown(_)))
            {
                return Err(e);
            }
        }
    }
    let held = engine.store.lock()?;
    remove_many_locked(engine, &held, names)
}

/// Removes volumes no container uses, with the store lock held (containers are never removed here).
pub fn remove_many_locked(engine: &Engine, held: &Lock, names: &[String]) -> Result<RemoveReport> {
    let containers = container::store::read(&engine.store)?;
    let mut report = RemoveReport::default();
    let mut trashed: Vec<(String, PathBuf)> = vec![];
    let result = store::update_locked(&engine.store, held, |_, db| {
        for n in names {
            let name = match search(db, n) {
                Found::One(v) => v.name.clone(),
                Found::Several => {
                    report.not_removed.push(NotRemoved::Failed(ambiguous(n)));
                    continue;
                }
                Found::Nothing => {
                    report.not_removed.push(NotRemoved::Unknown(not_known(n)));
                    continue;
                }
            };
            let users = users_in(&containers, &name);
            if !users.is_empty() {
                report.not_removed.push(NotRemoved::InUse(in_use(&name, &users)));
                continue;
            }
            match store::move_to_trash(&engine.store, &name) {
                Ok(trash) => {
                    trashed.extend(trash.map(|t| (name.clone(), t)));
                    db.volumes.remove(&name);
                    report.removed.push(name);
                }
                Err(e) => report.not_removed.push(NotRemoved::Failed(e)),
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        // The records were not written: the volumes are still there, so put their directories back.
        for (name, trash) in &trashed {
            store::restore(&engine.store, name, trash);
        }
        return Err(e);
    }
    for (_, trash) in &trashed {
        store::delete_trash(trash);
    }
    Ok(report)
}

/// Podman's message for a volume containers use.
pub fn in_use(name: &str, containers: &[String]) -> Error {
    Error::VolumeInUse {
        volume: name.to_string(),
        containers: containers.join(", "),
    }
}

/// Removes every volume no container uses and `select` accepts (`volume prune --filter`).
pub fn prune(engine: &Engine, select: &dyn Fn(&VolumeRecord) -> bool) -> Result<RemoveReport> {
    let held = engine.store.lock()?;
    let containers = container::store::read(&engine.store)?;
    let names: Vec<String> = store::read(&engine.store)?
        .volumes
        .into_values()
        .filter(|v| select(v) && users_in(&containers, &v.name).is_empty())
        .map(|v| v.name)
        .collect();
    remove_many_locked(engine, &held, &names)
}

#[cfg(test)]
mod tests;
