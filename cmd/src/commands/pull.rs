//! `pull`: images from a registry.

use super::registry_flags::RegistryFlags;
use crate::cli::Context;
use clap::Args;
use pkg::registry::pull::{self, Platform, PullOptions};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie pull imageName\n  selkie pull --platform linux/arm64 fedora\n  selkie pull --tls-verify=false localhost:5000/myimage:1\n  selkie pull --creds user:pass quay.io/user/private"
)]
pub struct PullArgs {
    #[command(flatten)]
    pub registry: RegistryFlags,
    /// Specify the platform for selecting the image (os/arch[/variant])
    #[arg(long)]
    pub platform: Option<String>,
    /// Use ARCH instead of the architecture of the machine for choosing images
    #[arg(long)]
    pub arch: Option<String>,
    /// Use OS instead of the running OS for choosing images
    #[arg(long)]
    pub os: Option<String>,
    /// Use VARIANT instead of the running architecture variant for choosing images
    #[arg(long)]
    pub variant: Option<String>,
    /// Suppress output information when pulling images
    #[arg(short, long)]
    pub quiet: bool,
    /// Images to pull
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

impl PullArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let platform = if self.platform.is_some()
            || self.arch.is_some()
            || self.os.is_some()
            || self.variant.is_some()
        {
            Some(Platform::parse(
                self.platform.as_deref(),
                self.os.as_deref(),
                self.arch.as_deref(),
                self.variant.as_deref(),
            )?)
        } else {
            None
        };
        let opts = PullOptions {
            transport: self.registry.transport()?,
            platform,
            quiet: self.quiet,
        };
        for image in &self.images {
            let rec = pull::pull(&engine, image, &opts)?;
            println!("{}", rec.id.hex());
        }
        Ok(())
    }
}
