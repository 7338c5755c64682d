//! `attach`: a running container's stdio reached through its monitor's attach socket (conmon's role).
//!
//! The monitor listens on `<container dir>/attach`, a `SOCK_SEQPACKET` socket so that every message keeps
//! its boundary; each message starts with a kind byte. The monitor sends output (`STDOUT`, `STDERR`) to
//! every connected client and, when the container has exited and its state is written, `EXIT` with the
//! code. A client sends terminal input (`STDIN`) and window sizes (`RESIZE`). The path is reached through
//! `/proc/self/fd/<dir>/attach` because a store under a long directory would exceed `sun_path`'s 108 bytes.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::state::Status;
use crate::engine::Engine;
use crate::error::{Error, Result};
use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{self, AddressFamily, Backlog, MsgFlags, SockFlag, SockType, UnixAddr};
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

const SOCKET_NAME: &str = "attach";

/// Monitor → client.
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const EXIT: u8 = 3;
/// Client → monitor.
const STDIN: u8 = 0;
const RESIZE: u8 = 1;

/// Well under the default socket send buffer, so one message always fits.
const CHUNK: usize = 32 * 1024;

/// The socket's address through an `O_PATH` descriptor of its directory; the descriptor must stay open
/// while the address is used.
fn address(dir: &Path) -> std::io::Result<(OwnedFd, UnixAddr)> {
    let dirfd = open(
        dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let addr = UnixAddr::new(format!("/proc/self/fd/{}/{SOCKET_NAME}", dirfd.as_raw_fd()).as_str())?;
    Ok((dirfd, addr))
}

fn seqpacket() -> std::io::Result<OwnedFd> {
    Ok(socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?)
}

fn send_message(fd: BorrowedFd, kind: u8, data: &[u8]) -> nix::Result<()> {
    let mut msg = Vec::with_capacity(data.len() + 1);
    msg.push(kind);
    msg.extend_from_slice(data);
    loop {
        match socket::send(fd.as_raw_fd(), &msg, MsgFlags::MSG_NOSIGNAL) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => {
                // A client that cannot take output for a second is dropped rather than stalling the container.
                let mut pfd = [PollFd::new(fd, PollFlags::POLLOUT)];
                match poll(&mut pfd, PollTimeout::from(1000u16)) {
                    Ok(n) if n > 0 => continue,
                    _ => return Err(nix::errno::Errno::EAGAIN),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// What a client asked of the monitor.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ClientMessage {
    Stdin(Vec<u8>),
    Resize { rows: u16, cols: u16 },
}

fn decode_client(msg: &[u8]) -> Option<ClientMessage> {
    match msg.split_first()? {
        (&STDIN, data) => Some(ClientMessage::Stdin(data.to_vec())),
        (&RESIZE, [r0, r1, c0, c1]) => Some(ClientMessage::Resize {
            rows: u16::from_le_bytes([*r0, *r1]),
            cols: u16::from_le_bytes([*c0, *c1]),
        }),
        _ => None,
    }
}

/// The monitor's side: the listening socket and the clients attached now.
pub(crate) struct AttachServer {
    listener: OwnedFd,
    clients: Vec<OwnedFd>,
    path: PathBuf,
}

impl AttachServer {
    pub(crate) fn bind(dir: &Path) -> std::io::Result<AttachServer> {
        let path = dir.join(SOCKET_NAME);
        let _ = std::fs::remove_file(&path);
        let listener = socket::socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        let (_dirfd, addr) = address(dir)?;
        socket::bind(listener.as_raw_fd(), &addr)?;
        socket::listen(&listener, Backlog::new(16)?)?;
        Ok(AttachServer {
            listener,
            clients: vec![],
            path,
        })
    }

    pub(crate) fn listener(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    pub(crate) fn clients(&self) -> impl Iterator<Item = BorrowedFd<'_>> {
        self.clients.iter().map(|c| c.as_fd())
    }

    pub(crate) fn accept(&mut self) {
        while let Ok(fd) = socket::accept4(&self.listener, SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK) {
            self.clients.push(fd);
        }
    }

    #[cfg(test)]
    fn has_clients(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Output to every client; a client that fails is dropped.
    pub(crate) fn output(&mut self, stderr: bool, data: &[u8]) {
        let kind = if stderr { STDERR } else { STDOUT };
        self.clients.retain(|c| {
            data.chunks(CHUNK)
                .all(|chunk| send_message(c.as_fd(), kind, chunk).is_ok())
        });
    }

    /// Reads what the clients marked ready sent (in the order of `clients()`), dropping those gone.
    pub(crate) fn read_ready(&mut self, ready: &[bool]) -> Vec<ClientMessage> {
        let mut out = vec![];
        let mut buf = vec![0u8; CHUNK + 1];
        let mut alive = Vec::with_capacity(self.clients.len());
        for (i, client) in self.clients.iter().enumerate() {
            alive.push(!ready.get(i).copied().unwrap_or(false) || read_client(client, &mut buf, &mut out));
        }
        let mut keep = alive.into_iter();
        self.clients.retain(|_| keep.next().unwrap_or(true));
        out
    }

    /// The container's exit code to every client; they end their session on it.
    pub(crate) fn finish(&mut self, code: i32) {
        for c in self.clients.drain(..) {
            let _ = send_message(c.as_fd(), EXIT, code.to_string().as_bytes());
        }
    }
}

impl Drop for AttachServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads what one client has sent; false once it is gone.
fn read_client(client: &OwnedFd, buf: &mut [u8], out: &mut Vec<ClientMessage>) -> bool {
    loop {
        match socket::recv(client.as_raw_fd(), buf, MsgFlags::empty()) {
            Ok(0) => return false,
            Ok(n) => out.extend(decode_client(&buf[..n])),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => return true,
            Err(_) => return false,
        }
    }
}

/// The client's settings.
pub struct AttachOptions {
    /// Forward our stdin (`--no-stdin` clears it; only useful for a container created with `-i`).
    pub stdin: bool,
    /// `--detach-keys`, parsed.
    pub detach_keys: Vec<u8>,
    /// The container has a terminal: pass our window size.
    pub tty: bool,
}

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Detached,
}

/// A connection to a running container's monitor.
pub struct Connection {
    sock: OwnedFd,
    id: String,
}

impl Connection {
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Connects to the container; only a running one can be attached to.
pub fn connect(engine: &Engine, id: &str) -> Result<Connection> {
    let state = lifecycle::state_of(engine, id);
    if !matches!(state.status, Status::Running | Status::Paused) {
        return Err(Error::ContainerState(
            "you can only attach to running containers".into(),
        ));
    }
    let paths = ContainerPaths::new(engine.store.root(), id);
    let io = |e: std::io::Error| Error::Io {
        context: format!("connecting to the monitor of container {id}"),
        source: e,
    };
    let sock = seqpacket().map_err(io)?;
    let (_dirfd, addr) = address(&paths.dir).map_err(io)?;
    socket::connect(sock.as_raw_fd(), &addr).map_err(|e| io(e.into()))?;
    Ok(Connection {
        sock,
        id: id.to_string(),
    })
}

fn winsize_message() -> Option<Vec<u8>> {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills the winsize struct we own.
    if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } != 0 {
        return None;
    }
    let mut m = ws.ws_row.to_le_bytes().to_vec();
    m.extend_from_slice(&ws.ws_col.to_le_bytes());
    Some(m)
}

fn write_fd(fd: RawFd, mut data: &[u8]) {
    // SAFETY: 1 and 2 are open for the life of the process.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

/// Copies the container's output to ours and our input to the container until it exits or we detach.
pub fn session(engine: &Engine, conn: &Connection, opts: &AttachOptions) -> Result<Ending> {
    let sock = conn.sock.as_fd();
    let mut winch = None;
    if opts.tty {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGWINCH);
        if mask.thread_block().is_ok() {
            winch = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).ok();
        }
        if let Some(m) = winsize_message() {
            let _ = send_message(sock, RESIZE, &m);
        }
    }
    let mut stdin_open = opts.stdin;
    let mut matched = 0usize;
    let mut buf = vec![0u8; CHUNK + 1];
    loop {
        // SAFETY: stdin stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(sock, PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        let winch_idx = winch.as_ref().map(|w| {
            // SAFETY: the signalfd lives as long as this loop.
            fds.push(PollFd::new(
                unsafe { BorrowedFd::borrow_raw(w.as_raw_fd()) },
                PollFlags::POLLIN,
            ));
            fds.len() - 1
        });
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                return Err(Error::Io {
                    context: "waiting for the container's output".into(),
                    source: e.into(),
                })
            }
            Ok(_) => {}
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sock_ready, in_ready) = (ready(0), stdin_open && ready(1));
        let winch_ready = winch_idx.is_some_and(ready);
        drop(fds);
        if winch_ready {
            if let Some(w) = &winch {
                while let Ok(Some(_)) = w.read_signal() {}
            }
            if let Some(m) = winsize_message() {
                let _ = send_message(sock, RESIZE, &m);
            }
        }
        if sock_ready {
            match socket::recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Ok(0) | Err(nix::errno::Errno::ECONNRESET) => {
                    // The monitor went away without a word: the state has the exit code, if any.
                    let st =
                        lifecycle::wait_exited(engine, &conn.id, Some(std::time::Duration::from_secs(5)));
                    return Ok(Ending::Exited(st.and_then(|s| s.exit_code).unwrap_or(255)));
                }
                Ok(n) => match buf[..n].split_first() {
                    Some((&STDOUT, data)) => write_fd(1, data),
                    Some((&STDERR, data)) => write_fd(2, data),
                    Some((&EXIT, code)) => {
                        let code = String::from_utf8_lossy(code).parse().unwrap_or(255);
                        return Ok(Ending::Exited(code));
                    }
                    _ => {}
                },
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => {
                    return Err(Error::Io {
                        context: "reading from the container's monitor".into(),
                        source: e.into(),
                    })
                }
            }
        }
        if in_ready {
            match nix::unistd::read(stdin, &mut buf[..CHUNK]) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let (pass, detach) =
                        super::monitor::scan_detach(&buf[..n], &opts.detach_keys, &mut matched);
                    if !pass.is_empty() {
                        let _ = send_message(sock, STDIN, &pass);
                    }
                    if detach {
                        return Ok(Ending::Detached);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_decode() {
        assert_eq!(
            decode_client(&[STDIN, b'h', b'i']),
            Some(ClientMessage::Stdin(b"hi".to_vec()))
        );
        assert_eq!(
            decode_client(&[RESIZE, 24, 0, 80, 0]),
            Some(ClientMessage::Resize { rows: 24, cols: 80 })
        );
        assert_eq!(decode_client(&[RESIZE, 1]), None);
        assert_eq!(decode_client(&[]), None);
    }

    #[test]
    fn server_and_client_talk_through_a_long_directory() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("d".repeat(120));
        std::fs::create_dir(&dir).unwrap();
        let mut server = AttachServer::bind(&dir).unwrap();
        let client = seqpacket().unwrap();
        let (_d, addr) = address(&dir).unwrap();
        socket::connect(client.as_raw_fd(), &addr).unwrap();
        server.accept();
        assert!(server.has_clients());
        send_message(client.as_fd(), STDIN, b"input").unwrap();
        assert_eq!(
            server.read_ready(&[true]),
            vec![ClientMessage::Stdin(b"input".to_vec())]
        );
        server.output(true, b"err");
        let mut buf = [0u8; 16];
        let n = socket::recv(client.as_raw_fd(), &mut buf, MsgFlags::empty()).unwrap();
        assert_eq!(&buf[..n], b"\x02err");
        server.finish(7);
        let n = socket::recv(client.as_raw_fd(), &mut buf, MsgFlags::empty()).unwrap();
        assert_eq!(&buf[..n], b"\x037");
        drop(server);
        assert!(!dir.join(SOCKET_NAME).exists());
    }
}
