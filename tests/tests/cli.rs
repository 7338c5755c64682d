//! End-to-end tests of the command line itself: global flags, error shape and exit codes, `version`,
//! `info`, and running under the name `podman`.

use std::os::unix::fs::symlink;

use harness::{busybox_image, is_podman, skip_on_podman, Selkie};
use serde_json::Value;

#[test]
fn global_flags_come_before_the_subcommand() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let out = s.run(&[
        "--storage-driver",
        "overlay",
        "--log-level",
        "error",
        "images",
        "-q",
    ]);
    out.success();
    assert_eq!(out.lines(), vec![busybox_image().short_id()]);
    // The store given by --root is the one used, whatever storage.conf says.
    let root = s.root();
    let run = s.runroot();
    let out = s.run_bare(&[
        "--root",
        root.to_str().unwrap(),
        "--runroot",
        run.to_str().unwrap(),
        "--log-level=warn",
        "images",
        "--format",
        "{{.ID}}",
    ]);
    assert_eq!(out.success().lines(), vec![busybox_image().short_id()]);
}

#[test]
fn root_flag_selects_the_store() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    // storage.conf names s's store; --root and --runroot point elsewhere: an empty store.
    let elsewhere = s.path("elsewhere");
    let elsewhere_run = s.path("elsewhere-run");
    let out = s.run_bare(&[
        "--root",
        elsewhere.to_str().unwrap(),
        "--runroot",
        elsewhere_run.to_str().unwrap(),
        "images",
        "-q",
    ]);
    assert_eq!(out.success().stdout_str(), "");
    // Without flags, storage.conf's graphroot is used.
    assert_eq!(
        s.run_bare(&["images", "-q"]).success().lines(),
        vec![busybox_image().short_id()]
    );
}

#[test]
fn log_level_debug_still_succeeds() {
    let s = Selkie::new();
    let out = s.run(&["--log-level", "debug", "images", "-q"]);
    out.success();
    assert_eq!(out.stdout_str(), "", "logs go to stderr, never stdout");
}

#[test]
fn unknown_subcommand_is_named_in_the_error() {
    let s = Selkie::new();
    s.run(&["frobnicate"]).assert_error(125, "frobnicate");
    s.run(&["image", "frobnicate"]).assert_error(125, "frobnicate");
}

#[test]
fn unknown_flag_is_named_in_the_error() {
    let s = Selkie::new();
    s.run(&["images", "--bogus"]).assert_error(125, "--bogus");
    s.run(&["--bogus-global", "images"])
        .assert_error(125, "--bogus-global");
    s.run(&["rmi", "--frob", "x"]).assert_error(125, "--frob");
}

#[test]
fn missing_argument_is_an_error() {
    let s = Selkie::new();
    s.run(&["image", "exists"]).assert_error(125, "");
    s.run(&["tag", "onlyone"]).assert_error(125, "");
}

#[test]
fn vfs_storage_driver_is_rejected() {
    if skip_on_podman("Podman supports vfs; selkie only overlay") {
        return;
    }
    let s = Selkie::new();
    s.run(&["--storage-driver", "vfs", "images"])
        .assert_error(125, "vfs");
}

#[test]
fn unknown_log_level_is_rejected() {
    if skip_on_podman("Podman 4.3.1 exits 1 with a message that does not start `Error: `") {
        return;
    }
    let s = Selkie::new();
    s.run(&["--log-level", "bogus", "images"])
        .assert_error(125, "bogus");
}

#[test]
fn version_plain_and_json() {
    let s = Selkie::new();
    let v = s.run(&["version", "--format", "json"]).success().json();
    let client = &v["Client"];
    let version = client["Version"].as_str().expect("Client.Version is a string");
    assert!(!version.is_empty());
    assert!(client["APIVersion"].is_string(), "{v}");
    let os_arch = format!("linux/{}", harness::host_architecture());
    assert_eq!(client["OsArch"], os_arch.as_str());
    assert_eq!(client["Os"], "linux");

    let plain = s.run(&["version"]).success().stdout_str();
    let field = |name: &str| -> String {
        plain
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{plain}"))
            .trim()
            .to_string()
    };
    assert_eq!(field("Version:"), version);
    assert_eq!(field("OS/Arch:"), os_arch);
    assert!(plain.lines().any(|l| l.starts_with("Client:")), "{plain}");

    let templated = s
        .run(&["version", "--format", "{{.Client.Version}}"])
        .success()
        .stdout_str();
    assert_eq!(templated.trim(), version);
}

#[test]
fn info_json_reports_the_store_and_host() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let v: Value = s.run(&["info", "--format", "json"]).success().json();
    let store = &v["store"];
    assert_eq!(store["graphRoot"], s.root().to_str().unwrap());
    assert_eq!(store["runRoot"], s.runroot().to_str().unwrap());
    assert_eq!(store["graphDriverName"], "overlay");
    assert_eq!(store["imageStore"]["number"], 1);
    assert_eq!(store["configFile"], s.storage_conf().to_str().unwrap());
    let host = &v["host"];
    let kernel = nix::sys::utsname::uname()
        .unwrap()
        .release()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(host["kernel"], kernel.as_str());
    let cgroup2_root = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert_eq!(host["cgroupVersion"], if cgroup2_root { "v2" } else { "v1" });
    assert_eq!(host["arch"], harness::host_architecture());
    assert_eq!(host["os"], "linux");
    assert!(v["version"]["Version"].is_string(), "{}", v["version"]);
}

#[test]
fn info_template_uses_go_field_names() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let out = s.run(&[
        "info",
        "--format",
        "{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.ImageStore.Number}}|{{.Store.GraphDriverName}}",
    ]);
    assert_eq!(
        out.success().stdout_str().trim(),
        format!("{}|{}|1|overlay", s.root().display(), s.runroot().display())
    );
    let out = s.run(&["info", "--format", "{{.Host.Kernel}}"]);
    let kernel = nix::sys::utsname::uname()
        .unwrap()
        .release()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(out.success().stdout_str().trim(), kernel);
}

#[test]
fn runs_the_same_through_a_symlink_named_podman() {
    if is_podman() {
        eprintln!("already running podman");
    }
    let s = Selkie::new();
    let dir = tempfile::tempdir().unwrap();
    let podman = dir.path().join("podman");
    symlink(s.bin(), &podman).unwrap();
    let archive = s.path("bb.tar");
    busybox_image().write_docker_archive(&archive, &["busybox:latest"]);
    let out = s.run_program(&podman, &["load", "-i", archive.to_str().unwrap()]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![format!("Loaded image: {}", harness::full_name("busybox:latest"))]
    );
    let via_podman = s.run_program(&podman, &["images"]);
    via_podman.success();
    let direct = s.run(&["images"]);
    assert_eq!(
        via_podman.stdout_str().lines().next(),
        direct.stdout_str().lines().next()
    );
    let out = s.run_program(&podman, &["images", "-q", "--no-trunc"]);
    assert_eq!(
        out.success().lines(),
        vec![format!("sha256:{}", busybox_image().id())]
    );
    s.run_program(&podman, &["rmi", "nothere"])
        .assert_error(1, "nothere: image not known");
}

#[test]
fn info_counts_containers_by_state() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    s.run(&["create", "--name", "one", "busybox", "true"]).success();
    let v = s.run(&["info", "--format", "json"]).success().json();
    let c = &v["store"]["containerStore"];
    assert_eq!(
        (c["number"].as_u64(), c["stopped"].as_u64(), c["running"].as_u64()),
        (Some(1), Some(1), Some(0)),
        "{c}"
    );
}
