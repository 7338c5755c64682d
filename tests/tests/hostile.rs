//! Loading archives whose layers try to write outside the store: every case must fail with one `Error: `
//! line naming the entry, write nothing outside, list no image, and leave no layer directory behind.
//!
//! Podman 4.3.1 differs: it extracts `../x` and `/abs/x` entries inside the layer (clamped to its root) and
//! loads the image; it rejects the symlink and hardlink escapes with a multi-line error. Against Podman only
//! "nothing written outside" is checked.

use std::fs;
use std::path::Path;

use harness::hostile::{self, HostileCase};
use harness::layer::Compression;
use harness::{busybox_image, is_podman, Selkie};

#[derive(Clone, Copy, Debug)]
enum Format {
    DockerArchive,
    OciArchiveGzip,
}

/// Files named `name` anywhere under `dir` (not following symlinks).
fn find_named(dir: &Path, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else { return found };
    for entry in rd {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name().to_str() == Some(name) {
            found.push(path.display().to_string());
        }
        if entry.file_type().unwrap().is_dir() {
            found.extend(find_named(&path, name));
        }
    }
    found
}

fn load_hostile(case: HostileCase, format: Format) {
    let s = Selkie::new();
    let archive = s.path("hostile.tar");
    match format {
        Format::DockerArchive => case.image().write_docker_archive(&archive, &["hostile:latest"]),
        Format::OciArchiveGzip => {
            let layered = HostileCase {
                layer: case.layer.clone().compression(Compression::Gzip),
                ..case
            };
            layered
                .image()
                .write_oci_archive(&archive, Some("hostile:latest"));
            return check(&s, &archive, &layered, format);
        }
    }
    check(&s, &archive, &case, format);
}

fn check(s: &Selkie, archive: &Path, case: &HostileCase, format: Format) {
    let out = s.run(&["load", "-i", archive.to_str().unwrap()]);
    case.target.assert_untouched();
    if is_podman() {
        eprintln!(
            "{} ({format:?}): podman exit code {}; only the target was checked",
            case.name,
            out.code()
        );
        return;
    }
    out.assert_error(125, &case.entry);
    assert!(
        s.image_ids().is_empty(),
        "{}: a hostile image was listed",
        case.name
    );
    s.run(&["image", "exists", "hostile"]).assert_code(1);
    assert_eq!(
        s.store_entries("layers"),
        Vec::<String>::new(),
        "{}: layer directories left",
        case.name
    );
    // The store is still usable.
    s.load_image(busybox_image(), &["busybox:latest"]);
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn dot_dot_entry_is_rejected() {
    load_hostile(hostile::dot_dot(), Format::DockerArchive);
    load_hostile(hostile::dot_dot(), Format::OciArchiveGzip);
}

#[test]
fn absolute_entry_is_rejected() {
    load_hostile(hostile::absolute(), Format::DockerArchive);
    load_hostile(hostile::absolute(), Format::OciArchiveGzip);
}

#[test]
fn write_through_absolute_symlink_is_rejected() {
    load_hostile(hostile::absolute_symlink(), Format::DockerArchive);
    load_hostile(hostile::absolute_symlink(), Format::OciArchiveGzip);
}

#[test]
fn write_through_climbing_symlink_is_rejected() {
    load_hostile(hostile::relative_symlink(), Format::DockerArchive);
    load_hostile(hostile::relative_symlink(), Format::OciArchiveGzip);
}

#[test]
fn hardlink_to_outside_file_is_rejected() {
    load_hostile(hostile::hardlink_out(), Format::DockerArchive);
    load_hostile(hostile::hardlink_out(), Format::OciArchiveGzip);
}

#[test]
fn one_level_dot_dot_is_rejected_and_leaves_nothing_in_the_store() {
    let case = hostile::dot_dot_short();
    let s = Selkie::new();
    let archive = s.path("hostile.tar");
    case.image().write_docker_archive(&archive, &["hostile:latest"]);
    let out = s.run(&["load", "-i", archive.to_str().unwrap()]);
    case.target.assert_untouched();
    if is_podman() {
        return;
    }
    out.assert_error(125, "../escape");
    assert_eq!(
        find_named(s.dir(), "escape"),
        Vec::<String>::new(),
        "`../escape` was written"
    );
    assert!(s.image_ids().is_empty());
}

#[test]
fn every_case_at_once_in_one_image() {
    // All hostile entries in one layer: the first one met must stop the load; none may land.
    let cases = hostile::all_cases();
    let mut layer = harness::Layer::new();
    for case in &cases {
        layer.entries.extend(case.layer.entries.iter().cloned());
    }
    let image = harness::busybox_builder().layer(layer).build();
    let s = Selkie::new();
    let archive = s.path("all.tar");
    image.write_docker_archive(&archive, &["hostile:all"]);
    let out = s.run(&["load", "-i", archive.to_str().unwrap()]);
    for case in &cases {
        case.target.assert_untouched();
    }
    if is_podman() {
        return;
    }
    out.assert_error(125, "");
    assert!(s.image_ids().is_empty());
    assert_eq!(s.store_entries("layers"), Vec::<String>::new());
}

#[test]
fn legal_symlinks_and_hardlinks_inside_the_layer_load() {
    // An absolute symlink target is fine as long as nothing is written through it, and so is a hardlink to
    // a file of the same layer.
    let image = harness::busybox_builder()
        .layer(
            harness::Layer::new()
                .symlink("abs", "/etc/passwd")
                .dir("d")
                .file("d/f", "data\n")
                .hardlink("d/g", "d/f"),
        )
        .build();
    let s = Selkie::new();
    s.load_image(&image, &["legal:1"]);
    assert_eq!(s.image_ids(), vec![image.id()]);
}
