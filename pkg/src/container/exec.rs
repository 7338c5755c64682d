//! `exec`: another process in a running container, as a child of the command that asks for it (so it
//! inherits that command's loginuid and audit session), with the container's namespaces, security settings
//! and environment, and the caller's overrides.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::spec::{resolve_exec_user, RootView};
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::runtime::{self, ExecRequest};
use oci_spec::runtime::{Capability, LinuxCapabilitiesBuilder, Process, Spec, UserBuilder};
use std::collections::HashSet;
use std::os::fd::RawFd;
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// `KEY=VALUE`, or `KEY` to take the caller's value.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub privileged: bool,
    pub tty: bool,
    pub preserve_fds: u32,
}

/// Starts the process and returns its host PID (a child of the caller).
pub fn start(engine: &Engine, rec: &ContainerRecord, opts: &ExecOptions, stdio: [RawFd; 3]) -> Result<i32> {
    let st = lifecycle::state_of(engine, &rec.id);
    // A process started in a paused container would freeze with it.
    if !st.is_running() || st.status == super::state::Status::Paused {
        return Err(Error::ContainerState(format!(
            "can only create exec sessions on running containers: container state improper ({} is {})",
            rec.name,
            st.status.as_str()
        )));
    }
    if opts.command.is_empty() {
        return Err(Error::InvalidInput(
            "must provide a non-empty command to start an exec session".into(),
        ));
    }
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    let data = std::fs::read(paths.config_json()).map_err(|e| Error::Io {
        context: format!("reading {}", paths.config_json().display()),
        source: e,
    })?;
    let spec: Spec =
        serde_json::from_slice(&data).map_err(|e| Error::Config(format!("container spec: {e}")))?;
    let mut process: Process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(opts.command.clone()));
    process.set_terminal(Some(opts.tty));
    let mut env = process.env().clone().unwrap_or_default();
    for e in &opts.env {
        let (key, value) = match e.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => match std::env::var(e) {
                Ok(v) => (e.clone(), v),
                Err(_) => continue,
            },
        };
        env.retain(|have| have.split('=').next() != Some(key.as_str()));
        env.push(format!("{key}={value}"));
    }
    if opts.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    process.set_env(Some(env));
    if let Some(w) = &opts.workdir {
        process.set_cwd(PathBuf::from(w));
    }
    if let Some(u) = &opts.user {
        // Names are the container's: read its /etc through the running container's root.
        let root = RootView::dir(&PathBuf::from(format!("/proc/{}/root", st.pid)));
        let user = resolve_exec_user(&root, u)?;
        let built = UserBuilder::default()
            .uid(user.uid)
            .gid(user.gid)
            .additional_gids(user.additional_gids.clone())
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        process.set_user(built);
        // As for the container itself: a non-root user keeps only the bounding set.
        if user.uid != 0 && !opts.privileged {
            if let Some(c) = process.capabilities().clone() {
                let bounding = c.bounding().clone().unwrap_or_default();
                let none = HashSet::new();
                let caps = LinuxCapabilitiesBuilder::default()
                    .bounding(bounding)
                    .effective(none.clone())
                    .permitted(none.clone())
                    .inheritable(none.clone())
                    .ambient(none)
                    .build()
                    .map_err(|e| Error::Config(e.to_string()))?;
                process.set_capabilities(Some(caps));
            }
        }
    }
    if opts.privileged {
        // Every capability of the caller's bounding set, as `run --privileged`: one the caller lacks
        // (CAP_SYS_RESOURCE on some hosts) could not be raised (EPERM from capset).
        let all: HashSet<Capability> = caps::read(None, caps::CapSet::Bounding)
            .map_err(|e| Error::Config(format!("reading the bounding set: {e}")))?
            .iter()
            .filter_map(|c| c.to_string().trim_start_matches("CAP_").parse().ok())
            .collect();
        let caps = LinuxCapabilitiesBuilder::default()
            .bounding(all.clone())
            .effective(all.clone())
            .permitted(all.clone())
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        process.set_capabilities(Some(caps));
    }
    let preserve: Vec<RawFd> = (0..opts.preserve_fds as RawFd).map(|i| 3 + i).collect();
    // The exec'd process joins the container's cgroup (its limits count it, as Podman's exec).
    let join = |pid: nix::unistd::Pid| -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        crate::cgroups::join_container(&rec.id, pid.as_raw()).map_err(|e| e.into())
    };
    let req = ExecRequest {
        container_pid: nix::unistd::Pid::from_raw(st.pid),
        process: &process,
        stdio,
        preserve_fds: preserve,
        before_exec: Some(&join),
        // As runc exec: the container's filter, whatever the exec's options.
        seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()),
    };
    let spawned = runtime::exec_in(&req).map_err(|e| Error::StartFailed {
        code: e.exit_code().unwrap_or(125),
        message: e.to_string(),
    })?;
    Ok(spawned.pid.as_raw())
}

/// Waits for an exec'd process; its exit code (128 + signal when killed).
pub fn wait(pid: i32) -> Result<i32> {
    runtime::wait_exit(nix::unistd::Pid::from_raw(pid)).map_err(|e| Error::Runtime(e.to_string()))
}
