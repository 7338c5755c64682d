//! `images` / `image ls`.

use crate::cli::Context;
use crate::output;
use clap::Args;
use pkg::image::list::{self, ListOptions};

const DEFAULT_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}";
const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Created", "CREATED"),
    ("CreatedSince", "CREATED"),
];

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie images --format json\n  selkie images --sort repository --format \"table {{.ID}} {{.Repository}} {{.Tag}}\"\n  selkie images --filter dangling=true"
)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    pub all: bool,
    /// Filter output based on conditions provided (reference, dangling, label, id)
    #[arg(short, long = "filter", value_name = "FILTER", add = crate::complete::image_filters())]
    pub filters: Vec<String>,
    /// Change the output format to JSON or a Go template
    #[arg(long, add = crate::complete::image_format())]
    pub format: Option<String>,
    /// Do not print column headings
    #[arg(short = 'n', long)]
    pub noheading: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Display only image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Sort by created, id, repository, size or tag
    #[arg(long, default_value = "created")]
    pub sort: String,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Optional image name to list (a reference filter)
    #[arg(add = crate::complete::images())]
    pub image: Option<String>,
}

impl ImagesArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let mut filters = self.filters.clone();
        if let Some(name) = &self.image {
            filters.push(format!("reference={name}"));
        }
        let opts = ListOptions {
            all: self.all,
            filters,
            sort: Some(self.sort.clone()),
            // JSON and templates that name them show the labels; the default table does not.
            labels: self
                .format
                .as_deref()
                .is_some_and(|f| f.contains("Labels") || f.contains("json")),
        };
        let containers = pkg::container::store::read(&engine.store)?;
        let images = list::list(&engine, &opts, &|id| containers.users_of(id).len())?;
        if self.quiet {
            let mut seen = std::collections::HashSet::new();
            for s in &images {
                if seen.insert(s.record.id.clone()) {
                    let id = if self.no_trunc {
                        s.record.id.to_string()
                    } else {
                        s.record.id.short().to_string()
                    };
                    println!("{id}");
                }
            }
            return Ok(());
        }
        let default = if self.digests {
            "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
        } else {
            DEFAULT_TABLE
        };
        output::list(
            self.format.as_deref(),
            default,
            self.noheading,
            HEADERS,
            || list::template_rows(&images, self.no_trunc, Some(&self.sort)),
            || list::json_rows(&images),
        )
    }
}
