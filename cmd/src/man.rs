//! Man pages, generated (clap_mangen) from the same clap definitions as `--help` and completion: one page
//! per visible command, named as Podman's (`selkie.1`, `selkie-run.1`, `selkie-container-ls.1`).
//! `selkie generate-man-pages DIR` (hidden) writes them; scripts/install installs them.

use crate::cli::Context;
use clap::{Args, Command, CommandFactory, ValueHint};
use std::path::{Path, PathBuf};

/// Writes the man pages into a directory (hidden; used by scripts/install).
#[derive(Args, Debug)]
pub struct ManArgs {
    /// The directory to write `selkie*.1` into (created if missing)
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

impl ManArgs {
    pub fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        for page in generate(&self.dir)? {
            println!("{}", page.display());
        }
        Ok(())
    }
}

/// Writes one page per visible command into `dir`; returns their paths.
pub fn generate(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let mut cmd = crate::cli::Cli::command()
        .name("selkie")
        .bin_name("selkie")
        .version(pkg::system::VERSION)
        .disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![];
    write_pages(cmd, dir, &mut pages)?;
    Ok(pages)
}

fn write_pages(cmd: Command, dir: &Path, pages: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, pages)?;
    }
    let page = clap_mangen::Man::new(cmd)
        .source(format!("selkie {}", pkg::system::VERSION))
        .manual("selkie Manual")
        .generate_to(dir)
        .map_err(|e| anyhow::anyhow!("writing a man page into {}: {e}", dir.display()))?;
    pages.push(page);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{Command, CommandFactory};

    fn visit(cmd: &Command, path: &str, f: &mut dyn FnMut(&Command, &str)) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let p = format!("{path} {}", sub.get_name());
            f(sub, &p);
            visit(sub, &p, f);
        }
    }

    /// `--help` and the man pages need a description of every command.
    #[test]
    fn every_command_has_an_about_text() {
        let mut missing = vec![];
        visit(&crate::cli::Cli::command(), "selkie", &mut |c, p| {
            if c.get_about().is_none_or(|a| a.to_string().trim().is_empty()) {
                missing.push(p.to_string());
            }
        });
        assert!(missing.is_empty(), "commands without an about text: {missing:?}");
    }

    #[test]
    fn pages_for_commands_and_subcommands() {
        let dir = std::env::temp_dir().join(format!("selkie-man-test-{}", std::process::id()));
        let pages = super::generate(&dir).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for want in [
            "selkie.1",
            "selkie-run.1",
            "selkie-container-ls.1",
            "selkie-volume-ls.1",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        let run = std::fs::read_to_string(dir.join("selkie-run.1")).unwrap();
        assert!(run.contains("\\-\\-detach"), "{run}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
