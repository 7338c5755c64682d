//! `rmi` / `image rm`, and `image prune`.

use crate::cli::Context;
use crate::exit::{Exit, ENGINE_ERROR};
use clap::Args;
use pkg::image::remove::{self, RemoveOptions};
use std::fmt::Write as _;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie rmi imageID\n  selkie rmi --force alpine\n  selkie rmi c4dfb1609ee2 93fd78260bd1 c0ed59d05ff7"
)]
pub struct RmiArgs {
    /// Remove all images
    #[arg(short, long)]
    pub all: bool,
    /// Force removal of the image and any containers using the image
    #[arg(short, long)]
    pub force: bool,
    /// Ignore errors if a specified image does not exist
    #[arg(short, long)]
    pub ignore: bool,
    /// Images to remove
    #[arg(value_name = "IMAGE", add = crate::complete::images())]
    pub images: Vec<String>,
}

impl RmiArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.images.is_empty() && !self.all {
            return Err(Exit::usage("image name or ID must be specified").into());
        }
        if self.all && !self.images.is_empty() {
            return Err(
                Exit::usage("when using the --all switch, you may not pass any images names or IDs").into(),
            );
        }
        let engine = ctx.engine()?;
        let opts = RemoveOptions {
            force: self.force,
            all: self.all,
        };
        let report = remove::remove(&engine, &self.images, &opts)?;
        print_report(&report, self.ignore)
    }
}

/// Prints `Untagged:`/`Deleted:` lines; errors become Podman's exit codes (1 unknown image, 2 conflict).
fn print_report(report: &remove::RemoveReport, ignore: bool) -> anyhow::Result<()> {
    let mut out = String::new();
    for n in &report.untagged {
        let _ = writeln!(out, "Untagged: {n}");
    }
    for d in &report.deleted {
        let _ = writeln!(out, "Deleted: {}", d.hex());
    }
    let errors: Vec<&pkg::Error> = report
        .errors
        .iter()
        .filter(|e| !(ignore && matches!(e, pkg::Error::ImageNotKnown(_))))
        .collect();
    let Some(first) = errors.first() else {
        print!("{out}");
        return Ok(());
    };
    let code = if errors.iter().any(|e| matches!(e, pkg::Error::ImageNotKnown(_))) {
        1
    } else if errors.iter().any(|e| matches!(e, pkg::Error::ImageInUse { .. })) {
        2
    } else {
        ENGINE_ERROR
    };
    let mut msg = first.to_string();
    if errors.len() > 1 {
        let _ = write!(msg, " (and {} more errors)", errors.len() - 1);
    }
    Err(Exit {
        code,
        message: Some(msg),
        stdout: Some(out),
    }
    .into())
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie image prune\n  selkie image prune --all --force")]
pub struct PruneArgs {
    /// Remove all images not in use by containers, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

impl PruneArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let db = engine.store.images()?;
        let targets: Vec<String> = db
            .images
            .iter()
            .filter(|i| self.all || i.names.is_empty())
            .map(|i| i.id.to_string())
            .collect();
        let opts = RemoveOptions {
            force: true,
            all: false,
        };
        let report = remove::remove(&engine, &targets, &opts)?;
        for d in &report.deleted {
            println!("{}", d.hex());
        }
        match report.errors.into_iter().next() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}
