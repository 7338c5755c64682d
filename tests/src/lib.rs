//! The end-to-end test harness: runs the real `selkie` binary against private stores, and builds the
//! images it loads, by code, deterministically.
//!
//! - [`selkie`]: [`Selkie`], a private store plus configuration, and [`Output`], a finished command.
//! - [`layer`]: [`Layer`] tarballs with every entry kind, and their compressions.
//! - [`image`]: [`ImageBuilder`] / [`Image`], and the docker-archive and OCI outputs.
//! - [`rootfs`]: the busybox rootfs and the ready-made images built on it.
//! - [`hostile`]: layers that try to write outside their extraction directory.
//! - [`table`]: parsing and alignment checks of Podman-style tables.

pub mod cbuild;
pub mod container;
pub mod hostile;
pub mod image;
pub mod layer;
pub mod registry;
pub mod rootfs;
pub mod selkie;
pub mod table;

pub use image::{host_architecture, Image, ImageBuilder, OciLayout};
pub use layer::{Compression, Entry, Layer, LayerBlob};
pub use rootfs::{busybox_builder, busybox_image, busybox_layer, large_image, rich_image};
pub use selkie::{is_podman, selkie_binary, skip_on_podman, Output, Selkie};
pub use table::Table;

/// The registry Podman 4.3.1 gives a short name found in a loaded archive, an `import`, or a `tag`:
/// `busybox:latest` in a docker archive loads as `localhost/busybox:latest` (checked against Podman
/// 4.3.1; Podman 3.x used `docker.io/library/`).
pub const SHORT_NAME_REGISTRY: &str = "localhost";

/// The full name Podman stores for `name`: [`SHORT_NAME_REGISTRY`] prefixed when the first component is
/// not a registry (no `.` or `:`, not `localhost`), and `:latest` added when there is no tag or digest.
pub fn full_name(name: &str) -> String {
    let (first, _) = name.split_once('/').unwrap_or(("", name));
    let has_registry =
        !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_string()
    } else {
        format!("{SHORT_NAME_REGISTRY}/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !last.contains('@') {
        full.push_str(":latest");
    }
    full
}

#[cfg(test)]
mod tests {
    use super::full_name;

    #[test]
    fn full_names() {
        assert_eq!(full_name("busybox"), "localhost/busybox:latest");
        assert_eq!(full_name("busybox:1"), "localhost/busybox:1");
        assert_eq!(full_name("library/busybox:1"), "localhost/library/busybox:1");
        assert_eq!(full_name("localhost:5000/x:1"), "localhost:5000/x:1");
        assert_eq!(full_name("example.com/rich"), "example.com/rich:latest");
        assert_eq!(full_name("localhost/foo"), "localhost/foo:latest");
    }
}
