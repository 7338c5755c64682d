//! End-to-end tests of container cgroups, run as root through the real binary: a cgroup per container
//! under `selkie`, found through the container's `/proc/PID/cgroup`, gone after exit and `rm`; the
//! limits of `--memory` (an allocation over it is OOM-killed: exit 137, `OOMKilled`), `--pids-limit`
//! (and the default 2048), `--cpus`, `--cpu-shares`, `--cpuset-cpus`; `--cgroups=disabled`.
//!
//! They work on v1/hybrid hosts (these machines) and pure v2 hosts alike: the controller files are
//! looked up by whichever version the host mounts.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::container::{poll, ContainerStore, BUSYBOX};
use harness::skip_on_podman;

const SLEEPER: &str = "sleep 1000";

fn v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The directory of `pid`'s cgroup in the hierarchy of `controller` (v1), or its v2 cgroup.
fn cgroup_dir(pid: i32, controller: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        if v2() {
            if ctrls.is_empty() {
                return Some(PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/')));
            }
        } else if ctrls.split(',').any(|c| c == controller) {
            // The hierarchy's mount point: the one of /proc/mounts whose options name the controller.
            let mounts = fs::read_to_string("/proc/self/mounts").ok()?;
            let mount = mounts.lines().find_map(|m| {
                let f: Vec<&str> = m.split(' ').collect();
                (f.len() > 3 && f[2] == "cgroup" && f[3].split(',').any(|o| o == controller)).then(|| f[1])
            })?;
            return Some(PathBuf::from(mount).join(path.trim_start_matches('/')));
        }
    }
    None
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("reading {}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

/// `run -d ARGS… busybox sh -c CMD`, then its host PID.
fn start(s: &ContainerStore, name: &str, flags: &[&str], cmd: &str) -> i32 {
    let mut args = vec!["--name", name];
    args.extend_from_slice(flags);
    args.extend_from_slice(&[BUSYBOX, "sh", "-c", cmd]);
    s.run_detached(&args);
    s.inspect_format(name, "{{.State.Pid}}").parse().expect("a PID")
}

fn pid_controller() -> &'static str {
    "pids"
}

#[test]
fn a_container_has_its_own_cgroup_until_it_exits_and_rm_removes_it() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let id = s.run_detached(&["--name", "cg", BUSYBOX, "sh", "-c", SLEEPER]);
    let pid: i32 = s.inspect_format("cg", "{{.State.Pid}}").parse().unwrap();
    let dir = cgroup_dir(pid, "memory").expect("the container's cgroup");
    assert!(
        dir.ends_with(format!("selkie/{id}")),
        "container cgroup {} is not selkie/{id}",
        dir.display()
    );
    assert!(dir.is_dir());
    assert!(read(&dir, "cgroup.procs").lines().any(|l| l == pid.to_string()));
    // The default pids limit, as Podman's.
    let pids = cgroup_dir(pid, pid_controller()).unwrap();
    assert_eq!(read(&pids, "pids.max"), "2048");
    // A private cgroup namespace (Podman's default on v2 only) is rooted at the container's cgroup.
    if v2() {
        let inside = s
            .run(&["run", "--rm", BUSYBOX, "cat", "/proc/self/cgroup"])
            .success()
            .stdout_str();
        assert_eq!(inside.trim(), "0::/", "a container sees its cgroup's host path");
    }

    s.run(&["stop", "-t", "0", "cg"]).success();
    assert!(
        poll(Duration::from_secs(10), || !dir.exists()),
        "cgroup {} left after the container exited",
        dir.display()
    );

    // A created-then-exited container, removed with rm: nothing is left either.
    s.run(&["run", "--name", "short", BUSYBOX, "true"]).success();
    let short = s.inspect_format("short", "{{.Id}}");
    s.run(&["rm", "short"]).success();
    s.run(&["rm", "cg"]).success();
    let left = leftover_dirs(&[&id, &short]);
    assert!(left.is_empty(), "cgroups left after rm: {left:?}");
}

/// Cgroup directories of these containers on any hierarchy.
fn leftover_dirs(ids: &[&str]) -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/sys/fs/cgroup/selkie")];
    if let Ok(entries) = fs::read_dir("/sys/fs/cgroup") {
        for e in entries.flatten() {
            roots.push(e.path().join("selkie"));
        }
    }
    roots
        .iter()
        .flat_map(|r| ids.iter().map(move |id| r.join(id)))
        .filter(|d| d.exists())
        .collect()
}

#[test]
fn running_removed_with_rm_force() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let id = s.run_detached(&["--name", "gone", BUSYBOX, "sh", "-c", SLEEPER]);
    let pid: i32 = s.inspect_format("gone", "{{.State.Pid}}").parse().unwrap();
    assert!(cgroup_dir(pid, "memory").unwrap().exists());
    s.run(&["rm", "-f", "-t", "0", "gone"]).success();
    let left = leftover_dirs(&[&id]);
    assert!(left.is_empty(), "cgroups left after rm -f: {left:?}");
}

#[test]
fn memory_over_the_limit_is_oom_killed() {
    let s = ContainerStore::new();
    // busybox tail keeps the last line of /dev/zero, which never ends, in memory.
    let out = s.run(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "32m",
        BUSYBOX,
        "tail",
        "/dev/zero",
    ]);
    out.assert_code(137);
    assert_eq!(s.inspect_format("hog", "{{.State.OOMKilled}}"), "true");
    assert_eq!(s.inspect_format("hog", "{{.State.ExitCode}}"), "137");

    // Under the limit, the same container is fine and not marked.
    let ok = s.run(&[
        "run",
        "--name",
        "fine",
        "-m",
        "32m",
        BUSYBOX,
        "sh",
        "-c",
        "head -c 1000000 /dev/zero | wc -c",
    ]);
    ok.success();
    assert_eq!(ok.stdout_str().trim(), "1000000");
    assert_eq!(s.inspect_format("fine", "{{.State.OOMKilled}}"), "false");
}

#[test]
fn memory_limits_are_in_the_cgroup() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let pid = start(&s, "mem", &["-m", "64m", "--memory-swap", "96m"], SLEEPER);
    let dir = cgroup_dir(pid, "memory").unwrap();
    if v2() {
        assert_eq!(read(&dir, "memory.max"), (64u64 << 20).to_string());
        if dir.join("memory.swap.max").exists() {
            assert_eq!(read(&dir, "memory.swap.max"), (32u64 << 20).to_string());
        }
    } else {
        assert_eq!(read(&dir, "memory.limit_in_bytes"), (64u64 << 20).to_string());
        if dir.join("memory.memsw.limit_in_bytes").exists() {
            assert_eq!(
                read(&dir, "memory.memsw.limit_in_bytes"),
                (96u64 << 20).to_string()
            );
        }
    }
}

#[test]
fn bad_resource_flags_are_refused() {
    let s = ContainerStore::new();
    for (flags, msg) in [
        (&["--memory", "lots"][..], "invalid size"),
        (&["--memory", "1m"][..], "minimum memory limit"),
        (&["--memory-swap", "64m"][..], "memory limit"),
        (&["--cpus", "x"][..], "--cpus"),
        (&["--cgroups", "sometimes"][..], "cgroup"),
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[BUSYBOX, "true"]);
        s.run(&args).assert_error(125, msg);
    }
    let ids = s.run(&["ps", "-a", "-q"]).success().lines();
    assert!(ids.is_empty(), "containers left behind: {ids:?}");
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit() {
    let s = ContainerStore::new();
    // 50 background sleeps, in a cgroup allowing 20 processes: the rest fail to fork.
    let out = s.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "20",
        // Only the cgroup may stop the forks: not RLIMIT_NPROC, which counts every root process of
        // the machine (the test store's default is 1024).
        "--ulimit",
        "nproc=65536:65536",
        BUSYBOX,
        "sh",
        "-c",
        // ash gives up on the loop at the first failed fork: run it in a subshell; count with one fork at
        // a time (a pipeline would need two). A child that has not exec'd sleep yet is still called sh,
        // so count every process but the header, this shell and ps itself.
        "(for i in $(seq 50); do sleep 5 & done) 2>/dev/null; ps -o pid,comm > /tmp/ps; \
         echo $(( $(wc -l < /tmp/ps) - 3 )); killall sleep; true",
    ]);
    out.success();
    let running: u32 = out
        .stdout_str()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("count: {out:?}"));
    // sh and the subshell count too.
    assert!(running <= 18, "{running} sleeps ran under --pids-limit 20");
    assert!(running >= 10, "only {running} sleeps ran under --pids-limit 20");
}

#[test]
fn pids_limit_flag_and_unlimited() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let pid = start(&s, "p100", &["--pids-limit", "100"], SLEEPER);
    assert_eq!(read(&cgroup_dir(pid, "pids").unwrap(), "pids.max"), "100");
    let pid = start(&s, "pmax", &["--pids-limit", "-1"], SLEEPER);
    assert_eq!(read(&cgroup_dir(pid, "pids").unwrap(), "pids.max"), "max");
}

#[test]
fn cpu_limits_are_in_the_cgroup() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let pid = start(
        &s,
        "cpu",
        &["--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0"],
        SLEEPER,
    );
    if v2() {
        let dir = cgroup_dir(pid, "cpu").unwrap();
        assert_eq!(read(&dir, "cpu.max"), "50000 100000");
        assert_eq!(read(&dir, "cpu.weight"), "20");
        assert_eq!(read(&dir, "cpuset.cpus"), "0");
    } else {
        let dir = cgroup_dir(pid, "cpu").unwrap();
        assert_eq!(read(&dir, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&dir, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&dir, "cpu.shares"), "512");
        assert_eq!(read(&cgroup_dir(pid, "cpuset").unwrap(), "cpuset.cpus"), "0");
    }
    // Seen from inside: only CPU 0 is allowed.
    let allowed = s
        .run(&["exec", "cpu", "grep", "Cpus_allowed_list", "/proc/self/status"])
        .success()
        .stdout_str();
    assert!(allowed.trim().ends_with("\t0"), "{allowed:?}");
}

#[test]
fn cgroups_disabled_creates_none() {
    if skip_on_podman("selkie's cgroup layout") {
        return;
    }
    let s = ContainerStore::new();
    let id = s.run_detached(&[
        "--name",
        "nocg",
        "--cgroups=disabled",
        BUSYBOX,
        "sh",
        "-c",
        SLEEPER,
    ]);
    let pid: i32 = s.inspect_format("nocg", "{{.State.Pid}}").parse().unwrap();
    let mine = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(!mine.contains(&id), "a cgroup was made:\n{mine}");
    assert!(leftover_dirs(&[&id]).is_empty());
    // no-conmon still gives the container its cgroup.
    let id = s.run_detached(&[
        "--name",
        "nc",
        "--cgroups=no-conmon",
        BUSYBOX,
        "sh",
        "-c",
        SLEEPER,
    ]);
    let pid: i32 = s.inspect_format("nc", "{{.State.Pid}}").parse().unwrap();
    assert!(fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap()
        .contains(&id));
}

#[test]
fn devices_outside_the_allow_list_are_refused() {
    if skip_on_podman("selkie's cgroup layout") || v2() {
        return;
    }
    let s = ContainerStore::new();
    let pid = start(&s, "dev", &["--cap-add", "MKNOD"], SLEEPER);
    let list = read(&cgroup_dir(pid, "devices").unwrap(), "devices.list");
    assert!(list.contains("c 1:3 rwm"), "{list}");
    assert!(!list.contains("a *:* rwm"), "{list}");
    // A node the container makes itself for a device not on the list cannot be opened (mknod is
    // allowed by the list's `c *:* m` / `b *:* m`, opening is not).
    let out = s.run(&[
        "exec",
        "dev",
        "sh",
        "-c",
        "mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem",
    ]);
    assert_ne!(out.code(), 0, "opened /dev/mem through a node: {out:?}");
    assert!(out.stderr_str().contains("not permitted"), "{out:?}");
}

#[test]
fn an_external_runtime_applies_the_limits_of_the_spec() {
    if skip_on_podman("selkie's --runtime") || which("runc").is_none() {
        return;
    }
    let s = ContainerStore::new();
    let pid = start(
        &s,
        "ext",
        &["--runtime", "runc", "--pids-limit", "100", "-m", "64m"],
        SLEEPER,
    );
    assert_eq!(read(&cgroup_dir(pid, "pids").unwrap(), "pids.max"), "100");
    let mem = cgroup_dir(pid, "memory").unwrap();
    let file = if v2() {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    assert_eq!(read(&mem, file), (64u64 << 20).to_string());
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}
