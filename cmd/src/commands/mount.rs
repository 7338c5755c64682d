//! `mount` / `unmount`: a container's root filesystem mounted on the host, and unmounted again.

use crate::cli::Context;
use crate::complete::{self, State};
use crate::exit::{Exit, ENGINE_ERROR};
use clap::Args;
use pkg::container::{lifecycle, mount, store};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie mount\n  selkie mount ctrID\n  selkie mount --format json")]
pub struct MountArgs {
    /// Output format: json lists the mounted containers as JSON
    #[arg(long)]
    pub format: Option<String>,
    /// Print the full container IDs (the default; kept for compatibility)
    #[arg(long)]
    pub no_trunc: bool,
    /// Containers to mount; none lists the mounted ones
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Any))]
    pub containers: Vec<String>,
}

impl MountArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if self.containers.is_empty() {
            let mounted = mount::list(&engine)?;
            if self.format.as_deref() == Some("json") {
                let names: std::collections::HashMap<String, String> = store::read(&engine.store)?
                    .containers
                    .into_iter()
                    .map(|c| (c.id, c.name))
                    .collect();
                let v: Vec<serde_json::Value> = mounted
                    .iter()
                    .map(|(id, path)| {
                        serde_json::json!({
                            "id": id,
                            "Names": [names.get(id).cloned().unwrap_or_default()],
                            "mountpoint": path,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (id, path) in mounted {
                    println!("{id} {}", path.display());
                }
            }
            return Ok(());
        }
        let mut out = String::new();
        for name in &self.containers {
            let rec = lifecycle::find(&engine, name)?;
            let path = mount::mount(&engine, &rec)?;
            out.push_str(&format!("{}\n", path.display()));
        }
        print!("{out}");
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie unmount ctrID\n  selkie umount ctrID1 ctrID2\n  selkie unmount --all"
)]
pub struct UnmountArgs {
    /// Unmount all mounted containers
    #[arg(short, long)]
    pub all: bool,
    /// Detach the mount even while files in it are in use
    #[arg(short, long)]
    pub force: bool,
    /// Containers to unmount
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Any))]
    pub containers: Vec<String>,
}

impl UnmountArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.containers.is_empty() && !self.all {
            return Err(Exit::usage("at least one container name or ID must be specified").into());
        }
        let engine = ctx.engine()?;
        let targets: Vec<String> = if self.all {
            mount::list(&engine)?.into_iter().map(|(id, _)| id).collect()
        } else {
            self.containers.clone()
        };
        let mut out = String::new();
        let mut first_error: Option<String> = None;
        for name in targets {
            let result = lifecycle::find(&engine, &name).and_then(|rec| {
                mount::unmount(&engine, &rec, self.force)?;
                Ok(rec.id)
            });
            match result {
                Ok(id) => out.push_str(&format!("{id}\n")),
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                }
            }
        }
        match first_error {
            None => {
                print!("{out}");
                Ok(())
            }
            Some(msg) => Err(Exit {
                code: ENGINE_ERROR,
                message: Some(msg),
                stdout: Some(out),
            }
            .into()),
        }
    }
}
