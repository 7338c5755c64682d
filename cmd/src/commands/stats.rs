//! `stats`: CPU, memory, network and block I/O and PIDs of containers, once (`--no-stream`) or every
//! `--interval` seconds.

use crate::cli::Context;
use crate::complete::{self, State};
use crate::exit::Exit;
use crate::output;
use clap::Args;
use pkg::container::stats::{ContainerStats, Sampler};
use pkg::container::store::ContainerRecord;
use pkg::container::top::go_duration;
use pkg::container::{lifecycle, store};
use pkg::format::units::{binary_size, decimal_size};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};

const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}";
const HEADERS: &[(&str, &str)] = &[
    ("ID", "ID"),
    ("UpTime", "CPU TIME"),
    ("CPUPerc", "CPU %"),
    ("AVGCPU", "Avg CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemUsageBytes", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET IO"),
    ("BlockIO", "BLOCK IO"),
    ("PIDS", "PIDS"),
];

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie stats --all --no-stream\n  selkie stats ctrID\n  selkie stats --no-stream --format \"table {{.ID}} {{.Name}} {{.MemUsage}}\" ctrID"
)]
pub struct StatsArgs {
    /// Show all containers (the default when none is named)
    #[arg(short, long)]
    pub all: bool,
    /// Pretty-print container statistics to JSON or using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Time in seconds between stats reports
    #[arg(short, long, default_value_t = 5)]
    pub interval: u64,
    /// Disable resetting the screen between intervals
    #[arg(long)]
    pub no_reset: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Containers to show
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Running))]
    pub containers: Vec<String>,
}

impl StatsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.all && !self.containers.is_empty() {
            return Err(Exit::usage("--all, --latest and containers cannot be used together").into());
        }
        if self.interval == 0 {
            return Err(Exit::usage("stats requires an interval greater than 0").into());
        }
        let engine = ctx.engine()?;
        let mut sampler = Sampler::new();
        let clear = !self.no_reset && std::io::stdout().is_terminal();
        loop {
            let reports = self.sample(&engine, &mut sampler)?;
            if clear {
                print!("\x1b[2J\x1b[1;1H");
            }
            self.print(&reports)?;
            std::io::stdout().flush()?;
            if self.no_stream {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_secs(self.interval));
        }
    }

    /// The named containers, or all of them (Podman 4 lists every container when none is named).
    fn sample(&self, engine: &pkg::Engine, sampler: &mut Sampler) -> anyhow::Result<Vec<ContainerStats>> {
        let named = !self.containers.is_empty();
        let records: Vec<ContainerRecord> = if named {
            self.containers
                .iter()
                .map(|n| lifecycle::find(engine, n))
                .collect::<pkg::Result<_>>()?
        } else {
            store::read(&engine.store)?.containers
        };
        let mut out = vec![];
        for rec in &records {
            match sampler.sample(engine, rec) {
                Ok(s) => out.push(s),
                // A container that went away or has no cgroup is skipped unless it was named.
                Err(_) if !named => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    fn print(&self, reports: &[ContainerStats]) -> anyhow::Result<()> {
        if self.format.as_deref().is_some_and(pkg::format::is_json) {
            return print_json(reports, self.no_trunc);
        }
        output::list(
            self.format.as_deref(),
            DEFAULT_TABLE,
            false,
            HEADERS,
            || reports.iter().map(|s| template_row(s, self.no_trunc)).collect(),
            Vec::new,
        )
    }
}

fn short_id(s: &ContainerStats, no_trunc: bool) -> String {
    if no_trunc {
        s.id.clone()
    } else {
        s.id.chars().take(12).collect()
    }
}

/// Podman's `%.2f%`.
fn percent(f: f64) -> String {
    if f.is_finite() {
        format!("{f:.2}%")
    } else {
        "--".into()
    }
}

fn pair(a: u64, b: u64, unit: fn(f64) -> String) -> String {
    format!("{} / {}", unit(a as f64), unit(b as f64))
}

/// The fields a `--format` template can read: Podman's `define.ContainerStats` and its methods.
fn template_row(s: &ContainerStats, no_trunc: bool) -> Value {
    let cpu_time = go_duration(s.cpu_time());
    json!({
        "ID": short_id(s, no_trunc),
        "ContainerID": s.id,
        "Name": s.name,
        "CPU": s.cpu_percent,
        "CPUPerc": percent(s.cpu_percent),
        "AvgCPU": s.avg_cpu,
        "AVGCPU": percent(s.avg_cpu),
        "CPUNano": s.cpu_ns,
        "SystemNano": s.system_ns,
        "UpTime": cpu_time,
        "Up": cpu_time,
        "Duration": s.cpu_ns,
        "MemUsage": pair(s.mem_usage, s.mem_limit, decimal_size),
        "MemUsageBytes": pair(s.mem_usage, s.mem_limit, binary_size),
        "MemLimit": s.mem_limit,
        "MemPerc": percent(s.mem_percent),
        "NetIO": pair(s.net_input, s.net_output, decimal_size),
        "NetInput": s.net_input,
        "NetOutput": s.net_output,
        "BlockIO": pair(s.block_input, s.block_output, decimal_size),
        "BlockInput": s.block_input,
        "BlockOutput": s.block_output,
        "PIDS": s.pids.to_string(),
        "PIDs": s.pids,
    })
}

/// `--format json`: Podman's own field names and order, indented by one space.
fn print_json(reports: &[ContainerStats], no_trunc: bool) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct JsonStat {
        id: String,
        name: String,
        cpu_time: String,
        cpu_percent: String,
        avg_cpu: String,
        mem_usage: String,
        mem_percent: String,
        net_io: String,
        block_io: String,
        pids: String,
    }
    let rows: Vec<JsonStat> = reports
        .iter()
        .map(|s| JsonStat {
            id: short_id(s, no_trunc),
            name: s.name.clone(),
            cpu_time: go_duration(s.cpu_time()),
            cpu_percent: percent(s.cpu_percent),
            avg_cpu: percent(s.avg_cpu),
            mem_usage: pair(s.mem_usage, s.mem_limit, decimal_size),
            mem_percent: percent(s.mem_percent),
            net_io: pair(s.net_input, s.net_output, decimal_size),
            block_io: pair(s.block_input, s.block_output, decimal_size),
            pids: s.pids.to_string(),
        })
        .collect();
    let mut buf = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b" "));
    rows.serialize(&mut ser)?;
    println!("{}", String::from_utf8(buf)?);
    Ok(())
}
