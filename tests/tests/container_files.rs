//! End-to-end tests of the commands that work on a container's files, run as root through the real
//! binary: `cp` in both directions for created, exited and running containers (files, directories,
//! `SRC/.`, tar streams, ownership, placement errors), `cp` refusing to follow a container's symlinks
//! onto the host, `diff`, `export`, `mount`/`unmount` (and `rm` and `start` of a mounted container),
//! and `commit` followed by `run` of the new image.
//!
//! Each test has its own store with the busybox image loaded ([`ContainerStore`]).

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use harness::container::{is_hex64, mounts_mentioning, ContainerStore, BUSYBOX};

/// Runs `sh -c SCRIPT` in a new container named `name` and waits for it to exit 0.
fn run_script(s: &ContainerStore, name: &str, script: &str) {
    s.run(&["run", "--name", name, BUSYBOX, "sh", "-c", script])
        .success();
}

/// Starts a detached container named `name` that runs `script` and then sleeps; waits until the script
/// has finished (it touches /ready).
fn run_detached_script(s: &ContainerStore, name: &str, script: &str) {
    let full = format!("{script}; touch /ready; exec sleep 100");
    s.run_detached(&["--name", name, BUSYBOX, "sh", "-c", &full]);
    let ok = harness::container::poll(Duration::from_secs(10), || {
        s.run(&["exec", name, "test", "-e", "/ready"]).code() == 0
    });
    assert!(ok, "container {name} never became ready");
}

/// The entries (path, contents of regular files) of a tar archive.
fn tar_entries(data: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .expect("a tar archive")
        .map(|e| {
            let mut e = e.expect("a tar entry");
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let body = if e.header().entry_type().is_file() {
                let mut v = vec![];
                e.read_to_end(&mut v).unwrap();
                Some(v)
            } else {
                None
            };
            (path, body)
        })
        .collect()
}

fn file_in<'a>(entries: &'a [(String, Option<Vec<u8>>)], path: &str) -> Option<&'a [u8]> {
    entries
        .iter()
        .find(|(p, _)| p.trim_start_matches("./").trim_end_matches('/') == path)
        .and_then(|(_, b)| b.as_deref())
}

/// A tar archive of `(path, contents)` files, with a symlink entry first when `link` is given.
fn tar_of(files: &[(&str, &str)], link: Option<(&str, &str)>) -> Vec<u8> {
    let mut b = tar::Builder::new(vec![]);
    if let Some((name, target)) = link {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, name, target).unwrap();
    }
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, body.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn cp_copies_files_and_directories_with_a_stopped_container() {
    let s = ContainerStore::new();
    run_script(
        &s,
        "c",
        "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b",
    );
    let host = s.path("host");
    fs::create_dir_all(&host).unwrap();

    // Container to host: a file onto a new name, into a directory, onto an existing file.
    s.run(&["cp", "c:/data/a", host.join("a.txt").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(host.join("a.txt")).unwrap(), "one\n");
    s.run(&["cp", "c:/etc/passwd", host.to_str().unwrap()]).success();
    assert_eq!(
        fs::read_to_string(host.join("passwd")).unwrap(),
        harness::rootfs::PASSWD
    );
    fs::write(host.join("old"), "old contents that are longer\n").unwrap();
    s.run(&["cp", "c:data/a", host.join("old").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(host.join("old")).unwrap(), "one\n");

    // A directory onto a missing path creates it; into an existing one lands inside; `/.` copies contents.
    s.run(&["cp", "c:/data", host.join("copy").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(host.join("copy/sub/b")).unwrap(), "two\n");
    s.run(&["cp", "c:/data", host.join("copy").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(host.join("copy/data/a")).unwrap(), "one\n");
    fs::create_dir(host.join("contents")).unwrap();
    s.run(&["cp", "c:/data/.", host.join("contents").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(host.join("contents/a")).unwrap(), "one\n");
    assert!(!host.join("contents/data").exists());

    // Host to container, then read back by the container itself.
    let src = s.path("src");
    fs::create_dir_all(src.join("deep/er")).unwrap();
    fs::write(src.join("deep/er/f"), "from the host\n").unwrap();
    fs::write(s.path("single"), "single file\n").unwrap();
    s.run(&["cp", src.join("deep").to_str().unwrap(), "c:/data"])
        .success();
    s.run(&["cp", s.path("single").to_str().unwrap(), "c:/new-name"])
        .success();
    s.run(&["container", "cp", s.path("single").to_str().unwrap(), "c:/tmp/"])
        .success();
    s.run(&["commit", "-q", "c", "files"]).success();
    let out = s
        .run(&[
            "run",
            "--rm",
            "files",
            "cat",
            "/data/deep/er/f",
            "/new-name",
            "/tmp/single",
        ])
        .success()
        .stdout_str();
    assert_eq!(out, "from the host\nsingle file\nsingle file\n");

    // Container to container.
    s.run(&["create", "--name", "other", BUSYBOX, "cat", "/tmp/sub/b"])
        .success();
    s.run(&["cp", "c:/data/sub", "other:/tmp"]).success();
    assert_eq!(s.run(&["start", "-a", "other"]).success().stdout_str(), "two\n");

    // Errors: a missing source, a missing parent, a file onto `DIR/` that does not exist.
    s.run(&["cp", "c:/nonexistent", host.to_str().unwrap()])
        .assert_error(125, "could not be found");
    s.run(&["cp", s.path("single").to_str().unwrap(), "c:/no/such/dir/f"])
        .assert_error(125, "does not exist");
    s.run(&["cp", "c:/data/a", host.join("missing/f").to_str().unwrap()])
        .assert_error(125, "does not exist");
    s.run(&["cp", s.path("single").to_str().unwrap(), "c:/nodir/"])
        .assert_error(125, "");
    // A directory never silently replaces a file.
    s.run(&["cp", "c:/data", host.join("a.txt").to_str().unwrap()])
        .assert_error(125, "--overwrite");
    s.run(&[
        "cp",
        "--overwrite",
        "c:/data",
        host.join("a.txt").to_str().unwrap(),
    ])
    .success();
    assert!(host.join("a.txt/sub/b").is_file());
    // Nothing was mounted on the host along the way.
    assert!(mounts_mentioning(s.dir()).is_empty());
}

#[test]
fn cp_works_on_a_running_container() {
    let s = ContainerStore::new();
    run_detached_script(&s, "web", "echo inside > /tmp/made");
    let host = s.path("out");
    s.run(&["cp", "web:/tmp/made", host.to_str().unwrap()]).success();
    assert_eq!(fs::read_to_string(&host).unwrap(), "inside\n");

    fs::write(s.path("in"), "to the running container\n").unwrap();
    s.run(&["cp", s.path("in").to_str().unwrap(), "web:/tmp/in"])
        .success();
    let out = s.run(&["exec", "web", "cat", "/tmp/in"]).success().stdout_str();
    assert_eq!(out, "to the running container\n");
    // A file the runtime bind-mounts into the container is written in place.
    fs::write(s.path("hosts"), "10.1.2.3 elsewhere\n").unwrap();
    s.run(&["cp", s.path("hosts").to_str().unwrap(), "web:/etc/hosts"])
        .success();
    let out = s
        .run(&["exec", "web", "cat", "/etc/hosts"])
        .success()
        .stdout_str();
    assert_eq!(out, "10.1.2.3 elsewhere\n");
}

#[test]
fn cp_sets_owners_as_archive_says() {
    let s = ContainerStore::new();
    s.run(&[
        "create",
        "--name",
        "c",
        BUSYBOX,
        "stat",
        "-c",
        "%u:%g",
        "/owned-default",
        "/owned-kept",
    ])
    .success();
    let f = s.path("owned");
    fs::write(&f, "x").unwrap();
    std::os::unix::fs::chown(&f, Some(1234), Some(4321)).unwrap();
    s.run(&["cp", f.to_str().unwrap(), "c:/owned-default"]).success();
    s.run(&["cp", "--archive=false", f.to_str().unwrap(), "c:/owned-kept"])
        .success();
    let out = s.run(&["start", "-a", "c"]).success().stdout_str();
    assert_eq!(out, "0:0\n1234:4321\n");
    // Onto the host: owned by the caller (root) unless --archive=false.
    s.run(&["cp", "c:/owned-kept", s.path("back").to_str().unwrap()])
        .success();
    assert_eq!(fs::metadata(s.path("back")).unwrap().uid(), 0);
    s.run(&[
        "cp",
        "-a=false",
        "c:/owned-kept",
        s.path("back2").to_str().unwrap(),
    ])
    .success();
    assert_eq!(fs::metadata(s.path("back2")).unwrap().uid(), 1234);
}

#[test]
fn cp_streams_tar_archives() {
    let s = ContainerStore::new();
    run_script(&s, "c", "mkdir /data && echo streamed > /data/x");
    let out = s.run(&["cp", "c:/data", "-"]);
    out.success();
    let entries = tar_entries(&out.stdout);
    assert_eq!(
        file_in(&entries, "data/x"),
        Some(&b"streamed\n"[..]),
        "{entries:?}"
    );

    let archive = tar_of(&[("in/one", "1\n"), ("two", "2\n")], None);
    s.run_stdin(&["cp", "-", "c:/tmp"], &archive).success();
    let out = s.run(&["cp", "c:/tmp", "-"]);
    out.success();
    let entries = tar_entries(&out.stdout);
    assert_eq!(file_in(&entries, "tmp/in/one"), Some(&b"1\n"[..]), "{entries:?}");
    assert_eq!(file_in(&entries, "tmp/two"), Some(&b"2\n"[..]), "{entries:?}");
    // A stream needs an existing directory.
    s.run_stdin(&["cp", "-", "c:/missing"], &archive)
        .assert_error(125, "");
}

/// The container makes `/escape -> /` and `/link -> DIR`, where DIR is a host directory the container
/// also has (with its own `secret`). Every copy must see the container's files and leave the host's alone.
fn assert_no_escape(s: &ContainerStore, name: &str, hostdir: &Path) {
    let dir = hostdir.to_str().unwrap();
    let out = s.path(&format!("{name}-out"));
    fs::create_dir_all(&out).unwrap();

    s.run(&[
        "cp",
        &format!("{name}:/escape{dir}/secret"),
        out.join("1").to_str().unwrap(),
    ])
    .success();
    assert_eq!(fs::read_to_string(out.join("1")).unwrap(), "container\n");
    s.run(&[
        "cp",
        &format!("{name}:/link/secret"),
        out.join("2").to_str().unwrap(),
    ])
    .success();
    assert_eq!(fs::read_to_string(out.join("2")).unwrap(), "container\n");
    s.run(&["cp", &format!("{name}:/link/"), out.join("3").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_to_string(out.join("3/secret")).unwrap(), "container\n");

    // Writes through the container's symlinks land in the container.
    let payload = s.path("payload");
    fs::write(&payload, "written by cp\n").unwrap();
    s.run(&["cp", payload.to_str().unwrap(), &format!("{name}:/link/new")])
        .success();
    s.run(&[
        "cp",
        payload.to_str().unwrap(),
        &format!("{name}:/escape{dir}/new2"),
    ])
    .success();
    assert!(
        !hostdir.join("new").exists(),
        "cp wrote through a container symlink onto the host"
    );
    assert!(
        !hostdir.join("new2").exists(),
        "cp wrote through a container symlink onto the host"
    );
    s.run(&[
        "cp",
        &format!("{name}:{dir}/new"),
        out.join("4").to_str().unwrap(),
    ])
    .success();
    assert_eq!(fs::read_to_string(out.join("4")).unwrap(), "written by cp\n");

    // A hostile stream: a symlink out of the destination, then a file through it.
    let evil = tar_of(&[("up/pwned", "pwned\n")], Some(("up", dir)));
    s.run_stdin(&["cp", "-", &format!("{name}:/tmp")], &evil)
        .assert_error(125, "");
    assert!(
        !hostdir.join("pwned").exists(),
        "a tar stream wrote onto the host"
    );

    // A container symlink copied to the host stays a symlink; nothing of the host is copied.
    s.run(&["cp", &format!("{name}:/escape"), out.join("5").to_str().unwrap()])
        .success();
    assert_eq!(fs::read_link(out.join("5")).unwrap(), Path::new("/"));
    assert_eq!(fs::read_to_string(hostdir.join("secret")).unwrap(), "host\n");
}

#[test]
fn cp_never_follows_a_container_symlink_onto_the_host() {
    let s = ContainerStore::new();
    let hostdir = s.path("hostdir");
    fs::create_dir_all(&hostdir).unwrap();
    fs::write(hostdir.join("secret"), "host\n").unwrap();
    let dir = hostdir.to_str().unwrap();
    let setup =
        format!("mkdir -p {dir} && echo container > {dir}/secret && ln -s / /escape && ln -s {dir} /link");

    run_script(&s, "stopped", &setup);
    assert_no_escape(&s, "stopped", &hostdir);
    run_detached_script(&s, "running", &setup);
    assert_no_escape(&s, "running", &hostdir);
}

#[test]
fn diff_lists_added_changed_and_deleted_paths() {
    let s = ContainerStore::new();
    run_script(
        &s,
        "c",
        "echo x > /new && echo more >> /etc/passwd && rm /etc/group && mkdir /newdir && touch /newdir/f",
    );
    let out = s.run(&["diff", "c"]).success().stdout_str();
    let want = "C /etc\nD /etc/group\nC /etc/passwd\nA /new\nA /newdir\nA /newdir/f\n";
    assert_eq!(out, want);
    assert_eq!(s.run(&["container", "diff", "c"]).success().stdout_str(), want);
    let json = s.run(&["diff", "--format", "json", "c"]).success().json();
    assert_eq!(json["added"], serde_json::json!(["/new", "/newdir", "/newdir/f"]));
    assert_eq!(json["changed"], serde_json::json!(["/etc", "/etc/passwd"]));
    assert_eq!(json["deleted"], serde_json::json!(["/etc/group"]));
    s.run(&["diff", "nosuch"]).assert_error(125, "no such container");
}

#[test]
fn export_holds_the_image_and_the_container_files() {
    let s = ContainerStore::new();
    run_script(&s, "c", "echo mine > /mine && rm /etc/group");
    let file = s.path("c.tar");
    s.run(&["export", "-o", file.to_str().unwrap(), "c"]).success();
    let entries = tar_entries(&fs::read(&file).unwrap());
    assert_eq!(file_in(&entries, "mine"), Some(&b"mine\n"[..]));
    assert_eq!(
        file_in(&entries, "etc/passwd"),
        Some(harness::rootfs::PASSWD.as_bytes())
    );
    assert!(entries.iter().any(|(p, _)| p == "bin/busybox"), "{entries:?}");
    assert!(
        !entries.iter().any(|(p, _)| p == "etc/group"),
        "a deleted file was exported"
    );

    // A running container, to stdout: its /proc is not exported.
    run_detached_script(&s, "r", "echo running > /r");
    let out = s.run(&["export", "r"]);
    out.success();
    let entries = tar_entries(&out.stdout);
    assert_eq!(file_in(&entries, "r"), Some(&b"running\n"[..]));
    assert!(
        !entries.iter().any(|(p, _)| p.starts_with("proc/")),
        "/proc was exported"
    );
}

#[test]
fn mount_unmount_and_remove_a_mounted_container() {
    let s = ContainerStore::new();
    s.run(&["create", "--name", "c", BUSYBOX, "cat", "/from-mount"])
        .success();
    let id = s.inspect_format("c", "{{.Id}}");
    let path = s.run(&["mount", "c"]).success().stdout_str().trim().to_string();
    assert!(path.ends_with("/merged"), "{path}");
    assert_eq!(mounts_mentioning(Path::new(&path)).len(), 1);
    assert_eq!(
        fs::read_to_string(Path::new(&path).join("etc/passwd")).unwrap(),
        harness::rootfs::PASSWD
    );
    let listed = s.run(&["mount"]).success().stdout_str();
    assert_eq!(listed, format!("{id} {path}\n"));
    // Mounting twice gives the same path; the container started while mounted sees the mount's files.
    assert_eq!(s.run(&["mount", "c"]).success().stdout_str().trim(), path);
    fs::write(Path::new(&path).join("from-mount"), "written on the host\n").unwrap();
    let out = s.run(&["start", "-a", "c"]).success().stdout_str();
    assert_eq!(out, "written on the host\n");
    // And what it leaves is in its upper layer, seen by diff.
    assert!(s
        .run(&["diff", "c"])
        .success()
        .stdout_str()
        .contains("A /from-mount\n"));

    s.run(&["umount", "c"]).success();
    assert!(mounts_mentioning(Path::new(&path)).is_empty());
    assert_eq!(s.run(&["mount"]).success().stdout_str(), "");
    s.run(&["unmount", "c"]).success();

    // A running container cannot be mounted a second time over its own upper directory.
    run_detached_script(&s, "r", "true");
    s.run(&["mount", "r"]).assert_error(125, "running");

    // rm unmounts.
    s.run(&["container", "mount", "c"]).success();
    s.run(&["rm", "c"]).success();
    assert!(mounts_mentioning(s.dir()).is_empty(), "rm left a mount behind");
}

#[test]
fn commit_then_run_the_new_image() {
    let s = ContainerStore::new();
    run_script(
        &s,
        "c",
        "echo added > /added && echo extra:x:5:5::/:/bin/sh >> /etc/passwd && rm /etc/group && rm -r /home && mkdir -p /home/fresh && echo f > /home/fresh/f",
    );
    let id = s
        .run(&[
            "commit",
            "-a",
            "Jane Doe",
            "-m",
            "my change",
            "-c",
            "ENV=FROM_COMMIT=yes",
            "-c",
            r#"CMD ["cat", "/added"]"#,
            "c",
            "committed",
        ])
        .success()
        .stdout_str();
    let id = id.trim();
    assert!(is_hex64(id), "commit printed {id:?}");
    assert_eq!(s.image_id("committed"), id);

    assert_eq!(
        s.run(&["run", "--rm", "committed"]).success().stdout_str(),
        "added\n"
    );
    let out = s
        .run(&[
            "run",
            "--rm",
            "committed",
            "sh",
            "-c",
            "grep ^extra: /etc/passwd; test -e /etc/group || echo no-group; ls /home; echo $FROM_COMMIT",
        ])
        .success()
        .stdout_str();
    assert_eq!(out, "extra:x:5:5::/:/bin/sh\nno-group\nfresh\nyes\n");
    assert_eq!(s.inspect_format("committed", "{{.Author}}"), "Jane Doe");
    let history = s
        .run(&["history", "--format", "{{.Comment}}", "committed"])
        .success()
        .stdout_str();
    assert!(history.lines().next() == Some("my change"), "{history}");

    // The image's container is unchanged by the commit, and a commit of a commit stacks.
    run_script(&s, "c2", "echo second > /second");
    let out = s.run(&["commit", "c2"]).success().stdout_str();
    assert!(is_hex64(out.trim()));
    s.run(&["commit", "-f", "bogus", "c2"]).assert_error(125, "bogus");
}
