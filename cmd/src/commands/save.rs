//! `save`: images to a docker-archive or oci-archive, written atomically to a file or to stdout.

use crate::cli::Context;
use crate::exit::Exit;
use anyhow::Context as _;
use clap::Args;
use pkg::image::save::{self, ArchiveFormat};
use std::io::{IsTerminal, Write};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie save --quiet -o myrepository.tar fedora\n  selkie save --format oci-archive -o oci-alpine.tar alpine\n  selkie save alpine > myalpine.tar"
)]
pub struct SaveArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Save image to docker-archive or oci-archive
    #[arg(long, default_value = "docker-archive")]
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
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

impl SaveArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let format: ArchiveFormat = self.format.parse()?;
        let engine = ctx.engine()?;
        match &self.output {
            Some(path) => {
                // Write beside the target and rename, so a failed save never leaves a truncated archive.
                let tmp = image_store::atomic::temp_sibling(path);
                let result = (|| -> anyhow::Result<()> {
                    let f = std::fs::File::create(&tmp)
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
                    save::save(&engine, &self.images, format, &mut w)?;
                    let f = w.into_inner().map_err(|e| e.into_error())?;
                    f.sync_all()?;
                    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
                    Ok(())
                })();
                if result.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                result
            }
            None => {
                if std::io::stdout().is_terminal() {
                    return Err(Exit::usage("refusing to save to terminal. Use -o flag or redirect").into());
                }
                let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
                save::save(&engine, &self.images, format, &mut out)?;
                out.flush()?;
                Ok(())
            }
        }
    }
}
