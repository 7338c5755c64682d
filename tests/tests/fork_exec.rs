//! The fork/exec guarantees a daemon could not give: sd_notify reaching `$NOTIFY_SOCKET` from the command
//! systemd started, and socket activation handing systemd's sockets down into the container.

use harness::layer::Layer;
use harness::rootfs::{busybox_builder, busybox_image};
use harness::selkie::Selkie;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A static `sdsend MSG` that sends MSG to `$NOTIFY_SOCKET`, built here with the machine's C compiler
/// (busybox's nc cannot talk to unix sockets).
fn sdsend_binary(dir: &std::path::Path) -> Vec<u8> {
    harness::cbuild::static_binary(
        dir,
        "sdsend",
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || argc < 2) return 2;
    struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (a.sun_path[0] == '@') a.sun_path[0] = 0;
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    return sendto(s, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0;
}
"#,
    )
}

fn listener(s: &Selkie, name: &str) -> (UnixDatagram, String) {
    let path = s.path(name);
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    (sock, path.to_str().unwrap().to_string())
}

fn recv(sock: &UnixDatagram) -> Option<String> {
    let mut buf = [0u8; 4096];
    sock.recv(&mut buf)
        .ok()
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn pid_of(s: &Selkie, name: &str) -> String {
    s.run(&["inspect", "--format", "{{.State.Pid}}", name])
        .success()
        .stdout_str()
        .trim()
        .to_string()
}

#[test]
fn sdnotify_conmon_sends_mainpid_and_ready() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let (sock, path) = listener(&s, "notify.sock");
    let out = s
        .command(&[
            "run",
            "-d",
            "--name",
            "n1",
            "busybox",
            "sh",
            "-c",
            "env; sleep 30",
        ])
        .env("NOTIFY_SOCKET", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let msg = recv(&sock).expect("a notification");
    assert_eq!(msg, format!("MAINPID={}\nREADY=1\n", pid_of(&s, "n1")));
    // The container itself never sees the caller's socket.
    std::thread::sleep(Duration::from_millis(200));
    assert!(!s
        .run(&["logs", "n1"])
        .success()
        .stdout_str()
        .contains("NOTIFY_SOCKET"));
    s.run(&["rm", "-f", "n1"]).success();
}

#[test]
fn sdnotify_container_forwards_with_mainpid_rewritten() {
    let s = Selkie::new();
    let sdsend = sdsend_binary(&s.path("build"));
    let image = busybox_builder()
        .layer(Layer::new().file_with("bin/sdsend", sdsend, 0o755, 0, 0))
        .build();
    s.load_image(&image, &["notifier:latest"]);
    let (sock, path) = listener(&s, "notify.sock");
    let script = "echo $NOTIFY_SOCKET; sleep 0.3; sdsend 'STATUS=warming up'; sdsend READY=1; sleep 30";
    let out = s
        .command(&[
            "run",
            "-d",
            "--sdnotify=container",
            "--name",
            "n2",
            "notifier",
            "sh",
            "-c",
            script,
        ])
        .env("NOTIFY_SOCKET", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pid = pid_of(&s, "n2");
    // Nothing from the monitor itself: the first message is the container's.
    assert_eq!(recv(&sock).expect("STATUS"), "STATUS=warming up\n");
    assert_eq!(recv(&sock).expect("READY"), format!("MAINPID={pid}\nREADY=1\n"));
    assert!(s
        .run(&["logs", "n2"])
        .success()
        .stdout_str()
        .contains("/run/notify/notify.sock"));
    s.run(&["rm", "-f", "n2"]).success();
}

#[test]
fn sdnotify_ignore_sends_and_passes_nothing() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let (sock, path) = listener(&s, "notify.sock");
    sock.set_read_timeout(Some(Duration::from_millis(800))).unwrap();
    let out = s
        .command(&[
            "run",
            "--rm",
            "--sdnotify=ignore",
            "--env-host",
            "busybox",
            "sh",
            "-c",
            "echo socket=$NOTIFY_SOCKET",
        ])
        .env("NOTIFY_SOCKET", &path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "socket=\n");
    assert_eq!(recv(&sock), None, "nothing is sent with --sdnotify=ignore");
}

#[test]
fn sdnotify_healthy_needs_a_health_check() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    s.run(&["run", "--rm", "--sdnotify=healthy", "busybox", "true"])
        .assert_error(125, "health");
    assert_eq!(s.run(&["ps", "-a", "-q"]).success().stdout_str(), "");
}

#[test]
fn socket_activation_hands_the_socket_to_the_container() {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    // systemd-socket-activate listens, accepts, and starts selkie with the connection as fd 3
    // (LISTEN_FDS=1, LISTEN_PID=selkie): the container writes its reply to fd 3 without opening anything.
    let mut cmd = Command::new("systemd-socket-activate");
    cmd.args(["-l", &listen, "--accept"]).arg(s.bin());
    cmd.args([
        "--root",
        s.root().to_str().unwrap(),
        "--runroot",
        s.runroot().to_str().unwrap(),
    ]);
    cmd.args([
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo \"reply pid=$LISTEN_PID fds=$LISTEN_FDS\" >&3",
    ]);
    s.apply_env(&mut cmd);
    let mut activator = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("systemd-socket-activate");
    let mut reply = String::new();
    for _ in 0..100 {
        if let Ok(mut conn) = std::net::TcpStream::connect(&listen) {
            use std::io::Read;
            conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            conn.read_to_string(&mut reply).unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = activator.kill();
    let _ = activator.wait();
    assert_eq!(reply, "reply pid=1 fds=1\n");
}

#[test]
fn preserve_fds_passes_extra_descriptors() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let file = s.path("fd3.txt");
    std::fs::write(&file, "from fd 3\n").unwrap();
    let f = std::fs::File::open(&file).unwrap();
    let script = "cat <&3; readlink /proc/1/fd/3; readlink /proc/1/fd/4 || echo no-fd-4";
    let mut cmd = s.command(&[
        "run",
        "--rm",
        "--preserve-fds",
        "1",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    let raw = f.as_raw_fd();
    // SAFETY: dup2 between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself would keep close-on-exec.
            let ok = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if ok < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Descriptor 3 is the file, and nothing else of the caller's came along.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("from fd 3\n{}\nno-fd-4\n", file.display())
    );
    // Asking for a descriptor the caller does not have is refused: nothing of selkie's own may take its place.
    s.run(&[
        "run",
        "--rm",
        "--preserve-fds",
        "1",
        "busybox",
        "readlink",
        "/proc/self/fd/3",
    ])
    .assert_error(125, "descriptor 3");
}
