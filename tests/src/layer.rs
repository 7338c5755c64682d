//! Layer tarballs built by code: every entry kind an image layer can hold, written deterministically.
//!
//! A [`Layer`] is an ordered list of [`Entry`]s plus a [`Compression`]. Entries are written in the order they
//! were added (so a hostile layer can put a symlink before a path through it); fixtures that want a sorted
//! tree add entries in sorted order. Every header has a fixed mtime ([`FIXED_MTIME`]), empty user and group
//! names, and the uid/gid the entry names (0 unless said otherwise), so the same layer always has the same
//! digest.
//!
//! [`Entry::Raw`] writes the name and link bytes straight into an old-style header, bypassing the `tar`
//! crate's refusal of `..` and absolute paths: that is how the hostile fixtures are made.

use std::io::Write;

use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

/// The mtime of every entry: 2024-01-01T00:00:00Z.
pub const FIXED_MTIME: u64 = 1_704_067_200;

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer with this compression.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Compresses `data` deterministically (gzip header mtime 0, fixed levels).
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => data.to_vec(),
            Compression::Gzip => gzip(data),
            Compression::Zstd => zstd::encode_all(data, 3).expect("zstd compression"),
        }
    }
}

/// Gzip with a zero mtime in the header, so equal input gives equal output.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip write");
    enc.finish().expect("gzip finish")
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// One tar entry of a layer.
#[derive(Clone, Debug)]
pub enum Entry {
    Dir {
        path: String,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    File {
        path: String,
        content: Vec<u8>,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    /// Deletes `path` from the layers below: written as `<dir>/.wh.<name>`.
    Whiteout {
        path: String,
    },
    /// Hides everything below `dir` in the layers below: written as `<dir>/.wh..wh..opq`.
    Opaque {
        dir: String,
    },
    CharDevice {
        path: String,
        major: u32,
        minor: u32,
        mode: u32,
    },
    /// Name and link name copied byte for byte into an old-style header (at most 100 bytes each), unchecked.
    Raw {
        name: Vec<u8>,
        kind: EntryType,
        link: Vec<u8>,
        content: Vec<u8>,
        mode: u32,
    },
}

impl Entry {
    /// The path this entry is written at (lossy for raw entries).
    pub fn path(&self) -> String {
        match self {
            Entry::Dir { path, .. }
            | Entry::File { path, .. }
            | Entry::Symlink { path, .. }
            | Entry::Hardlink { path, .. }
            | Entry::CharDevice { path, .. } => path.clone(),
            Entry::Whiteout { path } => whiteout_path(path),
            Entry::Opaque { dir } => format!("{}/.wh..wh..opq", dir.trim_end_matches('/')),
            Entry::Raw { name, .. } => String::from_utf8_lossy(name).into_owned(),
        }
    }
}

fn whiteout_path(path: &str) -> String {
    let path = path.trim_end_matches('/');
    match path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.wh.{name}"),
        None => format!(".wh.{path}"),
    }
}

/// A layer: entries in order, and how its blob is compressed.
#[derive(Clone, Debug)]
pub struct Layer {
    pub entries: Vec<Entry>,
    pub compression: Compression,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    /// An empty, uncompressed layer.
    pub fn new() -> Self {
        Layer {
            entries: Vec::new(),
            compression: Compression::None,
        }
    }

    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    pub fn entry(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// A directory, mode 0755, owned by root.
    pub fn dir(self, path: &str) -> Self {
        self.dir_with(path, 0o755, 0, 0)
    }

    pub fn dir_with(self, path: &str, mode: u32, uid: u64, gid: u64) -> Self {
        self.entry(Entry::Dir {
            path: path.to_string(),
            mode,
            uid,
            gid,
        })
    }

    /// A regular file, mode 0644, owned by root.
    pub fn file(self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.file_with(path, content, 0o644, 0, 0)
    }

    pub fn file_with(self, path: &str, content: impl Into<Vec<u8>>, mode: u32, uid: u64, gid: u64) -> Self {
        self.entry(Entry::File {
            path: path.to_string(),
            content: content.into(),
            mode,
            uid,
            gid,
        })
    }

    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.entry(Entry::Symlink {
            path: path.to_string(),
            target: target.to_string(),
        })
    }

    pub fn hardlink(self, path: &str, target: &str) -> Self {
        self.entry(Entry::Hardlink {
            path: path.to_string(),
            target: target.to_string(),
        })
    }

    /// A whiteout deleting `path` (e.g. `etc/motd` becomes `etc/.wh.motd`).
    pub fn whiteout(self, path: &str) -> Self {
        self.entry(Entry::Whiteout {
            path: path.to_string(),
        })
    }

    /// An opaque marker for `dir` (`dir/.wh..wh..opq`).
    pub fn opaque(self, dir: &str) -> Self {
        self.entry(Entry::Opaque { dir: dir.to_string() })
    }

    pub fn char_device(self, path: &str, major: u32, minor: u32) -> Self {
        self.entry(Entry::CharDevice {
            path: path.to_string(),
            major,
            minor,
            mode: 0o666,
        })
    }

    /// An entry whose name (and link name) bytes are written unchecked.
    pub fn raw(self, name: &[u8], kind: EntryType, link: &[u8], content: &[u8]) -> Self {
        let mode = if kind == EntryType::Directory {
            0o755
        } else {
            0o644
        };
        self.entry(Entry::Raw {
            name: name.to_vec(),
            kind,
            link: link.to_vec(),
            content: content.to_vec(),
            mode,
        })
    }

    /// The uncompressed tar stream of this layer.
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in &self.entries {
            append_entry(&mut builder, entry).unwrap_or_else(|e| panic!("writing {entry:?}: {e}"));
        }
        builder.into_inner().expect("finishing layer tar")
    }

    /// The layer as stored in an image: the tar, compressed, with its digests.
    pub fn blob(&self) -> LayerBlob {
        let tar = self.tar();
        LayerBlob::from_tar(&tar, self.compression)
    }
}

/// A layer ready to be written: the compressed bytes, their digest, and the diff ID of the plain tar.
#[derive(Clone, Debug)]
pub struct LayerBlob {
    /// The blob as stored in an OCI layout (compressed as its [`Compression`] says).
    pub data: Vec<u8>,
    /// `sha256:<hex>` of `data`.
    pub digest: String,
    /// The uncompressed tar (what `docker save` writes as `layer.tar`).
    pub tar: Vec<u8>,
    /// `sha256:<hex>` of `tar`: the entry in the config's `rootfs.diff_ids`.
    pub diff_id: String,
    pub compression: Compression,
}

impl LayerBlob {
    pub fn from_tar(tar: &[u8], compression: Compression) -> Self {
        let data = compression.compress(tar);
        LayerBlob {
            digest: sha256_digest(&data),
            diff_id: sha256_digest(tar),
            tar: tar.to_vec(),
            data,
            compression,
        }
    }
}

fn base_header(kind: EntryType, mode: u32, uid: u64, gid: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(uid);
    header.set_gid(gid);
    header.set_mtime(FIXED_MTIME);
    header.set_size(0);
    header
}

fn append_entry(builder: &mut tar::Builder<Vec<u8>>, entry: &Entry) -> std::io::Result<()> {
    match entry {
        Entry::Dir { path, mode, uid, gid } => {
            let mut header = base_header(EntryType::Directory, *mode, *uid, *gid);
            let name = format!("{}/", path.trim_end_matches('/'));
            builder.append_data(&mut header, name, std::io::empty())
        }
        Entry::File {
            path,
            content,
            mode,
            uid,
            gid,
        } => {
            let mut header = base_header(EntryType::Regular, *mode, *uid, *gid);
            header.set_size(content.len() as u64);
            builder.append_data(&mut header, path, content.as_slice())
        }
        Entry::Symlink { path, target } => {
            let mut header = base_header(EntryType::Symlink, 0o777, 0, 0);
            builder.append_link(&mut header, path, target)
        }
        Entry::Hardlink { path, target } => {
            let mut header = base_header(EntryType::Link, 0o644, 0, 0);
            builder.append_link(&mut header, path, target)
        }
        Entry::Whiteout { .. } | Entry::Opaque { .. } => {
            let mut header = base_header(EntryType::Regular, 0o644, 0, 0);
            builder.append_data(&mut header, entry.path(), std::io::empty())
        }
        Entry::CharDevice {
            path,
            major,
            minor,
            mode,
        } => {
            let mut header = base_header(EntryType::Char, *mode, 0, 0);
            header.set_device_major(*major)?;
            header.set_device_minor(*minor)?;
            builder.append_data(&mut header, path, std::io::empty())
        }
        Entry::Raw {
            name,
            kind,
            link,
            content,
            mode,
        } => {
            let mut header = base_header(*kind, *mode, 0, 0);
            header.set_size(content.len() as u64);
            let old = header.as_old_mut();
            assert!(name.len() <= old.name.len(), "raw name longer than 100 bytes");
            assert!(
                link.len() <= old.linkname.len(),
                "raw link name longer than 100 bytes"
            );
            old.name[..name.len()].copy_from_slice(name);
            old.linkname[..link.len()].copy_from_slice(link);
            header.set_cksum();
            builder.append(&header, content.as_slice())
        }
    }
}

/// Lists the entry names of a tar stream (for assertions on what a command wrote).
pub fn tar_entry_names(tar: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("reading tar")
        .map(|e| {
            let e = e.expect("tar entry");
            String::from_utf8_lossy(&e.path_bytes()).into_owned()
        })
        .collect()
}
