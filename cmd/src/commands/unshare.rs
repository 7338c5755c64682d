//! `unshare`: run a command inside the rootless user namespace (as `podman unshare`), and the rule for
//! which commands enter that namespace before they run.

use super::Command;
use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;
use std::os::unix::process::CommandExt;

#[derive(Args, Debug)]
#[command(
    trailing_var_arg = true,
    after_help = "Examples:\n  selkie unshare\n  selkie unshare cat /proc/self/uid_map\n  selkie unshare ls -ln ~/.local/share/selkie"
)]
pub struct UnshareArgs {
    /// The command to run (default: $SHELL)
    #[arg(allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

impl UnshareArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if !pkg::rootless::is_rootless() {
            return Err(Exit::with(125, "please use unshare with rootless").into());
        }
        let engine = ctx.engine()?;
        let mut argv = self.command;
        if argv.is_empty() {
            argv.push(
                std::env::var("SHELL")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "/bin/sh".into()),
            );
        }
        let err = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .env("CONTAINERS_GRAPHROOT", &engine.paths.graph_root)
            .env("CONTAINERS_RUNROOT", &engine.paths.run_root)
            .exec();
        let code = if err.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        };
        Err(Exit::with(code, format!("exec: {:?}: {err}", argv[0])).into())
    }
}

/// Whether `cmd` runs inside the rootless user namespace: every command that touches the store or
/// containers. Not `version`, `completion`, the man pages, `login`/`logout` (the user's own auth
/// file), and not the monitor, which inherits the namespace of the command that forked it.
pub fn enters_user_namespace(cmd: &Command) -> bool {
    !matches!(
        cmd,
        Command::Version(_)
            | Command::Completion(_)
            | Command::GenerateManPages(_)
            | Command::ContainerMonitor(_)
            | Command::Login(_)
            | Command::Logout(_)
    )
}
