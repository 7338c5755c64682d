//! Where a container's files live: `<graphroot>/containers/<id>/`.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct ContainerPaths {
    pub dir: PathBuf,
}

impl ContainerPaths {
    pub fn new(store_root: &Path, id: &str) -> ContainerPaths {
        ContainerPaths {
            dir: store_root.join("containers").join(id),
        }
    }

    /// The OCI runtime spec; the directory itself is the OCI bundle.
    pub fn config_json(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// The full creation settings (`CreateConfig`).
    pub fn create_config(&self) -> PathBuf {
        self.dir.join("container.json")
    }

    /// hosts, hostname, resolv.conf, .containerenv.
    pub fn userdata(&self) -> PathBuf {
        self.dir.join("userdata")
    }

    pub fn upper(&self) -> PathBuf {
        self.dir.join("overlay/upper")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.join("overlay/work")
    }

    /// The overlay's mount point (root.path); mounted only inside the container's mount namespace.
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// The monitor's lock: held for as long as a monitor owns the container.
    pub fn monitor_lock(&self) -> PathBuf {
        self.dir.join("monitor.lock")
    }
}
