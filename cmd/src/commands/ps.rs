//! `ps`: list containers.

use crate::cli::Context;
use crate::output;
use clap::Args;
use pkg::container::{list, store};

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Created", "CREATED"),
    ("CreatedHuman", "CREATED"),
];

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie ps -a\n  selkie ps -a --format \"{{.ID}}  {{.Image}}  {{.Labels}}  {{.Mounts}}\"\n  selkie ps --size --sort names"
)]
pub struct PsArgs {
    /// Show all the containers, default is only running containers
    #[arg(short, long)]
    pub all: bool,
    /// Pretty-print containers to JSON or using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Display the extended information
    #[arg(long)]
    pub no_trunc: bool,
    /// Print the numeric IDs of the containers only
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the latest container created (all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Print the n last created containers (all states)
    #[arg(short = 'n', long, default_value_t = -1)]
    pub last: i64,
}

impl PsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let db = store::read(&engine.store)?;
        // Nothing runs yet: every container is in the created state, which only --all shows.
        let mut shown: Vec<_> = db
            .containers
            .iter()
            .filter(|_| self.all || self.latest || self.last >= 0)
            .collect();
        shown.sort_by_key(|c| std::cmp::Reverse(c.created));
        let keep = if self.latest {
            1
        } else if self.last >= 0 {
            self.last as usize
        } else {
            usize::MAX
        };
        shown.truncate(keep);
        if self.quiet {
            for c in shown {
                println!("{}", if self.no_trunc { &c.id[..] } else { &c.id[..12] });
            }
            return Ok(());
        }
        output::list(
            self.format.as_deref(),
            DEFAULT_TABLE,
            self.noheading,
            HEADERS,
            || list::template_rows(&shown, self.no_trunc),
            || list::json_rows(&shown),
        )
    }
}
