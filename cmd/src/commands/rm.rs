//! `rm`: remove containers.

use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie rm imageID\n  selkie rm mywebserver myflaskserver 860a4b23\n  selkie rm --force --all"
)]
pub struct RmArgs {
    /// Remove all containers
    #[arg(short, long)]
    pub all: bool,
    /// Force removal of a running or unusable container
    #[arg(short, long)]
    pub force: bool,
    /// Ignore errors when a specified container is missing
    #[arg(short, long)]
    pub ignore: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    /// Containers to remove
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

impl RmArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.containers.is_empty() && !self.all {
            return Err(Exit::usage("at least one container name or ID must be specified").into());
        }
        let engine = ctx.engine()?;
        let (removed, errors) = pkg::container::create::remove(&engine, &self.containers, self.all)?;
        let mut out = String::new();
        for id in removed {
            out.push_str(&id);
            out.push('\n');
        }
        let errors: Vec<_> = errors
            .into_iter()
            .filter(|e| !(self.ignore && matches!(e, pkg::Error::ContainerNotKnown(_))))
            .collect();
        match errors.into_iter().next() {
            None => {
                print!("{out}");
                Ok(())
            }
            // Podman exits 1 when a named container does not exist.
            Some(e @ pkg::Error::ContainerNotKnown(_)) => Err(Exit {
                code: 1,
                message: Some(e.to_string()),
                stdout: Some(out),
            }
            .into()),
            Some(e) => Err(Exit {
                code: 125,
                message: Some(e.to_string()),
                stdout: Some(out),
            }
            .into()),
        }
    }
}
