//! `import`: a filesystem tarball becomes an image.

use crate::cli::Context;
use anyhow::Context as _;
use clap::Args;
use pkg::image::import::{self, ImportOptions};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie import https://example.com/ctr.tar url-image\n  cat ctr.tar | selkie -q import --message \"importing the ctr.tar tarball\" - image-imported\n  selkie import --change CMD=/bin/sh --change WORKDIR=/tmp ctr.tar image-imported"
)]
pub struct ImportArgs {
    /// Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short, long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Suppress output
    #[arg(short, long)]
    pub quiet: bool,
    /// The tarball (a path, or - for stdin)
    #[arg(value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub path: String,
    /// Name for the new image
    #[arg(value_name = "REFERENCE")]
    pub reference: Option<String>,
}

impl ImportArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let opts = ImportOptions {
            name: self.reference.clone(),
            changes: self.changes.clone(),
            message: self.message.clone(),
        };
        let id = if self.path == "-" {
            import::import(&engine, std::io::stdin().lock(), &opts)?
        } else {
            let f = std::fs::File::open(&self.path).with_context(|| format!("opening {}", self.path))?;
            import::import(&engine, f, &opts)?
        };
        println!("{id}");
        Ok(())
    }
}
