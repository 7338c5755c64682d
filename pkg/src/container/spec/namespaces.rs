//! `linux.namespaces` and the hostname, as Podman 4 chooses them.

use super::{ContainerNsResolver, HostFacts};
use crate::container::config::{CreateConfig, NamespaceMode, NetworkMode};
use crate::error::{Error, Result};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceBuilder, LinuxNamespaceType};
use std::path::PathBuf;

fn ns(typ: LinuxNamespaceType, path: Option<PathBuf>) -> LinuxNamespace {
    let b = LinuxNamespaceBuilder::default().typ(typ);
    match path {
        Some(p) => b.path(p),
        None => b,
    }
    .build()
    .expect("namespace type set")
}

fn kind(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Pid => "PID",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Ipc => "IPC",
        LinuxNamespaceType::Uts => "UTS",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Mount => "mount",
        _ => "other",
    }
}

/// One namespace entry for a mode: `None` for the host's (no entry at all).
fn entry(
    typ: LinuxNamespaceType,
    mode: &NamespaceMode,
    join: Option<&ContainerNsResolver>,
) -> Result<Option<LinuxNamespace>> {
    Ok(match mode {
        NamespaceMode::Private => Some(ns(typ, None)),
        NamespaceMode::Host => None,
        NamespaceMode::Path(p) => {
            if !p.exists() {
                return Err(Error::InvalidInput(format!(
                    "cannot find the {} namespace path {}",
                    kind(typ),
                    p.display()
                )));
            }
            Some(ns(typ, Some(p.clone())))
        }
        NamespaceMode::Container(id) => {
            let resolve = join.ok_or_else(|| {
                Error::InvalidInput(format!(
                    "joining the {} namespace of container {id} is not supported here",
                    kind(typ)
                ))
            })?;
            Some(ns(typ, Some(resolve(id, typ)?)))
        }
    })
}

/// The network mode as a namespace mode: `none` and `private` both get a new namespace.
pub(super) fn network_mode(n: &NetworkMode) -> NamespaceMode {
    match n {
        NetworkMode::Private | NetworkMode::None => NamespaceMode::Private,
        NetworkMode::Host => NamespaceMode::Host,
        NetworkMode::Path(p) => NamespaceMode::Path(p.clone()),
        NetworkMode::Container(id) => NamespaceMode::Container(id.clone()),
    }
}

/// pid, network, ipc, uts, mount (always new) and cgroup (new on a unified cgroup v2 hierarchy only,
/// Podman's `cgroupns` default): private ones without a path, joined ones with one, host ones left out.
pub(super) fn namespaces(
    cfg: &CreateConfig,
    host: &HostFacts,
    join: Option<&ContainerNsResolver>,
) -> Result<Vec<LinuxNamespace>> {
    let cgroup = if host.cgroup_v2 {
        NamespaceMode::Private
    } else {
        NamespaceMode::Host
    };
    let modes = [
        (LinuxNamespaceType::Pid, cfg.pid.clone()),
        (LinuxNamespaceType::Network, network_mode(&cfg.network)),
        (LinuxNamespaceType::Ipc, cfg.ipc.clone()),
        (LinuxNamespaceType::Uts, cfg.uts.clone()),
        (LinuxNamespaceType::Mount, NamespaceMode::Private),
        (LinuxNamespaceType::Cgroup, cgroup),
    ];
    let mut out = Vec::new();
    for (typ, mode) in &modes {
        out.extend(entry(*typ, mode, join)?);
    }
    Ok(out)
}

/// The spec's `hostname` (`None` when the container shares a UTS namespace) and the name `HOSTNAME`
/// defaults to. `--hostname`, else the host's name with `--network host` (Podman 4), else the first
/// 12 characters of the ID; with `--uts host` (or a joined UTS namespace) the host's name and no
/// `hostname` in the spec, and `--hostname` is refused.
pub(super) fn hostname(cfg: &CreateConfig, host: &HostFacts, id: &str) -> Result<(Option<String>, String)> {
    let own_uts = cfg.uts == NamespaceMode::Private;
    if !own_uts {
        if cfg.hostname.is_some() {
            return Err(Error::InvalidInput(
                "cannot set the hostname when the container does not have its own UTS namespace".into(),
            ));
        }
        return Ok((None, host.hostname.clone()));
    }
    let name = match &cfg.hostname {
        Some(h) => h.clone(),
        None if cfg.network == NetworkMode::Host => host.hostname.clone(),
        None => id.chars().take(12).collect(),
    };
    Ok((Some(name.clone()), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(v: &[LinuxNamespace]) -> Vec<(LinuxNamespaceType, Option<PathBuf>)> {
        v.iter().map(|n| (n.typ(), n.path().clone())).collect()
    }

    #[test]
    fn default_namespaces() {
        use LinuxNamespaceType::*;
        let host = HostFacts::for_tests();
        let got = namespaces(&CreateConfig::default(), &host, None).unwrap();
        assert_eq!(
            types(&got),
            vec![
                (Pid, None),
                (Network, None),
                (Ipc, None),
                (Uts, None),
                (Mount, None)
            ]
        );
        let v2 = HostFacts {
            cgroup_v2: true,
            ..HostFacts::for_tests()
        };
        assert_eq!(
            namespaces(&CreateConfig::default(), &v2, None)
                .unwrap()
                .last()
                .unwrap()
                .typ(),
            Cgroup
        );
        let none = CreateConfig {
            network: NetworkMode::None,
            ..Default::default()
        };
        assert_eq!(namespaces(&none, &host, None).unwrap().len(), 5);
    }

    #[test]
    fn host_path_and_container_modes() {
        use LinuxNamespaceType::*;
        let host = HostFacts::for_tests();
        let cfg = CreateConfig {
            pid: NamespaceMode::Host,
            network: NetworkMode::Path("/proc/self/ns/net".into()),
            ipc: NamespaceMode::Container("db".into()),
            uts: NamespaceMode::Host,
            ..Default::default()
        };
        let resolver = |id: &str, t: LinuxNamespaceType| -> Result<PathBuf> {
            assert_eq!((id, t), ("db", Ipc));
            Ok("/proc/42/ns/ipc".into())
        };
        let got = namespaces(&cfg, &host, Some(&resolver)).unwrap();
        assert_eq!(
            types(&got),
            vec![
                (Network, Some("/proc/self/ns/net".into())),
                (Ipc, Some("/proc/42/ns/ipc".into())),
                (Mount, None)
            ]
        );
        assert!(namespaces(&cfg, &host, None)
            .unwrap_err()
            .to_string()
            .contains("container db"));
        let missing = CreateConfig {
            pid: NamespaceMode::Path("/nonexistent/ns".into()),
            ..Default::default()
        };
        assert!(namespaces(&missing, &host, None)
            .unwrap_err()
            .to_string()
            .contains("cannot find the PID namespace"));
    }

    #[test]
    fn hostnames() {
        let host = HostFacts {
            hostname: "hosty".into(),
            ..HostFacts::for_tests()
        };
        let id = "0123456789abcdef";
        assert_eq!(
            hostname(&CreateConfig::default(), &host, id).unwrap(),
            (Some("0123456789ab".into()), "0123456789ab".into())
        );
        let named = CreateConfig {
            hostname: Some("web".into()),
            ..Default::default()
        };
        assert_eq!(
            hostname(&named, &host, id).unwrap(),
            (Some("web".into()), "web".into())
        );
        let net_host = CreateConfig {
            network: NetworkMode::Host,
            ..Default::default()
        };
        assert_eq!(
            hostname(&net_host, &host, id).unwrap(),
            (Some("hosty".into()), "hosty".into())
        );
        let uts_host = CreateConfig {
            uts: NamespaceMode::Host,
            ..Default::default()
        };
        assert_eq!(hostname(&uts_host, &host, id).unwrap(), (None, "hosty".into()));
        let both = CreateConfig {
            uts: NamespaceMode::Host,
            hostname: Some("x".into()),
            ..Default::default()
        };
        assert!(hostname(&both, &host, id).is_err());
    }
}
