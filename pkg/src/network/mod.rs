//! Networks for root containers, as Podman 4 has them: bridge networks stored as Podman's network JSON
//! (`store`), set up and torn down by netavark (`netavark`), with ports published by netavark's
//! firewall rules (`ports`), names served by aardvark-dns which selkie starts itself, since netavark can
//! only start it through systemd (`dns`), and the container's `/etc/hosts` and `/etc/resolv.conf`
//! (`etc`). `attach` ties them to a container's life: the monitor attaches a container before it
//! starts and detaches it when it exits; `rm` and the next attach detach what a killed monitor left.
//!
//! Rootless containers never come here: they keep slirp4netns (`crate::rootless::slirp`).

pub mod attach;
pub mod dns;
pub mod etc;
pub mod netavark;
pub mod ports;
pub mod store;

use crate::container::config::{CreateConfig, NetworkMode};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub use store::{Network, NetworkStore, Subnet, DEFAULT_NETWORK};

/// The network flags of `run`/`create`, kept in the container's record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkOptions {
    /// The named networks (`--network NAME`, `network connect`); empty: the default network.
    #[serde(default)]
    pub networks: Vec<String>,
    /// `--ip` on the first network.
    #[serde(default)]
    pub ip: Option<String>,
    /// `--mac-address` on the first network.
    #[serde(default)]
    pub mac: Option<String>,
    /// `--network-alias`
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--dns`
    #[serde(default)]
    pub dns: Vec<String>,
    /// `--dns-search`
    #[serde(default)]
    pub dns_search: Vec<String>,
    /// `--dns-option`
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `--add-host NAME:IP`
    #[serde(default)]
    pub add_hosts: Vec<String>,
    /// `--no-hosts`
    #[serde(default)]
    pub no_hosts: bool,
    /// `-P`: publish the image's EXPOSE ports (resolved into `expose` at create).
    #[serde(default)]
    pub publish_all: bool,
    /// The image's EXPOSE ports (`80/tcp`), published on random host ports with `-P`.
    #[serde(default)]
    pub expose: Vec<String>,
}

/// `--network`: `NetworkMode` for the keywords, `ns:` and `container:`; any other value names networks
/// (comma-separated), which the container joins with a namespace of its own (`NetworkMode::Private`).
pub fn parse_network_flag(value: &str) -> Result<(NetworkMode, Vec<String>)> {
    match value {
        "" | "private" | "bridge" | "none" | "host" => {
            Ok((crate::container::parse::parse_network(value)?, vec![]))
        }
        v if v.starts_with("ns:") || v.starts_with("container:") => {
            Ok((crate::container::parse::parse_network(v)?, vec![]))
        }
        "slirp4netns" | "pasta" => Err(Error::InvalidInput(format!(
            "--network {value} is not supported: use none, host, private, bridge, a network name, ns:PATH or container:ID"
        ))),
        v => {
            let names: Vec<String> = v.split(',').filter(|n| !n.is_empty()).map(str::to_string).collect();
            for n in &names {
                store::check_name(n)?;
            }
            Ok((NetworkMode::Private, names))
        }
    }
}

/// Whether the container gets bridge networking through netavark: root, a network namespace of its own
/// that is not `none`, and netavark installed (else: loopback only, as before bridge networking).
pub fn is_bridged(cfg: &CreateConfig) -> bool {
    !crate::rootless::is_rootless()
        && cfg.network == NetworkMode::Private
        && (!cfg.network_options.networks.is_empty() || netavark::binary().is_some())
}

/// Checks the network flags at create: named networks exist, `-p` and `--ip` parse, and need a bridge.
pub fn check_create(engine: &crate::Engine, cfg: &CreateConfig) -> Result<()> {
    let opts = &cfg.network_options;
    if crate::rootless::is_rootless() {
        if !opts.networks.is_empty() {
            return Err(Error::InvalidInput(
                "named networks are not supported for rootless containers yet".into(),
            ));
        }
        return Ok(());
    }
    for p in &cfg.publish {
        ports::parse_publish(p)?;
    }
    if let Some(ip) = &opts.ip {
        ip.parse::<std::net::Ipv4Addr>()
            .map_err(|_| Error::InvalidInput(format!("invalid --ip {ip:?}: not an IPv4 address")))?;
    }
    if let Some(mac) = &opts.mac {
        if !etc::valid_mac(mac) {
            return Err(Error::InvalidInput(format!("invalid --mac-address {mac:?}")));
        }
    }
    for h in &opts.add_hosts {
        etc::parse_add_host(h)?;
    }
    let wants_bridge = !cfg.publish.is_empty()
        || opts.publish_all
        || opts.ip.is_some()
        || opts.mac.is_some()
        || !opts.aliases.is_empty();
    if wants_bridge && cfg.network != NetworkMode::Private {
        return Err(Error::InvalidInput(
            "-p, -P, --ip, --mac-address and --network-alias need a bridge network (not --network none, host, ns: or container:)".into(),
        ));
    }
    let store = NetworkStore::new(engine);
    for n in &opts.networks {
        store.get(n)?;
    }
    Ok(())
}

/// The networks a container is configured to join (the default network when none is named); none for
/// a container without a bridge.
pub fn networks_of(cfg: &CreateConfig) -> Vec<String> {
    if cfg.network != NetworkMode::Private {
        return vec![];
    }
    if cfg.network_options.networks.is_empty() {
        vec![DEFAULT_NETWORK.to_string()]
    } else {
        cfg.network_options.networks.clone()
    }
}

/// The containers of this store configured to join `network`, as (ID, name).
pub fn containers_using(engine: &crate::Engine, network: &str) -> Result<Vec<(String, String)>> {
    let db = crate::container::store::read(&engine.store)?;
    Ok(db
        .containers
        .iter()
        .filter(|c| {
            crate::container::lifecycle::config_of(engine, &c.id)
                .is_ok_and(|cfg| cfg.network_options.networks.iter().any(|n| n == network))
        })
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect())
}

/// `network connect` (`join`, with `req`'s alias, address and MAC address) and `network disconnect`
/// (`force`: even when netavark's teardown fails). The container's record changes, so its next start
/// joins the networks; a running container is also connected or disconnected now
/// ([`attach::connect_running`], [`attach::disconnect_running`]).
pub fn set_connected(
    engine: &crate::Engine,
    container: &str,
    network: &str,
    join: bool,
    req: &attach::ConnectRequest,
    force: bool,
) -> Result<()> {
    let rec = crate::container::lifecycle::find(engine, container)?;
    let net = NetworkStore::new(engine).get(network)?;
    let mut cfg = crate::container::lifecycle::config_of(engine, &rec.id)?;
    if cfg.network != NetworkMode::Private || crate::rootless::is_rootless() {
        return Err(Error::InvalidInput(format!(
            "container {} does not use bridge networks",
            rec.name
        )));
    }
    if crate::container::lifecycle::state_of(engine, &rec.id).is_running() {
        // The record follows, still under the network lock.
        let mut current = networks_of(&cfg);
        if join {
            if !current.contains(&net.name) {
                current.push(net.name.clone());
            }
        } else {
            current.retain(|n| n != &net.name);
        }
        let mut updated = cfg.clone();
        updated.network_options.networks = current;
        let record = || {
            if updated.network_options.networks.is_empty() {
                return Ok(());
            }
            write_config(engine, &rec.id, &updated)
        };
        return if join {
            attach::connect_running(engine, &cfg, &rec.id, &net, req, record)
        } else {
            attach::disconnect_running(engine, &cfg, &rec.id, &net.name, force, record)
        };
    }
    if !req.aliases.is_empty() || req.ip.is_some() || req.mac.is_some() {
        return Err(Error::InvalidInput(
            "--alias, --ip and --mac-address of network connect need a running container".into(),
        ));
    }
    let mut current = networks_of(&cfg);
    if join {
        if current.contains(&net.name) {
            return Err(Error::InvalidInput(format!(
                "container {} is already connected to network {}",
                rec.name, net.name
            )));
        }
        current.push(net.name.clone());
    } else {
        if !current.contains(&net.name) {
            return Err(Error::InvalidInput(format!(
                "container {} is not connected to network {}",
                rec.name, net.name
            )));
        }
        current.retain(|n| n != &net.name);
        if current.is_empty() {
            return Err(Error::InvalidInput(format!(
                "container {} must stay connected to at least one network",
                rec.name
            )));
        }
    }
    cfg.network_options.networks = current;
    write_config(engine, &rec.id, &cfg)
}

fn write_config(engine: &crate::Engine, id: &str, cfg: &CreateConfig) -> Result<()> {
    let path = crate::container::paths::ContainerPaths::new(engine.store.root(), id).create_config();
    let data = serde_json::to_vec_pretty(cfg).expect("a config serializes");
    let tmp = path.with_extension("tmp");
    use crate::error::IoContext;
    std::fs::write(&tmp, data).ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).ctx(|| format!("writing {}", path.display()))
}

/// `HostConfig.NetworkMode` of a container with a namespace of its own: `bridge` for root (Podman's
/// name for its default), `private` otherwise.
pub fn private_mode_name(cfg: &CreateConfig) -> &'static str {
    if is_bridged(cfg) {
        "bridge"
    } else {
        "private"
    }
}

/// `inspect`'s `NetworkSettings` (Podman 4's shape): addresses, ports and networks while attached.
pub fn inspect_settings(engine: &crate::Engine, id: &str) -> serde_json::Value {
    use serde_json::json;
    let Some(a) = attach::read(engine, id) else {
        return json!({"Ports": {}, "SandboxKey": ""});
    };
    let mut ports = serde_json::Map::new();
    for m in a.ports() {
        for i in 0..m.range {
            ports.insert(
                format!("{}/{}", m.container_port + i, m.protocol),
                json!([{"HostIp": m.host_ip, "HostPort": (m.host_port + i).to_string()}]),
            );
        }
    }
    let store = NetworkStore::new(engine);
    let mut networks = serde_json::Map::new();
    let mut first = None;
    for (i, (name, per)) in a.options.networks.iter().enumerate() {
        let ip = a.ips.get(name).cloned().unwrap_or_default();
        let (prefix, gateway) = store
            .get(name)
            .ok()
            .and_then(|n| n.ipv4().ok())
            .map(|(c, g)| (c.prefix, g.map(|g| g.to_string()).unwrap_or_default()))
            .unwrap_or_default();
        let mac = a.status[name]["interfaces"][&per.interface_name]["mac_address"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let entry = json!({
            "EndpointID": "", "Gateway": gateway, "IPAddress": ip, "IPPrefixLen": prefix,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": mac,
            "NetworkID": name, "DriverOpts": null, "IPAMConfig": null, "Links": null,
            "Aliases": per.aliases,
        });
        if i == 0 || name == DEFAULT_NETWORK {
            first = Some(entry.clone());
        }
        networks.insert(name.clone(), entry);
    }
    let first = first.unwrap_or_default();
    json!({
        "EndpointID": "", "Gateway": first["Gateway"], "IPAddress": first["IPAddress"],
        "IPPrefixLen": first["IPPrefixLen"], "IPv6Gateway": "", "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0, "MacAddress": first["MacAddress"], "Bridge": "", "SandboxID": "",
        "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports, "SandboxKey": a.netns.display().to_string(), "Networks": networks,
    })
}
