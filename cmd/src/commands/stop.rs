//! `stop`, `kill`, `wait` and `restart`.

use super::run::start_error;
use crate::cli::Context;
use crate::exit::Exit;
use clap::Args;
use pkg::container::lifecycle;
use pkg::container::store::ContainerRecord;

/// The containers named, or all of them with `--all`.
fn targets(
    engine: &pkg::Engine,
    names: &[String],
    all: bool,
    ignore: bool,
) -> anyhow::Result<Vec<(String, ContainerRecord)>> {
    if all {
        let db = pkg::container::store::read(&engine.store)?;
        return Ok(db.containers.into_iter().map(|c| (c.name.clone(), c)).collect());
    }
    if names.is_empty() {
        return Err(Exit::usage("you must provide at least one container name or ID").into());
    }
    let mut out = vec![];
    for n in names {
        match lifecycle::find(engine, n) {
            Ok(rec) => out.push((n.clone(), rec)),
            Err(pkg::Error::ContainerNotKnown(_)) if ignore => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie stop mywebserver\n  selkie stop --time 2 mywebserver 6e534f14da9d\n  selkie stop --all"
)]
pub struct StopArgs {
    /// Stop all running containers
    #[arg(short, long)]
    pub all: bool,
    /// Ignore errors when a specified container is missing
    #[arg(short, long)]
    pub ignore: bool,
    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", visible_alias = "timeout")]
    pub time: Option<u32>,
    /// Containers to stop
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Running))]
    pub containers: Vec<String>,
}

impl StopArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        for (name, rec) in targets(&engine, &self.containers, self.all, self.ignore)? {
            // Read before stopping: a --rm container is gone once it has stopped.
            let cfg = lifecycle::config_of(&engine, &rec.id)?;
            if lifecycle::stop(&engine, &rec, self.time)? {
                eprintln!(
                    "time=\"{}\" level=warning msg=\"StopSignal {} failed to stop container {} in {} seconds, resorting to SIGKILL\"",
                    chrono_now(),
                    cfg.stop_signal.as_deref().unwrap_or("SIGTERM"),
                    rec.name,
                    self.time.unwrap_or(cfg.stop_timeout)
                );
            }
            println!("{name}");
        }
        Ok(())
    }
}

fn chrono_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie kill mywebserver\n  selkie kill 860a4b23\n  selkie kill --signal TERM ctrID"
)]
pub struct KillArgs {
    /// Signal all running containers
    #[arg(short, long)]
    pub all: bool,
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL", add = crate::complete::signals())]
    pub signal: String,
    /// Containers to signal
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Running))]
    pub containers: Vec<String>,
}

impl KillArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let signo = pkg::container::parse::parse_stop_signal(&self.signal)?;
        let signal = nix::sys::signal::Signal::try_from(signo)
            .map_err(|_| Exit::usage(format!("invalid signal: {}", self.signal)))?;
        for (name, rec) in targets(&engine, &self.containers, self.all, false)? {
            if self.all && !lifecycle::state_of(&engine, &rec.id).is_running() {
                continue;
            }
            lifecycle::kill(&engine, &rec, signal)?;
            println!("{name}");
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie wait --interval 2s ctrID\n  selkie wait mywebserver myftpserver")]
pub struct WaitArgs {
    /// Condition to wait on (stopped, exited, running)
    #[arg(long, default_value = "stopped", add = crate::complete::wait_conditions())]
    pub condition: Vec<String>,
    /// Time interval to wait before polling for completion (accepted; selkie polls adaptively)
    #[arg(short, long, default_value = "250ms")]
    pub interval: String,
    /// Ignore if a container does not exist
    #[arg(long)]
    pub ignore: bool,
    /// Containers to wait for
    #[arg(required = true, value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub containers: Vec<String>,
}

impl WaitArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let running = self.condition.iter().any(|c| c == "running");
        for (_, rec) in targets(&engine, &self.containers, false, self.ignore)? {
            if running {
                while !lifecycle::state_of(&engine, &rec.id).is_running() {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                println!("-1");
                continue;
            }
            let st = lifecycle::wait_exited(&engine, &rec.id, None).expect("waiting without a deadline");
            println!("{}", st.exit_code.unwrap_or(-1));
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie restart -l\n  selkie restart ff6cf1e5e77e 5b5f5c8b4c83\n  selkie restart --all"
)]
pub struct RestartArgs {
    /// Restart all non-running containers
    #[arg(short, long)]
    pub all: bool,
    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time")]
    pub time: Option<u32>,
    /// Containers to restart
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub containers: Vec<String>,
}

impl RestartArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        for (_, rec) in targets(&engine, &self.containers, self.all, false)? {
            lifecycle::stop(&engine, &rec, self.time)?;
            lifecycle::start(&engine, &rec.id, false, &ctx.global_args(&engine)).map_err(start_error)?;
            println!("{}", rec.id);
        }
        Ok(())
    }
}
