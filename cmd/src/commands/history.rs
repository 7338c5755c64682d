//! `history`.

use crate::cli::Context;
use crate::output;
use clap::Args;
use pkg::image::history;

const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie history quay.io/fedora/fedora\n  selkie history --no-trunc imageID\n  selkie history --format json fedora"
)]
pub struct HistoryArgs {
    /// Change the output to JSON or a Go template
    #[arg(long, add = crate::complete::history_format())]
    pub format: Option<String>,
    /// Display sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true)]
    pub human: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Display the numeric IDs only
    #[arg(short, long)]
    pub quiet: bool,
    /// The image
    #[arg(add = crate::complete::images())]
    pub image: String,
}

impl HistoryArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let db = engine.store.images()?;
        let img = pkg::image::lookup::find(&db, &self.image)?;
        let entries = history::history(&engine, img)?;
        if self.quiet {
            for e in &entries {
                let id = if self.no_trunc || e.id.len() < 12 {
                    e.id.as_str()
                } else {
                    &e.id[..12]
                };
                println!("{id}");
            }
            return Ok(());
        }
        output::list(
            self.format.as_deref(),
            DEFAULT_TABLE,
            false,
            &[("CreatedBy", "CREATED BY")],
            || history::template_rows(&entries, self.no_trunc),
            || history::json_rows(&entries),
        )
    }
}
