//! `push`: an image to a registry.

use super::registry_flags::RegistryFlags;
use crate::cli::Context;
use clap::Args;
use pkg::registry::push::{self, PushOptions};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie push imageID docker://registry.example.com/repository:tag\n  selkie push --tls-verify=false localhost/myimage localhost:5000/myimage:1"
)]
pub struct PushArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// Suppress output information when pushing images
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the digest of the pushed image to the specified file
    #[arg(long, value_name = "FILE")]
    pub digestfile: Option<std::path::PathBuf>,
    /// Manifest type to push (accepted; the stored manifest is pushed as it is)
    #[arg(short, long)]
    pub format: Option<String>,
    /// The image to push
    #[arg(add = crate::complete::images())]
    pub image: String,
    /// Where to push it (default: the image's name)
    pub destination: Option<String>,
}

impl PushArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let opts = PushOptions {
            transport: self.registry.transport()?,
            quiet: self.quiet,
        };
        let digest = push::push(&engine, &self.image, self.destination.as_deref(), &opts)?;
        if let Some(path) = &self.digestfile {
            std::fs::write(path, digest.to_string())?;
        }
        Ok(())
    }
}
