//! The flags every registry command shares (`--tls-verify`, `--cert-dir`, `--creds`, `--authfile`).

use clap::{ArgAction, Args};
use pkg::registry::TransportOptions;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct RegistryFlags {
    /// Path of the authentication file (default: ${XDG_RUNTIME_DIR}/containers/auth.json)
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Use certificates at the specified path to access the registry
    #[arg(long, value_name = "PATH")]
    pub cert_dir: Option<PathBuf>,
    /// Credentials (USERNAME:PASSWORD) to use for authenticating to a registry
    #[arg(long, value_name = "CREDENTIALS")]
    pub creds: Option<String>,
    /// Require HTTPS and verify certificates when contacting registries (default: registries.conf)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set)]
    pub tls_verify: Option<bool>,
}

impl RegistryFlags {
    pub fn transport(&self) -> anyhow::Result<TransportOptions> {
        if let Some(f) = &self.authfile {
            pkg::registry::auth::check_authfile(f)?;
        }
        Ok(TransportOptions {
            tls_verify: self.tls_verify,
            cert_dir: self.cert_dir.clone(),
            creds: self
                .creds
                .as_deref()
                .map(pkg::registry::auth::parse_creds)
                .transpose()?,
            authfile: self.authfile.clone(),
        })
    }
}
