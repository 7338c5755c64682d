//! `completion`: the shell script that completes selkie's commands, flags, containers and images.
//!
//! The script is a small shim (see [`crate::complete`]): on TAB it calls the binary back, which answers
//! from its own command definitions and the store, so the script never goes stale with new commands.

use crate::cli::Context;
use crate::complete::{self, Shell};
use clap::{Args, ValueHint};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    override_usage = "selkie completion [options] bash|zsh|fish|powershell",
    long_about = "Generate shell autocompletions.\n\nValid arguments are bash, zsh, fish and powershell. Source the \
                  script (or install it where the shell looks, as scripts/install does) to complete \
                  commands, flags, containers and images.",
    after_help = "Examples:\n  selkie completion bash\n  selkie completion zsh -f _selkie\n  selkie completion fish --no-desc\n  source <(selkie completion bash)"
)]
pub struct CompletionArgs {
    /// Output the completion to file rather than stdout
    #[arg(short, long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: Option<PathBuf>,
    /// Don't include descriptions in the completion output
    #[arg(long)]
    pub no_desc: bool,
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

impl CompletionArgs {
    pub fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        let bin = std::env::args_os()
            .next()
            .and_then(|a| {
                PathBuf::from(a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "selkie".into());
        let script = complete::registration(self.shell, &bin, self.no_desc)?;
        match self.file.as_deref() {
            Some(p) if p.as_os_str() != "-" => {
                std::fs::write(p, &script).map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?
            }
            _ => std::io::stdout().write_all(&script)?,
        }
        Ok(())
    }
}
