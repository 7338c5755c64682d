//! `image`: the image command group; each verb is the same command as its top-level alias.

use super::{history, images, import, inspect, load, rmi, save, tag};
use crate::cli::Context;
use crate::exit::Exit;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Check if an image exists in local storage
    Exists(ExistsArgs),
    /// Show history of a specified image
    History(history::HistoryArgs),
    /// Import a tarball to create a filesystem image
    Import(import::ImportArgs),
    /// Display the configuration of an image
    Inspect(inspect::ImageInspectArgs),
    /// Load image(s) from a tar archive
    Load(load::LoadArgs),
    /// List images in local storage
    #[command(visible_alias = "list")]
    Ls(images::ImagesArgs),
    /// Remove unused images
    Prune(rmi::PruneArgs),
    /// Remove one or more images from local storage
    Rm(rmi::RmiArgs),
    /// Save image(s) to an archive
    Save(save::SaveArgs),
    /// Add an additional name to a local image
    Tag(tag::TagArgs),
    /// Remove names from a local image
    Untag(tag::UntagArgs),
}

impl ImageCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            ImageCommand::Exists(a) => a.run(ctx),
            ImageCommand::History(a) => a.run(ctx),
            ImageCommand::Import(a) => a.run(ctx),
            ImageCommand::Inspect(a) => a.run(ctx),
            ImageCommand::Load(a) => a.run(ctx),
            ImageCommand::Ls(a) => a.run(ctx),
            ImageCommand::Prune(a) => a.run(ctx),
            ImageCommand::Rm(a) => a.run(ctx),
            ImageCommand::Save(a) => a.run(ctx),
            ImageCommand::Tag(a) => a.run(ctx),
            ImageCommand::Untag(a) => a.run(ctx),
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie image exists ID\n  selkie image exists IMAGE && echo \"IMAGE exists\""
)]
pub struct ExistsArgs {
    /// The image to look for
    #[arg(add = crate::complete::images())]
    pub image: String,
}

impl ExistsArgs {
    /// Exit 0 when the image exists, 1 when it does not, as `podman image exists`.
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let db = engine.store.images()?;
        match pkg::image::lookup::find(&db, &self.image) {
            Ok(_) => Ok(()),
            Err(pkg::Error::ImageNotKnown(_)) => Err(Exit::silent(1).into()),
            Err(e) => Err(e.into()),
        }
    }
}
