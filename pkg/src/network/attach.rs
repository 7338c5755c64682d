//! A root container's bridge networks over its life.
//!
//! [`attach`] runs in the monitor before the container starts: it creates the container's network
//! namespace as a file (`/run/selkie-network/netns/selkie-<id>`, a bind mount of the namespace, as Podman's
//! `/run/netns/netns-*`) so that the namespace outlives the container until teardown, allocates the
//! addresses, chooses free host ports, runs `netavark setup`, registers the names with aardvark-dns
//! and writes the container's `hosts` and `resolv.conf`. The container then joins that namespace.
//! What was set up is recorded in `<runroot>/networks/containers/<id>.json` before netavark runs, so
//! [`detach`] can undo it exactly: from the monitor when the container exits, from `rm`, and from the
//! next [`attach`] for a container whose monitor and process are both gone (a killed monitor).
//!
//! Addresses are leased host-wide (several stores share the default network's bridge) as files
//! `/run/selkie-network/leases/<bridge>/<ip>` naming the attachment record that holds them; a lease
//! whose record is gone is free. One host-wide lock serialises every change, as netavark itself
//! does not guard against concurrent setups on one bridge.

use super::netavark::{self, Options, PerNetwork};
use super::ports::{self, PortMapping};
use super::store::{Network, NetworkStore, DEFAULT_NETWORK};
use super::{dns, etc};
use crate::container::config::CreateConfig;
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Host-wide state: the lock and the address leases.
const HOST_DIR: &str = "/run/selkie-network";

/// What was set up for a container, enough to tear it down.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    /// The network namespace file (a bind mount).
    pub netns: PathBuf,
    /// The monitor that attached, and its start time (a dead one cannot detach any more).
    pub monitor_pid: i32,
    pub monitor_start: u64,
    /// What netavark was given.
    pub options: Options,
    /// The address on each network, by network name.
    pub ips: BTreeMap<String, String>,
    pub leases: Vec<PathBuf>,
    /// netavark's report (interfaces, MAC addresses).
    #[serde(default)]
    pub status: serde_json::Value,
}

impl Attachment {
    pub fn ports(&self) -> &[PortMapping] {
        &self.options.port_mappings
    }
}

fn networks_run_dir(run_root: &Path) -> PathBuf {
    run_root.join("networks")
}

fn record_path(run_root: &Path, id: &str) -> PathBuf {
    networks_run_dir(run_root)
        .join("containers")
        .join(format!("{id}.json"))
}

/// Host-wide, as Podman's `/run/netns`: a namespace mount never sits inside a store's directories.
pub fn netns_path(id: &str) -> PathBuf {
    Path::new(HOST_DIR).join("netns").join(format!("selkie-{id}"))
}

fn netavark_config(run_root: &Path) -> PathBuf {
    networks_run_dir(run_root).join("netavark")
}

/// The record of a container's attachment, when it has one.
pub fn read(engine: &Engine, id: &str) -> Option<Attachment> {
    read_path(&record_path(&engine.paths.run_root, id))
}

fn read_path(path: &Path) -> Option<Attachment> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write(run_root: &Path, a: &Attachment) -> Result<()> {
    let path = record_path(run_root, &a.id);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(a).expect("attachment serializes"))
        .ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).ctx(|| format!("writing {}", path.display()))
}

fn host_lock() -> Result<image_store::lock::Lock> {
    std::fs::create_dir_all(HOST_DIR).ctx(|| format!("creating {HOST_DIR}"))?;
    image_store::lock::exclusive(&Path::new(HOST_DIR).join("netavark.lock"))
        .ctx(|| "locking the container networks".into())
}

/// An attached container; dropping it detaches (the monitor drops it when the container has exited,
/// or when starting failed).
pub struct Attached<'e> {
    engine: &'e Engine,
    pub attachment: Attachment,
}

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        let Ok(_held) = host_lock() else { return };
        let record = record_path(&self.engine.paths.run_root, &self.attachment.id);
        if record.exists() {
            // The record on disk has any network connected since the start.
            detach_locked(self.engine, &self.attachment.id);
        } else {
            // `rm` detached already, or the store's run directory is gone with the record: what is still
            // this container's is released, so no namespace or address outlives it.
            release_own(self.engine, &self.attachment, &record);
        }
    }
}

/// Releases what `a` set up without its record: the namespace (and netavark's part in it while it is
/// mounted), DNS entries, and the leases that still name this container's record as their holder.
fn release_own(engine: &Engine, a: &Attachment, record: &Path) {
    let run_root = &engine.paths.run_root;
    if is_mounted(&a.netns) {
        let _ = netavark::teardown(&netavark_config(run_root), &a.netns, &a.options);
    }
    release_netns(&a.netns);
    let _ = dns::remove(run_root, &a.id);
    for l in &a.leases {
        if std::fs::read(l).is_ok_and(|holder| holder == record.as_os_str().as_encoded_bytes()) {
            let _ = std::fs::remove_file(l);
        }
    }
}

/// Whether a process still lives in the network namespace mounted at `netns`.
fn netns_in_use(netns: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(ns) = std::fs::metadata(netns) else {
        return false;
    };
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    procs.flatten().any(|p| {
        p.file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
            && std::fs::metadata(p.path().join("ns/net"))
                .is_ok_and(|m| m.ino() == ns.ino() && m.dev() == ns.dev())
    })
}

impl Attached<'_> {
    /// The spec with the container's network namespace set to the attached one.
    pub fn join_spec(&self, mut spec: oci_spec::runtime::Spec) -> oci_spec::runtime::Spec {
        if let Some(linux) = spec.linux_mut() {
            if let Some(nss) = linux.namespaces_mut() {
                for ns in nss.iter_mut() {
                    if ns.typ() == oci_spec::runtime::LinuxNamespaceType::Network {
                        ns.set_path(Some(self.attachment.netns.clone()));
                    }
                }
            }
        }
        spec
    }
}

/// Attaches a container that gets bridge networking ([`super::is_bridged`]); `None` for the others.
pub fn attach<'e>(
    engine: &'e Engine,
    cfg: &CreateConfig,
    id: &str,
    userdata: &Path,
    hostname: &str,
) -> Result<Option<Attached<'e>>> {
    if !super::is_bridged(cfg) {
        return Ok(None);
    }
    let run_root = &engine.paths.run_root;
    let _held = host_lock()?;
    sweep(engine);
    detach_locked(engine, id);
    let store = NetworkStore::new(engine);
    let opts = &cfg.network_options;
    let names: Vec<String> = if opts.networks.is_empty() {
        vec![DEFAULT_NETWORK.to_string()]
    } else {
        opts.networks.clone()
    };
    let networks: Vec<Network> = names.iter().map(|n| store.get(n)).collect::<Result<_>>()?;
    let mut port_mappings = vec![];
    for p in &cfg.publish {
        port_mappings.extend(ports::parse_publish(p)?);
    }
    if opts.publish_all {
        port_mappings.extend(ports::exposed(&opts.expose));
    }
    ports::assign_host_ports(&mut port_mappings)?;
    let record = record_path(run_root, id);
    let monitor_pid = std::process::id() as i32;
    let mut attachment = Attachment {
        id: id.to_string(),
        netns: netns_path(id),
        monitor_pid,
        monitor_start: crate::container::state::start_time(monitor_pid).unwrap_or(0),
        options: Options {
            container_id: id.to_string(),
            container_name: cfg.name.clone(),
            port_mappings,
            networks: BTreeMap::new(),
            network_info: BTreeMap::new(),
        },
        ips: BTreeMap::new(),
        leases: vec![],
        status: serde_json::Value::Null,
    };
    let short_id = &id[..id.len().min(12)];
    let mut dns_entries = vec![];
    let result = (|| -> Result<()> {
        for (i, net) in networks.iter().enumerate() {
            let (cidr, gateway) = net.ipv4()?;
            let want = match (i, &opts.ip) {
                (0, Some(ip)) => Some(
                    ip.parse::<Ipv4Addr>()
                        .map_err(|_| Error::InvalidInput(format!("invalid --ip {ip:?}")))?,
                ),
                _ => None,
            };
            let (ip, lease) = lease(&net.network_interface, cidr, gateway, want, &record)?;
            attachment.leases.push(lease);
            attachment.ips.insert(net.name.clone(), ip.to_string());
            let mut aliases = vec![];
            if net.dns_enabled {
                aliases.push(cfg.name.clone());
                aliases.extend(opts.aliases.iter().cloned());
                aliases.push(short_id.to_string());
                dns_entries.push((net.name.clone(), gateway, ip, aliases.clone()));
            }
            attachment.options.networks.insert(
                net.name.clone(),
                PerNetwork {
                    static_ips: vec![ip.to_string()],
                    aliases,
                    interface_name: format!("eth{i}"),
                    static_mac: if i == 0 { opts.mac.clone() } else { None },
                },
            );
            // netavark would start aardvark-dns through systemd: selkie starts it itself (see `dns`).
            let mut info = net.clone();
            info.dns_enabled = false;
            attachment.options.network_info.insert(net.name.clone(), info);
        }
        create_netns(&attachment.netns)?;
        write(run_root, &attachment)?;
        attachment.status =
            netavark::setup(&netavark_config(run_root), &attachment.netns, &attachment.options)?;
        write(run_root, &attachment)?;
        let entries: Vec<dns::Entry> = dns_entries
            .iter()
            .map(|(net, gw, ip, names)| dns::Entry {
                network: net.clone(),
                gateway: gw.map(|g| g.to_string()).unwrap_or_default(),
                id: id.to_string(),
                ip: ip.to_string(),
                names: names.clone(),
            })
            .collect();
        dns::add(run_root, &entries)?;
        let first = &networks[0];
        let (_, gateway) = first.ipv4()?;
        let ip: Ipv4Addr = attachment.ips[&first.name]
            .parse()
            .expect("an address we allocated");
        let dns_server = dns_entries.first().and_then(|(_, gw, _, _)| *gw);
        let mut host_names = vec![hostname];
        if cfg.name != hostname {
            host_names.push(&cfg.name);
        }
        etc::write_for_bridge(userdata, opts, &host_names, ip, gateway, dns_server)?;
        Ok(())
    })();
    if let Err(e) = result {
        // What was made is undone; the record (if written) says what.
        if read_path(&record).is_some() {
            detach_locked(engine, id);
        } else {
            for l in &attachment.leases {
                let _ = std::fs::remove_file(l);
            }
            release_netns(&attachment.netns);
        }
        return Err(e);
    }
    Ok(Some(Attached { engine, attachment }))
}

/// Tears down a container's networks, if it has any set up.
pub fn detach(engine: &Engine, id: &str) -> Result<()> {
    if !record_path(&engine.paths.run_root, id).exists() {
        return Ok(());
    }
    let _held = host_lock()?;
    detach_locked(engine, id);
    Ok(())
}

/// [`detach`] under the lock: best effort, every step tried.
fn detach_locked(engine: &Engine, id: &str) {
    let run_root = &engine.paths.run_root;
    let path = record_path(run_root, id);
    let Some(a) = read_path(&path) else {
        let _ = std::fs::remove_file(&path);
        return;
    };
    if is_mounted(&a.netns) {
        if let Err(e) = netavark::teardown(&netavark_config(run_root), &a.netns, &a.options) {
            eprintln!("Error: tearing down the network of container {id}: {e}");
        }
    }
    release_netns(&a.netns);
    let _ = dns::remove(run_root, id);
    for l in &a.leases {
        let _ = std::fs::remove_file(l);
    }
    let _ = std::fs::remove_file(&path);
}

/// Detaches the containers of this store whose monitor and process are both gone.
fn sweep(engine: &Engine) {
    let dir = networks_run_dir(&engine.paths.run_root).join("containers");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let Some(a) = read_path(&e.path()) else { continue };
        let monitor_alive = a.monitor_start != 0
            && crate::container::state::start_time(a.monitor_pid) == Some(a.monitor_start);
        if monitor_alive {
            continue;
        }
        let paths = crate::container::paths::ContainerPaths::new(engine.store.root(), &a.id);
        if crate::container::state::read(&paths.dir).is_running() {
            continue;
        }
        detach_locked(engine, &a.id);
    }
}

/// Leases an address of `cidr` on `bridge`: `want` (`--ip`), or the first free one after the gateway.
fn lease(
    bridge: &str,
    cidr: super::store::Cidr,
    gateway: Option<Ipv4Addr>,
    want: Option<Ipv4Addr>,
    owner: &Path,
) -> Result<(Ipv4Addr, PathBuf)> {
    let dir = Path::new(HOST_DIR).join("leases").join(bridge);
    std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
    let take = |ip: Ipv4Addr| -> Option<PathBuf> {
        let path = dir.join(ip.to_string());
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = f.write_all(owner.as_os_str().as_encoded_bytes());
                    return Some(path);
                }
                Err(_) => {
                    // A lease whose holder's record is gone is free, unless the holder's namespace is
                    // still mounted with a process in it (a container whose store was removed while it
                    // ran): its address is still in use. An orphaned namespace is released here.
                    let holder = std::fs::read_to_string(&path).ok()?;
                    if Path::new(&holder).exists() {
                        return None;
                    }
                    if let Some(id) = Path::new(&holder).file_stem().and_then(|s| s.to_str()) {
                        let netns = netns_path(id);
                        if is_mounted(&netns) {
                            if netns_in_use(&netns) {
                                return None;
                            }
                            release_netns(&netns);
                        }
                    }
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        None
    };
    if let Some(ip) = want {
        if !cidr.contains(ip) || Some(ip) == gateway {
            return Err(Error::InvalidInput(format!(
                "requested IP address {ip} is not usable in subnet {cidr}"
            )));
        }
        return take(ip).map(|l| (ip, l)).ok_or_else(|| {
            Error::InvalidInput(format!(
                "requested IP address {ip} is already allocated to another container"
            ))
        });
    }
    // As Podman's IPAM: the search starts after the address leased last, so an address just released is
    // not handed out again at once (the host's neighbour and conntrack entries for it would still point
    // at the previous container for seconds).
    let last_file = dir.join(".last");
    let last: Option<Ipv4Addr> = std::fs::read_to_string(&last_file)
        .ok()
        .and_then(|t| t.trim().parse().ok());
    let hosts: Vec<Ipv4Addr> = cidr.hosts().filter(|ip| Some(*ip) != gateway).collect();
    let start = last
        .and_then(|l| hosts.iter().position(|ip| *ip == l))
        .map_or(0, |i| i + 1);
    let (ip, lease) = hosts[start..]
        .iter()
        .chain(&hosts[..start])
        .find_map(|ip| take(*ip).map(|l| (*ip, l)))
        .ok_or_else(|| Error::Runtime(format!("no free IP address left in subnet {cidr}")))?;
    let _ = std::fs::write(&last_file, ip.to_string());
    Ok((ip, lease))
}

/// A new network namespace, kept by a bind mount on `path`.
fn create_netns(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    }
    release_netns(path);
    std::fs::File::create(path).ctx(|| format!("creating {}", path.display()))?;
    let target = path.to_path_buf();
    // A thread of its own enters the new namespace; the monitor's other threads stay where they are.
    let made = std::thread::spawn(move || -> nix::Result<()> {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
        let source = format!("/proc/self/task/{}/ns/net", nix::unistd::gettid());
        nix::mount::mount(
            Some(source.as_str()),
            &target,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
    })
    .join()
    .map_err(|_| Error::Runtime("creating a network namespace: the thread panicked".into()))?;
    made.map_err(|e| {
        let _ = std::fs::remove_file(path);
        Error::Runtime(format!("creating the network namespace {}: {e}", path.display()))
    })
}

fn release_netns(path: &Path) {
    let _ = nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(path);
}

/// Whether `path` is a mounted network namespace (not the empty file under it).
fn is_mounted(path: &Path) -> bool {
    nix::sys::statfs::statfs(path).is_ok_and(|s| s.filesystem_type().0 == 0x6e73_6673)
}

/// The containers (of this store) attached to a network now, by ID.
pub fn users_of(engine: &Engine, network: &str) -> Vec<String> {
    let dir = networks_run_dir(&engine.paths.run_root).join("containers");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|e| read_path(&e.path()))
        .filter(|a| a.ips.contains_key(network))
        .map(|a| a.id)
        .collect()
}

/// `network connect --alias/--ip/--mac-address` for a running container.
#[derive(Clone, Debug, Default)]
pub struct ConnectRequest {
    pub aliases: Vec<String>,
    pub ip: Option<String>,
    pub mac: Option<String>,
}

/// The first `ethN` no network of the container uses (Podman's choice of interface name).
fn free_interface(opts: &Options) -> String {
    (0..)
        .map(|i| format!("eth{i}"))
        .find(|name| !opts.networks.values().any(|p| &p.interface_name == name))
        .expect("an unused interface name")
}

/// The running container's attachment, or why it has none.
fn running_attachment(engine: &Engine, id: &str, name: &str) -> Result<Attachment> {
    let a = read(engine, id)
        .ok_or_else(|| Error::ContainerState(format!("container {name} has no network namespace set up")))?;
    if !is_mounted(&a.netns) {
        return Err(Error::ContainerState(format!(
            "container {name} has no network namespace set up"
        )));
    }
    Ok(a)
}

/// `network connect` of a running container: netavark sets up `net` (only) in the container's network
/// namespace on the next free `ethN`, the address is leased, the attachment record (which the final
/// teardown follows) gains the network, the names go to aardvark-dns and the container's `hosts` and
/// `resolv.conf` learn the new address and name server; `then` (the container's record) runs last, under
/// the lock.
pub fn connect_running(
    engine: &Engine,
    cfg: &CreateConfig,
    id: &str,
    net: &Network,
    req: &ConnectRequest,
    then: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let run_root = &engine.paths.run_root;
    let _held = host_lock()?;
    let mut a = running_attachment(engine, id, &cfg.name)?;
    if a.options.networks.contains_key(&net.name) {
        return Err(Error::InvalidInput(format!(
            "container {} is already connected to network {}",
            cfg.name, net.name
        )));
    }
    let want = match &req.ip {
        Some(ip) => Some(
            ip.parse::<Ipv4Addr>()
                .map_err(|_| Error::InvalidInput(format!("invalid --ip {ip:?}")))?,
        ),
        None => None,
    };
    if let Some(mac) = &req.mac {
        if !etc::valid_mac(mac) {
            return Err(Error::InvalidInput(format!("invalid --mac-address {mac:?}")));
        }
    }
    let (cidr, gateway) = net.ipv4()?;
    let record = record_path(run_root, id);
    let (ip, lease_path) = lease(&net.network_interface, cidr, gateway, want, &record)?;
    let short_id = &id[..id.len().min(12)];
    let mut aliases = vec![];
    if net.dns_enabled {
        aliases.push(cfg.name.clone());
        aliases.extend(req.aliases.iter().cloned());
        aliases.push(short_id.to_string());
    }
    let per = PerNetwork {
        static_ips: vec![ip.to_string()],
        aliases: aliases.clone(),
        interface_name: free_interface(&a.options),
        static_mac: req.mac.clone(),
    };
    let mut info = net.clone();
    info.dns_enabled = false;
    let only = Options {
        container_id: id.to_string(),
        container_name: cfg.name.clone(),
        port_mappings: vec![],
        networks: BTreeMap::from([(net.name.clone(), per.clone())]),
        network_info: BTreeMap::from([(net.name.clone(), info.clone())]),
    };
    // Recorded first: a failure from here on is undone by the teardown the record describes.
    let before = a.clone();
    a.options.networks.insert(net.name.clone(), per);
    a.options.network_info.insert(net.name.clone(), info);
    a.ips.insert(net.name.clone(), ip.to_string());
    a.leases.push(lease_path.clone());
    let undo = |a: &Attachment| {
        let _ = write(run_root, a);
        let _ = std::fs::remove_file(&lease_path);
    };
    if let Err(e) = write(run_root, &a) {
        undo(&before);
        return Err(e);
    }
    let status = match netavark::setup(&netavark_config(run_root), &a.netns, &only) {
        Ok(s) => s,
        Err(e) => {
            let _ = netavark::teardown(&netavark_config(run_root), &a.netns, &only);
            undo(&before);
            return Err(e);
        }
    };
    if !a.status.is_object() {
        a.status = serde_json::json!({});
    }
    a.status[&net.name] = status[&net.name].clone();
    write(run_root, &a)?;
    if net.dns_enabled {
        dns::add(
            run_root,
            &[dns::Entry {
                network: net.name.clone(),
                gateway: gateway.map(|g| g.to_string()).unwrap_or_default(),
                id: id.to_string(),
                ip: ip.to_string(),
                names: aliases,
            }],
        )?;
    }
    let userdata = crate::container::paths::ContainerPaths::new(engine.store.root(), id).userdata();
    let mut names = vec![];
    if let Some(h) = cfg.hostname.as_ref().filter(|h| !h.is_empty()) {
        names.push(h.clone());
    } else {
        names.push(short_id.to_string());
    }
    if !names.contains(&cfg.name) {
        names.push(cfg.name.clone());
    }
    let dns_server = if net.dns_enabled { gateway } else { None };
    etc::add_network(&userdata, &cfg.network_options, &names, ip, dns_server)?;
    then()
}

/// `network disconnect` of a running container: netavark tears down `network` (only), its lease and
/// DNS names go, the attachment record loses it and the container's `hosts` its address there; `then`
/// runs last, under the lock.
pub fn disconnect_running(
    engine: &Engine,
    cfg: &CreateConfig,
    id: &str,
    network: &str,
    force: bool,
    then: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let run_root = &engine.paths.run_root;
    let _held = host_lock()?;
    let mut a = running_attachment(engine, id, &cfg.name)?;
    let (Some(per), Some(info)) = (
        a.options.networks.get(network).cloned(),
        a.options.network_info.get(network).cloned(),
    ) else {
        return Err(Error::InvalidInput(format!(
            "container {} is not connected to network {network}",
            cfg.name
        )));
    };
    if a.options.networks.len() == 1 {
        return Err(Error::InvalidInput(format!(
            "container {} must stay connected to at least one network",
            cfg.name
        )));
    }
    let only = Options {
        container_id: id.to_string(),
        container_name: cfg.name.clone(),
        port_mappings: vec![],
        networks: BTreeMap::from([(network.to_string(), per)]),
        network_info: BTreeMap::from([(network.to_string(), info.clone())]),
    };
    if let Err(e) = netavark::teardown(&netavark_config(run_root), &a.netns, &only) {
        if !force {
            return Err(e);
        }
    }
    let ip = a.ips.remove(network).unwrap_or_default();
    let lease_path = Path::new(HOST_DIR)
        .join("leases")
        .join(&info.network_interface)
        .join(&ip);
    a.leases.retain(|l| l != &lease_path);
    a.options.networks.remove(network);
    a.options.network_info.remove(network);
    if let Some(m) = a.status.as_object_mut() {
        m.remove(network);
    }
    write(run_root, &a)?;
    let _ = std::fs::remove_file(&lease_path);
    let _ = dns::remove_from(run_root, id, Some(network));
    // The network's DNS server (its gateway) leaves resolv.conf unless another network shares it.
    let gateway = NetworkStore::new(engine).get(network).ok().and_then(|n| {
        if n.dns_enabled {
            n.ipv4().ok().and_then(|(_, g)| g)
        } else {
            None
        }
    });
    let userdata = crate::container::paths::ContainerPaths::new(engine.store.root(), id).userdata();
    if !ip.is_empty() {
        etc::remove_network(&userdata, &ip, gateway)?;
    }
    then()
}
