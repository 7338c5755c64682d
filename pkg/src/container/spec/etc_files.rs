//! The files the engine writes for a container and bind-mounts in: `/etc/hosts`, `/etc/hostname`,
//! `/etc/resolv.conf` and `/run/.containerenv`, with Podman's contents.

use crate::container::config::NetworkMode;
use crate::error::{IoContext, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Podman's fallback when no usable nameserver is left (`resolvconf.filterResolvDNS`).
const FALLBACK_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// `/etc/hosts`: the base file's entries (the host's `/etc/hosts`, as Podman's `base_hosts_file=""`),
/// then `127.0.0.1 localhost` and `::1 localhost` unless `localhost` is already there, then
/// `127.0.0.1 HOSTNAME NAME` for containers with only a loopback network (any name already present is
/// left out). One `IP<TAB>names` line per entry.
pub(super) fn hosts(base: &str, network: &NetworkMode, hostname: &str, name: &str) -> String {
    let mut out = String::new();
    let mut names: Vec<String> = Vec::new();
    for line in base.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(ip) = fields.next() else { continue };
        let entry: Vec<&str> = fields.collect();
        if entry.is_empty() {
            continue;
        }
        names.extend(entry.iter().map(|s| s.to_string()));
        out.push_str(&format!("{ip}\t{}\n", entry.join(" ")));
    }
    let mut extra: Vec<(&str, Vec<&str>)> =
        vec![("127.0.0.1", vec!["localhost"]), ("::1", vec!["localhost"])];
    if matches!(network, NetworkMode::None | NetworkMode::Private) {
        extra.push((
            "127.0.0.1",
            [hostname, name].into_iter().filter(|n| !n.is_empty()).collect(),
        ));
    }
    for (ip, entry) in extra {
        let free: Vec<&str> = entry
            .into_iter()
            .filter(|n| !names.iter().any(|have| have == n))
            .collect();
        if !free.is_empty() {
            out.push_str(&format!("{ip}\t{}\n", free.join(" ")));
        }
    }
    out
}

fn is_loopback(addr: &str) -> bool {
    addr == "::1" || addr.starts_with("127.")
}

/// `/etc/resolv.conf` from the host's: unchanged with the host's network namespace; otherwise without
/// loopback nameservers (they are not reachable from another namespace) and without IPv6 ones (no IPv6
/// here), falling back to Podman's public resolvers when none is left.
pub(super) fn resolv_conf(host: &str, host_network: bool) -> String {
    if host_network {
        return host.to_string();
    }
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut fields = line.split_whitespace();
        if fields.next() == Some("nameserver") {
            let addr = fields.next().unwrap_or("");
            if is_loopback(addr) || addr.contains(':') {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if servers == 0 {
        for s in FALLBACK_NAMESERVERS {
            out.push_str(&format!("nameserver {s}\n"));
        }
    }
    out
}

/// What `/run/.containerenv` says about the container.
pub(super) struct ContainerEnv<'a> {
    pub privileged: bool,
    pub rootless: bool,
    pub name: &'a str,
    pub id: &'a str,
    pub image: &'a str,
    pub image_id: &'a str,
}

/// `/run/.containerenv`: present in every container (its existence says "in a container"), and with
/// Podman's `key="value"` lines only for `--privileged` containers, as Podman (the information is
/// withheld from unprivileged ones).
pub(super) fn containerenv(c: &ContainerEnv) -> String {
    if !c.privileged {
        return String::new();
    }
    format!(
        "engine=\"selkie-{}\"\nname={:?}\nid={:?}\nimage={:?}\nimageid={:?}\nrootless={}\n",
        crate::system::VERSION,
        c.name,
        c.id,
        c.image,
        c.image_id,
        u8::from(c.rootless)
    )
}

/// The host paths of the written files.
pub(super) struct EtcFiles {
    pub hosts: PathBuf,
    pub hostname: PathBuf,
    /// `None` with `--network none`, as Podman.
    pub resolv_conf: Option<PathBuf>,
    pub containerenv: PathBuf,
}

/// Writes the four files into `userdata` (mode 0644), replacing older versions.
pub(super) fn write(
    userdata: &Path,
    hosts: &str,
    hostname: &str,
    resolv_conf: Option<&str>,
    containerenv: &str,
) -> Result<EtcFiles> {
    std::fs::create_dir_all(userdata).ctx(|| format!("creating {}", userdata.display()))?;
    let put = |name: &str, text: &str| -> Result<PathBuf> {
        let path = userdata.join(name);
        let tmp = userdata.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).ctx(|| format!("writing {}", tmp.display()))?;
        // Readable by any container user whatever the caller's umask.
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .ctx(|| format!("chmod {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).ctx(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    Ok(EtcFiles {
        hosts: put("hosts", hosts)?,
        hostname: put("hostname", &format!("{hostname}\n"))?,
        resolv_conf: resolv_conf.map(|r| put("resolv.conf", r)).transpose()?,
        containerenv: put(".containerenv", containerenv)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file() {
        let base = "127.0.0.1 localhost\n# comment\n10.0.0.1   db db.local # trailing\n\n";
        assert_eq!(
            hosts(base, &NetworkMode::Private, "abc123", "web"),
            "127.0.0.1\tlocalhost\n10.0.0.1\tdb db.local\n127.0.0.1\tabc123 web\n"
        );
        assert_eq!(
            hosts("", &NetworkMode::None, "h", "n"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.0.1\th n\n"
        );
        assert_eq!(
            hosts("", &NetworkMode::Host, "h", "n"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
        );
        assert_eq!(
            hosts("10.1.1.1 h\n", &NetworkMode::None, "h", "n").lines().last(),
            Some("127.0.0.1\tn")
        );
    }

    #[test]
    fn resolv_conf_filters_loopback() {
        let host = "search example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\n\
                    nameserver fe80::1\noptions ndots:2\n";
        assert_eq!(
            resolv_conf(host, false),
            "search example.com\nnameserver 10.0.0.2\noptions ndots:2\n"
        );
        assert_eq!(resolv_conf(host, true), host);
        assert_eq!(
            resolv_conf("nameserver 127.0.0.1\n", false),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn containerenv_only_for_privileged() {
        let mut c = ContainerEnv {
            privileged: false,
            rootless: true,
            name: "web",
            id: "abc",
            image: "img",
            image_id: "123",
        };
        assert_eq!(containerenv(&c), "");
        c.privileged = true;
        let text = containerenv(&c);
        assert!(text.starts_with("engine=\"selkie-"));
        assert!(text.contains("name=\"web\"\nid=\"abc\"\nimage=\"img\"\nimageid=\"123\"\nrootless=1\n"));
    }

    #[test]
    fn writes_files() {
        let t = tempfile::tempdir().unwrap();
        let f = write(t.path(), "h", "name", None, "").unwrap();
        assert_eq!(std::fs::read_to_string(&f.hostname).unwrap(), "name\n");
        assert!(f.resolv_conf.is_none());
        assert!(f.containerenv.exists() && f.hosts.exists());
    }
}
