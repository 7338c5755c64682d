//! `run`: create a container and start it, attached (the default) or detached (`-d`).

use super::container_flags::ContainerFlags;
use crate::attach::{proxy_signals, RawTerminal};
use crate::cli::Context;
use crate::exit::Exit;
use clap::{ArgAction, Args};
use pkg::container::lifecycle::{self, Outcome};

#[derive(Args, Debug)]
#[command(
    trailing_var_arg = true,
    disable_help_flag = true,
    after_help = "Examples:\n  selkie run imageID ls -alF /etc\n  selkie run --network=host imageID dnf -y install java\n  selkie run --volume /var/hostdir:/var/ctrdir -i -t fedora /bin/bash"
)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub detach: bool,
    #[command(flatten)]
    pub flags: ContainerFlags,
    /// The image (or, with --rootfs, the root filesystem directory)
    #[arg(add = crate::complete::images())]
    pub image: String,
    /// Command and arguments (default: the image's)
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl RunArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let cfg = self.flags.to_config(&self.image, &self.command, self.detach)?;
        self.flags.pull_image(&engine, &self.image)?;
        let (tty, sig_proxy) = (cfg.tty, cfg.sig_proxy);
        let rec = super::create::create_container(&engine, cfg, &self.flags).map_err(cannot_execute)?;
        let attach = !self.detach;
        // Raw mode before the container starts: input typed at once (the detach keys among it) must not
        // meet the cooked terminal, whose line discipline would take ctrl-q as flow control.
        let _raw = (attach && tty && self.flags.interactive).then(RawTerminal::enable);
        let started = match lifecycle::start(&engine, &rec.id, attach, &ctx.global_args(&engine)) {
            Ok(s) => s,
            Err(e) => {
                // A container that could not start is not left behind, as Podman does for `run`.
                let _ = lifecycle::remove(&engine, &rec, true, true);
                return Err(start_error(e));
            }
        };
        if self.detach {
            println!("{}", rec.id);
            return Ok(());
        }
        proxy_signals(started.pid, started.monitor_pid(), sig_proxy, tty);
        match started.wait(&engine, &rec.id)? {
            Outcome::Exited(0) | Outcome::Detached => Ok(()),
            Outcome::Exited(code) => Err(Exit::silent(code).into()),
        }
    }
}

/// An unknown `-u` user cannot execute the command: 126, as Podman's runtime reports it.
pub fn cannot_execute(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<pkg::Error>() {
        Ok(pkg::Error::UserNotFound(msg)) => Exit::with(126, msg).into(),
        Ok(other) => other.into(),
        Err(e) => e,
    }
}

/// A start failure keeps its exit code: 126 cannot execute, 127 not found, else 125.
pub fn start_error(e: pkg::Error) -> anyhow::Error {
    match e {
        pkg::Error::StartFailed { code, message } => Exit::with(code, message).into(),
        other => other.into(),
    }
}
