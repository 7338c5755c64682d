//! `export`: a container's root filesystem as a tar archive.

use crate::cli::Context;
use crate::complete::{self, State};
use clap::Args;
use pkg::container::{export, lifecycle};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie export ctrID > myCtr.tar\n  selkie export --output=\"myCtr.tar\" ctrID"
)]
pub struct ExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// The container
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Any))]
    pub container: String,
}

impl ExportArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        crate::output::write_archive(self.output.as_deref(), "export", |out| {
            Ok(export::export(&engine, &rec, out)?)
        })
    }
}
