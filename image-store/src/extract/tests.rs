use super::*;
use crate::compression::{decompress, Compression};

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;
use tar::{EntryType, Header};

/// Builds tar streams byte by byte, so that names the `tar` crate's Builder refuses can be written.
#[derive(Default)]
struct Tar(Vec<u8>);

struct E<'a> {
    name: &'a [u8],
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: &'a [u8],
    data: &'a [u8],
    dev: (u32, u32),
}

fn e(name: &str, kind: EntryType) -> E<'_> {
    E {
        name: name.as_bytes(),
        kind,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_600_000_000,
        link: b"",
        data: b"",
        dev: (0, 0),
    }
}

impl Tar {
    fn push(&mut self, e: E<'_>) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        h.set_size(e.data.len() as u64);
        h.set_device_major(e.dev.0).unwrap();
        h.set_device_minor(e.dev.1).unwrap();
        assert!(e.name.len() <= 100 && e.link.len() <= 100);
        h.as_old_mut().name[..e.name.len()].copy_from_slice(e.name);
        h.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(e.data);
        self.pad();
        self
    }

    fn pad(&mut self) {
        let rem = self.0.len() % 512;
        if rem != 0 {
            self.0.resize(self.0.len() + 512 - rem, 0);
        }
    }

    /// A PAX extended header applying to the next entry.
    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let base = k.len() + v.len() + 3; // ' ', '=', '\n'
            let mut len = base + 1;
            while len != base + len.to_string().len() {
                len = base + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.push(E {
            data: &data,
            ..e("PaxHeaders/x", EntryType::XHeader)
        })
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.push(E {
            data,
            ..e(name, EntryType::Regular)
        })
    }

    fn dir(&mut self, name: &str) -> &mut Self {
        self.push(E {
            mode: 0o755,
            ..e(name, EntryType::Directory)
        })
    }

    fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.push(E {
            mode: 0o777,
            link: target.as_bytes(),
            ..e(name, EntryType::Symlink)
        })
    }

    fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.push(E {
            link: target.as_bytes(),
            ..e(name, EntryType::Link)
        })
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.0);
        v.resize(v.len() + 1024, 0);
        v
    }
}

/// A tempdir with an empty `dest` to extract into and an `outside` sibling that must stay empty.
struct Sandbox {
    tmp: tempfile::TempDir,
    dest: PathBuf,
    outside: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let outside = tmp.path().join("outside");
        fs::create_dir(&dest).unwrap();
        fs::create_dir(&outside).unwrap();
        Sandbox { tmp, dest, outside }
    }

    fn extract(&self, tar: &[u8]) -> Result<ExtractStats, ExtractError> {
        self.extract_with(tar, &ExtractOptions::default())
    }

    fn extract_with(&self, tar: &[u8], opts: &ExtractOptions) -> Result<ExtractStats, ExtractError> {
        extract_tar(tar, &self.dest, opts)
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.dest.join(rel)
    }

    fn outside_names(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    }

    /// Only `dest` and `outside` in the tempdir, and `outside` holds exactly `expected`.
    fn assert_contained(&self, expected: &[&str]) {
        let mut top: Vec<String> = fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        top.sort();
        assert_eq!(top, ["dest", "outside"]);
        assert_eq!(self.outside_names(), expected);
    }

    /// Extraction fails with a message containing every one of `needles`, and nothing escaped.
    fn assert_rejected(&self, tar: &[u8], needles: &[&str], outside_before: &[&str]) {
        let err = self
            .extract(tar)
            .expect_err("hostile layer was accepted")
            .to_string();
        for n in needles {
            assert!(err.contains(n), "error {err:?} does not mention {n:?}");
        }
        self.assert_contained(outside_before);
    }
}

fn getxattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    let r = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return None;
    }
    buf.truncate(r as usize);
    Some(buf)
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn round_trip_of_every_type() {
    let sb = Sandbox::new();
    let mut t = Tar::default();
    t.push(E {
        mode: 0o750,
        mtime: 1_000_000_000,
        ..e("./", EntryType::Directory)
    })
    .push(E {
        mode: 0o2755,
        uid: 1000,
        gid: 1001,
        mtime: 1_100_000_000,
        ..e("./d/", EntryType::Directory)
    })
    .push(E {
        mode: 0o4755,
        uid: 1234,
        gid: 5678,
        mtime: 1_200_000_000,
        data: b"#!/bin/sh\necho hi\n",
        ..e("./d/suid", EntryType::Regular)
    })
    .pax(&[("SCHILY.xattr.user.test", b"hello"), ("mtime", b"1300000000.25")])
    .push(E {
        data: b"xattr file",
        ..e("d/x", EntryType::Regular)
    })
    .push(E {
        uid: 7,
        gid: 8,
        mtime: 1_400_000_000,
        link: b"suid",
        ..e("d/l", EntryType::Symlink)
    })
    .hardlink("d/h", "./d/suid")
    .push(E {
        mode: 0o640,
        mtime: 1_500_000_000,
        ..e("d/fifo", EntryType::Fifo)
    })
    .push(E {
        mode: 0o666,
        dev: (1, 3),
        ..e("d/null", EntryType::Char)
    })
    .push(E {
        mode: 0o660,
        dev: (7, 0),
        ..e("d/loop0", EntryType::Block)
    })
    .push(E {
        mode: 0o1777,
        mtime: 1_250_000_000,
        ..e("d/sub", EntryType::Directory)
    })
    .file("d/sub/inner", b"written after the dir mtime");
    let tar = t.finish();
    let stats = sb.extract(&tar).unwrap();
    assert_eq!(stats.entries, 11);
    assert_eq!(stats.size, tar.len() as u64);
    assert_eq!(stats.diff_id, Digest::of_bytes(&tar));

    let root = fs::metadata(&sb.dest).unwrap();
    assert_eq!(root.mode() & 0o7777, 0o750);
    assert_eq!(root.mtime(), 1_000_000_000);

    let d = fs::metadata(sb.p("d")).unwrap();
    assert!(d.is_dir());
    assert_eq!(d.mode() & 0o7777, 0o2755);
    assert_eq!(
        d.mtime(),
        1_100_000_000,
        "directory mtime is set after its children"
    );

    let suid = fs::symlink_metadata(sb.p("d/suid")).unwrap();
    assert!(suid.is_file());
    assert_eq!(suid.mode() & 0o7777, 0o4755);
    assert_eq!(suid.mtime(), 1_200_000_000);
    assert_eq!(fs::read(sb.p("d/suid")).unwrap(), b"#!/bin/sh\necho hi\n");
    if is_root() {
        assert_eq!((suid.uid(), suid.gid()), (1234, 5678));
        assert_eq!((d.uid(), d.gid()), (1000, 1001));
    }

    let h = fs::symlink_metadata(sb.p("d/h")).unwrap();
    assert_eq!(h.ino(), suid.ino());
    assert_eq!(h.nlink(), 2);

    let x = fs::symlink_metadata(sb.p("d/x")).unwrap();
    assert_eq!(x.mtime(), 1_300_000_000);
    assert_eq!(x.mtime_nsec(), 250_000_000);
    assert_eq!(
        getxattr(&sb.p("d/x"), "user.test").as_deref(),
        Some(&b"hello"[..])
    );

    let l = fs::symlink_metadata(sb.p("d/l")).unwrap();
    assert!(l.file_type().is_symlink());
    assert_eq!(fs::read_link(sb.p("d/l")).unwrap(), Path::new("suid"));
    assert_eq!(l.mtime(), 1_400_000_000);
    if is_root() {
        assert_eq!((l.uid(), l.gid()), (7, 8));
    }

    let fifo = fs::symlink_metadata(sb.p("d/fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o640);
    assert_eq!(fifo.mtime(), 1_500_000_000);

    if is_root() {
        let null = fs::symlink_metadata(sb.p("d/null")).unwrap();
        assert!(null.file_type().is_char_device());
        assert_eq!(null.rdev(), libc::makedev(1, 3));
        assert_eq!(null.mode() & 0o7777, 0o666);
        let lp = fs::symlink_metadata(sb.p("d/loop0")).unwrap();
        assert!(lp.file_type().is_block_device());
        assert_eq!(lp.rdev(), libc::makedev(7, 0));
    }

    let sub = fs::metadata(sb.p("d/sub")).unwrap();
    assert_eq!(sub.mode() & 0o7777, 0o1777);
    assert_eq!(sub.mtime(), 1_250_000_000);
    assert_eq!(
        fs::read(sb.p("d/sub/inner")).unwrap(),
        b"written after the dir mtime"
    );
    sb.assert_contained(&[]);
}

#[test]
fn ownership_not_preserved_when_asked() {
    let sb = Sandbox::new();
    let tar = Tar::default()
        .push(E {
            uid: 4242,
            gid: 4343,
            ..e("f", EntryType::Regular)
        })
        .finish();
    let opts = ExtractOptions {
        preserve_ownership: false,
        ..Default::default()
    };
    sb.extract_with(&tar, &opts).unwrap();
    let m = fs::metadata(sb.p("f")).unwrap();
    assert_eq!(m.uid(), unsafe { libc::geteuid() });
}

#[test]
fn ownership_under_a_setgid_destination() {
    if !is_root() {
        return;
    }
    let sb = Sandbox::new();
    std::os::unix::fs::chown(&sb.dest, Some(0), Some(4321)).unwrap();
    fs::set_permissions(&sb.dest, std::os::unix::fs::PermissionsExt::from_mode(0o2755)).unwrap();
    let tar = Tar::default()
        .file("f", b"")
        .dir("d/")
        .symlink("d/l", "x")
        .finish();
    sb.extract(&tar).unwrap();
    for p in ["f", "d", "d/l"] {
        assert_eq!(fs::symlink_metadata(sb.p(p)).unwrap().gid(), 0, "{p}");
    }
}

#[test]
fn long_names_and_missing_parents() {
    let sb = Sandbox::new();
    let long = format!("{}/{}", "a".repeat(120), "b".repeat(150));
    let mut builder = tar::Builder::new(Vec::new());
    let mut h = Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o600);
    h.set_entry_type(EntryType::Regular);
    builder.append_data(&mut h, &long, &b"abc"[..]).unwrap();
    let mut tar = builder.into_inner().unwrap();
    tar.truncate(tar.len() - 1024); // drop the Builder's end-of-archive blocks
                                    // No entries for the parents of this one either.
    let mut t = Tar(std::mem::take(&mut tar));
    t.file("p/q/r", b"deep")
        .dir("m/")
        .dir("m/n/")
        .file("m/n/o/p/q/r/s", b"partly there");
    let tar = t.finish();
    sb.extract(&tar).unwrap();
    assert_eq!(fs::read(sb.p(&long)).unwrap(), b"abc");
    assert_eq!(fs::read(sb.p("p/q/r")).unwrap(), b"deep");
    assert_eq!(fs::metadata(sb.p("p/q")).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(fs::read(sb.p("m/n/o/p/q/r/s")).unwrap(), b"partly there");
}

#[test]
fn compressed_layers_and_diff_id() {
    let mut t = Tar::default();
    t.dir("etc/").file("etc/hostname", b"selkie\n");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    t.file("big", &big);
    let mut tar = t.finish();
    // Padding after the end-of-archive blocks (as some writers produce) is part of the diff ID.
    tar.extend_from_slice(&[0u8; 4096]);
    let want = Digest::of_bytes(&tar);

    let gz = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&tar).unwrap();
        enc.finish().unwrap()
    };
    let zs = zstd::encode_all(&tar[..], 3).unwrap();
    for (blob, hint, comp) in [
        (&gz, Some(Compression::Gzip), Compression::Gzip),
        (&zs, Some(Compression::Gzip), Compression::Zstd), // mislabelled: the magic wins
        (&zs, None, Compression::Zstd),
        (&tar, None, Compression::None),
    ] {
        let sb = Sandbox::new();
        let (c, r) = decompress(io::BufReader::new(&blob[..]), hint).unwrap();
        assert_eq!(c, comp);
        let stats = sb.extract(&tar_reader_check(r)).unwrap();
        assert_eq!(stats.diff_id, want);
        assert_eq!(stats.size, tar.len() as u64);
        assert_eq!(fs::read(sb.p("etc/hostname")).unwrap(), b"selkie\n");
        assert_eq!(fs::read(sb.p("big")).unwrap(), big);

        // And streaming straight from the decompressor.
        let sb = Sandbox::new();
        let (_, r) = decompress(io::BufReader::new(&blob[..]), hint).unwrap();
        let stats = extract_tar(r, &sb.dest, &ExtractOptions::default()).unwrap();
        assert_eq!(stats.diff_id, want);
        assert_eq!(fs::read(sb.p("big")).unwrap(), big);
    }
}

fn tar_reader_check(mut r: Box<dyn Read + '_>) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn whiteouts_and_opaque_dirs() {
    for (format, opaque) in [
        (WhiteoutFormat::Overlay, "trusted.overlay.opaque"),
        (WhiteoutFormat::OverlayUserXattr, "user.overlay.opaque"),
    ] {
        let sb = Sandbox::new();
        let mut t = Tar::default();
        t.dir("a/")
            .file("a/b", b"the layer had this")
            .file("a/.wh.b", b"")
            .file("a/.wh.gone", b"")
            .dir("a/sub/")
            .file("a/sub/keep", b"")
            .file("a/.wh.sub", b"")
            .dir("c/")
            .file("c/.wh..wh..opq", b"")
            .file("c/new", b"1")
            .file(".wh..wh.plnk", b"")
            .file("top/.wh.x", b"");
        let tar = t.finish();
        sb.extract_with(
            &tar,
            &ExtractOptions {
                whiteouts: format,
                preserve_ownership: is_root(),
            },
        )
        .unwrap();
        for w in ["a/b", "a/gone", "a/sub", "top/x"] {
            let m = fs::symlink_metadata(sb.p(w)).unwrap();
            assert!(m.file_type().is_char_device(), "{w}");
            assert_eq!(m.rdev(), 0, "{w}");
        }
        assert_eq!(getxattr(&sb.p("c"), opaque).as_deref(), Some(&b"y"[..]));
        assert!(getxattr(&sb.p("a"), opaque).is_none());
        assert!(sb.p("c/new").exists());
        assert!(!sb.p(".wh..wh.plnk").exists());
        assert!(!sb.p("a/.wh.b").exists());
    }
}

#[test]
fn overlay_xattrs_from_the_layer_are_not_trusted() {
    let sb = Sandbox::new();
    let mut t = Tar::default();
    t.pax(&[
        ("SCHILY.xattr.trusted.overlay.redirect", b"/etc"),
        ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
    ])
    .dir("d/")
    .pax(&[("SCHILY.xattr.trusted.overlay.metacopy", b"")])
    .file("f", b"x");
    sb.extract(&t.finish()).unwrap();
    assert!(getxattr(&sb.p("d"), "trusted.overlay.redirect").is_none());
    assert_eq!(
        getxattr(&sb.p("d"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert!(getxattr(&sb.p("f"), "trusted.overlay.metacopy").is_none());
}

#[test]
fn replacing_entries() {
    let sb = Sandbox::new();
    let mut t = Tar::default();
    t.file("x", b"old")
        .hardlink("y", "x")
        .file("x", b"new") // must not write through the hardlink
        .dir("d/")
        .file("d/f", b"")
        .file("d", b"now a file") // a file replacing a directory
        .dir("keep/")
        .file("keep/child", b"c")
        .push(E {
            mode: 0o700,
            ..e("keep/", EntryType::Directory)
        }) // dir over dir keeps contents
        .symlink("s", "x")
        .file("s", b"replaced the symlink") // must not write through the symlink
        .file("t", b"")
        .symlink("t", "x") // a symlink replacing a file
        .dir("u/")
        .symlink("u", "d"); // a symlink replacing a directory
    sb.extract(&t.finish()).unwrap();
    assert_eq!(fs::read(sb.p("x")).unwrap(), b"new");
    assert_eq!(fs::read(sb.p("y")).unwrap(), b"old");
    assert_eq!(fs::read(sb.p("d")).unwrap(), b"now a file");
    assert_eq!(fs::read(sb.p("keep/child")).unwrap(), b"c");
    assert_eq!(fs::metadata(sb.p("keep")).unwrap().mode() & 0o7777, 0o700);
    assert!(fs::symlink_metadata(sb.p("s")).unwrap().is_file());
    assert_eq!(fs::read(sb.p("s")).unwrap(), b"replaced the symlink");
    assert_eq!(fs::read_link(sb.p("t")).unwrap(), Path::new("x"));
    assert_eq!(fs::read_link(sb.p("u")).unwrap(), Path::new("d"));
    assert_eq!(fs::read(sb.p("x")).unwrap(), b"new");
}

#[test]
fn deep_tree_replaced_by_a_file() {
    let sb = Sandbox::new();
    let deep = format!("{}leaf", "a/".repeat(1500));
    let mut t = Tar::default();
    t.pax(&[("path", deep.as_bytes())])
        .file("placeholder", b"deep")
        .file("a", b"flat");
    sb.extract(&t.finish()).unwrap();
    assert_eq!(fs::read(sb.p("a")).unwrap(), b"flat");
}

#[test]
fn symlinks_inside_the_layer_are_followed() {
    let sb = Sandbox::new();
    let mut t = Tar::default();
    t.dir("usr/")
        .dir("usr/lib/")
        .symlink("lib", "usr/lib")
        .file("lib/libc.so", b"elf")
        .dir("usr/bin/")
        .symlink("usr/bin/up", "../lib")
        .file("usr/bin/up/via-dotdot-symlink", b"ok")
        .symlink("abs", "/etc/passwd") // pointing anywhere is fine; only traversal is checked
        .hardlink("hl", "lib/libc.so")
        .symlink("escaping", "/etc/shadow")
        .hardlink("link-to-symlink", "escaping"); // links the symlink itself, not its target
    sb.extract(&t.finish()).unwrap();
    assert_eq!(fs::read(sb.p("usr/lib/libc.so")).unwrap(), b"elf");
    assert_eq!(fs::read(sb.p("usr/lib/via-dotdot-symlink")).unwrap(), b"ok");
    assert_eq!(fs::read_link(sb.p("abs")).unwrap(), Path::new("/etc/passwd"));
    assert_eq!(fs::symlink_metadata(sb.p("hl")).unwrap().nlink(), 2);
    let l = fs::symlink_metadata(sb.p("link-to-symlink")).unwrap();
    assert!(l.file_type().is_symlink());
    assert_eq!(l.ino(), fs::symlink_metadata(sb.p("escaping")).unwrap().ino());
    sb.assert_contained(&[]);
}

#[test]
fn rejects_dotdot_paths() {
    let sb = Sandbox::new();
    sb.assert_rejected(
        &Tar::default().file("../escape", b"x").finish(),
        &["\"../escape\"", "\"..\" component"],
        &[],
    );
    let sb = Sandbox::new();
    let tar = Tar::default().dir("a/").file("a/../../escape", b"x").finish();
    sb.assert_rejected(&tar, &["\"a/../../escape\"", "\"..\" component"], &[]);
    let sb = Sandbox::new();
    let tar = Tar::default().file("../outside/escape", b"x").finish();
    sb.assert_rejected(&tar, &["\"../outside/escape\""], &[]);
}

#[test]
fn rejects_absolute_paths() {
    let sb = Sandbox::new();
    let abs = sb.outside.join("abs");
    let name = abs.to_str().unwrap();
    let tar = Tar::default().file(name, b"x").finish();
    sb.assert_rejected(&tar, &[name, "absolute"], &[]);
}

#[test]
fn rejects_traversal_through_absolute_symlink() {
    let sb = Sandbox::new();
    let out = sb.outside.to_str().unwrap().to_string();
    let tar = Tar::default()
        .symlink("link", &out)
        .file("link/pwned", b"x")
        .finish();
    sb.assert_rejected(&tar, &["\"link/pwned\"", "resolves outside the layer"], &[]);
    // Also for directories, symlinks, devices and whiteouts under it.
    for mk in [
        |t: &mut Tar| {
            t.dir("link/pwned/");
        },
        |t: &mut Tar| {
            t.symlink("link/pwned", "x");
        },
        |t: &mut Tar| {
            t.push(E {
                ..e("link/pwned", EntryType::Fifo)
            });
        },
        |t: &mut Tar| {
            t.file("link/.wh.pwned", b"");
        },
        |t: &mut Tar| {
            t.file("link/.wh..wh..opq", b"");
        },
        |t: &mut Tar| {
            t.file("link/deeper/pwned", b"");
        },
    ] {
        let sb = Sandbox::new();
        let mut t = Tar::default();
        t.symlink("link", sb.outside.to_str().unwrap());
        mk(&mut t);
        let err = sb.extract(&t.finish()).unwrap_err().to_string();
        assert!(
            err.contains("resolves outside the layer") && err.contains("\"link/"),
            "{err}"
        );
        sb.assert_contained(&[]);
        assert!(getxattr(&sb.outside, "trusted.overlay.opaque").is_none());
    }
}

#[test]
fn rejects_traversal_through_climbing_symlink() {
    let sb = Sandbox::new();
    let tar = Tar::default()
        .symlink("link", "../../..")
        .file("link/pwned", b"x")
        .finish();
    sb.assert_rejected(&tar, &["\"link/pwned\"", "resolves outside the layer"], &[]);
    let sb = Sandbox::new();
    let tar = Tar::default()
        .symlink("link", "../outside")
        .file("link/pwned", b"x")
        .finish();
    sb.assert_rejected(&tar, &["\"link/pwned\"", "resolves outside the layer"], &[]);
    // A chain of symlinks that only escapes at its end.
    let sb = Sandbox::new();
    let tar = Tar::default()
        .dir("a/")
        .symlink("a/b", "..")
        .symlink("c", "a/b/..")
        .file("c/pwned", b"x")
        .finish();
    sb.assert_rejected(&tar, &["\"c/pwned\"", "resolves outside the layer"], &[]);
}

#[test]
fn rejects_hardlinks_outside() {
    let sb = Sandbox::new();
    fs::write(sb.outside.join("file"), b"secret").unwrap();
    let tar = Tar::default().hardlink("x", "../outside/file").finish();
    sb.assert_rejected(
        &tar,
        &["hardlink \"x\" points outside the layer (target \"../outside/file\")"],
        &["file"],
    );
    let abs = sb.outside.join("file");
    let tar = Tar::default().hardlink("y", abs.to_str().unwrap()).finish();
    sb.assert_rejected(&tar, &["hardlink \"y\" points outside the layer"], &["file"]);
    assert_eq!(fs::metadata(sb.outside.join("file")).unwrap().nlink(), 1);
    assert!(!sb.p("x").exists() && !sb.p("y").exists());
}

#[test]
fn rejects_hardlink_through_escaping_symlink() {
    let sb = Sandbox::new();
    fs::write(sb.outside.join("file"), b"secret").unwrap();
    let tar = Tar::default()
        .symlink("esc", sb.outside.to_str().unwrap())
        .hardlink("x", "esc/file")
        .finish();
    sb.assert_rejected(
        &tar,
        &["hardlink \"x\" points outside the layer (target \"esc/file\")"],
        &["file"],
    );
    let tar = Tar::default()
        .symlink("up", "../../..")
        .hardlink("x", "up/etc/passwd")
        .finish();
    let sb2 = Sandbox::new();
    sb2.assert_rejected(&tar, &["hardlink \"x\" points outside the layer"], &[]);
    assert_eq!(fs::metadata(sb.outside.join("file")).unwrap().nlink(), 1);
}

#[test]
fn rejects_symlink_replacing_a_created_directory() {
    for target in ["OUTSIDE", "../outside", "../../.."] {
        let sb = Sandbox::new();
        let out = sb.outside.to_str().unwrap().to_string();
        let target = if target == "OUTSIDE" { out.as_str() } else { target };
        let tar = Tar::default()
            .dir("d/")
            .file("d/first", b"cached parent")
            .symlink("d", target)
            .file("d/pwned", b"x")
            .finish();
        sb.assert_rejected(&tar, &["\"d/pwned\"", "resolves outside the layer"], &[]);
    }
}

#[test]
fn malformed_entries_are_errors_not_panics() {
    let sb = Sandbox::new();
    // Truncated in the middle of a file's data.
    let mut tar = Tar::default().file("f", &[7u8; 2000]).finish();
    tar.truncate(1024);
    assert!(sb.extract(&tar).is_err());
    // Bad checksum.
    let sb = Sandbox::new();
    let mut tar = Tar::default().file("f", b"x").finish();
    tar[0] = b'g';
    assert!(sb.extract(&tar).is_err());
    // Whiteout of "." and a root entry that is not a directory.
    let sb = Sandbox::new();
    let err = sb
        .extract(&Tar::default().file("a/.wh..", b"").finish())
        .unwrap_err()
        .to_string();
    assert!(err.contains("a/.wh.."), "{err}");
    let sb = Sandbox::new();
    let err = sb.extract(&Tar::default().file("./", b"").finish());
    assert!(err.is_ok() || err.unwrap_err().to_string().contains("\"./\""));
    let sb = Sandbox::new();
    let err = sb
        .extract(&Tar::default().push(e(".", EntryType::Fifo)).finish())
        .unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
    // A hardlink to something missing names both.
    let sb = Sandbox::new();
    let err = sb
        .extract(&Tar::default().hardlink("h", "nothere").finish())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"h\"") && err.contains("nothere"), "{err}");
    // A file under a regular file.
    let sb = Sandbox::new();
    let err = sb
        .extract(&Tar::default().file("f", b"").file("f/g", b"").finish())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"f/g\""), "{err}");
    // A file under a dangling symlink.
    let sb = Sandbox::new();
    let err = sb.extract(
        &Tar::default()
            .symlink("dang", "nothere")
            .file("dang/f", b"")
            .finish(),
    );
    let err = err.unwrap_err().to_string();
    assert!(err.contains("\"dang/f\"") && err.contains("dangling"), "{err}");
    // Unsupported entry type.
    let sb = Sandbox::new();
    let err = sb
        .extract(&Tar::default().push(e("v", EntryType::new(b'V'))).finish())
        .unwrap_err();
    assert!(err.to_string().contains("\"v\""), "{err}");
}

#[test]
fn pax_time_parsing() {
    let t = parse_pax_time(b"1700000000.123456789123").unwrap();
    assert_eq!((t.tv_sec, t.tv_nsec), (1_700_000_000, 123_456_789));
    let t = parse_pax_time(b"-1.25").unwrap();
    assert_eq!((t.tv_sec, t.tv_nsec), (-2, 750_000_000));
    assert!(parse_pax_time(b"").is_none());
    assert!(parse_pax_time(b"12a").is_none());
    assert!(parse_pax_time(b"99999999999999999999999").is_none());
}
