//! `diff`: what a container changed in its root filesystem, read from its overlay upper directory
//! against the image's layers.
//!
//! An entry of the upper directory is `A` (added) when no lower layer has that path, `C` (changed) when
//! one does (directories that only hold a changed file are `C` too, as Podman shows them); a whiteout
//! (0/0 character device) is `D`. An opaque directory that replaces a lower one is `C`, its contents `A`.
//! The runtime's own mount points (`/etc/hosts`, `/run/.containerenv`, `/proc`, ...) are left out, as
//! Podman does, and so are directories copied up only to hold them. Paths are sorted bytewise. This module only reads; it never follows a symlink.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Absolute path in the container.
    pub path: String,
    pub kind: ChangeKind,
}

/// Paths the runtime creates or mounts over in every container: never reported (Podman's list).
const RUNTIME_PATHS: &[&str] = &[
    "/dev",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/proc",
    "/run",
    "/run/.containerenv",
    "/run/notify",
    "/run/secrets",
    "/sys",
];

/// The container's changes, sorted by path.
pub fn changes(engine: &Engine, rec: &ContainerRecord) -> Result<Vec<Change>> {
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    if cfg.rootfs.is_some() {
        return Err(Error::InvalidInput(format!(
            "container {} runs on a --rootfs directory: it has no layers to compare with",
            rec.name
        )));
    }
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    let lower = lower_layers(engine, &cfg.image_id, &cfg.image)?;
    let mut out = vec![];
    walk(&paths.upper(), Path::new("/"), &lower, &mut out).map_err(|e| Error::Io {
        context: format!("reading the changes of container {}", rec.name),
        source: e,
    })?;
    Ok(without_runtime_paths(out))
}

/// Drops the runtime's mount points, and directories copied up only to hold them (`C /etc` when the
/// runtime made `/etc/resolv.conf`), then sorts by path.
fn without_runtime_paths(all: Vec<(Change, bool)>) -> Vec<Change> {
    let runtime = |c: &Change| RUNTIME_PATHS.contains(&c.path.as_str());
    let below = |dir: &str, c: &Change| {
        c.path.len() > dir.len() + 1 && c.path.starts_with(dir) && c.path.as_bytes()[dir.len()] == b'/'
    };
    let mut out: Vec<Change> = all
        .iter()
        .filter(|(c, is_dir)| {
            if runtime(c) {
                return false;
            }
            if !*is_dir || c.kind != ChangeKind::Changed {
                return true;
            }
            let holds_runtime = all.iter().any(|(o, _)| runtime(o) && below(&c.path, o));
            let holds_other = all.iter().any(|(o, _)| !runtime(o) && below(&c.path, o));
            !holds_runtime || holds_other
        })
        .map(|(c, _)| c.clone())
        .collect();
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    out
}

/// The image's extracted layers, top first.
pub(crate) fn lower_layers(engine: &Engine, image_id: &str, image_name: &str) -> Result<Vec<PathBuf>> {
    let id = image_store::Digest::from_hex(image_id).map_err(|e| Error::Config(e.to_string()))?;
    let db = engine.store.images()?;
    let image = db
        .get(&id)
        .ok_or_else(|| Error::ImageNotKnown(image_name.to_string()))?;
    Ok(image
        .layers
        .iter()
        .rev()
        .map(|l| engine.store.layer_diff_path(&l.chain_id))
        .collect())
}

fn walk(dir: &Path, at: &Path, lower: &[PathBuf], out: &mut Vec<(Change, bool)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let meta = std::fs::symlink_metadata(e.path())?;
        let path = at.join(e.file_name());
        let rel = path.strip_prefix("/").expect("absolute");
        let kind = if meta.file_type().is_char_device() && meta.rdev() == 0 {
            ChangeKind::Deleted
        } else if in_lower(lower, rel) {
            ChangeKind::Changed
        } else {
            ChangeKind::Added
        };
        out.push((
            Change {
                path: path.to_string_lossy().into_owned(),
                kind,
            },
            meta.is_dir(),
        ));
        if meta.is_dir() {
            walk(&e.path(), &path, lower, out)?;
        }
    }
    Ok(())
}

/// Whether the merged lower layers have `rel` (no symlinks followed): the topmost layer that has it
/// decides, unless a higher one whites it out or has an opaque or non-directory ancestor.
fn in_lower(lower: &[PathBuf], rel: &Path) -> bool {
    for layer in lower {
        match std::fs::symlink_metadata(layer.join(rel)) {
            Ok(m) => return !(m.file_type().is_char_device() && m.rdev() == 0),
            Err(_) => {
                let hidden = rel
                    .ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty())
                    .any(|a| match std::fs::symlink_metadata(layer.join(a)) {
                        Ok(m) if m.is_dir() => opaque(&layer.join(a)),
                        Ok(_) => true,
                        Err(_) => false,
                    });
                if hidden {
                    return false;
                }
            }
        }
    }
    false
}

fn opaque(dir: &Path) -> bool {
    std::fs::File::open(dir)
        .map(|f| super::cp::is_opaque(std::os::fd::AsFd::as_fd(&f)))
        .unwrap_or(false)
}

/// Podman's `diff --format json`: the paths of each kind.
pub fn to_json(changes: &[Change]) -> serde_json::Value {
    let of = |k: ChangeKind| -> Vec<&str> {
        changes
            .iter()
            .filter(|c| c.kind == k)
            .map(|c| c.path.as_str())
            .collect()
    };
    let mut m = serde_json::Map::new();
    for (key, kind) in [
        ("changed", ChangeKind::Changed),
        ("added", ChangeKind::Added),
        ("deleted", ChangeKind::Deleted),
    ] {
        let v = of(kind);
        if !v.is_empty() {
            m.insert(key.into(), serde_json::json!(v));
        }
    }
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(path: &str, kind: ChangeKind) -> Change {
        Change {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn directories_copied_up_only_for_mount_points_are_not_changes() {
        use ChangeKind::*;
        let all = vec![
            (ch("/etc", Changed), true),
            (ch("/etc/resolv.conf", Added), false),
            (ch("/run", Changed), true),
            (ch("/run/.containerenv", Added), false),
            (ch("/var", Changed), true),
            (ch("/var/x", Added), false),
            (ch("/opt", Changed), true),
        ];
        let got: Vec<String> = without_runtime_paths(all)
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect();
        assert_eq!(got, ["C /opt", "C /var", "A /var/x"]);
    }
}
