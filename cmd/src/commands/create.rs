//! `create`: a container record from a local image (the runtime flags arrive with `run`).

use crate::cli::Context;
use clap::Args;
use pkg::container::create::{self, CreateOptions};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie create alpine ls\n  selkie create --name web --label app=web busybox httpd -f"
)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set metadata on a container (key=value)
    #[arg(short, long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// The image to create the container from
    pub image: String,
    /// Command and arguments (default: the image's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

impl CreateArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let labels = self
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect();
        let entrypoint = self
            .entrypoint
            .as_ref()
            .map(|e| match serde_json::from_str::<Vec<String>>(e) {
                Ok(v) => v,
                Err(_) => vec![e.clone()],
            });
        let opts = CreateOptions {
            image: self.image,
            name: self.name,
            command: self.command,
            entrypoint,
            labels,
        };
        let rec = create::create(&engine, &opts)?;
        println!("{}", rec.id);
        Ok(())
    }
}
