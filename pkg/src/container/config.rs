//! What a container is created with: every `run`/`create` flag, parsed and validated at the edge into
//! typed values, kept in the container's record so that `start`, `restart` and `inspect` see exactly
//! what `create` saw.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How a namespace is provided.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceMode {
    /// A new namespace of the container's own (the default).
    #[default]
    Private,
    /// The host's namespace: no new one is created.
    Host,
    /// Join the namespace at this path (`ns:PATH`).
    Path(PathBuf),
    /// Join another container's namespace (`container:ID`), resolved at start.
    Container(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// A private network namespace with only loopback, up (the default until bridge networking exists).
    #[default]
    Private,
    /// A private network namespace with loopback down... as Podman's `none`: loopback only.
    None,
    Host,
    Path(PathBuf),
    Container(String),
}

/// One mount requested with `-v`, `--mount` or `--tmpfs`, or implied by an image VOLUME.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// `bind`, `tmpfs` or `volume`.
    pub kind: MountKind,
    /// Host path for bind, volume name for volume (empty for anonymous), unused for tmpfs.
    pub source: String,
    /// Absolute path inside the container.
    pub destination: String,
    pub read_only: bool,
    /// Remaining options as given (`nosuid`, `nodev`, `noexec`, `rbind`, `size=64m`, `mode=1777`, `z`, `Z`,
    /// `U`, `rprivate`...), passed to the runtime where they mean something to mounting.
    pub options: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Tmpfs,
    Volume,
}

/// `--ulimit name=soft[:hard]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// Lower-case name as given (`nofile`, `nproc`, `core`...), mapped to `RLIMIT_*` by the spec generator.
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConfig {
    /// The image as the user named it, and its ID (config digest hex). Empty ID with `rootfs`.
    pub image: String,
    pub image_id: String,
    /// `--rootfs DIR`: an exploded root filesystem instead of an image.
    pub rootfs: Option<PathBuf>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,

    /// `--entrypoint` (None: the image's). `Some(vec![])` clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Arguments after the image (empty: the image's Cmd).
    pub command: Vec<String>,
    /// `-e`, `--env-file` (already read), in order; `KEY` alone means "take it from the caller's environment".
    pub env: Vec<String>,
    /// `--env-host`: start from the caller's whole environment.
    pub env_host: bool,
    pub workdir: Option<String>,
    /// `-u user[:group]` (names resolved inside the container at start).
    pub user: Option<String>,
    /// `--group-add`
    pub group_add: Vec<String>,
    pub hostname: Option<String>,

    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    /// `--rm`
    pub auto_remove: bool,
    pub read_only: bool,
    pub privileged: bool,
    /// `--init`: run a minimal init as PID 1 that reaps zombies and forwards signals.
    pub init: bool,

    pub mounts: Vec<MountSpec>,
    pub network: NetworkMode,
    pub pid: NamespaceMode,
    pub ipc: NamespaceMode,
    pub uts: NamespaceMode,
    pub ulimits: Vec<Ulimit>,

    /// `--stop-signal` (None: the image's StopSignal, else SIGTERM).
    pub stop_signal: Option<String>,
    /// `--stop-timeout` seconds (default 10).
    pub stop_timeout: u32,
    /// `--sig-proxy` (default true).
    pub sig_proxy: bool,
    /// `--detach-keys` (default `ctrl-p,ctrl-q`).
    pub detach_keys: Option<String>,
    /// `--runtime`: an external OCI runtime (runc, crun, or a path) instead of the built-in one.
    pub runtime: Option<String>,

    // Security (issue: security defaults). Empty means Podman's defaults.
    /// containers.conf `default_capabilities` when set (None: Podman's default set).
    #[serde(default)]
    pub default_capabilities: Option<Vec<String>>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--security-opt` values as given (`no-new-privileges`, `seccomp=...`, `mask=...`, `unmask=...`, `label=...`).
    pub security_opt: Vec<String>,
    /// `--device HOST[:CTR][:rwm]`
    pub devices: Vec<String>,

    // systemd integration (issue: fork/exec guarantees).
    /// `--sdnotify` (conmon, container, ignore, healthy); None: conmon.
    pub sdnotify: Option<String>,
    /// `--preserve-fds N`
    pub preserve_fds: u32,

    // Resources (issue: cgroups). None: no limit (pids: Podman's default, 2048).
    /// `-m/--memory` in bytes.
    #[serde(default)]
    pub memory: Option<i64>,
    /// `--memory-swap`: memory plus swap in bytes, -1 unlimited (None: twice `memory`, as Podman).
    #[serde(default)]
    pub memory_swap: Option<i64>,
    /// `--cpus` as nano-CPUs (CFS quota = nano_cpus * period / 1e9, period 100000).
    #[serde(default)]
    pub nano_cpus: Option<u64>,
    /// `--cpu-shares`
    #[serde(default)]
    pub cpu_shares: Option<u64>,
    /// `--cpuset-cpus`
    #[serde(default)]
    pub cpuset_cpus: Option<String>,
    /// `--pids-limit` (0 or -1: unlimited).
    #[serde(default)]
    pub pids_limit: Option<i64>,
    /// `--cgroups`
    #[serde(default)]
    pub cgroups: CgroupsMode,
    /// `--userns`, `--uidmap`, `--gidmap` (issue: rootless).
    #[serde(default)]
    pub userns: crate::rootless::mapping::UsernsConfig,
    /// `-p/--publish` as given (rootless: forwarded by slirp4netns).
    #[serde(default)]
    pub publish: Vec<String>,
    /// Named networks, `--ip`, `--dns`, `--add-host`, `-P`... (root: bridge networks, `crate::network`).
    #[serde(default)]
    pub network_options: crate::network::NetworkOptions,
}

/// `--cgroups`: whether the container gets a cgroup of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CgroupsMode {
    #[default]
    Enabled,
    /// No cgroup is created: the container stays in the monitor's, and no limit applies.
    Disabled,
    /// As `enabled` (selkie's monitor never has a cgroup of its own).
    NoConmon,
}

impl std::str::FromStr for CgroupsMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "enabled" => Ok(CgroupsMode::Enabled),
            "disabled" => Ok(CgroupsMode::Disabled),
            "no-conmon" => Ok(CgroupsMode::NoConmon),
            _ => Err(format!(
                "invalid cgroup mode {s:?}: must be one of enabled, disabled or no-conmon"
            )),
        }
    }
}
