//! `process`: the command line, environment, working directory and resource limits, with Podman's
//! rules for combining the image's config with the flags.

use super::HostFacts;
use crate::container::config::CreateConfig;
use crate::container::parse::{parse_env_assignment, ULIMIT_NAMES};
use crate::error::{Error, Result};
use crate::image::config::ImageConfigFile;
use oci_spec::runtime::{PosixRlimit, PosixRlimitBuilder, PosixRlimitType};

/// `PATH` when neither the image nor the flags set one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What Podman passes from the caller's environment by default (`--http-proxy=true`).
const PROXY_ENV: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
];

/// Podman's default for `nofile` and `nproc` when the caller may raise its limits.
const PODMAN_RLIMIT_DEFAULT: u64 = 1_048_576;

/// `ENTRYPOINT` + `CMD`: `--entrypoint` replaces the image's entrypoint, and then the image's `Cmd` is
/// used only if the new entrypoint is empty (`--entrypoint ""`); arguments after the image replace the
/// `Cmd`. An entrypoint of `[""]` counts as none.
pub(super) fn command(cfg: &CreateConfig, image: Option<&ImageConfigFile>) -> Result<Vec<String>> {
    let image_cfg = image.map(|i| &i.config);
    let entrypoint: Vec<String> = match &cfg.entrypoint {
        Some(e) => e.clone(),
        None => image_cfg.and_then(|c| c.entrypoint.clone()).unwrap_or_default(),
    };
    let entrypoint = if entrypoint.len() == 1 && entrypoint[0].is_empty() {
        vec![]
    } else {
        entrypoint
    };
    let user_entrypoint_set = cfg.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    let cmd = if !cfg.command.is_empty() {
        cfg.command.clone()
    } else if user_entrypoint_set {
        vec![]
    } else {
        image_cfg.and_then(|c| c.cmd.clone()).unwrap_or_default()
    };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(Error::InvalidInput(
            "no command or entrypoint provided, and no CMD or ENTRYPOINT from image".into(),
        ));
    }
    Ok(args)
}

/// An environment whose later settings replace earlier ones in place.
#[derive(Default)]
struct Env(Vec<(String, String)>);

impl Env {
    fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// The process environment, lowest precedence first: `PATH`, `TERM=xterm` (with `-t` only),
/// `container=podman`; the image's `Env`; the caller's proxy variables, or its whole environment with
/// `--env-host`; `--env-file` and `-e` in order. `HOSTNAME` and `HOME` are added when still unset.
pub(super) fn environment(
    cfg: &CreateConfig,
    image: Option<&ImageConfigFile>,
    caller_env: &[(String, String)],
    hostname: &str,
    home: &str,
) -> Result<Vec<String>> {
    let mut env = Env::default();
    env.set("PATH", DEFAULT_PATH);
    if cfg.tty {
        env.set("TERM", "xterm");
    }
    env.set("container", "podman");
    for e in image.and_then(|i| i.config.env.as_ref()).into_iter().flatten() {
        let (k, v) = e.split_once('=').unwrap_or((e, ""));
        if !k.is_empty() {
            env.set(k, v);
        }
    }
    for (k, v) in caller_env {
        // Not the markers of selkie's own rootless namespace (`rootless::UID_ENV`).
        if (cfg.env_host && !k.starts_with("_SELKIE_ROOTLESS_")) || PROXY_ENV.contains(&k.as_str()) {
            env.set(k, v);
        }
    }
    for e in &cfg.env {
        for (k, v) in parse_env_assignment(e, caller_env)? {
            env.set(&k, &v);
        }
    }
    if !env.has("HOSTNAME") {
        env.set("HOSTNAME", hostname);
    }
    if !env.has("HOME") {
        env.set("HOME", home);
    }
    Ok(env.0.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// `-w`, else the image's `WorkingDir` (made absolute), else `/`.
pub(super) fn working_dir(cfg: &CreateConfig, image: Option<&ImageConfigFile>) -> Result<String> {
    if let Some(w) = &cfg.workdir {
        if !w.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "the working directory {w:?} must be an absolute path"
            )));
        }
        return Ok(w.clone());
    }
    match image
        .and_then(|i| i.config.working_dir.as_deref())
        .filter(|w| !w.is_empty())
    {
        Some(w) if w.starts_with('/') => Ok(w.to_string()),
        Some(w) => Ok(format!("/{w}")),
        None => Ok("/".into()),
    }
}

fn rlimit_type(name: &str) -> Option<PosixRlimitType> {
    Some(match name {
        "as" => PosixRlimitType::RlimitAs,
        "core" => PosixRlimitType::RlimitCore,
        "cpu" => PosixRlimitType::RlimitCpu,
        "data" => PosixRlimitType::RlimitData,
        "fsize" => PosixRlimitType::RlimitFsize,
        "locks" => PosixRlimitType::RlimitLocks,
        "memlock" => PosixRlimitType::RlimitMemlock,
        "msgqueue" => PosixRlimitType::RlimitMsgqueue,
        "nice" => PosixRlimitType::RlimitNice,
        "nofile" => PosixRlimitType::RlimitNofile,
        "nproc" => PosixRlimitType::RlimitNproc,
        "rss" => PosixRlimitType::RlimitRss,
        "rtprio" => PosixRlimitType::RlimitRtprio,
        "rttime" => PosixRlimitType::RlimitRttime,
        "sigpending" => PosixRlimitType::RlimitSigpending,
        "stack" => PosixRlimitType::RlimitStack,
        _ => return None,
    })
}

fn rlimit(typ: PosixRlimitType, soft: u64, hard: u64) -> PosixRlimit {
    PosixRlimitBuilder::default()
        .typ(typ)
        .soft(soft)
        .hard(hard)
        .build()
        .expect("all rlimit fields set")
}

/// `--ulimit` values in order, then `nofile` and `nproc` unless given: Podman's 1048576 when the caller
/// may raise its limits (`CAP_SYS_RESOURCE`, not rootless), else the caller's own soft and hard limits
/// (never above 1048576). A `--ulimit` above the caller's hard limit is refused when the caller may not
/// raise it: the runtime's `setrlimit` would fail with EPERM at start.
pub(super) fn rlimits(cfg: &CreateConfig, host: &HostFacts) -> Result<Vec<PosixRlimit>> {
    let mut out = Vec::new();
    let caller = |name: &str| {
        host.rlimits
            .iter()
            .find(|u| u.name == name)
            .map(|u| (u.soft, u.hard))
    };
    for u in &cfg.ulimits {
        let typ = rlimit_type(&u.name)
            .ok_or_else(|| Error::InvalidInput(format!("unknown ulimit {:?}", u.name)))?;
        if !host.can_raise_rlimits {
            if let Some((_, hard)) = caller(&u.name).filter(|(_, hard)| u.hard > *hard) {
                return Err(Error::InvalidInput(format!(
                    "--ulimit {}={}:{} is above this process's hard limit {}, and raising it needs \
                     CAP_SYS_RESOURCE",
                    u.name, u.soft, u.hard, hard
                )));
            }
        }
        out.push(rlimit(typ, u.soft, u.hard));
    }
    for (name, typ) in [
        ("nofile", PosixRlimitType::RlimitNofile),
        ("nproc", PosixRlimitType::RlimitNproc),
    ] {
        if cfg.ulimits.iter().any(|u| u.name == name) {
            continue;
        }
        let (soft, hard) = if host.can_raise_rlimits {
            (PODMAN_RLIMIT_DEFAULT, PODMAN_RLIMIT_DEFAULT)
        } else {
            let (soft, hard) = caller(name).unwrap_or((PODMAN_RLIMIT_DEFAULT, PODMAN_RLIMIT_DEFAULT));
            (soft.min(PODMAN_RLIMIT_DEFAULT), hard.min(PODMAN_RLIMIT_DEFAULT))
        };
        out.push(rlimit(typ, soft, hard));
    }
    debug_assert!(ULIMIT_NAMES.iter().all(|(n, _)| rlimit_type(n).is_some()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::config::Ulimit;

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfigFile {
        let mut i = ImageConfigFile::default();
        i.config.entrypoint = entrypoint.map(|e| e.iter().map(|s| s.to_string()).collect());
        i.config.cmd = cmd.map(|e| e.iter().map(|s| s.to_string()).collect());
        i
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn entrypoint_and_command_rules() {
        let img = image(Some(&["/entry"]), Some(&["default", "args"]));
        let mut cfg = CreateConfig::default();
        assert_eq!(
            command(&cfg, Some(&img)).unwrap(),
            strings(&["/entry", "default", "args"])
        );
        cfg.command = strings(&["mine"]);
        assert_eq!(command(&cfg, Some(&img)).unwrap(), strings(&["/entry", "mine"]));
        // --entrypoint replaces the image's and drops its Cmd...
        cfg.command.clear();
        cfg.entrypoint = Some(strings(&["/bin/echo"]));
        assert_eq!(command(&cfg, Some(&img)).unwrap(), strings(&["/bin/echo"]));
        // ...unless a command is given.
        cfg.command = strings(&["hi"]);
        assert_eq!(command(&cfg, Some(&img)).unwrap(), strings(&["/bin/echo", "hi"]));
        // --entrypoint "" clears the entrypoint and keeps the image's Cmd.
        cfg.command.clear();
        cfg.entrypoint = Some(vec![]);
        assert_eq!(command(&cfg, Some(&img)).unwrap(), strings(&["default", "args"]));
        // An image entrypoint of [""] counts as none.
        let img2 = image(Some(&[""]), Some(&["/bin/sh"]));
        assert_eq!(
            command(&CreateConfig::default(), Some(&img2)).unwrap(),
            strings(&["/bin/sh"])
        );
        let err = command(&CreateConfig::default(), Some(&image(None, None))).unwrap_err();
        assert!(err.to_string().contains("no command or entrypoint"));
        assert!(command(&CreateConfig::default(), None).is_err());
    }

    #[test]
    fn environment_precedence() {
        let mut img = ImageConfigFile::default();
        img.config.env = Some(strings(&["PATH=/img/bin", "A=image", "B=image", "TERM=vt100"]));
        let caller: Vec<(String, String)> = [
            ("A", "caller"),
            ("C", "caller"),
            ("http_proxy", "http://p"),
            ("LC_ALL", "C"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let mut cfg = CreateConfig {
            env: strings(&["B=flag", "C", "D=", "MISSING", "B=later", "LC_*"]),
            ..Default::default()
        };
        let env = environment(&cfg, Some(&img), &caller, "abc", "/root").unwrap();
        assert_eq!(
            env,
            strings(&[
                "PATH=/img/bin",
                "container=podman",
                "A=image",
                "B=later",
                "TERM=vt100",
                "http_proxy=http://p",
                "C=caller",
                "D=",
                "LC_ALL=C",
                "HOSTNAME=abc",
                "HOME=/root",
            ])
        );
        cfg.env = strings(&["HOME=/h", "HOSTNAME=set"]);
        cfg.env_host = true;
        cfg.tty = true;
        let env = environment(&cfg, None, &caller, "abc", "/root").unwrap();
        assert_eq!(
            env,
            strings(&[
                &format!("PATH={DEFAULT_PATH}"),
                "TERM=xterm",
                "container=podman",
                "A=caller",
                "C=caller",
                "http_proxy=http://p",
                "LC_ALL=C",
                "HOME=/h",
                "HOSTNAME=set",
            ])
        );
        cfg.env = strings(&["=bad"]);
        assert!(environment(&cfg, None, &caller, "abc", "/root").is_err());
    }

    #[test]
    fn working_dirs() {
        let mut img = ImageConfigFile::default();
        assert_eq!(working_dir(&CreateConfig::default(), Some(&img)).unwrap(), "/");
        img.config.working_dir = Some("app".into());
        assert_eq!(working_dir(&CreateConfig::default(), Some(&img)).unwrap(), "/app");
        let cfg = CreateConfig {
            workdir: Some("/w".into()),
            ..Default::default()
        };
        assert_eq!(working_dir(&cfg, Some(&img)).unwrap(), "/w");
        let cfg = CreateConfig {
            workdir: Some("rel".into()),
            ..Default::default()
        };
        assert!(working_dir(&cfg, None).is_err());
    }

    fn host(can_raise: bool) -> HostFacts {
        HostFacts {
            rlimits: vec![
                Ulimit {
                    name: "nofile".into(),
                    soft: 1024,
                    hard: 20000,
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 96364,
                    hard: u64::MAX,
                },
            ],
            can_raise_rlimits: can_raise,
            ..HostFacts::for_tests()
        }
    }

    fn limits(v: &[PosixRlimit]) -> Vec<(PosixRlimitType, u64, u64)> {
        v.iter().map(|r| (r.typ(), r.soft(), r.hard())).collect()
    }

    #[test]
    fn default_rlimits_come_from_the_caller() {
        let cfg = CreateConfig::default();
        assert_eq!(
            limits(&rlimits(&cfg, &host(false)).unwrap()),
            vec![
                (PosixRlimitType::RlimitNofile, 1024, 20000),
                (PosixRlimitType::RlimitNproc, 96364, PODMAN_RLIMIT_DEFAULT)
            ]
        );
        assert_eq!(
            limits(&rlimits(&cfg, &host(true)).unwrap()),
            vec![
                (
                    PosixRlimitType::RlimitNofile,
                    PODMAN_RLIMIT_DEFAULT,
                    PODMAN_RLIMIT_DEFAULT
                ),
                (
                    PosixRlimitType::RlimitNproc,
                    PODMAN_RLIMIT_DEFAULT,
                    PODMAN_RLIMIT_DEFAULT
                )
            ]
        );
    }

    #[test]
    fn ulimits_replace_defaults_and_respect_the_hard_limit() {
        let ul = |n: &str, s, h| Ulimit {
            name: n.into(),
            soft: s,
            hard: h,
        };
        let cfg = CreateConfig {
            ulimits: vec![ul("core", 0, 0), ul("nofile", 100, 20000)],
            ..Default::default()
        };
        assert_eq!(
            limits(&rlimits(&cfg, &host(false)).unwrap()),
            vec![
                (PosixRlimitType::RlimitCore, 0, 0),
                (PosixRlimitType::RlimitNofile, 100, 20000),
                (PosixRlimitType::RlimitNproc, 96364, PODMAN_RLIMIT_DEFAULT)
            ]
        );
        let cfg = CreateConfig {
            ulimits: vec![ul("nofile", 100, 30000)],
            ..Default::default()
        };
        let err = rlimits(&cfg, &host(false)).unwrap_err().to_string();
        assert!(err.contains("above this process's hard limit 20000"), "{err}");
        assert_eq!(rlimits(&cfg, &host(true)).unwrap()[0].hard(), 30000);
    }
}
