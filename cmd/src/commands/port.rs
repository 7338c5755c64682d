//! `port`: the ports a running container publishes, as Podman prints them.

use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie port web\n  selkie port web 80\n  selkie port --all")]
pub struct PortArgs {
    /// Display port information for all containers
    #[arg(short, long)]
    pub all: bool,
    /// The container, then optionally PRIVATE_PORT[/PROTO]
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub args: Vec<String>,
}

impl PortArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if self.all {
            for rec in pkg::container::store::read(&engine.store)?.containers {
                if let Some(a) = pkg::network::attach::read(&engine, &rec.id) {
                    for m in a.ports() {
                        for line in pkg::network::ports::describe(m) {
                            println!("{} {line}", &rec.id[..12]);
                        }
                    }
                }
            }
            return Ok(());
        }
        let (container, filter) = match self.args.as_slice() {
            [c] => (c, None),
            [c, p] => (c, Some(p.clone())),
            _ => return Err(Exit::usage("you must supply a running container name or ID").into()),
        };
        let rec = pkg::container::lifecycle::find(&engine, container)?;
        let ports = pkg::network::attach::read(&engine, &rec.id)
            .map(|a| a.ports().to_vec())
            .unwrap_or_default();
        let lines: Vec<String> = ports.iter().flat_map(pkg::network::ports::describe).collect();
        match filter {
            None => lines.iter().for_each(|l| println!("{l}")),
            Some(p) => {
                let want = if p.contains('/') { p } else { format!("{p}/tcp") };
                let hit = lines.iter().find_map(|l| l.strip_prefix(&format!("{want} -> ")));
                match hit {
                    Some(h) => println!("{h}"),
                    None => anyhow::bail!("failed to find published port {want:?}"),
                }
            }
        }
        Ok(())
    }
}
