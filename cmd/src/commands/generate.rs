//! `generate systemd`: print (or, with `--files`, write) a systemd service unit for a container.
//! The unit text comes from `pkg::systemd::units`.

use crate::cli::Context;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use pkg::systemd::units::{self, UnitOptions};

#[derive(Subcommand, Debug)]
pub enum GenerateCommand {
    /// Generate systemd units
    Systemd(SystemdArgs),
}

impl GenerateCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            GenerateCommand::Systemd(a) => a.run(ctx),
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie generate systemd CTR\n  selkie generate systemd --new --time 10 CTR\n  selkie generate systemd --files --name CTR"
)]
pub struct SystemdArgs {
    /// Add (weak) requirement dependencies to the generated unit file
    #[arg(long, value_name = "UNIT")]
    pub wants: Vec<String>,
    /// Add dependencies order to the generated unit file
    #[arg(long, value_name = "UNIT")]
    pub after: Vec<String>,
    /// Similar to wants, but declares stronger requirement dependencies
    #[arg(long, value_name = "UNIT")]
    pub requires: Vec<String>,
    /// Systemd unit name prefix for containers
    #[arg(long, default_value = "container")]
    pub container_prefix: String,
    /// Set environment variables to the systemd unit files
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Generate .service files instead of printing to stdout
    #[arg(short, long)]
    pub files: bool,
    /// Print the created units in specified format (json)
    #[arg(long)]
    pub format: Option<String>,
    /// Use container/pod names instead of IDs
    #[arg(short, long)]
    pub name: bool,
    /// Create a new container or pod instead of starting an existing one
    #[arg(long)]
    pub new: bool,
    /// Skip header generation
    #[arg(long)]
    pub no_header: bool,
    /// Systemd restart-policy
    #[arg(long, value_parser = units::RESTART_POLICIES.to_vec())]
    pub restart_policy: Option<String>,
    /// Systemd restart-sec
    #[arg(long, value_name = "SECONDS")]
    pub restart_sec: Option<u32>,
    /// Systemd unit name separator between name/id and prefix
    #[arg(long, default_value = "-")]
    pub separator: String,
    /// Start timeout override
    #[arg(long, value_name = "SECONDS")]
    pub start_timeout: Option<u32>,
    /// Stop timeout override
    #[arg(
        short = 't',
        long = "stop-timeout",
        visible_alias = "time",
        value_name = "SECONDS"
    )]
    pub stop_timeout: Option<u32>,
    /// The container
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub container: String,
}

impl SystemdArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let json = match self.format.as_deref() {
            None | Some("") => false,
            Some("json") => true,
            Some(other) => anyhow::bail!("unknown --format argument: {other}"),
        };
        let engine = ctx.engine()?;
        let executable = std::env::current_exe().context("locating the selkie binary")?;
        let opts = UnitOptions {
            new: self.new,
            use_name: self.name,
            restart_policy: self.restart_policy,
            restart_sec: self.restart_sec,
            start_timeout: self.start_timeout,
            stop_timeout: self.stop_timeout,
            container_prefix: self.container_prefix,
            separator: self.separator,
            no_header: self.no_header,
            wants: self.wants,
            after: self.after,
            requires: self.requires,
            env: self.env.iter().filter_map(|e| environment(e)).collect(),
            executable: executable.display().to_string(),
            global_args: store_flags(ctx),
        };
        let unit = units::container_unit(&engine, &self.container, &opts)?;
        let mut output = unit.content;
        if self.files {
            let cwd = std::env::current_dir().context("getting current working directory")?;
            let path = cwd.join(format!("{}.service", unit.service_name));
            std::fs::write(&path, &output).with_context(|| format!("writing {}", path.display()))?;
            output = path.display().to_string();
        }
        if json {
            let map = serde_json::json!({ unit.service_name: output });
            println!("{}", serde_json::to_string_pretty(&map)?);
        } else if self.files {
            println!("{output}");
        } else {
            print!("{output}");
        }
        Ok(())
    }
}

/// `KEY=VALUE` as given, `KEY` from this process's environment (dropped when unset).
fn environment(spec: &str) -> Option<String> {
    if spec.contains('=') {
        return Some(spec.to_string());
    }
    std::env::var(spec).ok().map(|v| format!("{spec}={v}"))
}

/// The store flags this command was given, for the unit's commands to use the same store.
fn store_flags(ctx: &Context) -> Vec<String> {
    let o = &ctx.overrides;
    let mut args = vec![];
    for (flag, value) in [
        ("--root", o.root.as_ref().map(|p| p.display().to_string())),
        ("--runroot", o.runroot.as_ref().map(|p| p.display().to_string())),
        ("--storage-driver", o.driver.clone()),
    ] {
        if let Some(v) = value {
            args.push(flag.to_string());
            args.push(v);
        }
    }
    args
}
