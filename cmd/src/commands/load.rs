//! `load`: images from a docker-archive or oci-archive, from a file or stdin.

use crate::cli::Context;
use crate::exit::Exit;
use anyhow::Context as _;
use clap::Args;
use std::io::IsTerminal;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie load -i fedora.tar\n  selkie load -q -i https-image.tar.gz\n  cat fedora.tar | selkie load"
)]
pub struct LoadArgs {
    /// Read from specified archive file (default: stdin)
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<std::path::PathBuf>,
    /// Suppress the output
    #[arg(short, long)]
    pub quiet: bool,
}

impl LoadArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let names = match &self.input {
            Some(path) => {
                let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
                pkg::image::load::load(&engine, f)?
            }
            None => {
                if std::io::stdin().is_terminal() {
                    return Err(Exit::usage(
                        "cannot read from terminal, use command-line redirection or the --input flag",
                    )
                    .into());
                }
                pkg::image::load::load(&engine, std::io::stdin().lock())?
            }
        };
        for n in names {
            println!("Loaded image: {n}");
        }
        Ok(())
    }
}
