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
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave.as_raw_fd();
    // Close-on-exec copies: the selkie process gets the slave as its stdio and nothing else of ours.
    unsafe { libc::fcntl(pty.master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let dup =
        |fd: i32| unsafe { Stdio::from(OwnedFd::from_raw_fd(libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0))) };
    let mut child = s
        .command(&[
            "run",
            "-i",
            "-t",
            "--name",
            "tty1",
            "busybox",
            "sh",
            "-c",
            "tty; echo ready; while :; do sleep 1; done",
        ])
        .stdin(dup(slave))
        .stdout(dup(slave))
        .stderr(dup(slave))
        .spawn()
        .unwrap();
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    // The container's own terminal is a pty, and its output reaches ours.
    while !String::from_utf8_lossy(&seen).contains("ready") {
        assert!(
            Instant::now() < deadline,
            "no output: {}",
            String::from_utf8_lossy(&seen)
        );
        // Never block for good: a missing line must fail the test, not hang the suite.
        let mut pfd = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&master),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(500u16)).unwrap_or(0) == 0 {
            continue;
        }
        let n = master.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).to_string();
    assert!(
        text.contains("/dev/pts/") || text.contains("/dev/console"),
        "{text}"
    );
    // ctrl-p ctrl-q detaches: the command exits 0, the container keeps running.
    master.write_all(&[0x10, 0x11]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = s.run(&["rm", "-f", "tty1"]);
            panic!("the detach keys did not detach");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    wait_for_state(&s, "tty1", "running");
    s.run(&["rm", "-f", "tty1"]).success();
}
