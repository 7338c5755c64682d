//! Rootless end to end: an ordinary user runs the real binary (through `setpriv`) with a store of its
//! own under `$XDG_DATA_HOME` and run state under `$XDG_RUNTIME_DIR`.
//!
//! The tests run as root and prepare, once per test binary, the user `selkie-rootless-test` (useradd
//! with a home directory, and a `/etc/subuid`/`/etc/subgid` range when it has none), a copy of the
//! binary in a directory the user can reach, and a busybox docker archive the user can read. Each
//! test then gets its own private home, data and run directories, so its own user namespace (the
//! pause process is killed when the test ends).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use harness::{busybox_image, selkie_binary, Output, Selkie};

const USER: &str = "selkie-rootless-test";
/// A second user, without subordinate ranges.
const NOSUB_USER: &str = "selkie-rootless-nosub";

struct TestUser {
    name: &'static str,
    uid: u32,
    gid: u32,
    /// The first subordinate UID and GID ranges' starts (0 for [`NOSUB_USER`]).
    subuid: u32,
    subgid: u32,
    /// Binary and image archive, readable by the user.
    shared: &'static Path,
}

fn id_of(flag: &str, user: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `user`'s first range in `file`, appending `USER:200000:65536` when it has none.
fn ensure_range(file: &str, user: &str) -> u32 {
    let find = || {
        fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                let mut f = l.split(':');
                (f.next() == Some(user)).then(|| f.next()?.parse::<u32>().ok())?
            })
    };
    if let Some(start) = find() {
        return start;
    }
    let mut text = fs::read_to_string(file).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{user}:200000:65536\n"));
    fs::write(file, text).unwrap_or_else(|e| panic!("writing {file}: {e}"));
    find().expect("the range just written")
}

/// Removes `user`'s ranges from `file` (useradd may have added some).
fn remove_ranges(file: &str, user: &str) {
    let text = fs::read_to_string(file).unwrap_or_default();
    let kept: String = text
        .lines()
        .filter(|l| l.split(':').next() != Some(user))
        .map(|l| format!("{l}\n"))
        .collect();
    if kept != text {
        fs::write(file, kept).unwrap_or_else(|e| panic!("writing {file}: {e}"));
    }
}

/// The directory with the binary and the busybox archive, made once per test binary.
fn shared_dir() -> &'static Path {
    static SHARED: OnceLock<PathBuf> = OnceLock::new();
    SHARED.get_or_init(|| {
        // Earlier runs' copies (their test binary has exited) go first.
        for e in fs::read_dir("/tmp").into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("selkie-rootless-shared-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let shared = PathBuf::from(format!("/tmp/selkie-rootless-shared-{}", std::process::id()));
        let _ = fs::remove_dir_all(&shared);
        fs::create_dir_all(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
        fs::copy(selkie_binary(), shared.join("selkie")).expect("copying the binary");
        fs::set_permissions(shared.join("selkie"), fs::Permissions::from_mode(0o755)).unwrap();
        busybox_image().write_docker_archive(&shared.join("busybox.tar"), &["busybox:latest"]);
        fs::set_permissions(shared.join("busybox.tar"), fs::Permissions::from_mode(0o644)).unwrap();
        shared
    })
}

fn make_user(name: &'static str, ranges: bool) -> TestUser {
    if id_of("-u", name).is_none() {
        let status = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", name])
            .status()
            .expect("running useradd");
        // A concurrent test binary may have created it meanwhile.
        assert!(
            status.success() || id_of("-u", name).is_some(),
            "useradd {name} failed"
        );
    }
    let (uid, gid) = (id_of("-u", name).unwrap(), id_of("-g", name).unwrap());
    let (subuid, subgid) = if ranges {
        (
            ensure_range("/etc/subuid", name),
            ensure_range("/etc/subgid", name),
        )
    } else {
        remove_ranges("/etc/subuid", name);
        remove_ranges("/etc/subgid", name);
        (0, 0)
    };
    TestUser {
        name,
        uid,
        gid,
        subuid,
        subgid,
        shared: shared_dir(),
    }
}

fn test_user() -> &'static TestUser {
    static ONCE: OnceLock<TestUser> = OnceLock::new();
    ONCE.get_or_init(|| make_user(USER, true))
}

fn nosub_user() -> &'static TestUser {
    static ONCE: OnceLock<TestUser> = OnceLock::new();
    ONCE.get_or_init(|| make_user(NOSUB_USER, false))
}

/// One test's rootless environment: a private home with data, config and run directories.
struct Rootless {
    user: &'static TestUser,
    /// For its command runner only; its store is not used.
    harness: Selkie,
    dir: tempfile::TempDir,
}

impl Rootless {
    fn new() -> Rootless {
        Rootless::for_user(test_user())
    }

    fn for_user(user: &'static TestUser) -> Rootless {
        let dir = tempfile::Builder::new()
            .prefix("selkie-rootless-")
            .tempdir()
            .unwrap();
        for sub in ["", "data", "config", "run", "work"] {
            let p = dir.path().join(sub);
            fs::create_dir_all(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(user.uid), Some(user.gid)).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
        }
        // Empty configuration files: the host's storage.conf and registries.conf are not read.
        for (name, text) in [
            ("storage.conf", ""),
            ("registries.conf", "unqualified-search-registries = []\n"),
        ] {
            fs::write(dir.path().join("config").join(name), text).unwrap();
        }
        Rootless {
            user,
            harness: Selkie::new(),
            dir,
        }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// `selkie ARGS` as the test user, with this test's HOME and XDG directories.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={}", self.user.uid))
            .arg(format!("--regid={}", self.user.gid))
            .arg("--init-groups")
            .arg("--")
            .arg(self.user.shared.join("selkie"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", self.dir.path())
            .env("USER", self.user.name)
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("CONTAINERS_STORAGE_CONF", self.path("config/storage.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", self.path("config/registries.conf"))
            .current_dir(self.path("work"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.harness.run_command(self.command(args), None)
    }

    fn load_busybox(&self) {
        let archive = self.user.shared.join("busybox.tar");
        self.run(&["load", "-i", archive.to_str().unwrap()]).success();
    }

    /// A directory `work/NAME` of the user's, and the `-v` value that mounts it at `/NAME`.
    fn user_volume(&self, name: &str) -> (PathBuf, String) {
        let dir = self.path("work").join(name);
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(self.user.uid), Some(self.user.gid)).unwrap();
        let mount = format!("{}:/{name}", dir.display());
        (dir, mount)
    }

    /// The store's root, as the user's defaults put it.
    fn graph_root(&self) -> PathBuf {
        self.path("data/selkie")
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        // Containers first (they hold nothing on the host, but their processes would outlive us).
        let _ = self.run(&["rm", "-a", "-f", "-t", "0"]);
        if let Ok(pid) = fs::read_to_string(self.path("run/selkie/pause.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// Every path under `dir` with its owner, not following symlinks.
fn owners(dir: &Path, out: &mut Vec<(PathBuf, u32, u32)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        out.push((p.clone(), meta.uid(), meta.gid()));
        if meta.is_dir() {
            owners(&p, out);
        }
    }
}

#[test]
fn unshare_shows_the_subordinate_mapping() {
    let r = Rootless::new();
    let out = r.run(&["unshare", "cat", "/proc/self/uid_map"]);
    out.success();
    let lines: Vec<Vec<u32>> = out
        .lines()
        .iter()
        .map(|l| l.split_whitespace().map(|n| n.parse().unwrap()).collect())
        .collect();
    assert_eq!(
        lines[0],
        [0, r.user.uid, 1],
        "container root is the user: {lines:?}"
    );
    assert_eq!(
        lines[1][..2],
        [1, r.user.subuid],
        "then the subordinate range: {lines:?}"
    );
    let out = r.run(&["unshare", "sh", "-c", "id -u; echo $CONTAINERS_GRAPHROOT"]);
    out.success();
    assert_eq!(
        out.lines(),
        ["0".to_string(), r.graph_root().display().to_string()]
    );
    // Every command shares one namespace, held by the pause process; a killed one is replaced.
    let pause = || fs::read_to_string(r.path("run/selkie/pause.pid")).unwrap();
    let ns = |args: &[&str]| r.run(args).stdout_str();
    let first = pause();
    let user_ns = ns(&["unshare", "readlink", "/proc/self/ns/user"]);
    assert_eq!(ns(&["unshare", "readlink", "/proc/self/ns/user"]), user_ns);
    assert_eq!(pause(), first);
    unsafe { libc::kill(first.trim().parse().unwrap(), libc::SIGKILL) };
    r.run(&["unshare", "true"]).success();
    assert_ne!(pause(), first);
    assert_ne!(ns(&["unshare", "readlink", "/proc/self/ns/user"]), user_ns);
}

#[test]
fn files_in_containers_map_to_the_users_ranges_on_the_host() {
    let r = Rootless::new();
    r.load_busybox();
    r.run(&["images", "--format", "{{.Repository}}"])
        .success()
        .assert_stdout_contains("localhost/busybox");
    let (vol, mount) = r.user_volume("vol");
    let out = r.run(&[
        "run",
        "--name",
        "owner",
        "-v",
        &mount,
        "busybox",
        "sh",
        "-c",
        "echo hi > /vol/mine && touch /vol/theirs && chown 1000:1000 /vol/theirs && \
         touch /home/tester/up && chown 1000:1000 /home/tester/up && id -u",
    ]);
    out.success();
    assert_eq!(out.lines(), ["0"]);
    // Container root's file on the volume is the user's own; container UID 1000 is subuid start + 999.
    let meta = fs::metadata(vol.join("mine")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (r.user.uid, r.user.gid));
    assert_eq!(fs::read_to_string(vol.join("mine")).unwrap(), "hi\n");
    let meta = fs::metadata(vol.join("theirs")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (r.user.subuid + 999, r.user.subgid + 999)
    );
    // The same in the container's upper directory, and nothing in the store belongs to root.
    let mut all = vec![];
    owners(&r.graph_root(), &mut all);
    owners(&r.path("run"), &mut all);
    let up = all
        .iter()
        .find(|(p, _, _)| p.ends_with("home/tester/up"))
        .unwrap_or_else(|| panic!("no upper file home/tester/up in {all:?}"));
    assert_eq!((up.1, up.2), (r.user.subuid + 999, r.user.subgid + 999));
    let rooted: Vec<_> = all.iter().filter(|(_, u, g)| *u == 0 || *g == 0).collect();
    assert!(rooted.is_empty(), "files owned by root on the host: {rooted:?}");
    r.run(&["rm", "owner"]).success();
}

#[test]
fn host_files_the_user_cannot_read_stay_unreadable() {
    let r = Rootless::new();
    r.load_busybox();
    // Not even with every capability the user namespace has (`--privileged`), nor from `unshare`.
    for extra in [&[][..], &["--privileged"][..]] {
        let mut args = vec!["run", "--rm", "-v", "/etc/shadow:/x"];
        args.extend_from_slice(extra);
        args.extend(["busybox", "cat", "/x"]);
        let out = r.run(&args);
        assert_ne!(out.code(), 0, "{}", out.stdout_str());
        assert!(
            out.stderr_str().contains("can't open '/x': Permission denied"),
            "stderr: {}",
            out.stderr_str()
        );
        assert!(!out.stdout_str().contains("root:"));
    }
    let out = r.run(&["unshare", "cat", "/etc/shadow"]);
    assert_ne!(out.code(), 0);
    assert!(out.stdout.is_empty());
}

#[test]
fn run_state_without_xdg_runtime_dir_is_a_private_tmp_dir() {
    let r = Rootless::new();
    let dir = PathBuf::from(format!("/tmp/selkie-run-{}", r.user.uid));
    let cleanup = || {
        if let Ok(pid) = fs::read_to_string(dir.join("selkie/pause.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = fs::remove_dir_all(&dir);
    };
    let info = || {
        let mut cmd = r.command(&["info", "--format", "{{.Store.RunRoot}}"]);
        cmd.env_remove("XDG_RUNTIME_DIR");
        r.harness.run_command(cmd, None)
    };
    cleanup();
    // Someone else's directory in its place is refused.
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    info().assert_error(125, "must be a directory owned by uid");
    fs::remove_dir(&dir).unwrap();
    let out = info();
    out.success();
    assert_eq!(out.lines(), [dir.join("selkie").display().to_string()]);
    let meta = fs::metadata(&dir).unwrap();
    assert_eq!(
        (meta.uid(), meta.permissions().mode() & 0o777),
        (r.user.uid, 0o700)
    );
    cleanup();
}

#[test]
fn exec_stop_and_logs_of_a_detached_container() {
    let r = Rootless::new();
    r.load_busybox();
    r.run(&[
        "run",
        "-d",
        "--name",
        "bg",
        "-u",
        "1000",
        "busybox",
        "sh",
        "-c",
        "echo started; exec sleep 300",
    ])
    .success();
    r.run(&["ps", "--format", "{{.Names}}"])
        .success()
        .assert_stdout_contains("bg");
    let out = r.run(&["exec", "bg", "id", "-u"]);
    out.success();
    assert_eq!(out.lines(), ["1000"]);
    let out = r.run(&["exec", "-u", "0", "bg", "cat", "/proc/1/comm"]);
    out.success();
    assert_eq!(out.lines(), ["sleep"]);
    r.run(&["logs", "bg"]).success().assert_stdout_contains("started");
    // --env-host passes the user's environment, not selkie's own markers.
    let out = r.run(&["run", "--rm", "--env-host", "busybox", "env"]);
    out.success();
    assert!(
        out.stdout_str().contains("USER=selkie-rootless-test"),
        "{}",
        out.stdout_str()
    );
    assert!(!out.stdout_str().contains("_SELKIE_"), "{}", out.stdout_str());
    r.run(&["stop", "-t", "1", "bg"]).success();
    r.run(&["rm", "bg"]).success();
}

#[test]
fn keep_id_keeps_the_users_uid() {
    let r = Rootless::new();
    r.load_busybox();
    let out = r.run(&[
        "run",
        "--rm",
        "--userns=keep-id",
        "busybox",
        "sh",
        "-c",
        "id -u; id -g",
    ]);
    out.success();
    assert_eq!(out.lines(), [r.user.uid.to_string(), r.user.gid.to_string()]);
}

#[test]
fn resource_limits_without_a_delegated_cgroup_are_refused_clearly() {
    let r = Rootless::new();
    r.load_busybox();
    let out = r.run(&["run", "--rm", "--memory", "64m", "busybox", "true"]);
    assert_eq!(out.code(), 125, "{}", out.stderr_str());
    assert!(
        out.stderr_str().contains("rootless"),
        "stderr: {}",
        out.stderr_str()
    );
}

#[test]
fn containers_with_their_own_user_namespace() {
    let r = Rootless::new();
    r.load_busybox();
    let (vol, mount) = r.user_volume("kept");
    // keep-id: a file the container's process writes is the user's own on the host; exec joins the
    // container's user namespace.
    r.run(&[
        "run",
        "-d",
        "--name",
        "kid",
        "--userns=keep-id",
        "-v",
        &mount,
        "busybox",
        "sh",
        "-c",
        "touch /kept/f; exec sleep 300",
    ])
    .success();
    let out = r.run(&["exec", "kid", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    out.success();
    let lines = out.lines();
    assert_eq!(lines[0], r.user.uid.to_string(), "{lines:?}");
    assert!(
        lines.iter().any(|l| l
            .split_whitespace()
            .eq([r.user.uid.to_string(), "0".into(), "1".into()])),
        "the user's UID maps to the rootless namespace's root: {lines:?}"
    );
    let meta = fs::metadata(vol.join("f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (r.user.uid, r.user.gid));
    r.run(&["rm", "-f", "-t", "0", "kid"]).success();
    // --uidmap (one given: the same for GIDs), as long as it maps the user's own ID.
    let out = r.run(&[
        "run",
        "--rm",
        "--uidmap",
        "0:0:1",
        "--uidmap",
        "1:1000:500",
        "busybox",
        "cat",
        "/proc/self/uid_map",
        "/proc/self/gid_map",
    ]);
    out.success();
    let table: Vec<Vec<String>> = out
        .lines()
        .iter()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(
        table,
        [
            ["0", "0", "1"],
            ["1", "1000", "500"],
            ["0", "0", "1"],
            ["1", "1000", "500"]
        ]
    );
    // nomap: root inside is the first subordinate ID, the user is not mapped at all; a file it makes
    // in the image's world-writable /tmp belongs to that ID.
    let out = r.run(&[
        "run",
        "--rm",
        "--userns=nomap",
        "-v",
        &mount,
        "busybox",
        "sh",
        "-c",
        "cat /proc/self/uid_map; id -u; touch /tmp/x && ls -ln /tmp/x; stat -c %u /bin/busybox",
    ]);
    out.success();
    let lines = out.lines();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>()[..2],
        ["0", "1"],
        "{lines:?}"
    );
    assert_eq!(lines[1], "0");
    assert!(lines[2].contains(" 0 "), "{lines:?}");
    assert_eq!(lines[3], "65534", "the user's own files are unmapped: {lines:?}");
    // auto: blocks of the subordinate range that do not overlap.
    r.run(&["create", "--name", "a1", "--userns=auto", "busybox", "true"])
        .success();
    let out = r.run(&[
        "run",
        "--rm",
        "--userns=auto:size=2000",
        "busybox",
        "cat",
        "/proc/self/uid_map",
    ]);
    out.success();
    assert_eq!(
        out.lines()[0].split_whitespace().collect::<Vec<_>>(),
        ["0", "1025", "2000"]
    );
    r.run(&["start", "-a", "a1"]).success();
    let out = r.run(&[
        "run",
        "--rm",
        "--userns=keep-id",
        "--uidmap",
        "0:1:1",
        "busybox",
        "true",
    ]);
    assert_eq!(out.code(), 125, "{}", out.stderr_str());
}

/// A free TCP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn published_port_reaches_busybox_httpd_through_slirp4netns() {
    // slirp4netns opens /dev/net/tun as the user: this machine ships it 0600, most distributions 0666.
    // As root, the test makes it 0666 (and leaves it so).
    fs::set_permissions("/dev/net/tun", fs::Permissions::from_mode(0o666)).unwrap();
    let r = Rootless::new();
    r.load_busybox();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:8080");
    r.run(&[
        "run", "-d", "--name", "web", "-p", &publish, "busybox", "sh", "-c",
        "mkdir /www && echo hello-rootless > /www/index.html && ip addr show tap0 > /www/ip && exec httpd -f -p 8080 -h /www",
    ])
    .success();
    let get = |path: &str| -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).ok()?;
        Some(body)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let body = loop {
        match get("/index.html") {
            Some(b) if b.contains("hello-rootless") => break b,
            other if std::time::Instant::now() > deadline => panic!("no answer on {publish}: {other:?}"),
            _ => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    let ip = get("/ip").unwrap_or_default();
    assert!(
        ip.contains("10.0.2.100"),
        "the container's tap0 is configured: {ip}"
    );
    let out = r.run(&["exec", "web", "head", "-n1", "/etc/resolv.conf"]);
    out.success();
    assert_eq!(
        out.lines(),
        ["nameserver 10.0.2.3"],
        "slirp4netns's DNS forwarder comes first"
    );
    r.run(&["rm", "-f", "-t", "0", "web"]).success();
    // The forwarding is gone with the container.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_user_without_subordinate_ranges_gets_a_single_mapping() {
    let r = Rootless::for_user(nosub_user());
    let out = r.run(&["unshare", "cat", "/proc/self/uid_map", "/proc/self/gid_map"]);
    out.success();
    let table: Vec<Vec<String>> = out
        .lines()
        .iter()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let (uid, gid) = (r.user.uid.to_string(), r.user.gid.to_string());
    assert_eq!(table, [["0", uid.as_str(), "1"], ["0", gid.as_str(), "1"]]);
    assert!(
        out.stderr_str().contains("no subuid/subgid ranges"),
        "{}",
        out.stderr_str()
    );
    // Every layer file becomes the user's; containers run as root (the user) and write as the user.
    r.load_busybox();
    let (vol, mount) = r.user_volume("v");
    let out = r.run(&[
        "run",
        "--rm",
        "-v",
        &mount,
        "busybox",
        "sh",
        "-c",
        "id -u; touch /v/f",
    ]);
    out.success();
    assert_eq!(out.lines(), ["0"]);
    let meta = fs::metadata(vol.join("f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (r.user.uid, r.user.gid));
}

#[test]
fn network_none_and_host() {
    fs::set_permissions("/dev/net/tun", fs::Permissions::from_mode(0o666)).unwrap();
    let r = Rootless::new();
    r.load_busybox();
    // none: loopback only, no slirp4netns device.
    let out = r.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    out.success();
    assert_eq!(out.lines(), ["lo"]);
    // host: the host's network namespace (its /sys a bind of the host's: sysfs cannot be mounted).
    let host = fs::read_link("/proc/self/ns/net").unwrap();
    let out = r.run(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "sh",
        "-c",
        "readlink /proc/self/ns/net && ls /sys/class/net",
    ]);
    out.success();
    let lines = out.lines();
    assert_eq!(lines[0], host.display().to_string());
    assert!(lines.iter().any(|l| l == "lo"), "{lines:?}");
    // -p needs the default network.
    let out = r.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-p",
        "8080:80",
        "busybox",
        "true",
    ]);
    out.assert_error(125, "-p/--publish needs the default network");
}

#[test]
fn containers_stay_descendants_of_the_command_and_keep_its_loginuid() {
    let r = Rootless::new();
    r.load_busybox();
    // As root: set the login UID of a shell, which then becomes the user and runs selkie. (Inside the
    // user namespace 3267 is not mapped and reads as 4294967295: the host reads it.)
    let inner = r.command(&["run", "-d", "--name", "audited", "busybox", "sleep", "300"]);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("echo 3267 > /proc/self/loginuid && exec \"$@\"")
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .current_dir(r.path("work"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    r.harness.run_command(cmd, None).success();
    let out = r.run(&["inspect", "--format", "{{.State.Pid}}", "audited"]);
    out.success();
    let pid = out.stdout_str().trim().to_string();
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/loginuid")).unwrap(),
        "3267"
    );
    r.run(&["rm", "-f", "-t", "0", "audited"]).success();
}

/// The lines of every process's mountinfo on the host (read as root) that mention `needle`.
fn host_mounts_with(needle: &str) -> Vec<String> {
    let mut found = vec![];
    for e in fs::read_dir("/proc").unwrap().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(info) = fs::read_to_string(e.path().join("mountinfo")) else {
            continue;
        };
        found.extend(info.lines().filter(|l| l.contains(needle)).map(|l| l.to_string()));
    }
    found
}

#[test]
fn fuse_overlayfs_as_the_mount_program() {
    // fuse-overlayfs opens /dev/fuse as the user (root in its namespace): this machine ships it 0600,
    // most distributions 0666. As root, the test makes it 0666 (and leaves it so).
    fs::set_permissions("/dev/fuse", fs::Permissions::from_mode(0o666)).unwrap();
    let r = Rootless::new();
    fs::write(
        r.path("config/storage.conf"),
        "[storage.options.overlay]\nmount_program = \"/usr/bin/fuse-overlayfs\"\n",
    )
    .unwrap();
    r.load_busybox();
    let out = r.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep ' / ' /proc/self/mountinfo",
    ]);
    out.success();
    assert!(
        out.stdout_str().contains("fuse.fuse-overlayfs"),
        "the root is fuse-overlayfs: {}",
        out.stdout_str()
    );
    r.run(&[
        "run",
        "-d",
        "--name",
        "fz",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data && echo hi > /data/f && chown 1000:1000 /data/f && touch /data/ready && exec sleep 300",
    ])
    .success();
    let id = r
        .run(&["inspect", "--format", "{{.Id}}", "fz"])
        .stdout_str()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !r
        .run(&["exec", "fz", "test", "-e", "/data/ready"])
        .status
        .success()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never wrote /data/ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = r.run(&["exec", "-u", "1000", "fz", "sh", "-c", "id -u; cat /data/f"]);
    out.success();
    assert_eq!(out.lines(), ["1000", "hi"]);
    // The file is in the container's upper directory on the host, owned by container UID 1000's subuid.
    let mut all = vec![];
    owners(&r.graph_root(), &mut all);
    let f = all
        .iter()
        .find(|(p, _, _)| p.ends_with("data/f") && p.to_string_lossy().contains("upper"))
        .unwrap_or_else(|| panic!("no upper file data/f in {all:?}"));
    assert_eq!((f.1, f.2), (r.user.subuid + 999, r.user.subgid + 999));
    assert_eq!(fs::read_to_string(&f.0).unwrap(), "hi\n");
    // The fuse mount lives in the user's namespace at the container's merged directory.
    let mounted = host_mounts_with(&id);
    assert!(
        mounted.iter().any(|l| l.contains("fuse.fuse-overlayfs")),
        "{mounted:?}"
    );
    r.run(&["rm", "-f", "-t", "0", "fz"]).success();
    let left: Vec<_> = host_mounts_with(&id)
        .into_iter()
        .filter(|l| l.contains("fuse"))
        .collect();
    assert!(left.is_empty(), "fuse mounts left after rm: {left:?}");
    // A container whose monitor was killed keeps its mount until `rm` releases it.
    r.run(&["run", "-d", "--name", "fk", "busybox", "sleep", "300"])
        .success();
    let id = r
        .run(&["inspect", "--format", "{{.Id}}", "fk"])
        .stdout_str()
        .trim()
        .to_string();
    let monitor: i32 = r
        .run(&["inspect", "--format", "{{.State.ConmonPid}}", "fk"])
        .stdout_str()
        .trim()
        .parse()
        .unwrap();
    assert!(monitor > 0);
    assert!(host_mounts_with(&id).iter().any(|l| l.contains("fuse")));
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    r.run(&["rm", "-f", "-t", "0", "fk"]).success();
    let left: Vec<_> = host_mounts_with(&id)
        .into_iter()
        .filter(|l| l.contains("fuse"))
        .collect();
    assert!(left.is_empty(), "fuse mounts left after rm: {left:?}");
    let out = r.run(&["unshare", "cat", "/proc/self/mountinfo"]);
    out.success();
    assert!(
        !out.stdout_str().contains("fuse-overlayfs"),
        "{}",
        out.stdout_str()
    );
}
