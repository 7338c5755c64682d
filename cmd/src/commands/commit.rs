//! `commit`: a new image from a container's changes.

use crate::cli::Context;
use crate::complete::{self, State};
use crate::exit::Exit;
use clap::Args;
use pkg::container::commit::{self, CommitOptions};
use pkg::container::lifecycle;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie commit -q --message \"committing container to image\" reverent_golick image-committed\n  selkie commit -q --author \"firstName lastName\" reverent_golick image-committed\n  selkie commit -q --pause=false containerID image-committed\n  selkie commit --change CMD=/bin/bash --change ENTRYPOINT=[] containerID image-committed"
)]
pub struct CommitArgs {
    /// Set the author for the image committed
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short, long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,
    /// Format of the image manifest and metadata (oci or docker; stored locally as OCI)
    #[arg(short, long, default_value = "oci")]
    pub format: String,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short, long, action = clap::ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub pause: bool,
    /// Suppress output
    #[arg(short, long)]
    pub quiet: bool,
    /// The container
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Any))]
    pub container: String,
    /// Name of the new image
    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,
}

impl CommitArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if !matches!(self.format.as_str(), "oci" | "docker") {
            return Err(Exit::usage(format!(
                "unrecognized image type {:?}: must be oci or docker",
                self.format
            ))
            .into());
        }
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        let opts = CommitOptions {
            name: self.image.clone(),
            author: self.author.clone(),
            message: self.message.clone(),
            changes: self.changes.clone(),
            pause: self.pause,
        };
        let id = commit::commit(&engine, &rec, &opts)?;
        println!("{}", id.hex());
        Ok(())
    }
}
