//! `attach`: the terminal joined to a running container's stdio through its monitor.

use crate::attach::{proxy_signals, RawTerminal};
use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;
use pkg::container::attach::{self, AttachOptions, Ending};
use pkg::container::lifecycle;
use pkg::container::monitor::detach_sequence;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie attach ctrID\n  selkie attach --no-stdin ctrID")]
pub struct AttachArgs {
    /// Select the key sequence for detaching a container. Format is a single character [a-Z] or ctrl-<value> where <value> is one of: a-z, @, ^, [, , or _
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN. The default is false
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy received signals to the process (non-TTY mode only)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// The container to attach to
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Running))]
    pub container: String,
}

impl AttachArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        let cfg = lifecycle::config_of(&engine, &rec.id)?;
        let conn = attach::connect(&engine, &rec.id)?;
        let stdin = !self.no_stdin && cfg.interactive;
        let keys = self
            .detach_keys
            .as_deref()
            .or(cfg.detach_keys.as_deref())
            .unwrap_or("ctrl-p,ctrl-q");
        let _raw = (stdin && cfg.tty).then(RawTerminal::enable);
        let state = lifecycle::state_of(&engine, &rec.id);
        // The terminal sends signals itself with a tty; otherwise they go to the container's process.
        proxy_signals(state.pid, 0, self.sig_proxy && !cfg.tty, false);
        let opts = AttachOptions {
            stdin,
            detach_keys: detach_sequence(keys),
            tty: cfg.tty,
        };
        match attach::session(&engine, &conn, &opts)? {
            Ending::Detached => Ok(()),
            Ending::Exited(0) => Ok(()),
            Ending::Exited(code) => Err(Exit::silent(code).into()),
        }
    }
}
