//! `pause` and `unpause`: freeze and thaw every process of running containers.

use crate::cli::Context;
use crate::complete::{self, State};
use crate::exit::{Exit, ENGINE_ERROR};
use clap::Args;
use pkg::container::state::Status;
use pkg::container::store::ContainerRecord;
use pkg::container::{lifecycle, pause, store};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie pause mywebserver\n  selkie pause 860a4b23\n  selkie pause --all"
)]
pub struct PauseArgs {
    /// Pause all running containers
    #[arg(short, long)]
    pub all: bool,
    /// Containers to pause
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Running))]
    pub containers: Vec<String>,
}

impl PauseArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        each(ctx, &self.containers, self.all, Status::Running, pause::pause)
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie unpause mywebserver\n  selkie unpause 860a4b23\n  selkie unpause --all"
)]
pub struct UnpauseArgs {
    /// Unpause all paused containers
    #[arg(short, long)]
    pub all: bool,
    /// Containers to unpause
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Paused))]
    pub containers: Vec<String>,
}

impl UnpauseArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        each(ctx, &self.containers, self.all, Status::Paused, pause::unpause)
    }
}

type Action = fn(&pkg::Engine, &ContainerRecord) -> pkg::Result<()>;

/// Runs `action` on each container named (printed as named), or with `--all` on every container in state
/// `all_in` (printed by full ID), as Podman does; every error is reported, the last one as the result.
fn each(ctx: &Context, names: &[String], all: bool, all_in: Status, action: Action) -> anyhow::Result<()> {
    if all && !names.is_empty() {
        return Err(Exit::usage("--all and containers cannot be used together").into());
    }
    if !all && names.is_empty() {
        return Err(Exit::usage("you must provide at least one container name or ID").into());
    }
    let engine = ctx.engine()?;
    let targets: Vec<(String, pkg::Result<ContainerRecord>)> = if all {
        store::read(&engine.store)?
            .containers
            .into_iter()
            .filter(|c| lifecycle::state_of(&engine, &c.id).status == all_in)
            .map(|c| (c.id.clone(), Ok(c)))
            .collect()
    } else {
        names
            .iter()
            .map(|n| (n.clone(), lifecycle::find(&engine, n)))
            .collect()
    };
    let mut errors = vec![];
    for (shown, rec) in targets {
        match rec.and_then(|rec| action(&engine, &rec)) {
            Ok(()) => println!("{shown}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    match errors.pop() {
        None => Ok(()),
        Some(last) => {
            for e in errors {
                eprintln!("Error: {e}");
            }
            Err(Exit::with(ENGINE_ERROR, last).into())
        }
    }
}
