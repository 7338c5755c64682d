//! The flags `run` and `create` share (Podman's names), turned into the engine's `CreateConfig`.

use anyhow::Context as _;
use clap::{ArgAction, Args};
use pkg::container::config::{CgroupsMode, CreateConfig, MountKind, NamespaceMode};
use pkg::container::parse;

#[derive(Args, Debug, Clone)]
pub struct ContainerFlags {
    #[command(flatten)]
    pub registry: super::registry_flags::RegistryFlags,
    /// Print help (`-h` is --hostname, as in Podman)
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Add annotations to container (key=value)
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Add capabilities to the container
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop capabilities from the container
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Write the container ID to the file
    #[arg(long, value_name = "FILE")]
    pub cidfile: Option<std::path::PathBuf>,
    /// Override the key sequence for detaching a container
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Cgroup mode (enabled, disabled, no-conmon)
    #[arg(long, value_name = "MODE", default_value = "enabled")]
    pub cgroups: String,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, value_name = "SHARES")]
    pub cpu_shares: Option<u64>,
    /// Number of CPUs. The default is 0.000 which means no limit
    #[arg(long, value_name = "CPUS")]
    pub cpus: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long, value_name = "CPUS")]
    pub cpuset_cpus: Option<String>,
    /// Add a host device to the container
    #[arg(long = "device", value_name = "DEVICE")]
    pub devices: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Set environment variables in container
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Use all current host environment variables in container
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub env_host: bool,
    /// Add additional groups to the primary container process
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// Set container hostname
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub init: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub interactive: bool,
    /// IPC namespace to use (host, private, ns:PATH, container:ID)
    #[arg(long, add = crate::complete::namespaces())]
    pub ipc: Option<String>,
    /// Set metadata on container (key=value)
    #[arg(short, long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Memory limit (format: <number>[<unit>], where unit = b (bytes), k (KiB), m (MiB), or g (GiB))
    #[arg(short = 'm', long, value_name = "MEMORY")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long, value_name = "MEMORY", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "MOUNT")]
    pub mounts: Vec<String>,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Connect a container to a network (bridge, none, host, private, NAME, ns:PATH, container:ID)
    #[arg(long, alias = "net", add = crate::complete::networks())]
    pub network: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<String>,
    /// Set custom DNS options
    #[arg(long = "dns-option", value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Expose a port or a range of ports (published with -P)
    #[arg(long = "expose", value_name = "PORT")]
    pub expose: Vec<String>,
    /// Specify a static IPv4 address for the container
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// Container MAC address (e.g. 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "MAC")]
    pub mac_address: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", value_name = "ALIAS")]
    pub network_alias: Vec<String>,
    /// Do not create /etc/hosts within the container, instead use the version from the image
    #[arg(long)]
    pub no_hosts: bool,
    /// Publish all exposed ports to random ports on the host interface
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// PID namespace to use (host, private, ns:PATH, container:ID)
    #[arg(long, add = crate::complete::namespaces())]
    pub pid: Option<String>,
    /// Pass a number of additional file descriptors into the container
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, value_name = "LIMIT", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Publish a container's port to the host ([IP:]HOST_PORT:CONTAINER_PORT[/PROTO])
    #[arg(short = 'p', long, value_name = "PORT")]
    pub publish: Vec<String>,
    /// Give extended privileges to container
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub privileged: bool,
    /// Pull image policy (always, missing, never, newer)
    #[arg(long, default_value = "missing", add = crate::complete::pull_policies())]
    pub pull: String,
    /// Suppress output information when pulling images
    #[arg(short, long)]
    pub quiet: bool,
    /// Make containers root filesystem read-only
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub read_only: bool,
    /// If a container with the same name exists, replace it
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub replace: bool,
    /// Remove container (and pod if created) after exit
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub rm: bool,
    /// The first argument is not an image but the rootfs to the exploded container
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub rootfs: bool,
    /// Path to an OCI runtime (runc, crun) to run the container with instead of the built-in one
    #[arg(long)]
    pub runtime: Option<String>,
    /// Control sd-notify behavior (conmon, container, ignore, healthy)
    #[arg(long, value_parser = ["conmon", "container", "ignore", "healthy"])]
    pub sdnotify: Option<String>,
    /// Security options
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Proxy received signals to the process
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = true, action = ArgAction::Set)]
    pub sig_proxy: bool,
    /// Signal to stop a container. Default is SIGTERM
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container. Default is 10
    #[arg(long, default_value_t = 10)]
    pub stop_timeout: u32,
    /// Mount a temporary filesystem (tmpfs) into a container
    #[arg(long = "tmpfs", value_name = "TMPFS")]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY for container
    #[arg(short, long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value_t = false, action = ArgAction::Set)]
    pub tty: bool,
    /// Ulimit options
    #[arg(long = "ulimit", value_name = "ULIMIT")]
    pub ulimits: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// User namespace to use (host, keep-id, nomap, auto[:size=N])
    #[arg(long, value_name = "USERNS")]
    pub userns: Option<String>,
    /// UID map for the user namespace (CONTAINER_UID:FROM_UID:AMOUNT)
    #[arg(long, value_name = "UIDMAP")]
    pub uidmap: Vec<String>,
    /// GID map for the user namespace (CONTAINER_GID:FROM_GID:AMOUNT)
    #[arg(long, value_name = "GIDMAP")]
    pub gidmap: Vec<String>,
    /// UTS namespace to use (host, private, ns:PATH, container:ID)
    #[arg(long, add = crate::complete::namespaces())]
    pub uts: Option<String>,
    /// Bind mount a volume into the container
    #[arg(short = 'v', long = "volume", value_name = "VOLUME")]
    pub volumes: Vec<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
}

impl ContainerFlags {
    /// `--pull`: makes the image local as the policy says (never for `--rootfs`).
    pub fn pull_image(&self, engine: &pkg::Engine, image: &str) -> anyhow::Result<()> {
        if self.rootfs {
            return Ok(());
        }
        let policy: pkg::registry::pull::PullPolicy = self.pull.parse()?;
        let opts = pkg::registry::pull::PullOptions {
            transport: self.registry.transport()?,
            platform: None,
            quiet: self.quiet,
        };
        Ok(pkg::registry::pull::ensure_local(engine, image, policy, &opts)?)
    }

    /// Validates every flag and builds the engine's configuration for image (or rootfs) `image`.
    pub fn to_config(&self, image: &str, command: &[String], detach: bool) -> anyhow::Result<CreateConfig> {
        let mut mounts = vec![];
        for v in &self.volumes {
            mounts.push(parse::parse_volume(v)?);
        }
        for m in &self.mounts {
            let spec = parse::parse_mount(m)?;
            // Unlike -v, --mount type=bind never creates its source.
            if spec.kind == MountKind::Bind && !std::path::Path::new(&spec.source).exists() {
                anyhow::bail!("statfs {}: no such file or directory", spec.source);
            }
            mounts.push(spec);
        }
        for t in &self.tmpfs {
            mounts.push(parse::parse_tmpfs(t)?);
        }
        let mut env = vec![];
        for f in &self.env_file {
            env.extend(
                parse::parse_env_file(f).with_context(|| format!("reading env file {}", f.display()))?,
            );
        }
        env.extend(self.env.iter().cloned());
        let labels = self
            .labels
            .iter()
            .map(|l| parse::parse_label(l))
            .collect::<pkg::Result<_>>()?;
        let annotations = self
            .annotations
            .iter()
            .map(|l| parse::parse_label(l))
            .collect::<pkg::Result<_>>()?;
        let ulimits = self
            .ulimits
            .iter()
            .map(|u| parse::parse_ulimit(u))
            .collect::<pkg::Result<_>>()?;
        let ns = |flag: &str, v: &Option<String>| -> pkg::Result<NamespaceMode> {
            v.as_deref()
                .map(|v| parse::parse_namespace(flag, v))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        if let Some(s) = &self.stop_signal {
            parse::parse_stop_signal(s)?;
        }
        for s in &self.security_opt {
            parse::parse_security_opt(s)?;
        }
        for d in &self.devices {
            parse::parse_device(d)?;
        }
        // Socket activation: the sockets systemd handed to this process go on to the container at the same
        // numbers, with LISTEN_PID naming the container's main process as it sees itself.
        let mut preserve_fds = self.preserve_fds;
        if let Some((count, names)) = socket_activation() {
            preserve_fds = preserve_fds.max(count);
            env.push(format!("LISTEN_FDS={count}"));
            env.push("LISTEN_PID=1".into());
            if let Some(n) = names {
                env.push(format!("LISTEN_FDNAMES={n}"));
            }
        }
        let memory = self
            .memory
            .as_deref()
            .map(pkg::cgroups::parse_memory_limit)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let memory_swap = self
            .memory_swap
            .as_deref()
            .map(|s| pkg::cgroups::parse_memory_swap(s, memory))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let nano_cpus = self
            .cpus
            .as_deref()
            .map(pkg::cgroups::parse_cpus)
            .transpose()
            .map_err(anyhow::Error::msg)?
            .filter(|n| *n > 0);
        let cgroups: CgroupsMode = self.cgroups.parse().map_err(anyhow::Error::msg)?;
        let (network_mode, networks) = match self.network.as_deref() {
            Some(n) => pkg::network::parse_network_flag(n)?,
            None => Default::default(),
        };
        Ok(CreateConfig {
            image: if self.rootfs {
                String::new()
            } else {
                image.to_string()
            },
            image_id: String::new(),
            rootfs: self.rootfs.then(|| std::path::PathBuf::from(image)),
            name: self.name.clone().unwrap_or_default(),
            labels,
            annotations,
            entrypoint: self.entrypoint.as_deref().map(parse::parse_entrypoint),
            command: command.to_vec(),
            env,
            env_host: self.env_host,
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            group_add: self.group_add.clone(),
            hostname: self.hostname.clone(),
            tty: self.tty,
            interactive: self.interactive,
            detach,
            auto_remove: self.rm,
            read_only: self.read_only,
            privileged: self.privileged,
            init: self.init,
            mounts,
            network: network_mode,
            pid: ns("pid", &self.pid)?,
            ipc: ns("ipc", &self.ipc)?,
            uts: ns("uts", &self.uts)?,
            ulimits,
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            sig_proxy: self.sig_proxy,
            detach_keys: self.detach_keys.clone(),
            runtime: self.runtime.clone(),
            default_capabilities: None,
            cap_add: comma_list(&self.cap_add),
            cap_drop: comma_list(&self.cap_drop),
            security_opt: self.security_opt.clone(),
            devices: self.devices.clone(),
            sdnotify: self.sdnotify.clone(),
            preserve_fds,
            memory,
            memory_swap,
            nano_cpus,
            cpu_shares: self.cpu_shares,
            cpuset_cpus: self.cpuset_cpus.clone(),
            pids_limit: self.pids_limit,
            cgroups,
            publish: self.publish.clone(),
            network_options: pkg::network::NetworkOptions {
                networks,
                ip: self.ip.clone(),
                mac: self.mac_address.clone(),
                aliases: comma_list(&self.network_alias),
                dns: comma_list(&self.dns),
                dns_search: comma_list(&self.dns_search),
                dns_options: comma_list(&self.dns_option),
                add_hosts: self.add_host.clone(),
                no_hosts: self.no_hosts,
                publish_all: self.publish_all,
                expose: comma_list(&self.expose),
            },
            userns: pkg::rootless::mapping::UsernsConfig {
                mode: self.userns.clone().unwrap_or_default(),
                uidmap: comma_list(&self.uidmap),
                gidmap: comma_list(&self.gidmap),
            },
        })
    }
}

/// `LISTEN_FDS` and `LISTEN_FDNAMES` when `LISTEN_PID` names this process (sd_listen_fds(3)).
fn socket_activation() -> Option<(u32, Option<String>)> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    if pid != std::process::id() {
        return None;
    }
    let count: u32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    (count > 0).then(|| (count, std::env::var("LISTEN_FDNAMES").ok()))
}

/// Podman's string-slice flags take several values in one, comma-separated (`--cap-add A,B`).
fn comma_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}
