//! storage.conf: where the store lives.
//!
//! We read the same files Podman reads (`/usr/share/containers/storage.conf`, `/etc/containers/storage.conf`,
//! then `$HOME/.config/containers/storage.conf`; or only `$CONTAINERS_STORAGE_CONF`), but our defaults are our
//! own paths, and a graphroot/runroot that names Podman's own storage is ignored: the two engines' on-disk
//! formats must never share a directory.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

const PODMAN_PATHS: &[&str] = &[
    "/var/lib/containers/storage",
    "/run/containers/storage",
    "/var/run/containers/storage",
];

#[derive(Clone, Debug, PartialEq)]
pub struct StoragePaths {
    pub graph_root: PathBuf,
    pub run_root: PathBuf,
    pub driver: String,
    /// The files that were read.
    pub config_files: Vec<PathBuf>,
    /// The configuration file that has the last word (reported by `info` whether or not it exists).
    pub config_file: PathBuf,
    /// `[storage.options.overlay] mount_program` (or the older `[storage.options] mount_program`): a
    /// program such as fuse-overlayfs that mounts containers' root filesystems instead of the kernel.
    pub mount_program: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    storage: Section,
}

#[derive(Debug, Default, Deserialize)]
struct Section {
    driver: Option<String>,
    graphroot: Option<String>,
    runroot: Option<String>,
    #[serde(default)]
    options: Options,
}

#[derive(Debug, Default, Deserialize)]
struct Options {
    mount_program: Option<String>,
    #[serde(default)]
    overlay: OverlayOptions,
}

#[derive(Debug, Default, Deserialize)]
struct OverlayOptions {
    mount_program: Option<String>,
}

/// Values given on the command line; they win over every file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub root: Option<PathBuf>,
    pub runroot: Option<PathBuf>,
    pub driver: Option<String>,
    /// `--storage-opt KEY=VALUE`: `overlay.mount_program` (or `mount_program`) is the one understood.
    pub storage_opts: Vec<String>,
}

pub fn is_rootless() -> bool {
    crate::rootless::is_rootless()
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn default_paths() -> (PathBuf, PathBuf) {
    if !is_rootless() {
        return ("/var/lib/selkie".into(), "/run/selkie".into());
    }
    let uid = crate::rootless::host_euid();
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".local/share")))
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/selkie-data-{uid}")));
    let run = crate::rootless::runtime_base(uid);
    (data.join("selkie"), run.join("selkie"))
}

fn candidate_files() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_STORAGE_CONF").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut files = vec![];
    let system = Path::new("/etc/containers/storage.conf");
    if system.exists() {
        files.push(system.to_path_buf());
    } else {
        files.push("/usr/share/containers/storage.conf".into());
    }
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")));
    if let Some(u) = user {
        files.push(u.join("containers/storage.conf"));
    }
    files
}

fn usable(p: &str) -> bool {
    !p.is_empty() && !PODMAN_PATHS.contains(&p.trim_end_matches('/')) && !p.contains("/containers/storage")
}

/// Resolves the store paths from defaults, configuration files and command-line overrides.
pub fn resolve(overrides: &Overrides) -> Result<StoragePaths> {
    let (mut graph_root, mut run_root) = default_paths();
    let mut driver = "overlay".to_string();
    let mut config_files = vec![];
    let mut mount_program = None;
    let candidates = candidate_files();
    // Podman reports the system file for root and the user's own file for a rootless user.
    let reported = if is_rootless() {
        candidates.last()
    } else {
        candidates.first()
    };
    let config_file = reported.cloned().unwrap_or_default();
    // Only read files when the command line leaves something open, so that tests and scripts that pass
    // every path pay no parsing cost.
    if overrides.root.is_none() || overrides.runroot.is_none() || overrides.driver.is_none() {
        for path in candidates {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let parsed: File = toml::from_str(&text)
                .map_err(|e| Error::Config(format!("parsing {}: {}", path.display(), e.message())))?;
            if let Some(d) = parsed.storage.driver.filter(|d| !d.is_empty()) {
                driver = d;
            }
            if let Some(g) = parsed.storage.graphroot.filter(|g| usable(g)) {
                graph_root = g.into();
            }
            if let Some(r) = parsed.storage.runroot.filter(|r| usable(r)) {
                run_root = r.into();
            }
            let options = parsed.storage.options;
            if let Some(m) = options.overlay.mount_program.or(options.mount_program) {
                mount_program = Some(m).filter(|m| !m.is_empty()).map(PathBuf::from);
            }
            config_files.push(path);
        }
    }
    if let Some(r) = &overrides.root {
        graph_root = r.clone();
    }
    if let Some(r) = &overrides.runroot {
        run_root = r.clone();
    }
    if let Some(d) = &overrides.driver {
        driver = d.clone();
    }
    for opt in &overrides.storage_opts {
        match opt.split_once('=') {
            Some(("overlay.mount_program" | "mount_program", program)) => {
                mount_program = Some(program).filter(|p| !p.is_empty()).map(PathBuf::from);
            }
            _ => {
                return Err(Error::Config(format!(
                    "unsupported --storage-opt {opt:?}: selkie understands overlay.mount_program=PATH"
                )))
            }
        }
    }
    if driver != "overlay" {
        return Err(Error::Config(format!(
            "unsupported storage driver {driver:?}: selkie supports only \"overlay\""
        )));
    }
    Ok(StoragePaths {
        graph_root,
        run_root,
        driver,
        config_files,
        config_file,
        mount_program,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_paths_are_not_adopted() {
        assert!(!usable("/var/lib/containers/storage"));
        assert!(!usable("/var/lib/containers/storage/"));
        assert!(usable("/srv/selkie"));
    }

    #[test]
    fn command_line_wins_and_driver_is_checked() {
        let o = Overrides {
            root: Some("/x".into()),
            runroot: Some("/y".into()),
            driver: Some("overlay".into()),
            storage_opts: vec!["overlay.mount_program=/usr/bin/fuse-overlayfs".into()],
        };
        let p = resolve(&o).unwrap();
        assert_eq!(p.mount_program, Some(PathBuf::from("/usr/bin/fuse-overlayfs")));
        assert_eq!(p.graph_root, PathBuf::from("/x"));
        assert_eq!(p.run_root, PathBuf::from("/y"));
        let bad = Overrides {
            driver: Some("vfs".into()),
            ..o
        };
        assert!(resolve(&bad).unwrap_err().to_string().contains("vfs"));
        let unknown = Overrides {
            storage_opts: vec!["overlay.size=10G".into()],
            ..Default::default()
        };
        assert!(resolve(&unknown)
            .unwrap_err()
            .to_string()
            .contains("overlay.size"));
    }

    #[test]
    fn mount_program_in_either_section() {
        for text in [
            "[storage.options.overlay]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
            "[storage.options]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
        ] {
            let f: File = toml::from_str(text).unwrap();
            let o = f.storage.options;
            assert_eq!(
                o.overlay.mount_program.or(o.mount_program).as_deref(),
                Some("/usr/bin/fuse-overlayfs")
            );
        }
    }
}
