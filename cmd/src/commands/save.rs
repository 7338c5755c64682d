//! `save`: images to a docker-archive or oci-archive, written atomically to a file or to stdout.

use crate::cli::Context;
use clap::Args;
use pkg::image::save::{self, ArchiveFormat};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie save --quiet -o myrepository.tar fedora\n  selkie save --format oci-archive -o oci-alpine.tar alpine\n  selkie save alpine > myalpine.tar"
)]
pub struct SaveArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Save image to docker-archive or oci-archive
    #[arg(long, default_value = "docker-archive", add = crate::complete::archive_formats())]
    pub format: String,
    /// Suppress the output
    #[arg(short, long)]
    pub quiet: bool,
    /// Interpret additional arguments as images not tags and create a multi-image-archive
    #[arg(short, long)]
    pub multi_image_archive: bool,
    /// Compress tarball image layers (accepted for compatibility; layers are written uncompressed)
    #[arg(long)]
    pub compress: bool,
    /// Images to save
    #[arg(required = true, value_name = "IMAGE", add = crate::complete::images())]
    pub images: Vec<String>,
}

impl SaveArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let format: ArchiveFormat = self.format.parse()?;
        let engine = ctx.engine()?;
        crate::output::write_archive(self.output.as_deref(), "save", |out| {
            Ok(save::save(&engine, &self.images, format, out)?)
        })
    }
}
