//! `exec`: run a process in a running container, as a child of this command.

use super::run::start_error;
use crate::attach::RawTerminal;
use crate::cli::Context;
use crate::exit::Exit;
use clap::{ArgAction, Args};
use pkg::container::exec::{self, ExecOptions};
use pkg::container::lifecycle;
use std::os::fd::{AsFd, AsRawFd};

#[derive(Args, Debug)]
#[command(
    trailing_var_arg = true,
    after_help = "Examples:\n  selkie exec -it ctrID ls\n  selkie exec -it -w /tmp myCtr pwd\n  selkie exec --user root ctrID ls"
)]
pub struct ExecArgs {
    /// Run the exec session in detached mode (backgrounded)
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Keep STDIN open even if not attached
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub interactive: bool,
    /// Pass a number of additional file descriptors into the container
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Give the process extended Linux capabilities
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub tty: bool,
    /// Sets the username or UID used and optionally the groupname or GID for the specified command
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// The container
    #[arg(add = crate::complete::containers(crate::complete::State::Running))]
    pub container: String,
    /// Command and arguments
    #[arg(required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl ExecArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        // The exec'd process is cloned from this one: run from a sealed view of the binary first
        // (re-executes this command once; CVE-2019-5736, see `pkg::runtime::reexec_sealed`).
        let _ = pkg::runtime::reexec_sealed();
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        let mut env = vec![];
        for f in &self.env_file {
            env.extend(pkg::container::parse::parse_env_file(f)?);
        }
        env.extend(self.env.iter().cloned());
        let opts = ExecOptions {
            command: self.command.clone(),
            env,
            user: self.user.clone(),
            workdir: self.workdir.clone(),
            privileged: self.privileged,
            tty: self.tty,
            preserve_fds: self.preserve_fds,
        };
        let code = if self.tty {
            self.run_tty(&engine, &rec, &opts)?
        } else {
            self.run_plain(&engine, &rec, &opts)?
        };
        if code != 0 {
            return Err(Exit::silent(code).into());
        }
        Ok(())
    }

    fn run_plain(
        &self,
        engine: &pkg::Engine,
        rec: &pkg::container::store::ContainerRecord,
        opts: &ExecOptions,
    ) -> anyhow::Result<i32> {
        let null = std::fs::File::open("/dev/null")?;
        let stdin = if self.interactive { 0 } else { null.as_raw_fd() };
        let pid = exec::start(engine, rec, opts, [stdin, 1, 2]).map_err(start_error)?;
        if self.detach {
            return Ok(0);
        }
        Ok(exec::wait(pid)?)
    }

    /// A pty for the process; this command copies between it and our terminal until the process exits.
    fn run_tty(
        &self,
        engine: &pkg::Engine,
        rec: &pkg::container::store::ContainerRecord,
        opts: &ExecOptions,
    ) -> anyhow::Result<i32> {
        let pty = nix::pty::openpty(None, None)?;
        pkg::container::monitor::copy_winsize(0, pty.master.as_raw_fd());
        let _raw = self.interactive.then(RawTerminal::enable);
        let s = pty.slave.as_raw_fd();
        let pid = exec::start(engine, rec, opts, [s, s, s]).map_err(start_error)?;
        drop(pty.slave);
        if self.detach {
            return Ok(0);
        }
        let master = pty.master;
        let mut buf = [0u8; 16 * 1024];
        let stdin = std::io::stdin();
        let mut stdin_open = self.interactive;
        loop {
            let mut fds = vec![nix::poll::PollFd::new(
                master.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            if stdin_open {
                fds.push(nix::poll::PollFd::new(
                    stdin.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                ));
            }
            if nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE).is_err() {
                continue;
            }
            let out_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
            let in_ready = stdin_open && fds[1].revents().is_some_and(|r| !r.is_empty());
            drop(fds);
            if out_ready {
                match nix::unistd::read(&master, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        use std::io::Write;
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&buf[..n]);
                        let _ = out.flush();
                    }
                }
            }
            if in_ready {
                match nix::unistd::read(&stdin, &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(n) => {
                        let _ = nix::unistd::write(&master, &buf[..n]);
                    }
                }
            }
        }
        Ok(exec::wait(pid)?)
    }
}
