//! `volumes.json` and the `volumes/` directory: the volume records and their data, changed only under
//! the store lock (the lock that also guards `containers.json`, so "is this volume in use" and "remove
//! it" never race with a container being created).
//!
//! Layout under the graph root, as Podman's: `volumes/<name>/_data` is what containers mount;
//! `volumes.json` maps names to [`VolumeRecord`]s and is only ever replaced whole (`write_atomic`).
//!
//! Crash safety: a volume's directory is created before its record is written, and moved aside to
//! `volumes/.removing-<nanos>-<name>` before its record is dropped; the trash is emptied after the
//! record is written. So a SIGKILL leaves at worst a directory with no record (adopted by the next
//! `create` of that name, as Podman's `MkdirAll` would) or a trash entry, which the next change
//! removes, or moves back when the record it belonged to survived.

use super::VolumeRecord;
use crate::error::{Error, IoContext, Result};
use image_store::atomic::write_atomic;
use image_store::lock::Lock;
use image_store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const TRASH_PREFIX: &str = ".removing-";

/// The volume records, keyed (and so listed) by name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VolumeDb {
    pub volumes: BTreeMap<String, VolumeRecord>,
}

fn db_path(store: &Store) -> PathBuf {
    store.root().join("volumes.json")
}

/// `<graphroot>/volumes`: one directory per volume.
pub fn volumes_dir(store: &Store) -> PathBuf {
    store.root().join("volumes")
}

/// `<graphroot>/volumes/<name>`.
pub fn volume_dir(store: &Store, name: &str) -> PathBuf {
    volumes_dir(store).join(name)
}

/// `<graphroot>/volumes/<name>/_data`: the volume's mount source.
pub fn data_path(store: &Store, name: &str) -> PathBuf {
    volume_dir(store, name).join("_data")
}

/// Reads the records; no lock needed since the file is only ever replaced whole.
pub fn read(store: &Store) -> Result<VolumeDb> {
    let p = db_path(store);
    match fs::read(&p) {
        Ok(data) => serde_json::from_slice(&data)
            .map_err(|e| Error::Config(format!("volume records {} are unreadable: {e}", p.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(VolumeDb::default()),
        Err(e) => Err(Error::Io {
            context: format!("reading {}", p.display()),
            source: e,
        }),
    }
}

/// Writes the records; the caller proves it holds the store lock.
pub fn write(store: &Store, _held: &Lock, db: &VolumeDb) -> Result<()> {
    let p = db_path(store);
    write_atomic(&p, &serde_json::to_vec(db).expect("volume records serialise"))
        .ctx(|| format!("writing {}", p.display()))
}

/// Changes the records under the store lock; `f`'s error aborts without writing. Leftovers of removals
/// a crash interrupted are dealt with first.
pub fn update<T>(store: &Store, f: impl FnOnce(&Lock, &mut VolumeDb) -> Result<T>) -> Result<T> {
    let held = store.lock()?;
    update_locked(store, &held, f)
}

/// As [`update`], for a caller that already holds the store lock.
pub fn update_locked<T>(
    store: &Store,
    held: &Lock,
    f: impl FnOnce(&Lock, &mut VolumeDb) -> Result<T>,
) -> Result<T> {
    let mut db = read(store)?;
    empty_trash(store, &db);
    let out = f(held, &mut db)?;
    write(store, held, &db)?;
    Ok(out)
}

/// Creates `volumes/<name>/_data` (mode 0755 in a 0700 parent, as Podman), owned by `owner` when given.
/// An existing directory, left by a crash after its record was dropped, is kept with its content.
pub fn make_dirs(store: &Store, name: &str, owner: Option<(u32, u32)>) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = volume_dir(store, name);
    let data = dir.join("_data");
    for (path, mode) in [(volumes_dir(store), 0o700), (dir, 0o700), (data.clone(), 0o755)] {
        match fs::DirBuilder::new().mode(mode).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(e) => return Err(e).ctx(|| format!("creating volume directory {}", path.display())),
        }
    }
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::lchown(&data, Some(uid), Some(gid))
            .ctx(|| format!("chowning volume directory {} to {uid}:{gid}", data.display()))?;
    }
    Ok(data)
}

/// Moves a volume's directory into the trash; returns where it went (`None` when it was already gone).
pub fn move_to_trash(store: &Store, name: &str) -> Result<Option<PathBuf>> {
    let dir = volume_dir(store, name);
    let trash = volumes_dir(store).join(format!("{TRASH_PREFIX}{}-{name}", nanos()));
    match fs::rename(&dir, &trash) {
        Ok(()) => Ok(Some(trash)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).ctx(|| format!("removing volume {name}")),
    }
}

/// Puts a trashed directory back (a removal whose record could not be written).
pub fn restore(store: &Store, name: &str, trash: &Path) {
    let _ = fs::rename(trash, volume_dir(store, name));
}

/// Deletes a trashed directory; a failure leaves it for the next change to retry.
pub fn delete_trash(trash: &Path) {
    let _ = fs::remove_dir_all(trash);
}

/// Empties the trash. An entry whose volume still has a record but no directory is the remains of a
/// removal killed before its record was written: it is moved back instead.
fn empty_trash(store: &Store, db: &VolumeDb) {
    let Ok(entries) = fs::read_dir(volumes_dir(store)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(rest) = file_name.strip_prefix(TRASH_PREFIX) else {
            continue;
        };
        let owner = rest.split_once('-').map(|(_, name)| name).unwrap_or("");
        if db.volumes.contains_key(owner) && !volume_dir(store, owner).exists() {
            restore(store, owner, &entry.path());
        } else {
            delete_trash(&entry.path());
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
