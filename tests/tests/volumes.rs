//! End-to-end tests of the volume commands: volume create, ls, inspect, exists, rm, prune, and volumes
//! in use by containers. Each test has its own store.
//!
//! The expected outputs are Podman 4.3.1's (checked by running this file with
//! `SELKIE_BIN=/usr/bin/podman`); checks of selkie's own store layout or of flags Podman 4.3.1 lacks
//! (`volume create --ignore`) are skipped there.

use std::fs;
use std::path::Path;

use harness::{busybox_image, is_podman, skip_on_podman, Selkie, Table};
use serde_json::Value;

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn create(s: &Selkie, args: &[&str]) -> String {
    let mut full = vec!["volume", "create"];
    full.extend_from_slice(args);
    let out = s.run(&full);
    out.success();
    out.stdout_str().trim().to_string()
}

fn names(s: &Selkie, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["volume", "ls", "-q"];
    args.extend_from_slice(extra);
    s.run(&args).success().lines()
}

fn inspect(s: &Selkie, name: &str) -> Value {
    let v = s.run(&["volume", "inspect", name]).success().json();
    let arr = v.as_array().expect("inspect prints a JSON array");
    assert_eq!(arr.len(), 1, "one object per volume: {v}");
    arr[0].clone()
}

// ---------------------------------------------------------------- create / ls / inspect / rm

#[test]
fn create_ls_inspect_rm_round_trip() {
    let s = Selkie::new();
    assert_eq!(create(&s, &["myvol"]), "myvol");

    let out = s.run(&["volume", "ls"]);
    out.success();
    let table = Table::parse(&out.stdout_str(), &["DRIVER", "VOLUME NAME"]);
    assert_eq!(table.rows, vec![vec!["local".to_string(), "myvol".to_string()]]);

    let v = inspect(&s, "myvol");
    assert_eq!(v["Name"], "myvol");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"], serde_json::json!({}));
    assert_eq!(v["Options"], serde_json::json!({}));
    assert_eq!(v["MountCount"], 0);
    assert_eq!(v["NeedsCopyUp"], true);
    let created = v["CreatedAt"].as_str().expect("CreatedAt is a string");
    assert!(
        created.len() >= 20 && created.as_bytes()[10] == b'T',
        "CreatedAt is RFC 3339: {created}"
    );
    let mountpoint = v["Mountpoint"].as_str().unwrap().to_string();
    assert!(mountpoint.ends_with("/volumes/myvol/_data"), "{mountpoint}");
    assert!(Path::new(&mountpoint).is_dir(), "the mount point exists");
    if !is_podman() {
        assert_eq!(Path::new(&mountpoint), s.root().join("volumes/myvol/_data"));
    }

    let out = s.run(&["volume", "rm", "myvol"]);
    out.success();
    assert_eq!(out.lines(), vec!["myvol"]);
    assert!(!Path::new(&mountpoint).exists(), "rm removes the data");
    assert_eq!(
        s.run(&["volume", "ls"]).success().stdout_str(),
        "",
        "no volumes, no header"
    );
    assert_eq!(
        s.run(&["volume", "ls", "--format", "json"]).success().json(),
        serde_json::json!([])
    );
}

#[test]
fn create_without_a_name_generates_one() {
    let s = Selkie::new();
    let name = create(&s, &[]);
    assert!(is_hex64(&name), "{name}");
    assert_eq!(names(&s, &[]), vec![name]);
}

#[test]
fn create_an_existing_name_fails_unless_ignored() {
    let s = Selkie::new();
    create(&s, &["--label", "v=1", "dup"]);
    s.run(&["volume", "create", "dup"])
        .assert_error(125, "volume with name dup already exists: volume already exists");
    if skip_on_podman("volume create --ignore is Podman 4.4's") {
        return;
    }
    let out = s.run(&["volume", "create", "--ignore", "--label", "v=2", "dup"]);
    out.success();
    assert_eq!(out.lines(), vec!["dup"]);
    assert_eq!(
        inspect(&s, "dup")["Labels"],
        serde_json::json!({"v": "1"}),
        "the existing volume is kept"
    );
}

#[test]
fn bad_names_are_rejected() {
    let s = Selkie::new();
    for bad in ["a/b", ".hidden", "a b", "x:y"] {
        s.run(&["volume", "create", bad])
            .assert_error(125, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    }
    assert!(names(&s, &[]).is_empty());
}

#[test]
fn labels_and_options_are_recorded() {
    let s = Selkie::new();
    create(
        &s,
        &[
            "--label",
            "app=web",
            "-l",
            "tier=db,empty",
            "--opt",
            "nocopy",
            "lv",
        ],
    );
    let v = inspect(&s, "lv");
    assert_eq!(
        v["Labels"],
        serde_json::json!({"app": "web", "tier": "db", "empty": ""})
    );
    assert_eq!(v["Options"], serde_json::json!({"nocopy": ""}));
    s.run(&["volume", "create", "--opt", "foo=bar", "bad"])
        .assert_error(125, "invalid mount option foo for driver 'local'");
    assert_eq!(names(&s, &[]), vec!["lv"]);
}

#[test]
fn o_uid_gid_owns_the_volume() {
    let s = Selkie::new();
    if nix::unistd::geteuid().as_raw() != 0 {
        eprintln!("skipped: chown needs root");
        return;
    }
    create(&s, &["--opt", "o=uid=1000,gid=1001", "owned"]);
    let v = inspect(&s, "owned");
    assert_eq!((v["UID"].clone(), v["GID"].clone()), (1000.into(), 1001.into()));
    assert_eq!(v["Options"]["o"], "uid=1000,gid=1001");
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(v["Mountpoint"].as_str().unwrap()).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1001));
}

#[test]
fn other_drivers_are_refused() {
    let s = Selkie::new();
    let out = s.run(&["volume", "create", "--driver", "nfs", "x"]);
    out.assert_code(125);
    assert!(out.stderr_str().contains("nfs"), "{}", out.stderr_str());
    assert!(names(&s, &[]).is_empty());
}

// ---------------------------------------------------------------- inspect

#[test]
fn inspect_formats_all_and_missing_volumes() {
    let s = Selkie::new();
    create(&s, &["--label", "k=v", "one"]);
    create(&s, &["two"]);
    let out = s.run(&[
        "volume",
        "inspect",
        "--format",
        "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Anonymous}}",
        "one",
    ]);
    out.success();
    assert_eq!(out.lines(), vec!["one local local map[k:v] false"]);

    let all = s
        .run(&["volume", "inspect", "--all", "--format", "{{.Name}}"])
        .success()
        .lines();
    assert_eq!(all, vec!["one", "two"]);
    let both = s.run(&["volume", "inspect", "one", "two"]).success().json();
    assert_eq!(both.as_array().map(Vec::len), Some(2));

    let out = s.run(&["volume", "inspect", "nope"]);
    out.assert_error(125, "inspecting object: no such volume nope");
    assert_eq!(
        out.json(),
        serde_json::json!([]),
        "an empty array is still printed"
    );
    let out = s.run(&["volume", "inspect", "one", "nope"]);
    out.assert_error(125, "no such volume nope");
    assert_eq!(out.json()[0]["Name"], "one", "what was found is printed");

    s.run(&["volume", "inspect"])
        .assert_error(125, "provide one or more volume names or use --all");
    s.run(&["volume", "inspect", "--all", "one"])
        .assert_error(125, "provide one or more volume names or use --all");
}

#[test]
fn inspect_takes_a_unique_prefix() {
    let s = Selkie::new();
    create(&s, &["alpha"]);
    create(&s, &["beta"]);
    assert_eq!(inspect(&s, "alp")["Name"], "alpha");
}

// ---------------------------------------------------------------- ls

#[test]
fn ls_quiet_noheading_json_and_templates() {
    let s = Selkie::new();
    create(&s, &["--label", "app=web", "b-vol"]);
    create(&s, &["a-vol"]);
    assert_eq!(names(&s, &[]), vec!["a-vol", "b-vol"], "sorted by name");

    let out = s.run(&["volume", "ls", "--noheading"]).success().lines();
    assert_eq!(out.len(), 2);
    assert!(
        out[0].starts_with("local") && out[0].ends_with("a-vol"),
        "{out:?}"
    );

    let v = s.run(&["volume", "ls", "--format", "json"]).success().json();
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[1]["Name"], "b-vol");
    assert_eq!(arr[1]["Driver"], "local");
    assert_eq!(arr[1]["Labels"], serde_json::json!({"app": "web"}));
    assert!(arr[1]["Mountpoint"]
        .as_str()
        .unwrap()
        .ends_with("/volumes/b-vol/_data"));
    let text = s
        .run(&["volume", "ls", "--format", "json"])
        .success()
        .stdout_str();
    assert!(
        text.starts_with("[\n  {\n    \""),
        "indented by two spaces, as Podman's ls: {text}"
    );

    let out = s
        .run(&["volume", "ls", "--format", "{{.Name}}={{.Driver}}"])
        .success()
        .lines();
    assert_eq!(out, vec!["a-vol=local", "b-vol=local"]);

    let out = s.run(&["volume", "ls", "--format", "table {{.Name}} {{.Scope}}"]);
    let table = Table::parse(&out.success().stdout_str(), &["VOLUME NAME", "SCOPE"]);
    assert_eq!(table.rows.len(), 2);
    let out = s.run(&["volume", "ls", "--noheading", "--format", "table {{.Name}}"]);
    assert_eq!(out.success().lines(), vec!["a-vol", "b-vol"]);

    s.run(&["volume", "ls", "-q", "--format", "{{.Name}}"])
        .assert_error(125, "quiet and format flags cannot be used together");
    s.run(&["volume", "ls", "--format", "{{.Nope}}"])
        .assert_error(125, "can't evaluate field Nope");
}

#[test]
fn ls_filters() {
    let s = Selkie::new();
    create(&s, &["--label", "app=web", "web-data"]);
    create(&s, &["--label", "app=db", "--label", "backup", "db-data"]);
    create(&s, &["scratch"]);

    assert_eq!(names(&s, &["--filter", "name=data"]), vec!["db-data", "web-data"]);
    assert_eq!(names(&s, &["--filter", "name=^web"]), vec!["web-data"]);
    assert_eq!(names(&s, &["-f", "name=^s.*h$"]), vec!["scratch"]);
    assert_eq!(names(&s, &["--filter", "label=app"]), vec!["db-data", "web-data"]);
    assert_eq!(names(&s, &["--filter", "label=app=db"]), vec!["db-data"]);
    assert_eq!(names(&s, &["--filter", "label=backup"]), vec!["db-data"]);
    assert_eq!(
        names(&s, &["--filter", "name=^web", "--filter", "name=^scr"]),
        vec!["scratch", "web-data"],
        "the same key: any may match"
    );
    if !skip_on_podman("Podman 4.3.1 ORs every filter; 4.6 and later AND different keys and labels") {
        assert_eq!(
            names(&s, &["--filter", "name=data,label=app=web"]),
            vec!["web-data"],
            "different keys: all must match"
        );
        assert_eq!(
            names(&s, &["--filter", "label=app", "--filter", "label=backup"]),
            vec!["db-data"],
            "labels: all must match"
        );
    }
    assert_eq!(names(&s, &["--filter", "driver=local"]).len(), 3);
    assert_eq!(
        names(&s, &["--filter", "dangling=true"]).len(),
        3,
        "no container uses them"
    );
    assert!(names(&s, &["--filter", "dangling=false"]).is_empty());
    assert!(names(&s, &["--filter", "label=app=none"]).is_empty());

    s.run(&["volume", "ls", "--filter", "colour=red"])
        .assert_error(125, "\"colour\" is an invalid volume filter");
    s.run(&["volume", "ls", "--filter", "dangling=maybe"])
        .assert_error(125, "is not a valid value for the \"dangling\" filter");
    s.run(&["volume", "ls", "--filter", "name"])
        .assert_error(125, "filter=value");
}

// ---------------------------------------------------------------- exists

#[test]
fn exists_exit_codes() {
    let s = Selkie::new();
    create(&s, &["here"]);
    let out = s.run(&["volume", "exists", "here"]);
    out.success();
    assert_eq!(out.stdout_str(), "");
    let out = s.run(&["volume", "exists", "gone"]);
    out.assert_code(1);
    assert_eq!(out.stderr_str(), "", "no message, only the exit code");
    s.run(&["volume", "exists", "her"]).assert_code(1);
}

// ---------------------------------------------------------------- rm

#[test]
fn rm_of_a_missing_volume_exits_1_unless_forced() {
    let s = Selkie::new();
    create(&s, &["real"]);
    s.run(&["volume", "rm", "nope"])
        .assert_error(1, "no volume with name \"nope\" found: no such volume");
    let out = s.run(&["volume", "rm", "nope", "real"]);
    out.assert_error(1, "no such volume");
    assert_eq!(out.lines(), vec!["real"], "the existing one is still removed");
    let out = s.run(&["volume", "rm", "--force", "nope"]);
    out.success();
    assert_eq!(out.stdout_str(), "");
    assert_eq!(out.stderr_str(), "");
}

#[test]
fn rm_all_and_argument_errors() {
    let s = Selkie::new();
    for n in ["v1", "v2", "v3"] {
        create(&s, &[n]);
    }
    s.run(&["volume", "rm"])
        .assert_error(125, "choose either one or more volumes or all");
    s.run(&["volume", "rm", "--all", "v1"])
        .assert_error(125, "choose either one or more volumes or all");
    s.run(&["volume", "rm", "--time", "3", "v1"])
        .assert_error(125, "--force option must be specified to use the --time option");
    let out = s.run(&["volume", "remove", "--all"]);
    out.success();
    assert_eq!(out.lines(), vec!["v1", "v2", "v3"]);
    assert!(names(&s, &[]).is_empty());
    if !is_podman() {
        assert!(
            s.store_entries("volumes").is_empty(),
            "{:?}",
            s.store_entries("volumes")
        );
    }
}

// ---------------------------------------------------------------- prune

#[test]
fn prune_force_removes_unused_volumes() {
    let s = Selkie::new();
    create(&s, &["--label", "keep=yes", "kept"]);
    create(&s, &["b"]);
    create(&s, &["a"]);
    let out = s.run(&["volume", "prune", "--filter", "label=keep", "--force"]);
    out.success();
    assert_eq!(out.lines(), vec!["kept"]);
    let out = s.run(&["volume", "prune", "-f"]);
    out.success();
    assert_eq!(out.lines(), vec!["a", "b"]);
    assert!(names(&s, &[]).is_empty());
    let out = s.run(&["volume", "prune", "-f"]);
    out.success();
    assert_eq!(out.stdout_str(), "");
}

#[test]
fn prune_asks_first() {
    let s = Selkie::new();
    create(&s, &["doomed"]);
    let out = s.run_stdin(&["volume", "prune"], b"n\n");
    out.success();
    assert!(out
        .stdout_str()
        .contains("WARNING! This will remove all volumes not used by at least one container"));
    assert!(
        out.stdout_str()
            .contains("doomed\nAre you sure you want to continue? [y/N] "),
        "{}",
        out.stdout_str()
    );
    assert_eq!(names(&s, &[]), vec!["doomed"]);
    let out = s.run_stdin(&["volume", "prune"], b"y\n");
    out.success();
    assert!(
        out.stdout_str().ends_with("[y/N] doomed\n"),
        "{}",
        out.stdout_str()
    );
    assert!(names(&s, &[]).is_empty());
    let out = s.run_stdin(&["volume", "prune"], b"y\n");
    out.success();
    assert!(out.stdout_str().contains("No dangling volumes found"));
}

// ---------------------------------------------------------------- volumes in use by containers

#[test]
fn a_volume_in_use_by_a_container() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    create(&s, &["data"]);
    // Depends on `create -v NAME:/path` recording the volume in the container (the lead's lifecycle).
    s.run(&["create", "--name", "c", "-v", "data:/data", "busybox"])
        .success();
    s.run(&["create", "--name", "auto", "-v", "made-on-use:/data", "busybox"])
        .success();
    assert_eq!(
        names(&s, &[]),
        vec!["data", "made-on-use"],
        "-v creates a missing volume"
    );

    s.run(&["volume", "rm", "data"])
        .assert_error(2, "volume is being used");
    assert!(names(&s, &["--filter", "dangling=true"]).is_empty());
    assert_eq!(
        names(&s, &["--filter", "dangling=false"]),
        vec!["data", "made-on-use"]
    );
    let out = s.run(&["volume", "prune", "-f"]);
    out.success();
    assert_eq!(out.stdout_str(), "", "prune leaves volumes in use");

    let out = s.run(&["volume", "rm", "--force", "data"]);
    out.success();
    assert_eq!(out.lines(), vec!["data"]);
    let containers = s.run(&["ps", "-a", "--format", "{{.Names}}"]).success().lines();
    assert_eq!(
        containers,
        vec!["auto"],
        "rm --force removed the container using the volume"
    );
    s.run(&["rm", "auto"]).success();
    assert_eq!(names(&s, &["--filter", "dangling=true"]), vec!["made-on-use"]);
}

/// A volume mounted where the image has files starts with a copy of them (Podman's copy-up), for the
/// image's own VOLUMEs (anonymous volumes) and for a new named volume; `rm -v` removes the anonymous one.
#[test]
fn new_volumes_get_the_image_content_at_their_mount_point() {
    use harness::layer::Layer;
    let image = harness::rootfs::busybox_builder()
        .layer(
            Layer::new()
                .dir("data")
                .file("data/seed.txt", b"from the image\n"),
        )
        .volume("/data")
        .build();
    let s = Selkie::new();
    s.load_image(&image, &["withvol:latest"]);
    let out = s
        .run(&["run", "--name", "anon", "withvol", "cat", "/data/seed.txt"])
        .success()
        .stdout_str();
    assert_eq!(out, "from the image\n");
    let anon: Vec<String> = s.run(&["volume", "ls", "-q"]).success().lines();
    assert_eq!(
        anon.len(),
        1,
        "one anonymous volume for the image's VOLUME: {anon:?}"
    );
    let out = s
        .run(&[
            "run",
            "--rm",
            "-v",
            "named:/data",
            "withvol",
            "cat",
            "/data/seed.txt",
        ])
        .success()
        .stdout_str();
    assert_eq!(out, "from the image\n", "a new named volume is filled too");
    s.run(&["rm", "-v", "anon"]).success();
    assert_eq!(
        s.run(&["volume", "ls", "-q"]).success().lines(),
        vec!["named".to_string()]
    );
}
