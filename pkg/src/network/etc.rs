//! The network's part of a container's `/etc/hosts` and `/etc/resolv.conf`: `--add-host`, `--no-hosts`,
//! `--dns*` at create, and at start (bridge networks) the container's own address and, on a network
//! with DNS, the network's name server.

use super::NetworkOptions;
use crate::error::{Error, IoContext, Result};
use std::net::Ipv4Addr;
use std::path::Path;

/// `aa:bb:cc:dd:ee:ff`
pub fn valid_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok())
}

/// `--add-host NAME:IP` (also `NAME=IP`): (name, ip).
pub fn parse_add_host(s: &str) -> Result<(String, String)> {
    let (name, ip) = s
        .split_once(['=', ':'])
        .ok_or_else(|| Error::InvalidInput(format!("invalid --add-host {s:?}: expected HOST:IP")))?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || ip.parse::<std::net::IpAddr>().is_err() {
        return Err(Error::InvalidInput(format!(
            "invalid --add-host {s:?}: expected HOST:IP"
        )));
    }
    Ok((name.to_string(), ip.to_string()))
}

/// The base of the container's `/etc/hosts`: the `--add-host` entries, then the host's file (none with
/// `--no-hosts`).
pub fn base_hosts(host_hosts: &str, opts: &NetworkOptions) -> String {
    let mut out = String::new();
    for h in &opts.add_hosts {
        if let Ok((name, ip)) = parse_add_host(h) {
            out.push_str(&format!("{ip}\t{name}\n"));
        }
    }
    if !opts.no_hosts {
        out.push_str(host_hosts);
    }
    out
}

/// `--dns` replaces the name servers, `--dns-search` the search domains, `--dns-option` the options.
pub fn resolv_flags(resolv: String, opts: &NetworkOptions) -> String {
    replace_resolv(resolv, &opts.dns, &opts.dns_search, &opts.dns_options)
}

fn replace_resolv(resolv: String, servers: &[String], search: &[String], options: &[String]) -> String {
    if servers.is_empty() && search.is_empty() && options.is_empty() {
        return resolv;
    }
    let mut out = String::new();
    let keyword = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
    if !search.is_empty() && !search.iter().any(|s| s == ".") {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for l in resolv.lines() {
        let k = keyword(l);
        let replaced = (k == "nameserver" && !servers.is_empty())
            || ((k == "search" || k == "domain") && !search.is_empty())
            || (k == "options" && !options.is_empty());
        if !replaced {
            out.push_str(l);
            out.push('\n');
        }
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Rewrites the container's `hosts` and `resolv.conf` in `userdata` for a bridged start: the loopback
/// entry of its names (written at create) becomes its address on the first network, the gateway is
/// `host.containers.internal`, and with `dns` (the DNS server of a network with DNS) that server is the
/// only name server unless `--dns` was given.
pub fn write_for_bridge(
    userdata: &Path,
    opts: &NetworkOptions,
    names: &[&str],
    ip: Ipv4Addr,
    gateway: Option<Ipv4Addr>,
    dns: Option<Ipv4Addr>,
) -> Result<()> {
    let hosts_path = userdata.join("hosts");
    if let Ok(old) = std::fs::read_to_string(&hosts_path) {
        let names: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
        let mut out = String::new();
        for l in old.lines() {
            let mut f = l.split_whitespace();
            let addr = f.next().unwrap_or("");
            let entry: Vec<&str> = f.collect();
            let own = addr == "127.0.0.1" && !entry.is_empty() && entry.iter().all(|e| names.contains(e));
            if !own {
                out.push_str(l);
                out.push('\n');
            }
        }
        if !names.is_empty() {
            out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
        if let Some(gw) = gateway {
            out.push_str(&format!("{gw}\thost.containers.internal\n"));
        }
        rewrite(&hosts_path, &out)?;
    }
    let resolv_path = userdata.join("resolv.conf");
    if let (Some(server), Ok(old)) = (dns, std::fs::read_to_string(&resolv_path)) {
        if opts.dns.is_empty() {
            let mut search = vec!["dns.podman".to_string()];
            if opts.dns_search.is_empty() {
                for l in old.lines() {
                    if let Some(rest) = l.strip_prefix("search ") {
                        search.extend(rest.split_whitespace().map(str::to_string));
                    }
                }
            } else {
                search.extend(opts.dns_search.iter().cloned());
            }
            let text = replace_resolv(old, &[server.to_string()], &search, &[]);
            rewrite(&resolv_path, &text)?;
        }
    }
    Ok(())
}

/// `network connect` of a running container: its names at its address on the new network in its
/// `hosts`, and with `dns` (the new network's DNS server) that server in its `resolv.conf` unless `--dns`
/// was given.
pub fn add_network(
    userdata: &Path,
    opts: &NetworkOptions,
    names: &[String],
    ip: Ipv4Addr,
    dns: Option<Ipv4Addr>,
) -> Result<()> {
    let hosts_path = userdata.join("hosts");
    if let Ok(old) = std::fs::read_to_string(&hosts_path) {
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty())
            .collect();
        if !names.is_empty() {
            let mut out = old;
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
            rewrite(&hosts_path, &out)?;
        }
    }
    let resolv_path = userdata.join("resolv.conf");
    if let (Some(server), Ok(old), true) = (dns, std::fs::read_to_string(&resolv_path), opts.dns.is_empty()) {
        let line = format!("nameserver {server}");
        if !old.lines().any(|l| l.trim() == line) {
            let mut out = old;
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&line);
            out.push('\n');
            rewrite(&resolv_path, &out)?;
        }
    }
    Ok(())
}

/// `network disconnect` of a running container: the `hosts` entries of its address on that network
/// go, and the network's DNS server from `resolv.conf` when another one is left.
pub fn remove_network(userdata: &Path, ip: &str, dns: Option<Ipv4Addr>) -> Result<()> {
    let hosts_path = userdata.join("hosts");
    if let Ok(old) = std::fs::read_to_string(&hosts_path) {
        let kept: String = old
            .lines()
            .filter(|l| l.split_whitespace().next() != Some(ip))
            .map(|l| format!("{l}\n"))
            .collect();
        if kept != old {
            rewrite(&hosts_path, &kept)?;
        }
    }
    let resolv_path = userdata.join("resolv.conf");
    if let (Some(server), Ok(old)) = (dns, std::fs::read_to_string(&resolv_path)) {
        let line = format!("nameserver {server}");
        let servers = old
            .lines()
            .filter(|l| l.trim_start().starts_with("nameserver"))
            .count();
        if servers > 1 && old.lines().any(|l| l.trim() == line) {
            let kept: String = old
                .lines()
                .filter(|l| l.trim() != line)
                .map(|l| format!("{l}\n"))
                .collect();
            rewrite(&resolv_path, &kept)?;
        }
    }
    Ok(())
}

/// Replaces a file's content in place: the same inode, since a running container may bind-mount it.
fn rewrite(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).ctx(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_hosts_and_no_hosts() {
        let opts = NetworkOptions {
            add_hosts: vec!["db:10.0.0.5".into()],
            no_hosts: true,
            ..Default::default()
        };
        assert_eq!(base_hosts("1.2.3.4 x\n", &opts), "10.0.0.5\tdb\n");
        assert!(parse_add_host("nohost").is_err());
        assert!(valid_mac("02:42:ac:11:00:02") && !valid_mac("02:42"));
    }

    #[test]
    fn dns_flags_replace() {
        let opts = NetworkOptions {
            dns: vec!["10.1.1.1".into()],
            dns_search: vec!["example.com".into()],
            ..Default::default()
        };
        assert_eq!(
            resolv_flags("search a\nnameserver 8.8.8.8\noptions ndots:2\n".into(), &opts),
            "search example.com\noptions ndots:2\nnameserver 10.1.1.1\n"
        );
    }

    #[test]
    fn bridge_rewrite() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("hosts"),
            "127.0.0.1\tlocalhost\n127.0.0.1\tabc web\n",
        )
        .unwrap();
        std::fs::write(t.path().join("resolv.conf"), "search lan\nnameserver 8.8.8.8\n").unwrap();
        write_for_bridge(
            t.path(),
            &NetworkOptions::default(),
            &["abc", "web"],
            "10.89.0.2".parse().unwrap(),
            Some("10.89.0.1".parse().unwrap()),
            Some("10.89.0.1".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join("hosts")).unwrap(),
            "127.0.0.1\tlocalhost\n10.89.0.2\tabc web\n10.89.0.1\thost.containers.internal\n"
        );
        assert_eq!(
            std::fs::read_to_string(t.path().join("resolv.conf")).unwrap(),
            "search dns.podman lan\nnameserver 10.89.0.1\n"
        );
    }
}
