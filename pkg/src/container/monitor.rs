//! The monitor: Podman's conmon role, played by our own binary re-executed (`selkie container-monitor`).
//!
//! It is forked from the command that starts the container (so the container inherits that command's
//! loginuid, audit session and environment), leaves the terminal's session, spawns the container through
//! the built-in runtime, and then owns it until it exits: it copies the container's output into the
//! k8s-file log (and to the attached terminal, for a foreground `run`), forwards terminal input, records the
//! exit code and time, and removes the container when it was created with `--rm`. It reports to the
//! starting command over a pipe (`started PID`, `error CODE MESSAGE`, `detached`, `exit CODE`).
//!
//! It must never be needed for the container's safety: when the monitor dies, the container keeps
//! running, and readers of the state see the container as exited once its process is gone.

use super::config::CreateConfig;
use super::logfile::{LogWriter, Stream};
use super::paths::ContainerPaths;
use super::state::{self, ContainerState, Status};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::runtime::{self, OverlayMount, SpawnRequest};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// What the monitor reports to the command that started it.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    Started(i32),
    Error(i32, String),
    Detached,
    Exit(i32),
}

impl Report {
    pub fn encode(&self) -> String {
        match self {
            Report::Started(pid) => format!("started {pid}\n"),
            Report::Error(code, msg) => format!("error {code} {}\n", msg.replace('\n', " ")),
            Report::Detached => "detached\n".into(),
            Report::Exit(code) => format!("exit {code}\n"),
        }
    }

    pub fn decode(line: &str) -> Option<Report> {
        let (word, rest) = line.trim_end().split_once(' ').unwrap_or((line.trim_end(), ""));
        Some(match word {
            "started" => Report::Started(rest.parse().ok()?),
            "error" => {
                let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
                Report::Error(code.parse().ok()?, msg.to_string())
            }
            "detached" => Report::Detached,
            "exit" => Report::Exit(rest.parse().ok()?),
            _ => return None,
        })
    }
}

pub struct MonitorOptions {
    pub id: String,
    /// Copy output to our stdout/stderr and terminal input to the container (foreground `run`, `start -a`).
    pub attach: bool,
    /// Where reports go (inherited from the starting command).
    pub sync_fd: RawFd,
}

struct Sync(std::fs::File);

impl Sync {
    fn send(&mut self, r: &Report) {
        // The starting command may be gone (detached, killed): that must not stop the monitor.
        let _ = self.0.write_all(r.encode().as_bytes());
    }
}

/// Runs the monitor to the end; returns the process exit code of the monitor itself.
pub fn run(engine: &Engine, opts: &MonitorOptions) -> i32 {
    // Start containers from a sealed view of the binary (see `runtime::reexec_sealed`); this
    // re-executes the monitor once, before it has done anything, and goes on unsealed if it cannot.
    let _ = crate::runtime::reexec_sealed();
    // SAFETY: the fd was handed to us by the starting command for this purpose alone.
    let mut sync = Sync(unsafe { std::fs::File::from_raw_fd(opts.sync_fd) });
    let _ = nix::unistd::setsid();
    ignore_sigpipe();
    match start_and_watch(engine, opts, &mut sync) {
        // The exit was reported as soon as it was known.
        Ok(_) => 0,
        Err((code, e)) => {
            sync.send(&Report::Error(code, e.to_string()));
            1
        }
    }
}

fn ignore_sigpipe() {
    // SAFETY: setting a signal to SIG_IGN has no handler to be unsafe about.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigIgn);
    }
}

pub(crate) type StartError = (i32, Error);

fn engine_err(e: impl Into<Error>) -> StartError {
    (125, e.into())
}

fn start_and_watch(
    engine: &Engine,
    opts: &MonitorOptions,
    sync: &mut Sync,
) -> std::result::Result<i32, StartError> {
    // Descriptors 3..sync_fd are what the caller passes to the container (socket activation,
    // --preserve-fds). Each must really be one the caller gave: were one missing, the first file this monitor
    // opens would take its number and reach the container.
    for fd in 3..opts.sync_fd {
        if fcntl(borrow(fd), FcntlArg::F_GETFD).is_err() {
            return Err(engine_err(Error::InvalidInput(format!(
                "descriptor {fd} is to be passed to the container (--preserve-fds or socket activation) but is not open"
            ))));
        }
    }
    let paths = ContainerPaths::new(engine.store.root(), &opts.id);
    let held = image_store::lock::exclusive(&paths.monitor_lock())
        .map_err(|e| engine_err(io_err("locking monitor", e)))?;
    let cfg: CreateConfig = read_json(&paths.create_config()).map_err(engine_err)?;
    let spec: oci_spec::runtime::Spec = read_json(&paths.config_json()).map_err(engine_err)?;
    // With a mount program (fuse-overlayfs) the root is mounted at `merged` here, for this run.
    let program_mount = super::mount::mount_with_program(engine, &cfg, &paths).map_err(engine_err)?;
    let overlay = overlay_for(engine, &cfg, &paths).map_err(engine_err)?;
    let mut log = LogWriter::open(&super::logfile::log_path(engine.store.root(), &opts.id))
        .map_err(|e| engine_err(io_err("opening the container log", e)))?;

    let notify_mode = super::notify::Mode::of(cfg.sdnotify.as_deref()).map_err(engine_err)?;
    let notify_target = super::notify::socket().filter(|_| notify_mode != super::notify::Mode::Ignore);
    // The container's own notify socket exists before the container can send to it.
    let proxy = match (&notify_target, notify_mode) {
        (Some(target), super::notify::Mode::Container) => {
            let dir = super::notify::container_dir(&engine.paths.run_root, &opts.id);
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join("notify.sock");
            let _ = std::fs::remove_file(&path);
            let sock = std::os::unix::net::UnixDatagram::bind(&path)
                .map_err(|e| engine_err(io_err("binding the container's notify socket", e)))?;
            let _ = sock.set_nonblocking(true);
            Some((sock, target.clone()))
        }
        _ => None,
    };
    let io = ContainerIo::new(&cfg, opts.attach).map_err(engine_err)?;
    let preserve: Vec<RawFd> = (0..cfg.preserve_fds as RawFd).map(|i| 3 + i).collect();
    // `waited` is our child whose exit status is the container's: the container's init with the built-in
    // runtime, `runc run` with an external one. `pid` is the container's init on the host.
    // The container's cgroup (built-in runtime only: an external one makes its own from the spec).
    let cgroup = cgroup_for(&cfg, &spec);
    // Rootless networking: slirp4netns for the container's network namespace, alive until we exit.
    let slirp_plan = crate::rootless::slirp::SlirpPlan::for_container(&cfg, &engine.paths.run_root, &opts.id)
        .map_err(engine_err)?;
    let slirp = std::cell::OnceCell::new();
    // Root bridge networks: the container joins the network namespace netavark has set up; dropping
    // `network` tears it down (once the container has exited, or when it failed to start).
    let hostname = spec.hostname().clone().unwrap_or_default();
    let network = crate::network::attach::attach(engine, &cfg, &opts.id, &paths.userdata(), &hostname)
        .map_err(engine_err)?;
    let spec = match &network {
        Some(n) => n.join_spec(spec),
        None => spec,
    };
    if network.is_some() && cfg.runtime.is_some() {
        // An external runtime reads the bundle's config.json.
        std::fs::write(
            paths.config_json(),
            serde_json::to_vec(&spec).expect("a spec serializes"),
        )
        .map_err(|e| engine_err(io_err("writing config.json", e)))?;
    }
    let (waited, pid) = match &cfg.runtime {
        None => {
            let mut req = SpawnRequest::new(&spec, io.container_stdio());
            req.rootfs_overlay = overlay;
            req.preserve_fds = preserve;
            let place = |pid: Pid| -> std::result::Result<
                (),
                Box<dyn std::error::Error + Send + std::marker::Sync>,
            > {
                if let Some(plan) = &slirp_plan {
                    let _ = slirp.set(plan.start(pid.as_raw())?);
                }
                let Some(cg) = cgroup.as_ref() else {
                    return Ok(());
                };
                let resources = spec.linux().as_ref().and_then(|l| l.resources().as_ref());
                cg.setup(pid.as_raw(), resources).map_err(|e| e.into())
            };
            if cgroup.is_some() || slirp_plan.is_some() {
                req.before_exec = Some(&place);
            }
            let spawned = runtime::spawn(&req).map_err(|e| {
                if let Some(cg) = &cgroup {
                    let _ = cg.remove();
                }
                (e.exit_code().unwrap_or(125), Error::Runtime(e.to_string()))
            })?;
            (spawned.pid, spawned.pid)
        }
        Some(name) => {
            if cfg.tty {
                return Err(engine_err(Error::InvalidInput(
                    "--tty with an external --runtime is not supported yet: use the built-in runtime".into(),
                )));
            }
            super::external::spawn(
                name,
                &paths,
                &opts.id,
                overlay.as_ref(),
                io.container_stdio(),
                &preserve,
            )?
        }
    };
    drop(io.child_ends);
    // Signals are handled through a signalfd, blocked only now so the container never inherits the mask;
    // a SIGCHLD that came earlier is caught by the first wait in `watch`.
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGWINCH,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
    ] {
        mask.add(s);
    }
    mask.thread_block()
        .map_err(|e| engine_err(io_err("blocking signals", e.into())))?;
    let sigfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| engine_err(io_err("creating signalfd", e.into())))?;
    let started = ContainerState {
        status: Status::Running,
        pid: pid.as_raw(),
        pid_start: state::start_time(pid.as_raw()).unwrap_or(0),
        monitor_pid: std::process::id() as i32,
        monitor_start: state::start_time(std::process::id() as i32).unwrap_or(0),
        started_at: Some(chrono::Utc::now()),
        ..state::read(&paths.dir)
    };
    let started = ContainerState {
        exit_code: None,
        finished_at: None,
        error: None,
        ..started
    };
    // Without the socket the container still runs; only `attach` to it is lost.
    let mut attach_server = super::attach::AttachServer::bind(&paths.dir).ok();
    state::write(&paths.dir, &started).map_err(|e| engine_err(io_err("writing state", e)))?;
    sync.send(&Report::Started(pid.as_raw()));
    if let (Some(target), super::notify::Mode::Conmon) = (&notify_target, notify_mode) {
        let _ = super::notify::send(target, &format!("MAINPID={}\nREADY=1\n", pid.as_raw()));
    }

    let proxy = proxy.map(|(sock, target)| NotifyProxy {
        sock,
        target,
        host_pid: pid.as_raw(),
    });
    let code = watch(
        waited,
        &io.parent_ends,
        &sigfd,
        Output {
            log: &mut log,
            attached: opts.attach,
            clients: attach_server.as_mut(),
        },
        &cfg,
        sync,
        proxy.as_ref(),
    );
    let _ = log.flush();
    let mut done = state::read(&paths.dir);
    done.status = Status::Exited;
    done.exit_code = Some(code);
    done.finished_at = Some(chrono::Utc::now());
    if let Some(cg) = &cgroup {
        done.oom_killed = cg.oom_killed();
        let _ = cg.remove();
    }
    drop(program_mount);
    let _ = state::write(&paths.dir, &done);
    if cfg.auto_remove {
        let _ = super::lifecycle::remove_after_exit(engine, &opts.id);
    }
    sync.send(&Report::Exit(code));
    if let Some(server) = &mut attach_server {
        server.finish(code);
    }
    // The bridge network's teardown (netavark, tens of milliseconds) comes after the exit is reported,
    // off the caller's path: the caller's stdio is let go first, so a caller reading our output to its
    // end is not kept waiting either.
    // The monitor lock is held until it is done, so a new start of this container waits for it; `rm`
    // takes the same host-wide network lock and finds the network gone or removes it.
    if network.is_some() {
        release_stdio();
    }
    drop(network);
    drop(held);
    Ok(code)
}

/// Points 0, 1 and 2 at /dev/null: the caller's terminal or pipes are no longer held open.
fn release_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// The cgroup the built-in runtime's container goes into: none with `--cgroups=disabled`, an external
/// runtime, or without root (a rootless v1 host cannot delegate cgroups).
fn cgroup_for(cfg: &CreateConfig, spec: &oci_spec::runtime::Spec) -> Option<crate::cgroups::ContainerCgroup> {
    if cfg.cgroups == super::config::CgroupsMode::Disabled
        || cfg.runtime.is_some()
        || crate::rootless::is_rootless()
    {
        return None;
    }
    let path = spec.linux().as_ref()?.cgroups_path().as_ref()?;
    Some(crate::cgroups::ContainerCgroup::new(&path.to_string_lossy()))
}

fn io_err(context: &str, e: std::io::Error) -> Error {
    Error::Io {
        context: context.to_string(),
        source: e,
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let data = std::fs::read(path).map_err(|e| io_err(&format!("reading {}", path.display()), e))?;
    serde_json::from_slice(&data).map_err(|e| Error::Config(format!("{} is unreadable: {e}", path.display())))
}

/// The overlay of the image's layers (top first) under the container's own upper directory; none when
/// the root is a `--rootfs` directory, or is already mounted at `merged` by `selkie mount` (the runtime
/// then uses that mount rather than mounting the same upper directory twice).
pub(crate) fn overlay_for(
    engine: &Engine,
    cfg: &CreateConfig,
    paths: &ContainerPaths,
) -> Result<Option<OverlayMount>> {
    if cfg.rootfs.is_some() || super::mount::is_mounted(&paths.merged()) {
        return Ok(None);
    }
    let db = engine.store.images()?;
    let id = image_store::Digest::from_hex(&cfg.image_id).map_err(|e| Error::Config(e.to_string()))?;
    let image = db
        .get(&id)
        .ok_or_else(|| Error::ImageNotKnown(cfg.image.clone()))?;
    let lower = image
        .layers
        .iter()
        .rev()
        .map(|l| engine.store.layer_diff_path(&l.chain_id))
        .collect();
    Ok(Some(OverlayMount {
        lower,
        upper: paths.upper(),
        work: paths.work(),
    }))
}

/// The container's stdio: a pty, or pipes for stdout/stderr (stdin from the terminal when interactive
/// and attached, else /dev/null).
struct ContainerIo {
    /// What the container gets as 0, 1, 2 (closed in the monitor after spawn).
    child_ends: Vec<OwnedFd>,
    stdio: [RawFd; 3],
    parent_ends: ParentEnds,
}

struct ParentEnds {
    /// pty master (tty) or stdout pipe.
    out: OwnedFd,
    /// stderr pipe (none with a tty: the terminal merges them).
    err: Option<OwnedFd>,
    /// The write end of a detached interactive container's stdin pipe.
    stdin: Option<OwnedFd>,
    tty: bool,
}

impl ContainerIo {
    fn new(cfg: &CreateConfig, attach: bool) -> Result<ContainerIo> {
        fn to_err(what: &'static str) -> impl Fn(nix::errno::Errno) -> Error {
            move |e| io_err(what, e.into())
        }
        if cfg.tty {
            let pty = nix::pty::openpty(None, None).map_err(to_err("opening a pty"))?;
            set_cloexec(pty.master.as_raw_fd());
            set_cloexec(pty.slave.as_raw_fd());
            if attach {
                copy_winsize(0, pty.master.as_raw_fd());
            }
            let s = pty.slave.as_raw_fd();
            set_nonblocking(pty.master.as_raw_fd());
            return Ok(ContainerIo {
                stdio: [s, s, s],
                child_ends: vec![pty.slave],
                parent_ends: ParentEnds {
                    out: pty.master,
                    err: None,
                    stdin: None,
                    tty: true,
                },
            });
        }
        let (out_r, out_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(to_err("creating a pipe"))?;
        let (err_r, err_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(to_err("creating a pipe"))?;
        set_nonblocking(out_r.as_raw_fd());
        set_nonblocking(err_r.as_raw_fd());
        let mut child_ends = vec![];
        let mut stdin_w = None;
        let stdin = if cfg.interactive && attach {
            0
        } else if cfg.interactive {
            // Detached with -i: stdin stays open, fed by `attach` clients through the monitor.
            let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(to_err("creating a pipe"))?;
            let raw = r.as_raw_fd();
            child_ends.push(r);
            stdin_w = Some(w);
            raw
        } else {
            let null = std::fs::File::open("/dev/null").map_err(|e| io_err("opening /dev/null", e))?;
            let fd: OwnedFd = null.into();
            let raw = fd.as_raw_fd();
            child_ends.push(fd);
            raw
        };
        let stdio = [stdin, out_w.as_raw_fd(), err_w.as_raw_fd()];
        child_ends.push(out_w);
        child_ends.push(err_w);
        Ok(ContainerIo {
            stdio,
            child_ends,
            parent_ends: ParentEnds {
                out: out_r,
                err: Some(err_r),
                stdin: stdin_w,
                tty: false,
            },
        })
    }

    fn container_stdio(&self) -> [RawFd; 3] {
        self.stdio
    }
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: only used for descriptors this process holds open for its whole remaining life
    // (0-2, the pty and pipe ends owned by the monitor until it exits).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

fn set_cloexec(fd: RawFd) {
    let _ = fcntl(borrow(fd), FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
}

fn set_nonblocking(fd: RawFd) {
    if let Ok(flags) = fcntl(borrow(fd), FcntlArg::F_GETFL) {
        let _ = fcntl(
            borrow(fd),
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        );
    }
}

/// Gives the pty the attached terminal's window size.
pub fn copy_winsize(from: RawFd, to: RawFd) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize struct we own.
    unsafe {
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Parses Podman's `--detach-keys` (`ctrl-p,ctrl-q`, `a`, `ctrl-[`); empty disables detaching.
pub fn detach_sequence(spec: &str) -> Vec<u8> {
    spec.split(',')
        .filter(|k| !k.is_empty())
        .filter_map(|k| match k.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => {
                let b = c.as_bytes()[0];
                match b {
                    b'a'..=b'z' => Some(b - b'a' + 1),
                    b'@' => Some(0),
                    b'[' => Some(27),
                    b'\\' => Some(28),
                    b']' => Some(29),
                    b'^' => Some(30),
                    b'_' => Some(31),
                    _ => None,
                }
            }
            None if k.len() == 1 => Some(k.as_bytes()[0]),
            _ => None,
        })
        .collect()
}

/// `--sdnotify=container`: the container's socket and where its messages go.
struct NotifyProxy {
    sock: std::os::unix::net::UnixDatagram,
    target: String,
    host_pid: i32,
}

impl NotifyProxy {
    fn forward(&self) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]);
            let _ = super::notify::send(&self.target, &super::notify::rewrite(&msg, self.host_pid));
        }
    }
}

/// Where the container's output goes: the log, the attached terminal, `attach` clients.
struct Output<'a> {
    log: &'a mut LogWriter,
    attached: bool,
    clients: Option<&'a mut super::attach::AttachServer>,
}

impl Output<'_> {
    fn write(&mut self, stream: Stream, data: &[u8]) {
        let _ = self.log.write(stream, data);
        if self.attached {
            write_all(if stream == Stream::Stderr { 2 } else { 1 }, data);
        }
        if let Some(c) = self.clients.as_deref_mut() {
            c.output(stream == Stream::Stderr, data);
        }
    }
}

/// The event loop: output to the log (and terminal), terminal input to the container, until it exits.
fn watch(
    pid: Pid,
    ends: &ParentEnds,
    sigfd: &SignalFd,
    mut output: Output,
    cfg: &CreateConfig,
    sync: &mut Sync,
    proxy: Option<&NotifyProxy>,
) -> i32 {
    let forward_stdin = output.attached && ends.tty && cfg.interactive;
    let detach_keys = detach_sequence(cfg.detach_keys.as_deref().unwrap_or("ctrl-p,ctrl-q"));
    let mut matched = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdin_open = forward_stdin;
    let mut out_open = true;
    let mut err_open = ends.err.is_some();
    let mut exit: Option<i32> = check_exit(pid);
    // Where `attach` clients' input goes: the pty, or the stdin pipe of a detached `-i` container.
    let client_input = if ends.tty {
        cfg.interactive.then(|| ends.out.as_raw_fd())
    } else {
        ends.stdin.as_ref().map(|w| w.as_raw_fd())
    };
    loop {
        if let Some(code) = exit {
            // Drain what the container wrote before it exited.
            drain(ends, &mut output, &mut buf);
            return code;
        }
        let sig_fd = borrow(sigfd.as_raw_fd());
        let stdin_fd = borrow(0);
        let mut fds = vec![PollFd::new(sig_fd, PollFlags::POLLIN)];
        let out_idx = out_open.then(|| {
            fds.push(PollFd::new(ends.out.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let err_idx = match (&ends.err, err_open) {
            (Some(e), true) => {
                fds.push(PollFd::new(e.as_fd(), PollFlags::POLLIN));
                Some(fds.len() - 1)
            }
            _ => None,
        };
        let in_idx = stdin_open.then(|| {
            fds.push(PollFd::new(stdin_fd, PollFlags::POLLIN));
            fds.len() - 1
        });
        let notify_idx = proxy.map(|p| {
            fds.push(PollFd::new(borrow(p.sock.as_raw_fd()), PollFlags::POLLIN));
            fds.len() - 1
        });
        let (listen_idx, first_client) = match output.clients.as_deref() {
            Some(c) => {
                fds.push(PollFd::new(borrow(c.listener().as_raw_fd()), PollFlags::POLLIN));
                let listen = fds.len() - 1;
                fds.extend(
                    c.clients()
                        .map(|fd| PollFd::new(borrow(fd.as_raw_fd()), PollFlags::POLLIN)),
                );
                (Some(listen), listen + 1)
            }
            None => (None, fds.len()),
        };
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            continue;
        }
        let ready = |i: Option<usize>| i.and_then(|i| fds[i].revents()).is_some_and(|r| !r.is_empty());
        let (sig_ready, out_ready, err_ready, in_ready) =
            (ready(Some(0)), ready(out_idx), ready(err_idx), ready(in_idx));
        let notify_ready = ready(notify_idx);
        let listen_ready = ready(listen_idx);
        let clients_ready: Vec<bool> = (first_client..fds.len()).map(|i| ready(Some(i))).collect();
        drop(fds);
        if notify_ready {
            if let Some(p) = proxy {
                p.forward();
            }
        }
        if sig_ready {
            while let Ok(Some(info)) = sigfd.read_signal() {
                match info.ssi_signo as i32 {
                    libc::SIGCHLD => exit = exit.or(check_exit(pid)),
                    libc::SIGWINCH if ends.tty && output.attached => copy_winsize(0, ends.out.as_raw_fd()),
                    _ => {}
                }
            }
        }
        if out_ready && !copy_out(ends.out.as_raw_fd(), Stream::Stdout, &mut output, &mut buf) {
            out_open = false;
        }
        if err_ready {
            if let Some(e) = &ends.err {
                if !copy_out(e.as_raw_fd(), Stream::Stderr, &mut output, &mut buf) {
                    err_open = false;
                }
            }
        }
        if let Some(clients) = output.clients.as_deref_mut() {
            if clients_ready.contains(&true) {
                for msg in clients.read_ready(&clients_ready) {
                    client_message(msg, client_input, ends);
                }
            }
            if listen_ready {
                clients.accept();
            }
        }
        if in_ready {
            match nix::unistd::read(borrow(0), &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let (pass, detach) = scan_detach(&buf[..n], &detach_keys, &mut matched);
                    write_all(ends.out.as_raw_fd(), &pass);
                    if detach {
                        output.attached = false;
                        stdin_open = false;
                        sync.send(&Report::Detached);
                    }
                }
            }
        }
    }
}

/// An `attach` client's input or window size, passed to the container.
fn client_message(msg: super::attach::ClientMessage, input: Option<RawFd>, ends: &ParentEnds) {
    match msg {
        super::attach::ClientMessage::Stdin(data) => {
            if let Some(fd) = input {
                write_all(fd, &data);
            }
        }
        super::attach::ClientMessage::Resize { rows, cols } if ends.tty => {
            let ws = libc::winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads the winsize struct we own.
            unsafe { libc::ioctl(ends.out.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        }
        super::attach::ClientMessage::Resize { .. } => {}
    }
}

/// Splits input at the detach sequence; bytes of a partial match are held back until it resolves.
pub(crate) fn scan_detach(input: &[u8], keys: &[u8], matched: &mut usize) -> (Vec<u8>, bool) {
    let mut pass = Vec::with_capacity(input.len());
    if keys.is_empty() {
        pass.extend_from_slice(input);
        return (pass, false);
    }
    for &b in input {
        if b == keys[*matched] {
            *matched += 1;
            if *matched == keys.len() {
                *matched = 0;
                return (pass, true);
            }
        } else {
            pass.extend_from_slice(&keys[..*matched]);
            *matched = 0;
            if b == keys[0] {
                *matched = 1;
            } else {
                pass.push(b);
            }
        }
    }
    (pass, false)
}

fn check_exit(pid: Pid) -> Option<i32> {
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => None,
        Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => Some(runtime::exit_code(status)),
        Ok(_) => None,
        Err(_) => Some(255),
    }
}

/// Copies what is readable now; false at end of file (or EIO from a pty whose other side closed).
fn copy_out(fd: RawFd, stream: Stream, output: &mut Output, buf: &mut [u8]) -> bool {
    loop {
        match nix::unistd::read(borrow(fd), buf) {
            Ok(0) => return false,
            Ok(n) => output.write(stream, &buf[..n]),
            Err(nix::errno::Errno::EAGAIN) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

fn drain(ends: &ParentEnds, output: &mut Output, buf: &mut [u8]) {
    copy_out(ends.out.as_raw_fd(), Stream::Stdout, output, buf);
    if let Some(e) = &ends.err {
        copy_out(e.as_raw_fd(), Stream::Stderr, output, buf);
    }
}

fn write_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: fd is one of our open descriptors for the duration of the call.
        match nix::unistd::write(borrow(fd), data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => {
                let mut pfd = [PollFd::new(borrow(fd), PollFlags::POLLOUT)];
                let _ = poll(&mut pfd, PollTimeout::from(1000u16));
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        for r in [
            Report::Started(42),
            Report::Error(127, "not found: x".into()),
            Report::Detached,
            Report::Exit(3),
        ] {
            assert_eq!(Report::decode(&r.encode()), Some(r));
        }
    }

    #[test]
    fn detach_keys() {
        assert_eq!(detach_sequence("ctrl-p,ctrl-q"), vec![16, 17]);
        assert_eq!(detach_sequence(""), Vec::<u8>::new());
        let keys = detach_sequence("ctrl-p,ctrl-q");
        let mut m = 0;
        assert_eq!(
            scan_detach(b"ab\x10c", &keys, &mut m),
            (b"ab\x10c".to_vec(), false)
        );
        assert_eq!(scan_detach(b"x\x10", &keys, &mut m), (b"x".to_vec(), false));
        assert_eq!(scan_detach(b"\x11rest", &keys, &mut m), (vec![], true));
    }
}
