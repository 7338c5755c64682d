//! Which namespaces a container process creates, which it joins, and how the process is made.
//!
//! New namespaces are created by `clone(2)` itself (mount, PID, UTS, IPC, network), so the init is PID 1
//! of its PID namespace without an extra process. The cgroup namespace is the exception: it is
//! unshared by the init after the caller's `before_exec` callback has placed it in its cgroup, so the
//! namespace's root is the container's cgroup. Namespaces given by `path` are opened here by the parent
//! and joined with `setns(2)` by the child. Joining a PID namespace only applies to children, so then
//! an intermediate process joins and creates the init with `CLONE_PARENT` (the init stays the caller's
//! child, so the caller can wait for it). `exec_in` always takes that road, joining every namespace of
//! the running container that differs from the caller's.
//!
//! A new user namespace is created late, by the init itself once the filesystem is set up (just before
//! the user change), so every mount is made with the caller's credentials and reaches what the caller
//! can reach (a rootless store the container's IDs could not enter); the parent writes its `uid_map`
//! and `gid_map` from `linux.uidMappings`/`gidMappings` while the init waits for a second go. The other
//! namespaces therefore belong to the caller's user namespace: `exec_in` joins them first and the
//! container's user namespace last. A user namespace given by path is joined first, before the others.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;

use nix::sched::CloneFlags;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use super::error::RuntimeError;
use super::fd;
use super::step::{Failure, Step};
use super::syscall::Syscall;

/// A namespace to join.
#[derive(Debug)]
pub(crate) struct NamespaceJoin {
    pub fd: OwnedFd,
    pub nstype: CloneFlags,
    /// Where it came from, for messages.
    pub path: String,
}

/// The namespaces of a process to start.
#[derive(Debug)]
pub(crate) struct NamespacePlan {
    /// Namespaces created when the init is cloned.
    pub clone_flags: CloneFlags,
    /// Whether the init unshares a new cgroup namespace after the caller's callback.
    pub unshare_cgroup: bool,
    /// Namespaces joined, in this order.
    pub joins: Vec<NamespaceJoin>,
    /// Whether an intermediate process joins the namespaces and clones the init.
    pub intermediate: bool,
    /// A new user namespace, unshared by the init after its filesystem setup: the mappings the parent
    /// writes then.
    pub user_maps: Option<UserMaps>,
}

/// The `uid_map` and `gid_map` contents of a new user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserMaps {
    pub uid_map: String,
    pub gid_map: String,
}

impl UserMaps {
    fn from_spec(
        uids: &[oci_spec::runtime::LinuxIdMapping],
        gids: &[oci_spec::runtime::LinuxIdMapping],
    ) -> Self {
        let text = |maps: &[oci_spec::runtime::LinuxIdMapping]| {
            maps.iter()
                .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
                .collect::<String>()
        };
        UserMaps {
            uid_map: text(uids),
            gid_map: text(gids),
        }
    }

    /// Writes the maps of process `pid`'s user namespace (parent side, before go).
    pub(crate) fn write(&self, pid: Pid) -> Result<(), RuntimeError> {
        for (file, text) in [("uid_map", &self.uid_map), ("gid_map", &self.gid_map)] {
            let path = format!("/proc/{pid}/{file}");
            std::fs::write(&path, text).map_err(|e| RuntimeError::io(format!("writing {path}"), e))?;
        }
        Ok(())
    }
}

impl Default for NamespacePlan {
    fn default() -> Self {
        NamespacePlan {
            clone_flags: CloneFlags::empty(),
            unshare_cgroup: false,
            joins: Vec::new(),
            intermediate: false,
            user_maps: None,
        }
    }
}

/// Join order: the user namespace first (it grants the rights to join the others), the mount
/// namespace last.
const ORDER: [(LinuxNamespaceType, CloneFlags, &str); 8] = [
    (LinuxNamespaceType::User, CloneFlags::CLONE_NEWUSER, "user"),
    (LinuxNamespaceType::Ipc, CloneFlags::CLONE_NEWIPC, "ipc"),
    (LinuxNamespaceType::Uts, CloneFlags::CLONE_NEWUTS, "uts"),
    (LinuxNamespaceType::Network, CloneFlags::CLONE_NEWNET, "net"),
    (LinuxNamespaceType::Pid, CloneFlags::CLONE_NEWPID, "pid"),
    (LinuxNamespaceType::Cgroup, CloneFlags::CLONE_NEWCGROUP, "cgroup"),
    (
        LinuxNamespaceType::Time,
        CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
        "time",
    ),
    (LinuxNamespaceType::Mount, CloneFlags::CLONE_NEWNS, "mnt"),
];

fn open_namespace(path: &str) -> Result<File, RuntimeError> {
    File::open(path).map_err(|e| RuntimeError::io(format!("opening namespace {path}"), e))
}

impl NamespacePlan {
    /// The namespaces of a new container from `spec.linux.namespaces`.
    pub(crate) fn for_container(namespaces: &[LinuxNamespace]) -> Result<Self, RuntimeError> {
        let mut plan = NamespacePlan::default();
        for (i, ns) in namespaces.iter().enumerate() {
            if namespaces[..i].iter().any(|other| other.typ() == ns.typ()) {
                return Err(RuntimeError::invalid(format!(
                    "namespace {} is listed twice",
                    ns.typ()
                )));
            }
        }
        for (typ, flag, _) in ORDER {
            let Some(ns) = namespaces.iter().find(|ns| ns.typ() == typ) else {
                if typ == LinuxNamespaceType::Mount {
                    return Err(RuntimeError::invalid(
                        "the container needs its own mount namespace",
                    ));
                }
                continue;
            };
            match (typ, ns.path()) {
                (LinuxNamespaceType::Time, _) => {
                    return Err(RuntimeError::Unsupported("time namespaces".into()))
                }
                (LinuxNamespaceType::Mount, Some(_)) => {
                    return Err(RuntimeError::Unsupported(
                        "joining an existing mount namespace".into(),
                    ))
                }
                (LinuxNamespaceType::Cgroup, None) => plan.unshare_cgroup = true,
                (_, None) => plan.clone_flags |= flag,
                (_, Some(path)) => {
                    let display = path.display().to_string();
                    let file = open_namespace(&display)?;
                    plan.joins.push(NamespaceJoin {
                        fd: file.into(),
                        nstype: flag,
                        path: display,
                    });
                    if typ == LinuxNamespaceType::Pid {
                        plan.intermediate = true;
                    }
                }
            }
        }
        Ok(plan)
    }

    /// Every namespace of the running process `pid` that differs from the caller's.
    pub(crate) fn for_exec(pid: Pid) -> Result<Self, RuntimeError> {
        let mut plan = NamespacePlan {
            intermediate: true,
            ..Default::default()
        };
        for (_, flag, name) in ORDER {
            let theirs = format!("/proc/{pid}/ns/{name}");
            let file = match File::open(&theirs) {
                Ok(f) => f,
                // A namespace type this kernel does not have.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == "time" => continue,
                Err(_) => {
                    open_namespace(&theirs)?;
                    continue;
                }
            };
            let ours = std::fs::metadata(format!("/proc/self/ns/{name}"));
            let their_meta = file
                .metadata()
                .map_err(|e| RuntimeError::io(format!("inspecting {theirs}"), e))?;
            if let Ok(ours) = ours {
                if ours.ino() == their_meta.ino() && ours.dev() == their_meta.dev() {
                    continue;
                }
            }
            plan.joins.push(NamespaceJoin {
                fd: file.into(),
                nstype: flag,
                path: theirs,
            });
        }
        // The container's own user namespace last: its other namespaces belong to ours (see above).
        if let Some(at) = plan
            .joins
            .iter()
            .position(|j| j.nstype == CloneFlags::CLONE_NEWUSER)
        {
            let user = plan.joins.remove(at);
            plan.joins.push(user);
        }
        Ok(plan)
    }

    /// A new user namespace (declared without a path) is not cloned but unshared late by the init:
    /// its mappings, from the spec's `linux` section.
    pub(crate) fn map_user(&mut self, linux: &oci_spec::runtime::Linux) -> Result<(), RuntimeError> {
        if !self.clone_flags.contains(CloneFlags::CLONE_NEWUSER) {
            return Ok(());
        }
        let uids = linux.uid_mappings().as_deref().unwrap_or_default();
        let gids = linux.gid_mappings().as_deref().unwrap_or_default();
        if uids.is_empty() || gids.is_empty() {
            return Err(RuntimeError::invalid(
                "a new user namespace needs linux.uidMappings and linux.gidMappings",
            ));
        }
        self.clone_flags.remove(CloneFlags::CLONE_NEWUSER);
        self.user_maps = Some(UserMaps::from_spec(uids, gids));
        Ok(())
    }

    /// Move the namespace descriptors to `min` or above (out of the container's descriptor range).
    pub(crate) fn relocate_fds(&mut self, min: RawFd) -> Result<(), RuntimeError> {
        let joins = std::mem::take(&mut self.joins);
        self.joins = joins
            .into_iter()
            .map(|j| {
                Ok(NamespaceJoin {
                    fd: fd::at_least(j.fd, min)?,
                    ..j
                })
            })
            .collect::<Result<_, RuntimeError>>()?;
        Ok(())
    }

    /// `setns` into every namespace to join, in order (child side).
    pub(crate) fn join(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        for (index, join) in self.joins.iter().enumerate() {
            sys.setns(join.fd.as_raw_fd(), join.nstype)
                .map_err(Failure::at_index(Step::Join, index))?;
        }
        Ok(())
    }

    /// The raw descriptors the child must keep open.
    pub(crate) fn raw_fds(&self) -> Vec<RawFd> {
        self.joins.iter().map(|j| j.fd.as_raw_fd()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{get_default_namespaces, LinuxNamespaceBuilder};

    #[test]
    fn default_namespaces_are_created_by_clone_and_cgroup_is_unshared_later() {
        let plan = NamespacePlan::for_container(&get_default_namespaces()).unwrap();
        assert_eq!(
            plan.clone_flags,
            CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWUTS
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWNET
        );
        assert!(plan.unshare_cgroup);
        assert!(plan.joins.is_empty());
        assert!(!plan.intermediate);
    }

    #[test]
    fn paths_are_joined_and_a_pid_path_needs_the_intermediate() {
        let mut namespaces = get_default_namespaces();
        namespaces.retain(|n| n.typ() != LinuxNamespaceType::Network && n.typ() != LinuxNamespaceType::Pid);
        for (typ, path) in [
            (LinuxNamespaceType::Network, "/proc/self/ns/net"),
            (LinuxNamespaceType::Pid, "/proc/self/ns/pid"),
        ] {
            namespaces.push(
                LinuxNamespaceBuilder::default()
                    .typ(typ)
                    .path(path)
                    .build()
                    .unwrap(),
            );
        }
        let plan = NamespacePlan::for_container(&namespaces).unwrap();
        assert!(!plan.clone_flags.contains(CloneFlags::CLONE_NEWNET));
        assert!(!plan.clone_flags.contains(CloneFlags::CLONE_NEWPID));
        let joined: Vec<CloneFlags> = plan.joins.iter().map(|j| j.nstype).collect();
        assert_eq!(joined, vec![CloneFlags::CLONE_NEWNET, CloneFlags::CLONE_NEWPID]);
        assert!(plan.intermediate);
    }

    #[test]
    fn a_container_without_its_own_mount_namespace_is_refused() {
        let mut namespaces = get_default_namespaces();
        namespaces.retain(|n| n.typ() != LinuxNamespaceType::Mount);
        assert!(NamespacePlan::for_container(&namespaces).is_err());
    }

    #[test]
    fn a_new_user_namespace_is_unshared_late_and_needs_mappings() {
        let user = LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::User)
            .build()
            .unwrap();
        let mut namespaces = get_default_namespaces();
        namespaces.push(user);
        let mut plan = NamespacePlan::for_container(&namespaces).unwrap();
        assert!(plan.clone_flags.contains(CloneFlags::CLONE_NEWUSER));
        let mut linux = oci_spec::runtime::Linux::default();
        linux.set_uid_mappings(None);
        assert!(plan.map_user(&linux).is_err());
        let map = oci_spec::runtime::LinuxIdMappingBuilder::default()
            .container_id(0u32)
            .host_id(1000u32)
            .size(1u32)
            .build()
            .unwrap();
        linux.set_uid_mappings(Some(vec![map]));
        linux.set_gid_mappings(Some(vec![map]));
        plan.map_user(&linux).unwrap();
        assert!(
            !plan.clone_flags.contains(CloneFlags::CLONE_NEWUSER),
            "unshared late, not cloned"
        );
        assert_eq!(plan.user_maps.unwrap().uid_map, "0 1000 1\n");
    }

    #[test]
    fn exec_into_ourselves_joins_nothing() {
        let plan = NamespacePlan::for_exec(nix::unistd::getpid()).unwrap();
        assert!(plan.joins.is_empty());
        assert!(plan.intermediate);
    }
}
