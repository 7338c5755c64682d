//! `mounts`: Podman's default filesystems, the engine's bind-mounted `/etc` files, the user's
//! `-v`/`--mount`/`--tmpfs` mounts and image volumes with Podman's option defaults, the `--read-only`
//! tmpfs mounts, ordered so that no mount hides a later one.

use super::etc_files::EtcFiles;
use super::user::ExecUser;
use crate::container::config::{CreateConfig, MountKind, MountSpec, NamespaceMode};
use crate::container::parse::{clean_path, PROPAGATIONS};
use crate::error::{Error, Result};
use crate::image::config::ImageConfigFile;
use nix::sys::statvfs::{statvfs, FsFlags};
use oci_spec::runtime::Mount;
use std::path::{Path, PathBuf};

/// Size of `/dev` and `/dev/shm` (containers.conf `shm_size`).
pub const SHM_SIZE: &str = "65536k";

/// One OCI mount.
pub(super) fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest));
    m.set_typ(Some(typ.to_string()));
    m.set_source(Some(PathBuf::from(source)));
    m.set_options(Some(options.iter().map(|s| s.to_string()).collect()));
    m
}

/// What the mount list depends on beyond the `CreateConfig`.
pub(super) struct MountInputs<'a> {
    pub cfg: &'a CreateConfig,
    pub image: Option<&'a ImageConfigFile>,
    pub etc: &'a EtcFiles,
    pub volume_paths: &'a [(String, PathBuf)],
    pub user: &'a ExecUser,
    pub cgroup_v2: bool,
    /// `--security-opt unmask=` values (an unmasked `/sys/fs/cgroup` is mounted read-write on cgroup v2).
    pub unmask: &'a [String],
    /// `--security-opt proc-opts=`: replaces the options of `/proc`.
    pub proc_opts: Option<&'a [String]>,
}

/// Podman's default filesystems (`/proc`, `/dev`, `/sys`, `/dev/pts`, `/dev/mqueue`, `/dev/shm`,
/// `/sys/fs/cgroup`); `/sys` and the cgroup mount are read-write with `--privileged`, `/dev/shm` is the
/// host's with `--ipc host`.
fn defaults(m: &MountInputs) -> Vec<Mount> {
    let cfg = m.cfg;
    let proc_opts: Vec<&str> = match m.proc_opts {
        Some(o) => o.iter().map(String::as_str).collect(),
        None => vec!["nosuid", "noexec", "nodev"],
    };
    let dev_size = format!("size={SHM_SIZE}");
    let cgroup_rw = cfg.privileged
        || (m.cgroup_v2
            && m.unmask
                .iter()
                .any(|u| u.eq_ignore_ascii_case("all") || clean_path(u) == "/sys/fs/cgroup"));
    let mut out = vec![
        mount("/proc", "proc", "proc", &proc_opts),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "noexec", "strictatime", "mode=755", &dev_size],
        ),
        if cfg.privileged {
            mount(
                "/sys",
                "sysfs",
                "sysfs",
                &["rprivate", "nosuid", "noexec", "nodev", "rw"],
            )
        } else {
            mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"])
        },
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                // Left out where there is no group 5 (rootless without subordinate IDs), as Podman.
                "gid=5",
            ][..if crate::rootless::maps_gid(5) { 6 } else { 5 }],
        ),
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
    ];
    out.push(if cfg.ipc == NamespaceMode::Host {
        mount(
            "/dev/shm",
            "bind",
            "/dev/shm",
            &["bind", "rprivate", "nosuid", "noexec", "nodev"],
        )
    } else {
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &dev_size],
        )
    });
    out.push(if !m.cgroup_v2 && crate::rootless::is_rootless() {
        // A user namespace cannot mount v1 hierarchies: the host's, read-only.
        mount(
            "/sys/fs/cgroup",
            "bind",
            "/sys/fs/cgroup",
            &["rbind", "rprivate", "nosuid", "noexec", "nodev", "ro"],
        )
    } else {
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &[
                "rprivate",
                "nosuid",
                "noexec",
                "nodev",
                "relatime",
                if cgroup_rw { "rw" } else { "ro" },
            ],
        )
    });
    out
}

/// The engine's own files, bind-mounted (read-only with `--read-only`, as Podman).
fn etc_binds(m: &MountInputs) -> Vec<Mount> {
    let mut opts = vec!["bind", "rprivate"];
    if m.cfg.read_only {
        opts.extend(["ro", "nosuid", "noexec", "nodev"]);
    }
    let mut out = vec![mount(
        "/run/.containerenv",
        "bind",
        &m.etc.containerenv.to_string_lossy(),
        &opts,
    )];
    out.push(mount(
        "/etc/hostname",
        "bind",
        &m.etc.hostname.to_string_lossy(),
        &opts,
    ));
    if let Some(r) = &m.etc.resolv_conf {
        out.push(mount("/etc/resolv.conf", "bind", &r.to_string_lossy(), &opts));
    }
    out.push(mount("/etc/hosts", "bind", &m.etc.hosts.to_string_lossy(), &opts));
    out
}

/// Mount flags a bind must keep because its source filesystem has them (`nosuid`, `nodev`, `noexec`
/// cannot be cleared by a bind remount).
#[derive(Clone, Copy)]
struct Inherited {
    noexec: bool,
    nosuid: bool,
    nodev: bool,
}

fn inherited(source: &Path) -> Result<Inherited> {
    let st = statvfs(source).map_err(|e| {
        Error::InvalidInput(format!(
            "statfs {}: {}",
            source.display(),
            std::io::Error::from(e)
        ))
    })?;
    let f = st.flags();
    Ok(Inherited {
        noexec: f.contains(FsFlags::ST_NOEXEC),
        nosuid: f.contains(FsFlags::ST_NOSUID),
        nodev: f.contains(FsFlags::ST_NODEV),
    })
}

/// Podman's `ProcessOptions`: the user's options (minus the engine-level `z`, `Z`, `copy`, `nocopy`,
/// `notmpcopyup`), then `rw` unless `ro`, `rprivate` unless a propagation was given, `noexec`, `nosuid`
/// and `nodev` as defaults allow, and `tmpcopyup` (tmpfs) or `rbind` (binds).
fn finish_options(
    spec: &MountSpec,
    tmpfs: bool,
    defaults: Inherited,
    user: &ExecUser,
) -> Result<Vec<String>> {
    let unsupported = |what: &str| {
        Error::InvalidInput(format!(
            "mount on {}: {what} is not supported yet",
            spec.destination
        ))
    };
    let mut out: Vec<String> = Vec::new();
    if spec.read_only {
        out.push("ro".into());
    }
    let mut copyup_given = false;
    for o in &spec.options {
        match o.as_str() {
            "z" | "Z" | "copy" | "nocopy" => {}
            "notmpcopyup" => copyup_given = true,
            "tmpcopyup" => {
                copyup_given = true;
                out.push(o.clone());
            }
            "U" if tmpfs => {
                out.push(format!("uid={}", user.uid));
                out.push(format!("gid={}", user.gid));
            }
            "U" => {
                return Err(unsupported(
                    "the U option (chown the source to the container user)",
                ))
            }
            "O" => return Err(unsupported("an overlay mount (O)")),
            o if o.starts_with("upperdir=") || o.starts_with("workdir=") => {
                return Err(unsupported("an overlay mount (upperdir, workdir)"))
            }
            _ => out.push(o.clone()),
        }
    }
    let has = |out: &[String], names: &[&str]| out.iter().any(|o| names.contains(&o.as_str()));
    if !has(&out, &["ro", "rw"]) {
        out.push("rw".into());
    }
    if !has(&out, PROPAGATIONS) {
        out.push("rprivate".into());
    }
    if defaults.noexec && !has(&out, &["exec", "noexec"]) {
        out.push("noexec".into());
    }
    if defaults.nosuid && !has(&out, &["suid", "nosuid"]) {
        out.push("nosuid".into());
    }
    if defaults.nodev && !has(&out, &["dev", "nodev"]) {
        out.push("nodev".into());
    }
    if tmpfs && !copyup_given {
        out.push("tmpcopyup".into());
    }
    if !tmpfs && !has(&out, &["bind", "rbind"]) {
        out.push("rbind".into());
    }
    Ok(out)
}

/// Defaults for tmpfs mounts and volumes (no source filesystem to inherit from).
const NOSUID_NODEV: Inherited = Inherited {
    noexec: false,
    nosuid: true,
    nodev: true,
};

fn volume_path<'p>(paths: &'p [(String, PathBuf)], dest: &str) -> Option<&'p PathBuf> {
    paths.iter().find(|(d, _)| clean_path(d) == dest).map(|(_, p)| p)
}

/// One user mount as an OCI mount.
fn user_mount(spec: &MountSpec, m: &MountInputs) -> Result<Mount> {
    let dest = spec.destination.as_str();
    let strs = |v: &[String]| v.to_vec();
    Ok(match spec.kind {
        MountKind::Bind => {
            let opts = finish_options(spec, false, inherited(Path::new(&spec.source))?, m.user)?;
            let mut mnt = mount(dest, "bind", &spec.source, &[]);
            mnt.set_options(Some(strs(&opts)));
            mnt
        }
        MountKind::Tmpfs => {
            let opts = finish_options(spec, true, NOSUID_NODEV, m.user)?;
            let mut mnt = mount(dest, "tmpfs", "tmpfs", &[]);
            mnt.set_options(Some(opts));
            mnt
        }
        MountKind::Volume => {
            let path = volume_path(m.volume_paths, dest).ok_or_else(|| {
                let which = if spec.source.is_empty() {
                    "anonymous volume".to_string()
                } else {
                    format!("volume {}", spec.source)
                };
                Error::InvalidInput(format!(
                    "no host directory was resolved for the {which} on {dest}"
                ))
            })?;
            let opts = finish_options(spec, false, NOSUID_NODEV, m.user)?;
            let mut mnt = mount(dest, "bind", &path.to_string_lossy(), &[]);
            mnt.set_options(Some(opts));
            mnt
        }
    })
}

/// The image's `VOLUME`s that no user mount covers: Podman mounts an anonymous volume on each
/// (`rprivate,rw,nodev,exec`). The caller creates them and passes their host directories in
/// `volume_paths`; those it did not pass are left to the image's own directory.
pub fn image_volume_destinations(cfg: &CreateConfig, image: Option<&ImageConfigFile>) -> Vec<String> {
    let mut out: Vec<String> = image
        .and_then(|i| i.config.volumes.as_ref())
        .map(|v| v.keys().map(|k| clean_path(k)).collect())
        .unwrap_or_default();
    out.retain(|d| !cfg.mounts.iter().any(|m| &m.destination == d));
    out.dedup();
    out
}

fn destination(m: &Mount) -> String {
    m.destination().to_string_lossy().into_owned()
}

fn depth(m: &Mount) -> usize {
    m.destination().components().count()
}

/// Every mount of the container, in the order the runtime must make them.
pub(super) fn mounts(m: &MountInputs) -> Result<Vec<Mount>> {
    let cfg = m.cfg;
    let mut user: Vec<Mount> = Vec::new();
    for spec in &cfg.mounts {
        if user.iter().any(|u| destination(u) == spec.destination) {
            return Err(Error::InvalidInput(format!(
                "{}: duplicate mount destination",
                spec.destination
            )));
        }
        user.push(user_mount(spec, m)?);
    }
    for dest in image_volume_destinations(cfg, m.image) {
        if let Some(path) = volume_path(m.volume_paths, &dest) {
            let spec = MountSpec {
                kind: MountKind::Volume,
                source: String::new(),
                destination: dest.clone(),
                read_only: false,
                options: vec!["rprivate".into(), "nodev".into(), "exec".into()],
            };
            let opts = finish_options(&spec, false, NOSUID_NODEV, m.user)?;
            let mut mnt = mount(&dest, "bind", &path.to_string_lossy(), &[]);
            mnt.set_options(Some(opts));
            user.push(mnt);
        }
    }
    if cfg.read_only {
        for dest in ["/tmp", "/var/tmp", "/run"] {
            if !user.iter().any(|u| destination(u) == dest) {
                user.push(mount(
                    dest,
                    "tmpfs",
                    "tmpfs",
                    &["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"],
                ));
            }
        }
    }

    // User mounts supersede the engine's at the same destination; a user /dev replaces all of /dev/*.
    let taken = |dest: &str| user.iter().any(|u| destination(u) == dest);
    let user_dev = taken("/dev");
    let run_mounted = taken("/run");
    let mut out: Vec<Mount> = defaults(m)
        .into_iter()
        .chain(etc_binds(m))
        .filter(|d| {
            let dest = destination(d);
            let superseded = taken(&dest)
                || (user_dev && dest.starts_with("/dev/"))
                || (run_mounted && dest == "/run/.containerenv");
            !superseded
        })
        .collect();
    out.extend(user);
    // Parents before children; otherwise the order above is kept.
    out.sort_by_key(depth);
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::container::parse::{parse_mount, parse_tmpfs, parse_volume};

    /// The default mounts, parents first, as Podman 4.3.1 orders them (within one depth its order varies).
    pub(in crate::container::spec) const DEFAULT_ORDER: [&str; 11] = [
        "/proc",
        "/dev",
        "/sys",
        "/dev/pts",
        "/dev/mqueue",
        "/dev/shm",
        "/run/.containerenv",
        "/etc/hostname",
        "/etc/resolv.conf",
        "/etc/hosts",
        "/sys/fs/cgroup",
    ];

    fn etc() -> EtcFiles {
        EtcFiles {
            hosts: "/ud/hosts".into(),
            hostname: "/ud/hostname".into(),
            resolv_conf: Some("/ud/resolv.conf".into()),
            containerenv: "/ud/.containerenv".into(),
        }
    }

    fn root() -> ExecUser {
        ExecUser {
            uid: 0,
            gid: 0,
            additional_gids: vec![],
            home: "/root".into(),
        }
    }

    fn run(
        cfg: &CreateConfig,
        volumes: &[(String, PathBuf)],
        image: Option<&ImageConfigFile>,
    ) -> Result<Vec<Mount>> {
        let (etc, user) = (etc(), root());
        mounts(&MountInputs {
            cfg,
            image,
            etc: &etc,
            volume_paths: volumes,
            user: &user,
            cgroup_v2: false,
            unmask: &[],
            proc_opts: None,
        })
    }

    fn find<'a>(v: &'a [Mount], dest: &str) -> Option<&'a Mount> {
        v.iter().find(|m| destination(m) == dest)
    }

    fn opts(v: &[Mount], dest: &str) -> Vec<String> {
        find(v, dest)
            .unwrap_or_else(|| panic!("no mount on {dest}"))
            .options()
            .clone()
            .unwrap()
    }

    #[test]
    fn default_mounts_in_podman_order() {
        let v = run(&CreateConfig::default(), &[], None).unwrap();
        let dests: Vec<String> = v.iter().map(destination).collect();
        assert_eq!(dests, DEFAULT_ORDER);
        assert_eq!(opts(&v, "/proc"), vec!["nosuid", "noexec", "nodev"]);
        assert_eq!(
            opts(&v, "/dev"),
            vec!["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"]
        );
        assert_eq!(opts(&v, "/sys"), vec!["nosuid", "noexec", "nodev", "ro"]);
        assert_eq!(
            opts(&v, "/dev/shm"),
            vec!["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
        );
        assert_eq!(opts(&v, "/sys/fs/cgroup").last().unwrap(), "ro");
        assert_eq!(opts(&v, "/etc/hosts"), vec!["bind", "rprivate"]);
        assert_eq!(
            find(&v, "/etc/hosts").unwrap().source().as_deref(),
            Some(Path::new("/ud/hosts"))
        );
    }

    #[test]
    fn user_mounts_get_podman_options() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().to_string_lossy().into_owned();
        let cfg = CreateConfig {
            mounts: vec![
                parse_volume(&format!("{src}:/data:ro,z")).unwrap(),
                parse_volume("named:/vol").unwrap(),
                parse_tmpfs("/t2:size=1m,mode=700").unwrap(),
                parse_mount("type=tmpfs,dst=/mt,notmpcopyup,U").unwrap(),
                parse_mount(&format!(
                    "type=bind,src={src},dst=/m,bind-propagation=rshared,noexec"
                ))
                .unwrap(),
            ],
            ..Default::default()
        };
        let vols = vec![("/vol".to_string(), PathBuf::from("/store/volumes/named/_data"))];
        let v = run(&cfg, &vols, None).unwrap();
        let inherited = inherited(t.path()).unwrap();
        let mut data = vec!["ro", "rprivate"];
        data.extend(inherited.nosuid.then_some("nosuid"));
        data.extend(inherited.nodev.then_some("nodev"));
        data.push("rbind");
        assert_eq!(opts(&v, "/data"), data);
        assert_eq!(find(&v, "/data").unwrap().typ().as_deref(), Some("bind"));
        assert_eq!(
            opts(&v, "/vol"),
            vec!["rw", "rprivate", "nosuid", "nodev", "rbind"]
        );
        assert_eq!(
            find(&v, "/vol").unwrap().source().as_deref(),
            Some(Path::new("/store/volumes/named/_data"))
        );
        assert_eq!(
            opts(&v, "/t2"),
            vec![
                "size=1m",
                "mode=700",
                "rw",
                "rprivate",
                "nosuid",
                "nodev",
                "tmpcopyup"
            ]
        );
        assert_eq!(
            opts(&v, "/mt"),
            vec!["uid=0", "gid=0", "rw", "rprivate", "nosuid", "nodev"]
        );
        assert_eq!(opts(&v, "/m")[..3], ["rshared", "noexec", "rw"]);
    }

    #[test]
    fn read_only_adds_tmpfs_and_protects_etc_files() {
        let cfg = CreateConfig {
            read_only: true,
            ..Default::default()
        };
        let v = run(&cfg, &[], None).unwrap();
        for d in ["/tmp", "/var/tmp", "/run"] {
            assert_eq!(
                opts(&v, d),
                vec!["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]
            );
        }
        assert_eq!(
            opts(&v, "/etc/hosts"),
            vec!["bind", "rprivate", "ro", "nosuid", "noexec", "nodev"]
        );
        // A /run mount hides /run/.containerenv, so it is not mounted (Podman does the same).
        assert!(find(&v, "/run/.containerenv").is_none());
        let pos = |d: &str| v.iter().position(|m| destination(m) == d).unwrap();
        assert!(pos("/var/tmp") > pos("/tmp") && pos("/etc/hosts") > pos("/run"));
    }

    #[test]
    fn user_mounts_supersede_defaults() {
        let cfg = CreateConfig {
            mounts: vec![
                parse_tmpfs("/dev").unwrap(),
                parse_volume("/etc:/etc/hosts:ro").unwrap(),
            ],
            ..Default::default()
        };
        let v = run(&cfg, &[], None).unwrap();
        assert!(!v.iter().any(|m| destination(m).starts_with("/dev/")));
        assert_eq!(
            find(&v, "/etc/hosts").unwrap().source().as_deref(),
            Some(Path::new("/etc"))
        );
        assert_eq!(v.iter().filter(|m| destination(m) == "/dev").count(), 1);
    }

    #[test]
    fn privileged_and_ipc_host() {
        let cfg = CreateConfig {
            privileged: true,
            ipc: NamespaceMode::Host,
            ..Default::default()
        };
        let v = run(&cfg, &[], None).unwrap();
        assert_eq!(
            opts(&v, "/sys"),
            vec!["rprivate", "nosuid", "noexec", "nodev", "rw"]
        );
        assert_eq!(opts(&v, "/sys/fs/cgroup").last().unwrap(), "rw");
        assert_eq!(
            find(&v, "/dev/shm").unwrap().source().as_deref(),
            Some(Path::new("/dev/shm"))
        );
    }

    #[test]
    fn image_volumes_and_errors() {
        let mut img = ImageConfigFile::default();
        img.config.volumes = Some(
            [
                ("/var/lib/db/".to_string(), serde_json::json!({})),
                ("/skip".into(), serde_json::json!({})),
            ]
            .into(),
        );
        let cfg = CreateConfig::default();
        assert_eq!(
            image_volume_destinations(&cfg, Some(&img)),
            vec!["/skip", "/var/lib/db"]
        );
        let vols = vec![("/var/lib/db".to_string(), PathBuf::from("/vols/anon1"))];
        let v = run(&cfg, &vols, Some(&img)).unwrap();
        assert_eq!(
            opts(&v, "/var/lib/db"),
            vec!["rprivate", "nodev", "exec", "rw", "nosuid", "rbind"]
        );
        assert!(find(&v, "/skip").is_none());

        let anon = CreateConfig {
            mounts: vec![parse_volume("/anon").unwrap()],
            ..Default::default()
        };
        assert!(run(&anon, &[], None)
            .unwrap_err()
            .to_string()
            .contains("anonymous volume on /anon"));
        let missing = CreateConfig {
            mounts: vec![parse_volume("/nonexistent/src:/x").unwrap()],
            ..Default::default()
        };
        assert!(run(&missing, &[], None)
            .unwrap_err()
            .to_string()
            .contains("statfs /nonexistent/src"));
        let dup = CreateConfig {
            mounts: vec![parse_tmpfs("/x").unwrap(), parse_tmpfs("/x").unwrap()],
            ..Default::default()
        };
        assert!(run(&dup, &[], None)
            .unwrap_err()
            .to_string()
            .contains("duplicate mount destination"));
        let overlay = CreateConfig {
            mounts: vec![parse_volume("/tmp:/x:O").unwrap()],
            ..Default::default()
        };
        assert!(run(&overlay, &[], None)
            .unwrap_err()
            .to_string()
            .contains("not supported yet"));
    }
}
