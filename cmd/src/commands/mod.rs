//! One module per command (Podman's names). Each parses its flags and makes one engine call.

mod attach;
mod commit;
mod completion;
mod container;
mod container_flags;
mod cp;
mod create;
mod diff;
mod exec;
mod export;
mod generate;
mod history;
mod image;
mod images;
mod import;
mod info;
mod inspect;
mod load;
mod login;
mod logs;
mod mount;
mod network;
mod pause;
mod port;
mod ps;
mod pull;
mod push;
mod registry_flags;
mod rm;
mod rmi;
mod run;
mod save;
mod start;
mod stats;
mod stop;
mod tag;
mod top;
mod unshare;
mod version;
mod volume;

use crate::cli::Context;
use clap::Subcommand;
pub use unshare::enters_user_namespace;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Attach to a running container
    Attach(attach::AttachArgs),
    /// Create new image based on the changed container
    Commit(commit::CommitArgs),
    /// Generate shell autocompletions
    Completion(completion::CompletionArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(container::ContainerCommand),
    /// The monitor of one container (started by run and start)
    #[command(name = "container-monitor", hide = true)]
    ContainerMonitor(rm::MonitorArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// Create but do not start a container
    Create(create::CreateArgs),
    /// Display the changes to the object's file system
    Diff(diff::DiffArgs),
    /// Run a process in a running container
    Exec(exec::ExecArgs),
    /// Export container's filesystem contents as a tar archive
    Export(export::ExportArgs),
    /// Write the man pages into a directory (used by scripts/install)
    #[command(name = "generate-man-pages", hide = true)]
    GenerateManPages(crate::man::ManArgs),
    /// Generate structured data based on containers, pods or volumes
    #[command(subcommand)]
    Generate(generate::GenerateCommand),
    /// Show history of a specified image
    History(history::HistoryArgs),
    /// Manage images
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// List images in local storage
    Images(images::ImagesArgs),
    /// Import a tarball to create a filesystem image
    Import(import::ImportArgs),
    /// Display system information
    Info(info::InfoArgs),
    /// Display the configuration of object denoted by ID
    Inspect(inspect::InspectArgs),
    /// Load image(s) from a tar archive
    Load(load::LoadArgs),
    /// Fetch the logs of one or more containers
    Logs(logs::LogsArgs),
    /// Kill one or more running containers with a specific signal
    Kill(stop::KillArgs),
    /// Log in to a container registry
    Login(login::LoginArgs),
    /// Log out of a container registry
    Logout(login::LogoutArgs),
    /// Mount a working container's root filesystem
    Mount(mount::MountArgs),
    /// Pause all the processes in one or more containers
    Pause(pause::PauseArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Pull an image from a registry
    Pull(pull::PullArgs),
    /// Push an image to a specified destination
    Push(push::PushArgs),
    /// Rename an existing container
    Rename(rm::RenameArgs),
    /// Restart one or more containers
    Restart(stop::RestartArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Remove one or more images from local storage
    Rmi(rmi::RmiArgs),
    /// Run a command in a new container
    Run(run::RunArgs),
    /// Save image(s) to an archive
    Save(save::SaveArgs),
    /// Start one or more containers
    Start(start::StartArgs),
    /// Display a live stream of container resource usage statistics
    Stats(stats::StatsArgs),
    /// Stop one or more containers
    Stop(stop::StopArgs),
    /// Add an additional name to a local image
    Tag(tag::TagArgs),
    /// Display the running processes of a container
    Top(top::TopArgs),
    /// Unmount working container's root filesystem
    #[command(visible_alias = "umount")]
    Unmount(mount::UnmountArgs),
    /// Run a command in a modified user namespace
    Unshare(unshare::UnshareArgs),
    /// Unpause the processes in one or more containers
    Unpause(pause::UnpauseArgs),
    /// Remove names from a local image
    Untag(tag::UntagArgs),
    /// Display the selkie version information
    Version(version::VersionArgs),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Block on one or more containers
    Wait(stop::WaitArgs),
}

pub fn dispatch(cmd: Command, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        Command::Attach(a) => a.run(ctx),
        Command::Commit(a) => a.run(ctx),
        Command::Cp(a) => a.run(ctx),
        Command::Diff(a) => a.run(ctx),
        Command::Export(a) => a.run(ctx),
        Command::Mount(a) => a.run(ctx),
        Command::Unmount(a) => a.run(ctx),
        Command::Completion(a) => a.run(ctx),
        Command::Container(c) => c.run(ctx),
        Command::ContainerMonitor(a) => a.run(ctx),
        Command::Exec(a) => a.run(ctx),
        Command::Kill(a) => a.run(ctx),
        Command::Login(a) => a.run(ctx),
        Command::Logout(a) => a.run(ctx),
        Command::Pull(a) => a.run(ctx),
        Command::Push(a) => a.run(ctx),
        Command::Rename(a) => a.run(ctx),
        Command::Restart(a) => a.run(ctx),
        Command::Run(a) => a.run(ctx),
        Command::Start(a) => a.run(ctx),
        Command::Stop(a) => a.run(ctx),
        Command::Wait(a) => a.run(ctx),
        Command::Create(a) => a.run(ctx),
        Command::Generate(c) => c.run(ctx),
        Command::GenerateManPages(a) => a.run(ctx),
        Command::History(a) => a.run(ctx),
        Command::Image(c) => c.run(ctx),
        Command::Images(a) => a.run(ctx),
        Command::Import(a) => a.run(ctx),
        Command::Info(a) => a.run(ctx),
        Command::Inspect(a) => a.run(ctx),
        Command::Load(a) => a.run(ctx),
        Command::Logs(a) => a.run(ctx),
        Command::Ps(a) => a.run(ctx),
        Command::Rm(a) => a.run(ctx),
        Command::Rmi(a) => a.run(ctx),
        Command::Save(a) => a.run(ctx),
        Command::Tag(a) => a.run(ctx),
        Command::Untag(a) => a.run(ctx),
        Command::Pause(a) => a.run(ctx),
        Command::Unpause(a) => a.run(ctx),
        Command::Unshare(a) => a.run(ctx),
        Command::Top(a) => a.run(ctx),
        Command::Stats(a) => a.run(ctx),
        Command::Version(a) => a.run(ctx),
        Command::Volume(c) => c.run(ctx),
        Command::Network(c) => c.run(ctx),
        Command::Port(a) => a.run(ctx),
    }
}
