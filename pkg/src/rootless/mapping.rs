//! A container's own user namespace: `--userns`, `--uidmap` and `--gidmap` resolved (at `create`) into
//! the mappings of the spec's `linux.uidMappings`/`gidMappings`, relative to the engine's namespace
//! (the rootless namespace for a user, the host for root).
//!
//! - `host` (the default): no namespace of its own; a rootless container then shares the rootless
//!   namespace (container root = the user).
//! - `keep-id` (rootless): the user's UID and GID are the same inside; 0..UID-1 come from the
//!   subordinate range, as Podman. The process runs as the user unless `-u` says otherwise.
//! - `nomap` (rootless): only the subordinate range; the user's own ID is not mapped.
//! - `auto[:size=N]` (rootless): N IDs (1024 by default) of the subordinate range that no other
//!   `auto` container of the store uses.
//! - `--uidmap C:H:N` / `--gidmap C:H:N`: given explicitly (one of them alone is used for both).
//!
//! What is missing: the image's files are not re-owned for the container's mapping (Podman makes a
//! chowned copy of the layers), so in a `keep-id` container the files owned by root in the image
//! show up owned by the user (and with `nomap`/`auto`, where the user's ID is not mapped, as
//! `nobody`). The runtime unshares the container's user namespace after the mounts, so the store
//! needs no permissions for the container's IDs.

use oci_spec::runtime::{LinuxIdMapping, LinuxIdMappingBuilder};
use serde::{Deserialize, Serialize};

use super::userns::{self, IdMap};
use crate::error::{Error, Result};

/// The user-namespace flags as given, and the resolved mappings (`inside:outside:size`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsernsConfig {
    /// `--userns` as given (empty: the default).
    #[serde(default)]
    pub mode: String,
    /// `--uidmap` values; after create, the container's UID mappings (empty: no namespace of its own).
    #[serde(default)]
    pub uidmap: Vec<String>,
    /// `--gidmap` values; after create, the container's GID mappings.
    #[serde(default)]
    pub gidmap: Vec<String>,
}

/// The default `auto` size, as Podman's.
const AUTO_SIZE: u32 = 1024;

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

/// Parses `C:H:N` (Podman's `--uidmap` syntax).
pub fn parse_triple(s: &str) -> Result<IdMap> {
    let bad = || {
        invalid(format!(
            "invalid ID mapping {s:?}: expected CONTAINER_ID:HOST_ID:AMOUNT"
        ))
    };
    let parts: Vec<u32> = s
        .split(':')
        .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    match parts[..] {
        [inside, outside, size] if size > 0 => Ok(IdMap {
            inside,
            outside,
            size,
        }),
        _ => Err(bad()),
    }
}

fn triple(m: &IdMap) -> String {
    format!("{}:{}:{}", m.inside, m.outside, m.size)
}

/// The engine namespace's mappings (`/proc/self/uid_map` or `gid_map`).
fn own_maps(file: &str) -> Vec<IdMap> {
    std::fs::read_to_string(format!("/proc/self/{file}"))
        .map(|t| userns::parse_map(&t))
        .unwrap_or_default()
}

/// How many IDs the engine's namespace has (0..count).
fn own_count(file: &str) -> u32 {
    u32::try_from(userns::mapped_count(&own_maps(file))).unwrap_or(u32::MAX)
}

/// Podman's keep-id: `id` stays `id`, 0..id-1 come from 1..id, the rest map to themselves.
pub fn keep_id_maps(id: u32, count: u32) -> Vec<IdMap> {
    let mut maps = vec![];
    let below = id.min(count.saturating_sub(1));
    if below > 0 {
        maps.push(IdMap {
            inside: 0,
            outside: 1,
            size: below,
        });
    }
    maps.push(IdMap {
        inside: id,
        outside: 0,
        size: 1,
    });
    if count > id + 1 {
        maps.push(IdMap {
            inside: id + 1,
            outside: id + 1,
            size: count - id - 1,
        });
    }
    maps
}

/// The lowest `size`-sized block of 1..count not overlapping `used` (outside IDs).
pub fn auto_block(size: u32, count: u32, used: &[IdMap]) -> Option<IdMap> {
    let mut start = 1u32;
    while start.checked_add(size)? <= count {
        let end = start + size;
        match used
            .iter()
            .filter(|m| m.outside < end && start < m.outside.saturating_add(m.size))
            .map(|m| m.outside.saturating_add(m.size))
            .max()
        {
            Some(next) => start = next.max(start + 1),
            None => {
                return Some(IdMap {
                    inside: 0,
                    outside: start,
                    size,
                })
            }
        }
    }
    None
}

/// Resolves `cfg`'s flags into mappings, in place. `others` are the UID mappings of the store's other
/// containers (for `auto`). Sets the process user for `keep-id` when `-u` was not given.
pub fn resolve(userns: &mut UsernsConfig, user: &mut Option<String>, others: &[Vec<String>]) -> Result<()> {
    let rootless = super::is_rootless();
    let mode = userns.mode.trim().to_string();
    let (kind, options) = mode.split_once(':').unwrap_or((mode.as_str(), ""));
    if !userns.uidmap.is_empty() || !userns.gidmap.is_empty() {
        if !kind.is_empty() && kind != "private" {
            return Err(invalid(format!(
                "--userns={mode} and --uidmap/--gidmap cannot be used together"
            )));
        }
        let uids: Vec<IdMap> = userns
            .uidmap
            .iter()
            .map(|s| parse_triple(s))
            .collect::<Result<_>>()?;
        let gids: Vec<IdMap> = userns
            .gidmap
            .iter()
            .map(|s| parse_triple(s))
            .collect::<Result<_>>()?;
        let (uids, gids) = match (uids.is_empty(), gids.is_empty()) {
            (true, _) => (gids.clone(), gids),
            (_, true) => (uids.clone(), uids),
            _ => (uids, gids),
        };
        userns.uidmap = uids.iter().map(triple).collect();
        userns.gidmap = gids.iter().map(triple).collect();
        return Ok(());
    }
    let needs_rootless = |name: &str| {
        if rootless {
            Ok(())
        } else {
            Err(invalid(format!(
                "--userns={name} is only supported in rootless mode"
            )))
        }
    };
    let (uids, gids) = match kind {
        "" | "host" => return Ok(()),
        "keep-id" => {
            needs_rootless(kind)?;
            let uid = super::host_uid().unwrap_or(0);
            let gid = super::host_gid().unwrap_or(0);
            if user.is_none() {
                *user = Some(format!("{uid}:{gid}"));
            }
            (
                keep_id_maps(uid, own_count("uid_map")),
                keep_id_maps(gid, own_count("gid_map")),
            )
        }
        "nomap" => {
            needs_rootless(kind)?;
            let all = |file| {
                let count = own_count(file);
                if count < 2 {
                    return Err(invalid(
                        "--userns=nomap needs subordinate IDs (/etc/subuid, /etc/subgid)",
                    ));
                }
                Ok(vec![IdMap {
                    inside: 0,
                    outside: 1,
                    size: count - 1,
                }])
            };
            (all("uid_map")?, all("gid_map")?)
        }
        "auto" => {
            needs_rootless(kind)?;
            let mut size = AUTO_SIZE;
            for opt in options.split(',').filter(|o| !o.is_empty()) {
                size = opt
                    .strip_prefix("size=")
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid(format!("unsupported --userns=auto option {opt:?}")))?;
            }
            let used: Vec<IdMap> = others
                .iter()
                .flatten()
                .filter_map(|s| parse_triple(s).ok())
                .collect();
            let count = own_count("uid_map").min(own_count("gid_map"));
            let block = auto_block(size, count, &used).ok_or_else(|| {
                invalid(format!(
                    "--userns=auto: no free block of {size} IDs left in the {count} of your subordinate ranges"
                ))
            })?;
            (vec![block], vec![block])
        }
        _ => {
            return Err(invalid(format!(
                "invalid --userns {mode:?}: use host, keep-id, nomap or auto[:size=N]"
            )))
        }
    };
    userns.uidmap = uids.iter().map(triple).collect();
    userns.gidmap = gids.iter().map(triple).collect();
    Ok(())
}

/// [`resolve`] for a container being created in `engine`'s store.
pub fn resolve_for_create(
    engine: &crate::Engine,
    cfg: &mut crate::container::config::CreateConfig,
) -> Result<()> {
    if cfg.userns.mode.is_empty() && cfg.userns.uidmap.is_empty() && cfg.userns.gidmap.is_empty() {
        return Ok(());
    }
    let others: Vec<Vec<String>> = if cfg.userns.mode.starts_with("auto") {
        crate::container::store::read(&engine.store)?
            .containers
            .iter()
            .filter_map(|c| crate::container::lifecycle::config_of(engine, &c.id).ok())
            .map(|c| c.userns.uidmap)
            .collect()
    } else {
        vec![]
    };
    resolve(&mut cfg.userns, &mut cfg.user, &others)
}

fn spec_maps(list: &[String]) -> Result<Vec<LinuxIdMapping>> {
    list.iter()
        .map(|s| {
            let m = parse_triple(s)?;
            Ok(LinuxIdMappingBuilder::default()
                .container_id(m.inside)
                .host_id(m.outside)
                .size(m.size)
                .build()
                .expect("all fields set"))
        })
        .collect()
}

/// The spec's UID and GID mappings when the container has a user namespace of its own.
pub fn spec_mappings(userns: &UsernsConfig) -> Result<Option<(Vec<LinuxIdMapping>, Vec<LinuxIdMapping>)>> {
    if userns.uidmap.is_empty() {
        return Ok(None);
    }
    Ok(Some((spec_maps(&userns.uidmap)?, spec_maps(&userns.gidmap)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(maps: &[IdMap]) -> Vec<String> {
        maps.iter().map(triple).collect()
    }

    #[test]
    fn keep_id_moves_the_users_id_and_keeps_the_rest() {
        assert_eq!(
            lines(&keep_id_maps(1000, 65537)),
            ["0:1:1000", "1000:0:1", "1001:1001:64536"]
        );
        // A user with no subordinate IDs: only themselves.
        assert_eq!(lines(&keep_id_maps(1000, 1)), ["1000:0:1"]);
    }

    #[test]
    fn auto_takes_the_first_free_block() {
        let used = [
            parse_triple("0:1:1024").unwrap(),
            parse_triple("0:2049:10").unwrap(),
        ];
        assert_eq!(triple(&auto_block(1024, 65537, &used).unwrap()), "0:1025:1024");
        assert_eq!(triple(&auto_block(1100, 65537, &used).unwrap()), "0:2059:1100");
        assert!(auto_block(70000, 65537, &[]).is_none());
    }

    #[test]
    fn explicit_maps_and_conflicts() {
        let mut u = UsernsConfig {
            uidmap: vec!["0:100:10".into()],
            ..Default::default()
        };
        let mut user = None;
        resolve(&mut u, &mut user, &[]).unwrap();
        assert_eq!(u.gidmap, ["0:100:10"]);
        let mut bad = UsernsConfig {
            mode: "keep-id".into(),
            uidmap: vec!["0:1:1".into()],
            ..Default::default()
        };
        assert!(resolve(&mut bad, &mut user, &[]).is_err());
        assert!(parse_triple("0:1").is_err());
        assert!(parse_triple("0:1:0").is_err());
    }
}
