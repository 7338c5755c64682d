//! `selkie-quadlet`: the systemd generator that turns Quadlet `.container` files into services that
//! run selkie (podman-systemd.unit(5)).
//!
//! systemd runs generators as `GENERATOR NORMAL-DIR EARLY-DIR LATE-DIR`; the units go into NORMAL-DIR.
//! `--dryrun` prints them instead (`---NAME.service---` before each). `--user` (or a program name
//! containing "user", as for a user generator) reads `~/.config/containers/systemd`; `$QUADLET_UNIT_DIRS`
//! overrides the directories. Flags take one or two dashes, as Podman's quadlet takes them.
//!
//! Messages go to stderr (never to /dev/kmsg). A bad file is reported and skipped; the exit code is 0
//! unless the command line is wrong or a unit could not be written.

use pkg::systemd::quadlet;
use std::path::{Path, PathBuf};

const USAGE: &str =
    "usage: selkie-quadlet [--dryrun] [--user] [-v] [--no-kmsg-log] OUTPUT-DIR [EARLY-DIR LATE-DIR]";

/// Where the units go.
enum Mode {
    /// `--dryrun`: to stdout.
    DryRun,
    /// Into NORMAL-DIR.
    Write(PathBuf),
}

struct Flags {
    mode: Mode,
    user: bool,
    verbose: bool,
}

fn parse_flags(program: &str, args: impl Iterator<Item = String>) -> Result<Flags, String> {
    let (mut dry_run, mut user, mut verbose) = (false, program.contains("user"), false);
    let mut output: Option<PathBuf> = None;
    for arg in args {
        let flag = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
        match flag {
            Some("dryrun") => dry_run = true,
            Some("user") => user = true,
            Some("v") => verbose = true,
            // Accepted for Podman's quadlet's sake: selkie-quadlet never logs to kmsg.
            Some("no-kmsg-log") => {}
            Some("h" | "help") => return Err(USAGE.into()),
            Some(other) if !other.is_empty() => return Err(format!("unknown flag -{other}\n{USAGE}")),
            _ => {
                // NORMAL-DIR is the one that counts; EARLY-DIR and LATE-DIR are accepted and unused.
                output.get_or_insert_with(|| PathBuf::from(&arg));
            }
        }
    }
    let mode = match (dry_run, output) {
        (true, _) => Mode::DryRun,
        (false, Some(dir)) => Mode::Write(dir),
        (false, None) => return Err(format!("missing output directory argument\n{USAGE}")),
    };
    Ok(Flags { mode, user, verbose })
}

/// The selkie binary the units run: `$SELKIE`, else `selkie` beside this program, else /usr/bin/selkie.
fn selkie_binary() -> String {
    if let Some(bin) = std::env::var_os("SELKIE").filter(|b| !b.is_empty()) {
        return bin.to_string_lossy().into_owned();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("selkie")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/selkie"))
        .display()
        .to_string()
}

fn main() {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "selkie-quadlet".into());
    let program = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let log = |msg: &str| eprintln!("{program}: {msg}");
    let flags = match parse_flags(&program, args) {
        Ok(f) => f,
        Err(msg) => {
            log(&msg);
            std::process::exit(if msg == USAGE { 0 } else { 1 });
        }
    };
    let dirs = quadlet::unit_dirs(flags.user);
    if flags.verbose || matches!(flags.mode, Mode::DryRun) {
        let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        log(&format!("reading unit files from {}", shown.join(", ")));
    }
    let outcome = quadlet::generate(&dirs, &selkie_binary());
    for msg in &outcome.messages {
        log(msg);
    }
    let mut code = 0;
    match &flags.mode {
        Mode::DryRun => {
            for service in &outcome.services {
                print!("---{}---\n{}\n", service.file_name, service.render(&argv0));
            }
        }
        Mode::Write(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                log(&format!("cannot create {}: {e}", dir.display()));
                std::process::exit(1);
            }
            for service in &outcome.services {
                if flags.verbose {
                    log(&format!("writing {}", dir.join(&service.file_name).display()));
                }
                if let Err(e) = service.write_to(dir, &argv0) {
                    log(&format!(
                        "cannot write {}: {e}",
                        dir.join(&service.file_name).display()
                    ));
                    code = 1;
                }
            }
        }
    }
    std::process::exit(code);
}
