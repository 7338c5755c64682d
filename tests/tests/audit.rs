//! The article's audit demonstration, end to end, through the real binary and the kernel's real audit
//! subsystem: a privileged container with the host's root bind-mounted writes a file the host watches
//! (`auditctl -w FILE -p wa -k KEY`, a scratch file standing in for `/etc/shadow`), and `ausearch -k KEY`
//! must attribute that write to the loginuid (`auid`) of whoever ran the selkie command, never `unset`.
//! That holds only because every container process descends from the command that made it: the attached
//! `run`, the monitor forked by `run -d`, and the process `exec` starts.
//!
//! The tests need root, the `auditd` package and a kernel with audit. Each starts `auditd` when it is not
//! running (and stops only the one it started), adds only its own watch with a key of its own and removes
//! it, and removes its scratch directory, also when it fails (guards). They share the one audit daemon, so
//! they run one at a time: a static mutex in this binary and a lock file across test processes.
//!
//! The loginuid is set in a `sh` child of the test (`echo 3267 > /proc/self/loginuid`), which then execs
//! selkie; the test process itself keeps its own. The check reads `ausearch`'s raw records, where the
//! auid is a number (`auid=3267`); `ausearch -i`, printed when a check fails, shows the same auid as a
//! user name, or `unknown(3267)` when no user has that uid.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harness::container::{poll, process_alive, ContainerStore, BUSYBOX};

/// The loginuid the selkie commands run under (the article's).
const LOGINUID: u32 = 3267;

/// The auid of a process whose loginuid was never set.
const UNSET: u32 = u32::MAX;

/// How long `ausearch` is retried: auditd writes its log asynchronously.
const AUDIT_LOG_DELAY: Duration = Duration::from_secs(15);

/// Serialises the tests of this binary: they share the audit daemon.
static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises audit tests across processes (two `cargo test` runs at once): held with `flock`.
const LOCK_FILE: &str = "/tmp/selkie-audit-tests.lock";

/// Runs a tool (`auditctl`, `auditd`, `ausearch`), panicking with how to install it when it is missing.
fn tool(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {program} ({e}): the audit tests need root and the auditd package \
             (apt-get install -y auditd)"
        )
    })
}

/// `auditctl ARGS…`, asserted to succeed.
fn auditctl(args: &[&str]) {
    let out = tool("auditctl", args);
    assert!(
        out.status.success(),
        "auditctl {} failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `enabled` and `pid` of `auditctl -s`.
fn audit_status() -> (u32, i32) {
    let out = tool("auditctl", &["-s"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "auditctl -s failed ({}): {text}{}\nthe audit tests need root and a kernel with audit",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
            .unwrap_or_else(|| panic!("auditctl -s shows no `{name}`:\n{text}"))
    };
    (field("enabled") as u32, field("pid") as i32)
}

/// A running audit daemon: the one already there, or one this guard started and stops when dropped.
/// Auditing is switched on while the guard lives and back off when it was off before.
struct Auditd {
    started: Option<i32>,
    was_disabled: bool,
}

impl Auditd {
    fn ensure() -> Auditd {
        let (enabled, pid) = audit_status();
        assert_ne!(
            enabled, 2,
            "the audit configuration is locked (auditctl -s: enabled 2); the audit tests cannot add a rule"
        );
        let mut guard = Auditd {
            started: None,
            was_disabled: enabled == 0,
        };
        if pid <= 0 || !process_alive(pid) {
            let out = tool("auditd", &[]);
            assert!(
                out.status.success(),
                "could not start auditd ({}): {}{}\nthe audit tests need a running audit daemon: \
                 apt-get install -y auditd, and root",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let mut daemon = 0;
            let up = poll(Duration::from_secs(10), || {
                daemon = audit_status().1;
                daemon > 0 && daemon != pid && process_alive(daemon)
            });
            assert!(
                up,
                "auditd was started but never registered with the kernel (auditctl -s shows no live pid)"
            );
            guard.started = Some(daemon);
        }
        if audit_status().0 == 0 {
            auditctl(&["-e", "1"]);
        }
        guard
    }
}

impl Drop for Auditd {
    fn drop(&mut self) {
        if let Some(pid) = self.started {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGTERM);
            if !poll(Duration::from_secs(10), || !process_alive(pid)) {
                eprintln!("the auditd this test started (pid {pid}) did not stop on SIGTERM");
            }
        }
        if self.was_disabled {
            let _ = tool("auditctl", &["-e", "0"]);
        }
    }
}

/// A watch (`auditctl -w FILE -p wa -k KEY`) on a file that does not exist yet, in a scratch directory
/// of its own; the rule and the directory are removed when dropped.
struct Watch {
    dir: PathBuf,
    file: PathBuf,
    key: String,
}

impl Watch {
    fn new(name: &str) -> Watch {
        // Unique across runs (the audit log keeps old events, and PIDs are reused), and no key is a part
        // of another (`ausearch -k` matches a part of a key too).
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let tag = format!("selkie-audit-{name}-{}-{nanos}", std::process::id());
        let dir = PathBuf::from("/tmp").join(&tag);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let watch = Watch {
            file: dir.join("shadow"),
            dir,
            key: tag,
        };
        // The container creates the file: a `-p wa` watch records the creating open, while busybox
        // `touch` of an existing file only calls utimensat, which such a watch does not record.
        auditctl(&["-w", watch.file_str(), "-p", "wa", "-k", &watch.key]);
        watch
    }

    fn file_str(&self) -> &str {
        self.file.to_str().expect("utf-8 path")
    }

    /// The watched file as a container with the host's `/` at `/host` sees it.
    fn in_container(&self) -> String {
        format!("/host{}", self.file.display())
    }

    /// The auid of every recorded creation of the watched file, polling `ausearch -k KEY` until there
    /// is one (auditd writes asynchronously), and the interpreted `ausearch -i` text for messages.
    fn creations(&self) -> (Vec<u32>, String) {
        let mut auids = Vec::new();
        let found = poll(AUDIT_LOG_DELAY, || {
            let out = tool("ausearch", &["-k", &self.key]);
            auids = creation_auids(&String::from_utf8_lossy(&out.stdout), &self.in_container());
            !auids.is_empty()
        });
        let interpreted = tool("ausearch", &["-k", &self.key, "-i"]);
        let interpreted = format!(
            "ausearch -k {} -i:\n{}{}",
            self.key,
            String::from_utf8_lossy(&interpreted.stdout),
            String::from_utf8_lossy(&interpreted.stderr)
        );
        assert!(
            found,
            "no creation of {} (watched as {}) recorded within {AUDIT_LOG_DELAY:?}; the file {}\n{interpreted}",
            self.in_container(),
            self.file.display(),
            if self.file.exists() { "exists" } else { "does not exist" }
        );
        (auids, interpreted)
    }

    /// Asserts the container created the watched file and the audit trail gives every creation the auid
    /// `LOGINUID`.
    #[track_caller]
    fn assert_created_by_loginuid(&self, what: &str) {
        assert!(
            self.file.is_file(),
            "{what}: the container did not create {}",
            self.file.display()
        );
        let (auids, interpreted) = self.creations();
        assert!(
            auids.iter().all(|&a| a == LOGINUID),
            "{what}: the write must be audited as auid={LOGINUID}, not {}\n{interpreted}",
            auids
                .iter()
                .map(|&a| if a == UNSET {
                    "auid=unset".to_string()
                } else {
                    format!("auid={a}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = tool("auditctl", &["-W", self.file_str(), "-p", "wa", "-k", &self.key]);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The auids of the SYSCALL records in raw `ausearch` output whose event created `name` (a PATH record
/// with that name and `nametype=CREATE`).
fn creation_auids(raw: &str, name: &str) -> Vec<u32> {
    let path = format!("name=\"{name}\"");
    raw.split("\n----")
        .filter(|event| {
            event
                .lines()
                .any(|l| l.starts_with("type=PATH ") && l.contains(&path) && l.contains(" nametype=CREATE"))
        })
        .filter_map(|event| {
            let syscall = event.lines().find(|l| l.starts_with("type=SYSCALL "))?;
            syscall
                .split_whitespace()
                .find_map(|field| field.strip_prefix("auid="))
                .map(|a| a.parse().unwrap_or_else(|_| panic!("bad auid in {syscall}")))
        })
        .collect()
}

/// The audit daemon, a watch named after the test, and the locks that keep other audit tests out; drops
/// the watch first, then the daemon it started, then the locks.
struct AuditSession {
    watch: Watch,
    _auditd: Auditd,
    _file_lock: File,
    _serial: MutexGuard<'static, ()>,
}

impl AuditSession {
    fn new(name: &str) -> AuditSession {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let file_lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_FILE)
            .unwrap_or_else(|e| panic!("opening {LOCK_FILE}: {e}"));
        // SAFETY: flock on a descriptor this function owns; released when the file is closed.
        let rc = unsafe { libc::flock(file_lock.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock {LOCK_FILE}: {}", std::io::Error::last_os_error());
        let auditd = Auditd::ensure();
        AuditSession {
            watch: Watch::new(name),
            _auditd: auditd,
            _file_lock: file_lock,
            _serial: serial,
        }
    }
}

/// The host's loginuid of process `pid`.
fn loginuid_of(pid: &str) -> String {
    let path = Path::new("/proc").join(pid).join("loginuid");
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .to_string()
}

#[test]
fn run_writes_are_audited_with_the_callers_loginuid() {
    let audit = AuditSession::new("run");
    let s = ContainerStore::new();
    let inside = audit.watch.in_container();
    s.run_with_loginuid(
        LOGINUID,
        &["run", "--privileged", "-v", "/:/host", BUSYBOX, "touch", &inside],
    )
    .success();
    audit.watch.assert_created_by_loginuid("run");
}

#[test]
fn detached_run_writes_are_audited_with_the_callers_loginuid() {
    let audit = AuditSession::new("run-d");
    let s = ContainerStore::new();
    let inside = audit.watch.in_container();
    // The container writes only after `run -d` has returned (the test makes `go` then), so the write is
    // its monitor's descendant's, long after the command that started it exited.
    let go = audit.watch.dir.join("go");
    let script = format!(
        "while [ ! -e /host{} ]; do sleep 0.05; done; touch {inside}",
        go.display()
    );
    s.run_with_loginuid(
        LOGINUID,
        &[
            "run",
            "-d",
            "--privileged",
            "-v",
            "/:/host",
            "--name",
            "aud",
            BUSYBOX,
            "sh",
            "-c",
            &script,
        ],
    )
    .success();
    fs::write(&go, "").expect("writing the go file");
    let code = s.run(&["wait", "aud"]).success().stdout_str();
    assert_eq!(code.trim(), "0", "the detached container's exit code");
    audit.watch.assert_created_by_loginuid("run -d");
}

#[test]
fn exec_writes_are_audited_with_the_exec_callers_loginuid() {
    let audit = AuditSession::new("exec");
    let s = ContainerStore::new();
    // The container is made under another loginuid, so the exec'd write can only be audited as
    // LOGINUID when the exec'd process descends from `selkie exec` itself.
    s.run_with_loginuid(
        4000,
        &[
            "run",
            "-d",
            "--privileged",
            "-v",
            "/:/host",
            "--name",
            "aud",
            BUSYBOX,
            "sleep",
            "60",
        ],
    )
    .success();
    let pid = s.inspect_format("aud", "{{.State.Pid}}");
    assert_eq!(loginuid_of(&pid), "4000", "the container's own process");
    let inside = audit.watch.in_container();
    s.run_with_loginuid(LOGINUID, &["exec", "aud", "touch", &inside])
        .success();
    audit.watch.assert_created_by_loginuid("exec");
}

#[test]
fn creation_auids_reads_raw_ausearch_events() {
    let raw = "----\ntime->Sun Nov 29 13:04:26 2026\n\
        type=PATH msg=audit(1.6:6): item=1 name=\"/host/tmp/x/shadow\" inode=1 nametype=CREATE cap_fp=0\n\
        type=PATH msg=audit(1.6:6): item=0 name=\"/host/tmp/x/\" inode=2 nametype=PARENT cap_fp=0\n\
        type=SYSCALL msg=audit(1.6:6): arch=c000003e syscall=257 ppid=1 pid=2 auid=3267 uid=0 suid=0 \
        comm=\"touch\" key=\"k\"\n\
        ----\ntime->Sun Nov 29 13:04:19 2026\n\
        type=CONFIG_CHANGE msg=audit(1.0:3): auid=4294967295 ses=4294967295 op=add_rule key=\"k\"\n\
        ----\n\
        type=PATH msg=audit(1.7:7): item=0 name=\"/host/tmp/x/shadow\" inode=1 nametype=NORMAL cap_fp=0\n\
        type=SYSCALL msg=audit(1.7:7): arch=c000003e syscall=280 auid=4000 uid=0 key=\"k\"\n";
    assert_eq!(creation_auids(raw, "/host/tmp/x/shadow"), vec![3267]);
    assert!(creation_auids(raw, "/host/tmp/y/shadow").is_empty());
}
