//! The starting command's side of a foreground container: signals forwarded (`--sig-proxy`), a pty
//! with `-t`, and detaching with the detach keys while the container keeps running.

use harness::rootfs::busybox_image;
use harness::selkie::Selkie;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn store() -> Selkie {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    s
}

/// A pty whose slave end is the stdio of the command `s.command(args)`; returns the command and the master.
fn spawn_on_pty(s: &Selkie, args: &[&str]) -> (std::process::Child, std::fs::File) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave.as_raw_fd();
    // Close-on-exec copies: the selkie process gets the slave as its stdio and nothing else of ours.
    unsafe { libc::fcntl(pty.master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let dup =
        |fd: i32| unsafe { Stdio::from(OwnedFd::from_raw_fd(libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0))) };
    let child = s
        .command(args)
        .stdin(dup(slave))
        .stdout(dup(slave))
        .stderr(dup(slave))
        .spawn()
        .unwrap();
    drop(pty.slave);
    (child, std::fs::File::from(pty.master))
}

/// Reads the pty until `needle` shows up; fails (never hangs) after 20 s.
fn read_until(master: &mut std::fs::File, needle: &str) -> String {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in: {}",
            String::from_utf8_lossy(&seen)
        );
        let mut pfd = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&*master),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(500u16)).unwrap_or(0) == 0 {
            continue;
        }
        match master.read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    String::from_utf8_lossy(&seen).to_string()
}

/// Waits up to 20 s for the command to exit.
fn exit_status(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: the command did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for_state(s: &Selkie, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = s.run(&["inspect", "--format", "{{.State.Status}}", name]);
        if out.status.success() && out.stdout_str().trim() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached {want}: {}",
            out.stdout_str()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_to_the_command_reaches_the_container() {
    let s = store();
    let mut child = s
        .command(&[
            "run",
            "--name",
            "proxied",
            "busybox",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; while :; do sleep 0.1; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_state(&s, "proxied", "running");
    std::thread::sleep(Duration::from_millis(200));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status.code(), Some(7), "the container's own exit code: {out}");
    assert!(out.contains("got TERM"), "{out}");
    s.run(&["rm", "proxied"]).success();
}

#[test]
fn sig_proxy_false_leaves_the_container_alone() {
    let s = store();
    let mut child = s
        .command(&[
            "run",
            "--sig-proxy=false",
            "--name",
            "unproxied",
            "busybox",
            "sh",
            "-c",
            "trap 'exit 7' USR1; sleep 2; exit 0",
        ])
        .spawn()
        .unwrap();
    wait_for_state(&s, "unproxied", "running");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGUSR1,
    )
    .unwrap();
    // The command itself dies of USR1; the container runs on to its own exit 0.
    let _ = child.wait();
    wait_for_state(&s, "unproxied", "exited");
    assert_eq!(
        s.run(&["inspect", "--format", "{{.State.ExitCode}}", "unproxied"])
            .success()
            .stdout_str()
            .trim(),
        "0"
    );
    s.run(&["rm", "unproxied"]).success();
}

#[test]
fn tty_and_detach_keys() {
    let s = store();
    let (mut child, mut master) = spawn_on_pty(
        &s,
        &[
            "run",
            "-i",
            "-t",
            "--name",
            "tty1",
            "busybox",
            "sh",
            "-c",
            "tty; echo ready; while :; do sleep 1; done",
        ],
    );
    // The container's own terminal is a pty, and its output reaches ours.
    let text = read_until(&mut master, "ready");
    assert!(
        text.contains("/dev/pts/") || text.contains("/dev/console"),
        "{text}"
    );
    // ctrl-p ctrl-q detaches: the command exits 0, the container keeps running.
    master.write_all(&[0x10, 0x11]).unwrap();
    let status = exit_status(&mut child, "the detach keys");
    assert_eq!(status.code(), Some(0));
    wait_for_state(&s, "tty1", "running");
    s.run(&["rm", "-f", "tty1"]).success();
}

#[test]
fn attach_feeds_stdin_and_returns_the_exit_code() {
    let s = store();
    s.run(&[
        "run",
        "-d",
        "-i",
        "--name",
        "piped",
        "busybox",
        "sh",
        "-c",
        "read x; echo got $x; echo to-stderr >&2; exit 3",
    ])
    .success();
    wait_for_state(&s, "piped", "running");
    let mut child = s
        .command(&["attach", "piped"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let status = exit_status(&mut child, "attach");
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(out, "got hello\n");
    assert_eq!(err, "to-stderr\n");
    assert_eq!(status.code(), Some(3), "the container's exit code");
    wait_for_state(&s, "piped", "exited");
    // Only a running container can be attached to.
    s.run(&["attach", "piped"])
        .assert_error(125, "you can only attach to running containers");
    s.run(&["attach", "nosuch"])
        .assert_error(125, "no such container");
    s.run(&["rm", "piped"]).success();
}

#[test]
fn attach_without_stdin_shows_output_and_proxies_signals() {
    let s = store();
    s.run(&[
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got TERM; exit 9' TERM; while :; do echo tick; sleep 0.1; done",
    ])
    .success();
    wait_for_state(&s, "talker", "running");
    let mut child = s
        .command(&["attach", "--no-stdin", "talker"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // A tick through attach means it is connected and its signal handlers are in place.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "tick\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = exit_status(&mut child, "attach");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(rest.ends_with("got TERM\n"), "{rest}");
    assert_eq!(status.code(), Some(9));
    s.run(&["rm", "talker"]).success();
}

#[test]
fn attach_to_a_terminal_detach_and_attach_again() {
    let s = store();
    s.run(&[
        "run",
        "-d",
        "-i",
        "-t",
        "--name",
        "shell",
        "busybox",
        "sh",
        "-c",
        "while read l; do echo \"echo:$l\"; done",
    ])
    .success();
    wait_for_state(&s, "shell", "running");
    for round in ["one", "two"] {
        let (mut child, mut master) = spawn_on_pty(&s, &["attach", "shell"]);
        // The client connects before it reads input: retry the line until the echo shows.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            master.write_all(format!("{round}\r").as_bytes()).unwrap();
            let mut pfd = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&master),
                nix::poll::PollFlags::POLLIN,
            )];
            if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(500u16)).unwrap_or(0) > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "no echo from the container");
        }
        read_until(&mut master, &format!("echo:{round}"));
        // A custom detach sequence is not needed here: the default ctrl-p ctrl-q.
        master.write_all(&[0x10, 0x11]).unwrap();
        assert_eq!(exit_status(&mut child, "detach").code(), Some(0));
        wait_for_state(&s, "shell", "running");
    }
    s.run(&["rm", "-f", "shell"]).success();
}
