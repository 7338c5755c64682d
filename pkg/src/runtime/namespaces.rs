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
//! User namespaces come later; the intermediate process is where one will be created and mapped.

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
}

impl Default for NamespacePlan {
    fn default() -> Self {
        NamespacePlan {
            clone_flags: CloneFlags::empty(),
            unshare_cgroup: false,
            joins: Vec::new(),
            intermediate: false,
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
                (LinuxNamespaceType::User, _) => {
                    return Err(RuntimeError::Unsupported("user namespaces".into()))
                }
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
            if flag == CloneFlags::CLONE_NEWUSER {
                return Err(RuntimeError::Unsupported(
                    "exec into a container with a user namespace".into(),
                ));
            }
            plan.joins.push(NamespaceJoin {
                fd: file.into(),
                nstype: flag,
                path: theirs,
            });
        }
        Ok(plan)
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
        let user = LinuxNamespaceBuilder::default()
            .typ(LinuxNamespaceType::User)
            .build()
            .unwrap();
        let mut namespaces = get_default_namespaces();
        namespaces.push(user);
        assert!(matches!(
            NamespacePlan::for_container(&namespaces),
            Err(RuntimeError::Unsupported(_))
        ));
    }

    #[test]
    fn exec_into_ourselves_joins_nothing() {
        let plan = NamespacePlan::for_exec(nix::unistd::getpid()).unwrap();
        assert!(plan.joins.is_empty());
        assert!(plan.intermediate);
    }
}
