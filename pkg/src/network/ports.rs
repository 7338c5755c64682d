//! `-p/--publish` and `-P` for root containers: Podman's syntax, parsed into netavark's port mappings.
//! netavark installs the DNAT rules; a missing host port is chosen here, free at the time of the start.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// netavark's `PortMapping` (`port_mappings` of the network options).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    pub host_ip: String,
    pub container_port: u16,
    /// 0 until a free port is chosen at start.
    pub host_port: u16,
    /// How many consecutive ports, from both starts.
    pub range: u16,
    pub protocol: String,
}

fn bad(s: &str) -> Error {
    Error::InvalidInput(format!(
        "invalid -p/--publish {s:?}: expected [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], ports or ranges (8000-8010)"
    ))
}

/// `PORT` or `START-END`: (start, count).
fn port_range(s: &str, whole: &str) -> Result<(u16, u16)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad(whole));
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if b < a {
                return Err(bad(whole));
            }
            Ok((a, b - a + 1))
        }
        None => Ok((port(s)?, 1)),
    }
}

/// Parses one `-p` value: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`, with ranges and `[IPv6]`.
pub fn parse_publish(s: &str) -> Result<Vec<PortMapping>> {
    let (spec, protos) = match s.rsplit_once('/') {
        Some((spec, p)) => (spec, p),
        None => (s, "tcp"),
    };
    let protos: Vec<&str> = protos.split(',').collect();
    if protos.iter().any(|p| !matches!(*p, "tcp" | "udp")) {
        return Err(bad(s));
    }
    // Split off an IP first: `[::1]:8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`.
    let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, rest) = r.split_once("]:").ok_or_else(|| bad(s))?;
        (ip.to_string(), rest)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            1 | 2 => (String::new(), spec),
            3 => (parts[0].to_string(), &spec[parts[0].len() + 1..]),
            _ => return Err(bad(s)),
        }
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(bad(s));
    }
    let (host, ctr) = match rest.split_once(':') {
        Some((h, c)) => (h, c),
        None => ("", rest),
    };
    let (ctr_start, count) = port_range(ctr, s)?;
    let host_start = if host.is_empty() {
        0
    } else {
        let (h, hc) = port_range(host, s)?;
        if hc != count {
            return Err(Error::InvalidInput(format!(
                "invalid -p/--publish {s:?}: the host and container ranges differ in size"
            )));
        }
        h
    };
    Ok(protos
        .iter()
        .map(|p| PortMapping {
            host_ip: ip.clone(),
            container_port: ctr_start,
            host_port: host_start,
            range: count,
            protocol: p.to_string(),
        })
        .collect())
}

/// The image's `EXPOSE` entries (`80/tcp`, `53/udp`, `8080`) as mappings to random host ports.
pub fn exposed(expose: &[String]) -> Vec<PortMapping> {
    expose
        .iter()
        .filter_map(|e| {
            let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
            let (start, count) = port_range(port, e).ok()?;
            Some(PortMapping {
                host_ip: String::new(),
                container_port: start,
                host_port: 0,
                range: count,
                protocol: proto.to_string(),
            })
        })
        .collect()
}

/// Whether a host port is free now (can be bound on the wildcard address).
fn free(port: u16, proto: &str) -> bool {
    match proto {
        "udp" => std::net::UdpSocket::bind(("0.0.0.0", port)).is_ok(),
        _ => std::net::TcpListener::bind(("0.0.0.0", port)).is_ok(),
    }
}

/// Chooses host ports for the mappings without one: the kernel's choice for single ports, a free
/// consecutive run for ranges.
pub fn assign_host_ports(mappings: &mut [PortMapping]) -> Result<()> {
    for m in mappings.iter_mut().filter(|m| m.host_port == 0) {
        let pick = || -> Option<u16> {
            let port = match m.protocol.as_str() {
                "udp" => std::net::UdpSocket::bind(("0.0.0.0", 0))
                    .ok()?
                    .local_addr()
                    .ok()?
                    .port(),
                _ => std::net::TcpListener::bind(("0.0.0.0", 0))
                    .ok()?
                    .local_addr()
                    .ok()?
                    .port(),
            };
            let end = port.checked_add(m.range - 1)?;
            (port..=end).all(|p| free(p, &m.protocol)).then_some(port)
        };
        m.host_port = (0..100)
            .find_map(|_| pick())
            .ok_or_else(|| Error::Runtime("could not find free host ports to publish".into()))?;
    }
    Ok(())
}

/// `port`'s lines for one mapping: `80/tcp -> 0.0.0.0:8080`, one per port of a range.
pub fn describe(m: &PortMapping) -> Vec<String> {
    let ip = if m.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        &m.host_ip
    };
    (0..m.range)
        .map(|i| {
            format!(
                "{}/{} -> {ip}:{}",
                m.container_port + i,
                m.protocol,
                m.host_port + i
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> PortMapping {
        let mut v = parse_publish(s).unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    #[test]
    fn publish_forms() {
        let m = one("127.0.0.1:8080:80");
        assert_eq!(
            (m.host_ip.as_str(), m.host_port, m.container_port, m.range),
            ("127.0.0.1", 8080, 80, 1)
        );
        let m = one("8080:80/udp");
        assert_eq!(
            (m.host_ip.as_str(), m.host_port, m.protocol.as_str()),
            ("", 8080, "udp")
        );
        let m = one("80");
        assert_eq!((m.host_port, m.container_port), (0, 80));
        let m = one("127.0.0.1::80");
        assert_eq!((m.host_ip.as_str(), m.host_port), ("127.0.0.1", 0));
        let m = one("8000-8002:9000-9002");
        assert_eq!((m.host_port, m.container_port, m.range), (8000, 9000, 3));
        let m = one("[::1]:8080:80");
        assert_eq!(m.host_ip, "::1");
        assert_eq!(parse_publish("53:53/tcp,udp").unwrap().len(), 2);
        for badv in ["x:1:2", "1:2/sctp", "0:80", "1-3:1-2", "a", "1:2:3:4"] {
            assert!(parse_publish(badv).is_err(), "{badv}");
        }
    }

    #[test]
    fn describes_ranges() {
        let m = one("8000-8001:9000-9001");
        assert_eq!(
            describe(&m),
            vec!["9000/tcp -> 0.0.0.0:8000", "9001/tcp -> 0.0.0.0:8001"]
        );
    }

    #[test]
    fn assigns_free_ports() {
        let mut v = exposed(&["80/tcp".into(), "53/udp".into()]);
        assign_host_ports(&mut v).unwrap();
        assert!(v.iter().all(|m| m.host_port > 0));
    }
}
