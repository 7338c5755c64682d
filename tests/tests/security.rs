//! The security defaults of a container, each checked from inside it, as Podman 4.3.1 sets them
//! (compared by hand with `podman run` on these machines): capabilities with `--cap-add`/`--cap-drop`
//! and for non-root users, `no_new_privs` and setuid binaries, masked and read-only kernel paths with
//! `mask=`/`unmask=`, the device nodes, users and groups, and `--privileged` lifting all of it.
//!
//! Then the known escapes of container runtimes, attempted for real from inside a container:
//! - CVE-2019-5736: a helper loops over `/proc/*/exe` trying to open the host's selkie binary for
//!   writing (directly, and through an `O_PATH` descriptor reopened later) while the test keeps
//!   starting processes in the container with `exec`;
//! - CVE-2024-21626: no runtime descriptor reaches the container, and `-w /proc/self/fd/N` never
//!   gives a host directory;
//! - a bind-mount destination under an image symlink pointing at `/etc` lands in the container's
//!   `/etc`, never the host's.
//!
//! The image (busybox plus the helpers and a few fixtures) is built once per test binary; each test
//! has its own store, which removes its containers when dropped.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use harness::container::{cap_field, cap_mask, ContainerStore};
use harness::image::Image;
use harness::layer::{sha256_hex, Layer};
use harness::rootfs::busybox_builder;

const IMAGE: &str = "sec:latest";

/// Podman's default capabilities: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
/// NET_BIND_SERVICE SYS_CHROOT SETFCAP.
const DEFAULT_CAPS: [u32; 11] = [0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31];
const CAP_NET_RAW: u32 = 13;
const CAP_NET_ADMIN: u32 = 12;
const CAP_CHOWN: u32 = 0;

/// `/etc/group` of the image: `tester` (uid 1000) is also in `wheel` and `users`.
const GROUP: &str = "root:x:0:\nnobody:x:65534:\ntester:x:1000:\nwheel:x:10:tester\nusers:x:100:tester\n\
staff:x:50:\n";

/// `euid`: prints `euid=N uid=N`.
const EUID_C: &str = r#"#include <stdio.h>
#include <unistd.h>
int main(void) { printf("euid=%d uid=%d\n", (int)geteuid(), (int)getuid()); return 0; }
"#;

/// `exeprobe SECONDS DEV INO NAME`: the CVE-2019-5736 attacker. For SECONDS it scans `/proc/[0-9]*/exe`
/// of every other process and tries `open(O_WRONLY)`; when an `O_PATH` open works and the file is
/// the one with device DEV and inode INO (the host's selkie binary) or a file called NAME (a view of
/// it), it tries to reopen it for writing
/// through `/proc/self/fd/N` at once, keeps the descriptor, and tries again once the scan is over
/// (after the runtime processes it came from are gone). It never writes: a successful open is reported
/// as `BREACH` and the descriptor closed. Last line: `scans= denied= seen= host= erofs= breach=`, where
/// `denied` counts `/proc/PID/exe` links refused with EACCES/EPERM (non-dumpable processes), `seen` the
/// times the binary (or a view of it) was reached, `host` the times that was the host's file itself,
/// and `erofs` the reopens refused because the file is on a read-only mount.
const EXEPROBE_C: &str = r#"#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
static unsigned long long dev, ino;
static long breach;
static const char *name;
static long host, erofs;
/* The host binary itself, or any file named like it (the runtime's sealed view of it). */
static int is_target(int fd, const char *link) {
    struct stat st;
    if (fstat(fd, &st) == 0 && (unsigned long long)st.st_dev == dev
        && (unsigned long long)st.st_ino == ino) { host++; return 1; }
    char target[4096];
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    return strncmp(base, name, strlen(name)) == 0
        && (base[strlen(name)] == 0 || strcmp(base + strlen(name), " (deleted)") == 0);
}
static void try_reopen(int fd, const char *how) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int w = open(path, O_WRONLY | O_CLOEXEC);
    if (w >= 0) { breach++; printf("BREACH %s\n", how); fflush(stdout); close(w); }
    else if (errno == EROFS) erofs++;
}
int main(int argc, char **argv) {
    if (argc < 5) return 2;
    double secs = atof(argv[1]);
    dev = strtoull(argv[2], NULL, 10);
    ino = strtoull(argv[3], NULL, 10);
    name = argv[4];
    int self = getpid();
    long scans = 0, denied = 0, seen = 0;
    int held[512], nheld = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == self) continue;
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/exe", pid);
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                if (is_target(fd, path)) { breach++; printf("BREACH open pid %d\n", pid); fflush(stdout); }
                close(fd);
            } else if (errno == EACCES || errno == EPERM) {
                denied++;
            }
            int p = open(path, O_PATH | O_CLOEXEC);
            if (p < 0) continue;
            if (is_target(p, path)) {
                seen++;
                try_reopen(p, "reopen");
                if (nheld < 512) { held[nheld++] = p; continue; }
            }
            close(p);
        }
        if (d) closedir(d);
        scans++;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > secs) break;
    }
    for (int i = 0; i < nheld; i++) try_reopen(held[i], "reopen-later");
    printf("scans=%ld denied=%ld seen=%ld host=%ld erofs=%ld breach=%ld\n", scans, denied, seen, host,
           erofs, breach);
    return 0;
}
"#;

/// busybox plus `/bin/euid`, a setuid-root copy `/bin/suid-euid`, `/bin/exeprobe`, the `/etc/group`
/// above, and two symlinks out of `/mnt` to `/etc` (absolute and relative).
fn image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let build = tempfile::tempdir().unwrap();
        let euid = harness::cbuild::static_binary(build.path(), "euid", EUID_C);
        let exeprobe = harness::cbuild::static_binary(build.path(), "exeprobe", EXEPROBE_C);
        busybox_builder()
            .layer(
                Layer::new()
                    .file_with("bin/euid", euid.clone(), 0o755, 0, 0)
                    .file_with("bin/exeprobe", exeprobe, 0o755, 0, 0)
                    .file_with("bin/evil", "#!/proc/self/exe\n", 0o755, 0, 0)
                    .file_with("bin/suid-euid", euid, 0o4755, 0, 0)
                    .file("etc/group", GROUP)
                    .dir("mnt")
                    .symlink("mnt/evil", "/etc")
                    .symlink("mnt/up", "../../../etc"),
            )
            .build()
    })
}

fn store() -> ContainerStore {
    ContainerStore::with_image(image(), &[IMAGE])
}

/// `run --rm OPTS… IMAGE sh -c SCRIPT`, asserted to succeed; its stdout.
fn sh(s: &ContainerStore, opts: &[&str], script: &str) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(opts);
    args.extend([IMAGE, "sh", "-c", script]);
    s.run(&args).success().stdout_str()
}

/// The five capability sets of `/proc/self/status` in a container run with `opts`.
fn caps(s: &ContainerStore, opts: &[&str]) -> BTreeMap<&'static str, String> {
    let status = sh(s, opts, "cat /proc/self/status");
    ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .into_iter()
        .map(|f| (f, cap_field(&status, f).unwrap_or("?").to_string()))
        .collect()
}

fn with(base: &[u32], more: &[u32]) -> Vec<u32> {
    base.iter().chain(more).copied().collect()
}

fn without(base: &[u32], less: &[u32]) -> Vec<u32> {
    base.iter().filter(|c| !less.contains(c)).copied().collect()
}

/// `field: value` of a `/proc/PID/status` text (whitespace collapsed).
fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// The caller's own bounding set: what `--privileged` and `--cap-add ALL` give.
fn host_bounding() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    cap_field(&status, "CapBnd").unwrap().to_string()
}

#[test]
fn capabilities_follow_cap_add_cap_drop_and_the_user() {
    let s = store();
    let none = cap_mask(&[]);
    let expect = |opts: &[&str], eff: &[u32], bnd: &[u32], amb: &[u32]| {
        let got = caps(&s, opts);
        let want: BTreeMap<&str, String> = [
            ("CapInh", cap_mask(amb)),
            ("CapPrm", cap_mask(eff)),
            ("CapEff", cap_mask(eff)),
            ("CapBnd", cap_mask(bnd)),
            ("CapAmb", cap_mask(amb)),
        ]
        .into_iter()
        .collect();
        assert_eq!(got, want, "capabilities with {opts:?}");
    };
    // Root: Podman's default set in effective, permitted and bounding; nothing inheritable or ambient.
    expect(&[], &DEFAULT_CAPS, &DEFAULT_CAPS, &[]);
    let added = with(&DEFAULT_CAPS, &[CAP_NET_RAW]);
    expect(&["--cap-add", "net_raw"], &added, &added, &[]);
    let changed = without(
        &with(&DEFAULT_CAPS, &[CAP_NET_ADMIN, CAP_NET_RAW]),
        &[CAP_CHOWN, 5],
    );
    expect(
        &[
            "--cap-add",
            "CAP_NET_ADMIN",
            "--cap-add",
            "Net_Raw",
            "--cap-drop",
            "chown",
            "--cap-drop",
            "CAP_KILL",
        ],
        &changed,
        &changed,
        &[],
    );
    expect(&["--cap-drop", "ALL"], &[], &[], &[]);
    expect(
        &["--cap-drop", "all", "--cap-add", "CAP_net_raw"],
        &[CAP_NET_RAW],
        &[CAP_NET_RAW],
        &[],
    );

    let all = caps(&s, &["--cap-add", "ALL"]);
    let bounding = host_bounding();
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(all[set], bounding, "--cap-add ALL: {all:?}");
    }
    assert_eq!(
        (all["CapInh"].as_str(), all["CapAmb"].as_str()),
        (none.as_str(), none.as_str())
    );

    // A non-root user: no capabilities of its own, the default bounding set; what --cap-add adds is
    // effective, permitted, inheritable and ambient (so it survives execve), as Podman 4.3.1 does.
    expect(&["--user", "1000"], &[], &DEFAULT_CAPS, &[]);
    expect(&["--user", "tester:tester"], &[], &DEFAULT_CAPS, &[]);
    expect(
        &["--user", "1000:1000", "--cap-add", "net_raw"],
        &[CAP_NET_RAW],
        &added,
        &[CAP_NET_RAW],
    );
    expect(
        &["--user", "1000", "--cap-drop", "ALL", "--cap-add", "CAP_NET_RAW"],
        &[CAP_NET_RAW],
        &[CAP_NET_RAW],
        &[CAP_NET_RAW],
    );
    // An explicit root user is root.
    expect(&["--user", "0:0"], &DEFAULT_CAPS, &DEFAULT_CAPS, &[]);

    for bad in [
        &["--cap-add", "bogus"][..],
        &["--cap-drop", "CAP_NOPE"],
        &["--cap-add", "chown", "--cap-drop", "chown"],
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(bad);
        args.extend([IMAGE, "true"]);
        let out = s.run(&args);
        out.assert_code(125);
        assert!(
            out.stderr_str().starts_with("Error: "),
            "{bad:?}: {}",
            out.stderr_str()
        );
    }
    s.run(&["run", "--rm", "--cap-add", "bogus", IMAGE, "true"])
        .assert_error(125, "unknown capability");
    assert!(s.all_ids().is_empty(), "no container is left by a refused run");
}

#[test]
fn no_new_privileges_is_off_by_default_and_setuid_binaries_work_until_it_is_set() {
    let s = store();
    let nnp = |opts: &[&str]| status_field(&sh(&s, opts, "cat /proc/self/status"), "NoNewPrivs");
    assert_eq!(nnp(&[]), "0");
    assert_eq!(nnp(&["--security-opt", "no-new-privileges"]), "1");
    assert_eq!(nnp(&["--security-opt", "no-new-privileges=true"]), "1");
    assert_eq!(
        nnp(&["--user", "1000", "--security-opt", "no-new-privileges"]),
        "1"
    );

    // The setuid bit survived the image layer.
    let mode = sh(&s, &[], "stat -c %a /bin/suid-euid");
    assert_eq!(mode.trim(), "4755");
    let euid = |opts: &[&str]| -> String {
        let mut args = vec!["run", "--rm", "--user", "1000"];
        args.extend_from_slice(opts);
        args.extend([IMAGE, "suid-euid"]);
        s.run(&args).success().stdout_str().trim().to_string()
    };
    assert_eq!(
        euid(&[]),
        "euid=0 uid=1000",
        "a setuid-root program works by default"
    );
    assert_eq!(
        euid(&["--security-opt", "no-new-privileges"]),
        "euid=1000 uid=1000",
        "no_new_privs: execve grants nothing"
    );
    let plain = s.run(&["run", "--rm", "--user", "1000", IMAGE, "euid"]);
    assert_eq!(plain.success().stdout_str().trim(), "euid=1000 uid=1000");

    // exec keeps the container's setting.
    s.run_detached(&[
        "--name",
        "nnp",
        "--security-opt",
        "no-new-privileges",
        IMAGE,
        "sleep",
        "60",
    ]);
    let status = s.run(&["exec", "nnp", "cat", "/proc/self/status"]);
    assert_eq!(status_field(&status.success().stdout_str(), "NoNewPrivs"), "1");
    let out = s.run(&["exec", "--user", "1000", "nnp", "suid-euid"]);
    assert_eq!(out.success().stdout_str().trim(), "euid=1000 uid=1000");
    s.run(&["rm", "-f", "-t", "0", "nnp"]).success();
}

/// A shell test that prints `PATH:masked` for a char device 1:3 (`/dev/null` mounted over a file) or
/// an empty directory, `PATH:missing`, or `PATH:visible`.
fn mask_probe(paths: &[&str]) -> String {
    let mut script = String::new();
    for p in paths {
        script.push_str(&format!(
            "if [ ! -e {p} ]; then echo {p}:missing; \
             elif [ -d {p} ]; then if [ -z \"$(ls -A {p})\" ]; then echo {p}:masked; else echo {p}:visible; fi; \
             elif [ \"$(stat -c %t:%T {p})\" = 1:3 ] && [ \"$(wc -c < {p})\" = 0 ]; then echo {p}:masked; \
             else echo {p}:visible; fi; "
        ));
    }
    script
}

fn verdicts(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.rsplit_once(':'))
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect()
}

/// What [`mask_probe`] says about the host's own `path` when it is masked (`masked`) and when not.
fn expected(path: &str, masked: bool) -> &'static str {
    match std::fs::metadata(path) {
        Err(_) => "missing",
        Ok(_) if masked => "masked",
        // An empty directory looks the same masked or not.
        Ok(m) if m.is_dir() && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()) => "masked",
        Ok(_) => "visible",
    }
}

#[test]
fn kernel_paths_are_masked_and_read_only_and_mask_unmask_change_that() {
    let s = store();
    let masked = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/acpi",
        "/sys/firmware",
        "/sys/dev/block",
    ];
    let probe = mask_probe(&masked);
    let got = verdicts(&sh(&s, &[], &probe));
    for p in masked {
        // This kernel may lack some of them (no /proc/kcore here): then they are missing inside too.
        assert_eq!(got[p], expected(p, true), "{p}: {got:?}");
    }
    // /proc/kcore reads empty whenever it exists.
    assert_eq!(sh(&s, &[], "cat /proc/kcore 2>/dev/null | wc -c").trim(), "0");

    // Read-only: /proc/sys and /proc/sysrq-trigger.
    let script = "echo x > /proc/sys/kernel/domainname 2>&1; echo rc=$?; \
                  if [ -e /proc/sysrq-trigger ]; then echo h > /proc/sysrq-trigger; echo sysrq=$?; fi; \
                  grep -E ' /proc/sys ' /proc/mounts";
    let out = s.run(&["run", "--rm", IMAGE, "sh", "-c", script]);
    let text = out.success().stdout_str();
    assert!(text.contains("rc=1"), "{text}");
    assert!(
        out.stderr_str().contains("Read-only file system"),
        "{}",
        out.stderr_str()
    );
    assert!(!text.contains("sysrq=0"), "{text}");
    assert!(
        text.contains(" ro,") || text.contains(" ro "),
        "/proc/sys is mounted ro: {text}"
    );
    // And in an exec'd process (the same mount namespace).
    s.run_detached(&["--name", "m", IMAGE, "sleep", "60"]);
    let out = s.run(&["exec", "m", "sh", "-c", &probe]);
    assert_eq!(
        verdicts(&out.success().stdout_str()),
        got,
        "exec sees the same masks"
    );
    s.run(&["rm", "-f", "-t", "0", "m"]).success();

    // mask= adds a file (the engine's /etc/hostname) and a directory of the image.
    let probe_more = mask_probe(&["/etc/hostname", "/home", "/proc/keys"]);
    let got = verdicts(&sh(
        &s,
        &[
            "--security-opt",
            "mask=/etc/hostname:/home",
            "--security-opt",
            "unmask=/proc/keys",
        ],
        &probe_more,
    ));
    assert_eq!(got["/etc/hostname"], "masked", "{got:?}");
    assert_eq!(got["/home"], "masked", "{got:?}");
    assert_eq!(got["/proc/keys"], "visible", "unmask=/proc/keys: {got:?}");
    let got = verdicts(&sh(&s, &["--security-opt", "unmask=/proc/kcore"], &probe));
    assert_eq!(
        got["/proc/keys"], "masked",
        "unmasking one path leaves the others: {got:?}"
    );

    // unmask=ALL: nothing masked, /proc/sys writable (the container's own UTS namespace).
    let out = sh(
        &s,
        &["--security-opt", "unmask=ALL"],
        &format!("{probe} echo selkie > /proc/sys/kernel/domainname && echo written"),
    );
    let got = verdicts(&out);
    for p in masked {
        assert_eq!(got[p], expected(p, false), "unmask=ALL {p}: {got:?}");
    }
    assert!(out.contains("written"), "{out}");

    // --privileged: no masks, nothing read-only.
    let out = sh(
        &s,
        &["--privileged"],
        &format!("{probe} echo selkie > /proc/sys/kernel/domainname && echo written"),
    );
    let got = verdicts(&out);
    for p in masked {
        assert_eq!(got[p], expected(p, false), "--privileged {p}: {got:?}");
    }
    assert!(out.contains("written"), "{out}");
}

/// The default `/dev` of Podman 4.3.1 without a terminal (`core` only when the kernel has
/// `/proc/kcore`, `console` only with `-t`).
fn default_dev() -> Vec<String> {
    let mut names = vec![
        "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
        "urandom", "zero",
    ];
    if Path::new("/proc/kcore").exists() {
        names.push("core");
    }
    let mut names: Vec<String> = names.into_iter().map(String::from).collect();
    names.sort();
    names
}

#[test]
fn only_the_default_devices_exist_and_device_adds_one_with_its_permissions() {
    let s = store();
    let listing = |opts: &[&str]| -> Vec<String> {
        let mut names: Vec<String> = sh(&s, opts, "ls -A /dev")
            .split_whitespace()
            .map(String::from)
            .collect();
        names.sort();
        names
    };
    assert_eq!(listing(&[]), default_dev());
    assert_eq!(listing(&["--user", "1000"]), default_dev());
    // The character devices are the host's.
    let out = sh(
        &s,
        &[],
        "for d in null zero full random urandom tty; do stat -c '%n %t:%T' /dev/$d; done",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "/dev/null 1:3",
            "/dev/zero 1:5",
            "/dev/full 1:7",
            "/dev/random 1:8",
            "/dev/urandom 1:9",
            "/dev/tty 5:0"
        ]
    );
    // No CAP_MKNOD by default; with it a node can be made, and the devices cgroup refuses to open it.
    let script = "mknod /tmp/kmsg c 1 11 && echo made; [ -c /tmp/kmsg ] && echo x > /tmp/kmsg && echo opened";
    let out = s.run(&["run", "--rm", IMAGE, "sh", "-c", script]);
    assert_eq!(out.stdout_str(), "", "{}", out.stderr_str());
    let out = s.run(&["run", "--rm", "--cap-add", "mknod", IMAGE, "sh", "-c", script]);
    assert_eq!(out.stdout_str(), "made\n", "{}", out.stderr_str());
    assert!(
        out.stderr_str().contains("Operation not permitted"),
        "{}",
        out.stderr_str()
    );

    // --device HOST:CONTAINER appears, and works (Podman's rule for /dev/null is rwm anyway).
    let out = sh(
        &s,
        &["--device", "/dev/null:/dev/mynull"],
        "stat -c '%n %t:%T' /dev/mynull; echo x > /dev/mynull && echo written",
    );
    assert_eq!(out, "/dev/mynull 1:3\nwritten\n");
    let mut with_mynull = default_dev();
    with_mynull.push("mynull".into());
    with_mynull.sort();
    assert_eq!(listing(&["--device", "/dev/null:/dev/mynull"]), with_mynull);

    // A device outside the default rules: `:r` lets it be read, not written.
    if Path::new("/dev/kmsg").exists() {
        let write = "echo selkie-security-test > /dev/mykmsg && echo written";
        let out = s.run(&[
            "run",
            "--rm",
            "--device",
            "/dev/kmsg:/dev/mykmsg:r",
            IMAGE,
            "sh",
            "-c",
            write,
        ]);
        assert!(!out.stdout_str().contains("written"), "{}", out.stdout_str());
        assert!(
            out.stderr_str().contains("Operation not permitted"),
            "{}",
            out.stderr_str()
        );
        let out = sh(&s, &["--device", "/dev/kmsg:/dev/mykmsg"], write);
        assert_eq!(out, "written\n");
    }

    // --privileged: every host device.
    let mut host: Vec<String> = std::fs::read_dir("/dev")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    host.sort();
    let privileged = listing(&["--privileged"]);
    for name in ["kmsg", "mem", "full", "loop-control"] {
        if host.contains(&name.to_string()) {
            assert!(privileged.contains(&name.to_string()), "{name} in {privileged:?}");
        }
    }
    assert!(privileged.len() > default_dev().len(), "{privileged:?}");
}

#[test]
fn user_and_group_add_set_the_identity_and_supplementary_groups() {
    let s = store();
    let who = |opts: &[&str]| -> (String, String) {
        let out = sh(&s, opts, "cat /proc/self/status; id");
        (
            status_field(&out, "Groups"),
            out.lines().last().unwrap().to_string(),
        )
    };
    assert_eq!(who(&[]), ("".into(), "uid=0(root) gid=0(root)".into()));
    assert_eq!(
        who(&["--user", "tester"]),
        (
            "10 100 1000".into(),
            "uid=1000(tester) gid=1000(tester) groups=10(wheel),100(users),1000(tester)".into()
        )
    );
    assert_eq!(
        who(&["--user", "1000"]),
        who(&["--user", "tester"]),
        "a uid finds its passwd entry and groups"
    );
    assert_eq!(
        who(&["--user", "1000:1000"]),
        (
            "1000".into(),
            "uid=1000(tester) gid=1000(tester) groups=1000(tester)".into()
        )
    );
    assert_eq!(
        who(&["--user", "tester:staff"]),
        (
            "50".into(),
            "uid=1000(tester) gid=50(staff) groups=50(staff)".into()
        )
    );
    assert_eq!(
        who(&[
            "--user",
            "1000:1000",
            "--group-add",
            "staff",
            "--group-add",
            "4242"
        ]),
        (
            "50 1000 4242".into(),
            "uid=1000(tester) gid=1000(tester) groups=50(staff),1000(tester),4242".into()
        )
    );
    assert_eq!(
        who(&["--group-add", "staff"]),
        ("50".into(), "uid=0(root) gid=0(root) groups=50(staff)".into())
    );
    // A uid and gid without entries: numbers only (`id` may print a name Podman adds to /etc/passwd).
    let out = sh(
        &s,
        &["--user", "4321:4321"],
        "cat /proc/self/status; id -u; id -g",
    );
    assert_eq!(status_field(&out, "Groups"), "4321");
    assert!(out.ends_with("4321\n4321\n"), "{out}");
    s.run(&["run", "--rm", "--user", "nosuchuser", IMAGE, "true"])
        .assert_error(126, "unable to find user nosuchuser");
    s.run(&["run", "--rm", "--group-add", "nosuchgroup", IMAGE, "true"])
        .assert_code(126);

    // exec -u: Podman 4.3.1 gives the named user its listed groups (not its primary gid again).
    s.run_detached(&["--name", "u", IMAGE, "sleep", "60"]);
    let out = s.run(&[
        "exec",
        "--user",
        "tester",
        "u",
        "sh",
        "-c",
        "cat /proc/self/status; id",
    ]);
    let out = out.success().stdout_str();
    assert_eq!(status_field(&out, "Groups"), "10 100");
    assert_eq!(
        out.lines().last().unwrap(),
        "uid=1000(tester) gid=1000(tester) groups=10(wheel),100(users)"
    );
    let out = s.run(&["exec", "--user", "1000:1000", "u", "id"]);
    assert_eq!(
        out.success().stdout_str().trim(),
        "uid=1000(tester) gid=1000(tester)"
    );
    s.run(&["rm", "-f", "-t", "0", "u"]).success();
}

/// The host binary, open (so a rebuild that replaces the file in the meantime does not matter).
fn host_binary() -> (std::path::PathBuf, std::fs::File) {
    let bin = harness::selkie_binary().canonicalize().unwrap();
    let file = std::fs::File::open(&bin).unwrap();
    (bin, file)
}

/// The hash of an open file's whole content.
fn hash_of(mut file: &std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut data = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut data).unwrap();
    sha256_hex(&data)
}

/// The CVE-2019-5736 race: `exeprobe` scans for `/proc/PID/exe` of the host binary for a few seconds
/// while selkie processes keep entering the container's PID namespace through `exec`. Returns the probe's counters.
fn race_for_the_host_binary(privileged: bool) -> BTreeMap<String, i64> {
    let s = store();
    let (bin, file) = host_binary();
    let meta = file.metadata().unwrap();
    let (dev, ino, hash) = (meta.dev(), meta.ino(), hash_of(&file));
    let mut opts = vec!["--name", "target"];
    if privileged {
        opts.push("--privileged");
    }
    opts.extend([IMAGE, "sleep", "120"]);
    s.run_detached(&opts);
    let (dev, ino) = (dev.to_string(), ino.to_string());
    let name = bin.file_name().unwrap().to_str().unwrap().to_string();
    let mut probe_cmd = s.command(&["exec", "target", "exeprobe", "4", &dev, &ino, &name]);
    let probe = probe_cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < Duration::from_millis(3500) {
        s.run(&["exec", "target", "true"]).success();
        // The original exploit: a program whose interpreter is `/proc/self/exe` makes the runtime's
        // last execve run the runtime binary again inside the container (it fails here: the sealed
        // binary is not reachable by that path).
        let evil = s.run(&["exec", "target", "/bin/evil"]);
        assert_ne!(evil.code(), 0, "{}", evil.stdout_str());
        rounds += 1;
    }
    let out = probe.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exeprobe: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("BREACH"),
        "the container opened the host binary for writing:\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    let counters: BTreeMap<String, i64> = last
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect();
    assert_eq!(counters.get("breach"), Some(&0), "{stdout}");
    assert!(counters["scans"] > 10, "{stdout}");
    s.run(&["rm", "-f", "-t", "0", "target"]).success();
    assert_eq!(hash_of(&file), hash, "{} changed", bin.display());
    eprintln!("privileged={privileged} rounds={rounds} {last}");
    counters
}

#[test]
fn the_host_binary_cannot_be_opened_for_writing_through_proc_exe() {
    let counters = race_for_the_host_binary(false);
    // Without CAP_SYS_PTRACE the runtime's processes are non-dumpable to the container: their exe
    // link is refused outright, so the host binary is never even reached.
    assert_eq!(counters["seen"], 0, "{counters:?}");
    assert!(
        counters["denied"] > 0,
        "the probe never met a selkie process in the container: {counters:?}"
    );
}

#[test]
fn a_privileged_container_cannot_write_the_host_binary_either() {
    // With CAP_SYS_PTRACE the exe link of the runtime's processes can be followed: it leads to the
    // sealed, read-only view of the binary (EROFS), never to the host's file. (Where sealing is not
    // possible, ETXTBSY would be all that is left: see pkg/src/runtime/seal.rs.)
    let counters = race_for_the_host_binary(true);
    assert!(
        counters["seen"] > 0,
        "the probe never met a selkie process in the container: {counters:?}"
    );
    assert_eq!(counters["host"], 0, "{counters:?}");
    assert!(counters["erofs"] > 0, "{counters:?}");
}

/// The descriptor numbers `ls /proc/self/fd` prints.
fn fd_listing(out: &str) -> Vec<String> {
    let mut fds: Vec<String> = out.split_whitespace().map(String::from).collect();
    fds.sort();
    fds
}

#[test]
fn no_runtime_descriptor_reaches_the_container() {
    let s = store();
    let expected = ["0", "1", "2", "3"].map(String::from).to_vec();
    // Attached: ls's own directory descriptor is 3.
    let out = s.run(&["run", "--rm", IMAGE, "ls", "/proc/self/fd"]);
    assert_eq!(fd_listing(&out.success().stdout_str()), expected);
    let out = s.run(&["run", "--rm", "-i", IMAGE, "ls", "/proc/self/fd"]);
    assert_eq!(fd_listing(&out.success().stdout_str()), expected);
    // Detached, through the logs.
    s.run_detached(&[
        "--name",
        "fds",
        IMAGE,
        "sh",
        "-c",
        "ls /proc/self/fd; exec sleep 60",
    ]);
    let logs = harness::container::poll(Duration::from_secs(10), || {
        !s.run(&["logs", "fds"]).stdout_str().trim().is_empty()
    });
    assert!(logs);
    assert_eq!(
        fd_listing(&s.run(&["logs", "fds"]).success().stdout_str()),
        expected
    );
    // The init itself holds only 0, 1, 2 (`sleep` opens nothing).
    let out = s.run(&["exec", "fds", "ls", "/proc/1/fd"]);
    assert_eq!(fd_listing(&out.success().stdout_str()), ["0", "1", "2"]);
    // exec.
    let out = s.run(&["exec", "fds", "ls", "/proc/self/fd"]);
    assert_eq!(fd_listing(&out.success().stdout_str()), expected);
    let out = s.run(&["exec", "-i", "fds", "ls", "/proc/self/fd"]);
    assert_eq!(fd_listing(&out.success().stdout_str()), expected);

    // -w /proc/self/fd/N: fails, or is a directory of the container; never one of the host.
    let marker = s.path("host-marker-dir");
    std::fs::create_dir_all(marker.join("selkie-host-only")).unwrap();
    for n in 3..=12 {
        let dir = format!("/proc/self/fd/{n}");
        for exec in [false, true] {
            let args: Vec<&str> = if exec {
                vec![
                    "exec",
                    "-w",
                    &dir,
                    "fds",
                    "sh",
                    "-c",
                    "ls -a . .. ../.. 2>&1; pwd -P",
                ]
            } else {
                vec![
                    "run",
                    "--rm",
                    "-w",
                    &dir,
                    IMAGE,
                    "sh",
                    "-c",
                    "ls -a . .. ../.. 2>&1; pwd -P",
                ]
            };
            let out = s.run(&args);
            let text = out.stdout_str();
            assert!(
                !text.contains("selkie-host-only") && !text.contains("selkie-test-"),
                "{args:?} reached the host:\n{text}"
            );
            if out.code() == 0 {
                // Only a container directory may be the working directory.
                let cwd = text.lines().last().unwrap_or_default().to_string();
                assert!(!cwd.is_empty() && !cwd.contains("selkie"), "{args:?}: {text}");
            }
        }
    }
    s.run(&["rm", "-f", "-t", "0", "fds"]).success();
}

#[test]
fn bind_mount_destinations_are_resolved_inside_the_rootfs() {
    let s = store();
    let src = s.path("bind-source");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("marker"), "from the host\n").unwrap();
    let name = format!("selkie-sec-{}", std::process::id());
    let host_etc = Path::new("/etc").join(&name);
    assert!(!host_etc.exists());
    let src_s = src.to_str().unwrap();
    for via in ["/mnt/evil", "/mnt/up"] {
        let volume = format!("{src_s}:{via}/{name}");
        let out = sh(
            &s,
            &["-v", &volume],
            &format!("cat /etc/{name}/marker; readlink {via}; echo x > /etc/{name}/written"),
        );
        assert!(out.starts_with("from the host\n"), "{volume}: {out}");
        assert!(!host_etc.exists(), "{volume} created {}", host_etc.display());
        assert!(src.join("written").exists(), "the mount is the host directory");
        std::fs::remove_file(src.join("written")).unwrap();
    }
    // A missing host source is created on the host, as Podman does; a symlinked source is followed on
    // the host (it is the caller's path).
    let link = s.path("bind-link");
    std::os::unix::fs::symlink(&src, &link).unwrap();
    let volume = format!("{}:/data", link.display());
    assert_eq!(sh(&s, &["-v", &volume], "cat /data/marker"), "from the host\n");
    assert!(!host_etc.exists());
}

#[test]
fn privileged_lifts_every_restriction() {
    let s = store();
    let out = sh(&s, &["--privileged"], "cat /proc/self/status");
    let bounding = host_bounding();
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(cap_field(&out, set).unwrap(), bounding, "{set}");
    }
    assert_eq!(status_field(&out, "Seccomp"), "0");
    assert_eq!(status_field(&out, "NoNewPrivs"), "0");
    // The default container for contrast.
    let out = sh(&s, &[], "cat /proc/self/status");
    assert_eq!(status_field(&out, "Seccomp"), "2");
    assert_eq!(cap_field(&out, "CapEff").unwrap(), cap_mask(&DEFAULT_CAPS));
    // exec --privileged in a default container: every capability, the container's filter.
    s.run_detached(&["--name", "p", IMAGE, "sleep", "60"]);
    let out = s.run(&["exec", "--privileged", "p", "cat", "/proc/self/status"]);
    let out = out.success().stdout_str();
    assert_eq!(cap_field(&out, "CapEff").unwrap(), bounding);
    s.run(&["rm", "-f", "-t", "0", "p"]).success();
}
