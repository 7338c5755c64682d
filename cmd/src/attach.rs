//! The starting command's side of an attached container: signals forwarded to the container
//! (`--sig-proxy`), the terminal in raw mode for `-t`, and window-size changes passed to the monitor.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{self, SetArg, Termios};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicI32, Ordering};

static CONTAINER_PID: AtomicI32 = AtomicI32::new(0);
static MONITOR_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let target = if sig == libc::SIGWINCH {
        MONITOR_PID.load(Ordering::Relaxed)
    } else {
        CONTAINER_PID.load(Ordering::Relaxed)
    };
    if target > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(target, sig) };
    }
}

const PROXIED: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
];

/// Forwards the usual signals to `container_pid` (and SIGWINCH to the monitor) for as long as the
/// command runs.
pub fn proxy_signals(container_pid: i32, monitor_pid: i32, sig_proxy: bool, tty: bool) {
    CONTAINER_PID.store(container_pid, Ordering::Relaxed);
    MONITOR_PID.store(monitor_pid, Ordering::Relaxed);
    let action = SigAction::new(SigHandler::Handler(forward), SaFlags::SA_RESTART, SigSet::empty());
    if sig_proxy {
        for s in PROXIED {
            // SAFETY: the handler only calls kill(2) and reads atomics.
            let _ = unsafe { sigaction(*s, &action) };
        }
    }
    if tty {
        let _ = unsafe { sigaction(Signal::SIGWINCH, &action) };
    }
}

/// Puts the terminal on stdin in raw mode until dropped.
pub struct RawTerminal {
    saved: Option<Termios>,
}

impl RawTerminal {
    pub fn enable() -> RawTerminal {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return RawTerminal { saved: None };
        }
        let Ok(saved) = termios::tcgetattr(&stdin) else {
            return RawTerminal { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw);
        RawTerminal { saved: Some(saved) }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}
