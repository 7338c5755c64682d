//! [`InitPlan`]: everything a container process does between `clone` and `execve`, prepared by the
//! parent so the child only makes system calls. Also turns a child's [`Failure`] back into a sentence.

use std::ffi::CString;
use std::os::fd::RawFd;

use oci_spec::runtime::{LinuxNamespaceType, PosixRlimitType, Process};

use super::channel::ChildEnds;
use crate::runtime::credentials::{self, CapabilityPlan, UserPlan};
use crate::runtime::error::RuntimeError;
use crate::runtime::exec::ExecPlan;
use crate::runtime::fd::FdPlan;
use crate::runtime::namespaces::NamespacePlan;
use crate::runtime::rootfs::mount::path_cstring;
use crate::runtime::rootfs::{HostInfo, RootfsPlan};
use crate::runtime::step::{Failure, Step};
use crate::runtime::{ExecRequest, SpawnRequest};

/// A sysctl to write after `pivot_root`.
#[derive(Debug)]
pub(crate) struct Sysctl {
    pub key: String,
    pub path: CString,
    pub value: CString,
}

/// A resource limit to set.
#[derive(Debug)]
pub(crate) struct Rlimit {
    pub name: String,
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// Everything the child does, prepared.
#[derive(Debug)]
pub(crate) struct InitPlan {
    pub namespaces: NamespacePlan,
    pub fds: FdPlan,
    /// Set by the parent once the channel exists.
    pub channel: ChildEnds,
    /// `None` for `exec_in` (the container's filesystem already exists).
    pub rootfs: Option<RootfsPlan>,
    pub sysctls: Vec<Sysctl>,
    pub hostname: Option<CString>,
    pub domainname: Option<CString>,
    pub oom_score_adj: Option<CString>,
    pub rlimits: Vec<Rlimit>,
    /// Whether stdin is a terminal to become the controlling terminal of a new session.
    pub terminal: bool,
    pub user: UserPlan,
    pub caps: CapabilityPlan,
    pub no_new_privs: bool,
    /// Seccomp filters to load in order (compiled from `linux.seccomp`); empty: none.
    pub seccomp: Vec<seccompiler::BpfProgram>,
    pub cwd: CString,
    pub exec: ExecPlan,
}

/// The BPF programs of a `linux.seccomp` section, for the host architecture.
fn seccomp_programs(
    section: Option<&oci_spec::runtime::LinuxSeccomp>,
) -> Result<Vec<seccompiler::BpfProgram>, RuntimeError> {
    let Some(section) = section else {
        return Ok(Vec::new());
    };
    let arch = crate::seccomp::HostArch::native()
        .ok_or_else(|| RuntimeError::Unsupported("seccomp on this architecture".into()))?;
    crate::seccomp::compile(section, &arch).map_err(RuntimeError::invalid)
}

// The constants are `u32` on glibc and `c_int` on musl.
#[allow(clippy::unnecessary_cast)]
fn rlimit_number(typ: PosixRlimitType) -> u32 {
    (match typ {
        PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as u32
}

fn cstring(s: &str, what: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| RuntimeError::invalid(format!("{what} {s:?} contains a NUL byte")))
}

/// The host path of the terminal on `fd` (for `/dev/console`); fails when `fd` is not a terminal.
fn terminal_path(fd: RawFd) -> Result<std::path::PathBuf, RuntimeError> {
    // SAFETY: isatty only queries the descriptor.
    if unsafe { libc::isatty(fd) } != 1 {
        return Err(RuntimeError::invalid(format!(
            "process.terminal is set but stdin (descriptor {fd}) is not a terminal"
        )));
    }
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map_err(|e| RuntimeError::io("finding the terminal's path", e))
}

/// What only a new container has (`exec_in` joins an existing one): its filesystem, sysctls and names.
#[derive(Default)]
struct ContainerParts {
    rootfs: Option<RootfsPlan>,
    sysctls: Vec<Sysctl>,
    hostname: Option<CString>,
    domainname: Option<CString>,
}

/// The parts of `process` that `spawn` and `exec_in` share.
struct ProcessParts {
    rlimits: Vec<Rlimit>,
    oom_score_adj: Option<CString>,
    terminal: bool,
    user: UserPlan,
    caps: CapabilityPlan,
    no_new_privs: bool,
    cwd: CString,
    exec: ExecPlan,
}

fn process_parts(process: &Process) -> Result<ProcessParts, RuntimeError> {
    if !process.cwd().is_absolute() {
        return Err(RuntimeError::invalid(format!(
            "process.cwd {:?} is not absolute",
            process.cwd().display()
        )));
    }
    if process.io_priority().is_some()
        || process.scheduler().is_some()
        || process.exec_cpu_affinity().is_some()
    {
        return Err(RuntimeError::Unsupported(
            "process.ioPriority, scheduler and execCPUAffinity".into(),
        ));
    }
    let rlimits = process
        .rlimits()
        .iter()
        .flatten()
        .map(|r| Rlimit {
            name: r.typ().to_string(),
            resource: rlimit_number(r.typ()),
            soft: r.soft(),
            hard: r.hard(),
        })
        .collect();
    Ok(ProcessParts {
        rlimits,
        oom_score_adj: process
            .oom_score_adj()
            .map(|v| cstring(&v.to_string(), "oom_score_adj"))
            .transpose()?,
        terminal: process.terminal().unwrap_or(false),
        user: UserPlan::from_spec(process.user()),
        caps: CapabilityPlan::from_spec(process.capabilities().as_ref(), credentials::last_cap())?,
        no_new_privs: process.no_new_privileges().unwrap_or(false),
        cwd: path_cstring(process.cwd())?,
        exec: ExecPlan::new(
            process.args().as_deref().unwrap_or_default(),
            process.env().as_deref().unwrap_or_default(),
        )?,
    })
}

impl InitPlan {
    /// The plan of a new container.
    pub(crate) fn for_container(req: &SpawnRequest<'_>) -> Result<Self, RuntimeError> {
        let spec = req.spec;
        let process = spec
            .process()
            .as_ref()
            .ok_or_else(|| RuntimeError::invalid("the spec has no process"))?;
        let linux = spec
            .linux()
            .as_ref()
            .ok_or_else(|| RuntimeError::invalid("the spec has no linux section"))?;
        let declared = linux.namespaces().as_deref().unwrap_or_default();
        let mut namespaces = NamespacePlan::for_container(declared)?;
        namespaces.map_user(linux)?;
        let parts = process_parts(process)?;
        let console = if parts.terminal {
            Some(terminal_path(req.stdio[0])?)
        } else {
            None
        };
        let rootfs = RootfsPlan::new(
            spec,
            req.rootfs_overlay.as_ref(),
            console.as_deref(),
            process.cwd(),
            HostInfo::get(),
        )?;

        let uts = declared.iter().find(|n| n.typ() == LinuxNamespaceType::Uts);
        let uts_name = |name: &Option<String>, what: &str| -> Result<Option<CString>, RuntimeError> {
            match (name.as_deref().filter(|n| !n.is_empty()), uts) {
                (None, _) => Ok(None),
                (Some(n), Some(ns)) if ns.path().is_none() => Ok(Some(cstring(n, what)?)),
                // A joined UTS namespace belongs to someone else: its name is left alone.
                (Some(_), Some(_)) => Ok(None),
                (Some(_), None) => Err(RuntimeError::invalid(format!(
                    "setting the {what} needs a private UTS namespace"
                ))),
            }
        };
        let hostname = uts_name(spec.hostname(), "hostname")?;
        let domainname = uts_name(spec.domainname(), "domainname")?;

        let mut sysctls = Vec::new();
        let mut keys: Vec<(&String, &String)> = linux.sysctl().iter().flatten().collect();
        keys.sort();
        for (key, value) in keys {
            if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
                return Err(RuntimeError::invalid(format!("invalid sysctl name {key:?}")));
            }
            sysctls.push(Sysctl {
                key: key.clone(),
                path: cstring(&format!("/proc/sys/{}", key.replace('.', "/")), "sysctl")?,
                value: cstring(value, "sysctl value")?,
            });
        }
        let seccomp = seccomp_programs(linux.seccomp().as_ref())?;

        let container = ContainerParts {
            rootfs: Some(rootfs),
            sysctls,
            hostname,
            domainname,
        };
        Ok(InitPlan::assemble(
            namespaces,
            FdPlan::new(req.stdio, &req.preserve_fds)?,
            container,
            parts,
            seccomp,
        ))
    }

    /// The plan of a process joining the running container `req.container_pid`.
    pub(crate) fn for_exec(req: &ExecRequest<'_>) -> Result<Self, RuntimeError> {
        let parts = process_parts(req.process)?;
        let namespaces = NamespacePlan::for_exec(req.container_pid)?;
        let fds = FdPlan::new(req.stdio, &req.preserve_fds)?;
        let seccomp = seccomp_programs(req.seccomp)?;
        Ok(InitPlan::assemble(
            namespaces,
            fds,
            ContainerParts::default(),
            parts,
            seccomp,
        ))
    }

    fn assemble(
        namespaces: NamespacePlan,
        fds: FdPlan,
        container: ContainerParts,
        parts: ProcessParts,
        seccomp: Vec<seccompiler::BpfProgram>,
    ) -> Self {
        InitPlan {
            namespaces,
            fds,
            channel: ChildEnds { go: -1, report: -1 },
            rootfs: container.rootfs,
            sysctls: container.sysctls,
            hostname: container.hostname,
            domainname: container.domainname,
            oom_score_adj: parts.oom_score_adj,
            rlimits: parts.rlimits,
            terminal: parts.terminal,
            user: parts.user,
            caps: parts.caps,
            no_new_privs: parts.no_new_privs,
            seccomp,
            cwd: parts.cwd,
            exec: parts.exec,
        }
    }

    /// The error for a failure the child reported.
    pub(crate) fn error(&self, failure: &Failure) -> RuntimeError {
        if failure.step == Step::Exec {
            return self.exec.error(failure.errno);
        }
        RuntimeError::Setup {
            step: self.describe(failure),
            errno: failure.errno,
        }
    }

    fn describe(&self, failure: &Failure) -> String {
        if let Some(text) = self.rootfs.as_ref().and_then(|r| r.describe(failure)) {
            return text;
        }
        let index = failure.index as usize;
        let cwd = self.cwd.to_string_lossy();
        match failure.step {
            Step::Fds => "setting up the container's file descriptors".into(),
            Step::Dumpable => "making the process non-dumpable".into(),
            Step::Join => match self.namespaces.joins.get(index) {
                Some(join) => format!("joining namespace {}", join.path),
                None => "joining a namespace".into(),
            },
            Step::CloneInit => "creating the container process".into(),
            Step::WaitGo => "waiting for selkie".into(),
            Step::UnshareCgroup if index == 1 => "creating the container's user namespace".into(),
            Step::UnshareCgroup => "creating the cgroup namespace".into(),
            Step::Terminal => "making the terminal the controlling terminal".into(),
            Step::OomScoreAdj => "writing /proc/self/oom_score_adj".into(),
            Step::Sysctl => match self.sysctls.get(index) {
                Some(s) => format!("setting sysctl {}", s.key),
                None => "setting a sysctl".into(),
            },
            Step::Hostname => format!(
                "setting the hostname to {:?}",
                self.hostname.as_deref().unwrap_or_default()
            ),
            Step::Domainname => {
                format!(
                    "setting the domain name to {:?}",
                    self.domainname.as_deref().unwrap_or_default()
                )
            }
            Step::Rlimit => match self.rlimits.get(index) {
                Some(r) => format!("setting {} to {}:{}", r.name, r.soft, r.hard),
                None => "setting a resource limit".into(),
            },
            Step::Chdir => format!("changing to the working directory {cwd}"),
            Step::BoundingSet => {
                format!(
                    "dropping {} from the bounding set",
                    credentials::capability_name(failure.index)
                )
            }
            Step::KeepCaps => "keeping capabilities across the user change".into(),
            Step::Groups => format!("setting supplementary groups {:?}", self.user.groups),
            Step::Gid => format!("setting gid {}", self.user.gid),
            Step::Uid => format!("setting uid {}", self.user.uid),
            Step::Capset => "setting capabilities".into(),
            Step::Ambient if failure.index == 64 => "clearing ambient capabilities".into(),
            Step::Ambient => format!(
                "raising ambient capability {}",
                credentials::capability_name(failure.index)
            ),
            Step::NoNewPrivs => "setting no_new_privs".into(),
            Step::Seccomp => "loading the seccomp filter".into(),
            Step::Signals => "resetting signal handling".into(),
            Step::CloseFds => "closing inherited file descriptors".into(),
            other => format!("container setup step {other:?}"),
        }
    }
}
