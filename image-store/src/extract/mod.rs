//! Layer extraction: an (uncompressed) OCI/Docker layer tar stream becomes a directory usable as an
//! overlayfs lowerdir.
//!
//! This runs as root on untrusted input, so every write is confined to the destination:
//!
//! * entry paths and hardlink targets with a `..` component, absolute paths and NUL bytes are
//!   rejected; `.` components and a leading `./` are dropped;
//! * the parent directory of every entry is opened with `openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_MAGICLINKS)` relative to the destination, so a symlink from the layer that points
//!   out of it (`link -> /etc`, `link -> ../../..`) makes the entry fail instead of touching the
//!   host, while symlinks that stay inside are followed as the kernel would;
//! * the last component is created relative to that directory fd with calls that never follow it
//!   (`O_CREAT|O_EXCL|O_NOFOLLOW`, `mkdirat`, `symlinkat`, `mknodat`, `linkat` without
//!   `AT_SYMLINK_FOLLOW`), after removing whatever the layer itself put there before.
//!
//! The `tar` crate only parses; nothing here calls its `unpack`.
//!
//! Whiteouts are converted to the overlayfs format: `dir/.wh.name` becomes a 0/0 character device
//! `dir/name`, `dir/.wh..wh..opq` the opaque xattr on `dir`. Overlayfs's own xattrs
//! (`trusted.overlay.*`, `user.overlay.*`) are never copied from the layer's PAX records, apart
//! from an opaque marker, which is translated like `.wh..wh..opq`.
//!
//! Speed: the diff ID is hashed on a helper thread (`hash::TeeReader`); the most recently used
//! parent directory fds are cached, so an entry usually costs no path resolution at all; files
//! already get the right owner when they are created by that owner (no `fchown` then); file data
//! is copied with a 256 KiB buffer.

mod hash;
mod sys;
#[cfg(test)]
mod tests;

use crate::digest::Digest;
use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::rc::Rc;

/// How whiteouts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhiteoutFormat {
    /// root: 0/0 char devices and `trusted.overlay.opaque=y`
    #[default]
    Overlay,
    /// rootless overlay (kernel userxattr): 0/0 char devices and `user.overlay.opaque=y`
    OverlayUserXattr,
}

impl WhiteoutFormat {
    fn opaque_xattr(self) -> &'static CStr {
        match self {
            WhiteoutFormat::Overlay => c"trusted.overlay.opaque",
            WhiteoutFormat::OverlayUserXattr => c"user.overlay.opaque",
        }
    }
}

/// What [`extract_tar`] does with ownership and whiteouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractOptions {
    pub whiteouts: WhiteoutFormat,
    /// Apply the uid/gid recorded in the layer (needs root, or a user namespace that maps them).
    pub preserve_ownership: bool,
}

impl Default for ExtractOptions {
    /// Overlay whiteouts; ownership preserved when running as root.
    fn default() -> Self {
        ExtractOptions {
            whiteouts: WhiteoutFormat::Overlay,
            preserve_ownership: unsafe { libc::geteuid() } == 0,
        }
    }
}

/// The outcome of a successful extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractStats {
    /// sha256 of the whole uncompressed stream, trailing blocks included.
    pub diff_id: Digest,
    /// Bytes in the uncompressed tar stream.
    pub size: u64,
    /// Tar entries processed (extension headers such as PAX and GNU long names not counted).
    pub entries: u64,
}

/// Why an extraction failed. Every variant about an entry names it as written in the tar.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("layer entry {entry:?} has a \"..\" component")]
    DotDot { entry: String },
    #[error("layer entry {entry:?} is an absolute path")]
    Absolute { entry: String },
    #[error("layer entry {entry:?} resolves outside the layer")]
    OutsideLayer { entry: String },
    #[error("hardlink {entry:?} points outside the layer (target {target:?})")]
    HardlinkOutside { entry: String, target: String },
    #[error("layer entry {entry:?} is invalid: {reason}")]
    Invalid { entry: String, reason: String },
    #[error("layer entry {entry:?}: {context}: {source}")]
    Entry {
        entry: String,
        context: String,
        source: io::Error,
    },
    #[error("reading the layer tar stream: {source}")]
    Read { source: io::Error },
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
}

/// Copy buffer for file contents.
const BUF_SIZE: usize = 256 * 1024;
/// Parent directory fds kept open between entries (the current directory and its ancestors, in
/// the usual depth-first tar order).
const CACHE_SLOTS: usize = 8;

/// Extracts an UNCOMPRESSED tar stream into `dest` (an existing, empty directory). The diff ID is
/// sha256 of every byte of the stream, read to EOF (including the tar's trailing zero blocks and
/// anything after them).
///
/// On error `dest` is left half-extracted: the caller must remove it. Nothing outside `dest` is
/// ever created, modified or removed, whatever the stream contains.
///
/// Directories' modes and mtimes are applied at the end, after their contents are written.
/// Character and block devices that cannot be created for lack of privilege (`EPERM`, e.g. in a
/// user namespace) are skipped, as other engines do; whiteout devices are not.
pub fn extract_tar(tar: impl Read, dest: &Path, opts: &ExtractOptions) -> Result<ExtractStats, ExtractError> {
    let root = sys::open_dir(dest).map_err(|source| ExtractError::Io {
        context: format!("opening {}", dest.display()),
        source,
    })?;
    // The diff ID is computed on a helper thread from the chunks the parser has consumed.
    let reader = hash::TeeReader::new(tar).map_err(|source| ExtractError::Io {
        context: "starting the layer hashing thread".into(),
        source,
    })?;
    let mut ex = Extractor::new(root, opts);
    let mut entries = 0u64;
    let mut archive = tar::Archive::new(reader);
    for entry in archive
        .entries()
        .map_err(|source| ExtractError::Read { source })?
    {
        let entry = entry.map_err(|source| ExtractError::Read { source })?;
        entries += 1;
        ex.entry(entry)?;
    }
    ex.finish_dirs()?;
    let (diff_id, size) = archive
        .into_inner()
        .finish()
        .map_err(|source| ExtractError::Read { source })?;
    Ok(ExtractStats {
        diff_id,
        size,
        entries,
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Metadata from an entry's header and PAX records.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: libc::timespec,
}

/// A directory whose mode and mtime are applied at the end. `path` is a range in `Extractor::dir_paths`.
struct DirMeta {
    path: (usize, usize),
    dev: u64,
    ino: u64,
    mode: u32,
    mtime: libc::timespec,
}

/// The most recently used parent directories, by normalized path.
///
/// A cached fd stays valid as long as nothing that a path resolution went through is removed:
/// creating names never changes how an existing path resolves, and only removing a directory or a
/// symlink can (files and devices are never traversed). [`Extractor::clear_name`] empties the cache
/// whenever it removes one of those. The fds were all opened beneath the destination, and the
/// destination's contents are never moved, so even a stale fd could not point outside it.
struct ParentCache {
    /// Least recently used first.
    slots: Vec<(Vec<u8>, Rc<OwnedFd>)>,
}

impl ParentCache {
    fn get(&mut self, path: &[u8]) -> Option<Rc<OwnedFd>> {
        let i = self.slots.iter().rposition(|(p, _)| p.as_slice() == path)?;
        let fd = self.slots[i].1.clone();
        if i + 1 != self.slots.len() {
            let slot = self.slots.remove(i);
            self.slots.push(slot);
        }
        Some(fd)
    }

    fn put(&mut self, path: &[u8], fd: Rc<OwnedFd>) {
        if let Some(i) = self.slots.iter().position(|(p, _)| p.as_slice() == path) {
            self.slots.remove(i);
        }
        let mut key = if self.slots.len() >= CACHE_SLOTS {
            self.slots.remove(0).0
        } else {
            Vec::new()
        };
        key.clear();
        key.extend_from_slice(path);
        self.slots.push((key, fd));
    }

    fn clear(&mut self) {
        self.slots.clear();
    }
}

/// Reusable per-entry buffers (kept apart from the extractor state so both can be borrowed).
#[derive(Default)]
struct Bufs {
    /// The entry's path as written in the tar, for messages.
    raw: Vec<u8>,
    /// Normalized path, components joined by `/`, no NUL.
    path: Vec<u8>,
    /// Parent part of `path` + NUL.
    parent_c: Vec<u8>,
    /// Last component of `path` + NUL.
    name_c: Vec<u8>,
    /// Link name as written in the tar.
    link_raw: Vec<u8>,
    /// Symlink target + NUL, or normalized hardlink target.
    link: Vec<u8>,
    link_parent_c: Vec<u8>,
    link_name_c: Vec<u8>,
    /// `SCHILY.xattr.` records: name + NUL, value. Only the first `n_xattrs` are current.
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    n_xattrs: usize,
}

/// Splits normalized `path` into NUL-terminated parent and name buffers.
fn split_into(path: &[u8], parent_c: &mut Vec<u8>, name_c: &mut Vec<u8>) {
    let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    parent_c.clear();
    parent_c.extend_from_slice(parent);
    parent_c.push(0);
    name_c.clear();
    name_c.extend_from_slice(name);
    name_c.push(0);
}

/// A buffer built by [`split_into`] or with a pushed NUL, as a `CStr`.
fn c(buf: &[u8]) -> &CStr {
    // Buffers are NUL-free before the pushed terminator (checked by `normalize`).
    CStr::from_bytes_until_nul(buf).unwrap_or(c"")
}

/// Without its NUL.
fn bytes(buf: &[u8]) -> &[u8] {
    &buf[..buf.len().saturating_sub(1)]
}

enum PathProblem {
    Absolute,
    DotDot,
    Nul,
}

/// Normalizes a layer path into `out`: `.` and empty components dropped, `..`, absolute paths and
/// NUL bytes refused. An empty result is the layer root.
fn normalize(raw: &[u8], out: &mut Vec<u8>) -> Result<(), PathProblem> {
    out.clear();
    if raw.first() == Some(&b'/') {
        return Err(PathProblem::Absolute);
    }
    if raw.contains(&0) {
        return Err(PathProblem::Nul);
    }
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err(PathProblem::DotDot),
            _ => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(comp);
            }
        }
    }
    Ok(())
}

fn path_error(p: PathProblem, raw: &[u8]) -> ExtractError {
    let entry = lossy(raw);
    match p {
        PathProblem::Absolute => ExtractError::Absolute { entry },
        PathProblem::DotDot => ExtractError::DotDot { entry },
        PathProblem::Nul => ExtractError::Invalid {
            entry,
            reason: "its path contains a NUL byte".into(),
        },
    }
}

fn entry_err(raw: &[u8], context: impl Into<String>, source: io::Error) -> ExtractError {
    ExtractError::Entry {
        entry: lossy(raw),
        context: context.into(),
        source,
    }
}

fn invalid(raw: &[u8], reason: impl Into<String>) -> ExtractError {
    ExtractError::Invalid {
        entry: lossy(raw),
        reason: reason.into(),
    }
}

/// Maps a failure to open an entry's parent directory.
fn resolve_err(raw: &[u8], source: io::Error) -> ExtractError {
    match sys::errno(&source) {
        libc::EXDEV => ExtractError::OutsideLayer { entry: lossy(raw) },
        libc::ENOTDIR => entry_err(raw, "a component of its parent path is not a directory", source),
        _ => entry_err(raw, "opening its parent directory", source),
    }
}

/// Parses a PAX time (`1700000000`, `1700000000.5`, `-1.25`).
fn parse_pax_time(v: &[u8]) -> Option<libc::timespec> {
    let (neg, v) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &v[..0]),
    };
    if int.is_empty() || int.len() > 18 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let secs = int.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
    let mut nanos = 0i64;
    for i in 0..9 {
        nanos = nanos * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
    }
    let (secs, nanos) = match (neg, nanos) {
        (false, _) => (secs, nanos),
        (true, 0) => (-secs, 0),
        (true, n) => (-secs - 1, 1_000_000_000 - n),
    };
    Some(timespec(secs, nanos))
}

fn timespec(secs: i64, nanos: i64) -> libc::timespec {
    // SAFETY: timespec is plain old data (it has private padding fields on some targets).
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    t.tv_sec = secs as libc::time_t;
    t.tv_nsec = nanos as _;
    t
}

/// What a layer entry asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Node(libc::mode_t),
}

/// Where xattrs go.
enum XattrTarget<'a> {
    Fd(RawFd),
    /// `name` in the directory `dir`, not following a symlink there.
    At(RawFd, &'a CStr),
}

struct Extractor<'o> {
    opts: &'o ExtractOptions,
    /// The uid/gid of a newly created inode, when it is known.
    new_owner: Option<(u32, u32)>,
    root: Rc<OwnedFd>,
    cache: ParentCache,
    dirs: Vec<DirMeta>,
    dir_paths: Vec<u8>,
    b: Bufs,
    copy_buf: Vec<u8>,
}

impl<'o> Extractor<'o> {
    fn new(root: OwnedFd, opts: &'o ExtractOptions) -> Self {
        // Inodes this process creates belong to its euid/egid, unless a directory has the setgid
        // bit (new names then take its group). Only the root can: the layer's directory modes
        // are applied at the very end, and mkdirat only passes setgid down from a setgid parent.
        // (With the `grpid` mount option every new name takes its directory's group: checking
        // that the root's group is ours covers that too.)
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let new_owner = match sys::fstat(root.as_raw_fd()) {
            Ok(st) if st.st_mode & libc::S_ISGID == 0 && st.st_gid == egid => Some((euid, egid)),
            _ => None,
        };
        Extractor {
            opts,
            new_owner,
            root: Rc::new(root),
            cache: ParentCache {
                slots: Vec::with_capacity(CACHE_SLOTS),
            },
            dirs: Vec::new(),
            dir_paths: Vec::new(),
            b: Bufs::default(),
            copy_buf: vec![0; BUF_SIZE],
        }
    }

    fn entry<R: Read>(&mut self, mut e: tar::Entry<'_, R>) -> Result<(), ExtractError> {
        let etype = e.header().entry_type();
        if etype.is_pax_global_extensions() {
            return Ok(());
        }
        let b = &mut self.b;
        b.raw.clear();
        b.raw.extend_from_slice(&e.path_bytes());
        normalize(&b.raw, &mut b.path).map_err(|p| path_error(p, &b.raw))?;

        let old_style_dir = e.header().as_old().linkflag[0] == 0 && b.raw.ends_with(b"/");
        let kind = match etype {
            _ if old_style_dir => Kind::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => Kind::File,
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink,
            tar::EntryType::Link => Kind::Hardlink,
            tar::EntryType::Char => Kind::Node(libc::S_IFCHR),
            tar::EntryType::Block => Kind::Node(libc::S_IFBLK),
            tar::EntryType::Fifo => Kind::Node(libc::S_IFIFO),
            other => {
                return Err(invalid(
                    &b.raw,
                    format!("unsupported tar entry type {:?}", other.as_byte() as char),
                ))
            }
        };

        let meta = self.meta(&mut e)?;
        let b = &mut self.b;
        if b.path.is_empty() {
            return match kind {
                Kind::Dir => self.root_dir(&meta),
                _ => Err(invalid(&b.raw, "the layer root must be a directory")),
            };
        }
        split_into(&b.path, &mut b.parent_c, &mut b.name_c);

        let name = bytes(&b.name_c);
        if let Some(hidden) = name.strip_prefix(b".wh.") {
            if hidden == b".wh..opq" {
                return self.opaque();
            }
            if hidden.starts_with(b".wh.") {
                // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlayfs.
                return Ok(());
            }
            if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(invalid(&b.raw, "malformed whiteout name"));
            }
            let hidden = hidden.to_vec();
            b.name_c.clear();
            b.name_c.extend_from_slice(&hidden);
            b.name_c.push(0);
            return self.whiteout(&meta);
        }

        match kind {
            Kind::File => self.file(&mut e, &meta),
            Kind::Dir => self.dir(&meta),
            Kind::Symlink => {
                self.read_link(&e)?;
                self.symlink(&meta)
            }
            Kind::Hardlink => {
                self.read_link(&e)?;
                self.hardlink()
            }
            Kind::Node(t) => self.node(&e, t, &meta),
        }
    }

    /// Reads mode, ownership, mtime and xattrs (into `self.b.xattrs`).
    fn meta<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<Meta, ExtractError> {
        let b = &mut self.b;
        let h = e.header();
        // Like Go's archive/tar, an empty (all NUL or space) numeric field reads as 0.
        let num = |what: &str, r: io::Result<u64>, field: &[u8]| match r {
            Ok(v) => Ok(v),
            Err(_) if field.iter().all(|&c| c == 0 || c == b' ') => Ok(0),
            Err(err) => Err(entry_err(&b.raw, format!("bad {what} in tar header"), err)),
        };
        let old = h.as_old();
        let mode = num("mode", h.mode().map(u64::from), &old.mode)? as u32 & 0o7777;
        let uid = num("uid", h.uid(), &old.uid)?;
        let gid = num("gid", h.gid(), &old.gid)?;
        let mtime = num("mtime", h.mtime(), &old.mtime)?;
        // u32::MAX is chown's "leave unchanged".
        let (uid, gid) = match (u32::try_from(uid), u32::try_from(gid)) {
            (Ok(u), Ok(g)) if u != u32::MAX && g != u32::MAX => (u, g),
            _ => return Err(invalid(&b.raw, format!("uid/gid {uid}/{gid} out of range"))),
        };
        let mut mtime = timespec(i64::try_from(mtime).unwrap_or(i64::MAX), 0);

        b.n_xattrs = 0;
        let exts = e
            .pax_extensions()
            .map_err(|err| entry_err(&b.raw, "reading PAX records", err))?;
        if let Some(exts) = exts {
            for ext in exts {
                let ext = ext.map_err(|err| entry_err(&b.raw, "reading PAX records", err))?;
                let key = ext.key_bytes();
                if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    if name.is_empty() || name.contains(&0) {
                        return Err(invalid(&b.raw, "malformed xattr name in PAX records"));
                    }
                    if b.xattrs.len() == b.n_xattrs {
                        b.xattrs.push(Default::default());
                    }
                    let (n, v) = &mut b.xattrs[b.n_xattrs];
                    n.clear();
                    n.extend_from_slice(name);
                    n.push(0);
                    v.clear();
                    v.extend_from_slice(ext.value_bytes());
                    b.n_xattrs += 1;
                } else if key == b"mtime" {
                    if let Some(t) = parse_pax_time(ext.value_bytes()) {
                        mtime = t;
                    }
                } else if key.starts_with(b"GNU.sparse.") {
                    return Err(invalid(&b.raw, "PAX sparse files are not supported"));
                }
            }
        }
        Ok(Meta {
            mode,
            uid,
            gid,
            mtime,
        })
    }

    /// Copies the link name into `b.link_raw`.
    fn read_link<R: Read>(&mut self, e: &tar::Entry<'_, R>) -> Result<(), ExtractError> {
        let b = &mut self.b;
        match e.link_name_bytes() {
            Some(l) if !l.is_empty() => {
                b.link_raw.clear();
                b.link_raw.extend_from_slice(&l);
                Ok(())
            }
            _ => Err(invalid(&b.raw, "link entry without a target")),
        }
    }

    /// The directory `parent` (normalized, NUL-terminated in `parent_c`) beneath the root, from the
    /// cache or by `openat2`; missing directories are created (mode 0755) when `create`.
    fn parent_fd(&mut self, parent_c: &[u8], create: bool) -> io::Result<Rc<OwnedFd>> {
        let parent = bytes(parent_c);
        if parent.is_empty() {
            return Ok(self.root.clone());
        }
        if let Some(fd) = self.cache.get(parent) {
            return Ok(fd);
        }
        let fd = match sys::open_beneath(self.root.as_raw_fd(), c(parent_c), false) {
            Ok(fd) => fd,
            Err(e) if create && sys::errno(&e) == libc::ENOENT => self.create_parents(parent)?,
            Err(e) => return Err(e),
        };
        let fd = Rc::new(fd);
        self.cache.put(parent, fd.clone());
        Ok(fd)
    }

    /// Slow path of [`Self::parent_fd`], when `parent` does not exist: finds the deepest existing
    /// prefix (by bisection, each probe an `openat2` beneath the root) and creates the rest with
    /// `mkdirat` relative to it, so nothing is followed at a name being created.
    fn create_parents(&mut self, parent: &[u8]) -> io::Result<OwnedFd> {
        let root = self.root.as_raw_fd();
        // ends[k - 1] is where the prefix of k components ends; the root is the prefix of 0.
        let ends: Vec<usize> = parent
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'/')
            .map(|(i, _)| i)
            .chain([parent.len()])
            .collect();
        let (mut lo, mut hi) = (0, ends.len()); // prefix `lo` exists, prefix `hi` does not
        let mut lo_fd: Option<OwnedFd> = None;
        let mut buf = Vec::with_capacity(parent.len() + 1);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            buf.clear();
            buf.extend_from_slice(&parent[..ends[mid - 1]]);
            buf.push(0);
            match sys::open_beneath(root, c(&buf), false) {
                Ok(fd) => (lo, lo_fd) = (mid, Some(fd)),
                Err(e) if sys::errno(&e) == libc::ENOENT => hi = mid,
                Err(e) => return Err(e),
            }
        }
        let mut cur = lo_fd;
        for k in lo..ends.len() {
            let start = if k == 0 { 0 } else { ends[k - 1] + 1 };
            buf.clear();
            buf.extend_from_slice(&parent[start..ends[k]]);
            buf.push(0);
            let name = c(&buf);
            let dir = cur.as_ref().map_or(root, |fd| fd.as_raw_fd());
            match sys::mkdirat(dir, name, 0o755) {
                // Not there for openat2, yet there for mkdirat: a dangling symlink.
                Err(e) if sys::errno(&e) == libc::EEXIST => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "{:?} is a dangling symlink",
                            String::from_utf8_lossy(&parent[..ends[k]])
                        ),
                    ))
                }
                r => r?,
            }
            let fd = sys::open_subdir(dir, name)?;
            sys::fchmod(fd.as_raw_fd(), 0o755)?;
            cur = Some(fd);
        }
        cur.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// Makes room for a new `name` in `dir`: removes what is there (a directory recursively),
    /// unless it is a directory and `keep_dir`. Returns whether a directory was kept.
    fn clear_name(&mut self, dir: RawFd, name: &CStr, keep_dir: bool) -> io::Result<bool> {
        let st = match sys::lstatat(dir, name) {
            Ok(st) => st,
            Err(e) if sys::errno(&e) == libc::ENOENT => return Ok(false),
            Err(e) => return Err(e),
        };
        if sys::is_dir(&st) {
            if keep_dir {
                return Ok(true);
            }
            // Cached fds under it would now point into a deleted tree.
            self.cache.clear();
            sys::remove_all_at(dir, name)?;
        } else {
            if sys::is_symlink(&st) {
                // Paths through this symlink may resolve differently from now on.
                self.cache.clear();
            }
            sys::unlinkat(dir, name, 0)?;
        }
        Ok(false)
    }

    /// Runs `create`; if the name exists, clears it and tries once more.
    fn create_replacing(
        &mut self,
        dir: RawFd,
        name: &CStr,
        mut create: impl FnMut() -> io::Result<()>,
    ) -> io::Result<()> {
        match create() {
            Err(e) if sys::errno(&e) == libc::EEXIST => {
                self.clear_name(dir, name, false)?;
                create()
            }
            r => r,
        }
    }

    fn entry_parent(&mut self) -> Result<Rc<OwnedFd>, ExtractError> {
        let parent_c = std::mem::take(&mut self.b.parent_c);
        let r = self.parent_fd(&parent_c, true);
        self.b.parent_c = parent_c;
        r.map_err(|err| resolve_err(&self.b.raw, err))
    }

    /// Whether ownership must be set: it is preserved, and the inode is not already owned right.
    /// A `fresh` inode (just created by this process) already has [`Extractor::new_owner`].
    fn needs_chown(&self, m: &Meta, fresh: bool) -> bool {
        self.opts.preserve_ownership && !(fresh && self.new_owner == Some((m.uid, m.gid)))
    }

    fn chown_fd(&self, fd: RawFd, m: &Meta, fresh: bool) -> Result<(), ExtractError> {
        if self.needs_chown(m, fresh) {
            sys::fchown(fd, m.uid, m.gid).map_err(|err| entry_err(&self.b.raw, "setting ownership", err))?;
        }
        Ok(())
    }

    fn chown_at(&self, dir: RawFd, name: &CStr, m: &Meta, fresh: bool) -> Result<(), ExtractError> {
        if self.needs_chown(m, fresh) {
            sys::lchownat(dir, name, m.uid, m.gid)
                .map_err(|err| entry_err(&self.b.raw, "setting ownership", err))?;
        }
        Ok(())
    }

    /// Applies the entry's `SCHILY.xattr.*` records. Overlayfs's own xattrs are not taken from the
    /// layer (they would let it redirect lookups or fake metacopy files), except an opaque marker,
    /// which is translated to the configured name like `.wh..wh..opq`.
    fn xattrs(&self, target: XattrTarget<'_>, is_dir: bool) -> Result<(), ExtractError> {
        if self.b.n_xattrs == 0 {
            return Ok(());
        }
        let proc_path = match target {
            XattrTarget::At(dir, name) => Some(sys::proc_fd_path(dir, name)),
            XattrTarget::Fd(_) => None,
        };
        for (name_c, value) in &self.b.xattrs[..self.b.n_xattrs] {
            let name = bytes(name_c);
            let (name_c, value): (&CStr, &[u8]) =
                if name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.") {
                    if is_dir && name.ends_with(b".overlay.opaque") && value.as_slice() == b"y" {
                        (self.opts.whiteouts.opaque_xattr(), b"y")
                    } else {
                        continue;
                    }
                } else {
                    (c(name_c), value)
                };
            let r = match (&target, &proc_path) {
                (XattrTarget::Fd(fd), _) => sys::fsetxattr(*fd, name_c, value),
                (XattrTarget::At(..), Some(p)) => sys::lsetxattr(p, name_c, value),
                (XattrTarget::At(..), None) => Ok(()),
            };
            if let Err(err) = r {
                if sys::errno(&err) == libc::EOPNOTSUPP && name.starts_with(b"security.") {
                    continue;
                }
                let what = format!("setting xattr {}", String::from_utf8_lossy(name_c.to_bytes()));
                return Err(entry_err(&self.b.raw, what, err));
            }
        }
        Ok(())
    }

    fn file<R: Read>(&mut self, e: &mut tar::Entry<'_, R>, m: &Meta) -> Result<(), ExtractError> {
        let parent = self.entry_parent()?;
        let dir = parent.as_raw_fd();
        let name_c = std::mem::take(&mut self.b.name_c);
        let name = c(&name_c);
        let flags = libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY;
        let mut fd = None;
        let r = self.create_replacing(dir, name, || {
            fd = Some(sys::openat(dir, name, flags, 0o600)?);
            Ok(())
        });
        self.b.name_c = name_c;
        let raw = &self.b.raw;
        r.map_err(|err| entry_err(raw, "creating file", err))?;
        let fd = fd.ok_or_else(|| invalid(raw, "file not created"))?;
        let mut f = File::from(fd);

        let want = e.size();
        let mut written = 0u64;
        let buf = &mut self.copy_buf;
        loop {
            let n = match e.read(buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(entry_err(raw, "reading file contents from the tar stream", err)),
            };
            f.write_all(&buf[..n])
                .map_err(|err| entry_err(raw, "writing file contents", err))?;
            written += n as u64;
        }
        if written != want {
            return Err(entry_err(
                raw,
                format!("file contents truncated ({written} of {want} bytes)"),
                io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        let fd = f.as_raw_fd();
        self.chown_fd(fd, m, true)?;
        sys::fchmod(fd, m.mode).map_err(|err| entry_err(&self.b.raw, "setting mode", err))?;
        self.xattrs(XattrTarget::Fd(fd), false)?;
        sys::futimens(fd, &m.mtime).map_err(|err| entry_err(&self.b.raw, "setting mtime", err))
    }

    fn dir(&mut self, m: &Meta) -> Result<(), ExtractError> {
        let parent = self.entry_parent()?;
        let dir = parent.as_raw_fd();
        let name_c = std::mem::take(&mut self.b.name_c);
        let name = c(&name_c);
        let r = (|| -> io::Result<OwnedFd> {
            match sys::mkdirat(dir, name, 0o700) {
                Err(e) if sys::errno(&e) == libc::EEXIST => {
                    if !self.clear_name(dir, name, true)? {
                        sys::mkdirat(dir, name, 0o700)?;
                    }
                }
                r => r?,
            }
            sys::open_subdir(dir, name)
        })();
        self.b.name_c = name_c;
        let fd = r.map_err(|err| entry_err(&self.b.raw, "creating directory", err))?;
        self.dir_meta(fd, m)
    }

    fn root_dir(&mut self, m: &Meta) -> Result<(), ExtractError> {
        self.b.path.clear();
        let fd = sys::openat(self.root.as_raw_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .map_err(|err| entry_err(&self.b.raw, "opening the layer root", err))?;
        self.dir_meta(fd, m)
    }

    /// Ownership and xattrs now, mode and mtime at the end; caches the directory as a parent.
    fn dir_meta(&mut self, fd: OwnedFd, m: &Meta) -> Result<(), ExtractError> {
        let raw_fd = fd.as_raw_fd();
        self.chown_fd(raw_fd, m, false)?;
        self.xattrs(XattrTarget::Fd(raw_fd), true)?;
        let st = sys::fstat(raw_fd).map_err(|err| entry_err(&self.b.raw, "stat", err))?;
        let start = self.dir_paths.len();
        self.dir_paths.extend_from_slice(&self.b.path);
        self.dirs.push(DirMeta {
            path: (start, self.dir_paths.len()),
            dev: st.st_dev,
            ino: st.st_ino,
            mode: m.mode,
            mtime: m.mtime,
        });
        if !self.b.path.is_empty() {
            self.cache.put(&self.b.path, Rc::new(fd));
        }
        Ok(())
    }

    fn symlink(&mut self, m: &Meta) -> Result<(), ExtractError> {
        let b = &mut self.b;
        if b.link_raw.contains(&0) {
            return Err(invalid(&b.raw, "symlink target contains a NUL byte"));
        }
        // Stored verbatim: where a symlink points is harmless, only traversal is guarded.
        b.link.clear();
        b.link.extend_from_slice(&b.link_raw);
        b.link.push(0);
        let parent = self.entry_parent()?;
        let dir = parent.as_raw_fd();
        let name_c = std::mem::take(&mut self.b.name_c);
        let link = std::mem::take(&mut self.b.link);
        let name = c(&name_c);
        let r = self.create_replacing(dir, name, || sys::symlinkat(c(&link), dir, name));
        self.b.link = link;
        let r = r
            .map_err(|err| entry_err(&self.b.raw, "creating symlink", err))
            .and_then(|()| {
                self.chown_at(dir, name, m, true)?;
                self.xattrs(XattrTarget::At(dir, name), false)?;
                sys::lutimensat(dir, name, &m.mtime)
                    .map_err(|err| entry_err(&self.b.raw, "setting mtime", err))
            });
        self.b.name_c = name_c;
        r
    }

    fn hardlink(&mut self) -> Result<(), ExtractError> {
        let b = &mut self.b;
        let outside = |b: &Bufs| ExtractError::HardlinkOutside {
            entry: lossy(&b.raw),
            target: lossy(&b.link_raw),
        };
        match normalize(&b.link_raw, &mut b.link) {
            Ok(()) => {}
            Err(PathProblem::Nul) => return Err(invalid(&b.raw, "hardlink target contains a NUL byte")),
            Err(_) => return Err(outside(b)),
        }
        if b.link.is_empty() {
            return Err(invalid(&b.raw, "hardlink to the layer root"));
        }
        if b.link == b.path {
            return Ok(());
        }
        split_into(&b.link, &mut b.link_parent_c, &mut b.link_name_c);

        let link_parent_c = std::mem::take(&mut self.b.link_parent_c);
        let r = self.parent_fd(&link_parent_c, false);
        self.b.link_parent_c = link_parent_c;
        let target_dir = r.map_err(|err| match sys::errno(&err) {
            libc::EXDEV => outside(&self.b),
            _ => entry_err(
                &self.b.raw,
                format!(
                    "opening the directory of hardlink target {:?}",
                    lossy(&self.b.link_raw)
                ),
                err,
            ),
        })?;
        let parent = self.entry_parent()?;
        let (tdir, dir) = (target_dir.as_raw_fd(), parent.as_raw_fd());

        let name_c = std::mem::take(&mut self.b.name_c);
        let tname_c = std::mem::take(&mut self.b.link_name_c);
        let (name, tname) = (c(&name_c), c(&tname_c));
        let r = match sys::linkat(tdir, tname, dir, name) {
            Err(e) if sys::errno(&e) == libc::EEXIST => {
                // Already the same inode (the entry repeated)? Then there is nothing to do.
                match (sys::lstatat(tdir, tname), sys::lstatat(dir, name)) {
                    (Ok(a), Ok(b)) if a.st_dev == b.st_dev && a.st_ino == b.st_ino => Ok(()),
                    _ => self
                        .clear_name(dir, name, false)
                        .and_then(|_| sys::linkat(tdir, tname, dir, name)),
                }
            }
            r => r,
        };
        self.b.name_c = name_c;
        self.b.link_name_c = tname_c;
        r.map_err(|err| {
            let what = match sys::errno(&err) {
                libc::ENOENT => "its target does not exist",
                libc::EPERM => "its target is a directory or cannot be linked",
                _ => "creating hardlink",
            };
            entry_err(
                &self.b.raw,
                format!("{what} (target {:?})", lossy(&self.b.link_raw)),
                err,
            )
        })
    }

    fn node<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        t: libc::mode_t,
        m: &Meta,
    ) -> Result<(), ExtractError> {
        let dev = if t == libc::S_IFIFO {
            0
        } else {
            let h = e.header();
            match (h.device_major(), h.device_minor()) {
                (Ok(Some(ma)), Ok(Some(mi))) => libc::makedev(ma, mi),
                (Ok(None), _) | (_, Ok(None)) => libc::makedev(0, 0),
                (Err(err), _) | (_, Err(err)) => {
                    return Err(entry_err(&self.b.raw, "bad device number in tar header", err))
                }
            }
        };
        let parent = self.entry_parent()?;
        let dir = parent.as_raw_fd();
        let name_c = std::mem::take(&mut self.b.name_c);
        let name = c(&name_c);
        let r = self.create_replacing(dir, name, || sys::mknodat(dir, name, t | 0o600, dev));
        let r = match r {
            // Unprivileged (e.g. in a user namespace): devices cannot be made; skip them.
            Err(err) if sys::errno(&err) == libc::EPERM && t != libc::S_IFIFO => {
                self.b.name_c = name_c;
                return Ok(());
            }
            r => r.map_err(|err| entry_err(&self.b.raw, "creating device node or FIFO", err)),
        };
        let r = r.and_then(|()| {
            self.chown_at(dir, name, m, true)?;
            sys::fchmodat(dir, name, m.mode).map_err(|err| entry_err(&self.b.raw, "setting mode", err))?;
            self.xattrs(XattrTarget::At(dir, name), false)?;
            sys::lutimensat(dir, name, &m.mtime).map_err(|err| entry_err(&self.b.raw, "setting mtime", err))
        });
        self.b.name_c = name_c;
        r
    }

    /// `dir/.wh.name`: a 0/0 character device at `dir/name` (in `b.name_c`), replacing what the
    /// layer itself had there.
    fn whiteout(&mut self, m: &Meta) -> Result<(), ExtractError> {
        let parent = self.entry_parent()?;
        let dir = parent.as_raw_fd();
        let name_c = std::mem::take(&mut self.b.name_c);
        let name = c(&name_c);
        let r = self
            .clear_name(dir, name, false)
            .and_then(|_| sys::mknodat(dir, name, libc::S_IFCHR, libc::makedev(0, 0)))
            .map_err(|err| entry_err(&self.b.raw, "creating whiteout device", err))
            .and_then(|()| self.chown_at(dir, name, m, true));
        self.b.name_c = name_c;
        r
    }

    /// `dir/.wh..wh..opq`: marks `dir` opaque.
    fn opaque(&mut self) -> Result<(), ExtractError> {
        let parent = self.entry_parent()?;
        sys::fsetxattr(parent.as_raw_fd(), self.opts.whiteouts.opaque_xattr(), b"y")
            .map_err(|err| entry_err(&self.b.raw, "marking directory opaque", err))
    }

    /// Applies directories' modes and mtimes, now that their contents are written. A directory
    /// that a later entry replaced (different inode at that path, or no directory any more) is
    /// skipped.
    fn finish_dirs(&mut self) -> Result<(), ExtractError> {
        let mut path_c = Vec::new();
        for d in &self.dirs {
            let path = &self.dir_paths[d.path.0..d.path.1];
            let opened;
            let fd = if path.is_empty() {
                self.root.as_raw_fd()
            } else {
                path_c.clear();
                path_c.extend_from_slice(path);
                path_c.push(0);
                match sys::open_beneath(self.root.as_raw_fd(), c(&path_c), true) {
                    Ok(fd) => {
                        opened = fd;
                        opened.as_raw_fd()
                    }
                    Err(err)
                        if matches!(
                            sys::errno(&err),
                            libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::EXDEV
                        ) =>
                    {
                        continue
                    }
                    Err(err) => return Err(entry_err(path, "reopening directory to set its mode", err)),
                }
            };
            let res = (|| {
                let st = sys::fstat(fd)?;
                if st.st_dev != d.dev || st.st_ino != d.ino {
                    return Ok(());
                }
                sys::fchmod(fd, d.mode)?;
                sys::futimens(fd, &d.mtime)
            })();
            res.map_err(|err| entry_err(path, "setting directory mode and mtime", err))?;
        }
        Ok(())
    }
}
