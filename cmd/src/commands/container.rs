//! `container`: the container command group; each verb is the same command as its top-level alias.

use super::{attach, create, inspect, logs, ps, rm, run, start, stop};
use crate::cli::Context;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Attach to a running container
    Attach(attach::AttachArgs),
    /// Create new image based on the changed container
    Commit(super::commit::CommitArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(super::cp::CpArgs),
    /// Create but do not start a container
    Create(create::CreateArgs),
    /// Inspect changes to the container's file systems
    Diff(super::diff::DiffArgs),
    /// Check if a container exists in local storage
    Exists(rm::ExistsArgs),
    /// Export a container's filesystem contents as a tar archive
    Export(super::export::ExportArgs),
    /// Display the configuration of a container
    Inspect(inspect::ContainerInspectArgs),
    /// Kill one or more running containers with a specific signal
    Kill(stop::KillArgs),
    /// Fetch the logs of one or more containers
    Logs(logs::LogsArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(ps::PsArgs),
    /// Mount a working container's root filesystem
    Mount(super::mount::MountArgs),
    /// Pause all the processes in one or more containers
    Pause(super::pause::PauseArgs),
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
    /// Display a live stream of container resource usage statistics
    Stats(super::stats::StatsArgs),
    /// Stop one or more containers
    Stop(stop::StopArgs),
    /// Display the running processes of a container
    Top(super::top::TopArgs),
    /// Unmount working container's root filesystem
    #[command(visible_alias = "umount")]
    Unmount(super::mount::UnmountArgs),
    /// Unpause the processes in one or more containers
    Unpause(super::pause::UnpauseArgs),
    /// Block on one or more containers
    Wait(stop::WaitArgs),
}

impl ContainerCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ContainerCommand::Attach(a) => a.run(ctx),
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
            ContainerCommand::Pause(a) => a.run(ctx),
            ContainerCommand::Unpause(a) => a.run(ctx),
            ContainerCommand::Top(a) => a.run(ctx),
            ContainerCommand::Stats(a) => a.run(ctx),
            ContainerCommand::Commit(a) => a.run(ctx),
            ContainerCommand::Cp(a) => a.run(ctx),
            ContainerCommand::Diff(a) => a.run(ctx),
            ContainerCommand::Export(a) => a.run(ctx),
            ContainerCommand::Mount(a) => a.run(ctx),
            ContainerCommand::Unmount(a) => a.run(ctx),
        }
    }
}
