//! End-to-end tests of the container commands, run as root through the real binary: `run` (attached and
//! detached) with Podman's run flags observed from inside the container, exit codes, `create`/`start`,
//! `stop`/`kill`/`wait`/`logs`/`rm`/`restart`/`rename`/`container exists`, `inspect` and `ps`, mounts
//! left behind, a storm of parallel commands, and a container whose monitor is killed.
//!
//! Each test has its own store with one image loaded ([`ContainerStore`]), which force-removes every
//! container when the test ends. The expected outputs are Podman 4.3.1's; the few checks of selkie's own
//! store layout, or where selkie deliberately differs, are skipped with `SELKIE_BIN=/usr/bin/podman`.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use harness::container::{
    cap_field, cap_mask, is_hex64, mounts_mentioning, net_dev_interfaces, poll, process_alive,
    ContainerStore, BUSYBOX,
};
use harness::rootfs::noise;
use harness::{busybox_builder, is_podman, skip_on_podman, ImageBuilder, Layer, Output, Table};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// The long-running command of most detached containers: says `ready` once its TERM trap is set (so a
/// `stop` cannot arrive before it), then waits, exiting 0 on TERM.
const SERVE: &str = "trap 'exit 0' TERM; echo ready; sleep 100 & wait";

/// `run --rm ARGS…`, asserted to succeed; its stdout.
fn run_rm(s: &ContainerStore, args: &[&str]) -> String {
    let mut full = vec!["run", "--rm"];
    full.extend_from_slice(args);
    s.run(&full).success().stdout_str()
}

/// Polls `logs NAME` until its stdout contains `needle`.
fn wait_logs(s: &ContainerStore, name: &str, needle: &str) {
    let mut last = String::new();
    let ok = poll(Duration::from_secs(10), || {
        last = s.run(&["logs", name]).success().stdout_str();
        last.contains(needle)
    });
    assert!(ok, "logs of {name} never showed {needle:?}; last:\n{last}");
}

/// Asserts `ps -a` lists no containers (bad input must not leave one behind).
#[track_caller]
fn assert_no_containers(s: &ContainerStore, after: &str) {
    let ids = s.run(&["ps", "-a", "-q"]).success().lines();
    assert!(ids.is_empty(), "after {after}: containers left behind: {ids:?}");
}

/// Asserts no mount on the host mentions the store's directory.
#[track_caller]
fn assert_no_mounts(s: &ContainerStore, after: &str) {
    let left = mounts_mentioning(s.dir());
    assert!(
        left.is_empty(),
        "after {after}: mounts left on the host:\n{}",
        left.join("\n")
    );
}

fn host_file(path: &str) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .trim()
        .to_string()
}

// ---------------------------------------------------------------- the article's two commands

#[test]
fn loginuid_of_the_caller_reaches_attached_and_detached_containers() {
    let s = ContainerStore::new();
    let own = host_file("/proc/self/loginuid");
    if own == "4294967295" {
        // Unset for the caller: unset in the container too.
        let out = run_rm(&s, &[BUSYBOX, "cat", "/proc/self/loginuid"]);
        assert_eq!(out.trim(), "4294967295");
    }

    let out = s.run_with_loginuid(3267, &["run", "--rm", BUSYBOX, "cat", "/proc/self/loginuid"]);
    out.success();
    assert_eq!(out.stdout_str().trim(), "3267", "attached run");

    // The monitor of a detached container is forked from the caller, so it has the loginuid too.
    let out = s.run_with_loginuid(
        3267,
        &[
            "run",
            "-d",
            "--name",
            "detached",
            BUSYBOX,
            "cat",
            "/proc/self/loginuid",
        ],
    );
    out.success();
    assert!(is_hex64(out.stdout_str().trim()), "{}", out.stdout_str());
    assert_eq!(s.run(&["wait", "detached"]).success().stdout_str().trim(), "0");
    let logs = s.run(&["logs", "detached"]);
    logs.success();
    assert_eq!(logs.stdout_str().trim(), "3267", "detached run, via logs");
}

#[test]
fn privileged_container_with_host_root_bind_creates_host_file() {
    let s = ContainerStore::new();
    let target = s.path("touched-by-container");
    assert!(!target.exists());
    let inside = format!("/host{}", target.display());
    let out = s.run(&["run", "--privileged", "-v", "/:/host", BUSYBOX, "touch", &inside]);
    out.success();
    assert!(
        target.is_file(),
        "the container's touch of {inside} made {}",
        target.display()
    );
    s.run(&["rm", "-a"]).success();
    assert_no_mounts(&s, "rm of the -v /:/host container");
}

// ---------------------------------------------------------------- exit codes and bad input

#[test]
fn exit_codes_of_run() {
    // One image: busybox plus a 0644 file that cannot be executed.
    let image = busybox_builder()
        .layer(Layer::new().file("notexec", "#!/bin/sh\necho should not run\n"))
        .build();
    let s = ContainerStore::with_image(&image, &[BUSYBOX]);

    s.run(&["run", "--rm", BUSYBOX, "true"]).assert_code(0);
    let out = s.run(&["run", "--rm", BUSYBOX, "sh", "-c", "exit 3"]);
    out.assert_code(3);
    assert_eq!(out.stderr_str(), "", "a container's own exit code is no error");

    // 125: the engine refused.
    s.run(&["run", "--rm", "--ulimit", "nofile=abc", BUSYBOX, "true"])
        .assert_error(125, "nofile=abc");
    s.run(&["run", "--rm", "--stop-timeout", "soon", BUSYBOX, "true"])
        .assert_error(125, "soon");
    s.run(&["run", "--rm", "localhost/nosuch:latest", "true"])
        .assert_error(125, "nosuch");
    // 126: found but not executable; 127: not found.
    s.run(&["run", "--rm", BUSYBOX, "/notexec"])
        .assert_error(126, "permission denied");
    s.run(&["run", "--rm", BUSYBOX, "nonexistent-command"])
        .assert_error(127, "not found");
    s.run(&["run", "--rm", BUSYBOX, "/no/such/file"])
        .assert_error(127, "/no/such/file");
    assert_no_containers(&s, "the --rm runs");
}

#[test]
fn bad_input_leaves_no_container_behind() {
    let s = ContainerStore::new();
    let missing = s.path("nonexistent");
    let mount = format!("type=bind,src={},dst=/x", missing.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", "localhost/nosuch:latest", "true"], "nosuch"),
        (vec!["create", "localhost/nosuch:latest", "true"], "nosuch"),
        (vec!["run", "-v", "a:b:c:d", BUSYBOX, "true"], "a:b:c:d"),
        (vec!["create", "-v", "a:b:c:d", BUSYBOX, "true"], "a:b:c:d"),
        (vec!["run", "--mount", &mount, BUSYBOX, "true"], "nonexistent"),
        (
            vec!["run", "--mount", "type=bogus,dst=/x", BUSYBOX, "true"],
            "bogus",
        ),
        (
            vec!["run", "--ulimit", "nofile=abc", BUSYBOX, "true"],
            "nofile=abc",
        ),
    ];
    for (args, needle) in &cases {
        s.run(args).assert_error(125, needle);
        assert_no_containers(&s, &args.join(" "));
    }
    assert!(!missing.exists(), "--mount must not create a missing bind source");

    // Podman 4.3.1 leaves a Created container when the command is not found; selkie removes it.
    s.run(&["run", BUSYBOX, "nonexistent-command"])
        .assert_error(127, "not found");
    if !skip_on_podman("podman leaves the container of a missing command in Created") {
        assert_no_containers(&s, "run of a missing command");
    }
    s.run(&["rm", "-a", "-f"]).success();

    // A duplicate name: the second create fails, the first container stays.
    let first = s.run(&["create", "--name", "dup", BUSYBOX, "true"]);
    first.success();
    let first = first.stdout_str().trim().to_string();
    s.run(&["create", "--name", "dup", BUSYBOX, "true"])
        .assert_error(125, "dup");
    s.run(&["run", "--name", "dup", BUSYBOX, "true"])
        .assert_error(125, "dup");
    assert_eq!(s.all_ids(), vec![first.clone()]);
    assert_eq!(s.status("dup"), "created");
    assert_eq!(s.inspect_format("dup", "{{.Id}}"), first);
}

// ---------------------------------------------------------------- run flags, seen from inside

#[test]
fn environment_flags() {
    let s = ContainerStore::new();
    let env_file = s.path("env.list");
    fs::write(&env_file, "# a comment\nFROM_FILE=file value\n\nALSO=2\n").unwrap();
    let env_file = env_file.to_str().unwrap();
    let out = run_rm(
        &s,
        &[
            "-e",
            "A=1",
            "-e",
            "B=two words",
            "--env-file",
            env_file,
            BUSYBOX,
            "env",
        ],
    );
    let vars: Vec<&str> = out.lines().collect();
    for want in ["A=1", "B=two words", "FROM_FILE=file value", "ALSO=2"] {
        assert!(vars.contains(&want), "{want} missing from:\n{out}");
    }
    assert!(
        vars.contains(&"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "the image's PATH:\n{out}"
    );
    assert!(!out.contains("# a comment"), "{out}");

    // -e overrides the image's value.
    let out = run_rm(&s, &["-e", "PATH=/bin", BUSYBOX, "env"]);
    assert!(out.lines().any(|l| l == "PATH=/bin"), "{out}");

    // -e NAME takes the value from the caller; --env-host takes everything.
    let mut cmd = s.command(&["run", "--rm", "-e", "SELKIE_FROM_HOST", BUSYBOX, "env"]);
    cmd.env("SELKIE_FROM_HOST", "host value");
    let out = s.run_command(cmd, None);
    out.success();
    assert!(
        out.lines().iter().any(|l| l == "SELKIE_FROM_HOST=host value"),
        "-e NAME:\n{}",
        out.stdout_str()
    );

    let mut cmd = s.command(&["run", "--rm", "--env-host", BUSYBOX, "env"]);
    cmd.env("SELKIE_ENV_HOST", "all of them");
    let out = s.run_command(cmd, None);
    out.success();
    assert!(
        out.lines().iter().any(|l| l == "SELKIE_ENV_HOST=all of them"),
        "--env-host:\n{}",
        out.stdout_str()
    );
}

#[test]
fn workdir_user_and_hostname_flags() {
    let s = ContainerStore::new();
    assert_eq!(run_rm(&s, &["-w", "/tmp", BUSYBOX, "pwd"]).trim(), "/tmp");
    assert_eq!(
        run_rm(&s, &["--workdir", "/home/tester", BUSYBOX, "pwd"]).trim(),
        "/home/tester"
    );
    assert_eq!(
        run_rm(&s, &[BUSYBOX, "pwd"]).trim(),
        "/",
        "the default working directory"
    );

    let ids = "id -u; id -g; id -un";
    assert_eq!(
        run_rm(&s, &[BUSYBOX, "sh", "-c", ids]),
        "0\n0\nroot\n",
        "root by default"
    );
    assert_eq!(
        run_rm(&s, &["-u", "1000", BUSYBOX, "sh", "-c", ids]),
        "1000\n1000\ntester\n",
        "-u 1000"
    );
    assert_eq!(
        run_rm(&s, &["-u", "tester", BUSYBOX, "sh", "-c", ids]),
        "1000\n1000\ntester\n",
        "-u tester"
    );
    assert_eq!(
        run_rm(&s, &["--user", "1000:0", BUSYBOX, "sh", "-c", "id -u; id -g"]),
        "1000\n0\n",
        "1000:0"
    );
    assert_eq!(
        run_rm(&s, &["-u", "4242", BUSYBOX, "sh", "-c", "id -u; id -g"]),
        "4242\n0\n",
        "-u 4242"
    );
    s.run(&["run", "--rm", "-u", "nosuchuser", BUSYBOX, "true"])
        .assert_code(126);

    assert_eq!(run_rm(&s, &["--hostname", "h", BUSYBOX, "hostname"]).trim(), "h");
    assert_eq!(
        run_rm(
            &s,
            &["-h", "other.example", BUSYBOX, "cat", "/proc/sys/kernel/hostname"]
        )
        .trim(),
        "other.example"
    );
    // Without --hostname the hostname is the short ID.
    let out = s.run(&["run", "--name", "named", BUSYBOX, "hostname"]);
    out.success();
    let id = s.inspect_format("named", "{{.Id}}");
    assert_eq!(out.stdout_str().trim(), &id[..12]);
}

#[test]
fn label_flag_shows_in_inspect() {
    let s = ContainerStore::new();
    s.run(&[
        "create", "--name", "labelled", "--label", "a=b", "-l", "tier=web", BUSYBOX, "true",
    ])
    .success();
    let v = s.inspect_json("labelled");
    assert_eq!(v["Config"]["Labels"]["a"], "b", "{}", v["Config"]["Labels"]);
    assert_eq!(v["Config"]["Labels"]["tier"], "web", "{}", v["Config"]["Labels"]);
}

#[test]
fn ulimit_flag() {
    let s = ContainerStore::new();
    let script = "ulimit -n; ulimit -Hn";
    assert_eq!(
        run_rm(&s, &["--ulimit", "nofile=100:200", BUSYBOX, "sh", "-c", script]),
        "100\n200\n"
    );
    assert_eq!(
        run_rm(&s, &["--ulimit", "nofile=300", BUSYBOX, "sh", "-c", script]),
        "300\n300\n"
    );
    // The store's containers.conf sets default_ulimits nofile=1024:1024.
    assert_eq!(run_rm(&s, &[BUSYBOX, "sh", "-c", script]), "1024\n1024\n");
}

#[test]
fn read_only_flag() {
    let s = ContainerStore::new();
    let script = "touch /rootfile 2>/dev/null && echo root-writable; \
                  touch /tmp/f && echo tmp-writable; touch /var/tmp/f && echo var-tmp-writable";
    assert_eq!(
        run_rm(&s, &["--read-only", BUSYBOX, "sh", "-c", script]),
        "tmp-writable\nvar-tmp-writable\n"
    );
    assert_eq!(
        run_rm(&s, &[BUSYBOX, "sh", "-c", script]),
        "root-writable\ntmp-writable\nvar-tmp-writable\n",
        "without --read-only"
    );
}

#[test]
fn volume_and_bind_mount_flags() {
    let s = ContainerStore::new();
    let dir = s.path("shared");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("in.txt"), "from host\n").unwrap();
    let d = dir.to_str().unwrap();

    let rw = format!("{d}:/data");
    let out = run_rm(
        &s,
        &[
            "-v",
            &rw,
            BUSYBOX,
            "sh",
            "-c",
            "cat /data/in.txt; echo from container > /data/out.txt",
        ],
    );
    assert_eq!(out, "from host\n");
    assert_eq!(
        fs::read_to_string(dir.join("out.txt")).unwrap(),
        "from container\n"
    );

    let ro = format!("{d}:/data:ro");
    let out = run_rm(
        &s,
        &[
            "-v",
            &ro,
            BUSYBOX,
            "sh",
            "-c",
            "cat /data/in.txt; touch /data/ro 2>/dev/null || echo denied",
        ],
    );
    assert_eq!(out, "from host\ndenied\n");
    assert!(!dir.join("ro").exists());

    let mount = format!("type=bind,source={d},target=/b,readonly");
    let out = run_rm(
        &s,
        &[
            "--mount",
            &mount,
            BUSYBOX,
            "sh",
            "-c",
            "cat /b/in.txt; touch /b/ro 2>/dev/null || echo denied",
        ],
    );
    assert_eq!(out, "from host\ndenied\n");

    // -v creates a missing host directory.
    let missing = s.path("made/by/volume");
    let spec = format!("{}:/m", missing.display());
    if !skip_on_podman("podman 4.3.1 fails -v of a missing host directory") {
        run_rm(&s, &["-v", &spec, BUSYBOX, "touch", "/m/f"]);
        assert!(
            missing.join("f").is_file(),
            "-v must create {}",
            missing.display()
        );
    }
    assert_no_mounts(&s, "the bind-mount runs");
}

#[test]
fn tmpfs_flags() {
    let s = ContainerStore::new();
    for flags in [
        ["--tmpfs", "/scratch"],
        ["--mount", "type=tmpfs,destination=/scratch"],
    ] {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend_from_slice(&[BUSYBOX, "sh", "-c", "touch /scratch/f && cat /proc/mounts"]);
        let out = run_rm(&s, &args);
        let line = out
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("/scratch"));
        let line = line.unwrap_or_else(|| panic!("{flags:?}: no mount at /scratch in:\n{out}"));
        assert_eq!(line.split_whitespace().nth(2), Some("tmpfs"), "{flags:?}: {line}");
    }
}

#[test]
fn network_flags() {
    let s = ContainerStore::new();
    let out = run_rm(&s, &["--network", "none", BUSYBOX, "cat", "/proc/net/dev"]);
    assert_eq!(net_dev_interfaces(&out), vec!["lo"], "--network none:\n{out}");

    // Containers of tests running alongside come and go on the host's bridges (veths, user-defined
    // bridges): what was there before and after must be seen, and nothing the host did not have.
    let host = || net_dev_interfaces(&fs::read_to_string("/proc/net/dev").unwrap());
    let before = host();
    let out = run_rm(&s, &["--network", "host", BUSYBOX, "cat", "/proc/net/dev"]);
    let after = host();
    let seen = net_dev_interfaces(&out);
    // Veths and the bridges of user networks may even be deleted and made again under the same name.
    let churning = |i: &&String| i.starts_with("veth") || i.starts_with("podman");
    for i in before.iter().filter(|i| after.contains(i) && !churning(i)) {
        assert!(seen.contains(i), "--network host: {i} missing:\n{out}");
    }
    for i in seen.iter().filter(|i| !churning(i)) {
        assert!(
            before.contains(i) || after.contains(i),
            "--network host: {i} is not the host's:\n{out}"
        );
    }
    assert!(seen.len() > 1, "--network host sees more than loopback:\n{out}");

    let host_ns = fs::read_link("/proc/self/ns/net").unwrap();
    let out = run_rm(&s, &["--net", "host", BUSYBOX, "readlink", "/proc/self/ns/net"]);
    assert_eq!(
        out.trim(),
        host_ns.to_str().unwrap(),
        "--net host shares the namespace"
    );
    let out = run_rm(
        &s,
        &["--network", "none", BUSYBOX, "readlink", "/proc/self/ns/net"],
    );
    assert_ne!(
        out.trim(),
        host_ns.to_str().unwrap(),
        "--network none has its own"
    );
}

#[test]
fn pid_ipc_and_uts_host_flags() {
    let s = ContainerStore::new();
    // Private PID namespace: the shell is PID 1.
    assert_eq!(run_rm(&s, &[BUSYBOX, "sh", "-c", "echo $$"]).trim(), "1");
    let out = run_rm(
        &s,
        &["--pid", "host", BUSYBOX, "sh", "-c", "echo $$; cat /proc/1/comm"],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_ne!(lines[0], "1", "--pid host: the shell is not PID 1");
    assert_eq!(
        lines[1],
        host_file("/proc/1/comm"),
        "--pid host: PID 1 is the host's"
    );

    let host_ipc = fs::read_link("/proc/self/ns/ipc").unwrap();
    let host_ipc = host_ipc.to_str().unwrap();
    assert_eq!(
        run_rm(&s, &["--ipc", "host", BUSYBOX, "readlink", "/proc/self/ns/ipc"]).trim(),
        host_ipc
    );
    assert_ne!(
        run_rm(&s, &[BUSYBOX, "readlink", "/proc/self/ns/ipc"]).trim(),
        host_ipc
    );

    let host_name = host_file("/proc/sys/kernel/hostname");
    assert_eq!(
        run_rm(&s, &["--uts", "host", BUSYBOX, "hostname"]).trim(),
        host_name
    );
    let host_uts = fs::read_link("/proc/self/ns/uts").unwrap();
    assert_ne!(
        run_rm(&s, &[BUSYBOX, "readlink", "/proc/self/ns/uts"]).trim(),
        host_uts.to_str().unwrap()
    );
}

#[test]
fn rootfs_flag() {
    let s = ContainerStore::new();
    let root = s.path("exploded");
    for dir in ["bin", "etc", "proc", "dev", "sys", "tmp"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::copy(harness::rootfs::HOST_BUSYBOX, root.join("bin/busybox")).unwrap();
    for applet in ["sh", "cat", "echo", "hostname"] {
        symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    fs::write(root.join("etc/marker"), "exploded rootfs\n").unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let r = root.to_str().unwrap();
    let out = s.run(&["run", "--rm", "--rootfs", r, "/bin/cat", "/etc/marker"]);
    out.success();
    assert_eq!(out.stdout_str(), "exploded rootfs\n");
    let out = s.run(&[
        "run",
        "--rm",
        "--rootfs",
        r,
        "/bin/sh",
        "-c",
        "echo written > /tmp/t && cat /tmp/t",
    ]);
    out.success();
    assert_eq!(out.stdout_str(), "written\n");
    assert!(
        root.join("etc/marker").is_file(),
        "the directory is left in place"
    );
    assert_no_mounts(&s, "the --rootfs runs");
}

#[test]
fn entrypoint_flag() {
    let s = ContainerStore::new();
    assert_eq!(
        run_rm(&s, &["--entrypoint", "/bin/echo", BUSYBOX, "hello", "world"]),
        "hello world\n"
    );
    // --entrypoint resets the image's Cmd: with no command, no arguments.
    assert_eq!(run_rm(&s, &["--entrypoint", "/bin/echo", BUSYBOX]), "\n");
    assert_eq!(
        run_rm(
            &s,
            &["--entrypoint", r#"["/bin/sh","-c"]"#, BUSYBOX, "echo json form"]
        ),
        "json form\n"
    );
}

#[test]
fn image_config_supplies_the_defaults() {
    let image = ImageBuilder::new()
        .layer(harness::busybox_layer())
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("GREETING=hi from image")
        .entrypoint(&["/bin/sh", "-c"])
        .cmd(&["echo \"$GREETING|$(pwd)|$(id -u)|$*\""])
        .working_dir("/home/tester")
        .user("1000")
        .stop_signal("SIGUSR1")
        .build();
    let s = ContainerStore::with_image(&image, &["defaults:latest"]);
    let img = "defaults:latest";
    assert_eq!(run_rm(&s, &[img]), "hi from image|/home/tester|1000|\n");
    // Arguments replace Cmd and keep the Entrypoint.
    assert_eq!(
        run_rm(&s, &[img, "echo replaced cmd; id -u"]),
        "replaced cmd\n1000\n"
    );
    // Flags override each default.
    assert_eq!(
        run_rm(&s, &["-e", "GREETING=flag", "-w", "/tmp", "-u", "0", img]),
        "flag|/tmp|0|\n"
    );
    assert_eq!(
        run_rm(&s, &["--entrypoint", "/bin/echo", img, "plain"]),
        "plain\n"
    );
    // The image's StopSignal is the container's: `stop` sends USR1 (Podman 4.3.1 shows it as 10).
    let script = "trap 'exit 7' USR1; echo ready; sleep 100 & wait";
    s.run_detached(&["--name", "c", img, script]);
    wait_logs(&s, "c", "ready");
    let v = s.inspect_json("c");
    let sig = &v["Config"]["StopSignal"];
    assert!(sig == 10 || sig == "SIGUSR1" || sig == "USR1", "StopSignal {sig}");
    let start = Instant::now();
    s.run(&["stop", "-t", "5", "c"]).success();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "stop took {:?}",
        start.elapsed()
    );
    assert_eq!(
        s.inspect_format("c", "{{.State.ExitCode}}"),
        "7",
        "stopped by USR1"
    );
}

#[test]
fn privileged_and_default_capabilities() {
    let s = ContainerStore::new();
    let own = fs::read_to_string("/proc/self/status").unwrap();
    let own_bnd = cap_field(&own, "CapBnd").unwrap().to_string();

    let out = run_rm(&s, &["--privileged", BUSYBOX, "cat", "/proc/self/status"]);
    assert_eq!(
        cap_field(&out, "CapEff"),
        Some(own_bnd.as_str()),
        "--privileged: every capability\n{out}"
    );
    assert_eq!(
        cap_field(&out, "CapBnd"),
        Some(own_bnd.as_str()),
        "--privileged\n{out}"
    );

    // The store's containers.conf sets no default_capabilities, so the built-in default set applies:
    // Podman's default set as the project specifies it, the 11 of the shipped containers.conf (CHOWN,
    // DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).
    // Podman 4.3.1 without any containers.conf falls back to its compiled-in 14 (plus MKNOD, NET_RAW,
    // AUDIT_WRITE), so this check is selkie's own.
    let eleven = [0, 1, 3, 4, 5, 10, 31, 6, 8, 7, 18];
    let builtin = if harness::selkie::is_podman() {
        cap_mask(&[&eleven[..], &[27, 13, 29]].concat())
    } else {
        cap_mask(&eleven)
    };
    let out = run_rm(&s, &[BUSYBOX, "cat", "/proc/self/status"]);
    for field in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(cap_field(&out, field), Some(builtin.as_str()), "{field}\n{out}");
    }
    assert_eq!(cap_field(&out, "CapAmb"), Some("0000000000000000"), "{out}");
    // A non-root user keeps no effective capabilities.
    let out = run_rm(&s, &["-u", "1000", BUSYBOX, "cat", "/proc/self/status"]);
    assert_eq!(cap_field(&out, "CapEff"), Some("0000000000000000"), "{out}");

    // containers.conf's default_capabilities: the 11 of the shipped /usr/share/containers/containers.conf,
    // then just two.
    let original = fs::read_to_string(s.containers_conf()).unwrap();
    let configure = |list: &str| {
        let conf = original.replacen(
            "[containers]\n",
            &format!("[containers]\ndefault_capabilities = [{list}]\n"),
            1,
        );
        fs::write(s.containers_conf(), conf).unwrap();
    };
    configure(
        "\"CHOWN\", \"DAC_OVERRIDE\", \"FOWNER\", \"FSETID\", \"KILL\", \"NET_BIND_SERVICE\", \"SETFCAP\", \
         \"SETGID\", \"SETPCAP\", \"SETUID\", \"SYS_CHROOT\"",
    );
    let default = cap_mask(&eleven);
    assert_eq!(default, "00000000800405fb");
    let out = run_rm(&s, &[BUSYBOX, "cat", "/proc/self/status"]);
    for field in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(
            cap_field(&out, field),
            Some(default.as_str()),
            "the 11: {field}\n{out}"
        );
    }
    configure("\"CHOWN\", \"KILL\"");
    let out = run_rm(&s, &[BUSYBOX, "cat", "/proc/self/status"]);
    assert_eq!(
        cap_field(&out, "CapEff"),
        Some("0000000000000021"),
        "CHOWN and KILL\n{out}"
    );
}

#[test]
fn tty_and_interactive_flags() {
    let s = ContainerStore::new();
    let out = run_rm(&s, &["-t", BUSYBOX, "sh", "-c", "test -t 0 && test -t 1 && tty"]);
    // Podman's runtimes allocate the pty inside the container's devpts (`/dev/pts/0`); selkie's monitor
    // allocates it and the runtime binds it at /dev/console, which is what `tty` then names.
    assert!(
        out.starts_with("/dev/pts/") || out.starts_with("/dev/console"),
        "-t: a pseudo-terminal: {out:?}"
    );
    assert!(
        out.ends_with("\r\n"),
        "-t: the terminal turns \\n into \\r\\n: {out:?}"
    );
    let out = run_rm(&s, &[BUSYBOX, "sh", "-c", "test -t 1 || echo no tty"]);
    assert_eq!(out, "no tty\n");

    let out = s.run_stdin(&["run", "--rm", "-i", BUSYBOX, "cat"], b"line one\nline two\n");
    out.success();
    assert_eq!(out.stdout_str(), "line one\nline two\n", "-i passes stdin");
    // Larger than a pipe buffer, and binary.
    let data = noise(7, 300_000);
    let out = s.run_stdin(&["run", "--rm", "-i", BUSYBOX, "cat"], &data);
    out.success();
    assert!(
        out.stdout == data,
        "-i cat of 300000 bytes came back as {} bytes",
        out.stdout.len()
    );
    // Without -i the container's stdin is empty.
    let out = s.run_stdin(&["run", "--rm", BUSYBOX, "cat"], b"not passed\n");
    out.success();
    assert_eq!(out.stdout_str(), "", "without -i");
}

#[test]
fn cidfile_replace_and_rm_flags() {
    let s = ContainerStore::new();
    let cidfile = s.path("cid");
    let c = cidfile.to_str().unwrap();
    let id = s.run_detached(&["--cidfile", c, BUSYBOX, "true"]);
    assert_eq!(fs::read_to_string(&cidfile).unwrap().trim(), id);
    // An existing cidfile is refused before anything is created.
    s.run(&["run", "--cidfile", c, BUSYBOX, "true"])
        .assert_error(125, c);
    assert_eq!(s.all_ids(), vec![id.clone()]);
    s.run(&["rm", "-a", "-f"]).success();

    // --replace.
    let out = s.run(&["run", "--name", "r", BUSYBOX, "echo", "first"]);
    out.success();
    let first = s.inspect_format("r", "{{.Id}}");
    s.run(&["run", "--name", "r", BUSYBOX, "true"])
        .assert_error(125, "r");
    let out = s.run(&["run", "--replace", "--name", "r", BUSYBOX, "echo", "second"]);
    out.success();
    // Podman 4.3.1 also prints the replaced container's name first.
    assert!(out.stdout_str().ends_with("second\n"), "{}", out.stdout_str());
    if !is_podman() {
        assert_eq!(out.stdout_str(), "second\n");
    }
    let second = s.inspect_format("r", "{{.Id}}");
    assert_ne!(first, second);
    assert_eq!(s.all_ids(), vec![second]);
    // --replace of a running container.
    let running = s.run_detached(&["--name", "r2", BUSYBOX, "sh", "-c", SERVE]);
    let replaced = s.run_detached(&["--replace", "--name", "r2", BUSYBOX, "sh", "-c", SERVE]);
    assert_ne!(running, replaced);
    assert!(
        !s.all_ids().contains(&running),
        "the running container was replaced"
    );
    assert_eq!(s.status("r2"), "running");
    s.run(&["rm", "-a", "-f", "-t", "0"]).success();

    // --rm: gone after the exit, whatever the code.
    s.run(&["run", "--rm", BUSYBOX, "true"]).success();
    s.run(&["run", "--rm", BUSYBOX, "sh", "-c", "exit 4"])
        .assert_code(4);
    assert_no_containers(&s, "run --rm");
    s.run_detached(&["--rm", BUSYBOX, "true"]);
    let gone = poll(Duration::from_secs(10), || s.all_ids().is_empty());
    assert!(gone, "run -d --rm: still listed {:?}", s.all_ids());
    assert_no_mounts(&s, "the --rm containers");
}

#[test]
fn stop_signal_and_stop_timeout_flags() {
    let s = ContainerStore::new();
    s.run_detached(&[
        "--name",
        "usr1",
        "--stop-signal",
        "USR1",
        BUSYBOX,
        "sh",
        "-c",
        "trap 'exit 7' USR1; echo ready; sleep 100 & wait",
    ]);
    wait_logs(&s, "usr1", "ready");
    let start = Instant::now();
    s.run(&["stop", "usr1"]).success();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        start.elapsed()
    );
    assert_eq!(
        s.inspect_format("usr1", "{{.State.ExitCode}}"),
        "7",
        "stopped by USR1"
    );

    // PID 1 ignores TERM without a handler: stop waits --stop-timeout, then kills.
    s.run_detached(&[
        "--name",
        "slow",
        "--stop-timeout",
        "1",
        BUSYBOX,
        "sh",
        "-c",
        "echo ready; sleep 100 & wait",
    ]);
    wait_logs(&s, "slow", "ready");
    assert_eq!(s.inspect_format("slow", "{{.Config.StopTimeout}}"), "1");
    let start = Instant::now();
    s.run(&["stop", "slow"]).success();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "stop with --stop-timeout 1 took {took:?}"
    );
    assert_eq!(s.inspect_format("slow", "{{.State.ExitCode}}"), "137");
}

// ---------------------------------------------------------------- lifecycle

#[test]
fn detached_run_ps_and_logs() {
    let s = ContainerStore::new();
    let script = "echo out1; echo err1 >&2; echo out2; trap 'exit 0' TERM; echo ready; sleep 100 & wait";
    let id = s.run_detached(&["--name", "lc", BUSYBOX, "sh", "-c", script]);
    assert!(is_hex64(&id), "run -d prints the full ID: {id:?}");

    let out = s.run(&["ps"]);
    out.success();
    let headers = [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ];
    let table = Table::parse(&out.stdout_str(), &headers);
    assert_eq!(table.rows.len(), 1, "{}", out.stdout_str());
    assert_eq!(table.column("CONTAINER ID"), vec![id[..12].to_string()]);
    assert_eq!(table.column("IMAGE"), vec!["localhost/busybox:latest"]);
    assert_eq!(table.column("NAMES"), vec!["lc"]);
    assert!(
        table.column("STATUS")[0].starts_with("Up "),
        "{}",
        out.stdout_str()
    );

    wait_logs(&s, "lc", "ready");
    let out = s.run(&["logs", "lc"]);
    out.success();
    assert_eq!(out.stdout_str(), "out1\nout2\nready\n");
    assert_eq!(
        out.stderr_str(),
        "err1\n",
        "the container's stderr goes to stderr"
    );
    let out = s.run(&["logs", "-t", "lc"]);
    out.success();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, text) in lines.iter().zip(["out1", "out2", "ready"]) {
        let (stamp, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("no timestamp: {line:?}"));
        assert_eq!(rest, text);
        assert!(
            stamp.len() >= 20 && stamp.starts_with("20") && stamp.as_bytes()[10] == b'T',
            "an RFC 3339 timestamp: {stamp:?}"
        );
    }

    let start = Instant::now();
    s.run(&["stop", "lc"]).success();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "a TERM handler exits promptly"
    );
    assert_eq!(s.run(&["wait", "lc"]).success().stdout_str().trim(), "0");
    let out = s.run(&["ps", "-a", "--format", "{{.Status}}"]);
    out.success();
    assert!(
        out.stdout_str().starts_with("Exited (0) "),
        "{}",
        out.stdout_str()
    );
    // Logs stay readable after the exit.
    assert_eq!(
        s.run(&["logs", "lc"]).success().stdout_str(),
        "out1\nout2\nready\n"
    );

    // --tail, on stdout alone (the order of lines across the two streams is not fixed).
    s.run(&[
        "run",
        "--name",
        "tail",
        BUSYBOX,
        "sh",
        "-c",
        "echo one; echo two; echo three",
    ])
    .success();
    let tail = |n: &str| s.run(&["logs", "--tail", n, "tail"]).success().stdout_str();
    assert_eq!(tail("1"), "three\n");
    assert_eq!(tail("2"), "two\nthree\n");
    assert_eq!(tail("10"), "one\ntwo\nthree\n");
    assert_eq!(tail("0"), "");
    let tail_id = s.inspect_format("tail", "{{.Id}}");
    assert_eq!(
        s.run(&["logs", "--tail", "1", &tail_id[..12]])
            .success()
            .stdout_str(),
        "three\n",
        "by ID"
    );
}

#[test]
fn wait_prints_the_exit_code() {
    let s = ContainerStore::new();
    let id = s.run_detached(&[BUSYBOX, "sh", "-c", "exit 5"]);
    assert_eq!(s.run(&["wait", &id]).success().stdout_str(), "5\n");
    // Again, after the exit.
    assert_eq!(s.run(&["wait", &id[..12]]).success().stdout_str(), "5\n");
    s.run(&["wait", "nosuch"]).assert_error(125, "nosuch");
}

#[test]
fn stop_kills_after_the_timeout() {
    let s = ContainerStore::new();
    s.run_detached(&[
        "--name",
        "stubborn",
        BUSYBOX,
        "sh",
        "-c",
        "trap '' TERM; sleep 100",
    ]);
    let start = Instant::now();
    let out = s.run(&["stop", "-t", "1", "stubborn"]);
    let took = start.elapsed();
    out.success();
    assert_eq!(out.stdout_str().trim(), "stubborn");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "stop -t 1 took {took:?}"
    );
    assert!(
        out.stderr_str().contains("resorting to SIGKILL"),
        "the warning on stderr: {}",
        out.stderr_str()
    );
    assert_eq!(s.status("stubborn"), "exited");
    assert_eq!(s.inspect_format("stubborn", "{{.State.ExitCode}}"), "137");
    // Stopping an exited container is no error.
    s.run(&["stop", "stubborn"]).success();
}

#[test]
fn kill_sends_the_signal() {
    let s = ContainerStore::new();
    let script = "trap 'echo got usr1; exit 5' USR1; echo ready; sleep 100 & wait";
    s.run_detached(&["--name", "k", BUSYBOX, "sh", "-c", script]);
    wait_logs(&s, "k", "ready");
    let out = s.run(&["kill", "-s", "USR1", "k"]);
    out.success();
    assert_eq!(out.stdout_str().trim(), "k");
    assert_eq!(s.run(&["wait", "k"]).success().stdout_str().trim(), "5");
    assert_eq!(s.run(&["logs", "k"]).success().stdout_str(), "ready\ngot usr1\n");

    // The default signal is KILL.
    s.run_detached(&["--name", "k2", BUSYBOX, "sleep", "100"]);
    s.run(&["kill", "k2"]).success();
    assert_eq!(s.run(&["wait", "k2"]).success().stdout_str().trim(), "137");
    // Killing a container that is not running is an error.
    s.run(&["kill", "k2"])
        .assert_error(125, "can only kill running containers");
}

#[test]
fn rm_of_a_running_container_needs_force() {
    let s = ContainerStore::new();
    let id = s.run_detached(&["--name", "busy", BUSYBOX, "sleep", "100"]);
    let pid: i32 = s.inspect_format("busy", "{{.State.Pid}}").parse().unwrap();
    s.run(&["rm", "busy"]).assert_error(2, "as it is running");
    assert_eq!(s.status("busy"), "running");
    let out = s.run(&["rm", "-f", "-t", "0", "busy"]);
    out.success();
    assert_eq!(out.stdout_str(), "busy\n", "rm prints the name it was given");
    assert_no_containers(&s, "rm -f");
    assert!(!process_alive(pid), "rm -f killed the process {pid}");
    if !is_podman() {
        assert!(
            s.store_entries("containers").is_empty(),
            "{:?}",
            s.store_entries("containers")
        );
    }
    assert_no_mounts(&s, "rm -f");
    s.run(&["rm", &id[..12]]).assert_error(1, &id[..12]);
    s.run(&["rm", "busy"]).assert_error(1, "busy");
    s.run(&["rm", "-i", "busy"]).success();
}

#[test]
fn create_start_wait_and_start_attach() {
    let s = ContainerStore::new();
    let out = s.run(&[
        "create",
        "--name",
        "cs",
        BUSYBOX,
        "sh",
        "-c",
        "echo created output; exit 6",
    ]);
    out.success();
    let id = out.stdout_str().trim().to_string();
    assert!(is_hex64(&id), "{id}");
    assert_eq!(s.status("cs"), "created");
    let ps = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert_eq!(ps.success().stdout_str(), "cs Created\n");

    let out = s.run(&["start", "cs"]);
    out.success();
    assert_eq!(out.stdout_str().trim(), "cs");
    assert_eq!(s.run(&["wait", "cs"]).success().stdout_str().trim(), "6");
    assert_eq!(s.run(&["logs", "cs"]).success().stdout_str(), "created output\n");
    assert_eq!(s.inspect_format("cs", "{{.State.ExitCode}}"), "6");

    // start -a of the exited container runs it again, attached.
    let out = s.run(&["start", "-a", "cs"]);
    out.assert_code(6);
    assert_eq!(out.stdout_str(), "created output\n");

    s.run(&["create", "--name", "cs2", BUSYBOX, "echo", "attached"])
        .success();
    let out = s.run(&["start", "--attach", "cs2"]);
    out.success();
    assert_eq!(out.stdout_str(), "attached\n");
    assert_eq!(s.status("cs2"), "exited");
}

#[test]
fn restart_rename_and_exists() {
    let s = ContainerStore::new();
    let script = "trap 'exit 0' TERM; echo started; sleep 100 & wait";
    s.run_detached(&["--name", "rs", BUSYBOX, "sh", "-c", script]);
    wait_logs(&s, "rs", "started");
    let pid1 = s.inspect_format("rs", "{{.State.Pid}}");
    s.run(&["restart", "rs"]).success();
    let ok = poll(Duration::from_secs(10), || {
        s.run(&["logs", "rs"]).success().stdout_str() == "started\nstarted\n"
    });
    assert!(
        ok,
        "restart runs it again: {}",
        s.run(&["logs", "rs"]).stdout_str()
    );
    assert_eq!(s.status("rs"), "running");
    assert_ne!(s.inspect_format("rs", "{{.State.Pid}}"), pid1);

    // restart of an exited container.
    s.run(&["run", "--name", "rx", BUSYBOX, "echo", "again"])
        .success();
    s.run(&["restart", "rx"]).success();
    assert_eq!(s.run(&["wait", "rx"]).success().stdout_str().trim(), "0");
    assert_eq!(s.run(&["logs", "rx"]).success().stdout_str(), "again\nagain\n");

    // rename.
    let id = s.inspect_format("rx", "{{.Id}}");
    s.run(&["rename", "rx", "renamed"]).success();
    assert_eq!(s.inspect_format("renamed", "{{.Id}}"), id);
    assert_eq!(s.inspect_format("renamed", "{{.Name}}"), "renamed");
    s.run(&["rename", "renamed", "rs"]).assert_error(125, "rs");
    s.run(&["rename", "nosuch", "other"]).assert_error(125, "nosuch");

    // container exists.
    let out = s.run(&["container", "exists", "renamed"]);
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "");
    let out = s.run(&["container", "exists", "rx"]);
    out.assert_code(1);
    assert_eq!(out.stdout_str(), "");
    assert_eq!(out.stderr_str(), "");
    s.run(&["container", "exists", &id[..12]]).assert_code(0);
    s.run(&["container", "exists", BUSYBOX]).assert_code(1);
}

#[test]
fn inspect_fields() {
    let s = ContainerStore::new();
    let dir = s.path("mnt");
    fs::create_dir(&dir).unwrap();
    let vol = format!("{}:/data:ro", dir.display());
    let id = s.run_detached(&[
        "--name", "insp", "-e", "A=1", "-v", &vol, "--label", "l=v", BUSYBOX, "sh", "-c", SERVE,
    ]);
    wait_logs(&s, "insp", "ready");
    assert_eq!(s.inspect_format("insp", "{{.State.Status}}"), "running");
    assert_eq!(s.inspect_format("insp", "{{.State.Running}}"), "true");
    let pid: i32 = s.inspect_format("insp", "{{.State.Pid}}").parse().unwrap();
    assert!(pid > 0 && process_alive(pid), "State.Pid {pid}");
    assert_eq!(s.inspect_format("insp", "{{.State.ExitCode}}"), "0");
    assert_eq!(s.inspect_format("insp", "{{.HostConfig.AutoRemove}}"), "false");
    assert_eq!(s.inspect_format("insp", "{{.Name}}"), "insp");
    assert_eq!(s.inspect_format("insp", "{{.Id}}"), id);

    let v = s.inspect_json("insp");
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["Image"], busybox_id());
    assert_eq!(v["ImageName"], "localhost/busybox:latest");
    assert_eq!(v["Path"], "sh");
    assert_eq!(v["Args"], serde_json::json!(["-c", SERVE]));
    let env: Vec<&str> = v["Config"]["Env"]
        .as_array()
        .expect("Config.Env is an array")
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(env.contains(&"A=1"), "{env:?}");
    assert_eq!(v["Config"]["Labels"]["l"], "v");
    let mounts = v["Mounts"].as_array().expect("Mounts is an array");
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert_eq!(mounts[0]["Type"], "bind");
    assert_eq!(mounts[0]["Source"], dir.to_str().unwrap());
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["RW"], false);

    // By ID prefix, and a name that is an image's gives the image.
    assert_eq!(s.inspect_format(&id[..12], "{{.Name}}"), "insp");
    assert_eq!(s.inspect_format(BUSYBOX, "{{.Id}}"), busybox_id());

    s.run(&["stop", "insp"]).success();
    assert_eq!(s.inspect_format("insp", "{{.State.Status}}"), "exited");
    assert_eq!(s.inspect_format("insp", "{{.State.Running}}"), "false");
    assert_eq!(s.inspect_format("insp", "{{.State.Pid}}"), "0");
    assert_eq!(s.inspect_format("insp", "{{.State.ExitCode}}"), "0");

    s.run(&["create", "--rm", "--name", "auto", BUSYBOX, "true"])
        .success();
    assert_eq!(s.inspect_format("auto", "{{.HostConfig.AutoRemove}}"), "true");
    assert_eq!(s.inspect_format("auto", "{{.State.Status}}"), "created");

    let out = s.run(&["inspect", "nosuch"]);
    out.assert_code(125);
    assert!(out.stderr_str().contains("nosuch"), "{}", out.stderr_str());
}

fn busybox_id() -> String {
    harness::busybox_image().id()
}

#[test]
fn ps_formats_filters_and_sorting() {
    let s = ContainerStore::new();
    s.run(&["run", "--name", "alpha", "--label", "tier=web", BUSYBOX, "true"])
        .success();
    s.run(&["run", "--name", "bravo", BUSYBOX, "sh", "-c", "exit 3"])
        .assert_code(3);
    let charlie = s.run_detached(&[
        "--name", "charlie", "--label", "tier=db", BUSYBOX, "sh", "-c", SERVE,
    ]);
    let delta = s.run(&["create", "--name", "delta", BUSYBOX, "true"]);
    delta.success();
    let delta = delta.stdout_str().trim().to_string();
    let id_of = |name: &str| s.inspect_format(name, "{{.Id}}");
    let bravo = id_of("bravo");

    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["ps", "--format", "{{.Names}}"];
        full.extend_from_slice(args);
        let mut v = s.run(&full).success().lines();
        v.sort();
        v
    };
    assert_eq!(names(&[]), vec!["charlie"], "running only by default");
    assert_eq!(names(&["-a"]), vec!["alpha", "bravo", "charlie", "delta"]);

    // -q, --no-trunc, -l, -n.
    assert_eq!(
        s.run(&["ps", "-q"]).success().lines(),
        vec![charlie[..12].to_string()]
    );
    let short = s.run(&["ps", "-a", "-q"]).success().lines();
    assert_eq!(short.len(), 4);
    assert!(short.iter().all(|i| i.len() == 12), "{short:?}");
    let full = s.run(&["ps", "-a", "-q", "--no-trunc"]).success().lines();
    assert!(full.iter().all(|i| is_hex64(i)), "{full:?}");
    assert_eq!(
        s.run(&["ps", "-q", "-l"]).success().lines(),
        vec![delta[..12].to_string()]
    );
    assert_eq!(
        s.run(&["ps", "-l", "--format", "{{.Names}}"]).success().lines(),
        vec!["delta"],
        "-l: the latest created, in any state"
    );
    assert_eq!(
        names(&["-n", "2"]),
        vec!["charlie", "delta"],
        "-n 2: the two latest"
    );
    let out = s.run(&["ps", "-a", "--no-trunc"]);
    out.success();
    let headers = [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ];
    let table = Table::parse(&out.stdout_str(), &headers);
    assert!(
        table.column("CONTAINER ID").iter().all(|i| is_hex64(i)),
        "{}",
        out.stdout_str()
    );

    // --sort names.
    let sorted = s
        .run(&["ps", "-a", "--sort", "names", "--format", "{{.Names}}"])
        .success()
        .lines();
    assert_eq!(sorted, vec!["alpha", "bravo", "charlie", "delta"]);

    // --format json.
    let v = s.run(&["ps", "-a", "--format", "json"]).success().json();
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 4);
    let by_name = |name: &str| -> &Value {
        arr.iter()
            .find(|c| c["Names"] == serde_json::json!([name]))
            .unwrap_or_else(|| panic!("{name} missing from {v}"))
    };
    let b = by_name("bravo");
    assert_eq!(b["Id"], bravo.as_str());
    assert_eq!(b["State"], "exited");
    assert_eq!(b["ExitCode"], 3);
    assert!(b["Status"].as_str().unwrap().starts_with("Exited (3) "), "{b}");
    let c = by_name("charlie");
    assert_eq!(c["State"], "running");
    assert!(c["Status"].as_str().unwrap().starts_with("Up "), "{c}");
    assert_eq!(by_name("delta")["State"], "created");
    assert_eq!(by_name("delta")["Status"], "Created");
    assert_eq!(by_name("alpha")["Labels"]["tier"], "web");

    // A template.
    let out = s.run(&["ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
    let line = out.success().stdout_str();
    let prefix = format!("{} charlie Up ", &charlie[..12]);
    assert!(line.starts_with(&prefix) && line.lines().count() == 1, "{line:?}");

    // Filters.
    assert_eq!(
        names(&["-a", "--filter", "status=exited"]),
        vec!["alpha", "bravo"]
    );
    assert_eq!(names(&["-a", "--filter", "status=running"]), vec!["charlie"]);
    assert_eq!(names(&["-a", "--filter", "status=created"]), vec!["delta"]);
    assert_eq!(names(&["-a", "--filter", "name=alpha"]), vec!["alpha"]);
    assert_eq!(names(&["-a", "--filter", "label=tier=web"]), vec!["alpha"]);
    assert_eq!(names(&["-a", "--filter", "label=tier"]), vec!["alpha", "charlie"]);
    assert_eq!(
        names(&["-a", "--filter", "ancestor=localhost/busybox:latest"]),
        vec!["alpha", "bravo", "charlie", "delta"]
    );
    assert_eq!(names(&["-a", "--filter", "exited=3"]), vec!["bravo"]);
    assert_eq!(
        names(&["-a", "--filter", &format!("id={}", &bravo[..8])]),
        vec!["bravo"]
    );
    assert_eq!(
        names(&["-a", "--filter", "status=exited", "--filter", "exited=0"]),
        vec!["alpha"],
        "different filters AND together"
    );
    s.run(&["ps", "--filter", "bogus=1"]).assert_error(125, "bogus");

    // --size adds the SIZE column.
    let out = s.run(&["ps", "-a", "--size"]);
    out.success();
    let mut with_size = headers.to_vec();
    with_size.push("SIZE");
    let table = Table::parse(&out.stdout_str(), &with_size);
    assert_eq!(table.rows.len(), 4);
}

// ---------------------------------------------------------------- nothing left mounted

#[test]
fn no_mounts_left_after_exit_and_rm() {
    let s = ContainerStore::new();
    let dir = s.path("bind");
    fs::create_dir(&dir).unwrap();
    let vol = format!("{}:/b", dir.display());
    s.run(&["run", "--name", "m1", BUSYBOX, "true"]).success();
    assert_no_mounts(&s, "run exited");
    s.run(&[
        "run", "--name", "m2", "-v", &vol, "--tmpfs", "/t", BUSYBOX, "touch", "/b/f", "/t/f",
    ])
    .success();
    assert_no_mounts(&s, "run with -v and --tmpfs exited");
    s.run_detached(&["--name", "m3", "-v", &vol, BUSYBOX, "sh", "-c", SERVE]);
    wait_logs(&s, "m3", "ready");
    s.run(&["stop", "m3"]).success();
    assert_no_mounts(&s, "stop");
    s.run_detached(&["--name", "m4", BUSYBOX, "sleep", "100"]);
    s.run(&["rm", "-f", "-t", "0", "m4"]).success();
    assert_no_mounts(&s, "rm -f of a running container");
    s.run(&["rm", "m1", "m2", "m3"]).success();
    assert_no_mounts(&s, "rm");
    assert_no_containers(&s, "rm");
}

// ---------------------------------------------------------------- the storm

#[test]
fn storm_of_parallel_runs_ps_and_rm() {
    let s = ContainerStore::new();
    // Containers that must survive, in each state.
    s.run(&["create", "--name", "keep-created", BUSYBOX, "true"])
        .success();
    s.run(&["run", "--name", "keep-exited", BUSYBOX, "true"])
        .success();
    let running = s.run_detached(&["--name", "keep-running", BUSYBOX, "sh", "-c", SERVE]);
    let keep: BTreeSet<String> = ["keep-created", "keep-exited", "keep-running"]
        .iter()
        .map(|n| s.inspect_format(n, "{{.Id}}"))
        .collect();
    // Containers the rm thread removes.
    let mut victims = Vec::new();
    for i in 0..8 {
        let name = format!("victim{i}");
        match i % 3 {
            0 => s.run(&["create", "--name", &name, BUSYBOX, "true"]).success(),
            1 => s.run(&["run", "--name", &name, BUSYBOX, "true"]).success(),
            _ => s
                .run(&["run", "-d", "--name", &name, BUSYBOX, "sleep", "100"])
                .success(),
        };
        victims.push(name);
    }

    let done = std::sync::atomic::AtomicBool::new(false);
    let (runs, pss, rms) = std::thread::scope(|scope| {
        let runners: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| s.run(&["run", "--rm", BUSYBOX, "true"])))
            .collect();
        let ps = scope.spawn(|| {
            let mut outs: Vec<Output> = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) || outs.len() < 3 {
                outs.push(s.run(&["ps", "-a"]));
            }
            outs
        });
        let rm = scope.spawn(|| {
            victims
                .iter()
                .map(|v| s.run(&["rm", "-f", "-t", "0", v]))
                .collect::<Vec<Output>>()
        });
        let runs: Vec<Output> = runners.into_iter().map(|h| h.join().unwrap()).collect();
        let rms = rm.join().unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (runs, ps.join().unwrap(), rms)
    });
    // Every problem is collected, so one failing run shows all of them.
    let mut problems: Vec<String> = runs
        .iter()
        .chain(&pss)
        .chain(&rms)
        .filter(|o| o.code() != 0)
        .map(|o| format!("{} -> {}: {}", o.command, o.code(), o.stderr_str().trim()))
        .collect();
    if !problems.is_empty() {
        let total = runs.len() + pss.len() + rms.len();
        problems.insert(0, format!("{} of {total} commands failed:", problems.len()));
    }
    eprintln!("storm: {} runs, {} ps, {} rm", runs.len(), pss.len(), rms.len());

    let left: BTreeSet<String> = s.all_ids().into_iter().collect();
    if left != keep {
        problems.push(format!("ps -a lists {left:?}, not exactly the kept {keep:?}"));
    }
    let status = s.status("keep-running");
    if status != "running" {
        problems.push(format!("keep-running is {status}"));
    }
    if !is_podman() {
        let raw = fs::read(s.root().join("containers.json")).expect("containers.json");
        match serde_json::from_slice::<Value>(&raw) {
            Ok(parsed) => {
                let text = parsed.to_string();
                for id in keep.iter().filter(|id| !text.contains(id.as_str())) {
                    problems.push(format!("containers.json lacks {id}"));
                }
            }
            Err(e) => problems.push(format!("containers.json does not parse: {e}")),
        }
        let dirs: BTreeSet<String> = s.store_entries("containers").into_iter().collect();
        let extra: Vec<&String> = dirs.difference(&keep).collect();
        let missing: Vec<&String> = keep.difference(&dirs).collect();
        if !extra.is_empty() || !missing.is_empty() {
            problems.push(format!(
                "<root>/containers/ has leftover directories {extra:?} and lacks {missing:?}"
            ));
        }
    }
    let mounts = mounts_mentioning(s.dir());
    if !is_podman() && !mounts.iter().all(|m| m.contains(running.as_str())) {
        problems.push(format!(
            "only the running container may have mounts:\n{}",
            mounts.join("\n")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------- a killed monitor

#[test]
fn container_outlives_its_killed_monitor() {
    let s = ContainerStore::new();
    let id = s.run_detached(&["--name", "orphan", BUSYBOX, "sleep", "1000"]);
    let monitor: i32 = s
        .inspect_format("orphan", "{{.State.ConmonPid}}")
        .parse()
        .unwrap();
    let pid: i32 = s.inspect_format("orphan", "{{.State.Pid}}").parse().unwrap();
    assert!(
        monitor > 0 && pid > 0 && monitor != pid,
        "monitor {monitor}, pid {pid}"
    );
    assert!(process_alive(monitor), "the monitor {monitor} runs");
    if !is_podman() {
        let cmdline = fs::read(format!("/proc/{monitor}/cmdline")).unwrap();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(
            cmdline.contains("container-monitor") && cmdline.contains(&id),
            "ConmonPid is the monitor: {cmdline}"
        );
    }

    kill(Pid::from_raw(monitor), Signal::SIGKILL).unwrap();
    assert!(
        poll(Duration::from_secs(5), || !process_alive(monitor)),
        "the monitor {monitor} died"
    );
    assert!(process_alive(pid), "the container's process outlives its monitor");
    let out = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    out.success();
    assert!(out.stdout_str().starts_with("orphan Up "), "{}", out.stdout_str());

    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    assert!(
        poll(Duration::from_secs(5), || !process_alive(pid)),
        "the container's process {pid} died"
    );
    let mut last = String::new();
    let exited = poll(Duration::from_secs(5), || {
        let out = s.run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
        out.success();
        last = out.stdout_str();
        last.starts_with("orphan Exited")
    });
    if skip_on_podman("podman 4.3.1 shows a container whose conmon and process were killed as Up") {
        return;
    }
    assert!(exited, "ps -a after the process died: {last:?}");
    assert_eq!(s.status("orphan"), "exited");
    s.run(&["rm", "orphan"]).success();
    assert_no_containers(&s, "rm of the orphan");
    assert_no_mounts(&s, "rm of the orphan");
}
