//! End-to-end tests of `pause`/`unpause` (the cgroup freezer), `top` (a running container's processes in
//! Podman's format descriptors) and `stats` (usage from the container's cgroup), run as root through the
//! real binary.
//!
//! Facts checked against Podman 4.3.1 (runc, cgroup v1 hybrid) on these machines: `pause NAME` prints the
//! name as given and `pause --all` full IDs; a paused container is `Paused` in `ps -a` and absent from
//! `ps`; `top` and `exec` refuse it; `top` with an argument that is not a descriptor runs ps(1) in the
//! container; `stats` of a container that does not run is all zeros; `MemUsage` is in decimal units
//! (`67.11MB` for `--memory 64m`) and `MemUsageBytes` in binary ones (`64MiB`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::container::{is_hex64, poll, ContainerStore, BUSYBOX};
use harness::{skip_on_podman, Table};

/// A container whose shell counts in `/tmp/count`, twenty times a second.
const COUNTER: &str = "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done";

/// The counter of the container whose init is host PID `pid`, read through its root.
fn count(pid: i32) -> u64 {
    let file = PathBuf::from(format!("/proc/{pid}/root/tmp/count"));
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the counter has moved on from `from`.
#[track_caller]
fn assert_counts_past(pid: i32, from: u64) {
    assert!(
        poll(Duration::from_secs(10), || count(pid) > from + 1),
        "the counter stays at {} (was {from})",
        count(pid)
    );
}

fn pid_of(s: &ContainerStore, name: &str) -> i32 {
    s.inspect_format(name, "{{.State.Pid}}").parse().expect("a PID")
}

#[test]
fn pause_freezes_every_process_and_unpause_resumes_them() {
    let s = ContainerStore::new();
    let id = s.run_detached(&["--name", "loop", BUSYBOX, "sh", "-c", COUNTER]);
    let pid = pid_of(&s, "loop");
    assert_counts_past(pid, 0);

    let out = s.run(&["pause", "loop"]);
    out.success();
    assert_eq!(out.lines(), ["loop"], "pause prints the container as named");
    assert_eq!(s.status("loop"), "paused");
    assert_eq!(
        s.inspect_format("loop", "{{.State.Paused}} {{.State.Running}}"),
        "true false"
    );
    let listed = s
        .run(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"])
        .success()
        .lines();
    assert!(listed.contains(&"loop Paused".to_string()), "{listed:?}");
    let running = s.run(&["ps", "--format", "{{.Names}}"]).success().lines();
    assert!(
        running.is_empty(),
        "ps without -a lists a paused container: {running:?}"
    );
    let paused = s
        .run(&["ps", "--filter", "status=paused", "--format", "{{.ID}}"])
        .success()
        .lines();
    assert_eq!(paused, [id[..12].to_string()]);

    // Frozen: the counter stands still.
    let frozen_at = count(pid);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(pid), frozen_at, "the counter advanced while paused");

    s.run(&["pause", "loop"])
        .assert_error(125, "is already paused: container state improper");
    s.run(&["top", "loop"])
        .assert_error(125, "top can only be used on running containers");
    // (Podman exits 255 here, selkie 125.)
    let exec = s.run(&["exec", "loop", "true"]);
    assert_ne!(exec.code(), 0);
    assert!(
        exec.stderr_str().contains("container state improper"),
        "{}",
        exec.stderr_str()
    );

    let out = s.run(&["unpause", "loop"]);
    out.success();
    assert_eq!(out.lines(), ["loop"]);
    assert_eq!(s.status("loop"), "running");
    assert_counts_past(pid, frozen_at);
    s.run(&["unpause", "loop"]).assert_error(
        125,
        &format!("\"{id}\" is not paused, can't unpause: container state improper"),
    );

    // The `container` group has both verbs; --all names containers by full ID.
    s.run(&["container", "pause", "loop"]).success();
    assert_eq!(s.status("loop"), "paused");
    s.run(&["container", "unpause", "loop"]).success();
    let out = s.run(&["pause", "--all"]);
    out.success();
    assert_eq!(out.lines(), [id.as_str()]);
    let out = s.run(&["unpause", "-a"]);
    out.success();
    assert_eq!(out.lines(), [id.as_str()]);
    assert_eq!(s.status("loop"), "running");
}

#[test]
fn a_paused_container_can_be_stopped_killed_and_removed() {
    let s = ContainerStore::new();
    // The shell exits 3 on SIGTERM: stop is answered by the container itself, once thawed.
    let trap = "trap 'exit 3' TERM; while :; do sleep 0.05; done";
    for name in ["stopped", "killed", "removed"] {
        s.run_detached(&["--name", name, BUSYBOX, "sh", "-c", trap]);
        s.run(&["pause", name]).success();
        assert_eq!(s.status(name), "paused");
    }

    if !skip_on_podman("Podman 4.3.1 refuses to stop a paused container") {
        let started = Instant::now();
        s.run(&["stop", "-t", "20", "stopped"]).success();
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "stop of a paused container waited for its timeout"
        );
        assert_eq!(
            s.inspect_format("stopped", "{{.State.Status}} {{.State.ExitCode}}"),
            "exited 3"
        );
    }

    s.run(&["kill", "killed"]).success();
    s.wait_status("killed", "exited", Duration::from_secs(10));
    assert_eq!(s.inspect_format("killed", "{{.State.ExitCode}}"), "137");

    let removed_pid = pid_of(&s, "removed");
    s.run(&["rm", "-f", "removed"]).success();
    let names = s.run(&["ps", "-a", "--format", "{{.Names}}"]).success().lines();
    assert!(!names.contains(&"removed".to_string()), "{names:?}");
    assert!(
        poll(Duration::from_secs(10), || !harness::container::process_alive(
            removed_pid
        )),
        "the paused container's process outlived rm -f"
    );
}

#[test]
fn only_a_running_container_can_be_paused() {
    let s = ContainerStore::new();
    let created = s
        .run(&["create", "--name", "new", BUSYBOX, "true"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    s.run(&["pause", "new"])
        .assert_error(125, "is not running, can't pause: container state improper");
    s.run(&["unpause", "new"]).assert_error(
        125,
        &format!("\"{created}\" is not paused, can't unpause: container state improper"),
    );
    s.run(&["run", "--name", "done", BUSYBOX, "true"]).success();
    s.run(&["pause", "done"])
        .assert_error(125, "is not running, can't pause: container state improper");
    s.run(&["pause", "nosuch"]).assert_error(125, "no such container");
    s.run(&["pause"]).assert_code(125);

    if skip_on_podman("Podman with runc cannot run --cgroups=disabled") {
        return;
    }
    s.run_detached(&["--name", "nocg", "--cgroups=disabled", BUSYBOX, "sleep", "1000"]);
    s.run(&["pause", "nocg"]).assert_error(125, "--cgroups=disabled");
    assert_eq!(s.status("nocg"), "running");
}

#[test]
fn top_lists_the_processes_of_the_container() {
    let s = ContainerStore::new();
    s.run_detached(&["--name", "tops", BUSYBOX, "sh", "-c", "sleep 1000 & wait"]);
    let init = pid_of(&s, "tops");
    let mut table = None;
    let ready = poll(Duration::from_secs(10), || {
        let out = s.run(&["top", "tops"]);
        out.success();
        let t = Table::parse(
            &out.stdout_str(),
            &["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"],
        );
        let found = t.rows.len() == 2;
        table = Some(t);
        found
    });
    let table = table.unwrap();
    assert!(ready, "top does not show the shell and its sleep: {table:?}");
    // PIDs as the container sees them: the shell is 1, its sleep a child of it.
    let shell = &table.rows[0];
    assert_eq!(shell[0], "root");
    assert_eq!(shell[1], "1");
    assert_eq!(shell[2], "0");
    assert_eq!(shell[7], "sh -c sleep 1000 & wait");
    let sleep = &table.rows[1];
    assert_eq!(sleep[0], "root");
    assert_eq!(sleep[2], "1");
    assert_eq!(sleep[5], "?");
    assert_eq!(sleep[6], "0s");
    assert_eq!(sleep[7], "sleep 1000");
    assert!(sleep[3].parse::<f64>().is_ok(), "%CPU {:?}", sleep[3]);
    assert!(sleep[4].ends_with('s'), "ELAPSED {:?}", sleep[4]);

    let out = s.run(&["top", "tops", "pid,args"]).success().stdout_str();
    let t = Table::parse(&out, &["PID", "COMMAND"]);
    assert_eq!(t.column("PID")[0], "1");
    assert_eq!(t.column("COMMAND"), ["sh -c sleep 1000 & wait", "sleep 1000"]);

    // Separate arguments, AIX codes and host-side descriptors.
    let out = s.run(&[
        "top", "tops", "%p", "hpid", "comm", "user", "group", "nice", "vsz",
    ]);
    let t = Table::parse(
        &out.success().stdout_str(),
        &["PID", "HPID", "COMMAND", "USER", "GROUP", "NI", "VSZ"],
    );
    let init = init.to_string();
    assert_eq!(t.rows[0][..6], ["1", init.as_str(), "sh", "root", "root", "0"]);
    assert_eq!(t.rows[1][2], "sleep");
    assert!(t.rows[1][6].parse::<u64>().unwrap() > 0, "VSZ {:?}", t.rows[1][6]);

    // A user of the image's /etc/passwd and /etc/group is shown by name.
    s.run_detached(&["--name", "tester", "-u", "1000:1000", BUSYBOX, "sleep", "1000"]);
    let out = s
        .run(&["top", "tester", "user,group,args"])
        .success()
        .stdout_str();
    let t = Table::parse(&out, &["USER", "GROUP", "COMMAND"]);
    assert_eq!(t.rows, [["tester", "tester", "sleep 1000"]]);

    // Other arguments are ps(1) options, run in the container.
    if !skip_on_podman("the fallback depends on the ps in Podman's image") {
        let out = s.run(&["top", "tops", "-o", "pid,comm"]).success().stdout_str();
        assert!(out.lines().any(|l| l.trim() == "1 sh"), "{out}");
    }

    s.run(&["create", "--name", "idle", BUSYBOX, "true"]).success();
    s.run(&["top", "idle"])
        .assert_error(125, "top can only be used on running containers");
    s.run(&["top", "nosuch"]).assert_error(125, "no such container");
}

const STATS_HEADERS: &[&str] = &[
    "ID",
    "NAME",
    "CPU %",
    "MEM USAGE / LIMIT",
    "MEM %",
    "NET IO",
    "BLOCK IO",
    "PIDS",
    "CPU TIME",
    "AVG CPU %",
];

#[test]
fn stats_report_the_usage_of_the_cgroup() {
    let s = ContainerStore::new();
    let id = s.run_detached(&[
        "--name",
        "busy",
        "--memory",
        "64m",
        BUSYBOX,
        "sh",
        "-c",
        "sleep 1000 & wait",
    ]);
    let idle = s
        .run(&["create", "--name", "idle", BUSYBOX, "true"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    // Both shell and sleep are counted once the shell has forked.
    assert!(poll(Duration::from_secs(10), || {
        s.run(&["stats", "--no-stream", "--format", "{{.PIDS}}", "busy"])
            .success()
            .stdout_str()
            .trim()
            == "2"
    }));

    let out = s.run(&["stats", "--no-stream", "busy"]).success().stdout_str();
    let t = Table::parse(&out, STATS_HEADERS);
    assert_eq!(t.rows.len(), 1, "{out}");
    let row = &t.rows[0];
    assert_eq!(row[0], id[..12]);
    assert_eq!(row[1], "busy");
    assert!(row[2].ends_with('%'), "CPU % {:?}", row[2]);
    let (usage, limit) = row[3].split_once(" / ").expect("MEM USAGE / LIMIT");
    assert_ne!(usage, "0B", "no memory charged to the container");
    assert_eq!(
        limit, "67.11MB",
        "the --memory limit, in decimal units as Podman prints it"
    );
    assert!(row[4].ends_with('%') && row[4] != "0.00%", "MEM % {:?}", row[4]);
    assert_eq!(row[7], "2");
    assert!(row[8].ends_with('s'), "CPU TIME {:?}", row[8]);

    // Templates read Podman's fields; MemUsageBytes is in binary units.
    let line = s
        .run(&[
            "stats",
            "--no-stream",
            "--format",
            "{{.ID}} {{.Name}} {{.MemUsageBytes}} {{.PIDs}}",
            "busy",
        ])
        .success()
        .stdout_str();
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.len(), 6, "{line:?}");
    assert_eq!([f[0], f[1]], [&id[..12], "busy"]);
    assert!(f[2].ends_with("iB") && f[2] != "0B", "{line:?}");
    assert_eq!(f[3..], ["/", "64MiB", "2"], "{line:?}");

    // --format json: Podman's field names.
    let v = s
        .run(&["stats", "--no-stream", "--format", "json", "busy"])
        .success()
        .json();
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 1);
    let o = &arr[0];
    assert_eq!(o["id"], id[..12]);
    assert_eq!(o["name"], "busy");
    assert_eq!(o["pids"], "2");
    assert!(o["mem_usage"].as_str().unwrap().ends_with(" / 67.11MB"), "{o}");
    for key in [
        "cpu_time",
        "cpu_percent",
        "avg_cpu",
        "mem_percent",
        "net_io",
        "block_io",
    ] {
        assert!(o[key].is_string(), "{key} missing from {o}");
    }

    // Without names: every container; one that does not run has no usage.
    let out = s
        .run(&[
            "stats",
            "--no-stream",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.MemUsage}} {{.PIDS}}",
        ])
        .success()
        .lines();
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.iter().any(|l| l.starts_with(&id) && is_hex64(&id)), "{out:?}");
    assert!(out.contains(&format!("{idle} 0B / 0B 0")), "{out:?}");

    // A paused container still has its usage.
    s.run(&["pause", "busy"]).success();
    let pids = s
        .run(&["stats", "--no-stream", "--format", "{{.PIDS}}", "busy"])
        .success()
        .stdout_str();
    assert_eq!(pids.trim(), "2");
    s.run(&["unpause", "busy"]).success();

    s.run(&["stats", "--no-stream", "nosuch"])
        .assert_error(125, "no such container");
}

#[test]
fn stats_without_no_stream_reports_every_interval() {
    let s = ContainerStore::new();
    s.run_detached(&["--name", "live", BUSYBOX, "sleep", "1000"]);
    let mut child = s.spawn(&[
        "stats",
        "--interval",
        "1",
        "--format",
        "{{.Name}} {{.PIDS}}",
        "live",
    ]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = vec![];
    let deadline = Instant::now() + Duration::from_secs(15);
    while lines.len() < 2 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines, ["live 1", "live 1"], "two reports a second apart");
}
