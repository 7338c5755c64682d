//! `cp`: files between a container and the host (or a tar stream, or another container), for running
//! and stopped containers, with `podman cp`'s placement rules.
//!
//! Every container-side step runs in a child whose root is the container's root ([`super::fsview`]),
//! so a container's symlinks (`/escape -> /`, `/tmp/link -> /etc`) resolve inside the container, as the
//! container itself would resolve them, and never onto the host. The two sides exchange a tar stream
//! over a pipe: the sending side [`pack`]s (walking with descriptors, never following a symlink below
//! the source), the receiving side [`unpack`]s. Unpacking creates each entry relative to a directory
//! descriptor, opening every parent component with `O_NOFOLLOW`, so a stream that holds `link -> /etc`
//! then `link/passwd` fails rather than writing through the link, on the host or in the container.
//!
//! Placement (the receiving side decides, from the first entry and the destination):
//! - a file onto a missing path creates it (its parent must exist), onto a file overwrites it, into a
//!   directory lands inside it; a destination ending in `/` must be an existing directory;
//! - a directory onto a missing path creates it with the source's contents, into an existing directory
//!   lands inside it as `DEST/NAME`; `SRC/.` copies the contents into DEST;
//! - replacing a directory with a non-directory (or the reverse) needs `--overwrite`.
//!
//! Ownership: with `--archive` (the default, as Podman) the copied files belong to the destination's
//! user — the container's user (`process.user` of its spec) for a copy into it, the calling user for a
//! copy onto the host; without it, they keep the owners recorded in the stream.

use super::fsview::{self, ContainerRoot};
use super::lifecycle;
use super::paths::ContainerPaths;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{Mode, SFlag};
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// One side of a copy.
#[derive(Debug, Clone)]
pub enum Location {
    Host(PathBuf),
    /// `-`: a tar stream on stdin (source) or stdout (destination).
    Stream,
    Container {
        rec: Box<ContainerRecord>,
        path: String,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct CopyOptions {
    /// Chown to the destination's user (default true, as Podman).
    pub archive: bool,
    /// Replace a directory with a non-directory and the reverse.
    pub overwrite: bool,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            archive: true,
            overwrite: false,
        }
    }
}

/// Parses `CONTAINER:PATH`, a host path or `-`. A host path containing `:` can be given as `./a:b`
/// or as an absolute path.
pub fn parse_location(engine: &Engine, arg: &str) -> Result<Location> {
    if arg == "-" {
        return Ok(Location::Stream);
    }
    if !arg.starts_with('/') && !arg.starts_with('.') {
        if let Some((name, path)) = arg.split_once(':') {
            if !name.is_empty() {
                let rec = Box::new(lifecycle::find(engine, name)?);
                let path = if path.starts_with('/') {
                    path.to_string()
                } else {
                    format!("/{path}")
                };
                return Ok(Location::Container { rec, path });
            }
        }
    }
    Ok(Location::Host(PathBuf::from(arg)))
}

/// Copies `src` to `dst` (at least one of them a container).
pub fn copy(engine: &Engine, src: &Location, dst: &Location, opts: CopyOptions) -> Result<()> {
    use Location::*;
    match (src, dst) {
        (Container { rec: a, .. }, Container { rec: b, .. }) if a.id == b.id => {
            return Err(Error::InvalidInput(format!(
                "copying within one container is not supported: use exec {} cp",
                a.name
            )))
        }
        (Container { .. }, _) | (_, Container { .. }) => {}
        _ => {
            return Err(Error::InvalidInput(
                "copying between two host paths is not supported: one side must be CONTAINER:PATH".into(),
            ))
        }
    }
    // The receiving side's owner, decided before anything runs.
    let owner = match dst {
        _ if !opts.archive => None,
        Container { rec, .. } => Some(container_user(engine, rec)?),
        _ => Some((nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())),
    };
    let unpack_opts = UnpackOptions {
        owner,
        overwrite: opts.overwrite,
    };
    let (read_end, write_end) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| io_err("creating a pipe", e.into()))?;

    // The sender.
    let sender = match src {
        Container { rec, path } => {
            let root = fsview::container_root(engine, rec)?;
            let spec = SourceSpec::parse(path);
            let label = format!("on container {}", rec.name);
            let child = fsview::spawn(&root, &[&write_end], || {
                let w = File::from(write_end.try_clone().map_err(|e| e.to_string())?);
                send(&spec, w, &label)
            })?;
            Sender::Child(child, root)
        }
        Host(path) => Sender::Host(SourceSpec::parse(&path.to_string_lossy())),
        Stream => Sender::Stdin,
    };

    // The receiver.
    let placement = |path: &str| -> Placement {
        let src_contents = match src {
            Stream => true,
            Container { path, .. } => SourceSpec::parse(path).contents,
            Host(p) => SourceSpec::parse(&p.to_string_lossy()).contents,
        };
        Placement::new(path, src_contents, matches!(src, Stream))
    };
    let receiver = match dst {
        Container { rec, path } => {
            let root = fsview::container_root(engine, rec)?;
            let place = placement(path);
            let label = format!("on container {}", rec.name);
            let child = fsview::spawn(&root, &[&read_end], || {
                let r = File::from(read_end.try_clone().map_err(|e| e.to_string())?);
                unpack(r, &place, &unpack_opts, &label)
            })?;
            Receiver::Child(child, root)
        }
        Host(p) => Receiver::Host(placement(&p.to_string_lossy())),
        Stream => Receiver::Stdout,
    };

    // The parent's own side(s), then the children's outcomes.
    let mut first_error: Option<String> = None;
    match (&sender, &receiver) {
        (Sender::Child(..), Receiver::Child(..)) => {
            drop(read_end);
            drop(write_end);
        }
        (_, Receiver::Child(..)) => {
            drop(read_end);
            let w = File::from(write_end);
            let r = match &sender {
                Sender::Host(spec) => send(spec, w, "on the host"),
                Sender::Stdin => {
                    let mut w = w;
                    io::copy(&mut io::stdin().lock(), &mut w)
                        .map(|_| ())
                        .map_err(|e| format!("copying the tar stream from stdin: {e}"))
                }
                Sender::Child(..) => unreachable!(),
            };
            if let Err(e) = r {
                first_error.get_or_insert(e);
            }
        }
        (Sender::Child(..), _) => {
            drop(write_end);
            let r = File::from(read_end);
            let result = match &receiver {
                Receiver::Host(place) => unpack(r, place, &unpack_opts, "on the host"),
                Receiver::Stdout => {
                    let mut r = r;
                    let mut out = io::stdout().lock();
                    io::copy(&mut r, &mut out)
                        .and_then(|_| out.flush())
                        .map_err(|e| format!("writing the tar stream to stdout: {e}"))
                }
                Receiver::Child(..) => unreachable!(),
            };
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        _ => unreachable!("one side is a container"),
    }
    // A child's own error explains a broken pipe on the other side: it goes first.
    let mut child_error = None;
    if let Sender::Child(child, root) = sender {
        if let Err(e) = child.wait() {
            child_error.get_or_insert(e);
        }
        drop(root);
    }
    if let Receiver::Child(child, root) = receiver {
        if let Err(e) = child.wait() {
            child_error.get_or_insert(e);
        }
        drop(root);
    }
    match child_error.or(first_error) {
        None => Ok(()),
        Some(msg) => Err(Error::InvalidInput(msg)),
    }
}

enum Sender {
    Child(fsview::ViewChild, ContainerRoot),
    Host(SourceSpec),
    Stdin,
}

enum Receiver {
    Child(fsview::ViewChild, ContainerRoot),
    Host(Placement),
    Stdout,
}

/// The uid and gid of the container's process (its spec's `process.user`).
fn container_user(engine: &Engine, rec: &ContainerRecord) -> Result<(u32, u32)> {
    let p = ContainerPaths::new(engine.store.root(), &rec.id).config_json();
    let spec: oci_spec::runtime::Spec = serde_json::from_slice(
        &std::fs::read(&p).map_err(|e| io_err(&format!("reading {}", p.display()), e))?,
    )
    .map_err(|e| Error::Config(format!("{} is unreadable: {e}", p.display())))?;
    Ok(spec
        .process()
        .as_ref()
        .map(|pr| (pr.user().uid(), pr.user().gid()))
        .unwrap_or((0, 0)))
}

/// A source path as given: `DIR/.` means "the contents of DIR"; a trailing `/` follows a final symlink.
#[derive(Debug, Clone)]
struct SourceSpec {
    path: PathBuf,
    contents: bool,
    follow: bool,
}

impl SourceSpec {
    fn parse(s: &str) -> SourceSpec {
        let contents = s == "." || s.ends_with("/.");
        let follow = contents || s.ends_with('/');
        let trimmed = s.trim_end_matches("/.").trim_end_matches('/');
        SourceSpec {
            path: PathBuf::from(if trimmed.is_empty() { "/" } else { trimmed }),
            contents,
            follow,
        }
    }
}

/// Packs the source into `w` as a tar stream: the source itself under its base name, or with
/// `contents` the entries of the directory relative to it.
fn send(spec: &SourceSpec, w: File, label: &str) -> std::result::Result<(), String> {
    let not_found = |e: io::Error| format!("{:?} could not be found {label}: {e}", spec.path.display());
    let meta = if spec.follow {
        std::fs::metadata(&spec.path)
    } else {
        std::fs::symlink_metadata(&spec.path)
    }
    .map_err(not_found)?;
    let mut b = tar::Builder::new(io::BufWriter::with_capacity(256 * 1024, w));
    let packer = Packer {
        one_file_system: false,
        overlay_whiteouts: false,
        root_dev: 0,
    };
    let fail = |e: io::Error| format!("copying {} {label}: {e}", spec.path.display());
    if spec.contents {
        if !meta.is_dir() {
            return Err(format!("{} {label} is not a directory", spec.path.display()));
        }
        let dir = open_dir(&spec.path).map_err(fail)?;
        packer
            .append_children(&mut b, dir.as_fd(), Path::new(""))
            .map_err(fail)?;
    } else {
        // With a trailing `/` the final symlink is followed: what it points to goes under its name.
        let real = if spec.follow {
            std::fs::canonicalize(&spec.path).map_err(fail)?
        } else {
            spec.path.clone()
        };
        let (parent, name) = split_parent(&real);
        let dir = open_dir(&parent).map_err(fail)?;
        packer
            .append(&mut b, dir.as_fd(), &name, &entry_name(&spec.path))
            .map_err(fail)?;
    }
    b.into_inner().and_then(|mut w| w.flush()).map_err(fail)
}

/// The tar name of the top entry for `path`: its base name (`.` for `/`).
fn entry_name(path: &Path) -> PathBuf {
    path.file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The parent directory and base name of `path` (`/` and `.` for the root).
fn split_parent(path: &Path) -> (PathBuf, OsString) {
    match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) => (
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            },
            n.to_os_string(),
        ),
        _ => (path.to_path_buf(), OsString::from(".")),
    }
}

fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io::Error::from)
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a file name"))
}

/// Walks a tree with descriptors (each component opened relative to its parent, never through a
/// symlink) and appends it to a tar stream.
pub(crate) struct Packer {
    /// Do not descend into directories on another filesystem than `root_dev` (export of a running
    /// container: its /proc, /sys and volumes are not its root filesystem).
    pub one_file_system: bool,
    /// The tree is an overlay upper directory: 0/0 character devices become `.wh.NAME` entries and
    /// opaque directories get a `.wh..wh..opq` entry (OCI layer format).
    pub overlay_whiteouts: bool,
    pub root_dev: u64,
}

impl Packer {
    /// Appends every entry of the directory `dir`, named below `prefix`.
    pub(crate) fn append_children<W: Write>(
        &self,
        b: &mut tar::Builder<W>,
        dir: BorrowedFd,
        prefix: &Path,
    ) -> io::Result<()> {
        let mut names: Vec<OsString> = nix::dir::Dir::from_fd(dup(dir)?)
            .map_err(io::Error::from)?
            .iter()
            .filter_map(|e| e.ok())
            .map(|e| OsString::from_vec(e.file_name().to_bytes().to_vec()))
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        for n in names {
            self.append(b, dir, &n, &prefix.join(&n))?;
        }
        Ok(())
    }

    /// Appends the entry `name` of directory `dir` as `as_path`, and everything below it.
    pub(crate) fn append<W: Write>(
        &self,
        b: &mut tar::Builder<W>,
        dir: BorrowedFd,
        name: &OsStr,
        as_path: &Path,
    ) -> io::Result<()> {
        let c = cstr(name)?;
        let st = nix::sys::stat::fstatat(dir, c.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let kind = st.st_mode & libc::S_IFMT;
        let mut h = tar::Header::new_gnu();
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(st.st_uid as u64);
        h.set_gid(st.st_gid as u64);
        h.set_mtime(st.st_mtime.max(0) as u64);
        h.set_size(0);
        match kind {
            libc::S_IFDIR => {
                h.set_entry_type(tar::EntryType::Directory);
                if as_path != Path::new(".") && !as_path.as_os_str().is_empty() {
                    b.append_data(&mut h, as_path, io::empty())?;
                }
                if self.one_file_system && st.st_dev != self.root_dev {
                    return Ok(());
                }
                let sub = nix::fcntl::openat(
                    dir,
                    c.as_c_str(),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                if self.overlay_whiteouts && is_opaque(sub.as_fd()) {
                    let mut wh = tar::Header::new_gnu();
                    wh.set_mode(0o644);
                    wh.set_size(0);
                    wh.set_entry_type(tar::EntryType::Regular);
                    b.append_data(&mut wh, as_path.join(".wh..wh..opq"), io::empty())?;
                }
                self.append_children(b, sub.as_fd(), as_path)
            }
            libc::S_IFREG => {
                let fd = nix::fcntl::openat(
                    dir,
                    c.as_c_str(),
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
                    Mode::empty(),
                )?;
                let f = File::from(fd);
                let size = f.metadata()?.len();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(size);
                // A file that shrinks while read is padded, so the stream stays well-formed.
                b.append_data(&mut h, as_path, f.take(size).chain(io::repeat(0)).take(size))
            }
            libc::S_IFLNK => {
                let target = nix::fcntl::readlinkat(dir, c.as_c_str())?;
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, as_path, Path::new(&target))
            }
            libc::S_IFCHR if self.overlay_whiteouts && st.st_rdev == 0 => {
                let mut wh = tar::Header::new_gnu();
                wh.set_mode(0o644);
                wh.set_size(0);
                wh.set_mtime(st.st_mtime.max(0) as u64);
                wh.set_entry_type(tar::EntryType::Regular);
                let mut wh_name = OsString::from(".wh.");
                wh_name.push(name);
                let path = as_path
                    .parent()
                    .map(|p| p.join(&wh_name))
                    .unwrap_or(wh_name.into());
                b.append_data(&mut wh, path, io::empty())
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                h.set_entry_type(match kind {
                    libc::S_IFCHR => tar::EntryType::Char,
                    libc::S_IFBLK => tar::EntryType::Block,
                    _ => tar::EntryType::Fifo,
                });
                if kind != libc::S_IFIFO {
                    h.set_device_major(libc::major(st.st_rdev))?;
                    h.set_device_minor(libc::minor(st.st_rdev))?;
                }
                b.append_data(&mut h, as_path, io::empty())
            }
            // Sockets have no tar form.
            _ => Ok(()),
        }
    }
}

fn dup(fd: BorrowedFd) -> io::Result<OwnedFd> {
    fd.try_clone_to_owned()
}

/// `trusted.overlay.opaque=y` (root) or `user.overlay.opaque=y` (rootless) on an open directory.
pub(crate) fn is_opaque(dir: BorrowedFd) -> bool {
    [c"trusted.overlay.opaque", c"user.overlay.opaque"]
        .iter()
        .any(|name| {
            let mut buf = [0u8; 4];
            // SAFETY: a valid descriptor, a NUL-terminated name and a writable buffer of the given length.
            let n = unsafe {
                libc::fgetxattr(dir.as_raw_fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
            };
            n == 1 && buf[0] == b'y'
        })
}

/// Where the received entries go.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    dest: PathBuf,
    /// The destination was written with a trailing `/` (it must be a directory).
    dir_wanted: bool,
    /// The stream holds a directory's contents (`SRC/.`, or a stream from stdin) rather than one item.
    contents: bool,
    /// The destination directory must exist already (a stream from stdin).
    must_exist: bool,
}

impl Placement {
    fn new(dest: &str, contents: bool, stream: bool) -> Placement {
        Placement {
            dest: PathBuf::from(if dest.is_empty() { "." } else { dest }),
            dir_wanted: dest.ends_with('/') || dest.ends_with("/."),
            contents,
            must_exist: stream,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UnpackOptions {
    /// Owner of every created entry; `None` keeps the stream's.
    pub owner: Option<(u32, u32)>,
    pub overwrite: bool,
}

/// Where the stream's entries land: entries are created relative to `dir`; with `rename`, the first
/// component of every entry is replaced by that name.
struct Target {
    dir: OwnedFd,
    rename: Option<OsString>,
    /// Without `rename` for a single item: its name, which every entry must start with.
    top: Option<OsString>,
}

/// Unpacks a tar stream according to `place` (see the module's placement rules).
pub(crate) fn unpack(
    r: impl Read,
    place: &Placement,
    opts: &UnpackOptions,
    label: &str,
) -> std::result::Result<(), String> {
    let dest = &place.dest;
    let show = dest.display();
    let mut archive = tar::Archive::new(io::BufReader::with_capacity(256 * 1024, r));
    let entries = archive
        .entries()
        .map_err(|e| format!("reading the tar stream: {e}"))?;
    let mut target: Option<Target> = None;
    let mut cache = ParentCache::default();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("reading the tar stream: {e}"))?;
        let raw = entry
            .path()
            .map_err(|e| format!("reading the tar stream: {e}"))?
            .into_owned();
        let comps = normal_components(&raw).map_err(|e| format!("tar entry {}: {e}", raw.display()))?;
        if comps.is_empty() {
            continue; // `.` or `./`
        }
        let is_dir = entry.header().entry_type().is_dir();
        let t = match &mut target {
            Some(t) => t,
            None => {
                let mut t =
                    plan(place, is_dir, opts.overwrite).map_err(|e| format!("{e} ({show} {label})"))?;
                if t.rename.is_none() && !place.contents {
                    t.top = Some(comps[0].clone());
                }
                target.insert(t)
            }
        };
        let mut comps = comps;
        match (&t.rename, &t.top) {
            (Some(new), _) => comps[0] = new.clone(),
            // One item was sent: every entry lies below its name.
            (None, Some(top)) if &comps[0] != top => {
                return Err(format!("tar entry {} is outside the copied item", raw.display()))
            }
            _ => {}
        }
        let (last, parents) = comps.split_last().expect("not empty");
        let parent = cache
            .open(t.dir.as_fd(), parents)
            .map_err(|e| format!("copying {} to {show} {label}: {e}", raw.display()))?;
        let link_target = match entry.header().entry_type() {
            tar::EntryType::Link => {
                let l = entry
                    .link_name()
                    .map_err(|e| format!("tar entry {}: {e}", raw.display()))?
                    .ok_or_else(|| format!("hardlink {} has no target", raw.display()))?;
                let mut lc = normal_components(&l).map_err(|e| format!("hardlink {}: {e}", raw.display()))?;
                if lc.is_empty() {
                    return Err(format!("hardlink {} has an empty target", raw.display()));
                }
                if let Some(new) = &t.rename {
                    lc[0] = new.clone();
                }
                Some(lc)
            }
            _ => None,
        };
        let parent_fd = parent.try_clone_to_owned().map_err(|e| e.to_string())?;
        create_entry(
            &mut entry,
            parent_fd.as_fd(),
            last,
            link_target,
            t.dir.as_fd(),
            opts,
        )
        .map_err(|e| format!("copying {} to {show} {label}: {e}", raw.display()))?;
    }
    if target.is_none() && !place.contents {
        return Err(format!(
            "nothing to copy to {show} {label}: the tar stream is empty"
        ));
    }
    Ok(())
}

/// Decides where the entries go, from the destination and the kind of the first entry.
fn plan(place: &Placement, first_is_dir: bool, overwrite: bool) -> io::Result<Target> {
    let dest = &place.dest;
    let meta = std::fs::metadata(dest);
    let exists_dir = meta.as_ref().is_ok_and(|m| m.is_dir());
    let missing = matches!(&meta, Err(e) if e.kind() == io::ErrorKind::NotFound);
    if let Err(e) = &meta {
        if !missing {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
    }
    let err = |kind: io::ErrorKind, msg: &str| io::Error::new(kind, msg.to_string());
    if place.contents {
        if exists_dir {
            return Ok(Target {
                dir: open_dir(dest)?,
                rename: None,
                top: None,
            });
        }
        if place.must_exist || !missing {
            return Err(err(
                io::ErrorKind::NotFound,
                "destination must be an existing directory",
            ));
        }
        std::fs::create_dir(dest)?;
        return Ok(Target {
            dir: open_dir(dest)?,
            rename: None,
            top: None,
        });
    }
    if exists_dir {
        return Ok(Target {
            dir: open_dir(dest)?,
            rename: None,
            top: None,
        });
    }
    if !missing {
        // An existing non-directory.
        if place.dir_wanted {
            return Err(err(io::ErrorKind::Other, "not a directory"));
        }
        if first_is_dir && !overwrite {
            return Err(err(
                io::ErrorKind::AlreadyExists,
                "cannot overwrite non-directory with directory (use --overwrite)",
            ));
        }
    } else if place.dir_wanted && !first_is_dir {
        return Err(err(
            io::ErrorKind::NotFound,
            "destination directory does not exist",
        ));
    }
    let (parent, name) = split_parent(dest);
    let dir = open_dir(&parent).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            err(
                io::ErrorKind::NotFound,
                &format!("parent directory {} does not exist", parent.display()),
            )
        } else {
            e
        }
    })?;
    Ok(Target {
        dir,
        rename: Some(name),
        top: None,
    })
}

/// The normal components of an entry path; `..`, absolute paths and NUL bytes are refused.
fn normal_components(p: &Path) -> io::Result<Vec<OsString>> {
    let mut out = vec![];
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "absolute path"))
            }
            Component::ParentDir => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "has a \"..\" component",
                ))
            }
        }
    }
    Ok(out)
}

/// The last parent directory opened, reused by the next entry in the same directory.
#[derive(Default)]
struct ParentCache {
    path: Vec<OsString>,
    fd: Option<OwnedFd>,
}

impl ParentCache {
    /// Opens (creating as needed) the directory `comps` below `root`, one component at a time and never
    /// through a symlink.
    fn open(&mut self, root: BorrowedFd, comps: &[OsString]) -> io::Result<BorrowedFd<'_>> {
        if self.fd.is_none() || self.path != comps {
            let mut cur = dup(root)?;
            for c in comps {
                let name = cstr(c)?;
                let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                let next = match nix::fcntl::openat(cur.as_fd(), name.as_c_str(), flags, Mode::empty()) {
                    Err(Errno::ENOENT) => {
                        nix::sys::stat::mkdirat(
                            cur.as_fd(),
                            name.as_c_str(),
                            Mode::from_bits_truncate(0o755),
                        )?;
                        nix::fcntl::openat(cur.as_fd(), name.as_c_str(), flags, Mode::empty())?
                    }
                    Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!(
                                "{} is not a directory (symlinks are not followed)",
                                c.to_string_lossy()
                            ),
                        ))
                    }
                    r => r?,
                };
                cur = next;
            }
            self.path = comps.to_vec();
            self.fd = Some(cur);
        }
        Ok(self.fd.as_ref().expect("just set").as_fd())
    }
}

/// Creates one entry `name` in `parent`, replacing what is there as the rules allow.
fn create_entry<R: Read>(
    entry: &mut tar::Entry<R>,
    parent: BorrowedFd,
    name: &OsStr,
    link: Option<Vec<OsString>>,
    root: BorrowedFd,
    opts: &UnpackOptions,
) -> io::Result<()> {
    let c = cstr(name)?;
    let h = entry.header().clone();
    let kind = h.entry_type();
    let mode = h.mode().unwrap_or(0o644) & 0o7777;
    let (uid, gid) = opts
        .owner
        .unwrap_or((h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32));
    let existing = nix::sys::stat::fstatat(parent, c.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW).ok();
    let existing_kind = existing.map(|st| st.st_mode & libc::S_IFMT);
    let is_dir = |k: Option<u32>| k == Some(libc::S_IFDIR);
    // Make room: a directory is only replaced with --overwrite; other things are replaced.
    let clear = |want_dir: bool| -> io::Result<()> {
        match existing_kind {
            None => Ok(()),
            Some(libc::S_IFDIR) if want_dir => Ok(()),
            Some(libc::S_IFDIR) if !opts.overwrite => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "cannot overwrite directory with non-directory (use --overwrite)",
            )),
            Some(libc::S_IFDIR) => remove_all_at(parent, &c),
            Some(_) if want_dir && !opts.overwrite => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "cannot overwrite non-directory with directory (use --overwrite)",
            )),
            Some(_) => Ok(nix::unistd::unlinkat(
                parent,
                c.as_c_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            )?),
        }
    };
    match kind {
        tar::EntryType::Directory => {
            clear(true)?;
            if !is_dir(existing_kind) {
                nix::sys::stat::mkdirat(parent, c.as_c_str(), Mode::from_bits_truncate(0o700))?;
            }
            chown_chmod(parent, &c, uid, gid, Some(mode))?;
        }
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            let fd = if existing_kind == Some(libc::S_IFREG) {
                // In place: a file bind-mounted into a running container cannot be replaced.
                nix::fcntl::openat(
                    parent,
                    c.as_c_str(),
                    OFlag::O_WRONLY | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?
            } else {
                clear(false)?;
                nix::fcntl::openat(
                    parent,
                    c.as_c_str(),
                    OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )?
            };
            let mut f = File::from(fd);
            io::copy(entry, &mut f)?;
            nix::unistd::fchown(&f, Some(uid.into()), Some(gid.into()))?;
            nix::sys::stat::fchmod(&f, Mode::from_bits_truncate(mode))?;
            if let Ok(mtime) = h.mtime() {
                let t = nix::sys::time::TimeSpec::new(mtime as i64, 0);
                let _ = nix::sys::stat::futimens(&f, &t, &t);
            }
        }
        tar::EntryType::Symlink => {
            clear(false)?;
            let target = entry
                .link_name()?
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "symlink without target"))?;
            nix::unistd::symlinkat(target.as_ref(), parent, c.as_c_str())?;
            chown_chmod(parent, &c, uid, gid, None)?;
        }
        tar::EntryType::Link => {
            clear(false)?;
            let link = link.expect("hardlinks carry a target");
            let (last, dirs) = link.split_last().expect("not empty");
            let mut cache = ParentCache::default();
            let from = cache.open(root, dirs)?;
            let from_name = cstr(last)?;
            nix::unistd::linkat(from, from_name.as_c_str(), parent, c.as_c_str(), AtFlags::empty())?;
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            clear(false)?;
            let (sflag, dev) = match kind {
                tar::EntryType::Char => (SFlag::S_IFCHR, dev_of(&h)),
                tar::EntryType::Block => (SFlag::S_IFBLK, dev_of(&h)),
                _ => (SFlag::S_IFIFO, 0),
            };
            nix::sys::stat::mknodat(parent, c.as_c_str(), sflag, Mode::from_bits_truncate(mode), dev)?;
            chown_chmod(parent, &c, uid, gid, Some(mode))?;
        }
        // PAX and GNU extension headers are consumed by the tar crate; anything else is skipped.
        _ => {}
    }
    Ok(())
}

fn dev_of(h: &tar::Header) -> libc::dev_t {
    let major = h.device_major().ok().flatten().unwrap_or(0);
    let minor = h.device_minor().ok().flatten().unwrap_or(0);
    libc::makedev(major, minor)
}

fn chown_chmod(parent: BorrowedFd, name: &CString, uid: u32, gid: u32, mode: Option<u32>) -> io::Result<()> {
    nix::unistd::fchownat(
        parent,
        name.as_c_str(),
        Some(uid.into()),
        Some(gid.into()),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if let Some(mode) = mode {
        nix::sys::stat::fchmodat(
            parent,
            name.as_c_str(),
            Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )?;
    }
    Ok(())
}

/// Removes `name` in `parent` and everything below it, never following a symlink.
fn remove_all_at(parent: BorrowedFd, name: &CString) -> io::Result<()> {
    let dir = nix::fcntl::openat(
        parent,
        name.as_c_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let names: Vec<CString> = nix::dir::Dir::from_fd(dup(dir.as_fd())?)?
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for n in names {
        let st = nix::sys::stat::fstatat(dir.as_fd(), n.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            remove_all_at(dir.as_fd(), &n)?;
        } else {
            nix::unistd::unlinkat(dir.as_fd(), n.as_c_str(), nix::unistd::UnlinkatFlags::NoRemoveDir)?;
        }
    }
    Ok(nix::unistd::unlinkat(
        parent,
        name.as_c_str(),
        nix::unistd::UnlinkatFlags::RemoveDir,
    )?)
}

fn io_err(context: &str, e: io::Error) -> Error {
    Error::Io {
        context: context.into(),
        source: e,
    }
}
