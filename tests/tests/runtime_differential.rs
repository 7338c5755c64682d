//! The same container spec run by the built-in runtime and by runc (`--runtime runc`) must look the same
//! from inside: user, capability sets, seccomp and no_new_privs state, devices, mounts, environment,
//! limits and /etc files.

use harness::rootfs::busybox_image;
use harness::selkie::Selkie;

// The address on the default bridge differs from run to run (the previous container's lease may not be
// released yet): /etc/hosts is compared without it.
// `Seccomp:` but not `Seccomp_filters:`: runc loads the profile as one libseccomp filter, the built-in
// runtime as a stack of seccompiler filters (one per action; tests/seccomp.rs compares the verdicts).
const PROBE: &str = "id; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /dev; \
    cut -d' ' -f2,3 /proc/self/mounts | grep -v '^/sys/fs/cgroup/' | sort; env | sort; \
    ulimit -n; ulimit -Hn; sed 's/^10\\.88\\.[0-9.]*/BRIDGE-IP/' /etc/hosts; \
    cat /etc/resolv.conf /etc/hostname; pwd; echo $$";

fn probe(s: &Selkie, runtime: Option<&str>, extra: &[&str]) -> String {
    let mut args = vec!["run", "--rm", "--name", "probe", "--hostname", "h"];
    if let Some(r) = runtime {
        args.extend(["--runtime", r]);
    }
    args.extend_from_slice(extra);
    args.extend(["busybox", "sh", "-c", PROBE]);
    s.run(&args).success().stdout_str()
}

fn runc_available() -> bool {
    std::process::Command::new("runc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn builtin_and_runc_show_the_same_container() {
    assert!(runc_available(), "runc is needed (scripts/deps installs it)");
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    // The cgroup mounts below /sys/fs/cgroup differ on hybrid cgroup v1 hosts (the built-in runtime also
    // mounts the unified hierarchy), so the probe leaves them out.
    for extra in [
        &[][..],
        &["-u", "1000", "-w", "/tmp", "-e", "A=1"][..],
        &["--read-only"][..],
        &["--privileged"][..],
        &["--cap-drop", "ALL", "--cap-add", "NET_ADMIN,sys_time"][..],
        &["-u", "1000", "--cap-add", "NET_RAW"][..],
        &["--security-opt", "no-new-privileges"][..],
        &[
            "--security-opt",
            "unmask=ALL",
            "--security-opt",
            "mask=/etc/hostname",
        ][..],
        &["--security-opt", "seccomp=unconfined"][..],
        &["--device", "/dev/fuse", "--group-add", "10"][..],
    ] {
        let builtin = probe(&s, None, extra);
        let runc = probe(&s, Some("runc"), extra);
        assert_eq!(builtin, runc, "with {extra:?}");
        assert!(builtin.contains("CapEff"), "{builtin}");
    }
}

#[test]
fn runc_reports_exit_codes_like_the_builtin_runtime() {
    assert!(runc_available(), "runc is needed (scripts/deps installs it)");
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    for runtime in [None, Some("runc")] {
        let mut base = vec!["run", "--rm"];
        if let Some(r) = runtime {
            base.extend(["--runtime", r]);
        }
        let with = |tail: &[&'static str]| [base.as_slice(), tail].concat();
        s.run(&with(&["busybox", "sh", "-c", "exit 3"])).assert_code(3);
        s.run(&with(&["busybox", "/nonexistent"]))
            .assert_error(127, "/nonexistent");
        assert_eq!(
            s.run(&with(&["busybox", "echo", "hi"])).success().stdout_str(),
            "hi\n",
            "{runtime:?}"
        );
    }
    assert_eq!(
        s.run(&["ps", "-a", "-q"]).success().stdout_str(),
        "",
        "nothing left behind"
    );
}
