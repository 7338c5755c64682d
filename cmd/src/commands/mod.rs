//! One module per command (Podman's names). Each parses its flags and makes one engine call.

mod create;
mod history;
mod image;
mod images;
mod import;
mod info;
mod inspect;
mod load;
mod ps;
mod rm;
mod rmi;
mod save;
mod tag;
mod version;

use crate::cli::Context;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create but do not start a container
    Create(create::CreateArgs),
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
    /// List containers
    Ps(ps::PsArgs),
    /// Remove one or more containers
    Rm(rm::RmArgs),
    /// Remove one or more images from local storage
    Rmi(rmi::RmiArgs),
    /// Save image(s) to an archive
    Save(save::SaveArgs),
    /// Add an additional name to a local image
    Tag(tag::TagArgs),
    /// Remove names from a local image
    Untag(tag::UntagArgs),
    /// Display the selkie version information
    Version(version::VersionArgs),
}

pub fn dispatch(cmd: Command, ctx: &Context) -> anyhow::Result<()> {
    match cmd {
        Command::Create(a) => a.run(ctx),
        Command::History(a) => a.run(ctx),
        Command::Image(c) => c.run(ctx),
        Command::Images(a) => a.run(ctx),
        Command::Import(a) => a.run(ctx),
        Command::Info(a) => a.run(ctx),
        Command::Inspect(a) => a.run(ctx),
        Command::Load(a) => a.run(ctx),
        Command::Ps(a) => a.run(ctx),
        Command::Rm(a) => a.run(ctx),
        Command::Rmi(a) => a.run(ctx),
        Command::Save(a) => a.run(ctx),
        Command::Tag(a) => a.run(ctx),
        Command::Untag(a) => a.run(ctx),
        Command::Version(a) => a.run(ctx),
    }
}
