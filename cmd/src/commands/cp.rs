//! `cp`: copy files between a container and the host, or a tar stream (`-`).

use crate::cli::Context;
use clap::{ArgAction, Args};
use pkg::container::cp::{self, CopyOptions};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie cp /myapp/app.conf containerID:/myapp/app.conf\n  selkie cp /home/myuser/myfiles.tar containerID:/tmp\n  selkie cp containerID:/myapp/ /myapp/\n  selkie cp containerID:/home/myuser/. /home/myuser/\n  selkie cp containerID:/myapp - > myapp.tar\n  selkie cp - containerID:/myapp < myapp.tar"
)]
pub struct CpArgs {
    /// Chown copied files to the primary uid/gid of the destination container (or of the caller on the host)
    #[arg(short, long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub archive: bool,
    /// Allow to overwrite directories with non-directories and vice versa
    #[arg(long)]
    pub overwrite: bool,
    /// Source: [CONTAINER:]SRC_PATH, or - for a tar stream on stdin
    #[arg(value_name = "SRC_PATH", add = crate::complete::container_or_local_paths())]
    pub src: String,
    /// Destination: [CONTAINER:]DEST_PATH, or - for a tar stream on stdout
    #[arg(value_name = "DEST_PATH", add = crate::complete::container_or_local_paths())]
    pub dest: String,
}

impl CpArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let src = cp::parse_location(&engine, &self.src)?;
        let dest = cp::parse_location(&engine, &self.dest)?;
        let opts = CopyOptions {
            archive: self.archive,
            overwrite: self.overwrite,
        };
        cp::copy(&engine, &src, &dest, opts)?;
        Ok(())
    }
}
