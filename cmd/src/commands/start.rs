//! `start`: start created or exited containers, detached unless `--attach`.

use super::run::start_error;
use crate::attach::{proxy_signals, RawTerminal};
use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;
use pkg::container::lifecycle::{self, Outcome};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie start 860a4b231279 5421ab43b45\n  selkie start --interactive --attach imageID"
)]
pub struct StartArgs {
    /// Attach container's STDOUT and STDERR
    #[arg(short, long)]
    pub attach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Proxy received signals to the process (with --attach)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Containers to start
    #[arg(required = true, value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Startable))]
    pub containers: Vec<String>,
}

impl StartArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if self.attach && self.containers.len() > 1 {
            return Err(Exit::usage("you cannot start and attach multiple containers at once").into());
        }
        for name in &self.containers {
            let rec = lifecycle::find(&engine, name)?;
            if lifecycle::state_of(&engine, &rec.id).is_running() {
                println!("{name}");
                continue;
            }
            let cfg = lifecycle::config_of(&engine, &rec.id)?;
            // Raw mode before the container starts, as for `run`.
            let _raw = (self.attach && cfg.tty && self.interactive).then(RawTerminal::enable);
            let started = lifecycle::start(&engine, &rec.id, self.attach, &ctx.global_args(&engine))
                .map_err(start_error)?;
            if !self.attach {
                println!("{name}");
                continue;
            }
            proxy_signals(started.pid, started.monitor_pid(), self.sig_proxy, cfg.tty);
            if let Outcome::Exited(code) = started.wait(&engine, &rec.id)? {
                if code != 0 {
                    return Err(Exit::silent(code).into());
                }
            }
        }
        Ok(())
    }
}
