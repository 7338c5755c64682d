//! Registries: configuration lookups (registries.conf, short names, auth.json, certs.d), the client
//! (oci-client over reqwest), and `pull`, `push` and `login` built on it.
//!
//! Every operation runs its own async runtime and shuts it down before returning: the rest of selkie,
//! and above all the path from `run` to the container's fork, stays single-threaded.

pub mod auth;
pub mod certs;
pub mod client;
pub mod login;
mod progress;
pub mod pull;
pub mod push;
pub mod shortnames;

use crate::config::registries::{Endpoint, RegistriesConf};
use crate::error::Result;
use crate::reference::Reference;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Runs one registry operation on its own runtime and waits for the runtime's threads to end, so
/// nothing async outlives it (the path to a container's fork stays single-threaded).
pub(crate) fn block_on<T>(workers: usize, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let mut builder = if workers > 1 {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(workers);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let rt = builder
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::Io {
            context: "starting the registry client".into(),
            source: e,
        })?;
    let result = rt.block_on(op);
    rt.shutdown_timeout(std::time::Duration::from_secs(10));
    result
}

/// What every registry operation takes from the command line.
#[derive(Clone, Debug, Default)]
pub struct TransportOptions {
    /// `--tls-verify`; `None` leaves it to registries.conf (`insecure = true`).
    pub tls_verify: Option<bool>,
    pub cert_dir: Option<PathBuf>,
    /// `--creds user:password`.
    pub creds: Option<(String, String)>,
    pub authfile: Option<PathBuf>,
}

/// The fully qualified references to try for what the user typed: the reference itself, or for a short
/// name its alias or one per unqualified-search registry (tried in order; without a terminal there is no
/// prompt, as Podman).
/// Also returns Podman's line saying how a short name was resolved (`Resolved "x" as an alias (FILE)`).
/// Each operation parses registries.conf once ([`crate::config::registries::load`]) and passes it to these.
pub fn candidates(conf: &RegistriesConf, reference: &Reference) -> Result<(Vec<Reference>, Option<String>)> {
    if !reference.is_short() {
        return Ok((vec![reference.normalized()], None));
    }
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let resolution = shortnames::candidates(conf, reference, terminal)?;
    let description = resolution.description();
    Ok((resolution.candidates, description))
}

/// Where to pull `candidate` from: its mirrors, then its (possibly rewritten) location; `--tls-verify`
/// overrides registries.conf's `insecure`.
pub fn endpoints(
    conf: &RegistriesConf,
    candidate: &Reference,
    opts: &TransportOptions,
) -> Result<Vec<Endpoint>> {
    let mut endpoints = conf.lookup(&candidate.normalized())?.endpoints;
    if let Some(verify) = opts.tls_verify {
        for e in &mut endpoints {
            e.insecure = !verify;
        }
    }
    Ok(endpoints)
}

/// The registry itself, without mirrors (push and login), with `--tls-verify` applied.
pub fn direct_endpoint(conf: &RegistriesConf, name: &str, opts: &TransportOptions) -> Result<Endpoint> {
    let mut e = conf.direct_endpoint(name)?;
    if let Some(verify) = opts.tls_verify {
        e.insecure = !verify;
    }
    Ok(e)
}
