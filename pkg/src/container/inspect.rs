//! `inspect` for containers: Podman's InspectContainerData JSON, from the record, the creation settings,
//! the run state and the generated spec.

use super::config::{MountKind, NamespaceMode, NetworkMode};
use super::lifecycle;
use super::paths::ContainerPaths;
use super::state::Status;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::Result;
use serde_json::{json, Value};

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

fn ns_mode(m: &NamespaceMode) -> String {
    match m {
        NamespaceMode::Private => "private".into(),
        NamespaceMode::Host => "host".into(),
        NamespaceMode::Path(p) => format!("ns:{}", p.display()),
        NamespaceMode::Container(c) => format!("container:{c}"),
    }
}

pub fn inspect(engine: &Engine, rec: &ContainerRecord) -> Result<Value> {
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    let st = lifecycle::state_of(engine, &rec.id);
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    let spec: Option<oci_spec::runtime::Spec> = std::fs::read(paths.config_json())
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok());
    let process = spec.as_ref().and_then(|s| s.process().clone());
    let caps = |pick: fn(
        &oci_spec::runtime::LinuxCapabilities,
    ) -> Option<&oci_spec::runtime::Capabilities>|
     -> Vec<String> {
        let mut v: Vec<String> = process
            .as_ref()
            .and_then(|p| p.capabilities().as_ref())
            .and_then(|c| pick(c))
            .map(|set| set.iter().map(|c| format!("CAP_{c}")).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let env: Vec<String> = process.as_ref().and_then(|p| p.env().clone()).unwrap_or_default();
    let args = rec.command.clone();
    let running = st.is_running();
    let mounts: Vec<Value> = cfg
        .mounts
        .iter()
        .map(|m| {
            let (kind, name, source) = match m.kind {
                MountKind::Bind => ("bind", String::new(), m.source.clone()),
                MountKind::Tmpfs => ("tmpfs", String::new(), "tmpfs".into()),
                MountKind::Volume => (
                    "volume",
                    m.source.clone(),
                    engine
                        .store
                        .root()
                        .join("volumes")
                        .join(&m.source)
                        .join("_data")
                        .display()
                        .to_string(),
                ),
            };
            json!({
                "Type": kind, "Name": name, "Source": source, "Destination": m.destination,
                "Driver": if kind == "volume" { "local" } else { "" }, "Mode": "", "Options": m.options,
                "RW": !m.read_only, "Propagation": if kind == "bind" { "rprivate" } else { "" },
            })
        })
        .collect();
    let network_mode = match &cfg.network {
        NetworkMode::Private => crate::network::private_mode_name(&cfg).to_string(),
        NetworkMode::None => "none".into(),
        NetworkMode::Host => "host".into(),
        NetworkMode::Path(p) => format!("ns:{}", p.display()),
        NetworkMode::Container(c) => format!("container:{c}"),
    };
    Ok(json!({
        "Id": rec.id,
        "Created": time(Some(rec.created)),
        "Path": args.first().cloned().unwrap_or_default(),
        "Args": args.iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "OciVersion": "1.0.2",
            "Status": st.status.as_str(),
            "Running": running && st.status != Status::Paused,
            "Paused": st.status == Status::Paused,
            "Restarting": false,
            "OOMKilled": st.oom_killed,
            "Dead": false,
            "Pid": if running { st.pid } else { 0 },
            "ConmonPid": if running { st.monitor_pid } else { 0 },
            "ExitCode": st.exit_code.unwrap_or(0),
            "Error": st.error.clone().unwrap_or_default(),
            "StartedAt": time(st.started_at),
            "FinishedAt": time(st.finished_at),
        },
        "Image": cfg.image_id,
        "ImageName": rec.image_name,
        "Rootfs": cfg.rootfs.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "Pod": "",
        "ResolvConfPath": paths.userdata().join("resolv.conf").display().to_string(),
        "HostnamePath": paths.userdata().join("hostname").display().to_string(),
        "HostsPath": paths.userdata().join("hosts").display().to_string(),
        "StaticDir": paths.dir.display().to_string(),
        "OCIConfigPath": paths.config_json().display().to_string(),
        "OCIRuntime": cfg.runtime.clone().unwrap_or_else(|| "selkie".into()),
        "ConmonPidFile": "",
        "PidFile": "",
        "Name": rec.name,
        "RestartCount": st.restart_count,
        "Driver": "overlay",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "EffectiveCaps": caps(|c| c.effective().as_ref()),
        "BoundingCaps": caps(|c| c.bounding().as_ref()),
        "ExecIDs": [],
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "UpperDir": paths.upper().display().to_string(),
                "WorkDir": paths.work().display().to_string(),
                "MergedDir": paths.merged().display().to_string(),
            },
        },
        "Mounts": mounts,
        "Dependencies": [],
        "NetworkSettings": crate::network::inspect_settings(engine, &rec.id),
        "Namespace": "",
        "IsInfra": false,
        "Config": {
            "Hostname": spec.as_ref().and_then(|s| s.hostname().clone()).unwrap_or_default(),
            "Domainname": "",
            "User": cfg.user.clone().unwrap_or_default(),
            "AttachStdin": cfg.interactive && !cfg.detach,
            "AttachStdout": !cfg.detach,
            "AttachStderr": !cfg.detach,
            "Tty": cfg.tty,
            "OpenStdin": cfg.interactive,
            "StdinOnce": false,
            "Env": env,
            "Cmd": if cfg.command.is_empty() { Value::Null } else { json!(cfg.command) },
            "Image": rec.image_name,
            "Volumes": null,
            "WorkingDir": process.as_ref().map(|p| p.cwd().display().to_string()).unwrap_or_default(),
            "Entrypoint": cfg.entrypoint.clone().map(|e| json!(e.join(" "))).unwrap_or(json!("")),
            "OnBuild": null,
            "Labels": if rec.labels.is_empty() { Value::Null } else { json!(rec.labels) },
            "Annotations": cfg.annotations,
            // The signal `stop` sends, as a number as Podman prints it.
            "StopSignal": lifecycle::stop_signal(engine, &cfg).unwrap_or(libc::SIGTERM),
            "StopTimeout": cfg.stop_timeout,
            "CreateCommand": null,
            "Umask": "0022",
            "Timeout": 0,
            "Passwd": true,
            "sdNotifyMode": cfg.sdnotify.clone().unwrap_or_else(|| "container".into()),
        },
        "HostConfig": {
            "Binds": cfg.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs).map(|m| {
                let mut s = format!("{}:{}", m.source, m.destination);
                if m.read_only { s.push_str(":ro") }
                s
            }).collect::<Vec<_>>(),
            "CgroupManager": "cgroupfs",
            "CgroupMode": "private",
            "ContainerIDFile": "",
            "LogConfig": {"Type": "k8s-file", "Config": null, "Path": super::logfile::log_path(engine.store.root(), &rec.id).display().to_string()},
            "NetworkMode": network_mode,
            "PortBindings": {},
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
            "AutoRemove": cfg.auto_remove,
            "CapAdd": cfg.cap_add,
            "CapDrop": cfg.cap_drop,
            "GroupAdd": cfg.group_add,
            "IpcMode": ns_mode(&cfg.ipc),
            "PidMode": ns_mode(&cfg.pid),
            "UTSMode": ns_mode(&cfg.uts),
            "Privileged": cfg.privileged,
            "ReadonlyRootfs": cfg.read_only,
            "SecurityOpt": cfg.security_opt,
            "Tmpfs": cfg.mounts.iter().filter(|m| m.kind == MountKind::Tmpfs).map(|m| (m.destination.clone(), m.options.join(","))).collect::<std::collections::BTreeMap<_, _>>(),
            "Runtime": "oci",
            "Devices": cfg.devices,
            "Ulimits": cfg.ulimits.iter().map(|u| json!({"Name": format!("RLIMIT_{}", u.name.to_uppercase()), "Soft": u.soft, "Hard": u.hard})).collect::<Vec<_>>(),
            "Init": cfg.init,
        },
    }))
}
