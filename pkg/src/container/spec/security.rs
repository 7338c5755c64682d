//! Capabilities, `noNewPrivileges` and the masked and read-only kernel paths, as Podman 4 sets them.

use crate::container::config::CreateConfig;
use crate::error::{Error, Result};
use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities, LinuxCapabilitiesBuilder};

/// containers.conf's `default_capabilities` as Podman ships it (and containers/common's built-in list
/// since 0.57).
pub const DEFAULT_CAPABILITIES: [Capability; 11] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::NetBindService,
    Capability::Setfcap,
    Capability::Setgid,
    Capability::Setpcap,
    Capability::Setuid,
    Capability::SysChroot,
];

/// Podman 4.3.1's masked paths (`BlockAccessToKernelFilesystems`), plus `/sys/devices/virtual/powercap`
/// (the RAPL energy counters, CVE-2020-8694), which Podman masks since 4.4 and Docker since 20.10.
pub const DEFAULT_MASKED_PATHS: [&str; 12] = [
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
    "/sys/devices/virtual/powercap",
];

pub const DEFAULT_READONLY_PATHS: [&str; 6] = [
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// A `--cap-add`/`--cap-drop` name (`net_admin`, `CAP_NET_ADMIN`); `None` for `ALL`.
pub fn parse_capability(name: &str) -> Result<Option<Capability>> {
    let upper = name.to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(None);
    }
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    bare.parse::<Capability>()
        .map(Some)
        .map_err(|_| Error::InvalidInput(format!("unknown capability {:?}", format!("CAP_{bare}"))))
}

/// Names to capabilities, with whether `ALL` was among them.
fn parse_list(names: &[String]) -> Result<(bool, Vec<Capability>)> {
    let mut all = false;
    let mut caps = Vec::new();
    for n in names {
        match parse_capability(n)? {
            None => all = true,
            Some(c) if !caps.contains(&c) => caps.push(c),
            Some(_) => {}
        }
    }
    Ok((all, caps))
}

/// Podman's `MergeCapabilities`: `base` plus `adds` minus `drops`; `ALL` in adds means the caller's
/// whole bounding set, `ALL` in drops leaves only the adds; one capability both added and dropped is
/// an error.
fn merge(
    base: &[Capability],
    adds: &[String],
    drops: &[String],
    bounding: &[Capability],
) -> Result<Vec<Capability>> {
    let (add_all, adds) = parse_list(adds)?;
    let (drop_all, drops) = parse_list(drops)?;
    if drop_all {
        if add_all {
            return Err(Error::InvalidInput(
                "adding all capabilities and dropping all is not allowed".into(),
            ));
        }
        return Ok(adds);
    }
    if let Some(c) = adds.iter().find(|c| drops.contains(c)) {
        return Err(Error::InvalidInput(format!(
            "capability CAP_{c} cannot be both added and dropped"
        )));
    }
    let base: &[Capability] = if add_all { bounding } else { base };
    let mut out: Vec<Capability> = base.iter().filter(|c| !drops.contains(c)).copied().collect();
    for c in adds {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

fn set(caps: &[Capability]) -> Capabilities {
    caps.iter().copied().collect()
}

/// The five capability sets. `bounding` is the caller's own bounding set (what `--privileged` gets
/// and what everything else is limited to). For root the effective, permitted and bounding sets are the
/// merged list and inheritable/ambient are empty; for any other user (`-u`, or the image's `User`, other
/// than `root`/`0`) only `--cap-add` capabilities are effective, permitted, inheritable and ambient, as
/// Podman does.
pub(super) fn capabilities(
    cfg: &CreateConfig,
    user: &str,
    bounding: &[Capability],
) -> Result<LinuxCapabilities> {
    let in_bounding = |caps: Vec<Capability>| -> Vec<Capability> {
        caps.into_iter().filter(|c| bounding.contains(c)).collect()
    };
    let list = if cfg.privileged {
        // Still validate the names given.
        parse_list(&cfg.cap_add)?;
        parse_list(&cfg.cap_drop)?;
        bounding.to_vec()
    } else {
        let defaults = match &cfg.default_capabilities {
            Some(names) => parse_list(names)?.1,
            None => DEFAULT_CAPABILITIES.to_vec(),
        };
        in_bounding(merge(&defaults, &cfg.cap_add, &cfg.cap_drop, bounding)?)
    };
    let name = user.split(':').next().unwrap_or("");
    let builder = LinuxCapabilitiesBuilder::default().bounding(set(&list));
    let caps = if matches!(name, "" | "root" | "0") {
        builder
            .effective(set(&list))
            .permitted(set(&list))
            .inheritable(set(&[]))
            .ambient(set(&[]))
    } else {
        let user_caps = set(&in_bounding(merge(&[], &cfg.cap_add, &[], bounding)?));
        builder
            .effective(user_caps.clone())
            .permitted(user_caps.clone())
            .inheritable(user_caps.clone())
            .ambient(user_caps)
    };
    Ok(caps.build().expect("all capability sets given"))
}

/// Go's `filepath.Match` for paths: `*` and `?` do not cross `/`; `[...]` classes with ranges and `^`.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len())
            .take_while(|i| *i == 0 || name[i - 1] != b'/')
            .any(|i| glob_match(rest, &name[i..])),
        Some((b'?', rest)) => matches!(name.split_first(), Some((c, n)) if *c != b'/' && glob_match(rest, n)),
        Some((b'[', rest)) => {
            let Some((&c, n)) = name.split_first() else {
                return false;
            };
            let Some(end) = rest.iter().skip(1).position(|b| *b == b']').map(|p| p + 1) else {
                return false;
            };
            let (class, after) = (&rest[..end], &rest[end + 1..]);
            let (negate, class) = match class.split_first() {
                Some((b'^' | b'!', cl)) => (true, cl),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && c != b'/' && glob_match(after, n)
        }
        Some((b'\\', rest)) if !rest.is_empty() => {
            matches!(name.split_first(), Some((c, n)) if *c == rest[0] && glob_match(&rest[1..], n))
        }
        Some((p, rest)) => matches!(name.split_first(), Some((c, n)) if c == p && glob_match(rest, n)),
    }
}

/// Whether a default path stays masked (or read-only) given the `unmask=` values.
fn keep(path: &str, unmask: &[String]) -> bool {
    !unmask
        .iter()
        .any(|u| u.eq_ignore_ascii_case("all") || glob_match(u.as_bytes(), path.as_bytes()))
}

/// `linux.maskedPaths` and `linux.readonlyPaths`: Podman's defaults minus `unmask=`, none with
/// `--privileged`; `mask=` paths are added in every case.
pub(super) fn kernel_paths(
    privileged: bool,
    mask: &[String],
    unmask: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut masked = Vec::new();
    let mut readonly = Vec::new();
    if !privileged {
        masked.extend(
            DEFAULT_MASKED_PATHS
                .iter()
                .filter(|p| keep(p, unmask))
                .map(|p| p.to_string()),
        );
        readonly.extend(
            DEFAULT_READONLY_PATHS
                .iter()
                .filter(|p| keep(p, unmask))
                .map(|p| p.to_string()),
        );
    }
    for m in mask {
        if !masked.contains(m) {
            masked.push(m.clone());
        }
    }
    (masked, readonly)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_caps() -> Vec<Capability> {
        caps::all()
            .iter()
            .filter_map(|c| c.to_string().trim_start_matches("CAP_").parse().ok())
            .collect()
    }

    fn sorted(set: &Option<Capabilities>) -> Vec<String> {
        let mut v: Vec<String> = set.iter().flatten().map(|c| c.to_string()).collect();
        v.sort();
        v
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const DEFAULT_NAMES: [&str; 11] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];

    #[test]
    fn root_gets_the_default_set() {
        let c = capabilities(&CreateConfig::default(), "", &all_caps()).unwrap();
        for set in [c.bounding(), c.effective(), c.permitted()] {
            assert_eq!(sorted(set), strings(&DEFAULT_NAMES));
        }
        assert_eq!(sorted(c.inheritable()), Vec::<String>::new());
        assert_eq!(sorted(c.ambient()), Vec::<String>::new());
    }

    #[test]
    fn add_drop_and_all() {
        let cfg = CreateConfig {
            cap_add: strings(&["net_admin", "CAP_SYS_TIME"]),
            cap_drop: strings(&["chown", "CAP_KILL"]),
            ..Default::default()
        };
        let c = capabilities(&cfg, "root", &all_caps()).unwrap();
        let got = sorted(c.effective());
        assert!(got.contains(&"NET_ADMIN".to_string()) && got.contains(&"SYS_TIME".to_string()));
        assert!(!got.contains(&"CHOWN".to_string()) && !got.contains(&"KILL".to_string()));
        assert_eq!(got.len(), 11);

        let cfg = CreateConfig {
            cap_drop: strings(&["all"]),
            cap_add: strings(&["chown"]),
            ..Default::default()
        };
        assert_eq!(
            sorted(capabilities(&cfg, "", &all_caps()).unwrap().bounding()),
            strings(&["CHOWN"])
        );
        let cfg = CreateConfig {
            cap_add: strings(&["ALL"]),
            ..Default::default()
        };
        assert_eq!(
            capabilities(&cfg, "", &all_caps())
                .unwrap()
                .bounding()
                .as_ref()
                .unwrap()
                .len(),
            all_caps().len()
        );

        // Limited to the caller's bounding set.
        let bounding = vec![Capability::Chown, Capability::Kill];
        assert_eq!(
            sorted(
                capabilities(&CreateConfig::default(), "", &bounding)
                    .unwrap()
                    .bounding()
            ),
            strings(&["CHOWN", "KILL"])
        );

        let bad = |add: &[&str], drop: &[&str]| {
            let cfg = CreateConfig {
                cap_add: strings(add),
                cap_drop: strings(drop),
                ..Default::default()
            };
            capabilities(&cfg, "", &all_caps()).unwrap_err().to_string()
        };
        assert!(bad(&["bogus"], &[]).contains("unknown capability \"CAP_BOGUS\""));
        assert!(bad(&["chown"], &["CAP_CHOWN"]).contains("both added and dropped"));
        assert!(bad(&["all"], &["all"]).contains("not allowed"));
    }

    #[test]
    fn non_root_users_keep_only_added_capabilities() {
        let c = capabilities(&CreateConfig::default(), "tester", &all_caps()).unwrap();
        assert_eq!(sorted(c.bounding()), strings(&DEFAULT_NAMES));
        assert!(
            sorted(c.effective()).is_empty()
                && sorted(c.permitted()).is_empty()
                && sorted(c.ambient()).is_empty()
        );
        let cfg = CreateConfig {
            cap_add: strings(&["net_raw"]),
            ..Default::default()
        };
        let c = capabilities(&cfg, "1000:1000", &all_caps()).unwrap();
        for set in [c.effective(), c.permitted(), c.inheritable(), c.ambient()] {
            assert_eq!(sorted(set), strings(&["NET_RAW"]));
        }
        // "0:0" and "root:wheel" are root.
        assert_eq!(
            sorted(
                capabilities(&CreateConfig::default(), "0:0", &all_caps())
                    .unwrap()
                    .effective()
            )
            .len(),
            11
        );
    }

    #[test]
    fn privileged_gets_the_whole_bounding_set() {
        let cfg = CreateConfig {
            privileged: true,
            cap_drop: strings(&["chown"]),
            ..Default::default()
        };
        let c = capabilities(&cfg, "", &all_caps()).unwrap();
        assert_eq!(c.effective().as_ref().unwrap().len(), all_caps().len());
    }

    #[test]
    fn masked_paths() {
        let (m, r) = kernel_paths(false, &[], &[]);
        assert_eq!(m, DEFAULT_MASKED_PATHS.map(String::from));
        assert_eq!(r, DEFAULT_READONLY_PATHS.map(String::from));
        let (m, r) = kernel_paths(
            false,
            &strings(&["/a", "/b"]),
            &strings(&["/proc/kcore", "/proc/s*"]),
        );
        assert!(!m.contains(&"/proc/kcore".to_string()) && !m.contains(&"/proc/scsi".to_string()));
        assert!(!m.contains(&"/proc/sched_debug".to_string()) && m.ends_with(&strings(&["/a", "/b"])));
        assert!(!r.contains(&"/proc/sys".to_string()) && !r.contains(&"/proc/sysrq-trigger".to_string()));
        let (m, r) = kernel_paths(false, &[], &strings(&["ALL"]));
        assert!(m.is_empty() && r.is_empty());
        let (m, r) = kernel_paths(true, &strings(&["/x"]), &[]);
        assert_eq!((m, r), (strings(&["/x"]), vec![]));
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"/proc/*", b"/proc/kcore"));
        assert!(!glob_match(b"/proc/*", b"/proc/a/b"));
        assert!(glob_match(b"/sys/fs/?elinux", b"/sys/fs/selinux"));
        assert!(glob_match(b"/proc/[kl]*", b"/proc/latency_stats"));
        assert!(!glob_match(b"/proc/[^kl]*", b"/proc/kcore"));
        assert!(glob_match(b"/a\\*", b"/a*"));
    }
}
