//! `volume`: the volume command group (create, exists, inspect, ls, prune, rm), Podman 4's flags,
//! outputs and exit codes. Each verb parses its flags and calls `pkg::volume`.

use crate::cli::Context;
use crate::exit::{Exit, ENGINE_ERROR};
use crate::output;
use clap::{Args, Subcommand};
use pkg::format::JsonStyle;
use pkg::volume::filter::Filters;
use pkg::volume::{self, rows, NotRemoved, VolumeRecord};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a new volume
    Create(CreateArgs),
    /// Volume exists
    Exists(ExistsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove all unused volumes
    Prune(PruneArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

impl VolumeCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            VolumeCommand::Create(a) => a.run(ctx),
            VolumeCommand::Exists(a) => a.run(ctx),
            VolumeCommand::Inspect(a) => a.run(ctx),
            VolumeCommand::Ls(a) => a.run(ctx),
            VolumeCommand::Prune(a) => a.run(ctx),
            VolumeCommand::Rm(a) => a.run(ctx),
        }
    }
}

/// `KEY=VALUE` or `KEY` (an empty value), as Podman's `GetAllLabels`.
fn key_values(
    specs: &[String],
    parse: impl Fn(&str) -> pkg::Result<(String, String)>,
) -> anyhow::Result<BTreeMap<String, String>> {
    specs.iter().map(|s| Ok(parse(s)?)).collect()
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie volume create myvol\n  selkie volume create\n  selkie volume create --label foo=bar myvol\n  selkie volume create --opt o=uid=1000,gid=1000 owned"
)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Do not fail if the named volume already exists; print its name
    #[arg(long)]
    pub ignore: bool,
    /// Set metadata for a volume (e.g., --label mykey=value)
    #[arg(short, long = "label", value_name = "LABEL", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Set driver specific options (e.g., --opt o=uid=1000)
    #[arg(short, long = "opt", value_name = "OPTION")]
    pub opts: Vec<String>,
    /// Name of the volume (random when not given)
    pub name: Option<String>,
}

impl CreateArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let opts = volume::CreateOptions {
            name: self.name,
            driver: Some(self.driver),
            labels: key_values(&self.labels, pkg::container::parse::parse_label)?,
            options: key_values(&self.opts, |s| {
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                Ok((k.to_string(), v.to_string()))
            })?,
            ignore_existing: self.ignore,
            anonymous: false,
        };
        let engine = ctx.engine()?;
        println!("{}", volume::create(&engine, &opts)?.name);
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie volume exists myvol")]
pub struct ExistsArgs {
    /// The volume to look for (its full name)
    #[arg(value_name = "VOLUME", add = crate::complete::volumes())]
    pub name: String,
}

impl ExistsArgs {
    /// Exit 0 when the volume exists, 1 when it does not.
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if volume::exists(&engine, &self.name)? {
            Ok(())
        } else {
            Err(Exit::silent(1).into())
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie volume inspect myvol\n  selkie volume inspect --all\n  selkie volume inspect --format \"{{.Driver}} {{.Scope}}\" myvol"
)]
pub struct InspectArgs {
    /// Inspect all volumes
    #[arg(short, long)]
    pub all: bool,
    /// Format volume output using Go template
    #[arg(short, long, default_value = "json")]
    pub format: String,
    /// Volumes to inspect (full names or unique prefixes)
    #[arg(value_name = "VOLUME", add = crate::complete::volumes())]
    pub names: Vec<String>,
}

impl InspectArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        // Exactly one of --all and names.
        if self.all != self.names.is_empty() {
            return Err(Exit::usage("provide one or more volume names or use --all").into());
        }
        let engine = ctx.engine()?;
        let mut found: Vec<VolumeRecord> = vec![];
        let mut missing: Vec<String> = vec![];
        if self.all {
            found = volume::list(&engine)?;
        }
        for n in &self.names {
            match volume::lookup_opt(&engine, n) {
                Ok(Some(v)) => found.push(v),
                Ok(None) => missing.push(format!("no such volume {n}")),
                Err(e) => return Err(anyhow::anyhow!("inspecting volume {n}: {e}")),
            }
        }
        let json = pkg::format::is_json(&self.format);
        let values: Vec<_> = found
            .iter()
            .map(|v| {
                if json {
                    rows::json_row(&engine, v)
                } else {
                    rows::template_row(&engine, v)
                }
            })
            .collect();
        output::inspect(Some(&self.format), &values)?;
        let Some((first, rest)) = missing.split_first() else {
            return Ok(());
        };
        for e in rest {
            eprintln!("error inspecting object: {e}");
        }
        Err(Exit::usage(format!("inspecting object: {first}")).into())
    }
}

const LS_TABLE: &str = "table {{.Driver}}\t{{.Name}}";
const LS_HEADERS: &[(&str, &str)] = &[("Name", "VOLUME NAME")];

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie volume ls\n  selkie volume ls --format json\n  selkie volume ls --format \"{{.Driver}} {{.Scope}}\"\n  selkie volume ls --filter name=foo,label=blue\n  selkie volume ls --filter label=key=value"
)]
pub struct LsArgs {
    /// Filter volume output (name, label, driver, scope, opt, dangling, until)
    #[arg(short, long = "filter", value_name = "FILTER", value_delimiter = ',', add = crate::complete::volume_filters())]
    pub filters: Vec<String>,
    /// Format volume output using JSON or a Go template
    #[arg(long, add = crate::complete::volume_format())]
    pub format: Option<String>,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Print volume output in quiet mode (names only)
    #[arg(short, long)]
    pub quiet: bool,
}

impl LsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.quiet && self.format.is_some() {
            return Err(Exit::usage("quiet and format flags cannot be used together").into());
        }
        let filters = Filters::parse(&self.filters)?;
        let engine = ctx.engine()?;
        let used = if filters.needs_users() {
            volume::used_names(&engine)?
        } else {
            Default::default()
        };
        let volumes: Vec<VolumeRecord> = volume::list(&engine)?
            .into_iter()
            .filter(|v| filters.matches(v, used.contains(&v.name)))
            .collect();
        let json = self.format.as_deref().is_some_and(pkg::format::is_json);
        if volumes.is_empty() && !json {
            return Ok(());
        }
        if self.quiet {
            for v in &volumes {
                println!("{}", v.name);
            }
            return Ok(());
        }
        output::list_styled(
            self.format.as_deref(),
            LS_TABLE,
            self.noheading,
            LS_HEADERS,
            || volumes.iter().map(|v| rows::template_row(&engine, v)).collect(),
            || volumes.iter().map(|v| rows::json_row(&engine, v)).collect(),
            JsonStyle::INDENT2,
        )
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie volume prune\n  selkie volume prune --force\n  selkie volume prune --filter label=mylabel=mylabelvalue"
)]
pub struct PruneArgs {
    /// Provide filter values (e.g. 'label=<key>=<value>')
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

impl PruneArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let filters = Filters::parse(&self.filters)?;
        let engine = ctx.engine()?;
        if !self.force && !confirm(&engine, &filters)? {
            return Ok(());
        }
        let report = volume::prune(&engine, &|v| filters.matches(v, false))?;
        print_report(&report, false)
    }
}

/// Podman's prompt: the volumes that would go, then `[y/N]` on standard input (end of input is no).
fn confirm(engine: &pkg::Engine, filters: &Filters) -> anyhow::Result<bool> {
    println!(
        "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:"
    );
    let used = volume::used_names(engine)?;
    let doomed: Vec<VolumeRecord> = volume::list(engine)?
        .into_iter()
        .filter(|v| !used.contains(&v.name) && filters.matches(v, false))
        .collect();
    if doomed.is_empty() {
        println!("No dangling volumes found");
        return Ok(false);
    }
    for v in &doomed {
        println!("{}", v.name);
    }
    print!("Are you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim_start().starts_with(['y', 'Y']))
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie volume rm myvol1 myvol2\n  selkie volume rm --all\n  selkie volume rm --force myvol"
)]
pub struct RmArgs {
    /// Remove all volumes
    #[arg(short, long)]
    pub all: bool,
    /// Remove a volume by force, even if it is being used by a container (the containers are removed)
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop before killing the container
    #[arg(short, long, value_name = "SECONDS")]
    pub time: Option<u32>,
    /// Volumes to remove (full names or unique prefixes)
    #[arg(value_name = "VOLUME", add = crate::complete::volumes())]
    pub names: Vec<String>,
}

impl RmArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        // Exactly one of --all and names.
        if self.all != self.names.is_empty() {
            return Err(Exit::usage("choose either one or more volumes or all").into());
        }
        if self.time.is_some() && !self.force {
            return Err(Exit::usage("--force option must be specified to use the --time option").into());
        }
        let engine = ctx.engine()?;
        let names = if self.all {
            volume::list(&engine)?.into_iter().map(|v| v.name).collect()
        } else {
            self.names
        };
        let report = volume::remove_many(&engine, &names, self.force)?;
        print_report(&report, self.force)
    }
}

/// Prints the names removed; failures as Podman prints them (all but the last as `Error:` lines, the
/// last as the command's error) with its exit codes: 2 when a volume is in use, else 1 when one does not
/// exist, else 125. `ignore_unknown` (`rm --force`) drops the unknown ones silently.
fn print_report(report: &volume::RemoveReport, ignore_unknown: bool) -> anyhow::Result<()> {
    let mut out = String::new();
    for name in &report.removed {
        out.push_str(name);
        out.push('\n');
    }
    let mut failures: Vec<&NotRemoved> = report
        .not_removed
        .iter()
        .filter(|f| !(ignore_unknown && matches!(f, NotRemoved::Unknown(_))))
        .collect();
    // Podman reports names it could not find before the removals that failed.
    failures.sort_by_key(|f| !matches!(f, NotRemoved::Unknown(_)));
    let Some((last, rest)) = failures.split_last() else {
        print!("{out}");
        return Ok(());
    };
    for f in rest {
        eprintln!("Error: {}", f.error());
    }
    let code = if failures.iter().any(|f| matches!(f, NotRemoved::InUse(_))) {
        2
    } else if failures.iter().any(|f| matches!(f, NotRemoved::Unknown(_))) {
        1
    } else {
        ENGINE_ERROR
    };
    Err(Exit {
        code,
        message: Some(last.error().to_string()),
        stdout: Some(out),
    }
    .into())
}
