//! End-to-end tests of the image commands: load, save, import, images, tag, untag, image exists, rmi,
//! inspect, history. Each test has its own store; images are built by the harness from busybox.
//!
//! The expected outputs are Podman 4.3.1's, checked by running this file with
//! `SELKIE_BIN=/usr/bin/podman`; checks where selkie deliberately differs are skipped there.

use std::collections::BTreeSet;
use std::fs;

use harness::layer::Compression;
use harness::{
    busybox_builder, busybox_image, busybox_layer, full_name, rich_image, skip_on_podman, Image,
    ImageBuilder, Layer, Selkie, Table,
};
use serde_json::Value;

const BUSYBOX: &str = "busybox:latest";

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn write_docker(s: &Selkie, name: &str, image: &Image, tags: &[&str]) -> String {
    let path = s.path(name);
    image.write_docker_archive(&path, tags);
    path.to_str().unwrap().to_string()
}

fn write_oci(s: &Selkie, name: &str, image: &Image, tag: Option<&str>) -> String {
    let path = s.path(name);
    image.write_oci_archive(&path, tag);
    path.to_str().unwrap().to_string()
}

fn inspect(s: &Selkie, reference: &str) -> Value {
    let v = s.run(&["image", "inspect", reference]).success().json();
    let arr = v.as_array().expect("inspect prints a JSON array");
    assert_eq!(arr.len(), 1, "one object per image: {v}");
    arr[0].clone()
}

fn names_of(s: &Selkie) -> Vec<String> {
    let mut names = s
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .success()
        .lines();
    names.sort();
    names
}

fn loaded_line(name: &str) -> String {
    format!("Loaded image: {}", full_name(name))
}

// ---------------------------------------------------------------- load

#[test]
fn load_docker_archive_prints_full_name_and_keeps_the_config_digest_as_id() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[BUSYBOX]);
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(
        out.lines(),
        vec!["Loaded image: localhost/busybox:latest".to_string()]
    );
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    assert_eq!(s.image_id("busybox"), busybox_image().id());
}

#[test]
fn load_long_input_flag() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[BUSYBOX]);
    let out = s.run(&["load", "--input", &archive, "--quiet"]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
}

#[test]
fn load_from_stdin() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[BUSYBOX]);
    let out = s.run_stdin_file(&["load"], std::path::Path::new(&archive));
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn load_oci_archive_from_stdin() {
    let s = Selkie::new();
    let out = s.run_stdin(&["load", "-q"], &busybox_image().oci_archive(Some(BUSYBOX)));
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
}

#[test]
fn load_quiet_prints_only_the_loaded_lines() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[BUSYBOX]);
    let out = s.run(&["load", "-q", "-i", &archive]);
    out.success();
    assert_eq!(out.stdout_str(), format!("{}\n", loaded_line(BUSYBOX)));
    assert_eq!(out.stderr_str(), "", "-q prints nothing on stderr");
}

#[test]
fn load_oci_archive_keeps_manifest_digest() {
    let s = Selkie::new();
    let image = busybox_image();
    let archive = write_oci(&s, "bb-oci.tar", image, Some(BUSYBOX));
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(s.image_ids(), vec![image.id()]);
    let info = inspect(&s, "busybox");
    assert_eq!(
        info["Digest"],
        image.manifest_digest(),
        "an OCI manifest is stored as it came"
    );
    let repo_digests = info["RepoDigests"].as_array().unwrap();
    assert!(
        repo_digests.contains(&Value::from(format!(
            "localhost/busybox@{}",
            image.manifest_digest()
        ))),
        "RepoDigests: {repo_digests:?}"
    );
}

#[test]
fn load_untagged_docker_archive_prints_the_id() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[]);
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![format!("Loaded image: sha256:{}", busybox_image().id())]
    );
    let table = Table::parse(
        &s.run(&["images"]).success().stdout_str(),
        &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
    );
    assert_eq!(table.column("REPOSITORY"), vec!["<none>"]);
    assert_eq!(table.column("TAG"), vec!["<none>"]);
    assert_eq!(table.column("IMAGE ID"), vec![busybox_image().short_id()]);
}

#[test]
fn load_untagged_oci_archive_prints_the_id() {
    let s = Selkie::new();
    let archive = write_oci(&s, "bb.tar", busybox_image(), None);
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![format!("Loaded image: sha256:{}", busybox_image().id())]
    );
}

#[test]
fn load_oci_archive_with_bare_tag_names_the_repository_by_it() {
    // Podman reads an annotation `latest` as the name `latest`, giving localhost/latest:latest.
    let s = Selkie::new();
    let archive = write_oci(&s, "bb.tar", busybox_image(), Some("latest"));
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(
        out.lines(),
        vec!["Loaded image: localhost/latest:latest".to_string()]
    );
}

#[test]
fn load_gzip_compressed_docker_archive() {
    if skip_on_podman("Podman 4.3.1 cannot load a gzip-compressed docker archive") {
        return;
    }
    let s = Selkie::new();
    let path = s.path("bb.tar.gz");
    busybox_image().write_docker_archive_gz(&path, &[BUSYBOX]);
    let out = s.run(&["load", "-i", path.to_str().unwrap()]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    let s2 = Selkie::new();
    let out = s2.run_stdin_file(&["load"], &path);
    out.success();
    assert_eq!(s2.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn load_archive_with_several_tags_prints_one_line_each() {
    let s = Selkie::new();
    let archive = write_docker(&s, "rich.tar", rich_image(), &["rich:1", "example.com/rich:2"]);
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![
            "Loaded image: localhost/rich:1".to_string(),
            "Loaded image: example.com/rich:2".to_string()
        ]
    );
    assert_eq!(names_of(&s), vec!["example.com/rich:2", "localhost/rich:1"]);
    assert_eq!(s.image_ids(), vec![rich_image().id()]);
}

#[test]
fn load_docker_archive_holding_two_images() {
    let s = Selkie::new();
    let path = s.path("two.tar");
    let data = harness::image::docker_archive(&[(busybox_image(), &[BUSYBOX]), (rich_image(), &["rich:1"])]);
    fs::write(&path, data).unwrap();
    let out = s.run(&["load", "-i", path.to_str().unwrap()]);
    out.success();
    let lines: BTreeSet<String> = out.lines().into_iter().collect();
    let expected: BTreeSet<String> = [loaded_line(BUSYBOX), loaded_line("rich:1")]
        .into_iter()
        .collect();
    assert_eq!(lines, expected);
    let ids: BTreeSet<String> = s.image_ids().into_iter().collect();
    assert_eq!(
        ids,
        [busybox_image().id(), rich_image().id()].into_iter().collect()
    );
}

#[test]
fn load_layers_of_every_compression() {
    let image = busybox_builder()
        .layer(
            Layer::new()
                .compression(Compression::Gzip)
                .file("gz.txt", "gzip layer\n"),
        )
        .layer(
            Layer::new()
                .compression(Compression::Zstd)
                .file("zst.txt", "zstd layer\n"),
        )
        .layer(
            Layer::new()
                .compression(Compression::None)
                .file("plain.txt", "plain layer\n"),
        )
        .build();
    for format in ["oci", "docker"] {
        let s = Selkie::new();
        let archive = if format == "oci" {
            write_oci(&s, "c.tar", &image, Some("comp:1"))
        } else {
            write_docker(&s, "c.tar", &image, &["comp:1"])
        };
        s.run(&["load", "-i", &archive]).success();
        assert_eq!(s.image_ids(), vec![image.id()], "{format}");
        let info = inspect(&s, "comp:1");
        assert_eq!(info["RootFS"]["Type"], "layers");
        assert_eq!(
            info["RootFS"]["Layers"],
            serde_json::json!(image.diff_ids()),
            "{format}"
        );
    }
}

#[test]
fn load_layers_with_whiteouts_links_and_devices() {
    let image = busybox_builder()
        .layer(
            Layer::new()
                .dir("etc")
                .file("etc/motd", "welcome\n")
                .dir("opt")
                .dir("opt/old")
                .file("opt/old/a", "a\n")
                .file_with("opt/owned", "tester's\n", 0o600, 1000, 1000)
                .symlink("opt/link", "old/a")
                .hardlink("opt/hard", "opt/old/a"),
        )
        .layer(
            Layer::new()
                .compression(Compression::Gzip)
                .dir("etc")
                .whiteout("etc/motd")
                .dir("opt")
                .dir("opt/old")
                .opaque("opt/old")
                .file("opt/old/b", "b\n")
                .dir("dev")
                .char_device("dev/null2", 1, 3),
        )
        .build();
    let s = Selkie::new();
    let archive = write_oci(&s, "special.tar", &image, Some("special:1"));
    s.run(&["load", "-i", &archive]).success();
    assert_eq!(s.image_ids(), vec![image.id()]);
    let info = inspect(&s, "special:1");
    assert_eq!(info["RootFS"]["Layers"], serde_json::json!(image.diff_ids()));
}

#[test]
fn loading_the_same_archive_twice_keeps_one_image() {
    let s = Selkie::new();
    let archive = write_docker(&s, "bb.tar", busybox_image(), &[BUSYBOX]);
    s.run(&["load", "-i", &archive]).success();
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    assert_eq!(names_of(&s), vec![full_name(BUSYBOX)]);
}

#[test]
fn load_of_a_file_that_is_no_archive_fails() {
    let s = Selkie::new();
    let path = s.path("junk.tar");
    fs::write(&path, "this is not a tar archive\n").unwrap();
    s.run(&["load", "-i", path.to_str().unwrap()])
        .assert_error(125, "");
    assert!(s.image_ids().is_empty());
}

#[test]
fn load_of_a_missing_file_fails_naming_it() {
    let s = Selkie::new();
    s.run(&["load", "-i", "/nonexistent/archive.tar"])
        .assert_error(125, "/nonexistent/archive.tar");
}

// ---------------------------------------------------------------- save

#[test]
fn save_docker_archive_then_load_gives_the_same_image() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    let saved = s.path("saved.tar");
    s.run(&["save", "-o", saved.to_str().unwrap(), "rich:1"])
        .success();
    // A docker archive: manifest.json naming the image by its full name.
    let names = harness::layer::tar_entry_names(&fs::read(&saved).unwrap());
    assert!(names.iter().any(|n| n == "manifest.json"), "entries: {names:?}");
    let manifest: Value = {
        let mut archive = tar::Archive::new(fs::File::open(&saved).unwrap());
        let mut found = None;
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_str() == Some("manifest.json") {
                found = Some(serde_json::from_reader(&mut entry).unwrap());
            }
        }
        found.expect("manifest.json")
    };
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["localhost/rich:1"]));

    let fresh = Selkie::new();
    let out = fresh.run(&["load", "-i", saved.to_str().unwrap()]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line("rich:1")]);
    assert_eq!(fresh.image_ids(), vec![rich_image().id()]);
    assert_eq!(fresh.image_id("rich:1"), rich_image().id());
    let info = inspect(&fresh, "rich:1");
    assert_eq!(info["Config"]["Entrypoint"], serde_json::json!(["/bin/echo"]));
    assert_eq!(
        info["RootFS"]["Layers"],
        serde_json::json!(rich_image().diff_ids())
    );
}

#[test]
fn save_oci_archive_then_load_gives_the_same_image() {
    let s = Selkie::new();
    let archive = write_oci(&s, "in.tar", busybox_image(), Some(BUSYBOX));
    s.run(&["load", "-i", &archive]).success();
    let saved = s.path("saved-oci.tar");
    s.run(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        saved.to_str().unwrap(),
        "busybox",
    ])
    .success();
    let names = harness::layer::tar_entry_names(&fs::read(&saved).unwrap());
    assert!(names.iter().any(|n| n == "index.json"), "entries: {names:?}");
    assert!(names.iter().any(|n| n == "oci-layout"), "entries: {names:?}");
    let fresh = Selkie::new();
    let out = fresh.run(&["load", "-i", saved.to_str().unwrap()]);
    out.success();
    assert_eq!(out.lines(), vec![loaded_line(BUSYBOX)]);
    assert_eq!(fresh.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn save_as_oci_archive_keeps_the_id_of_an_image_loaded_from_a_docker_archive() {
    if skip_on_podman("Podman 4.3.1 rewrites the config when converting to OCI, changing the ID") {
        return;
    }
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    let saved = s.path("saved-oci.tar");
    s.run(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        saved.to_str().unwrap(),
        "rich:1",
    ])
    .success();
    let fresh = Selkie::new();
    fresh.run(&["load", "-i", saved.to_str().unwrap()]).success();
    assert_eq!(fresh.image_ids(), vec![rich_image().id()]);
}

#[test]
fn save_docker_archive_format_flag_is_accepted() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let saved = s.path("saved.tar");
    s.run(&[
        "save",
        "--format",
        "docker-archive",
        "-o",
        saved.to_str().unwrap(),
        BUSYBOX,
    ])
    .success();
    let fresh = Selkie::new();
    fresh.run(&["load", "-i", saved.to_str().unwrap()]).success();
    assert_eq!(fresh.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn save_several_images_into_one_docker_archive() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["rich:1"]);
    let saved = s.path("both.tar");
    // Without -m (--multi-image-archive) Podman takes further names as tags of the first image.
    s.run(&["save", "-m", "-o", saved.to_str().unwrap(), "busybox", "rich:1"])
        .success();
    let fresh = Selkie::new();
    fresh.run(&["load", "-i", saved.to_str().unwrap()]).success();
    let ids: BTreeSet<String> = fresh.image_ids().into_iter().collect();
    assert_eq!(
        ids,
        [busybox_image().id(), rich_image().id()].into_iter().collect()
    );
    assert_eq!(names_of(&fresh), vec![full_name(BUSYBOX), full_name("rich:1")]);
}

#[test]
fn save_by_id_then_load() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let saved = s.path("byid.tar");
    s.run(&["save", "-o", saved.to_str().unwrap(), &busybox_image().short_id()])
        .success();
    let fresh = Selkie::new();
    let out = fresh.run(&["load", "-i", saved.to_str().unwrap()]);
    // Saved by ID, the archive names nothing, as `podman save ID` writes it.
    assert_eq!(
        out.success().lines(),
        vec![format!("Loaded image: sha256:{}", busybox_image().id())]
    );
    assert_eq!(fresh.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn save_of_a_missing_image_fails() {
    let s = Selkie::new();
    let saved = s.path("x.tar");
    s.run(&["save", "-o", saved.to_str().unwrap(), "nothere"])
        .assert_error(125, "nothere: image not known");
}

#[test]
fn save_with_an_unknown_format_fails() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let saved = s.path("x.tar");
    s.run(&[
        "save",
        "--format",
        "bogus",
        "-o",
        saved.to_str().unwrap(),
        "busybox",
    ])
    .assert_error(125, "format");
}

// ---------------------------------------------------------------- import

/// The busybox rootfs as a plain tarball, as `import` takes it.
fn rootfs_tarball(s: &Selkie) -> (String, Vec<u8>) {
    let tar = busybox_layer().tar();
    let path = s.path("rootfs.tar");
    fs::write(&path, &tar).unwrap();
    (path.to_str().unwrap().to_string(), tar)
}

fn imported_id(out: &harness::Output) -> String {
    out.success();
    let last = out
        .lines()
        .last()
        .cloned()
        .expect("import prints the new image's ID");
    let id = last
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("import prints sha256:<id>, got {last:?}"));
    assert!(is_hex64(id), "{last:?}");
    id.to_string()
}

#[test]
fn import_with_changes_names_the_image_under_localhost() {
    let s = Selkie::new();
    let (path, tar) = rootfs_tarball(&s);
    let out = s.run(&[
        "import",
        &path,
        "myimg",
        "--change",
        "CMD=/bin/sh",
        "--change",
        "ENV=A=b",
        "--change",
        "WORKDIR=/tmp",
        "--change",
        "ENTRYPOINT=[\"/bin/echo\"]",
    ]);
    let id = imported_id(&out);
    assert_eq!(names_of(&s), vec!["localhost/myimg:latest"]);
    assert_eq!(s.image_id("myimg"), id);
    let info = inspect(&s, "myimg");
    assert_eq!(info["Id"], id.as_str());
    assert_eq!(info["RepoTags"], serde_json::json!(["localhost/myimg:latest"]));
    // A CMD given as a plain string is the shell form.
    assert_eq!(
        info["Config"]["Cmd"],
        serde_json::json!(["/bin/sh", "-c", "/bin/sh"])
    );
    assert_eq!(info["Config"]["Entrypoint"], serde_json::json!(["/bin/echo"]));
    assert_eq!(info["Config"]["WorkingDir"], "/tmp");
    let env: Vec<&str> = info["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"A=b"), "Env: {env:?}");
    assert_eq!(
        info["RootFS"]["Layers"],
        serde_json::json!([harness::layer::sha256_digest(&tar)])
    );
    assert_eq!(
        s.run(&["inspect", "--format", "{{.Config.Cmd}}", "myimg"])
            .success()
            .stdout_str()
            .trim(),
        "[/bin/sh -c /bin/sh]"
    );
}

#[test]
fn import_from_stdin_makes_an_unnamed_image() {
    let s = Selkie::new();
    let tar = busybox_layer().tar();
    let out = s.run_stdin(&["import", "-"], &tar);
    let id = imported_id(&out);
    assert_eq!(s.image_ids(), vec![id.clone()]);
    let table = Table::parse(
        &s.run(&["images"]).success().stdout_str(),
        &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
    );
    assert_eq!(table.column("REPOSITORY"), vec!["<none>"]);
    assert_eq!(table.column("IMAGE ID"), vec![id[..12].to_string()]);
    let info = inspect(&s, &id);
    assert_eq!(
        info["RootFS"]["Layers"],
        serde_json::json!([harness::layer::sha256_digest(&tar)])
    );
    assert_eq!(info["Os"], "linux");
    assert_eq!(info["Architecture"], harness::host_architecture());
}

#[test]
fn import_gzip_tarball_records_the_uncompressed_diff_id() {
    let s = Selkie::new();
    let tar = busybox_layer().tar();
    let path = s.path("rootfs.tar.gz");
    fs::write(&path, harness::layer::gzip(&tar)).unwrap();
    let id = imported_id(&s.run(&["import", path.to_str().unwrap(), "gz:1"]));
    let info = inspect(&s, "gz:1");
    assert_eq!(info["Id"], id.as_str());
    assert_eq!(
        info["RootFS"]["Layers"],
        serde_json::json!([harness::layer::sha256_digest(&tar)])
    );
}

#[test]
fn import_of_a_missing_file_fails() {
    let s = Selkie::new();
    s.run(&["import", "/nonexistent/rootfs.tar", "x"])
        .assert_error(125, "/nonexistent/rootfs.tar");
}

// ---------------------------------------------------------------- images

const IMAGES_HEADERS: &[&str] = &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];

#[test]
fn images_on_an_empty_store_prints_the_header_only() {
    let s = Selkie::new();
    let out = s.run(&["images"]);
    out.success();
    assert_eq!(
        out.stdout_str(),
        "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n"
    );
    assert_eq!(s.run(&["images", "-q"]).success().stdout_str(), "");
}

#[test]
fn images_table_is_aligned_like_podman() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["rich:1", "example.com/rich:2"]);
    let out = s.run(&["images"]);
    out.success();
    let table = Table::parse(&out.stdout_str(), IMAGES_HEADERS);
    assert_eq!(table.rows.len(), 3, "one row per name:\n{}", out.stdout_str());
    let mut repos = table.column("REPOSITORY");
    repos.sort();
    assert_eq!(
        repos,
        vec!["example.com/rich", "localhost/busybox", "localhost/rich"]
    );
    for (repo, (tag, id)) in table
        .column("REPOSITORY")
        .iter()
        .zip(table.column("TAG").iter().zip(table.column("IMAGE ID").iter()))
    {
        let (want_tag, want_id) = match repo.as_str() {
            "localhost/busybox" => ("latest", busybox_image().short_id()),
            "localhost/rich" => ("1", rich_image().short_id()),
            _ => ("2", rich_image().short_id()),
        };
        assert_eq!((tag.as_str(), id.as_str()), (want_tag, want_id.as_str()));
    }
    for created in table.column("CREATED") {
        assert!(
            created.ends_with(" ago"),
            "CREATED is a human duration: {created:?}"
        );
    }
    for size in table.column("SIZE") {
        assert!(
            size.ends_with(" MB"),
            "SIZE is human, SI units, like `2.03 MB`: {size:?}"
        );
    }
}

#[test]
fn images_quiet_lists_each_id_once() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["rich:1", "example.com/rich:2"]);
    let mut ids = s.run(&["images", "-q"]).success().lines();
    ids.sort();
    let mut want = vec![busybox_image().short_id(), rich_image().short_id()];
    want.sort();
    assert_eq!(ids, want);
    let mut full = s.run(&["images", "-q", "--no-trunc"]).success().lines();
    full.sort();
    let mut want = vec![
        format!("sha256:{}", busybox_image().id()),
        format!("sha256:{}", rich_image().id()),
    ];
    want.sort();
    assert_eq!(full, want);
}

#[test]
fn images_no_trunc_shows_the_full_id_with_prefix() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let table = Table::parse(
        &s.run(&["images", "--no-trunc"]).success().stdout_str(),
        IMAGES_HEADERS,
    );
    assert_eq!(
        table.column("IMAGE ID"),
        vec![format!("sha256:{}", busybox_image().id())]
    );
}

#[test]
fn images_noheading_and_all() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["images", "--noheading"]);
    out.success();
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("localhost/busybox  latest"), "{lines:?}");
    assert!(lines[0].contains(&busybox_image().short_id()));
    let all = s.run(&["images", "-a"]);
    all.success();
    let table = Table::parse(&all.stdout_str(), IMAGES_HEADERS);
    assert_eq!(table.column("IMAGE ID"), vec![busybox_image().short_id()]);
}

#[test]
fn images_format_json_has_podman_keys() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    let v = s.run(&["images", "--format", "json"]).success().json();
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 1, "{v}");
    let img = &arr[0];
    for key in [
        "Id",
        "RepoTags",
        "RepoDigests",
        "Size",
        "Created",
        "Names",
        "Digest",
        "Labels",
        "Containers",
    ] {
        assert!(img.get(key).is_some(), "key {key} missing from {img}");
    }
    assert_eq!(img["Id"], rich_image().id());
    assert_eq!(img["Names"], serde_json::json!(["localhost/rich:1"]));
    assert_eq!(img["Created"], 1_704_067_200, "Created is unix seconds");
    assert_eq!(img["Containers"], 0);
    assert_eq!(img["Labels"]["org.example.name"], "rich");
    let digest = img["Digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && is_hex64(&digest[7..]),
        "Digest: {digest}"
    );
    let size = img["Size"].as_u64().expect("Size is a number of bytes");
    let content: u64 = fs::metadata(harness::rootfs::HOST_BUSYBOX).unwrap().len();
    let tar_bytes: u64 = rich_image().layers.iter().map(|l| l.tar.len() as u64).sum();
    assert!(
        size >= content && size <= tar_bytes + 65536,
        "Size {size} vs content {content}, tars {tar_bytes}"
    );
}

#[test]
fn images_format_go_template() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["example.com/rich:2"]);
    assert_eq!(
        names_of(&s),
        vec!["example.com/rich:2", "localhost/busybox:latest"]
    );
    let out = s.run(&["images", "--format", "{{.ID}} {{.Repository}}"]);
    let mut lines = out.success().lines();
    lines.sort();
    let mut want = vec![
        format!("{} localhost/busybox", busybox_image().short_id()),
        format!("{} example.com/rich", rich_image().short_id()),
    ];
    want.sort();
    assert_eq!(lines, want);
}

#[test]
fn images_format_table_template() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["images", "--format", "table {{.ID}}\t{{.Repository}}"]);
    let table = Table::parse(&out.success().stdout_str(), &["IMAGE ID", "REPOSITORY"]);
    assert_eq!(table.column("IMAGE ID"), vec![busybox_image().short_id()]);
    assert_eq!(table.column("REPOSITORY"), vec!["localhost/busybox"]);
}

#[test]
fn images_filter_reference() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["rich:1"]);
    let out = s.run(&[
        "images",
        "--filter",
        "reference=busybox",
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]);
    assert_eq!(out.success().lines(), vec!["localhost/busybox:latest"]);
    let out = s.run(&["images", "--filter", "reference=rich:1", "-q"]);
    assert_eq!(out.success().lines(), vec![rich_image().short_id()]);
    let out = s.run(&["images", "--filter", "reference=nothing", "-q"]);
    assert_eq!(out.success().stdout_str(), "");
}

/// Two images that differ in every sort key: `older` is older, bigger, and sorts after `newer` by name.
fn sortable_images() -> (Image, Image) {
    let older = busybox_builder()
        .created("2020-06-01T00:00:00Z")
        .layer(harness::rootfs::bulk_layer(7, 20, 50_000))
        .build();
    let newer = busybox_builder()
        .created("2024-06-01T00:00:00Z")
        .label("which", "newer")
        .build();
    (older, newer)
}

#[test]
fn images_sort_keys() {
    let (older, newer) = sortable_images();
    let s = Selkie::new();
    s.load_image(&older, &["zeta/older:aaa"]);
    s.load_image(&newer, &["alpha/newer:zzz"]);
    let order = |key: &str| -> Vec<String> {
        s.run(&["images", "--sort", key, "--format", "{{.Repository}}"])
            .success()
            .lines()
    };
    let old_repo = "localhost/zeta/older".to_string();
    let new_repo = "localhost/alpha/newer".to_string();
    assert_eq!(
        order("repository"),
        vec![new_repo.clone(), old_repo.clone()],
        "repository: ascending"
    );
    assert_eq!(
        order("tag"),
        vec![old_repo.clone(), new_repo.clone()],
        "tag: ascending"
    );
    assert_eq!(
        order("created"),
        vec![new_repo.clone(), old_repo.clone()],
        "created: newest first"
    );
    assert_eq!(
        order("size"),
        vec![new_repo.clone(), old_repo.clone()],
        "size: smallest first"
    );
    let mut by_id = [(older.id(), old_repo.clone()), (newer.id(), new_repo.clone())];
    by_id.sort();
    assert_eq!(
        order("id"),
        by_id.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        "id: ascending"
    );
    // The default order is by creation, newest first.
    let default: Vec<String> = s
        .run(&["images", "--format", "{{.Repository}}"])
        .success()
        .lines();
    assert_eq!(default, vec![new_repo, old_repo]);
}

#[test]
fn images_sort_rejects_an_unknown_key() {
    let s = Selkie::new();
    s.run(&["images", "--sort", "bogus"]).assert_error(125, "bogus");
}

// ---------------------------------------------------------------- tag, untag, image exists

#[test]
fn tag_adds_names_under_localhost_and_registries() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["tag", "busybox", "foo"]);
    out.success();
    assert_eq!(out.stdout_str(), "", "tag prints nothing");
    s.run(&["tag", "busybox", "localhost:5000/x:1", "bar:2"])
        .success();
    assert_eq!(
        names_of(&s),
        vec![
            "localhost/bar:2",
            "localhost/busybox:latest",
            "localhost/foo:latest",
            "localhost:5000/x:1"
        ]
    );
    assert_eq!(s.image_ids(), vec![busybox_image().id()], "tags share one image");
    assert_eq!(s.image_id("foo"), busybox_image().id());
    assert_eq!(s.image_id("localhost:5000/x:1"), busybox_image().id());
}

#[test]
fn tag_by_id() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[]);
    s.run(&["tag", &busybox_image().short_id(), "byid:1"]).success();
    assert_eq!(names_of(&s), vec!["localhost/byid:1"]);
}

#[test]
fn tag_rejects_uppercase_and_malformed_names() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.run(&["tag", "busybox", "Foo"])
        .assert_error(125, "repository name must be lowercase");
    s.run(&["tag", "busybox", "bad name"])
        .assert_error(125, "invalid reference format");
    s.run(&["tag", "busybox", "a::b"])
        .assert_error(125, "invalid reference format");
    assert_eq!(names_of(&s), vec![full_name(BUSYBOX)]);
}

#[test]
fn tag_of_a_missing_image_fails() {
    let s = Selkie::new();
    s.run(&["tag", "nothere", "foo"])
        .assert_error(125, "nothere: image not known");
}

#[test]
fn untag_one_name_then_all() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.run(&["tag", "busybox", "foo", "localhost:5000/x:1"]).success();
    let out = s.run(&["untag", "busybox", "localhost:5000/x:1"]);
    out.success();
    assert_eq!(out.stdout_str(), "", "untag prints nothing");
    assert_eq!(
        names_of(&s),
        vec!["localhost/busybox:latest", "localhost/foo:latest"]
    );
    s.run(&["untag", "foo"]).success();
    // The image stays, nameless.
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    let table = Table::parse(&s.run(&["images"]).success().stdout_str(), IMAGES_HEADERS);
    assert_eq!(table.column("REPOSITORY"), vec!["<none>"]);
    s.run(&["image", "exists", "foo"]).assert_code(1);
    s.run(&["image", "exists", &busybox_image().id()]).success();
}

#[test]
fn untag_of_an_unknown_name_fails() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.run(&["untag", "busybox", "notatag"])
        .assert_error(125, "localhost/notatag:latest: tag not known");
    s.run(&["untag", "nothere"])
        .assert_error(125, "nothere: image not known");
}

#[test]
fn image_exists_by_name_and_id() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    for reference in [
        "busybox",
        BUSYBOX,
        "localhost/busybox:latest",
        &busybox_image().short_id(),
        &busybox_image().id(),
    ] {
        let out = s.run(&["image", "exists", reference]);
        out.success();
        assert_eq!(out.stdout_str(), "", "{reference}");
    }
    let out = s.run(&["image", "exists", "nothere"]);
    out.assert_code(1);
    assert_eq!(out.stdout_str(), "", "image exists is silent when absent");
    assert_eq!(out.stderr_str(), "", "image exists is silent when absent");
    s.run(&["image", "exists", "busybox:other"]).assert_code(1);
}

// ---------------------------------------------------------------- rmi

#[test]
fn rmi_by_name_prints_untagged_then_deleted() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["rmi", "busybox"]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![
            "Untagged: localhost/busybox:latest".to_string(),
            format!("Deleted: {}", busybox_image().id())
        ]
    );
    assert!(s.image_ids().is_empty());
    s.run(&["image", "exists", "busybox"]).assert_code(1);
}

#[test]
fn rmi_by_short_and_full_id() {
    for id in [busybox_image().short_id(), busybox_image().id()] {
        let s = Selkie::new();
        s.load_image(busybox_image(), &[BUSYBOX]);
        let out = s.run(&["rmi", &id]);
        out.success();
        assert_eq!(
            out.lines(),
            vec![
                "Untagged: localhost/busybox:latest".to_string(),
                format!("Deleted: {}", busybox_image().id())
            ]
        );
        assert!(s.image_ids().is_empty());
    }
}

#[test]
fn rmi_of_one_of_two_names_only_untags() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1", "example.com/rich:2"]);
    let out = s.run(&["rmi", "rich:1"]);
    out.success();
    assert_eq!(out.lines(), vec!["Untagged: localhost/rich:1"]);
    assert_eq!(names_of(&s), vec!["example.com/rich:2"]);
    assert_eq!(s.image_ids(), vec![rich_image().id()]);
    let out = s.run(&["rmi", "example.com/rich:2"]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![
            "Untagged: example.com/rich:2".to_string(),
            format!("Deleted: {}", rich_image().id())
        ]
    );
}

#[test]
fn rmi_by_id_of_a_many_named_image_needs_force() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1", "example.com/rich:2"]);
    s.run(&["rmi", &rich_image().short_id()])
        .assert_error(125, "please force removal");
    assert_eq!(s.image_ids(), vec![rich_image().id()]);
    let out = s.run(&["rmi", "-f", &rich_image().short_id()]);
    out.success();
    let lines = out.lines();
    let untagged: BTreeSet<&str> = lines[..2].iter().map(String::as_str).collect();
    assert_eq!(
        untagged,
        ["Untagged: example.com/rich:2", "Untagged: localhost/rich:1"]
            .into_iter()
            .collect()
    );
    assert_eq!(lines[2], format!("Deleted: {}", rich_image().id()));
    assert_eq!(lines.len(), 3);
    assert!(s.image_ids().is_empty());
}

#[test]
fn rmi_force_and_all() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    s.load_image(rich_image(), &["rich:1", "example.com/rich:2"]);
    let out = s.run(&["rmi", "-f", "busybox"]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![
            "Untagged: localhost/busybox:latest".to_string(),
            format!("Deleted: {}", busybox_image().id())
        ]
    );
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["rmi", "-a"]);
    out.success();
    let lines = out.lines();
    let deleted: BTreeSet<String> = lines
        .iter()
        .filter(|l| l.starts_with("Deleted: "))
        .cloned()
        .collect();
    assert_eq!(
        deleted,
        [
            format!("Deleted: {}", busybox_image().id()),
            format!("Deleted: {}", rich_image().id())
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("Untagged: ")).count(),
        3,
        "{lines:?}"
    );
    assert!(s.image_ids().is_empty());
    // Nothing left to remove is not an error.
    s.run(&["rmi", "-a"]).success();
}

#[test]
fn rmi_of_a_missing_image_exits_1() {
    let s = Selkie::new();
    s.run(&["rmi", "nothere"])
        .assert_error(1, "nothere: image not known");
    // -f ignores missing images.
    let out = s.run(&["rmi", "-f", "nothere"]);
    out.success();
    assert_eq!(out.stdout_str(), "");
}

#[test]
fn rmi_removes_what_it_can_and_reports_the_missing() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let out = s.run(&["rmi", "nothere", "busybox"]);
    out.assert_error(1, "nothere: image not known");
    assert_eq!(
        out.lines(),
        vec![
            "Untagged: localhost/busybox:latest".to_string(),
            format!("Deleted: {}", busybox_image().id())
        ]
    );
    assert!(s.image_ids().is_empty());
}

#[test]
fn rmi_without_arguments_fails() {
    let s = Selkie::new();
    s.run(&["rmi"])
        .assert_error(125, "image name or ID must be specified");
}

#[test]
fn rmi_all_leaves_no_layers_and_no_blobs() {
    let s = Selkie::new();
    s.run(&["images"]).success();
    let empty_bytes = s.store_bytes();
    s.load_image(rich_image(), &["rich:1"]);
    s.load_image(&sortable_images().0, &["older:1"]);
    assert!(
        s.store_bytes() > empty_bytes + 2_000_000,
        "a loaded image takes room in the store"
    );
    s.run(&["rmi", "-a"]).success();
    assert!(s.image_ids().is_empty());
    assert_eq!(
        s.store_entries("layers"),
        Vec::<String>::new(),
        "layer directories left behind"
    );
    assert_eq!(
        s.store_entries("blobs/sha256"),
        Vec::<String>::new(),
        "blobs left behind"
    );
    let left = s.store_bytes();
    assert!(
        left <= empty_bytes + 256 * 1024,
        "the store kept {left} bytes after rmi -a (an empty store has {empty_bytes})"
    );
}

// ---------------------------------------------------------------- inspect, history

#[test]
fn inspect_shows_podman_keys() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    for args in [vec!["inspect", "rich:1"], vec!["image", "inspect", "rich:1"]] {
        let v = s.run(&args).success().json();
        let info = &v.as_array().expect("a JSON array")[0];
        for key in [
            "Id",
            "Digest",
            "RepoTags",
            "RepoDigests",
            "Created",
            "Config",
            "RootFS",
            "Size",
            "Architecture",
            "Os",
            "History",
        ] {
            assert!(info.get(key).is_some(), "{key} missing from {info}");
        }
        assert_eq!(info["Id"], rich_image().id());
        assert_eq!(info["RepoTags"], serde_json::json!(["localhost/rich:1"]));
        assert!(
            info["Created"]
                .as_str()
                .unwrap()
                .starts_with("2024-01-01T00:00:00"),
            "{}",
            info["Created"]
        );
        assert_eq!(info["Architecture"], harness::host_architecture());
        assert_eq!(info["Os"], "linux");
        let config = &info["Config"];
        assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/echo"]));
        assert_eq!(config["Cmd"], serde_json::json!(["hello"]));
        assert_eq!(
            config["Env"],
            serde_json::json!([
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "GREETING=hi there"
            ])
        );
        assert_eq!(config["WorkingDir"], "/data");
        assert_eq!(config["User"], "1000:1000");
        assert_eq!(
            config["Labels"],
            serde_json::json!({"org.example.name": "rich", "version": "1.2"})
        );
        assert_eq!(config["Volumes"], serde_json::json!({"/data": {}}));
        assert_eq!(config["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
        assert_eq!(config["StopSignal"], "SIGINT");
        assert_eq!(
            info["RootFS"],
            serde_json::json!({"Type": "layers", "Layers": rich_image().diff_ids()})
        );
        let history = info["History"].as_array().unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0]["created_by"], "/bin/sh -c #(nop) ADD busybox in /");
        assert_eq!(history[0]["comment"], "rootfs");
        assert_eq!(history[2]["empty_layer"], true);
        assert!(info["Size"].as_u64().unwrap() > 1_000_000);
    }
}

#[test]
fn inspect_format_templates() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    let fmt = |f: &str| {
        s.run(&["inspect", "--format", f, "rich:1"])
            .success()
            .stdout_str()
    };
    assert_eq!(fmt("{{.Id}}"), format!("{}\n", rich_image().id()));
    assert_eq!(fmt("{{.Config.Cmd}}"), "[hello]\n");
    assert_eq!(
        fmt("{{.Config.Entrypoint}} {{.Config.WorkingDir}}"),
        "[/bin/echo] /data\n"
    );
    assert_eq!(
        fmt("{{.Architecture}}/{{.Os}}"),
        format!("{}/linux\n", harness::host_architecture())
    );
    assert_eq!(
        fmt("{{.RootFS.Layers}}"),
        format!("[{}]\n", rich_image().diff_ids().join(" "))
    );
    let by_id = s.run(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &rich_image().short_id(),
    ]);
    assert_eq!(by_id.success().stdout_str(), format!("{}\n", rich_image().id()));
}

#[test]
fn inspect_of_a_missing_image_fails() {
    let s = Selkie::new();
    s.run(&["image", "inspect", "nothere"])
        .assert_error(125, "nothere");
    s.run(&["inspect", "nothere"]).assert_error(125, "nothere");
}

#[test]
fn history_table_and_json() {
    let s = Selkie::new();
    s.load_image(rich_image(), &["rich:1"]);
    let out = s.run(&["history", "rich:1"]);
    let table = Table::parse(
        &out.success().stdout_str(),
        &["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
    );
    // Newest first; the top row carries the image's short ID, the rest `<missing>`.
    assert_eq!(
        table.column("ID"),
        vec![rich_image().short_id(), "<missing>".into(), "<missing>".into()]
    );
    assert_eq!(
        table.column("CREATED BY"),
        vec![
            "/bin/sh -c #(nop)  ENTRYPOINT [\"/bin/echo\"]",
            "/bin/sh -c #(nop) ADD hello.txt in /",
            "/bin/sh -c #(nop) ADD busybox in /"
        ]
    );
    assert_eq!(table.column("SIZE")[0], "0 B", "an empty layer has no size");
    assert_eq!(table.column("COMMENT"), vec!["", "", "rootfs"]);

    let v = s.run(&["history", "--format", "json", "rich:1"]).success().json();
    let rows = v.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], rich_image().id());
    assert_eq!(rows[1]["id"], "<missing>");
    assert_eq!(rows[2]["CreatedBy"], "/bin/sh -c #(nop) ADD busybox in /");
    assert_eq!(rows[2]["comment"], "rootfs");
    assert_eq!(rows[0]["size"], 0);
    assert!(rows[2]["size"].as_u64().unwrap() > 1_000_000, "{}", rows[2]);
}

#[test]
fn history_of_a_missing_image_fails() {
    let s = Selkie::new();
    s.run(&["history", "nothere"])
        .assert_error(125, "nothere: image not known");
}

#[test]
fn image_built_with_every_config_field_round_trips_through_inspect() {
    let image = ImageBuilder::new()
        .layer(busybox_layer().compression(Compression::Zstd))
        .entrypoint(&["/bin/sh", "-c"])
        .cmd(&["echo hi"])
        .env("X=1")
        .user("tester")
        .working_dir("/home/tester")
        .stop_signal("SIGQUIT")
        .build();
    let s = Selkie::new();
    let archive = write_oci(&s, "cfg.tar", &image, Some("cfg:1"));
    s.run(&["load", "-i", &archive]).success();
    let info = inspect(&s, "cfg:1");
    assert_eq!(info["Config"]["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(info["Config"]["Cmd"], serde_json::json!(["echo hi"]));
    assert_eq!(info["Config"]["User"], "tester");
    assert_eq!(info["Config"]["WorkingDir"], "/home/tester");
    assert_eq!(info["Config"]["StopSignal"], "SIGQUIT");
    assert_eq!(info["Digest"], image.manifest_digest());
}

#[test]
fn rmi_refuses_an_image_a_container_uses_unless_forced() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &[BUSYBOX]);
    let id = s
        .run(&["create", "--name", "user1", "busybox", "true"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    // Podman: exit 2 when the image is in use by a container.
    s.run(&["rmi", "busybox"]).assert_error(2, "in use by container");
    assert_eq!(s.image_ids(), vec![busybox_image().id()], "the image stays");
    s.run(&["container", "exists", "user1"]).success();
    let out = s.run(&["rmi", "-f", "busybox"]);
    out.success();
    assert!(s.image_ids().is_empty(), "rmi -f removes the image");
    assert_eq!(
        s.run(&["ps", "-a", "-q"]).success().stdout_str(),
        "",
        "and the container using it"
    );
    assert!(
        !s.root().join("containers").join(&id).exists(),
        "with its directory"
    );
    s.run(&["container", "exists", "user1"]).assert_code(1);
}

#[test]
fn short_names_find_local_images_and_ambiguity_is_an_error() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["localhost:5000/fedora:latest"]);
    // `fedora` finds localhost:5000/fedora:latest, as Podman's local lookup does.
    assert_eq!(s.image_id("fedora"), busybox_image().id());
    s.run(&["image", "exists", "fedora"]).success();
    assert_eq!(
        s.run(&["inspect", "--format", "{{.Id}}", "fedora:latest"])
            .success()
            .stdout_str()
            .trim(),
        busybox_image().id()
    );
    // A second, different image under another registry makes the short name ambiguous.
    s.load_image(rich_image(), &["quay.io/other/fedora:latest"]);
    let out = s.run(&["inspect", "--type", "image", "fedora"]);
    out.assert_error(125, "matches several images");
    let err = out.stderr_str();
    assert!(
        err.contains("localhost:5000/fedora:latest") && err.contains("quay.io/other/fedora:latest"),
        "{err}"
    );
    // A qualified name is never ambiguous.
    assert_eq!(s.image_id("quay.io/other/fedora"), rich_image().id());
}
