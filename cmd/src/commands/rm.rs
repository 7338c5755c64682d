//! `rm`: remove containers (a running one only with `--force`).

use crate::cli::Context;
use crate::exit::{Exit, ENGINE_ERROR};
use clap::Args;
use pkg::container::{lifecycle, store};

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
    /// Seconds to wait for stop before killing the container (with --force)
    #[arg(short = 't', long = "time")]
    pub time: Option<u32>,
    /// Containers to remove
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub containers: Vec<String>,
}

impl RmArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.containers.is_empty() && !self.all {
            return Err(Exit::usage("at least one container name or ID must be specified").into());
        }
        let engine = ctx.engine()?;
        let targets: Vec<String> = if self.all {
            store::read(&engine.store)?
                .containers
                .into_iter()
                .map(|c| c.id)
                .collect()
        } else {
            self.containers.clone()
        };
        let mut out = String::new();
        let mut first_error: Option<(i32, String)> = None;
        for name in targets {
            let result = lifecycle::find(&engine, &name)
                .and_then(|rec| lifecycle::remove(&engine, &rec, self.force, self.volumes));
            match result {
                Ok(()) => {
                    out.push_str(&name);
                    out.push('\n');
                }
                Err(pkg::Error::ContainerNotKnown(_)) if self.ignore || self.force => {}
                Err(e) => {
                    // Podman: 1 when a container does not exist, 2 when it is running, else 125.
                    let code = match e {
                        pkg::Error::ContainerNotKnown(_) => 1,
                        pkg::Error::ContainerRunning(_) => 2,
                        _ => ENGINE_ERROR,
                    };
                    first_error.get_or_insert((code, e.to_string()));
                }
            }
        }
        match first_error {
            None => {
                print!("{out}");
                Ok(())
            }
            Some((code, msg)) => Err(Exit {
                code,
                message: Some(msg),
                stdout: Some(out),
            }
            .into()),
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie rename focused_cori test1\n  selkie rename 860a4b23 webserver")]
pub struct RenameArgs {
    /// The container
    #[arg(add = crate::complete::containers(crate::complete::State::Any))]
    pub container: String,
    /// Its new name
    pub name: String,
}

impl RenameArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        Ok(pkg::container::create::rename(
            &engine,
            &self.container,
            &self.name,
        )?)
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie container exists --external containerID\n  selkie container exists myctr || selkie run --name myctr [etc...]"
)]
pub struct ExistsArgs {
    /// The container to look for
    #[arg(add = crate::complete::containers(crate::complete::State::Any))]
    pub container: String,
    /// Also check for containers not created by selkie (there are none)
    #[arg(long)]
    pub external: bool,
}

impl ExistsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        match lifecycle::find(&engine, &self.container) {
            Ok(_) => Ok(()),
            Err(pkg::Error::ContainerNotKnown(_)) => Err(Exit::silent(1).into()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The monitor of one container (hidden): started by `run`/`start`, never by users.
#[derive(Args, Debug)]
pub struct MonitorArgs {
    pub id: String,
    #[arg(long)]
    pub sync_fd: i32,
    #[arg(long)]
    pub attach: bool,
}

impl MonitorArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let opts = pkg::container::monitor::MonitorOptions {
            id: self.id,
            attach: self.attach,
            sync_fd: self.sync_fd,
        };
        let code = pkg::container::monitor::run(&engine, &opts);
        if code != 0 {
            return Err(Exit::silent(code).into());
        }
        Ok(())
    }
}
