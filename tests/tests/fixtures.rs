//! Checks of the harness's own fixtures: deterministic, and in the layouts `docker save` and the OCI image
//! layout specification describe. These run without the selkie binary.

use std::collections::BTreeMap;
use std::io::Read;

use harness::image::OciLayout;
use harness::layer::{sha256_digest, tar_entry_names, Compression};
use harness::{busybox_builder, busybox_image, hostile, rich_image, Layer, Table};
use serde_json::Value;

fn tar_files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(data);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).unwrap();
        files.insert(path, buf);
    }
    files
}

#[test]
fn images_are_deterministic() {
    let a = busybox_builder().build();
    let b = busybox_builder().build();
    assert_eq!(a.id(), b.id());
    assert_eq!(a.manifest_digest(), b.manifest_digest());
    assert_eq!(a.id(), busybox_image().id());
    assert_eq!(a.docker_archive(&["x:1"]), b.docker_archive(&["x:1"]));
    assert_eq!(a.oci_archive(Some("x:1")), b.oci_archive(Some("x:1")));
    assert_eq!(sha256_digest(&a.config), a.config_digest());
    assert_ne!(busybox_image().id(), rich_image().id());
}

#[test]
fn busybox_rootfs_has_the_expected_tree() {
    let names = tar_entry_names(&harness::busybox_layer().tar());
    for want in [
        "bin/",
        "bin/busybox",
        "bin/sh",
        "etc/passwd",
        "etc/group",
        "tmp/",
        "proc/",
        "home/tester/",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    let mut archive = tar::Archive::new(std::io::Cursor::new(harness::busybox_layer().tar()));
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(h.mtime().unwrap(), harness::layer::FIXED_MTIME);
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if path == "tmp/" {
            assert_eq!(h.mode().unwrap(), 0o1777);
        }
        if path == "home/tester/" {
            assert_eq!(h.uid().unwrap(), 1000);
        } else {
            assert_eq!(h.uid().unwrap(), 0, "{path}");
        }
    }
}

#[test]
fn docker_archive_has_the_docker_save_layout() {
    let image = rich_image();
    let files = tar_files(&image.docker_archive(&["rich:1", "example.com/rich:2"]));
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest[0]["Config"], format!("{}.json", image.id()));
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!(["rich:1", "example.com/rich:2"])
    );
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for (path, blob) in layers.iter().zip(&image.layers) {
        let data = &files[path.as_str().unwrap()];
        assert_eq!(
            sha256_digest(data),
            blob.diff_id,
            "layer.tar is the uncompressed layer"
        );
    }
    assert_eq!(files[&format!("{}.json", image.id())], image.config);
    let repositories: Value = serde_json::from_slice(&files["repositories"]).unwrap();
    assert!(repositories["rich"]["1"].is_string());
    assert!(repositories["example.com/rich"]["2"].is_string());
    let config = image.config_value();
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(image.diff_ids()));
    assert_eq!(config["architecture"], harness::host_architecture());
}

#[test]
fn untagged_docker_archive_has_null_repo_tags() {
    let files = tar_files(&busybox_image().docker_archive(&[]));
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert!(manifest[0]["RepoTags"].is_null());
    assert!(!files.contains_key("repositories"));
}

#[test]
fn oci_archive_has_the_oci_layout() {
    let image = busybox_builder()
        .layer(Layer::new().compression(Compression::Gzip).file("a", "a"))
        .layer(Layer::new().compression(Compression::Zstd).file("b", "b"))
        .build();
    let files = tar_files(&image.oci_archive(Some("comp:1")));
    assert_eq!(files["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    let desc = &index["manifests"][0];
    assert_eq!(desc["digest"], image.manifest_digest());
    assert_eq!(desc["annotations"]["org.opencontainers.image.ref.name"], "comp:1");
    let blob =
        |digest: &str| files[&format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))].clone();
    let manifest: Value = serde_json::from_slice(&blob(image.manifest_digest())).unwrap();
    assert_eq!(manifest["config"]["digest"], image.config_digest());
    let types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd"
        ]
    );
    for layer in manifest["layers"].as_array().unwrap() {
        let digest = layer["digest"].as_str().unwrap();
        let data = blob(digest);
        assert_eq!(sha256_digest(&data), digest);
        assert_eq!(data.len() as u64, layer["size"].as_u64().unwrap());
    }
    let gz = blob(manifest["layers"][1]["digest"].as_str().unwrap());
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(sha256_digest(&plain), image.diff_ids()[1]);
    let zst = blob(manifest["layers"][2]["digest"].as_str().unwrap());
    assert_eq!(
        sha256_digest(&zstd::decode_all(zst.as_slice()).unwrap()),
        image.diff_ids()[2]
    );
}

#[test]
fn oci_layout_directory_matches_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    busybox_image().write_oci_layout(dir.path(), Some("busybox:latest"));
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], busybox_image().manifest_digest());
    let mut layout = OciLayout::new().manifest(busybox_image(), Some("busybox:latest"));
    let extra = layout.blob(b"extra");
    assert!(extra.starts_with("sha256:"));
}

#[test]
fn special_entries_are_written_as_specified() {
    let layer = Layer::new()
        .whiteout("etc/motd")
        .whiteout("top")
        .opaque("opt/old")
        .char_device("dev/null2", 1, 3)
        .hardlink("h", "etc/x");
    let names = tar_entry_names(&layer.tar());
    assert_eq!(
        names,
        vec![
            "etc/.wh.motd",
            ".wh.top",
            "opt/old/.wh..wh..opq",
            "dev/null2",
            "h"
        ]
    );
    let mut archive = tar::Archive::new(std::io::Cursor::new(layer.tar()));
    let entries: Vec<_> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().header().clone())
        .collect();
    assert_eq!(entries[3].entry_type(), tar::EntryType::Char);
    assert_eq!(entries[3].device_major().unwrap(), Some(1));
    assert_eq!(entries[4].entry_type(), tar::EntryType::Link);
}

#[test]
fn hostile_entries_keep_their_raw_names() {
    let case = hostile::dot_dot();
    let names = tar_entry_names(&case.layer.tar());
    assert!(names[0].starts_with("../../"), "{names:?}");
    assert!(names[0].ends_with("/escape"));
    let case = hostile::absolute();
    let names = tar_entry_names(&case.layer.tar());
    assert!(names[0].starts_with("/tmp/selkie-hostile-absolute-"), "{names:?}");
    let case = hostile::relative_symlink();
    let mut archive = tar::Archive::new(std::io::Cursor::new(case.layer.tar()));
    let first = archive.entries().unwrap().next().unwrap().unwrap();
    let link = first.link_name_bytes().unwrap().into_owned();
    assert!(link.starts_with(b"../../"), "{}", String::from_utf8_lossy(&link));
    case.target.assert_untouched();
    let case = hostile::hardlink_out();
    case.target.assert_untouched();
    assert!(case.target.dir().starts_with("/tmp"));
}

#[test]
fn table_parser_accepts_podman_output() {
    let text = "REPOSITORY         TAG         IMAGE ID      CREATED      SIZE\n\
                localhost/busybox  latest      2fdd92b1d6e8  2 years ago  2.03 MB\n";
    let table = Table::parse(text, &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    assert_eq!(table.column("CREATED"), vec!["2 years ago"]);
    assert_eq!(table.column("SIZE"), vec!["2.03 MB"]);
    let empty = "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n";
    assert!(
        Table::parse(empty, &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
            .rows
            .is_empty()
    );
}

#[test]
#[should_panic(expected = "wide")]
fn table_parser_rejects_misaligned_output() {
    let text =
        "REPOSITORY TAG IMAGE ID CREATED SIZE\nlocalhost/busybox latest 2fdd92b1d6e8 2 years ago 2.03 MB\n";
    Table::parse(text, &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
}

#[test]
fn image_index_lists_one_manifest_per_platform() {
    let amd = busybox_builder().architecture("amd64").build();
    let arm = busybox_builder().architecture("arm64").build();
    let mut layout = OciLayout::new();
    let digest = layout.image_index(&[&amd, &arm], Some("multi:1"));
    let files = tar_files(&layout.tar());
    let top: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    assert_eq!(top["manifests"][0]["digest"], digest.as_str());
    assert_eq!(
        top["manifests"][0]["mediaType"],
        harness::image::OCI_INDEX_MEDIA_TYPE
    );
    let index: Value =
        serde_json::from_slice(&files[&format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))])
            .unwrap();
    let platforms: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, vec!["amd64", "arm64"]);
    assert_eq!(index["manifests"][1]["digest"], arm.manifest_digest());
    assert_ne!(amd.id(), arm.id());
}
