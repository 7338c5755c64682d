//! `container`: the container command group; each verb is the same command as its top-level alias.

use super::{create, inspect, logs, ps, rm, run, start, stop};
use crate::cli::Context;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Create but do not start a container
    Create(create::CreateArgs),
    /// Check if a container exists in local storage
    Exists(rm::ExistsArgs),
    /// Display the configuration of a container
    Inspect(inspect::ContainerInspectArgs),
    /// Kill one or more running containers with a specific signal
    Kill(stop::KillArgs),
    /// Fetch the logs of one or more containers
    Logs(logs::LogsArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(ps::PsArgs),
    /// Rename an existing container
    Rename(rm::RenameArgs),
    /// Restart one or more containers
    Restart(stop::RestartArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Run a command in a new container
    Run(run::RunArgs),
    /// Start one or more containers
    Start(start::StartArgs),
    /// Stop one or more containers
    Stop(stop::StopArgs),
    /// Block on one or more containers
    Wait(stop::WaitArgs),
}

impl ContainerCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ContainerCommand::Create(a) => a.run(ctx),
            ContainerCommand::Exists(a) => a.run(ctx),
            ContainerCommand::Inspect(a) => a.run(ctx),
            ContainerCommand::Kill(a) => a.run(ctx),
            ContainerCommand::Logs(a) => a.run(ctx),
            ContainerCommand::Ls(a) => a.run(ctx),
            ContainerCommand::Rename(a) => a.run(ctx),
            ContainerCommand::Restart(a) => a.run(ctx),
            ContainerCommand::Rm(a) => a.run(ctx),
            ContainerCommand::Run(a) => a.run(ctx),
            ContainerCommand::Start(a) => a.run(ctx),
            ContainerCommand::Stop(a) => a.run(ctx),
            ContainerCommand::Wait(a) => a.run(ctx),
        }
    }
}
