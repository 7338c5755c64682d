//! The `selkie` binary: parses the command line (clap) and calls the engine in `pkg`.
//! Errors become one `Error: ...` line on stderr and Podman's exit codes.

mod attach;
mod cli;
mod commands;
mod complete;
mod exit;
mod man;
mod output;

use clap::{CommandFactory, FromArgMatches};
use exit::Exit;
use std::io::Write;

fn main() {
    let argv0 = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "selkie".into());
    // A TAB in a shell runs `SELKIE_COMPLETE=SHELL selkie -- WORDS`: answer it and exit before anything else.
    complete::hook(&argv0);
    let code = match run(&argv0) {
        Ok(()) => 0,
        Err(e) => report(&e),
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn run(argv0: &str) -> anyhow::Result<()> {
    let matches = cli::Cli::command()
        .name(argv0.to_string())
        .bin_name(argv0.to_string())
        .try_get_matches()
        .map_err(|e| cli::clap_error(e, argv0))?;
    let cli = cli::Cli::from_arg_matches(&matches).map_err(|e| cli::clap_error(e, argv0))?;
    if cli.version {
        println!("{argv0} version {}", pkg::system::VERSION);
        return Ok(());
    }
    let ctx = cli::Context::new(&cli);
    // A rootless user's commands run in the user namespace where they are root (still single-threaded here).
    if cli.command.as_ref().is_some_and(commands::enters_user_namespace) {
        pkg::rootless::enter()?;
    }
    match cli.command {
        Some(cmd) => commands::dispatch(cmd, &ctx),
        None => Err(Exit::usage(format!("missing command '{argv0} COMMAND'")).into()),
    }
}

/// Prints the error as Podman does and returns the exit code.
fn report(e: &anyhow::Error) -> i32 {
    if let Some(exit) = e.downcast_ref::<Exit>() {
        if let Some(out) = &exit.stdout {
            print!("{out}");
        }
        if let Some(msg) = &exit.message {
            eprintln!("Error: {msg}");
        }
        return exit.code;
    }
    let msg = format!("{e:#}");
    eprintln!("Error: {}", msg.replace('\n', " "));
    exit::ENGINE_ERROR
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks over every command (duplicate flags, bad defaults).
    #[test]
    fn command_tree_is_consistent() {
        crate::cli::Cli::command().debug_assert();
    }
}
