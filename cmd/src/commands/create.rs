//! `create`: a container from an image, not started.

use super::container_flags::ContainerFlags;
use crate::cli::Context;
use anyhow::Context as _;
use clap::Args;
use pkg::container::config::CreateConfig;
use pkg::container::lifecycle;
use pkg::container::store::ContainerRecord;

#[derive(Args, Debug)]
#[command(
    trailing_var_arg = true,
    disable_help_flag = true,
    after_help = "Examples:\n  selkie create alpine ls\n  selkie create --annotation HELLO=WORLD alpine ls\n  selkie create -t -i --name myctr alpine ls"
)]
pub struct CreateArgs {
    #[command(flatten)]
    pub flags: ContainerFlags,
    /// The image (or, with --rootfs, the root filesystem directory)
    #[arg(add = crate::complete::images())]
    pub image: String,
    /// Command and arguments (default: the image's)
    #[arg(allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl CreateArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let cfg = self.flags.to_config(&self.image, &self.command, false)?;
        self.flags.pull_image(&engine, &self.image)?;
        let rec = create_container(&engine, cfg, &self.flags)?;
        println!("{}", rec.id);
        Ok(())
    }
}

/// Creates the container, honouring `--replace` and `--cidfile`.
pub fn create_container(
    engine: &pkg::Engine,
    cfg: CreateConfig,
    flags: &ContainerFlags,
) -> anyhow::Result<ContainerRecord> {
    if let Some(path) = &flags.cidfile {
        if path.exists() {
            anyhow::bail!(
                "container id file exists. Ensure another container is not using it or delete {}",
                path.display()
            );
        }
    }
    if flags.replace && !cfg.name.is_empty() {
        if let Ok(old) = lifecycle::find(engine, &cfg.name) {
            lifecycle::remove(engine, &old, true, false)?;
        }
    }
    let rec = lifecycle::create(engine, cfg)?;
    if let Some(path) = &flags.cidfile {
        if let Err(e) = std::fs::write(path, &rec.id).with_context(|| format!("writing {}", path.display())) {
            let _ = lifecycle::remove(engine, &rec, true, true);
            return Err(e);
        }
    }
    Ok(rec)
}
