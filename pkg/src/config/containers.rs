//! containers.conf: the container defaults Podman reads (`[containers] default_capabilities`,
//! `default_ulimits`). Files, later ones winning: `/usr/share/containers/containers.conf`,
//! `/etc/containers/containers.conf`, `$XDG_CONFIG_HOME/containers/containers.conf` (or `~/.config/...`);
//! or only `$CONTAINERS_CONF` when set. Keys we do not use are ignored, as Podman ignores unknown ones.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ContainersConf {
    /// Capabilities every container gets (None: the built-in default set).
    pub default_capabilities: Option<Vec<String>>,
    /// `name=soft[:hard]` limits every container gets unless `--ulimit` sets them.
    pub default_ulimits: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    containers: Section,
}

#[derive(Debug, Default, Deserialize)]
struct Section {
    default_capabilities: Option<Vec<String>>,
    default_ulimits: Option<Vec<String>>,
}

fn candidates() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os("CONTAINERS_CONF").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut files = vec![
        PathBuf::from("/usr/share/containers/containers.conf"),
        "/etc/containers/containers.conf".into(),
    ];
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(u) = user {
        files.push(u.join("containers/containers.conf"));
    }
    files
}

pub fn load() -> Result<ContainersConf> {
    let mut conf = ContainersConf::default();
    for path in candidates() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file: File = toml::from_str(&text)
            .map_err(|e| Error::Config(format!("parsing {}: {}", path.display(), e.message())))?;
        if let Some(caps) = file.containers.default_capabilities {
            conf.default_capabilities = Some(caps);
        }
        if let Some(u) = file.containers.default_ulimits {
            conf.default_ulimits = u;
        }
    }
    Ok(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_container_defaults_and_ignores_the_rest() {
        let f: File = toml::from_str(
            "[containers]\ndefault_capabilities = [\"CHOWN\"]\ndefault_ulimits = [\"nofile=1024:1024\"]\nlog_driver = \"k8s-file\"\n[engine]\nruntime = \"runc\"\n",
        )
        .unwrap();
        assert_eq!(f.containers.default_capabilities, Some(vec!["CHOWN".to_string()]));
        assert_eq!(
            f.containers.default_ulimits,
            Some(vec!["nofile=1024:1024".to_string()])
        );
    }
}
