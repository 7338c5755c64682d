//! A container's life: create (directories, volumes, spec, record), start (through the monitor),
//! stop, kill, wait and remove.
//!
//! Visibility follows the store's rule: a container exists once its record is in `containers.json`,
//! which is written last on create and first on remove, under the store lock. A directory without a
//! record is debris of a killed command and is removed by the next create.

use super::config::{CreateConfig, MountKind};
use super::monitor::Report;
use super::names::{new_id, random_name, valid_name};
use super::paths::ContainerPaths;
use super::state::{self, ContainerState, Status};
use super::store::{self, ContainerRecord};
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use crate::image::config::ImageConfigFile;
use crate::image::lookup;
use image_store::lock;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Creates a container from `cfg` (whose `image` names a local image, or whose `rootfs` is set).
pub fn create(engine: &Engine, mut cfg: CreateConfig) -> Result<ContainerRecord> {
    if !cfg.name.is_empty() && !valid_name(&cfg.name) {
        return Err(Error::InvalidInput(format!(
            "container name {:?} is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
            cfg.name
        )));
    }
    apply_containers_conf(&mut cfg)?;
    crate::rootless::resources::check_limits(&cfg)?;
    crate::rootless::mapping::resolve_for_create(engine, &mut cfg)?;
    crate::rootless::slirp::check_publish(&cfg)?;
    crate::network::check_create(engine, &cfg)?;
    let images = engine.store.images()?;
    let image = match &cfg.rootfs {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(Error::InvalidInput(format!(
                    "rootfs {} is not a directory",
                    dir.display()
                )));
            }
            None
        }
        None => Some(lookup::find(&images, &cfg.image)?),
    };
    let image_config = match image {
        Some(img) => {
            Some(ImageConfigFile::parse(&engine.store.read_blob(&img.id)?).map_err(Error::InvalidArchive)?)
        }
        None => None,
    };
    // `-P` publishes the image's EXPOSE ports.
    if cfg.network_options.publish_all {
        if let Some(ports) = image_config
            .as_ref()
            .and_then(|c| c.config.exposed_ports.as_ref())
        {
            cfg.network_options.expose.extend(ports.keys().cloned());
        }
    }
    // The image's labels are the container's too, under those given with --label (as Podman).
    if let Some(labels) = image_config.as_ref().and_then(|c| c.config.labels.as_ref()) {
        for (k, v) in labels {
            cfg.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(img) = image {
        cfg.image_id = img.id.hex().to_string();
        // ps shows the name the user used, qualified as stored.
        if let Some(n) = lookup::matching_name(img, &cfg.image) {
            cfg.image = n;
        } else if let Some(n) = img.names.first() {
            if !cfg.image.bytes().all(|b| b.is_ascii_hexdigit()) {
                cfg.image = n.clone();
            }
        }
    }
    let id = new_id();
    let paths = ContainerPaths::new(engine.store.root(), &id);
    let mut anonymous = vec![];
    // The whole creation, from directories and volumes to the record, happens in one hold of the store
    // lock: a concurrent create, `volume prune` or `rm -a` sees either no trace of this container or all of
    // it, and a directory without a record seen under the lock is debris of a killed command.
    let result = (|| -> Result<ContainerRecord> {
        let held = engine.store.lock()?;
        let mut db = store::read(&engine.store)?;
        cleanup_debris(engine, &db);
        // The name comes first: the spec's hosts file and .containerenv carry it.
        if cfg.name.is_empty() {
            cfg.name = loop {
                let n = random_name();
                if !db.containers.iter().any(|c| c.name == n) {
                    break n;
                }
            };
        } else if let Some(other) = db.containers.iter().find(|c| c.name == cfg.name) {
            return Err(Error::NameInUse(cfg.name.clone(), other.id.clone()));
        }
        for d in [paths.userdata(), paths.upper(), paths.work(), paths.merged()] {
            std::fs::create_dir_all(&d).ctx(|| format!("creating {}", d.display()))?;
        }
        let (volume_paths, named) =
            prepare_mounts(engine, &held, &mut cfg, image_config.as_ref(), &mut anonymous)?;
        let lower_dirs: Vec<PathBuf> = match image {
            Some(img) => img
                .layers
                .iter()
                .rev()
                .map(|l| engine.store.layer_diff_path(&l.chain_id))
                .collect(),
            None => vec![],
        };
        let rootfs = cfg.rootfs.clone().unwrap_or_else(|| paths.merged());
        let caller_env: Vec<(String, String)> = std::env::vars().collect();
        let spec = super::spec::generate(&super::spec::SpecInputs {
            cfg: &cfg,
            image: image_config.as_ref(),
            rootfs: &rootfs,
            lower_dirs: &lower_dirs,
            userdata: &paths.userdata(),
            volume_paths: &volume_paths,
            container_id: &id,
            caller_env: &caller_env,
        })?;
        let command: Vec<String> = spec
            .process()
            .as_ref()
            .and_then(|p| p.args().clone())
            .unwrap_or_default();
        let spec = if cfg.init { with_init(spec)? } else { spec };
        let spec = with_notify(
            spec,
            &cfg,
            &super::notify::container_dir(&engine.paths.run_root, &id),
        )?;
        write_json(&paths.config_json(), &spec)?;
        write_json(&paths.create_config(), &cfg)?;
        state::write(&paths.dir, &ContainerState::default()).ctx(|| "writing container state".into())?;
        let rec = ContainerRecord {
            id: id.clone(),
            name: cfg.name.clone(),
            image_id: image_store::Digest::from_hex(if cfg.image_id.is_empty() {
                ZERO
            } else {
                &cfg.image_id
            })
            .map_err(|e| Error::Config(e.to_string()))?,
            image_name: if cfg.rootfs.is_some() {
                String::new()
            } else {
                cfg.image.clone()
            },
            command,
            created: chrono::Utc::now(),
            labels: cfg.labels.clone(),
            volumes: named,
            anonymous_volumes: anonymous.clone(),
        };
        db.containers.push(rec.clone());
        store::write(&engine.store, &held, &db)?;
        Ok(rec)
    })();
    if let (Ok(rec), Some(img)) = (&result, image) {
        copy_up_image_content(engine, &cfg, img, rec)?;
    }
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&paths.dir);
        if !anonymous.is_empty() {
            let _ = crate::volume::remove_many(engine, &anonymous, false);
        }
    }
    result
}

/// A volume mounted where the image has files gets a copy of them on first use, as Podman does (once,
/// only into an empty volume, never with `nocopy`). The image's content comes from the top-most layer
/// that has the directory.
fn copy_up_image_content(
    engine: &Engine,
    cfg: &CreateConfig,
    image: &image_store::ImageRecord,
    rec: &ContainerRecord,
) -> Result<()> {
    for m in cfg
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume && !m.source.is_empty())
    {
        let rel = m.destination.trim_start_matches('/');
        let source = image
            .layers
            .iter()
            .rev()
            .map(|l| engine.store.layer_diff_path(&l.chain_id).join(rel))
            .find(|p| std::fs::symlink_metadata(p).is_ok_and(|md| md.is_dir()));
        if let Some(source) = source {
            if let Err(e) = crate::volume::copy_up_if_needed(engine, &m.source, &source) {
                let _ = remove(engine, rec, true, true);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// containers.conf defaults the command line did not override.
fn apply_containers_conf(cfg: &mut CreateConfig) -> Result<()> {
    let conf = crate::config::containers::load()?;
    if cfg.default_capabilities.is_none() {
        cfg.default_capabilities = conf.default_capabilities;
    }
    for spec in &conf.default_ulimits {
        let u = super::parse::parse_ulimit(spec)?;
        if !cfg.ulimits.iter().any(|have| have.name == u.name) {
            cfg.ulimits.push(u);
        }
    }
    Ok(())
}

/// `--sdnotify`: the caller's NOTIFY_SOCKET never reaches the container, except as a socket of its own in
/// `container` mode (which the monitor proxies).
fn with_notify(
    mut spec: oci_spec::runtime::Spec,
    cfg: &CreateConfig,
    dir: &Path,
) -> Result<oci_spec::runtime::Spec> {
    use super::notify::{self, Mode};
    let mode = Mode::of(cfg.sdnotify.as_deref())?;
    if mode == Mode::Healthy {
        return Err(Error::InvalidInput(
            "--sdnotify=healthy needs a health check, and this container defines none".into(),
        ));
    }
    let own_socket = mode == Mode::Container && notify::socket().is_some();
    if let Some(process) = spec.process_mut() {
        let mut env: Vec<String> = process.env().clone().unwrap_or_default();
        env.retain(|e| !e.starts_with("NOTIFY_SOCKET="));
        if own_socket {
            env.push(format!("NOTIFY_SOCKET={}", notify::CONTAINER_SOCKET));
        }
        process.set_env(Some(env));
    }
    if own_socket {
        std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
        add_bind_mount(
            &mut spec,
            "/run/notify",
            dir,
            &["rw", "nosuid", "nodev", "noexec"],
        )?;
    }
    Ok(spec)
}

/// Appends a private bind mount of a host path (options besides `bind`, `rprivate`) to the spec.
fn add_bind_mount(
    spec: &mut oci_spec::runtime::Spec,
    destination: &str,
    source: &Path,
    options: &[&str],
) -> Result<()> {
    let mut opts = vec!["bind".to_string()];
    opts.extend(options.iter().map(|o| o.to_string()));
    opts.push("rprivate".into());
    let mount = oci_spec::runtime::MountBuilder::default()
        .destination(destination)
        .typ("bind")
        .source(source)
        .options(opts)
        .build()
        .map_err(|e| Error::Config(e.to_string()))?;
    let mut mounts = spec.mounts().clone().unwrap_or_default();
    mounts.push(mount);
    spec.set_mounts(Some(mounts));
    Ok(())
}

/// Where Podman's `--init` binary lives in the container.
const INIT_PATH: &str = "/run/podman-init";

/// `--init`: catatonit (Podman's init, a static binary) bind-mounted read-only and run as PID 1 in front
/// of the command, so zombies are reaped and signals forwarded.
fn with_init(mut spec: oci_spec::runtime::Spec) -> Result<oci_spec::runtime::Spec> {
    let init = ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .ok_or_else(|| Error::InvalidInput("--init needs catatonit (apt-get install catatonit)".into()))?;
    add_bind_mount(&mut spec, INIT_PATH, init, &["ro", "nosuid", "nodev"])?;
    if let Some(process) = spec.process_mut() {
        let mut args = vec![INIT_PATH.to_string(), "--".to_string()];
        args.extend(process.args().clone().unwrap_or_default());
        process.set_args(Some(args));
    }
    Ok(spec)
}

/// The image ID recorded for `--rootfs` containers, which have no image.
const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Host directories for volume mounts by destination, and the named volumes used.
type PreparedMounts = (Vec<(String, PathBuf)>, Vec<String>);

/// Resolves volume mounts to host directories (creating named volumes on first use and anonymous ones
/// for the image's VOLUMEs), and creates missing `-v` host directories as Podman does.
fn prepare_mounts(
    engine: &Engine,
    held: &lock::Lock,
    cfg: &mut CreateConfig,
    image: Option<&ImageConfigFile>,
    anonymous: &mut Vec<String>,
) -> Result<PreparedMounts> {
    let mut resolved = vec![];
    let mut named = vec![];
    for m in cfg.mounts.iter_mut() {
        match m.kind {
            MountKind::Volume if m.source.is_empty() => {
                let (name, path) = crate::volume::create_anonymous_locked(engine, held)?;
                m.source.clone_from(&name);
                anonymous.push(name);
                resolved.push((m.destination.clone(), path));
            }
            MountKind::Volume => {
                resolved.push((
                    m.destination.clone(),
                    crate::volume::ensure_locked(engine, held, &m.source)?,
                ));
                named.push(m.source.clone());
            }
            MountKind::Bind => {
                let src = Path::new(&m.source);
                if !src.exists() {
                    std::fs::create_dir_all(src)
                        .ctx(|| format!("creating bind mount source {}", m.source))?;
                }
            }
            MountKind::Tmpfs => {}
        }
    }
    let covered: Vec<String> = cfg.mounts.iter().map(|m| m.destination.clone()).collect();
    let image_volumes: Vec<String> = image
        .and_then(|i| i.config.volumes.as_ref())
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    for dest in image_volumes {
        if covered
            .iter()
            .any(|c| c.trim_end_matches('/') == dest.trim_end_matches('/'))
        {
            continue;
        }
        let (name, path) = crate::volume::create_anonymous_locked(engine, held)?;
        anonymous.push(name.clone());
        resolved.push((dest.clone(), path));
        cfg.mounts.push(super::config::MountSpec {
            kind: MountKind::Volume,
            source: name,
            destination: dest,
            read_only: false,
            options: vec![],
        });
    }
    Ok((resolved, named))
}

fn write_json(path: &Path, v: &impl serde::Serialize) -> Result<()> {
    let data = serde_json::to_vec(v).expect("serialisable");
    image_store::atomic::write_atomic(path, &data).ctx(|| format!("writing {}", path.display()))
}

/// Removes container directories that have no record. Called under the store lock, which every create
/// holds from its first directory to its record, so such a directory is debris of a killed command.
fn cleanup_debris(engine: &Engine, db: &store::ContainerDb) {
    let dir = engine.store.root().join("containers");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let entries: Vec<_> = entries.flatten().collect();
    if entries.len() <= db.containers.len() {
        return;
    }
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if !db.containers.iter().any(|c| c.id == name) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The monitor, as started by [`start`]: handle on its reports.
pub struct Started {
    pub pid: i32,
    reports: BufReader<File>,
    monitor: std::process::Child,
}

/// How an attached container ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Detached,
}

impl Started {
    pub fn monitor_pid(&self) -> i32 {
        self.monitor.id() as i32
    }

    /// Waits for the container to exit (or the user to detach). The monitor has written the exit code and,
    /// with `--rm`, removed the container before it reports.
    pub fn wait(mut self, engine: &Engine, id: &str) -> Result<Outcome> {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reports.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => match Report::decode(&line) {
                    // The monitor may still be tearing down the container's network: it is not waited
                    // for (it has let go of our stdio by now, and is reaped once we exit).
                    Some(Report::Exit(code)) => return Ok(Outcome::Exited(code)),
                    Some(Report::Detached) => return Ok(Outcome::Detached),
                    _ => continue,
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::Io {
                        context: "reading from the monitor".into(),
                        source: e,
                    })
                }
            }
        }
        let _ = self.monitor.wait();
        let st = state::read(&ContainerPaths::new(engine.store.root(), id).dir);
        st.exit_code.map(Outcome::Exited).ok_or_else(|| {
            Error::ContainerState(format!(
                "the monitor of container {id} exited without reporting its exit code"
            ))
        })
    }
}

/// Starts a created or exited container through a new monitor process; returns once it runs.
/// `global_args` are the command-line flags that select this store, passed on to the monitor.
pub fn start(engine: &Engine, id: &str, attach: bool, global_args: &[String]) -> Result<Started> {
    let paths = ContainerPaths::new(engine.store.root(), id);
    let st = state::read(&paths.dir);
    if st.is_running() {
        return Err(Error::ContainerState(format!(
            "container {id} is already running"
        )));
    }
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io_error("creating a pipe", e))?;
    let write_raw = write_end.as_raw_fd();
    // Descriptors 3.. are the container's (socket activation, --preserve-fds): the monitor's report pipe
    // goes above them.
    let sync_fd = 3 + config_of(engine, id)?.preserve_fds as i32;
    // The monitor starts from a sealed view of the binary (CVE-2019-5736, see `runtime::reexec_sealed`)
    // so that it need not re-execute itself; where sealing is not possible it seals or goes on itself.
    let sealed = crate::runtime::sealed_exe(sync_fd + 1).ok();
    let program = sealed
        .as_ref()
        .map_or("/proc/self/exe", |(_, path)| path.as_str());
    let mut cmd = std::process::Command::new(program);
    // `ps` shows the monitor under our own name, not the descriptor path it was started through.
    cmd.arg0(std::env::args_os().next().unwrap_or_else(|| "selkie".into()));
    cmd.args(global_args)
        .arg("container-monitor")
        .arg(id)
        .args(["--sync-fd", &sync_fd.to_string()]);
    if attach {
        cmd.arg("--attach");
    } else {
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
    }
    // SAFETY: dup2 is async-signal-safe; it runs in the forked child before exec.
    unsafe {
        cmd.pre_exec(move || {
            if write_raw == sync_fd {
                // dup2 onto itself would keep close-on-exec.
                if libc::fcntl(write_raw, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(write_raw, sync_fd) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let monitor = cmd.spawn().ctx(|| "starting the container monitor".into())?;
    drop(sealed);
    drop(write_end);
    let mut reports = BufReader::new(File::from(read_end));
    let mut line = String::new();
    loop {
        line.clear();
        let n = reports
            .read_line(&mut line)
            .ctx(|| "reading from the monitor".into())?;
        if n == 0 {
            return Err(Error::ContainerState(format!(
                "the monitor of container {id} exited before starting it"
            )));
        }
        match Report::decode(&line) {
            Some(Report::Started(pid)) => {
                return Ok(Started {
                    pid,
                    reports,
                    monitor,
                })
            }
            Some(Report::Error(code, msg)) => {
                let mut m = monitor;
                let _ = m.wait();
                return Err(Error::StartFailed { code, message: msg });
            }
            _ => continue,
        }
    }
}

fn io_error(context: &str, e: nix::errno::Errno) -> Error {
    Error::Io {
        context: context.into(),
        source: e.into(),
    }
}

/// Finds a container by name, ID or ID prefix.
pub fn find(engine: &Engine, input: &str) -> Result<ContainerRecord> {
    store::read(&engine.store)?.find(input).cloned()
}

pub fn state_of(engine: &Engine, id: &str) -> ContainerState {
    state::read(&ContainerPaths::new(engine.store.root(), id).dir)
}

pub fn config_of(engine: &Engine, id: &str) -> Result<CreateConfig> {
    let p = ContainerPaths::new(engine.store.root(), id).create_config();
    let data = std::fs::read(&p).ctx(|| format!("reading {}", p.display()))?;
    serde_json::from_slice(&data).map_err(|e| Error::Config(format!("{} is unreadable: {e}", p.display())))
}

/// Sends `signal` to the container's init.
pub fn kill(engine: &Engine, rec: &ContainerRecord, signal: nix::sys::signal::Signal) -> Result<()> {
    let st = state_of(engine, &rec.id);
    if !st.is_running() {
        return Err(Error::ContainerState(format!(
            "can only kill running containers. {} is in state {}: container state improper",
            rec.id,
            st.status.as_str()
        )));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(st.pid), signal)
        .map_err(|e| io_error(&format!("signalling container {}", rec.name), e))?;
    if signal == nix::sys::signal::Signal::SIGKILL {
        super::pause::thaw_after_signal(&rec.id);
    }
    Ok(())
}

/// Waits until the monitor has recorded the container's exit, or `timeout` passes.
pub fn wait_exited(engine: &Engine, id: &str, timeout: Option<Duration>) -> Option<ContainerState> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let dir = ContainerPaths::new(engine.store.root(), id).dir;
    let mut pause = Duration::from_millis(2);
    loop {
        let st = state::read(&dir);
        if !st.is_running() {
            return Some(st);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Stops a running container: its stop signal, then SIGKILL after `timeout` seconds.
/// Returns true when SIGKILL was needed.
pub fn stop(engine: &Engine, rec: &ContainerRecord, timeout: Option<u32>) -> Result<bool> {
    let st = state_of(engine, &rec.id);
    if !st.is_running() {
        return Ok(false);
    }
    let cfg = config_of(engine, &rec.id)?;
    let signal = stop_signal(engine, &cfg)?;
    let pid = nix::unistd::Pid::from_raw(st.pid);
    // SAFETY: kill(2) with a signal number validated by `parse_stop_signal`.
    unsafe { libc::kill(pid.as_raw(), signal) };
    super::pause::thaw_after_signal(&rec.id);
    let secs = timeout.unwrap_or(cfg.stop_timeout);
    if wait_exited(engine, &rec.id, Some(Duration::from_secs(secs as u64))).is_some() {
        return Ok(false);
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    wait_exited(engine, &rec.id, Some(Duration::from_secs(30)))
        .ok_or_else(|| Error::ContainerState(format!("container {} did not exit after SIGKILL", rec.name)))?;
    Ok(true)
}

/// The signal `stop` sends ([`super::spec::stop_signal`]), reading the image's config only when needed.
pub fn stop_signal(engine: &Engine, cfg: &CreateConfig) -> Result<i32> {
    let image = match cfg.stop_signal {
        Some(_) => None,
        None => image_store::Digest::from_hex(&cfg.image_id)
            .ok()
            .and_then(|id| engine.store.read_blob(&id).ok())
            .and_then(|b| ImageConfigFile::parse(&b).ok()),
    };
    super::spec::stop_signal(cfg, image.as_ref())
}

/// Removes a container; a running one only with `force` (it is killed first).
pub fn remove(engine: &Engine, rec: &ContainerRecord, force: bool, volumes: bool) -> Result<()> {
    let st = state_of(engine, &rec.id);
    if st.is_running() {
        if !force {
            return Err(Error::ContainerRunning(rec.id.clone()));
        }
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(st.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        super::pause::thaw_after_signal(&rec.id);
        wait_exited(engine, &rec.id, Some(Duration::from_secs(30)));
    }
    forget(engine, &rec.id)?;
    if volumes && !rec.anonymous_volumes.is_empty() {
        // Not forced: a volume another container still mounts stays, as Podman does.
        crate::volume::remove_many(engine, &rec.anonymous_volumes, false)?;
    }
    Ok(())
}

/// Drops the record, then the directory (renamed away first so it never looks half-removed).
fn forget(engine: &Engine, id: &str) -> Result<bool> {
    forget_keeping_network(engine, id, false)
}

/// [`forget`]; `keep_network` leaves the bridge network to its monitor, which tears it down itself
/// once it has reported the exit.
fn forget_keeping_network(engine: &Engine, id: &str, keep_network: bool) -> Result<bool> {
    let existed = store::update(&engine.store, |db| {
        let before = db.containers.len();
        db.containers.retain(|c| c.id != id);
        Ok(db.containers.len() != before)
    })?;
    let _ = std::fs::remove_dir_all(super::notify::container_dir(&engine.paths.run_root, id));
    crate::cgroups::remove_container(id);
    // Bridge networks a killed monitor left set up.
    if !keep_network {
        let _ = crate::network::attach::detach(engine, id);
    }
    let dir = ContainerPaths::new(engine.store.root(), id).dir;
    // A root filesystem mounted by `selkie mount` goes with the container.
    super::mount::release(&dir);
    let doomed = engine.store.root().join("tmp").join(format!("rm-{id}"));
    if std::fs::rename(&dir, &doomed).is_ok() {
        let _ = std::fs::remove_dir_all(&doomed);
    }
    Ok(existed)
}

/// `--rm`: called by the monitor once the container has exited; the monitor tears its network down.
pub(crate) fn remove_after_exit(engine: &Engine, id: &str) -> Result<()> {
    let rec = store::read(&engine.store)?
        .containers
        .into_iter()
        .find(|c| c.id == id);
    forget_keeping_network(engine, id, true)?;
    if let Some(rec) = rec {
        if !rec.anonymous_volumes.is_empty() {
            // Not forced: a volume another container still mounts stays, as Podman does.
            crate::volume::remove_many(engine, &rec.anonymous_volumes, false)?;
        }
    }
    Ok(())
}

/// Status text as `ps` shows it: `Created`, `Up 5 seconds`, `Exited (0) 3 seconds ago`.
pub fn status_text(st: &ContainerState, now: chrono::DateTime<chrono::Utc>) -> String {
    use crate::format::units::human_duration;
    let since = |t: Option<chrono::DateTime<chrono::Utc>>| {
        human_duration((now - t.unwrap_or(now)).to_std().unwrap_or_default())
    };
    match st.status {
        Status::Created => "Created".into(),
        Status::Running | Status::Stopping => format!("Up {} ago", since(st.started_at)),
        Status::Paused => "Paused".into(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            st.exit_code.unwrap_or(-1),
            since(st.finished_at)
        ),
    }
}
