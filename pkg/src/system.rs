//! `version` and `info`: what this build is and what the host and store look like.

use crate::engine::Engine;
use crate::image::config::host_arch;
use serde_json::{json, Value};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Podman API level whose CLI we follow.
pub const PODMAN_COMPAT: &str = "4.3.1";

pub fn version() -> Value {
    json!({
        "Client": {
            "APIVersion": PODMAN_COMPAT,
            "Version": VERSION,
            "GoVersion": "",
            "GitCommit": "",
            "BuiltTime": "",
            "Built": 0,
            "OsArch": format!("linux/{}", host_arch()),
            "Os": "linux",
        }
    })
}

fn read_trim(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `v2` on a unified hierarchy, else `v1` (including the hybrid layout these machines use).
pub fn cgroup_version() -> &'static str {
    match nix::sys::statfs::statfs("/sys/fs/cgroup") {
        Ok(s) if s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC => "v2",
        _ => "v1",
    }
}

fn overlay_supported() -> bool {
    std::fs::read_to_string("/proc/filesystems")
        .map(|s| s.lines().any(|l| l.ends_with("\toverlay")))
        .unwrap_or(false)
}

fn mem_total() -> u64 {
    read_trim("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Container counts for `info`, supplied by the container store.
#[derive(Default, Clone, Copy)]
pub struct ContainerCounts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

/// Podman's info structure (JSON keys in camelCase as `podman info --format json` prints them).
pub fn info(engine: &Engine, containers: ContainerCounts) -> Value {
    let images = engine.store.images().map(|db| db.images.len()).unwrap_or(0);
    let uname = nix::sys::utsname::uname().ok();
    let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uname
            .as_ref()
            .map(|u| f(u).to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    json!({
        "host": {
            "arch": host_arch(),
            "os": "linux",
            "kernel": field(|u| u.release()),
            "hostname": field(|u| u.nodename()),
            "cgroupVersion": cgroup_version(),
            "cgroupManager": "cgroupfs",
            "memTotal": mem_total(),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "overlaySupported": overlay_supported(),
            "security": {"rootless": crate::config::storage::is_rootless()},
            "ociRuntime": {"name": "selkie", "path": std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(), "version": VERSION},
        },
        "store": {
            "configFile": engine.paths.config_file.display().to_string(),
            "graphDriverName": engine.paths.driver,
            "graphRoot": engine.paths.graph_root.display().to_string(),
            "runRoot": engine.paths.run_root.display().to_string(),
            "imageStore": {"number": images},
            "layerCount": engine.store.layer_count(),
            "containerStore": {
                "number": containers.total,
                "running": containers.running,
                "paused": containers.paused,
                "stopped": containers.stopped,
            },
        },
        "version": version()["Client"],
    })
}

/// Go templates address `info` by Go field names (`{{.Store.GraphRoot}}`), JSON by camelCase keys:
/// the same tree with every key's first letter upper-cased serves templates.
pub fn go_field_names(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = c
                        .next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default();
                    (key, go_field_names(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(go_field_names).collect()),
        other => other.clone(),
    }
}
