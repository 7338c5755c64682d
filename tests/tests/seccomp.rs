//! Seccomp as Podman applies it: the default profile refuses what Podman's refuses with the same errno
//! (measured under Podman 4.3.1: `add_key`/`request_key` ENOSYS; `userfaultfd`, `bpf`,
//! `perf_event_open`, `open_by_handle_at` EPERM; `keyctl`, `unshare(CLONE_NEWUSER)`,
//! `ptrace(PTRACE_TRACEME)` allowed), `seccomp=unconfined` and `--privileged` have no filter, and
//! `seccomp=PATH` takes a profile in the Podman/Docker format (Podman's own file behaves as the default).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use harness::layer::Layer;
use harness::rootfs::busybox_builder;
use harness::selkie::Selkie;

const ENOSYS: i32 = 38;
const EPERM: i32 = 1;
const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// A static `scprobe` that makes each system call of interest with `syscall(2)` and prints `name errno`
/// (0 on success), then `Seccomp N` from `/proc/self/status`.
fn probe_binary(dir: &Path) -> Vec<u8> {
    harness::cbuild::static_binary(
        dir,
        "scprobe",
        r#"#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void report(const char *name, long r) { printf("%s %d\n", name, r < 0 ? errno : 0); }
int main(void) {
    report("add_key", syscall(SYS_add_key, "user", "scprobe", "x", 1L, -2L /* process keyring */));
    report("request_key", syscall(SYS_request_key, "user", "scprobe-none", NULL, 0L));
    report("userfaultfd", syscall(SYS_userfaultfd, 0));
    report("bpf", syscall(SYS_bpf, 0, NULL, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
    report("keyctl", syscall(SYS_keyctl, 0L /* KEYCTL_GET_KEYRING_ID */, -2L, 1L /* create */));
    report("unshare", syscall(SYS_unshare, CLONE_NEWUSER));
    /* In a child that exits at once: a traced process that receives a signal stops until its tracer
       acts, and runc forwards signals to the container's init (SIGURG from Go's scheduler under load). */
    pid_t child = fork();
    if (child == 0) {
        long r = syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
        _exit(r < 0 ? errno : 0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("ptrace %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    fflush(stdout);
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Seccomp:", 8) == 0) printf("Seccomp %d\n", atoi(line + 8));
    return 0;
}
"#,
    )
}

fn setup() -> Selkie {
    let s = Selkie::new();
    let probe = probe_binary(&s.path("build"));
    let image = busybox_builder()
        .layer(Layer::new().file_with("bin/scprobe", probe, 0o755, 0, 0))
        .build();
    s.load_image(&image, &["scprobe:latest"]);
    s
}

/// `name -> errno` and `Seccomp` from the probe's output.
fn parse(out: &str) -> BTreeMap<String, i32> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim().parse().unwrap()))
        .collect()
}

fn run_probe(s: &Selkie, opts: &[&str]) -> BTreeMap<String, i32> {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(opts);
    args.extend(["scprobe", "scprobe"]);
    parse(&s.run(&args).success().stdout_str())
}

/// The default profile's verdicts; `allowed` is what the unconfined run got for the allowed calls.
fn assert_default_profile(got: &BTreeMap<String, i32>, unconfined: &BTreeMap<String, i32>, what: &str) {
    assert_eq!(got["Seccomp"], 2, "{what}: {got:?}");
    for name in ["add_key", "request_key"] {
        assert_eq!(got[name], ENOSYS, "{what}: {name} in {got:?}");
    }
    for name in ["userfaultfd", "bpf", "perf_event_open", "open_by_handle_at"] {
        assert_eq!(got[name], EPERM, "{what}: {name} in {got:?}");
    }
    for name in ["keyctl", "unshare", "ptrace"] {
        assert_eq!(got[name], unconfined[name], "{what}: {name} is allowed: {got:?}");
    }
}

#[test]
fn the_default_profile_refuses_like_podman_and_unconfined_has_no_filter() {
    let s = setup();
    let unconfined = run_probe(&s, &["--security-opt", "seccomp=unconfined"]);
    assert_eq!(unconfined["Seccomp"], 0, "{unconfined:?}");
    for name in ["add_key", "request_key", "keyctl", "unshare", "ptrace"] {
        assert_ne!(unconfined[name], ENOSYS, "{name} in {unconfined:?}");
    }

    let default = run_probe(&s, &[]);
    assert_default_profile(&default, &unconfined, "default");
    // With no_new_privs the filter is loaded last, after the capabilities are dropped: the same result.
    let nnp = run_probe(&s, &["--security-opt", "no-new-privileges"]);
    assert_default_profile(&nnp, &unconfined, "no-new-privileges");
    // A non-root user: the filter is loaded before the user change.
    let user = run_probe(&s, &["--user", "1000:1000"]);
    assert_eq!(user["Seccomp"], 2, "{user:?}");
    assert_eq!(user["add_key"], ENOSYS, "{user:?}");
    assert_eq!(user["bpf"], EPERM, "{user:?}");

    let privileged = run_probe(&s, &["--privileged"]);
    assert_eq!(privileged["Seccomp"], 0, "{privileged:?}");
    for name in ["add_key", "request_key", "keyctl", "unshare", "ptrace"] {
        assert_ne!(privileged[name], ENOSYS, "{name} in {privileged:?}");
    }
    // With every capability the kernel itself no longer refuses these with EPERM.
    for name in ["bpf", "perf_event_open", "open_by_handle_at"] {
        assert_ne!(privileged[name], EPERM, "{name} in {privileged:?}");
    }

    if Path::new(PODMAN_PROFILE).exists() {
        let podmans = run_probe(&s, &["--security-opt", &format!("seccomp={PODMAN_PROFILE}")]);
        assert_eq!(podmans, default, "Podman's own profile behaves as the default");
    }
}

#[test]
fn exec_gets_the_containers_filter() {
    let s = setup();
    s.run(&["run", "-d", "--name", "c", "scprobe", "sleep", "60"])
        .success();
    let got = parse(&s.run(&["exec", "c", "scprobe"]).success().stdout_str());
    assert_eq!(got["Seccomp"], 2, "{got:?}");
    assert_eq!(got["add_key"], ENOSYS, "{got:?}");
    assert_eq!(got["userfaultfd"], EPERM, "{got:?}");
    s.run(&["rm", "-f", "-t", "0", "c"]).success();

    s.run(&[
        "run",
        "-d",
        "--name",
        "u",
        "--security-opt",
        "seccomp=unconfined",
        "scprobe",
        "sleep",
        "60",
    ])
    .success();
    let got = parse(&s.run(&["exec", "u", "scprobe"]).success().stdout_str());
    assert_eq!(got["Seccomp"], 0, "{got:?}");
    s.run(&["rm", "-f", "-t", "0", "u"]).success();
}

#[test]
fn a_profile_file_replaces_the_default() {
    let s = setup();
    let path = s.path("profile.json");
    std::fs::write(
        &path,
        r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["add_key"], "action": "SCMP_ACT_ERRNO",
     "args": [{"index": 4, "value": 18446744073709551614, "op": "SCMP_CMP_EQ"}]}
  ]
}"#,
    )
    .unwrap();
    let got = run_probe(&s, &["--security-opt", &format!("seccomp={}", path.display())]);
    assert_eq!(got["Seccomp"], 2, "{got:?}");
    assert_eq!(got["keyctl"], 13, "{got:?}");
    assert_eq!(got["add_key"], EPERM, "{got:?}");
    assert_ne!(got["request_key"], ENOSYS, "{got:?}");

    let missing = s.run(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=/nonexistent.json",
        "scprobe",
        "true",
    ]);
    assert_ne!(missing.code(), 0);
    assert!(
        missing.stderr_str().contains("nonexistent.json"),
        "{}",
        missing.stderr_str()
    );
}

#[test]
fn runc_given_the_same_spec_gives_the_same_verdicts() {
    if !Command::new("runc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("runc is not installed: skipped");
        return;
    }
    let s = setup();
    for opts in [
        &[][..],
        &["--security-opt", "no-new-privileges"][..],
        &["--privileged"][..],
    ] {
        let builtin = run_probe(&s, opts);
        let runc = run_probe(&s, &[&["--runtime", "runc"][..], opts].concat());
        assert_eq!(builtin, runc, "with {opts:?}");
    }
}
