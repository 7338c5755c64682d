//! `diff`: the files a container added (A), changed (C) and deleted (D).

use crate::cli::Context;
use crate::complete::{self, State};
use clap::Args;
use pkg::container::{diff, lifecycle};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie diff ctrID\n  selkie container diff --format json ctrID")]
pub struct DiffArgs {
    /// Change the output format (json)
    #[arg(long)]
    pub format: Option<String>,
    /// Act on the latest container (not supported: name the container)
    #[arg(short, long, hide = true)]
    pub latest: bool,
    /// The container
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Any))]
    pub container: String,
}

impl DiffArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        let changes = diff::changes(&engine, &rec)?;
        match self.format.as_deref() {
            Some("json") => println!("{}", serde_json::to_string_pretty(&diff::to_json(&changes))?),
            None | Some("") => {
                let mut out = String::new();
                for c in &changes {
                    out.push(c.kind.letter());
                    out.push(' ');
                    out.push_str(&c.path);
                    out.push('\n');
                }
                print!("{out}");
            }
            Some(other) => {
                return Err(crate::exit::Exit::usage(format!(
                    "unsupported format {other:?}: only json is supported"
                ))
                .into())
            }
        }
        Ok(())
    }
}
