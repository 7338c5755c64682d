//! Generating a container's OCI runtime spec (`config.json`) from its [`CreateConfig`], its image's
//! config and a few facts about the host, with Podman 4's defaults: what `podman run` would hand runc.
//!
//! [`generate`] is the entry point. It reads the container's `/etc/passwd` and `/etc/group` without
//! mounting anything ([`RootView`]), stats `--device` nodes and bind-mount sources on the host, and
//! writes the files it bind-mounts in (`hosts`, `hostname`, `resolv.conf`, `.containerenv`) into the
//! container's `userdata` directory. Everything else that depends on the host is in [`HostFacts`],
//! probed once with [`HostFacts::probe`] (tests build their own), so the same inputs give the same spec.
//!
//! What this module never does: mount, create namespaces, change ownership of host paths, or touch the
//! image store. The runtime (`crate::runtime`) executes the spec; the container code decides where the
//! rootfs, userdata and volumes live.
//!
//! Where each default comes from (Podman 4.3.1 and containers/common 0.50.1 unless said otherwise):
//! - capabilities: containers.conf `default_capabilities` ([`security::DEFAULT_CAPABILITIES`]);
//!   `--privileged` gets the caller's bounding set; `pkg/specgen/generate/security_linux.go`.
//! - masked and read-only paths: `BlockAccessToKernelFilesystems` in `pkg/specgen/generate/config_linux.go`.
//! - mounts: runtime-tools' defaults as `SpecGenToOCI` adjusts them (`oci_linux.go`), `/dev/shm` with
//!   `shm_size` 65536k, the `/etc` files from `libpod/container_internal_common.go`, option defaults from
//!   `pkg/util/mountOpts.go`, `--read-only` tmpfs from `pkg/specgenutil/volumes.go`.
//! - environment, command, working directory: `pkg/specgen/generate/container.go` and `oci.go`; `TERM`
//!   only with `-t` as Podman 5 (Podman 4.3.1 always set `TERM=xterm`).
//! - rlimits: `addRlimits` (Podman 5's clamping to the caller's limits without `CAP_SYS_RESOURCE`).
//! - pids limit 2048 (`DefaultPidsLimit`), sysctl `net.ipv4.ping_group_range=0 0` (shipped containers.conf).
//! - verified against the `config.json` Debian's Podman 4.3.1 writes on these machines.

mod devices;
mod etc_files;
mod mounts;
mod namespaces;
mod process;
mod rootview;
mod security;
mod user;

pub use devices::device_rule;
pub use mounts::image_volume_destinations;
pub use process::DEFAULT_PATH;
pub use rootview::RootView;
pub use security::{parse_capability, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS};
pub use user::{resolve_exec_user, resolve_user, ExecUser};

use super::config::{CreateConfig, NetworkMode, Ulimit};
use super::parse::{parse_security_opt, parse_stop_signal, SecurityOpt};
use crate::error::Result;
use crate::image::config::ImageConfigFile;
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder, ProcessBuilder,
    RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Resolves `container:ID` namespace modes at start: the path of that container's namespace of this type
/// (typically `/proc/<its pid>/ns/<type>`).
pub type ContainerNsResolver = dyn Fn(&str, LinuxNamespaceType) -> Result<PathBuf>;

/// What [`generate`] needs about the host, probed once per command by [`HostFacts::probe`].
#[derive(Clone, Debug)]
pub struct HostFacts {
    /// The caller's current resource limits, by `--ulimit` name.
    pub rlimits: Vec<Ulimit>,
    /// Whether limits may be raised above the caller's hard limits (`CAP_SYS_RESOURCE`, not rootless).
    pub can_raise_rlimits: bool,
    /// The caller's capability bounding set: what `--privileged` gets, and the ceiling for everyone.
    pub bounding_caps: Vec<Capability>,
    /// A unified cgroup v2 hierarchy (then containers get a cgroup namespace, as Podman).
    pub cgroup_v2: bool,
    /// The host's name (`--uts host`, `--network host`).
    pub hostname: String,
    /// The host's `/etc/hosts`, the base of the container's.
    pub hosts: String,
    /// The host's resolver configuration (systemd-resolved's upstream file when `/etc/resolv.conf` is
    /// its 127.0.0.53 stub).
    pub resolv_conf: String,
    /// Running without root (recorded in `.containerenv`).
    pub rootless: bool,
}

impl HostFacts {
    /// Reads the facts from this process and host.
    pub fn probe() -> HostFacts {
        let rootless = crate::rootless::is_rootless();
        let sys_resource =
            caps::has_cap(None, caps::CapSet::Effective, caps::Capability::CAP_SYS_RESOURCE).unwrap_or(false);
        let bounding_caps = caps::read(None, caps::CapSet::Bounding)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                c.to_string()
                    .trim_start_matches("CAP_")
                    .parse::<Capability>()
                    .ok()
            })
            .collect();
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let mut resolv_conf = read("/etc/resolv.conf");
        if resolv_conf
            .lines()
            .any(|l| l.split_whitespace().eq(["nameserver", "127.0.0.53"]))
        {
            let upstream = read("/run/systemd/resolve/resolv.conf");
            if !upstream.is_empty() {
                resolv_conf = upstream;
            }
        }
        HostFacts {
            rlimits: super::parse::host_ulimits(),
            can_raise_rlimits: sys_resource && !rootless,
            bounding_caps,
            cgroup_v2: crate::system::cgroup_version() == "v2",
            hostname: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            hosts: read("/etc/hosts"),
            resolv_conf,
            rootless,
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> HostFacts {
        HostFacts {
            rlimits: vec![
                Ulimit {
                    name: "nofile".into(),
                    soft: 20000,
                    hard: 20000,
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 96364,
                    hard: 96364,
                },
            ],
            can_raise_rlimits: false,
            bounding_caps: caps::all()
                .into_iter()
                .filter_map(|c| c.to_string().trim_start_matches("CAP_").parse().ok())
                .collect(),
            cgroup_v2: false,
            hostname: "testhost".into(),
            hosts: "127.0.0.1 localhost\n".into(),
            resolv_conf: "nameserver 10.0.0.2\n".into(),
            rootless: false,
        }
    }
}

/// Everything [`generate`] works from.
pub struct SpecInputs<'a> {
    pub cfg: &'a CreateConfig,
    /// The image's config; `None` with `--rootfs`.
    pub image: Option<&'a ImageConfigFile>,
    /// `root.path`: the merged overlay directory, or the `--rootfs` directory.
    pub rootfs: &'a Path,
    /// The image's layer directories, top first, to read `/etc/passwd` and `/etc/group` without
    /// mounting (put the container's own upper directory first if it has one). Empty: read `rootfs`.
    pub lower_dirs: &'a [PathBuf],
    /// A per-container host directory where `hosts`, `hostname`, `resolv.conf` and `.containerenv`
    /// are written and bind-mounted from.
    pub userdata: &'a Path,
    /// Host directories of the named and anonymous volumes, by container destination: one per
    /// `MountKind::Volume` mount (required) and per image volume (optional, see
    /// [`image_volume_destinations`]).
    pub volume_paths: &'a [(String, PathBuf)],
    pub container_id: &'a str,
    /// The caller's environment, for `-e KEY`, `-e PREFIX*`, `--env-host` and the proxy variables.
    pub caller_env: &'a [(String, String)],
}

/// The `--security-opt` values, gathered.
#[derive(Default)]
struct Security {
    no_new_privileges: bool,
    mask: Vec<String>,
    unmask: Vec<String>,
    proc_opts: Option<Vec<String>>,
    /// `seccomp=unconfined`.
    seccomp_unconfined: bool,
    /// `seccomp=PATH`.
    seccomp_profile: Option<String>,
}

fn security_opts(cfg: &CreateConfig) -> Result<Security> {
    let mut s = Security::default();
    for o in &cfg.security_opt {
        match parse_security_opt(o)? {
            SecurityOpt::NoNewPrivileges(b) => s.no_new_privileges = b,
            SecurityOpt::Mask(p) => s.mask.extend(p),
            SecurityOpt::Unmask(p) => s.unmask.extend(p),
            SecurityOpt::ProcOpts(p) => s.proc_opts = Some(p),
            SecurityOpt::SeccompUnconfined => s.seccomp_unconfined = true,
            SecurityOpt::SeccompProfile(p) => s.seccomp_profile = Some(p),
            SecurityOpt::Ignored(_) => {}
        }
    }
    Ok(s)
}

/// The stop signal's number: `--stop-signal`, else the image's `StopSignal`, else SIGTERM.
pub fn stop_signal(cfg: &CreateConfig, image: Option<&ImageConfigFile>) -> Result<i32> {
    match cfg
        .stop_signal
        .as_deref()
        .or(image.and_then(|i| i.config.stop_signal.as_deref()))
    {
        Some(s) if !s.is_empty() => parse_stop_signal(s),
        _ => Ok(libc::SIGTERM),
    }
}

fn podman_bool(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// Podman's annotations, after the user's (which may not override the `io.podman.annotations.*` ones,
/// as in Podman).
fn annotations(cfg: &CreateConfig, stop_signal: i32) -> HashMap<String, String> {
    let mut a: HashMap<String, String> = cfg
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    a.entry("io.container.manager".into())
        .or_insert_with(|| "libpod".into());
    a.insert(
        "io.podman.annotations.autoremove".into(),
        podman_bool(cfg.auto_remove),
    );
    a.insert("io.podman.annotations.init".into(), podman_bool(cfg.init));
    a.insert(
        "io.podman.annotations.privileged".into(),
        podman_bool(cfg.privileged),
    );
    a.insert("io.podman.annotations.publish-all".into(), podman_bool(false));
    a.insert("io.kubernetes.cri-o.TTY".into(), cfg.tty.to_string());
    a.insert(
        "io.kubernetes.cri-o.Created".into(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    );
    a.insert(
        "org.opencontainers.image.stopSignal".into(),
        stop_signal.to_string(),
    );
    a
}

/// The `linux.seccomp` section: the default profile (or `seccomp=PATH`'s) resolved for the
/// container's bounding set; none with `--privileged` or `seccomp=unconfined` (as Podman).
fn seccomp(
    cfg: &CreateConfig,
    security: &Security,
    caps: Option<&oci_spec::runtime::LinuxCapabilities>,
) -> Result<Option<oci_spec::runtime::LinuxSeccomp>> {
    use crate::seccomp::{HostArch, Profile};
    if cfg.privileged || security.seccomp_unconfined {
        return Ok(None);
    }
    let profile = match &security.seccomp_profile {
        Some(path) => Profile::load(Path::new(path)).map_err(crate::Error::Config)?,
        None => Profile::default_profile(),
    };
    let Some(arch) = HostArch::native() else {
        return match security.seccomp_profile {
            Some(_) => Err(crate::Error::Config(
                "seccomp profiles are not supported on this architecture".into(),
            )),
            None => Ok(None),
        };
    };
    let bounding: HashSet<String> = caps
        .and_then(|c| c.bounding().as_ref())
        .into_iter()
        .flatten()
        .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_string))
        .collect();
    crate::seccomp::resolve(&profile, &bounding, &arch, crate::seccomp::kernel_version())
        .map(Some)
        .map_err(crate::Error::Config)
}

/// The pids cgroup limit (containers.conf `pids_limit`).
pub const PIDS_LIMIT: i64 = 2048;

/// `--pids-limit` (0 or negative: unlimited, -1 in the spec), else [`PIDS_LIMIT`].
fn pids_limit(cfg: &CreateConfig) -> i64 {
    match cfg.pids_limit {
        None => PIDS_LIMIT,
        Some(n) if n <= 0 => -1,
        Some(n) => n,
    }
}

/// `--memory`, `--memory-swap` (memory plus swap; twice the memory when not given, as Podman).
fn memory(cfg: &CreateConfig) -> Option<oci_spec::runtime::LinuxMemory> {
    let limit = cfg.memory?;
    let swap = cfg.memory_swap.unwrap_or(limit.saturating_mul(2));
    let mut m = oci_spec::runtime::LinuxMemory::default();
    m.set_limit(Some(limit));
    m.set_swap(Some(swap));
    Some(m)
}

/// `--cpus` (as a CFS quota per 100 ms), `--cpu-shares`, `--cpuset-cpus`.
fn cpu(cfg: &CreateConfig) -> Option<oci_spec::runtime::LinuxCpu> {
    if cfg.nano_cpus.is_none() && cfg.cpu_shares.is_none() && cfg.cpuset_cpus.is_none() {
        return None;
    }
    let mut c = oci_spec::runtime::LinuxCpu::default();
    if let Some(n) = cfg.nano_cpus.filter(|n| *n > 0) {
        c.set_quota(Some(crate::cgroups::cfs_quota(n)));
        c.set_period(Some(crate::cgroups::CFS_PERIOD));
    }
    c.set_shares(cfg.cpu_shares);
    c.set_cpus(cfg.cpuset_cpus.clone());
    Some(c)
}

/// Generates the container's runtime spec (and writes its `/etc` files into `userdata`), probing the
/// host's facts; `container:ID` namespace modes are refused (use [`generate_with`]).
pub fn generate(inputs: &SpecInputs) -> Result<Spec> {
    generate_with(inputs, &HostFacts::probe(), None)
}

/// [`generate`] with the host's facts given, and a resolver for `container:ID` namespace modes.
pub fn generate_with(
    inputs: &SpecInputs,
    host: &HostFacts,
    join_container: Option<&ContainerNsResolver>,
) -> Result<Spec> {
    let cfg = inputs.cfg;
    let security = security_opts(cfg)?;

    // Who runs.
    let root_view = if inputs.lower_dirs.is_empty() {
        RootView::dir(inputs.rootfs)
    } else {
        RootView::layers(inputs.lower_dirs)
    };
    let user_spec = match &cfg.user {
        Some(u) => u.clone(),
        None => inputs
            .image
            .and_then(|i| i.config.user.clone())
            .unwrap_or_default(),
    };
    let exec_user = resolve_user(&root_view, &user_spec, &cfg.group_add)?;

    // Names.
    let (spec_hostname, hostname) = namespaces::hostname(cfg, host, inputs.container_id)?;
    let namespaces = namespaces::namespaces(cfg, host, join_container)?;

    // Process.
    let args = process::command(cfg, inputs.image)?;
    let env = process::environment(cfg, inputs.image, inputs.caller_env, &hostname, &exec_user.home)?;
    let caps = security::capabilities(cfg, &user_spec, &host.bounding_caps)?;
    let seccomp = seccomp(cfg, &security, Some(&caps))?;
    let user = UserBuilder::default()
        .uid(exec_user.uid)
        .gid(exec_user.gid)
        .umask(0o022u32)
        .additional_gids(exec_user.additional_gids.clone())
        .build()
        .expect("all user fields set");
    let process = ProcessBuilder::default()
        .terminal(cfg.tty)
        .user(user)
        .args(args)
        .env(env)
        .cwd(process::working_dir(cfg, inputs.image)?)
        .capabilities(caps)
        .rlimits(process::rlimits(cfg, host)?)
        .no_new_privileges(security.no_new_privileges)
        .build()
        .expect("all process fields set");

    // Files and mounts.
    let base_hosts = crate::network::etc::base_hosts(&host.hosts, &cfg.network_options);
    let hosts = etc_files::hosts(&base_hosts, &cfg.network, &hostname, &cfg.name);
    let resolv = match cfg.network {
        NetworkMode::None => None,
        NetworkMode::Host => Some(etc_files::resolv_conf(&host.resolv_conf, true)),
        _ => Some(crate::rootless::slirp::with_dns(
            cfg,
            etc_files::resolv_conf(&host.resolv_conf, false),
        )),
    };
    let resolv = resolv.map(|r| crate::network::etc::resolv_flags(r, &cfg.network_options));
    let containerenv = etc_files::containerenv(&etc_files::ContainerEnv {
        privileged: cfg.privileged,
        rootless: host.rootless,
        name: &cfg.name,
        id: inputs.container_id,
        image: &cfg.image,
        image_id: &cfg.image_id,
    });
    let etc = etc_files::write(
        inputs.userdata,
        &hosts,
        &hostname,
        resolv.as_deref(),
        &containerenv,
    )?;
    let mounts = mounts::mounts(&mounts::MountInputs {
        cfg,
        image: inputs.image,
        etc: &etc,
        volume_paths: inputs.volume_paths,
        user: &exec_user,
        cgroup_v2: host.cgroup_v2,
        unmask: &security.unmask,
        proc_opts: security.proc_opts.as_deref(),
    })?;

    // Devices and resources.
    let (devices, device_rules) = if cfg.privileged {
        (
            devices::host_devices(Path::new("/dev"))?,
            vec![devices::allow_all()],
        )
    } else {
        let (devs, rules) = devices::requested(&cfg.devices)?;
        let mut all = vec![devices::deny_all()];
        all.extend(devices::default_rules());
        all.extend(rules);
        (devs, all)
    };
    let mut resources = LinuxResourcesBuilder::default()
        .devices(device_rules)
        .pids(
            LinuxPidsBuilder::default()
                .limit(pids_limit(cfg))
                .build()
                .expect("limit set"),
        )
        .build()
        .expect("all resource fields set");
    resources.set_memory(memory(cfg));
    resources.set_cpu(cpu(cfg));
    let (masked, readonly) = security::kernel_paths(cfg.privileged, &security.mask, &security.unmask);
    let mut sysctl = HashMap::new();
    if !matches!(cfg.network, NetworkMode::Host | NetworkMode::Container(_)) {
        sysctl.insert("net.ipv4.ping_group_range".to_string(), "0 0".to_string());
    }
    // The builders start from oci-spec's Default values (a "youki" hostname, default namespaces...):
    // set every field that matters explicitly.
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .resources(resources)
        .cgroups_path(PathBuf::from(format!("/selkie/{}", inputs.container_id)))
        .masked_paths(masked)
        .readonly_paths(readonly)
        .sysctl(sysctl)
        .build()
        .expect("all linux fields set");
    linux.set_devices(Some(devices).filter(|d| !d.is_empty()));
    linux.set_seccomp(seccomp);
    // A user namespace of the container's own (`--userns`, `--uidmap`; see `rootless::mapping`).
    if let Some((uids, gids)) = crate::rootless::mapping::spec_mappings(&cfg.userns)? {
        let mut all = linux.namespaces().clone().unwrap_or_default();
        all.push(
            oci_spec::runtime::LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::User)
                .build()
                .expect("type set"),
        );
        linux.set_namespaces(Some(all));
        linux.set_uid_mappings(Some(uids));
        linux.set_gid_mappings(Some(gids));
    }

    let root = RootBuilder::default()
        .path(inputs.rootfs)
        .readonly(cfg.read_only)
        .build()
        .expect("root path set");
    let mut spec = SpecBuilder::default()
        .version("1.0.2-dev")
        .root(root)
        .process(process)
        .mounts(mounts)
        .annotations(annotations(cfg, stop_signal(cfg, inputs.image)?))
        .linux(linux)
        .build()
        .expect("all spec fields set");
    spec.set_hostname(spec_hostname);
    spec.set_domainname(None);
    spec.set_hooks(None);
    Ok(spec)
}

#[cfg(test)]
mod tests;
