//! What a pull or push shows: on a terminal, indicatif bars per blob; otherwise Podman's plain lines on
//! stderr (`Copying blob sha256:... done`); nothing with `--quiet`.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;

#[derive(Clone)]
pub struct Progress {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Quiet,
    Plain,
    Bars(MultiProgress),
}

/// One blob's progress.
pub struct Blob {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars(MultiProgress::new())
        } else {
            Mode::Plain
        };
        Progress { mode }
    }

    /// A line of Podman's narrative (`Trying to pull ...`, `Writing manifest to image destination`).
    pub fn say(&self, line: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("{line}"),
            Mode::Bars(m) => {
                let _ = m.println(line);
            }
        }
    }

    /// Starts a blob's bar (terminal) or nothing (plain: the line comes when it is done).
    pub fn blob(&self, kind: &str, digest: &str, size: u64) -> Blob {
        match &self.mode {
            Mode::Bars(m) => {
                let bar = m.add(ProgressBar::new(size));
                let short = digest
                    .trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect::<String>();
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "Copying {kind} {short} {{bytes}} / {{total_bytes}} [{{bar:30}}] {{binary_bytes_per_sec}}"
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                Blob { bar: Some(bar) }
            }
            _ => Blob { bar: None },
        }
    }

    pub fn done(&self, blob: Blob, kind: &str, digest: &str, note: &str) {
        match (&self.mode, blob.bar) {
            (Mode::Bars(_), Some(bar)) => {
                let short = digest
                    .trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect::<String>();
                bar.set_style(
                    ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.finish_with_message(format!("Copying {kind} {short} {note}"));
            }
            (Mode::Plain, _) => eprintln!("Copying {kind} {digest} {note}"),
            _ => {}
        }
    }
}

impl Blob {
    pub fn advance(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
}
