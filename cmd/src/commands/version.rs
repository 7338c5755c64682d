//! `version`.

use crate::cli::Context;
use crate::output;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie version\n  selkie version --format json\n  selkie version --format {{.Client.Version}}"
)]
pub struct VersionArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

impl VersionArgs {
    pub fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        let v = pkg::system::version();
        match self.format.as_deref() {
            Some(f) => output::inspect_one(f, &v),
            None => {
                let c = &v["Client"];
                let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                println!("Client:       selkie");
                println!("Version:      {}", s("Version"));
                println!("API Version:  {}", s("APIVersion"));
                println!("OS/Arch:      {}", s("OsArch"));
                Ok(())
            }
        }
    }
}
