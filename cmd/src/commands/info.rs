//! `info`.

use crate::cli::Context;
use crate::output;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie info\n  selkie info --format json\n  selkie info --format \"{{.Store.GraphRoot}}\""
)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    /// Show additional information
    #[arg(short = 'D', long)]
    pub debug: bool,
}

impl InfoArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let info = pkg::system::info(&engine, pkg::container::list::counts(&engine)?);
        match self.format.as_deref() {
            Some(f) if f.eq_ignore_ascii_case("json") => output::inspect_one(f, &info),
            Some(f) => output::inspect_one(f, &pkg::system::go_field_names(&info)),
            None => {
                print!("{}", output::yaml(&info));
                Ok(())
            }
        }
    }
}
