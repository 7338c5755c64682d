//! `export`: a container's whole root filesystem (image layers merged with its changes) as one tar
//! stream, built inside the container's own view of it ([`super::fsview`]) so no symlink reaches the
//! host. For a running container, mounts on top of its root (`/proc`, `/sys`, `/dev`, volumes) are
//! not descended into: only the root filesystem is exported, as Podman does.

use super::fsview;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;

/// Writes the container's root filesystem as a tar stream to `out`.
pub fn export(engine: &Engine, rec: &ContainerRecord, out: &mut dyn Write) -> Result<()> {
    let root = fsview::container_root(engine, rec)?;
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::Io {
        context: "creating a pipe".into(),
        source: e.into(),
    })?;
    let child = fsview::spawn(&root, &[&write_end], || {
        let w = std::fs::File::from(write_end.try_clone().map_err(|e| e.to_string())?);
        pack_root(w).map_err(|e| format!("exporting the root filesystem: {e}"))
    })?;
    drop(write_end);
    let mut r = std::fs::File::from(read_end);
    let copied = io::copy(&mut r, out).and_then(|_| out.flush());
    drop(r);
    let waited = child.wait();
    drop(root);
    waited.map_err(|msg| Error::InvalidInput(format!("exporting container {}: {msg}", rec.name)))?;
    copied.map_err(|e| Error::Io {
        context: "writing the export".into(),
        source: e,
    })
}

/// Packs `/` (the child's root: the container's) into `w`.
fn pack_root(w: std::fs::File) -> io::Result<()> {
    let root = std::fs::File::open("/")?;
    let root_dev = std::os::unix::fs::MetadataExt::dev(&root.metadata()?);
    let mut b = tar::Builder::new(io::BufWriter::with_capacity(256 * 1024, w));
    let packer = super::cp::Packer {
        one_file_system: true,
        overlay_whiteouts: false,
        root_dev,
    };
    packer.append_children(&mut b, root.as_fd(), Path::new(""))?;
    b.into_inner()?.flush()
}
