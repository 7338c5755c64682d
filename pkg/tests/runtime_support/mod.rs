//! Fixtures for the runtime's integration tests: a busybox root filesystem built by code, a spec for
//! it, pipes for the container's stdio, and a guard that fails a test whose container leaked a mount
//! into the test process's (the host's) mount namespace.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::fcntl::OFlag;
use nix::unistd::Pid;
use oci_spec::runtime::{ProcessBuilder, RootBuilder, Spec, UserBuilder};
use pkg::runtime::{self, RuntimeError, SpawnRequest};

/// Busybox applets linked into `/bin` of the test root.
const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "id", "ls", "true", "false", "sleep", "hostname", "mount", "env", "pwd", "grep",
    "touch", "test", "readlink", "stat", "printf", "wc", "mkdir", "rm", "sed", "head", "tr", "tty", "ps",
    "kill",
];

/// Whether the tests can run (they need root); prints why not when they cannot.
pub fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        eprintln!("skipped: the runtime's integration tests need root");
        false
    }
}

/// A private copy of the host's busybox, made once and kept in `/tmp/selkie-runtime-test-busybox/`.
///
/// Every root hard-links it instead of copying: a file being written while another test clones a
/// container process would be open for writing in that child for a moment, and an `execve` of it in
/// that moment fails with `ETXTBSY`. The copy is made before any fixture exists (and renamed into place,
/// so concurrent test processes never see it half-written); it keeps the host's `/bin/busybox` out of
/// reach of the containers, which run as root with a writable root.
fn busybox_copy() -> &'static Path {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let host = ["/bin/busybox", "/usr/bin/busybox"]
            .iter()
            .map(Path::new)
            .find(|p| p.exists())
            .expect("busybox is installed (apt-get install -y busybox-static)");
        let meta = fs::metadata(host).unwrap();
        let cache = Path::new("/tmp/selkie-runtime-test-busybox");
        fs::create_dir_all(cache).unwrap();
        let path = cache.join(format!("busybox-{}-{}", meta.len(), meta.mtime()));
        if !path.exists() {
            let partial = cache.join(format!("partial-{}", std::process::id()));
            fs::copy(host, &partial).unwrap();
            fs::rename(&partial, &path).unwrap();
        }
        path
    })
}

/// Fill `dir` with a minimal busybox system: `/bin/busybox` and applet links, `/etc/passwd` and
/// `/etc/group` with root and `user` (1000), and the usual empty directories.
pub fn build_busybox_rootfs(dir: &Path) {
    for sub in [
        "bin",
        "etc",
        "proc",
        "sys",
        "dev",
        "tmp",
        "root",
        "home/user",
        "var",
        "run",
    ] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::hard_link(busybox_copy(), dir.join("bin/busybox")).unwrap();
    for applet in APPLETS {
        symlink("busybox", dir.join("bin").join(applet)).unwrap();
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        dir.join("etc/group"),
        "root:x:0:\nuser:x:1000:\nextra:x:1001:user\n",
    )
    .unwrap();
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    std::os::unix::fs::chown(dir.join("home/user"), Some(1000), Some(1000)).unwrap();
}

/// A spec running `args` in `rootfs`: `Spec::default()` (all namespaces, the standard mounts, masked
/// and read-only paths, three capabilities) with a writable root, a PATH and a hostname.
pub fn spec_for(rootfs: &Path, args: &[&str]) -> Spec {
    let mut spec = Spec::default();
    spec.set_root(Some(
        RootBuilder::default()
            .path(rootfs)
            .readonly(false)
            .build()
            .unwrap(),
    ));
    spec.set_hostname(Some("selkie-test".to_string()));
    let default = spec.process().clone().unwrap();
    let process = ProcessBuilder::default()
        .args(args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .env(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            "TERM=xterm".to_string(),
        ])
        .cwd("/")
        .user(UserBuilder::default().uid(0u32).gid(0u32).build().unwrap())
        .capabilities(default.capabilities().clone().unwrap())
        .rlimits(default.rlimits().clone().unwrap())
        .no_new_privileges(true)
        .terminal(false)
        .build()
        .unwrap();
    spec.set_process(Some(process));
    spec
}

/// The set of lines of the test process's mountinfo.
pub fn host_mounts() -> BTreeSet<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Fails the test (when dropped without a panic in flight) if the host's mount table changed.
///
/// Other developers' processes share this machine and mount under their own temporary directories, so
/// a changed line whose mount point lies in `/tmp` or `/var/tmp` is only counted when it is one of ours
/// (under a `selkie-runtime-test` directory). Everything else counts: `/` changing propagation, a mount
/// landing on a host path such as `/proc` or `/data/rw`, a host mount disappearing.
pub struct MountGuard {
    before: BTreeSet<String>,
}

/// Whether a mountinfo line can be the work of this test process.
fn attributable(line: &str) -> bool {
    let mountpoint = line.split(' ').nth(4).unwrap_or("");
    let in_temp = ["/tmp/", "/var/tmp/"].iter().any(|t| mountpoint.starts_with(t));
    !in_temp || line.contains("selkie-runtime-test")
}

impl MountGuard {
    pub fn new() -> Self {
        MountGuard {
            before: host_mounts(),
        }
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let after = host_mounts();
        let added: Vec<&String> = after
            .difference(&self.before)
            .filter(|l| attributable(l))
            .collect();
        let removed: Vec<&String> = self
            .before
            .difference(&after)
            .filter(|l| attributable(l))
            .collect();
        assert!(
            added.is_empty() && removed.is_empty(),
            "the container changed the host's mount table: added {added:#?}, removed {removed:#?}"
        );
    }
}

/// A temporary directory with a busybox root in `rootfs/`, and the host mount guard.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub rootfs: PathBuf,
    _guard: MountGuard,
}

impl Fixture {
    pub fn new() -> Self {
        let guard = MountGuard::new();
        let dir = tempfile::Builder::new()
            .prefix("selkie-runtime-test")
            .tempdir()
            .unwrap();
        let rootfs = dir.path().join("rootfs");
        build_busybox_rootfs(&rootfs);
        Fixture {
            dir,
            rootfs,
            _guard: guard,
        }
    }

    /// A fixture when running as root; `None` (the test is skipped, and says so) otherwise.
    pub fn for_root() -> Option<Self> {
        is_root().then(Fixture::new)
    }

    pub fn spec(&self, args: &[&str]) -> Spec {
        spec_for(&self.rootfs, args)
    }
}

/// What a container printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap()
}

/// Pipes for a container's stdio; the runtime gets the container ends.
pub struct Io {
    stdin: OwnedFd,
    stdout: (OwnedFd, OwnedFd),
    stderr: (OwnedFd, OwnedFd),
}

impl Io {
    /// Stdin reads `input` then end-of-file.
    pub fn new(input: &[u8]) -> Self {
        let (r, w) = pipe();
        let mut w = fs::File::from(w);
        w.write_all(input).unwrap();
        drop(w);
        Io {
            stdin: r,
            stdout: pipe(),
            stderr: pipe(),
        }
    }

    pub fn stdio(&self) -> [RawFd; 3] {
        [
            self.stdin.as_raw_fd(),
            self.stdout.1.as_raw_fd(),
            self.stderr.1.as_raw_fd(),
        ]
    }

    /// Close our copies of the container's ends, read everything, wait for `pid`.
    pub fn collect(self, pid: Pid) -> Output {
        let Io {
            stdin,
            stdout,
            stderr,
        } = self;
        drop((stdin, stdout.1, stderr.1));
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            fs::File::from(stderr.0).read_to_string(&mut s).unwrap();
            s
        });
        let mut out = String::new();
        fs::File::from(stdout.0).read_to_string(&mut out).unwrap();
        let err = err_reader.join().unwrap();
        let code = runtime::wait_exit(pid).unwrap();
        Output {
            code,
            stdout: out,
            stderr: err,
        }
    }
}

/// Spawn `req` with fresh pipes (its `stdio` is replaced) and collect the output.
pub fn run_request(mut req: SpawnRequest<'_>, input: &[u8]) -> Result<Output, RuntimeError> {
    let io = Io::new(input);
    req.stdio = io.stdio();
    let spawned = runtime::spawn(&req)?;
    Ok(io.collect(spawned.pid))
}

/// Spawn `spec` with empty stdin and collect the output.
pub fn run(spec: &Spec) -> Result<Output, RuntimeError> {
    run_request(SpawnRequest::new(spec, [-1, -1, -1]), b"")
}

/// `grep Cap /proc/self/status` output as (name, mask) pairs.
pub fn parse_caps(status: &str) -> Vec<(String, u64)> {
    status
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((
                name.trim().to_string(),
                u64::from_str_radix(value.trim(), 16).ok()?,
            ))
        })
        .collect()
}
