//! The global flags and the command tree, Podman's names and spellings.

use crate::commands::Command;
use crate::exit::Exit;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, ValueEnum};
use pkg::config::storage::Overrides;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "selkie",
    about = "Manage pods, containers and images",
    long_about = "selkie: a daemonless, Podman-compatible container engine. Containers are descendants of the command that starts them.",
    disable_version_flag = true,
    subcommand_required = false,
    arg_required_else_help = false,
    max_term_width = 100
)]
pub struct Cli {
    /// Path to the root directory in which data, including images, is stored
    #[arg(long, global = true, value_name = "VALUE")]
    pub root: Option<PathBuf>,
    /// Path to the 'run directory' where all state information is stored
    #[arg(long, global = true, value_name = "VALUE")]
    pub runroot: Option<PathBuf>,
    /// Select which storage driver is used to manage storage of images and containers
    #[arg(long, global = true, value_name = "VALUE")]
    pub storage_driver: Option<String>,
    /// Storage driver option (overlay.mount_program=PATH)
    #[arg(long = "storage-opt", global = true, value_name = "VALUE")]
    pub storage_opt: Vec<String>,
    /// Log messages above specified level
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Warn)]
    pub log_level: LogLevel,
    /// Print the version
    #[arg(short = 'v', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    Panic,
}

/// What every command gets: the global settings and a way to open the engine.
pub struct Context {
    pub overrides: Overrides,
    pub log_level: LogLevel,
}

impl Context {
    pub fn new(cli: &Cli) -> Context {
        Context {
            overrides: Overrides {
                root: cli.root.clone(),
                runroot: cli.runroot.clone(),
                driver: cli.storage_driver.clone(),
                storage_opts: cli.storage_opt.clone(),
            },
            log_level: cli.log_level,
        }
    }

    pub fn engine(&self) -> anyhow::Result<pkg::Engine> {
        let engine = pkg::Engine::open(&self.overrides)?;
        self.debug(|| {
            format!(
                "store at {}, run state at {}",
                engine.paths.graph_root.display(),
                engine.paths.run_root.display()
            )
        });
        Ok(engine)
    }

    /// The global flags that select this engine's store, for processes we start (the monitor).
    pub fn global_args(&self, engine: &pkg::Engine) -> Vec<String> {
        let mut args = vec![
            "--root".to_string(),
            engine.paths.graph_root.display().to_string(),
            "--runroot".to_string(),
            engine.paths.run_root.display().to_string(),
            "--storage-driver".to_string(),
            engine.paths.driver.clone(),
        ];
        // The monitor reads no configuration file: what storage.conf said that it needs comes along.
        if let Some(program) = &engine.paths.mount_program {
            args.push(format!(
                "--storage-opt=overlay.mount_program={}",
                program.display()
            ));
        }
        if self.log_level <= LogLevel::Debug {
            args.push(format!("--log-level={:?}", self.log_level).to_lowercase());
        }
        args
    }

    pub fn debug(&self, msg: impl FnOnce() -> String) {
        if self.log_level <= LogLevel::Debug {
            eprintln!("level=debug msg={:?}", msg());
        }
    }
}

/// Turns clap's error into Podman's one-line form; help and version requests print and exit 0.
pub fn clap_error(e: clap::Error, argv0: &str) -> anyhow::Error {
    let context = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let message = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return Exit::silent(0).into();
        }
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg);
            let flag = arg.split(['=', ' ']).next().unwrap_or(&arg).to_string();
            format!("unknown flag: {flag}")
        }
        ErrorKind::InvalidSubcommand => {
            format!(
                "unrecognized command `{argv0} {}`",
                context(ContextKind::InvalidSubcommand)
            )
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            first.trim_start_matches("error: ").to_string()
        }
    };
    Exit::usage(message).into()
}
