//! `pause` and `unpause`: every process of a running container frozen, then thawed, by the cgroup
//! freezer (v1 `freezer.state`, v2 `cgroup.freeze`) of the container's cgroup.
//!
//! Nothing else records the pause: [`super::state::read`] reports a running container whose cgroup is
//! frozen as paused, so the state can never disagree with the kernel. A paused container can still be
//! stopped, killed and removed: those thaw it after signalling ([`thaw_after_signal`]), because on v1 a
//! frozen process does not act on a signal, not even SIGKILL, until it is thawed.

use super::config::CgroupsMode;
use super::lifecycle;
use super::state::Status;
use super::store::ContainerRecord;
use crate::cgroups::{self, ContainerCgroup};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// The cgroup a container runs in, whether or not it exists.
pub fn cgroup(id: &str) -> ContainerCgroup {
    ContainerCgroup::new(&cgroups::container_path(id))
}

/// Freezes a running container.
pub fn pause(engine: &Engine, rec: &ContainerRecord) -> Result<()> {
    match lifecycle::state_of(engine, &rec.id).status {
        Status::Running => {}
        Status::Paused => {
            return Err(Error::ContainerState(format!(
                "{:?} is already paused: container state improper",
                rec.id
            )))
        }
        // Podman names the state here, not the container.
        other => {
            return Err(Error::ContainerState(format!(
                "{:?} is not running, can't pause: container state improper",
                other.as_str()
            )))
        }
    }
    let cg = existing_cgroup(engine, rec)?;
    cg.set_frozen(true).map_err(|e| Error::Io {
        context: format!("pausing container {}", rec.id),
        source: e,
    })
}

/// Thaws a paused container.
pub fn unpause(engine: &Engine, rec: &ContainerRecord) -> Result<()> {
    if lifecycle::state_of(engine, &rec.id).status != Status::Paused {
        return Err(Error::ContainerState(format!(
            "{:?} is not paused, can't unpause: container state improper",
            rec.id
        )));
    }
    let cg = existing_cgroup(engine, rec)?;
    cg.set_frozen(false).map_err(|e| Error::Io {
        context: format!("unpausing container {}", rec.id),
        source: e,
    })
}

/// The container's cgroup, or why it has none to freeze.
fn existing_cgroup(engine: &Engine, rec: &ContainerRecord) -> Result<ContainerCgroup> {
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    if cfg.cgroups == CgroupsMode::Disabled {
        return Err(Error::InvalidInput(format!(
            "container {} was created with --cgroups=disabled: without a cgroup it cannot be paused",
            rec.id
        )));
    }
    let cg = cgroup(&rec.id);
    if !cg.exists() {
        return Err(Error::InvalidInput(format!(
            "container {} has no cgroup (cgroups are managed only for root): it cannot be paused",
            rec.id
        )));
    }
    Ok(cg)
}

/// After a signal was sent to container `id`: thaws it if it is paused, so that the signal is acted on
/// (as runc does after SIGKILL). Errors are ignored: the caller is killing the container anyway.
pub(crate) fn thaw_after_signal(id: &str) {
    let cg = cgroup(id);
    if cg.frozen() == Some(true) {
        let _ = cg.set_frozen(false);
    }
}
