//! Integration tests of the built-in runtime: real containers from a busybox root, as root.
//!
//! Every test builds its own root in a temporary directory, runs one or more containers with pipes as
//! stdio, and checks (through `Fixture`'s guard) that the host's mount table is unchanged afterwards.

mod runtime_support;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;

use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use oci_spec::runtime::{
    Capabilities, Capability, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType,
    MountBuilder, PosixRlimitBuilder, PosixRlimitType, ProcessBuilder, RootBuilder, UserBuilder,
};
use pkg::runtime::{self, ExecRequest, OverlayMount, RuntimeError, SpawnRequest};
use runtime_support::{parse_caps, run, run_request, Fixture, Io, MountGuard};

fn cap_mask(set: &Capabilities) -> u64 {
    set.iter()
        .map(|c| format!("CAP_{c}").parse::<caps::Capability>().unwrap().index())
        .fold(0, |mask, i| mask | (1u64 << i))
}

#[test]
fn exit_codes_of_the_workload_are_returned() {
    let Some(fx) = Fixture::for_root() else { return };
    assert_eq!(run(&fx.spec(&["true"])).unwrap().code, 0);
    assert_eq!(run(&fx.spec(&["false"])).unwrap().code, 1);
    let out = run(&fx.spec(&["sh", "-c", "echo out; echo err >&2; exit 3"])).unwrap();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "out\n", "err\n")
    );
}

#[test]
fn a_missing_command_is_127_with_podmans_message() {
    let Some(fx) = Fixture::for_root() else { return };
    let err = run(&fx.spec(&["no-such-command"])).unwrap_err();
    assert!(matches!(err, RuntimeError::CommandNotFound { .. }), "{err:?}");
    assert_eq!(err.exit_code(), Some(127));
    assert_eq!(
        err.to_string(),
        "executable file `no-such-command` not found in $PATH: No such file or directory"
    );
    let err = run(&fx.spec(&["/bin/nope"])).unwrap_err();
    assert_eq!(err.exit_code(), Some(127));
}

#[test]
fn a_file_that_cannot_be_executed_is_126() {
    let Some(fx) = Fixture::for_root() else { return };
    for args in [&["/etc/passwd"][..], &["/etc"][..]] {
        let err = run(&fx.spec(args)).unwrap_err();
        assert!(matches!(err, RuntimeError::PermissionDenied { .. }), "{err:?}");
        assert_eq!(err.exit_code(), Some(126));
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
    // A file without a #! line or ELF header: the kernel cannot load it (ENOEXEC). Written by this
    // test, it may also be briefly busy (ETXTBSY) in a concurrently cloned child: 126 either way.
    fs::write(fx.rootfs.join("bin/script"), "echo hi\n").unwrap();
    fs::set_permissions(
        fx.rootfs.join("bin/script"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let err = run(&fx.spec(&["script"])).unwrap_err();
    assert_eq!(err.exit_code(), Some(126), "{err:?}");
}

#[test]
fn the_workload_is_pid_1_with_hostname_env_and_cwd() {
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "echo $$; hostname; echo $FOO; pwd; ls /proc/1/ns/pid >/dev/null && echo ok",
    ]);
    let process = spec.process_mut().as_mut().unwrap();
    let mut env = process.env().clone().unwrap();
    env.push("FOO=bar baz".into());
    process.set_env(Some(env));
    process.set_cwd("/srv/work/deep".into());
    let out = run(&spec).unwrap();
    assert_eq!(
        out.stdout, "1\nselkie-test\nbar baz\n/srv/work/deep\nok\n",
        "{out:?}"
    );
    assert!(
        fx.rootfs.join("srv/work/deep").is_dir(),
        "the missing cwd is created"
    );
}

#[test]
fn stdin_is_connected() {
    let Some(fx) = Fixture::for_root() else { return };
    let out = run_request(
        SpawnRequest::new(&fx.spec(&["cat"]), [-1; 3]),
        b"through the pipe\n",
    )
    .unwrap();
    assert_eq!(out.stdout, "through the pipe\n");
}

#[test]
fn bind_mounts_are_writable_or_read_only_as_asked() {
    let Some(fx) = Fixture::for_root() else { return };
    let rw = fx.dir.path().join("rw");
    let ro = fx.dir.path().join("ro");
    fs::create_dir_all(&rw).unwrap();
    fs::create_dir_all(&ro).unwrap();
    fs::write(ro.join("file"), "read me\n").unwrap();
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "echo written > /data/rw/out && cat /data/ro/file && if echo x > /data/ro/new; then exit 9; fi",
    ]);
    let mut mounts = spec.mounts().clone().unwrap();
    for (src, dest, options) in [
        (&rw, "/data/rw", vec!["rbind"]),
        (&ro, "/data/ro", vec!["rbind", "ro", "nosuid"]),
    ] {
        mounts.push(
            MountBuilder::default()
                .destination(dest)
                .typ("bind")
                .source(src)
                .options(options.into_iter().map(String::from).collect::<Vec<_>>())
                .build()
                .unwrap(),
        );
    }
    spec.set_mounts(Some(mounts));
    let out = run(&spec).unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "read me\n");
    assert!(out.stderr.contains("Read-only file system"), "{out:?}");
    assert_eq!(fs::read_to_string(rw.join("out")).unwrap(), "written\n");
    assert!(!ro.join("new").exists());
}

#[test]
fn a_symlink_in_the_image_cannot_lead_a_mount_out_of_the_root() {
    let Some(fx) = Fixture::for_root() else { return };
    // The image points /abs at a host directory and /rel far above the root; both must resolve as if
    // the root were `/`, so the mount points are created inside the root and nothing on the host.
    let host_dir = fx.dir.path().join("host-side");
    fs::create_dir_all(&host_dir).unwrap();
    let in_root = fx.rootfs.join(host_dir.strip_prefix("/").unwrap());
    fs::create_dir_all(&in_root).unwrap();
    std::os::unix::fs::symlink(&host_dir, fx.rootfs.join("abs")).unwrap();
    let up = "../".repeat(20) + host_dir.strip_prefix("/").unwrap().to_str().unwrap();
    std::os::unix::fs::symlink(&up, fx.rootfs.join("rel")).unwrap();
    let tmpfs = |dest: &str| {
        MountBuilder::default()
            .destination(dest)
            .typ("tmpfs")
            .source("tmpfs")
            .options(vec!["size=1m".to_string()])
            .build()
            .unwrap()
    };
    let mut spec = fx.spec(&["true"]);
    let mut mounts = spec.mounts().clone().unwrap();
    mounts.extend([tmpfs("/abs/a"), tmpfs("/rel/b")]);
    spec.set_mounts(Some(mounts));
    assert_eq!(run(&spec).unwrap().code, 0);
    assert_eq!(
        fs::read_dir(&host_dir).unwrap().count(),
        0,
        "the host directory was written through a symlink"
    );
    assert!(in_root.join("a").is_dir() && in_root.join("b").is_dir());

    // A symlink to nowhere is refused rather than followed anywhere.
    std::os::unix::fs::symlink("/nowhere/at/all", fx.rootfs.join("dangling")).unwrap();
    let mut spec = fx.spec(&["true"]);
    let mut mounts = spec.mounts().clone().unwrap();
    mounts.push(tmpfs("/dangling/c"));
    spec.set_mounts(Some(mounts));
    let err = run(&spec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "creating mount point /dangling/c: ENOENT: No such file or directory"
    );
    assert!(!std::path::Path::new("/nowhere").exists());
}

#[test]
fn an_overlay_root_writes_to_upper_and_leaves_lower_alone() {
    let Some(fx) = Fixture::for_root() else { return };
    let (upper, work, merged) = (
        fx.dir.path().join("upper"),
        fx.dir.path().join("work"),
        fx.dir.path().join("merged"),
    );
    for d in [&upper, &work, &merged] {
        fs::create_dir_all(d).unwrap();
    }
    let mut spec = fx.spec(&["sh", "-c", "echo hi > /newfile && rm /etc/group && cat /newfile"]);
    spec.set_root(Some(
        RootBuilder::default()
            .path(&merged)
            .readonly(false)
            .build()
            .unwrap(),
    ));
    let mut req = SpawnRequest::new(&spec, [-1; 3]);
    req.rootfs_overlay = Some(OverlayMount {
        lower: vec![fx.rootfs.clone()],
        upper: upper.clone(),
        work,
    });
    let out = run_request(req, b"").unwrap();
    assert_eq!((out.code, out.stdout.as_str()), (0, "hi\n"), "{out:?}");
    assert_eq!(fs::read_to_string(upper.join("newfile")).unwrap(), "hi\n");
    assert!(!fx.rootfs.join("newfile").exists());
    assert!(fx.rootfs.join("etc/group").exists(), "lower layer changed");
    assert_eq!(
        fs::read_dir(&merged).unwrap().count(),
        0,
        "the overlay is visible on the host"
    );
}

#[test]
fn loginuid_is_inherited_untouched() {
    let Some(fx) = Fixture::for_root() else { return };
    let ours = fs::read_to_string("/proc/self/loginuid").unwrap();
    let out = run(&fx.spec(&["cat", "/proc/self/loginuid"])).unwrap();
    assert_eq!(out.stdout, ours);
}

#[test]
fn preserved_descriptors_become_3_and_up() {
    let Some(fx) = Fixture::for_root() else { return };
    let (r1, w1) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
    let (r2, w2) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
    fs::File::from(w1).write_all(b"first\n").unwrap();
    fs::File::from(w2).write_all(b"second\n").unwrap();
    let spec = fx.spec(&["sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd | wc -l"]);
    let mut req = SpawnRequest::new(&spec, [-1; 3]);
    req.preserve_fds = vec![r1.as_raw_fd(), r2.as_raw_fd()];
    let out = run_request(req, b"").unwrap();
    // 0-4, plus the descriptor ls opens on /proc/self/fd: nothing else leaked in.
    assert_eq!(out.stdout, "first\nsecond\n6\n", "{out:?}");
}

#[test]
fn capability_sets_are_what_the_spec_asks() {
    let Some(fx) = Fixture::for_root() else { return };
    let default: Capabilities = [
        Capability::Chown,
        Capability::Kill,
        Capability::NetBindService,
        Capability::Setuid,
        Capability::Setgid,
    ]
    .into();
    let nbs: Capabilities = [Capability::NetBindService].into();
    // Root with Podman's shape (no inheritable, no ambient), then a user keeping one ambient capability.
    let cases = [
        (
            0u32,
            LinuxCapabilitiesBuilder::default()
                .bounding(default.clone())
                .effective(default.clone())
                .permitted(default.clone())
                .inheritable(Capabilities::new())
                .ambient(Capabilities::new())
                .build()
                .unwrap(),
        ),
        (
            1000u32,
            LinuxCapabilitiesBuilder::default()
                .bounding(default.clone())
                .effective(nbs.clone())
                .permitted(nbs.clone())
                .inheritable(nbs.clone())
                .ambient(nbs.clone())
                .build()
                .unwrap(),
        ),
    ];
    for (uid, caps) in cases {
        let mut spec = fx.spec(&["grep", "Cap", "/proc/self/status"]);
        let process = spec.process_mut().as_mut().unwrap();
        process.set_capabilities(Some(caps.clone()));
        process.set_user(UserBuilder::default().uid(uid).gid(uid).build().unwrap());
        let out = run(&spec).unwrap();
        let got: HashMap<String, u64> = parse_caps(&out.stdout).into_iter().collect();
        let want = |s: &Option<Capabilities>| cap_mask(s.as_ref().unwrap());
        assert_eq!(
            got["CapInh"],
            want(caps.inheritable()),
            "uid {uid}: {}",
            out.stdout
        );
        assert_eq!(got["CapPrm"], want(caps.permitted()), "uid {uid}: {}", out.stdout);
        assert_eq!(got["CapEff"], want(caps.effective()), "uid {uid}: {}", out.stdout);
        assert_eq!(got["CapBnd"], want(caps.bounding()), "uid {uid}: {}", out.stdout);
        assert_eq!(got["CapAmb"], want(caps.ambient()), "uid {uid}: {}", out.stdout);
    }
}

#[test]
fn user_groups_and_umask_are_applied() {
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&["sh", "-c", "id; umask; touch /tmp/f && stat -c %a /tmp/f"]);
    let process = spec.process_mut().as_mut().unwrap();
    process.set_user(
        UserBuilder::default()
            .uid(1000u32)
            .gid(1000u32)
            .additional_gids(vec![1001u32])
            .umask(0o027u32)
            .build()
            .unwrap(),
    );
    let out = run(&spec).unwrap();
    // busybox's id lists the supplementary groups only: exactly additionalGids.
    assert_eq!(
        out.stdout, "uid=1000(user) gid=1000(user) groups=1001(extra)\n0027\n640\n",
        "{out:?}"
    );
}

#[test]
fn read_only_root_masked_and_read_only_paths_hold() {
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "touch /x 2>/dev/null && echo root-writable; \
         echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo sys-writable; \
         wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo done",
    ]);
    spec.set_root(Some(
        RootBuilder::default()
            .path(&fx.rootfs)
            .readonly(true)
            .build()
            .unwrap(),
    ));
    let out = run(&spec).unwrap();
    assert_eq!(out.stdout, "0\n0\ndone\n", "{out:?}");
}

#[test]
fn sysctls_rlimits_oom_score_and_domainname_are_set() {
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_forward; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; \
         cat /proc/sys/kernel/domainname",
    ]);
    spec.set_domainname(Some("example.org".to_string()));
    spec.process_mut().as_mut().unwrap().set_oom_score_adj(Some(123));
    let mut linux = spec.linux().clone().unwrap();
    linux.set_sysctl(Some(
        [("net.ipv4.ip_forward".to_string(), "1".to_string())].into(),
    ));
    spec.set_linux(Some(linux));
    let nofile = PosixRlimitBuilder::default()
        .typ(PosixRlimitType::RlimitNofile)
        .soft(321u64)
        .hard(654u64)
        .build()
        .unwrap();
    spec.process_mut()
        .as_mut()
        .unwrap()
        .set_rlimits(Some(vec![nofile]));
    let out = run(&spec).unwrap();
    assert_eq!(out.stdout, "1\n321\n654\n123\nexample.org\n", "{out:?}");
}

#[test]
fn devices_and_dev_links_exist() {
    let Some(fx) = Fixture::for_root() else { return };
    let out = run(&fx.spec(&[
        "sh",
        "-c",
        "for d in null zero full random urandom tty; do test -c /dev/$d || echo no $d; done; \
         readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stderr; echo x > /dev/null && head -c 3 /dev/zero | wc -c",
    ]))
    .unwrap();
    assert_eq!(
        out.stdout, "pts/ptmx\n/proc/self/fd\n/proc/self/fd/2\n3\n",
        "{out:?}"
    );
}

#[test]
fn cgroups_are_mounted_read_only_and_rooted_at_the_container() {
    let Some(fx) = Fixture::for_root() else { return };
    let out = run(&fx.spec(&[
        "sh",
        "-c",
        "grep -v '::/$' /proc/self/cgroup | grep -v ':/$'; ls /sys/fs/cgroup | wc -l; \
         mkdir /sys/fs/cgroup/x 2>/dev/null && echo writable; \
         mount | grep -c ' /sys/fs/cgroup/[a-z,_]* '",
    ]))
    .unwrap();
    let hierarchies = fs::read_dir("/sys/fs/cgroup").unwrap().count();
    let mounted = runtime_support::host_mounts()
        .iter()
        .filter(|l| l.contains(" /sys/fs/cgroup/"))
        .count();
    // Every line of /proc/self/cgroup ends in `/`: the cgroup namespace is rooted at the container.
    assert_eq!(out.stdout, format!("{hierarchies}\n{mounted}\n"), "{out:?}");
}

#[test]
fn setup_failures_name_the_step_and_path() {
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&["true"]);
    let mut mounts = spec.mounts().clone().unwrap();
    mounts.push(
        MountBuilder::default()
            .destination("/mnt/x")
            .typ("no-such-fs")
            .source("none")
            .build()
            .unwrap(),
    );
    spec.set_mounts(Some(mounts));
    let err = run(&spec).unwrap_err();
    assert!(matches!(err, RuntimeError::Setup { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "mounting none (no-such-fs) at /mnt/x: ENODEV: No such device"
    );
}

#[test]
fn before_exec_sees_the_new_namespaces_and_can_refuse() {
    let Some(fx) = Fixture::for_root() else { return };
    let spec = fx.spec(&["true"]);
    let seen = std::sync::Mutex::new(None);
    let callback = |pid: nix::unistd::Pid| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let theirs = fs::read_link(format!("/proc/{pid}/ns/net"))?;
        let ours = fs::read_link("/proc/self/ns/net")?;
        *seen.lock().unwrap() = Some(theirs != ours);
        Ok(())
    };
    let mut req = SpawnRequest::new(&spec, [-1; 3]);
    req.before_exec = Some(&callback);
    assert_eq!(run_request(req, b"").unwrap().code, 0);
    assert_eq!(
        *seen.lock().unwrap(),
        Some(true),
        "the callback ran with a PID in a new network namespace"
    );

    let refuse = |_pid: nix::unistd::Pid| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err("no cgroup for you".into())
    };
    let mut req = SpawnRequest::new(&spec, [-1; 3]);
    req.before_exec = Some(&refuse);
    let err = run_request(req, b"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "preparing the container process: no cgroup for you"
    );
}

#[test]
fn a_terminal_becomes_the_controlling_terminal_and_dev_console() {
    let Some(fx) = Fixture::for_root() else { return };
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut spec = fx.spec(&[
        "sh",
        "-c",
        "test -t 0 && test -c /dev/console && echo is-a-tty; ps -o pid,tty | tail -1 | tr -s ' '",
    ]);
    spec.process_mut().as_mut().unwrap().set_terminal(Some(true));
    let slave = pty.slave.as_raw_fd();
    let spawned = runtime::spawn(&SpawnRequest::new(&spec, [slave, slave, slave])).unwrap();
    drop(pty.slave);
    let mut master = fs::File::from(pty.master);
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    // Reading the master fails with EIO once the last slave user is gone.
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(runtime::wait_exit(spawned.pid).unwrap(), 0);
    let out = String::from_utf8_lossy(&out).replace('\r', "");
    assert!(out.starts_with("is-a-tty\n"), "{out:?}");
    assert!(
        !out.contains("?"),
        "the shell has no controlling terminal: {out:?}"
    );
}

/// Run `sleep` in a container, hand its PID to `f`, then kill it.
fn with_running_container(fx: &Fixture, f: impl FnOnce(nix::unistd::Pid)) {
    let spec = fx.spec(&["sleep", "60"]);
    let io = Io::new(b"");
    let spawned = runtime::spawn(&SpawnRequest::new(&spec, io.stdio())).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(spawned.pid)));
    kill(spawned.pid, Signal::SIGKILL).unwrap();
    let out = io.collect(spawned.pid);
    assert_eq!(out.code, 137);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn exec_in_joins_a_running_container() {
    let Some(fx) = Fixture::for_root() else { return };
    with_running_container(&fx, |pid| {
        let process = ProcessBuilder::default()
            .args(vec![
                "sh".into(),
                "-c".into(),
                "echo $$; hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; pwd; id -u".into(),
            ])
            .env(vec!["PATH=/bin".to_string()])
            .cwd("/tmp")
            .user(UserBuilder::default().uid(1000u32).gid(1000u32).build().unwrap())
            .build()
            .unwrap();
        let io = Io::new(b"");
        let req = ExecRequest {
            container_pid: pid,
            process: &process,
            stdio: io.stdio(),
            preserve_fds: vec![],
            before_exec: None,
            seccomp: None,
        };
        let spawned = runtime::exec_in(&req).unwrap();
        let out = io.collect(spawned.pid);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(out.code, 0, "{out:?}");
        assert_ne!(lines[0], "1", "exec'd process is not the container's init");
        assert_eq!(
            &lines[1..],
            &["selkie-test", "sleep 60 ", "/tmp", "1000"],
            "{out:?}"
        );

        let missing = ProcessBuilder::default()
            .args(vec!["nope".into()])
            .cwd("/")
            .build()
            .unwrap();
        let io = Io::new(b"");
        let req = ExecRequest {
            container_pid: pid,
            process: &missing,
            stdio: io.stdio(),
            preserve_fds: vec![],
            before_exec: None,
            seccomp: None,
        };
        assert_eq!(runtime::exec_in(&req).unwrap_err().exit_code(), Some(127));
    });
}

#[test]
fn a_container_can_join_another_ones_pid_and_network_namespaces() {
    let Some(fx) = Fixture::for_root() else { return };
    with_running_container(&fx, |pid| {
        let mut spec = fx.spec(&[
            "sh",
            "-c",
            "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; readlink /proc/self/ns/net",
        ]);
        let mut linux = spec.linux().clone().unwrap();
        let mut namespaces = linux.namespaces().clone().unwrap();
        namespaces.retain(|n| n.typ() != LinuxNamespaceType::Pid && n.typ() != LinuxNamespaceType::Network);
        for (typ, name) in [
            (LinuxNamespaceType::Pid, "pid"),
            (LinuxNamespaceType::Network, "net"),
        ] {
            namespaces.push(
                LinuxNamespaceBuilder::default()
                    .typ(typ)
                    .path(format!("/proc/{pid}/ns/{name}"))
                    .build()
                    .unwrap(),
            );
        }
        linux.set_namespaces(Some(namespaces));
        spec.set_linux(Some(linux));
        let out = run(&spec).unwrap();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(out.code, 0, "{out:?}");
        assert_ne!(lines[0], "1");
        assert_eq!(lines[1], "sleep 60 ");
        assert_eq!(
            lines[2],
            fs::read_link(format!("/proc/{pid}/ns/net"))
                .unwrap()
                .to_str()
                .unwrap()
        );
    });
}

#[test]
fn many_containers_start_concurrently_without_leaking_descriptors_into_each_other() {
    let Some(fx) = Fixture::for_root() else { return };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let spec = fx.spec(&["sh", "-c", &format!("echo {i}; ls /proc/self/fd | wc -l")]);
                scope.spawn(move || run(&spec).unwrap())
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let out = h.join().unwrap();
            assert_eq!(out.stdout, format!("{i}\n4\n"), "{out:?}");
        }
    });
}

#[test]
fn no_mount_reaches_the_host_even_when_setup_fails_late() {
    let _guard = MountGuard::new();
    let Some(fx) = Fixture::for_root() else { return };
    let mut spec = fx.spec(&["/nonexistent"]);
    spec.set_root(Some(
        RootBuilder::default()
            .path(&fx.rootfs)
            .readonly(true)
            .build()
            .unwrap(),
    ));
    assert_eq!(run(&spec).unwrap_err().exit_code(), Some(127));
}
