//! Layers that try to write outside the directory they are extracted into.
//!
//! Each case aims at its own fresh directory under `/tmp` ([`Target`]), which the test creates, loads the
//! hostile image, and then checks is untouched ([`Target::assert_untouched`]). Names the `tar` crate refuses
//! (`..`, absolute paths) are written as raw header bytes ([`crate::layer::Entry::Raw`]).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tar::EntryType;

use crate::image::Image;
use crate::layer::Layer;
use crate::rootfs::busybox_builder;

/// Enough `../` to climb from any store directory to `/`.
pub const CLIMB: &str = "../../../../../../../../../../../../../../../../";

/// The content of the bait file a hardlink case points at.
pub const BAIT: &str = "bait: must stay unlinked and unchanged\n";

/// A fresh directory under `/tmp` that a hostile layer aims at; removed on drop.
pub struct Target {
    dir: PathBuf,
    bait: Option<PathBuf>,
}

impl Target {
    /// Creates `/tmp/selkie-hostile-<case>-<pid>-<n>`, empty.
    pub fn new(case: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/selkie-hostile-{case}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Target { dir, bait: None }
    }

    /// Creates [`Target::new`] holding one bait file `file` (for the hardlink case).
    pub fn with_bait(case: &str) -> Self {
        let mut target = Self::new(case);
        let bait = target.dir.join("file");
        fs::write(&bait, BAIT).expect("writing bait file");
        target.bait = Some(bait);
        target
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The target directory without its leading `/` (for climbing relative paths).
    pub fn relative(&self) -> String {
        self.dir
            .to_str()
            .expect("utf-8 target")
            .trim_start_matches('/')
            .to_string()
    }

    /// Asserts nothing was written into the target: it is empty, or holds only the bait, unchanged and
    /// with a link count of 1.
    pub fn assert_untouched(&self) {
        let mut names: Vec<String> = fs::read_dir(&self.dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        match &self.bait {
            None => assert!(
                names.is_empty(),
                "{} was written into: {names:?}",
                self.dir.display()
            ),
            Some(bait) => {
                assert_eq!(
                    names,
                    vec!["file".to_string()],
                    "{} was written into",
                    self.dir.display()
                );
                let meta = fs::symlink_metadata(bait).expect("bait metadata");
                assert_eq!(meta.nlink(), 1, "the bait {} was hard-linked", bait.display());
                assert_eq!(
                    fs::read_to_string(bait).unwrap(),
                    BAIT,
                    "the bait {} was changed",
                    bait.display()
                );
            }
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// One hostile case: a name for messages, the layer, and the entry name the error should mention.
pub struct HostileCase {
    pub name: &'static str,
    pub layer: Layer,
    /// A part of the offending entry's name that the error line must contain.
    pub entry: String,
    pub target: Target,
}

impl HostileCase {
    /// The busybox image with this hostile layer on top.
    pub fn image(&self) -> Image {
        busybox_builder().layer(self.layer.clone()).build()
    }
}

/// `../<climb>/tmp/<target>/escape`: a path climbing out of the extraction directory.
pub fn dot_dot() -> HostileCase {
    let target = Target::new("dotdot");
    let name = format!("{CLIMB}{}/escape", target.relative());
    HostileCase {
        name: "dot-dot path",
        layer: Layer::new().raw(name.as_bytes(), EntryType::Regular, b"", b"escaped\n"),
        entry: "escape".into(),
        target,
    }
}

/// `../escape`: the shortest climb, one level above the extraction directory. Its target is not under
/// `/tmp`; the test checks the store for a stray `escape` instead.
pub fn dot_dot_short() -> HostileCase {
    HostileCase {
        name: "../escape",
        layer: Layer::new().raw(b"../escape", EntryType::Regular, b"", b"escaped\n"),
        entry: "escape".into(),
        target: Target::new("dotdotshort"),
    }
}

/// `/tmp/<target>/x`: an absolute path.
pub fn absolute() -> HostileCase {
    let target = Target::new("absolute");
    let name = format!("{}/x", target.dir.display());
    HostileCase {
        name: "absolute path",
        layer: Layer::new().raw(name.as_bytes(), EntryType::Regular, b"", b"escaped\n"),
        entry: name.clone(),
        target,
    }
}

/// `link -> /tmp/<target>` then `link/pwned`: writing through an absolute symlink.
pub fn absolute_symlink() -> HostileCase {
    let target = Target::new("abssymlink");
    let link = target.dir.to_str().unwrap().to_string();
    HostileCase {
        name: "write through absolute symlink",
        layer: Layer::new().symlink("link", &link).file("link/pwned", "pwned\n"),
        entry: "link/pwned".into(),
        target,
    }
}

/// `link -> ../../…/tmp/<target>` then `link/pwned`: writing through a symlink that climbs out.
pub fn relative_symlink() -> HostileCase {
    let target = Target::new("relsymlink");
    let link = format!("{CLIMB}{}", target.relative());
    HostileCase {
        name: "write through climbing symlink",
        layer: Layer::new().symlink("link", &link).file("link/pwned", "pwned\n"),
        entry: "link".into(),
        target,
    }
}

/// `evil` hard-linked to `../../…/tmp/<target>/file`: linking a host file into the layer.
pub fn hardlink_out() -> HostileCase {
    let target = Target::with_bait("hardlink");
    let link = format!("{CLIMB}{}/file", target.relative());
    HostileCase {
        name: "hardlink to outside file",
        layer: Layer::new().raw(b"evil", EntryType::Link, link.as_bytes(), b""),
        entry: "evil".into(),
        target,
    }
}

/// Every hostile case aimed at a `/tmp` target.
pub fn all_cases() -> Vec<HostileCase> {
    vec![
        dot_dot(),
        absolute(),
        absolute_symlink(),
        relative_symlink(),
        hardlink_out(),
    ]
}
