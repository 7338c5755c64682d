//! `ps`: list containers.

use crate::cli::Context;
use crate::output;
use clap::Args;
use pkg::container::list::{self, ListOptions};

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
    /// Filter output based on conditions given (id, name, status, ancestor, label, exited)
    #[arg(short, long = "filter", value_name = "FILTER", add = crate::complete::container_filters())]
    pub filters: Vec<String>,
    /// Pretty-print containers to JSON or using a Go template
    #[arg(long, add = crate::complete::container_format())]
    pub format: Option<String>,
    /// Print the n last created containers (all states)
    #[arg(short = 'n', long)]
    pub last: Option<usize>,
    /// Show the latest container created (all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Display the extended information
    #[arg(long)]
    pub no_trunc: bool,
    /// Print the numeric IDs of the containers only
    #[arg(short, long)]
    pub quiet: bool,
    /// Display the total file sizes
    #[arg(short, long)]
    pub size: bool,
    /// Sort output by: command, created, id, image, names, runningfor, size, status
    #[arg(long, default_value = "created")]
    pub sort: String,
}

impl PsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let opts = ListOptions {
            all: self.all,
            filters: self.filters.clone(),
            last: if self.latest { Some(1) } else { self.last },
            sort: self.sort.clone(),
            size: self.size,
        };
        let rows = list::list(&engine, &opts)?;
        if self.quiet {
            for c in &rows {
                println!(
                    "{}",
                    if self.no_trunc {
                        &c.record.id[..]
                    } else {
                        &c.record.id[..12]
                    }
                );
            }
            return Ok(());
        }
        let default = if self.size {
            format!("{DEFAULT_TABLE}\t{{{{.Size}}}}")
        } else {
            DEFAULT_TABLE.to_string()
        };
        output::list_styled(
            self.format.as_deref(),
            &default,
            self.noheading,
            HEADERS,
            || list::template_rows(&rows, self.no_trunc),
            || list::json_rows(&rows),
            pkg::format::JsonStyle::INDENT2,
        )
    }
}
