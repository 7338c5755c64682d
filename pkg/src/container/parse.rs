//! The grammar of `run`/`create` flag values, as Podman 4 reads them: `-v`, `--mount`, `--tmpfs`,
//! `--ulimit`, `--env-file`, `-e`, `--label`, `--pid`/`--ipc`/`--uts`, `--network`, `--stop-signal`,
//! `--device`, `--security-opt` and `--entrypoint`.
//!
//! Every function here is pure (apart from [`parse_env_file`] reading its file and [`parse_volume`] /
//! [`parse_mount`] reading the current directory to absolutise a relative host path): it turns one
//! flag value into the typed value kept in [`CreateConfig`](super::config::CreateConfig), or an
//! [`Error::InvalidInput`] that names the bad value. Nothing here looks at images, the store or the
//! host's devices; the spec generator (`super::spec`) does that at start.

use super::config::{MountKind, MountSpec, NamespaceMode, NetworkMode, Ulimit};
use super::names::valid_name;
use crate::error::{Error, IoContext, Result};
use std::path::{Component, Path, PathBuf};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

/// Lexically cleans an absolute container path (`/a//b/./c/../d/` -> `/a/b/d`), as Go's `path.Clean`.
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A destination inside the container: absolute, then cleaned.
fn container_path(what: &str, spec: &str, dest: &str) -> Result<String> {
    if dest.is_empty() {
        return Err(invalid(format!(
            "invalid {what} {spec:?}: the container path cannot be empty"
        )));
    }
    if !dest.starts_with('/') {
        return Err(invalid(format!(
            "invalid {what} {spec:?}: container path {dest:?} must be absolute"
        )));
    }
    Ok(clean_path(dest))
}

/// A host path: relative ones are taken against the current directory, then cleaned lexically.
fn host_path(path: &str) -> Result<String> {
    let p = Path::new(path);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .ctx(|| "reading the current directory".to_string())?
            .join(p)
    };
    let mut out = PathBuf::from("/");
    for c in abs.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    Ok(out.to_string_lossy().into_owned())
}

/// The mount propagation keywords.
pub const PROPAGATIONS: &[&str] = &[
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

/// Options that may appear once each, by group (`ro`/`rw` are one group).
fn option_group(opt: &str) -> Option<&'static str> {
    Some(match opt {
        "ro" | "rw" => "'ro' or 'rw'",
        "exec" | "noexec" => "'exec' or 'noexec'",
        "dev" | "nodev" => "'dev' or 'nodev'",
        "suid" | "nosuid" => "'suid' or 'nosuid'",
        "z" | "Z" | "O" => "'z', 'Z' or 'O'",
        "U" => "'U'",
        "bind" | "rbind" => "'bind' or 'rbind'",
        "copy" | "nocopy" => "'copy' or 'nocopy'",
        "tmpcopyup" | "notmpcopyup" => "'tmpcopyup' or 'notmpcopyup'",
        p if PROPAGATIONS.contains(&p) => "propagation",
        o if o.starts_with("idmap") => "'idmap'",
        o if o.starts_with("size=") => "'size'",
        o if o.starts_with("mode=") => "'mode'",
        _ => return None,
    })
}

/// Splits `ro`/`rw` off into `read_only` and refuses repeated option groups.
fn finish_options(what: &str, spec: &str, opts: Vec<String>) -> Result<(bool, Vec<String>)> {
    let mut seen: Vec<&'static str> = Vec::new();
    let mut read_only = false;
    let mut rest = Vec::new();
    for o in opts {
        if let Some(group) = option_group(&o) {
            if seen.contains(&group) {
                return Err(invalid(format!(
                    "invalid {what} {spec:?}: only one {group} option can be given"
                )));
            }
            seen.push(group);
        }
        match o.as_str() {
            "ro" => read_only = true,
            "rw" => read_only = false,
            _ => rest.push(o),
        }
    }
    Ok((read_only, rest))
}

/// Options accepted after `-v SRC:DST:` (Podman's `ValidateVolumeOpts`).
fn volume_option(opt: &str) -> bool {
    matches!(
        opt,
        "ro" | "rw"
            | "z"
            | "Z"
            | "U"
            | "O"
            | "nosuid"
            | "suid"
            | "noexec"
            | "exec"
            | "nodev"
            | "dev"
            | "rbind"
            | "bind"
            | "copy"
            | "nocopy"
    ) || PROPAGATIONS.contains(&opt)
        || opt == "idmap"
        || opt.starts_with("idmap=")
        || opt.starts_with("upperdir=")
        || opt.starts_with("workdir=")
}

/// `-v|--volume`: `HOST:CTR[:OPTS]`, `NAME:CTR[:OPTS]` or `CTR` (an anonymous volume).
///
/// A source starting with `/` or `.` is a host path (relative ones are made absolute against the
/// current directory); anything else names a volume. `cached` and `delegated` are accepted and dropped,
/// as Podman does.
pub fn parse_volume(spec: &str) -> Result<MountSpec> {
    let bad = |why: &str| invalid(format!("invalid volume specification {spec:?}: {why}"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, dest, opts) = match parts.as_slice() {
        [dest] => ("", *dest, None),
        [src, dest] => (*src, *dest, None),
        [src, dest, opts] => (*src, *dest, Some(*opts)),
        _ => return Err(bad("expected [HOST-DIR|VOLUME:]CONTAINER-DIR[:OPTIONS]")),
    };
    if parts.len() > 1 && source.is_empty() {
        return Err(bad("the host directory cannot be empty"));
    }
    let destination = container_path("volume specification", spec, dest)?;
    let mut options = Vec::new();
    for o in opts.map(|o| o.split(',').collect::<Vec<_>>()).unwrap_or_default() {
        match o {
            "cached" | "delegated" => continue,
            o if volume_option(o) => options.push(o.to_string()),
            "" => return Err(bad("empty option")),
            o => return Err(bad(&format!("unknown option {o:?}"))),
        }
    }
    let (read_only, options) = finish_options("volume specification", spec, options)?;
    let (kind, source) = if parts.len() == 1 {
        (MountKind::Volume, String::new())
    } else if source.starts_with('/') || source.starts_with('.') {
        (MountKind::Bind, host_path(source)?)
    } else if valid_name(source) {
        (MountKind::Volume, source.to_string())
    } else {
        return Err(bad(&format!(
            "{source:?} is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*); write a relative host path as ./{source}"
        )));
    };
    Ok(MountSpec {
        kind,
        source,
        destination,
        read_only,
        options,
    })
}

/// Splits a `--mount` value on commas, honouring double quotes as Go's CSV reader does.
fn split_csv(spec: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(invalid(format!("invalid --mount {spec:?}: unterminated quote")));
    }
    fields.push(cur);
    Ok(fields)
}

fn parse_bool(spec: &str, key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(invalid(format!(
            "invalid --mount {spec:?}: {key} must be true or false, not {value:?}"
        ))),
    }
}

/// `--mount type=bind|tmpfs|volume,...`, with Docker's and Podman's keys: `source`/`src`,
/// `destination`/`dst`/`target`, `ro`/`readonly`/`rw` (optionally `=true|false`), `bind-propagation`,
/// `bind-nonrecursive`, `relabel`, `tmpfs-size`, `tmpfs-mode`, `tmpcopyup`, `U`/`chown`, `idmap`,
/// `nosuid`/`suid`, `nodev`/`dev`, `noexec`/`exec`, `z`/`Z`, `consistency` (ignored).
pub fn parse_mount(spec: &str) -> Result<MountSpec> {
    let bad = |why: String| invalid(format!("invalid --mount {spec:?}: {why}"));
    let mut kind = None;
    let mut source: Option<String> = None;
    let mut dest = None;
    let mut options: Vec<String> = Vec::new();
    let fields = split_csv(spec)?;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field.as_str(), None),
        };
        let need = || value.ok_or_else(|| bad(format!("{key} needs a value")));
        match key {
            "type" => {
                if kind.is_some() {
                    return Err(bad("type given twice".into()));
                }
                kind = Some(match need()? {
                    "bind" => MountKind::Bind,
                    "tmpfs" => MountKind::Tmpfs,
                    "volume" => MountKind::Volume,
                    other => {
                        return Err(bad(format!(
                            "unsupported mount type {other:?}: use bind, tmpfs or volume"
                        )))
                    }
                });
            }
            "source" | "src" => {
                let v = need()?;
                if v.is_empty() {
                    return Err(bad("the source cannot be empty".into()));
                }
                source = Some(v.to_string());
            }
            "destination" | "dst" | "target" => dest = Some(need()?.to_string()),
            "ro" | "readonly" | "rw" => {
                let on = value
                    .map(|v| parse_bool(spec, key, v))
                    .transpose()?
                    .unwrap_or(true);
                let read_only = if key == "rw" { !on } else { on };
                options.push(if read_only { "ro" } else { "rw" }.to_string());
            }
            "nosuid" | "suid" | "nodev" | "dev" | "noexec" | "exec" | "z" | "Z" | "tmpcopyup"
            | "notmpcopyup" => {
                if value.is_some() {
                    return Err(bad(format!("{key} takes no value")));
                }
                options.push(key.to_string());
            }
            p if PROPAGATIONS.contains(&p) => options.push(p.to_string()),
            "bind-propagation" => {
                let v = need()?;
                if !PROPAGATIONS.contains(&v) {
                    return Err(bad(format!("invalid bind-propagation {v:?}")));
                }
                options.push(v.to_string());
            }
            "bind-nonrecursive" => {
                if value
                    .map(|v| parse_bool(spec, key, v))
                    .transpose()?
                    .unwrap_or(true)
                {
                    options.push("bind".into());
                }
            }
            "relabel" => match need()? {
                "private" => options.push("Z".into()),
                "shared" => options.push("z".into()),
                v => return Err(bad(format!("relabel must be private or shared, not {v:?}"))),
            },
            "U" | "chown" => {
                if value
                    .map(|v| parse_bool(spec, key, v))
                    .transpose()?
                    .unwrap_or(true)
                {
                    options.push("U".into());
                }
            }
            "idmap" => options.push(match value {
                Some(v) => format!("idmap={v}"),
                None => "idmap".into(),
            }),
            "tmpfs-size" => options.push(format!("size={}", need()?)),
            "tmpfs-mode" => {
                let v = need()?;
                if u32::from_str_radix(v, 8).is_err() {
                    return Err(bad(format!("tmpfs-mode must be octal, not {v:?}")));
                }
                options.push(format!("mode={v}"));
            }
            "volume-opt" => return Err(bad("volume-opt is not supported yet".into())),
            "consistency" => {}
            other => return Err(bad(format!("unknown option {other:?}"))),
        }
    }
    let kind = kind.ok_or_else(|| bad("missing type=bind|tmpfs|volume".into()))?;
    let dest = dest.ok_or_else(|| bad("missing destination (dst=, target=)".into()))?;
    let destination = container_path("--mount", spec, &dest)?;
    let only = |allowed: &dyn Fn(&str) -> bool, type_name: &str| -> Result<()> {
        match options.iter().find(|o| !allowed(o)) {
            Some(o) => Err(bad(format!("option {o:?} is not valid with type={type_name}"))),
            None => Ok(()),
        }
    };
    let common = |o: &str| {
        matches!(
            o,
            "ro" | "rw" | "nosuid" | "suid" | "nodev" | "dev" | "noexec" | "exec" | "U"
        ) || o.starts_with("idmap")
    };
    let source = match kind {
        MountKind::Bind => {
            only(
                &|o| common(o) || matches!(o, "z" | "Z" | "bind") || PROPAGATIONS.contains(&o),
                "bind",
            )?;
            host_path(source.as_deref().unwrap_or(&destination))?
        }
        MountKind::Tmpfs => {
            if source.is_some() {
                return Err(bad("a source is not supported with tmpfs mounts".into()));
            }
            only(
                &|o| {
                    common(o)
                        || matches!(o, "tmpcopyup" | "notmpcopyup")
                        || o.starts_with("size=")
                        || o.starts_with("mode=")
                },
                "tmpfs",
            )?;
            String::new()
        }
        MountKind::Volume => {
            only(
                &|o| common(o) || matches!(o, "z" | "Z") || PROPAGATIONS.contains(&o),
                "volume",
            )?;
            let name = source.unwrap_or_default();
            if !name.is_empty() && !valid_name(&name) {
                return Err(bad(format!(
                    "{name:?} is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)"
                )));
            }
            name
        }
    };
    let (read_only, options) = finish_options("--mount", spec, options)?;
    Ok(MountSpec {
        kind,
        source,
        destination,
        read_only,
        options,
    })
}

/// `--tmpfs /path[:opts]`; the options are `mount(8)`-style and checked here.
pub fn parse_tmpfs(spec: &str) -> Result<MountSpec> {
    let bad = |why: String| invalid(format!("invalid --tmpfs {spec:?}: {why}"));
    let (dest, opts) = match spec.split_once(':') {
        Some((d, o)) => (d, o),
        None => (spec, ""),
    };
    let destination = container_path("--tmpfs", spec, dest)?;
    let mut options = Vec::new();
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = o.split_once('=').map_or((o, None), |(k, v)| (k, Some(v)));
        let ok = match key {
            "ro" | "rw" | "nosuid" | "suid" | "nodev" | "dev" | "noexec" | "exec" | "tmpcopyup"
            | "notmpcopyup" | "U" => value.is_none(),
            p if PROPAGATIONS.contains(&p) => value.is_none(),
            "size" | "nr_blocks" | "nr_inodes" | "uid" | "gid" => value.is_some_and(|v| !v.is_empty()),
            "mode" => value.is_some_and(|v| u32::from_str_radix(v, 8).is_ok()),
            _ => false,
        };
        if !ok {
            return Err(bad(format!("invalid option {o:?}")));
        }
        options.push(o.to_string());
    }
    let (read_only, options) = finish_options("--tmpfs", spec, options)?;
    Ok(MountSpec {
        kind: MountKind::Tmpfs,
        source: String::new(),
        destination,
        read_only,
        options,
    })
}

/// The `--ulimit` names Podman accepts, with their `RLIMIT_*` numbers.
pub const ULIMIT_NAMES: &[(&str, i32)] = &[
    ("as", libc::RLIMIT_AS as i32),
    ("core", libc::RLIMIT_CORE as i32),
    ("cpu", libc::RLIMIT_CPU as i32),
    ("data", libc::RLIMIT_DATA as i32),
    ("fsize", libc::RLIMIT_FSIZE as i32),
    ("locks", libc::RLIMIT_LOCKS as i32),
    ("memlock", libc::RLIMIT_MEMLOCK as i32),
    ("msgqueue", libc::RLIMIT_MSGQUEUE as i32),
    ("nice", libc::RLIMIT_NICE as i32),
    ("nofile", libc::RLIMIT_NOFILE as i32),
    ("nproc", libc::RLIMIT_NPROC as i32),
    ("rss", libc::RLIMIT_RSS as i32),
    ("rtprio", libc::RLIMIT_RTPRIO as i32),
    ("rttime", libc::RLIMIT_RTTIME as i32),
    ("sigpending", libc::RLIMIT_SIGPENDING as i32),
    ("stack", libc::RLIMIT_STACK as i32),
];

/// `--ulimit name=soft[:hard]`; `-1` means unlimited (`RLIM_INFINITY`, `u64::MAX`); a missing hard limit
/// equals the soft one. The soft limit may not exceed the hard one. (`--ulimit host` is the CLI's to
/// expand: see [`host_ulimits`].)
pub fn parse_ulimit(spec: &str) -> Result<Ulimit> {
    let bad = |why: String| invalid(format!("invalid --ulimit {spec:?}: {why}"));
    let (name, values) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected name=soft[:hard]".into()))?;
    if !ULIMIT_NAMES.iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = ULIMIT_NAMES.iter().map(|(n, _)| *n).collect();
        return Err(bad(format!(
            "unknown limit {name:?} (known: {})",
            names.join(", ")
        )));
    }
    let value = |v: &str| -> Result<u64> {
        match v.parse::<i64>() {
            Ok(-1) => Ok(u64::MAX),
            Ok(n) if n >= 0 => Ok(n as u64),
            _ => Err(bad(format!("{v:?} is not a number (or -1 for unlimited)"))),
        }
    };
    let (soft, hard) = match values.split(':').collect::<Vec<_>>().as_slice() {
        [soft] => (value(soft)?, value(soft)?),
        [soft, hard] => (value(soft)?, value(hard)?),
        _ => return Err(bad("expected at most soft:hard".into())),
    };
    if soft > hard {
        return Err(bad(format!(
            "the soft limit {} exceeds the hard limit {}",
            show_limit(soft),
            show_limit(hard)
        )));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

fn show_limit(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

/// `--ulimit host`: every limit as the caller has it now.
pub fn host_ulimits() -> Vec<Ulimit> {
    ULIMIT_NAMES
        .iter()
        .filter_map(|(name, resource)| {
            let mut lim = libc::rlimit64 {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit64 writes into the struct we own.
            (unsafe { libc::getrlimit64(*resource as _, &mut lim) } == 0).then(|| Ulimit {
                name: name.to_string(),
                soft: lim.rlim_cur,
                hard: lim.rlim_max,
            })
        })
        .collect()
}

/// Checks an environment variable or label name: not empty, no whitespace (Podman's rule).
fn check_name(what: &str, spec: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(format!("invalid {what} {spec:?}: the name is empty")));
    }
    if name.contains([' ', '\t']) {
        return Err(invalid(format!(
            "invalid {what} {spec:?}: the name {name:?} contains whitespace"
        )));
    }
    Ok(())
}

/// `--env-file FILE`: one `KEY=VALUE`, `KEY` (taken from the caller at start) or `PREFIX*` per line;
/// blank lines and lines starting with `#` are skipped, leading whitespace is dropped, values are kept
/// verbatim (no quotes are removed, as Podman).
pub fn parse_env_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading env file {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line
            .strip_suffix('\r')
            .unwrap_or(line)
            .trim_start_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split_once('=').map_or(line, |(k, _)| k);
        let what = format!("line {} of env file {}:", n + 1, path.display());
        check_name(&what, line, name)?;
        out.push(line.to_string());
    }
    Ok(out)
}

/// `-e|--env` rules: `KEY=VALUE` sets, `KEY=` sets empty, `KEY` takes the caller's value (nothing if the
/// caller has none), `PREFIX*` takes every caller variable whose name starts with `PREFIX`.
pub fn parse_env_assignment(spec: &str, caller_env: &[(String, String)]) -> Result<Vec<(String, String)>> {
    let spec_trimmed = spec.trim_start_matches([' ', '\t']);
    if let Some((name, value)) = spec_trimmed.split_once('=') {
        check_name("environment variable", spec, name)?;
        return Ok(vec![(name.to_string(), value.to_string())]);
    }
    if let Some(prefix) = spec_trimmed.strip_suffix('*') {
        if prefix.contains([' ', '\t']) {
            return Err(invalid(format!(
                "invalid environment variable {spec:?}: the name contains whitespace"
            )));
        }
        return Ok(caller_env
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .cloned()
            .collect());
    }
    check_name("environment variable", spec, spec_trimmed)?;
    Ok(caller_env
        .iter()
        .filter(|(k, _)| k == spec_trimmed)
        .cloned()
        .collect())
}

/// `--label KEY[=VALUE]` (an absent value is empty).
pub fn parse_label(s: &str) -> Result<(String, String)> {
    let (k, v) = s.split_once('=').unwrap_or((s, ""));
    check_name("label", s, k)?;
    Ok((k.to_string(), v.to_string()))
}

/// `--pid`, `--ipc`, `--uts` (and `--cgroupns`): `host`, `private`, `ns:PATH`, `container:ID`
/// (`--ipc` also takes `shareable`, which is `private`). `flag` names the flag in errors.
pub fn parse_namespace(flag: &str, value: &str) -> Result<NamespaceMode> {
    let flag = flag.trim_start_matches('-');
    let bad = |why: &str| invalid(format!("invalid --{flag} {value:?}: {why}"));
    Ok(match value {
        "" | "private" => NamespaceMode::Private,
        "shareable" if flag == "ipc" => NamespaceMode::Private,
        "host" => NamespaceMode::Host,
        v => {
            if let Some(path) = v.strip_prefix("ns:") {
                if !path.starts_with('/') {
                    return Err(bad("the namespace path must be absolute"));
                }
                NamespaceMode::Path(PathBuf::from(path))
            } else if let Some(id) = v.strip_prefix("container:") {
                if id.is_empty() {
                    return Err(bad("container: needs a container name or ID"));
                }
                NamespaceMode::Container(id.to_string())
            } else {
                return Err(bad("expected host, private, ns:PATH or container:ID"));
            }
        }
    })
}

/// `--network`/`--net`: `none`, `host`, `private` (and `bridge`, the same for now: a private namespace
/// with loopback only), `ns:PATH`, `container:ID`. Named networks, `slirp4netns` and `pasta` are refused
/// with an error saying so.
pub fn parse_network(value: &str) -> Result<NetworkMode> {
    Ok(match value {
        "" | "private" | "bridge" => NetworkMode::Private,
        "none" => NetworkMode::None,
        "host" => NetworkMode::Host,
        v => match parse_namespace("network", v) {
            Ok(NamespaceMode::Path(p)) => NetworkMode::Path(p),
            Ok(NamespaceMode::Container(id)) => NetworkMode::Container(id),
            _ if v.starts_with("ns:") || v.starts_with("container:") => {
                return Err(parse_namespace("network", v)
                    .err()
                    .unwrap_or_else(|| invalid(v.to_string())))
            }
            _ => {
                return Err(invalid(format!(
                    "invalid --network {v:?}: networks are not supported yet; use none, host, private (or \
                     bridge, which is private for now), ns:PATH or container:ID"
                )))
            }
        },
    })
}

const SIGNALS: &[(&str, i32)] = &[
    ("ABRT", libc::SIGABRT),
    ("ALRM", libc::SIGALRM),
    ("BUS", libc::SIGBUS),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("FPE", libc::SIGFPE),
    ("HUP", libc::SIGHUP),
    ("ILL", libc::SIGILL),
    ("INT", libc::SIGINT),
    ("IO", libc::SIGIO),
    ("IOT", libc::SIGIOT),
    ("KILL", libc::SIGKILL),
    ("PIPE", libc::SIGPIPE),
    ("POLL", libc::SIGPOLL),
    ("PROF", libc::SIGPROF),
    ("PWR", libc::SIGPWR),
    ("QUIT", libc::SIGQUIT),
    ("SEGV", libc::SIGSEGV),
    ("STKFLT", libc::SIGSTKFLT),
    ("STOP", libc::SIGSTOP),
    ("SYS", libc::SIGSYS),
    ("TERM", libc::SIGTERM),
    ("TRAP", libc::SIGTRAP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("VTALRM", libc::SIGVTALRM),
    ("WINCH", libc::SIGWINCH),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
];

/// `--stop-signal` (and an image's `StopSignal`): a name with or without `SIG`, any case (`TERM`,
/// `sigkill`, `RTMIN+3`), or a number from 1 to `SIGRTMAX`. Returns the signal number.
pub fn parse_stop_signal(value: &str) -> Result<i32> {
    let bad = || invalid(format!("invalid signal {value:?}"));
    let max = libc::SIGRTMAX();
    if let Ok(n) = value.parse::<i32>() {
        return if (1..=max).contains(&n) { Ok(n) } else { Err(bad()) };
    }
    let upper = value.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Ok(*n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let n = if rest.is_empty() {
            0
        } else {
            rest.parse::<i32>().ok()?
        };
        let s = base + sign * n;
        (libc::SIGRTMIN()..=max).contains(&s).then_some(s)
    };
    let found = if let Some(rest) = name.strip_prefix("RTMIN") {
        rt(libc::SIGRTMIN(), rest.strip_prefix('+').unwrap_or(rest), 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        rt(max, rest.strip_prefix('-').unwrap_or(rest), -1)
    } else {
        None
    };
    found.ok_or_else(bad)
}

/// One `--device HOST[:CONTAINER][:PERMISSIONS]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    pub source: String,
    pub destination: String,
    /// A combination of `r`, `w` and `m`; `rwm` by default.
    pub permissions: String,
}

fn device_mode(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
        && ['r', 'w', 'm'].iter().all(|c| s.matches(*c).count() <= 1)
}

/// `--device /dev/sdc`, `/dev/sdc:/dev/xvdc`, `/dev/sdc:rw`, `/dev/sdc:/dev/xvdc:rwm`.
pub fn parse_device(spec: &str) -> Result<DeviceSpec> {
    let bad = |why: String| invalid(format!("invalid --device {spec:?}: {why}"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, mut destination, mut permissions) = (parts[0], "", "rwm");
    match parts.as_slice() {
        [_] => {}
        [_, second] | [_, second, _] => {
            if parts.len() == 2 && device_mode(second) {
                permissions = second;
            } else if second.starts_with('/') {
                destination = second;
            } else {
                return Err(bad(format!(
                    "{second:?} is neither a container path nor permissions (r, w, m)"
                )));
            }
            if let [_, _, mode] = parts.as_slice() {
                if !device_mode(mode) {
                    return Err(bad(format!(
                        "invalid permissions {mode:?}: use a combination of r, w and m"
                    )));
                }
                permissions = mode;
            }
        }
        _ => return Err(bad("expected HOST[:CONTAINER][:PERMISSIONS]".into())),
    }
    if !source.starts_with('/') {
        return Err(bad("the host device path must be absolute".into()));
    }
    if destination.is_empty() {
        destination = source;
    }
    Ok(DeviceSpec {
        source: source.into(),
        destination: clean_path(destination),
        permissions: permissions.into(),
    })
}

/// One `--security-opt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecurityOpt {
    /// `no-new-privileges[=true|false]`
    NoNewPrivileges(bool),
    /// `mask=/a:/b`: more paths to mask.
    Mask(Vec<String>),
    /// `unmask=ALL` or `unmask=/proc/kcore:/sys/fs/*` (globs): default masked/read-only paths to expose.
    Unmask(Vec<String>),
    /// `seccomp=unconfined`: no seccomp filter.
    SeccompUnconfined,
    /// `seccomp=PATH`: a profile in the Podman/Docker JSON format instead of the default.
    SeccompProfile(String),
    /// `apparmor=unconfined`, `label=disable`, `label=nested`: accepted, nothing to do on this engine.
    Ignored(String),
    /// `proc-opts=OPT,OPT`: the options of the `/proc` mount.
    ProcOpts(Vec<String>),
}

/// `--security-opt`: `no-new-privileges`, `mask=`, `unmask=`, `proc-opts=`, and the values of
/// `seccomp=`, `apparmor=` and `label=` that mean "no confinement"; a profile or label this engine
/// cannot apply is refused rather than silently dropped.
pub fn parse_security_opt(s: &str) -> Result<SecurityOpt> {
    let bad = |why: &str| invalid(format!("invalid --security-opt {s:?}: {why}"));
    if s == "no-new-privileges" {
        return Ok(SecurityOpt::NoNewPrivileges(true));
    }
    let (key, value) = s
        .split_once(['=', ':'])
        .ok_or_else(|| bad("expected KEY=VALUE"))?;
    Ok(match key {
        "no-new-privileges" => SecurityOpt::NoNewPrivileges(match value {
            "true" => true,
            "false" => false,
            _ => return Err(bad("expected true or false")),
        }),
        "mask" => {
            let paths: Vec<String> = value
                .split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
                return Err(bad(&format!("{p:?} is not an absolute path")));
            }
            SecurityOpt::Mask(paths)
        }
        "unmask" => SecurityOpt::Unmask(
            value
                .split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        ),
        "proc-opts" => SecurityOpt::ProcOpts(
            value
                .split(',')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        ),
        "seccomp" if value == "unconfined" => SecurityOpt::SeccompUnconfined,
        "seccomp" if value.is_empty() => return Err(bad("expected a profile path or unconfined")),
        "seccomp" => SecurityOpt::SeccompProfile(value.to_string()),
        "apparmor" if value == "unconfined" => SecurityOpt::Ignored(s.to_string()),
        "apparmor" => {
            return Err(bad(
                "AppArmor profiles are not supported (only apparmor=unconfined)",
            ))
        }
        "label" if matches!(value, "disable" | "nested") => SecurityOpt::Ignored(s.to_string()),
        "label" => return Err(bad("SELinux labels are not supported (only label=disable)")),
        _ => return Err(bad("unknown option")),
    })
}

/// `--entrypoint`: a JSON array (`'["/bin/sh","-c"]'`) or one command; an empty string clears the
/// image's entrypoint (`Some(vec![])` in `CreateConfig`).
pub fn parse_entrypoint(value: &str) -> Vec<String> {
    if value.is_empty() {
        return vec![];
    }
    match serde_json::from_str::<Vec<String>>(value) {
        Ok(v) => v,
        Err(_) => vec![value.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cwd() -> String {
        std::env::current_dir().unwrap().to_string_lossy().into_owned()
    }

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn volume_bind_named_and_anonymous() {
        let m = parse_volume("/srv/data:/data:ro,z,nosuid").unwrap();
        assert_eq!(
            m,
            MountSpec {
                kind: MountKind::Bind,
                source: "/srv/data".into(),
                destination: "/data".into(),
                read_only: true,
                options: vec!["z".into(), "nosuid".into()],
            }
        );
        let m = parse_volume("cache:/var/cache/").unwrap();
        assert_eq!(
            (m.kind, m.source.as_str(), m.destination.as_str()),
            (MountKind::Volume, "cache", "/var/cache")
        );
        assert!(!m.read_only);
        let m = parse_volume("/anon").unwrap();
        assert_eq!(
            (m.kind, m.source.as_str(), m.destination.as_str()),
            (MountKind::Volume, "", "/anon")
        );
        let m = parse_volume("./sub/../dir:/d:rw,U,rshared,cached").unwrap();
        assert_eq!(m.source, format!("{}/dir", cwd().trim_end_matches('/')));
        assert_eq!(m.options, vec!["U", "rshared"]);
        let all = "ro,Z,nosuid,noexec,nodev,rbind,rprivate,copy,idmap";
        assert_eq!(parse_volume(&format!("/a:/b:{all}")).unwrap().options.len(), 8);
    }

    #[test]
    fn volume_errors() {
        for (spec, want) in [
            ("a:b:c:d", r#"invalid volume specification "a:b:c:d""#),
            ("/a:rel", "must be absolute"),
            (":/x", "cannot be empty"),
            ("/a:/b:bogus", r#"unknown option "bogus""#),
            ("/a:/b:ro,rw", "only one 'ro' or 'rw'"),
            ("/a:/b:shared,private", "propagation"),
            ("sub/dir:/b", "not a valid volume name"),
            ("relative", "must be absolute"),
        ] {
            assert!(err(parse_volume(spec)).contains(want), "{spec}");
        }
    }

    #[test]
    fn mount_flag() {
        let m =
            parse_mount("type=bind,source=/src,destination=/dst,readonly,bind-propagation=rslave").unwrap();
        assert_eq!(
            m,
            MountSpec {
                kind: MountKind::Bind,
                source: "/src".into(),
                destination: "/dst".into(),
                read_only: true,
                options: vec!["rslave".into()],
            }
        );
        assert!(!parse_mount("type=bind,src=/s,dst=/d,ro=false").unwrap().read_only);
        assert!(parse_mount("type=bind,src=/s,dst=/d,rw=false").unwrap().read_only);
        assert_eq!(
            parse_mount("type=bind,src=/s,target=/d,bind-nonrecursive")
                .unwrap()
                .options,
            vec!["bind"]
        );
        let t = parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777,notmpcopyup").unwrap();
        assert_eq!(t.kind, MountKind::Tmpfs);
        assert_eq!(t.options, vec!["size=1m", "mode=1777", "notmpcopyup"]);
        let v = parse_mount("type=volume,src=data,dst=/data,ro=true").unwrap();
        assert_eq!(
            (v.kind, v.source.as_str(), v.read_only),
            (MountKind::Volume, "data", true)
        );
        let a = parse_mount("type=volume,dst=/anon").unwrap();
        assert_eq!(a.source, "");
        // Podman 4: a bind without a source binds the destination's host path.
        assert_eq!(parse_mount("type=bind,dst=/etc/x").unwrap().source, "/etc/x");
        let q = parse_mount(r#"type=bind,"src=/a,b",dst=/c"#).unwrap();
        assert_eq!(q.source, "/a,b");
    }

    #[test]
    fn mount_flag_errors() {
        for (spec, want) in [
            ("src=/a,dst=/b", "missing type"),
            ("type=bind,src=/a", "missing destination"),
            ("type=nfs,dst=/a", "unsupported mount type"),
            ("type=tmpfs,src=/a,dst=/b", "source is not supported"),
            (
                "type=bind,src=/a,dst=/b,tmpfs-size=1m",
                "not valid with type=bind",
            ),
            ("type=bind,src=/a,dst=/b,ro=maybe", "true or false"),
            ("type=bind,src=/a,dst=/b,bind-propagation=sideways", "sideways"),
            ("type=bind,src=/a,dst=/b,frobnicate", "frobnicate"),
            ("type=bind,src=/a,dst=rel", "must be absolute"),
            ("type=bind,src=/a,dst=/b,ro,rw", "only one"),
            ("type=tmpfs,dst=/b,tmpfs-mode=999", "octal"),
        ] {
            assert!(err(parse_mount(spec)).contains(want), "{spec}");
        }
    }

    #[test]
    fn tmpfs_flag() {
        let t = parse_tmpfs("/run/x/").unwrap();
        assert_eq!(
            t,
            MountSpec {
                kind: MountKind::Tmpfs,
                source: String::new(),
                destination: "/run/x".into(),
                read_only: false,
                options: vec![]
            }
        );
        let t = parse_tmpfs("/t:rw,size=64m,mode=1777,noexec,uid=1000").unwrap();
        assert_eq!(t.options, vec!["size=64m", "mode=1777", "noexec", "uid=1000"]);
        assert!(parse_tmpfs("/t:ro").unwrap().read_only);
        assert!(err(parse_tmpfs("t")).contains("must be absolute"));
        assert!(err(parse_tmpfs("/t:bogus")).contains(r#"invalid option "bogus""#));
        assert!(err(parse_tmpfs("/t:mode=abc")).contains("mode=abc"));
        assert!(err(parse_tmpfs("/t:size=1m,size=2m")).contains("only one"));
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048").unwrap(),
            Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048
            }
        );
        assert_eq!(
            parse_ulimit("core=0").unwrap(),
            Ulimit {
                name: "core".into(),
                soft: 0,
                hard: 0
            }
        );
        assert_eq!(parse_ulimit("memlock=-1:-1").unwrap().hard, u64::MAX);
        assert_eq!(
            parse_ulimit("stack=8192:-1").unwrap(),
            Ulimit {
                name: "stack".into(),
                soft: 8192,
                hard: u64::MAX
            }
        );
        assert!(parse_ulimit("as=1:2").is_ok());
        assert!(err(parse_ulimit("nofile=2048:1024")).contains("exceeds the hard limit"));
        assert!(err(parse_ulimit("nofile=-1:1024")).contains("exceeds"));
        assert!(err(parse_ulimit("bogus=1")).contains(r#"unknown limit "bogus""#));
        assert!(err(parse_ulimit("nofile")).contains("name=soft"));
        assert!(err(parse_ulimit("nofile=abc")).contains(r#""abc" is not a number"#));
        assert!(err(parse_ulimit("nofile=-2")).contains("not a number"));
        assert!(err(parse_ulimit("nofile=1:2:3")).contains("at most"));
        assert!(host_ulimits()
            .iter()
            .any(|u| u.name == "nofile" && u.soft <= u.hard));
    }

    #[test]
    fn env_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        std::fs::write(&p, "# comment\n\nA=1\n  B=two words \r\nC\nD=\nE=x=y\nPRE*\n").unwrap();
        let want = ["A=1", "B=two words ", "C", "D=", "E=x=y", "PRE*"];
        assert_eq!(parse_env_file(&p).unwrap(), want.map(String::from));
        std::fs::write(&p, "OK=1\nBAD NAME=2\n").unwrap();
        assert!(err(parse_env_file(&p)).contains("line 2"));
        std::fs::write(&p, "=value\n").unwrap();
        assert!(err(parse_env_file(&p)).contains("name is empty"));
        assert!(err(parse_env_file(&dir.path().join("missing"))).contains("reading env file"));
    }

    #[test]
    fn env_assignments() {
        let caller: Vec<(String, String)> = [
            ("HOME", "/root"),
            ("LC_ALL", "C"),
            ("LC_TIME", "en"),
            ("LANG", "x"),
        ]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
        let kv = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parse_env_assignment("A=b=c", &caller).unwrap(),
            kv(&[("A", "b=c")])
        );
        assert_eq!(
            parse_env_assignment("EMPTY=", &caller).unwrap(),
            kv(&[("EMPTY", "")])
        );
        assert_eq!(
            parse_env_assignment("HOME", &caller).unwrap(),
            kv(&[("HOME", "/root")])
        );
        assert_eq!(parse_env_assignment("MISSING", &caller).unwrap(), kv(&[]));
        assert_eq!(
            parse_env_assignment("LC_*", &caller).unwrap(),
            kv(&[("LC_ALL", "C"), ("LC_TIME", "en")])
        );
        assert_eq!(parse_env_assignment("*", &caller).unwrap().len(), 4);
        assert!(err(parse_env_assignment("=x", &caller)).contains("name is empty"));
        assert!(err(parse_env_assignment("A B=x", &caller)).contains("whitespace"));
    }

    #[test]
    fn labels() {
        assert_eq!(parse_label("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(parse_label("flag").unwrap(), ("flag".into(), String::new()));
        assert!(err(parse_label("=v")).contains("name is empty"));
        assert!(err(parse_label("a b=v")).contains("whitespace"));
    }

    #[test]
    fn namespaces() {
        assert_eq!(parse_namespace("pid", "host").unwrap(), NamespaceMode::Host);
        assert_eq!(
            parse_namespace("--uts", "private").unwrap(),
            NamespaceMode::Private
        );
        assert_eq!(
            parse_namespace("ipc", "shareable").unwrap(),
            NamespaceMode::Private
        );
        assert_eq!(
            parse_namespace("ipc", "ns:/proc/1/ns/ipc").unwrap(),
            NamespaceMode::Path("/proc/1/ns/ipc".into())
        );
        assert_eq!(
            parse_namespace("pid", "container:web").unwrap(),
            NamespaceMode::Container("web".into())
        );
        assert!(err(parse_namespace("pid", "shareable")).contains(r#"invalid --pid "shareable""#));
        assert!(err(parse_namespace("pid", "ns:relative")).contains("absolute"));
        assert!(err(parse_namespace("uts", "container:")).contains("needs a container"));
        assert!(err(parse_namespace("uts", "bogus")).contains("expected host, private"));
    }

    #[test]
    fn networks() {
        assert_eq!(parse_network("none").unwrap(), NetworkMode::None);
        assert_eq!(parse_network("host").unwrap(), NetworkMode::Host);
        assert_eq!(parse_network("private").unwrap(), NetworkMode::Private);
        assert_eq!(parse_network("bridge").unwrap(), NetworkMode::Private);
        assert_eq!(
            parse_network("ns:/run/netns/x").unwrap(),
            NetworkMode::Path("/run/netns/x".into())
        );
        assert_eq!(
            parse_network("container:db").unwrap(),
            NetworkMode::Container("db".into())
        );
        assert!(err(parse_network("mynet")).contains("networks are not supported yet"));
        assert!(err(parse_network("slirp4netns")).contains("not supported yet"));
        assert!(err(parse_network("ns:rel")).contains("absolute"));
    }

    #[test]
    fn stop_signals() {
        assert_eq!(parse_stop_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_stop_signal("term").unwrap(), 15);
        assert_eq!(parse_stop_signal("KILL").unwrap(), 9);
        assert_eq!(parse_stop_signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_stop_signal("2").unwrap(), 2);
        assert_eq!(parse_stop_signal("RTMIN").unwrap(), libc::SIGRTMIN());
        assert_eq!(parse_stop_signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        assert_eq!(parse_stop_signal("RTMAX-1").unwrap(), libc::SIGRTMAX() - 1);
        for bad in ["0", "65", "-1", "SIGFOO", "", "RTMIN+99"] {
            assert!(err(parse_stop_signal(bad)).contains("invalid signal"), "{bad}");
        }
    }

    #[test]
    fn devices() {
        let d = |s, d: &str, p: &str| DeviceSpec {
            source: s,
            destination: d.into(),
            permissions: p.into(),
        };
        assert_eq!(
            parse_device("/dev/fuse").unwrap(),
            d("/dev/fuse".into(), "/dev/fuse", "rwm")
        );
        assert_eq!(
            parse_device("/dev/sdc:/dev/xvdc").unwrap(),
            d("/dev/sdc".into(), "/dev/xvdc", "rwm")
        );
        assert_eq!(
            parse_device("/dev/sdc:r").unwrap(),
            d("/dev/sdc".into(), "/dev/sdc", "r")
        );
        assert_eq!(
            parse_device("/dev/sdc:/dev/x:rw").unwrap(),
            d("/dev/sdc".into(), "/dev/x", "rw")
        );
        assert!(err(parse_device("/dev/sdc:/dev/x:rwx")).contains("invalid permissions"));
        assert!(err(parse_device("/dev/sdc:rr")).contains("neither"));
        assert!(err(parse_device("sdc")).contains("absolute"));
        assert!(err(parse_device("/a:/b:r:w")).contains("expected"));
    }

    #[test]
    fn security_opts() {
        assert_eq!(
            parse_security_opt("no-new-privileges").unwrap(),
            SecurityOpt::NoNewPrivileges(true)
        );
        assert_eq!(
            parse_security_opt("no-new-privileges=false").unwrap(),
            SecurityOpt::NoNewPrivileges(false)
        );
        assert_eq!(
            parse_security_opt("mask=/a:/b").unwrap(),
            SecurityOpt::Mask(vec!["/a".into(), "/b".into()])
        );
        assert_eq!(
            parse_security_opt("unmask=ALL").unwrap(),
            SecurityOpt::Unmask(vec!["ALL".into()])
        );
        assert_eq!(
            parse_security_opt("seccomp=unconfined").unwrap(),
            SecurityOpt::SeccompUnconfined
        );
        assert!(matches!(
            parse_security_opt("label=disable").unwrap(),
            SecurityOpt::Ignored(_)
        ));
        assert_eq!(
            parse_security_opt("seccomp=/p.json").unwrap(),
            SecurityOpt::SeccompProfile("/p.json".into())
        );
        assert!(err(parse_security_opt("seccomp=")).contains("profile path"));
        assert!(err(parse_security_opt("mask=rel")).contains("absolute"));
        assert!(err(parse_security_opt("frob=1")).contains("unknown option"));
        assert!(err(parse_security_opt("frob")).contains("KEY=VALUE"));
    }

    #[test]
    fn entrypoints() {
        assert_eq!(parse_entrypoint(""), Vec::<String>::new());
        assert_eq!(parse_entrypoint("/bin/sh -c"), vec!["/bin/sh -c"]);
        assert_eq!(parse_entrypoint(r#"["/bin/sh","-c"]"#), vec!["/bin/sh", "-c"]);
    }

    #[test]
    fn clean_paths() {
        assert_eq!(clean_path("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path("/"), "/");
    }
}
