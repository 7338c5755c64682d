//! `tag` and `untag`.

use crate::cli::Context;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie tag 0e3bbc2 fedora:latest\n  selkie tag httpd myregistryhost:5000/fedora/httpd:v2"
)]
pub struct TagArgs {
    /// The image to tag
    #[arg(add = crate::complete::images())]
    pub image: String,
    /// New names for it
    #[arg(required = true, value_name = "TARGET_NAME")]
    pub names: Vec<String>,
}

impl TagArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        Ok(pkg::image::tag::tag(&ctx.engine()?, &self.image, &self.names)?)
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie untag 0e3bbc2\n  selkie untag imageID:latest otherImageName:latest\n  selkie untag httpd myregistryhost:5000/fedora/httpd:v2"
)]
pub struct UntagArgs {
    /// The image to untag
    #[arg(add = crate::complete::images())]
    pub image: String,
    /// Names to remove (default: all)
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

impl UntagArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        Ok(pkg::image::tag::untag(&ctx.engine()?, &self.image, &self.names)?)
    }
}
