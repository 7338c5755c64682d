//! Networks as Podman stores them: one JSON file per network, `<graphroot>/networks/NAME.json`, in
//! netavark's format (what `network inspect` prints). The default network `podman` is implicit: it is
//! never written, unless a user replaces it with a file of that name.

use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// The default network's name, interface and subnet (Podman's).
pub const DEFAULT_NETWORK: &str = "podman";
const DEFAULT_INTERFACE: &str = "podman0";
const DEFAULT_SUBNET: &str = "10.88.0.0/16";
/// Podman's ID of the default network: sha256 of "podman".
const DEFAULT_ID: &str = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub subnet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// Podman's `types.Network`, as netavark reads it and `network inspect` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub driver: String,
    pub network_interface: String,
    pub created: String,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub ipv6_enabled: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub dns_enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub ipam_options: BTreeMap<String, String>,
}

/// An IPv4 network `ADDR/PREFIX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr> {
        let bad = || Error::InvalidInput(format!("invalid subnet {s:?}: expected an IPv4 ADDRESS/PREFIX"));
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(bad());
        }
        Ok(Cidr {
            addr: Ipv4Addr::from(u32::from(addr) & Self::mask_of(prefix)),
            prefix,
        })
    }

    fn mask_of(prefix: u8) -> u32 {
        u32::MAX << (32 - prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask_of(self.prefix) == u32::from(self.addr)
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        let p = self.prefix.min(other.prefix);
        u32::from(self.addr) & Self::mask_of(p) == u32::from(other.addr) & Self::mask_of(p)
    }

    /// The addresses containers may get, in order (network and broadcast addresses left out).
    pub fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.addr) + 1;
        let last = u32::from(self.addr) | !Self::mask_of(self.prefix);
        (first..last).map(Ipv4Addr::from)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Network {
    /// The implicit default network.
    pub fn default_network() -> Network {
        Network {
            name: DEFAULT_NETWORK.into(),
            id: DEFAULT_ID.into(),
            driver: "bridge".into(),
            network_interface: DEFAULT_INTERFACE.into(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            subnets: vec![Subnet {
                subnet: DEFAULT_SUBNET.into(),
                gateway: Some("10.88.0.1".into()),
            }],
            ipv6_enabled: false,
            internal: false,
            dns_enabled: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            ipam_options: [("driver".to_string(), "host-local".to_string())].into(),
        }
    }

    /// The first IPv4 subnet and its gateway.
    pub fn ipv4(&self) -> Result<(Cidr, Option<Ipv4Addr>)> {
        let s = self
            .subnets
            .first()
            .ok_or_else(|| Error::Config(format!("network {} has no subnet", self.name)))?;
        let gw = s.gateway.as_deref().and_then(|g| g.parse().ok());
        Ok((Cidr::parse(&s.subnet)?, gw))
    }
}

/// Names as Podman accepts them.
pub fn check_name(name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(Error::InvalidInput(format!(
            "network name {name:?} is invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        )));
    }
    Ok(())
}

/// What `network create` asks for.
#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub disable_dns: bool,
    pub labels: BTreeMap<String, String>,
    pub interface_name: Option<String>,
    pub ignore: bool,
}

pub struct NetworkStore {
    dir: PathBuf,
}

impl NetworkStore {
    pub fn new(engine: &Engine) -> NetworkStore {
        NetworkStore {
            dir: engine.store.root().join("networks"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn lock(&self) -> Result<image_store::lock::Lock> {
        std::fs::create_dir_all(&self.dir).ctx(|| format!("creating {}", self.dir.display()))?;
        image_store::lock::exclusive(&self.dir.join("networks.lock")).ctx(|| "locking the networks".into())
    }

    /// Every network, the default first, then by name.
    pub fn list(&self) -> Result<Vec<Network>> {
        let mut out = vec![];
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(n) = name.strip_suffix(".json") {
                    if let Ok(net) = self.read(n) {
                        out.push(net);
                    }
                }
            }
        }
        if !out.iter().any(|n| n.name == DEFAULT_NETWORK) {
            out.push(Network::default_network());
        }
        out.sort_by(|a, b| (a.name != DEFAULT_NETWORK, &a.name).cmp(&(b.name != DEFAULT_NETWORK, &b.name)));
        Ok(out)
    }

    fn read(&self, name: &str) -> Result<Network> {
        let path = self.path(name);
        let data = std::fs::read(&path).ctx(|| format!("reading {}", path.display()))?;
        serde_json::from_slice(&data)
            .map_err(|e| Error::Config(format!("{} is unreadable: {e}", path.display())))
    }

    /// A network by name, full ID or unique ID prefix.
    pub fn get(&self, name_or_id: &str) -> Result<Network> {
        let all = self.list()?;
        if let Some(n) = all.iter().find(|n| n.name == name_or_id || n.id == name_or_id) {
            return Ok(n.clone());
        }
        let matching: Vec<&Network> = all.iter().filter(|n| n.id.starts_with(name_or_id)).collect();
        match matching.as_slice() {
            [one] if !name_or_id.is_empty() => Ok((*one).clone()),
            [] | [_] => Err(not_found(name_or_id)),
            _ => Err(Error::InvalidInput(format!(
                "more than one result for network ID {name_or_id}"
            ))),
        }
    }

    pub fn exists(&self, name_or_id: &str) -> bool {
        self.get(name_or_id).is_ok()
    }

    /// Creates a bridge network: a free `podmanN` interface and, without `--subnet`, a free
    /// `10.89.N.0/24`, both free on the host as well as among this store's networks.
    pub fn create(&self, req: &CreateRequest) -> Result<Network> {
        let driver = req.driver.clone().unwrap_or_else(|| "bridge".into());
        if driver != "bridge" {
            return Err(Error::InvalidInput(format!(
                "unsupported driver {driver}: only bridge is supported"
            )));
        }
        let _held = self.lock()?;
        let all = self.list()?;
        let host_used = host_subnets();
        let name = match &req.name {
            Some(n) => {
                check_name(n)?;
                if let Some(existing) = all.iter().find(|x| &x.name == n) {
                    if req.ignore {
                        return Ok(existing.clone());
                    }
                    return Err(Error::InvalidInput(format!(
                        "network name {n} already used: network already exists"
                    )));
                }
                n.clone()
            }
            None => (1..)
                .map(|i| format!("podman{i}"))
                .find(|n| !all.iter().any(|x| &x.name == n))
                .expect("a free name"),
        };
        let subnet = match &req.subnet {
            Some(s) => {
                let c = Cidr::parse(s)?;
                for other in &all {
                    if let Ok((oc, _)) = other.ipv4() {
                        if oc.overlaps(&c) {
                            return Err(Error::InvalidInput(format!(
                                "subnet {c} is already used on the host or by another config: network {}",
                                other.name
                            )));
                        }
                    }
                }
                c
            }
            None => (1..=255u32)
                .map(|i| Cidr {
                    addr: Ipv4Addr::new(10, 89, i as u8, 0),
                    prefix: 24,
                })
                .find(|c| {
                    !all.iter().any(|o| o.ipv4().is_ok_and(|(oc, _)| oc.overlaps(c)))
                        && !host_used.iter().any(|h| h.overlaps(c))
                })
                .ok_or_else(|| Error::InvalidInput("could not find a free subnet".into()))?,
        };
        let gateway = match &req.gateway {
            Some(g) => {
                let ip: Ipv4Addr = g
                    .parse()
                    .map_err(|_| Error::InvalidInput(format!("invalid gateway {g:?}")))?;
                if !subnet.contains(ip) {
                    return Err(Error::InvalidInput(format!(
                        "gateway {ip} not in subnet {subnet}"
                    )));
                }
                ip
            }
            None => subnet.hosts().next().expect("a /30 or larger has hosts"),
        };
        let interface = match &req.interface_name {
            Some(i) => i.clone(),
            None => (1..)
                .map(|i| format!("podman{i}"))
                .find(|i| {
                    !all.iter().any(|x| &x.network_interface == i)
                        && !std::path::Path::new("/sys/class/net").join(i).exists()
                })
                .expect("a free interface"),
        };
        let net = Network {
            name: name.clone(),
            id: random_id(),
            driver,
            network_interface: interface,
            created: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
            subnets: vec![Subnet {
                subnet: subnet.to_string(),
                gateway: Some(gateway.to_string()),
            }],
            ipv6_enabled: false,
            internal: req.internal,
            dns_enabled: !req.disable_dns,
            labels: req.labels.clone(),
            options: BTreeMap::new(),
            ipam_options: [("driver".to_string(), "host-local".to_string())].into(),
        };
        let text = serde_json::to_string_pretty(&net).expect("a network serializes");
        let path = self.path(&name);
        std::fs::write(&path, text).ctx(|| format!("writing {}", path.display()))?;
        Ok(net)
    }

    /// Removes a network's file (the caller has checked that no container uses it).
    pub fn remove(&self, name: &str) -> Result<()> {
        if name == DEFAULT_NETWORK {
            return Err(Error::InvalidInput(format!(
                "default network {name} cannot be removed"
            )));
        }
        let _held = self.lock()?;
        let path = self.path(name);
        std::fs::remove_file(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                not_found(name)
            } else {
                Error::Io {
                    context: format!("removing {}", path.display()),
                    source: e,
                }
            }
        })
    }
}

fn not_found(name: &str) -> Error {
    Error::InvalidInput(format!(
        "unable to find network with name or ID {name}: network not found"
    ))
}

fn random_id() -> String {
    let mut b = [0u8; 32];
    let _ = getrandom_fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn getrandom_fill(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// The IPv4 subnets of the host's interfaces (`/proc/net/route`), which a new network must not overlap.
fn host_subnets() -> Vec<Cidr> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None;
            }
            Some(Cidr {
                addr: Ipv4Addr::from(u32::from_be(dest)),
                prefix: u32::from_be(mask).count_ones() as u8,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.89.3.7/24").unwrap();
        assert_eq!(c.to_string(), "10.89.3.0/24");
        assert!(c.contains("10.89.3.200".parse().unwrap()));
        assert!(!c.contains("10.89.4.1".parse().unwrap()));
        assert_eq!(c.hosts().next(), Some("10.89.3.1".parse().unwrap()));
        assert_eq!(c.hosts().last(), Some("10.89.3.254".parse().unwrap()));
        assert!(c.overlaps(&Cidr::parse("10.89.0.0/16").unwrap()));
        assert!(Cidr::parse("10.0.0.0").is_err());
    }

    #[test]
    fn default_network_json_is_podmans() {
        let v = serde_json::to_value(Network::default_network()).unwrap();
        assert_eq!(v["network_interface"], "podman0");
        assert_eq!(v["subnets"][0]["subnet"], "10.88.0.0/16");
        assert_eq!(v["ipam_options"]["driver"], "host-local");
        assert!(v.get("labels").is_none());
    }
}
