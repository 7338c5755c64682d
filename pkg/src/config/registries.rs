//! registries.conf (containers-registries.conf(5), version 2): unqualified-search registries, the
//! short-name mode and aliases, and the `[[registry]]` tables that block, mark insecure, remap or mirror
//! a namespace. Only pull, push and login read it; nothing on the `run` path may.
//!
//! Files, as containers/image reads them: `$HOME/.config/containers/registries.conf` when it exists
//! (then only the drop-ins of `$HOME/.config/containers/registries.conf.d`), else
//! `/etc/containers/registries.conf` with the drop-ins of `/etc/containers/registries.conf.d` and then
//! of `$HOME/.config/containers/registries.conf.d`. Drop-ins (`*.conf`, name order) replace the
//! settings they give; `[[registry]]` tables merge by prefix, aliases by name.
//!
//! One deliberate difference: with `$CONTAINERS_REGISTRIES_CONF` set, that file is read *alone*, so a
//! test or a user gets exactly the configuration it names (Podman still reads the drop-in directories).
//!
//! The machine-written aliases of `short-name-aliases.conf` (`/var/cache/containers/` for root,
//! `$XDG_CACHE_HOME/containers/` or `~/.cache/containers/` otherwise) are read too and win over
//! `[aliases]`, as in Podman. This module never writes any file.

use crate::error::{Error, Result};
use crate::reference::{Reference, DOCKER_HUB};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The parts of the process environment that locate registries.conf, auth.json and certs.d. Passed
/// explicitly so tests never touch the process environment (they run in parallel threads).
#[derive(Clone, Debug)]
pub struct Env {
    /// Effective uid: picks `/run/containers/<uid>/auth.json` and the alias cache of root.
    pub uid: u32,
    pub home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_cache_home: Option<PathBuf>,
    /// `$CONTAINERS_REGISTRIES_CONF`
    pub registries_conf: Option<PathBuf>,
    /// `$REGISTRY_AUTH_FILE`
    pub registry_auth_file: Option<PathBuf>,
    /// `$DOCKER_CONFIG` (a directory holding config.json)
    pub docker_config: Option<PathBuf>,
    /// Where the system paths (`/etc`, `/run`, `/var/cache`) live: `/` except in tests.
    pub system_root: PathBuf,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Env {
            uid: crate::rootless::host_euid(),
            home: var("HOME"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_cache_home: var("XDG_CACHE_HOME"),
            registries_conf: var("CONTAINERS_REGISTRIES_CONF"),
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            docker_config: var("DOCKER_CONFIG"),
            system_root: PathBuf::from("/"),
        }
    }

    /// An absolute system path (`/etc/...`) under `system_root`.
    pub fn system_path(&self, absolute: &str) -> PathBuf {
        self.system_root.join(absolute.trim_start_matches('/'))
    }

    /// `$HOME/<relative>`, when HOME is known.
    pub fn home_path(&self, relative: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(relative))
    }

    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn config_home(&self) -> Option<PathBuf> {
        self.xdg_config_home.clone().or_else(|| self.home_path(".config"))
    }

    fn cache_home(&self) -> Option<PathBuf> {
        self.xdg_cache_home.clone().or_else(|| self.home_path(".cache"))
    }
}

/// How a short name with several unqualified-search registries is resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShortNameMode {
    /// Prompt on a terminal, fail without one.
    Enforcing,
    /// Prompt on a terminal, try every registry without one. The default when no file sets a mode.
    #[default]
    Permissive,
    /// Try every registry, never prompt.
    Disabled,
}

impl ShortNameMode {
    fn parse(s: &str) -> Result<ShortNameMode> {
        match s {
            "enforcing" => Ok(ShortNameMode::Enforcing),
            "permissive" => Ok(ShortNameMode::Permissive),
            "disabled" => Ok(ShortNameMode::Disabled),
            _ => Err(Error::Config(format!("invalid short-name mode: {s:?}"))),
        }
    }
}

/// Which pulls a mirror serves (`pull-from-mirror`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PullFromMirror {
    #[default]
    All,
    DigestOnly,
    TagOnly,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    pub location: String,
    pub insecure: bool,
    pub pull_from_mirror: PullFromMirror,
}

/// One `[[registry]]` table after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port][/namespace...]`, or `*.example.com`.
    pub prefix: String,
    /// Where the prefix's namespace really lives; empty only for a wildcard prefix (no rewrite).
    pub location: String,
    pub insecure: bool,
    pub blocked: bool,
    pub mirror_by_digest_only: bool,
    pub mirrors: Vec<Mirror>,
}

/// A short-name alias and the file that set it. `value` is None when a later file erased it (`= ""`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub value: Option<Reference>,
    pub origin: PathBuf,
}

/// One place to pull an image from: a mirror or the primary location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` to contact.
    pub registry: String,
    /// Repository path on that registry (`library/busybox`).
    pub repository: String,
    /// Plain HTTP and unverified TLS are allowed.
    pub insecure: bool,
    /// A mirror rather than the primary location: credentials given on the command line for the
    /// image's own registry must not be sent to a mirror on another host.
    pub mirror: bool,
}

impl Endpoint {
    /// The physical reference: this endpoint's repository with the tag and digest of `logical`.
    pub fn reference(&self, logical: &Reference) -> Reference {
        Reference {
            domain: Some(self.registry.clone()),
            path: self.repository.clone(),
            tag: logical.tag.clone(),
            digest: logical.digest.clone(),
        }
    }
}

/// The endpoints to try, in order: mirrors first, the primary location last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullSources {
    pub endpoints: Vec<Endpoint>,
}

/// The merged configuration.
#[derive(Clone, Debug, Default)]
pub struct RegistriesConf {
    /// `host[:port]` entries tried, in order, for a short name.
    pub unqualified_search_registries: Vec<String>,
    /// The file that set `unqualified-search-registries` (None: no file was read).
    pub search_registries_origin: Option<PathBuf>,
    pub short_name_mode: ShortNameMode,
    /// One table per prefix, sorted by prefix.
    pub registries: Vec<Registry>,
    /// `[aliases]` of registries.conf and its drop-ins, by short name.
    pub aliases: BTreeMap<String, Alias>,
    /// Aliases of short-name-aliases.conf; they win over `aliases`.
    pub cached_aliases: BTreeMap<String, Alias>,
    /// The file and directory errors name, as Podman names them (`FILE or DIR`).
    pub sources: String,
}

pub fn load() -> Result<RegistriesConf> {
    load_with(&Env::from_process())
}

/// Where the configuration comes from.
struct Sources {
    file: PathBuf,
    /// Named by `$CONTAINERS_REGISTRIES_CONF`: it must exist.
    explicit: bool,
    dirs: Vec<PathBuf>,
}

fn sources(env: &Env) -> Sources {
    if let Some(file) = &env.registries_conf {
        return Sources {
            file: file.clone(),
            explicit: true,
            dirs: vec![],
        };
    }
    let user_file = env.home_path(".config/containers/registries.conf");
    let user_dir = env.home_path(".config/containers/registries.conf.d");
    if let Some(file) = user_file.filter(|f| f.exists()) {
        return Sources {
            file,
            explicit: false,
            dirs: user_dir.into_iter().collect(),
        };
    }
    let mut dirs = vec![env.system_path("/etc/containers/registries.conf.d")];
    dirs.extend(user_dir);
    Sources {
        file: env.system_path("/etc/containers/registries.conf"),
        explicit: false,
        dirs,
    }
}

/// Loads the configuration the environment `env` points at.
pub fn load_with(env: &Env) -> Result<RegistriesConf> {
    let src = sources(env);
    let mut conf = RegistriesConf {
        sources: match src.dirs.last() {
            Some(dir) => format!("{} or {}", src.file.display(), dir.display()),
            None => src.file.display().to_string(),
        },
        ..RegistriesConf::default()
    };
    match std::fs::read_to_string(&src.file) {
        Ok(text) => {
            let layer = parse_layer(&src.file, &text, false).map_err(|e| {
                Error::Config(format!("loading registries configuration {:?}: {e}", src.file))
            })?;
            conf.merge(layer);
            conf.search_registries_origin = Some(src.file.clone());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !src.explicit => {}
        Err(e) => {
            return Err(Error::Config(format!(
                "loading registries configuration {:?}: open {}: {}",
                src.file,
                src.file.display(),
                io_message(&e)
            )))
        }
    }
    for path in drop_ins(&src.dirs)? {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            // Removed between the listing and the read.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::Config(format!(
                    "loading drop-in registries configuration {path:?}: {e}"
                )))
            }
        };
        let layer = parse_layer(&path, &text, true)
            .map_err(|e| Error::Config(format!("loading drop-in registries configuration {path:?}: {e}")))?;
        conf.merge(layer);
    }
    if let Some(path) = short_name_aliases_file(env) {
        conf.cached_aliases = load_alias_cache(&path)?;
    }
    Ok(conf)
}

/// The machine-written alias file Podman records prompted choices in.
pub fn short_name_aliases_file(env: &Env) -> Option<PathBuf> {
    let dir = if env.uid == 0 {
        Some(env.system_path("/var/cache"))
    } else {
        env.cache_home()
    };
    dir.map(|d| d.join("containers/short-name-aliases.conf"))
}

fn load_alias_cache(path: &Path) -> Result<BTreeMap<String, Alias>> {
    let wrap = |e: String| Error::Config(format!("loading short-name aliases config file {path:?}: {e}"));
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(wrap(e.to_string())),
    };
    #[derive(Deserialize)]
    struct AliasFile {
        aliases: Option<BTreeMap<String, String>>,
    }
    let file: AliasFile = toml::from_str(&text).map_err(|e| wrap(e.message().to_string()))?;
    parse_aliases(path, file.aliases.unwrap_or_default()).map_err(wrap)
}

/// An I/O error as Go prints it in Podman's messages (`no such file or directory`).
pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The `*.conf` files of `dirs`, each directory in name order; sub-directories are skipped.
fn drop_ins(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut all = vec![];
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::Config(format!(
                    "reading registries.conf.d: {}: {e}",
                    dir.display()
                )))
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        all.extend(files);
    }
    Ok(all)
}

// ---- one file ----

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawFile {
    unqualified_search_registries: Option<Vec<String>>,
    short_name_mode: Option<String>,
    registry: Option<Vec<RawRegistry>>,
    aliases: Option<BTreeMap<String, String>>,
    credential_helpers: Option<Vec<String>>,
    /// Version 1: `[registries.search]`, `[registries.insecure]`, `[registries.block]`.
    registries: Option<RawV1>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRegistry {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    pull_from_mirror: Option<String>,
    #[serde(default)]
    mirror: Vec<RawMirror>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMirror {
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    pull_from_mirror: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1 {
    search: Option<RawV1List>,
    insecure: Option<RawV1List>,
    block: Option<RawV1List>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1List {
    registries: Option<Vec<String>>,
}

/// What one file says; None where it says nothing.
#[derive(Debug, Default)]
struct Layer {
    path: PathBuf,
    registries: Vec<Registry>,
    search: Option<Vec<String>>,
    mode: Option<ShortNameMode>,
    aliases: BTreeMap<String, Alias>,
}

fn parse_layer(path: &Path, text: &str, drop_in: bool) -> Result<Layer, String> {
    let mut raw: RawFile = toml::from_str(text).map_err(|e| e.message().trim_end().to_string())?;
    if let Some(v1) = raw.registries.take() {
        if drop_in {
            return Err("registry must be in v2 format but is in v1".into());
        }
        let v2_set = raw.unqualified_search_registries.is_some()
            || raw.short_name_mode.is_some()
            || raw.registry.is_some()
            || raw.aliases.is_some()
            || raw.credential_helpers.is_some();
        if v2_set {
            return Err("mixing sysregistry v1/v2 is not supported".into());
        }
        raw = v1.into_v2()?;
    }
    let mut layer = Layer {
        path: path.to_path_buf(),
        registries: post_process(raw.registry.unwrap_or_default())?,
        ..Layer::default()
    };
    if let Some(search) = raw.unqualified_search_registries {
        let mut clean = vec![];
        for entry in search {
            let host = parse_location(&entry)?;
            if !valid_host(&host) {
                return Err(format!("Invalid unqualified-search-registries entry {host:?}"));
            }
            clean.push(host);
        }
        layer.search = Some(clean);
    }
    if let Some(mode) = raw.short_name_mode.filter(|m| !m.is_empty()) {
        layer.mode = Some(ShortNameMode::parse(&mode).map_err(|e| e.to_string())?);
    }
    layer.aliases = parse_aliases(path, raw.aliases.unwrap_or_default())
        .map_err(|e| format!("validating short-name aliases: {e}"))?;
    Ok(layer)
}

impl RawV1 {
    fn into_v2(self) -> Result<RawFile, String> {
        let list = |l: Option<RawV1List>| l.and_then(|l| l.registries).unwrap_or_default();
        let mut tables: Vec<RawRegistry> = vec![];
        let mut table = |location: &str| -> Result<usize, String> {
            let location = parse_location(location)?;
            if let Some(i) = tables
                .iter()
                .position(|t| t.location.as_deref() == Some(location.as_str()))
            {
                return Ok(i);
            }
            tables.push(RawRegistry {
                prefix: Some(location.clone()),
                location: Some(location),
                ..RawRegistry::default()
            });
            Ok(tables.len() - 1)
        };
        let mut blocked = vec![];
        for location in list(self.block) {
            blocked.push(table(&location)?);
        }
        let mut insecure = vec![];
        for location in list(self.insecure) {
            insecure.push(table(&location)?);
        }
        for i in blocked {
            tables[i].blocked = true;
        }
        for i in insecure {
            tables[i].insecure = true;
        }
        Ok(RawFile {
            unqualified_search_registries: self.search.and_then(|s| s.registries),
            registry: Some(tables),
            ..RawFile::default()
        })
    }
}

/// Trims trailing slashes and refuses URL schemes.
fn parse_location(input: &str) -> Result<String, String> {
    let trimmed = input.trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err(format!(
            "invalid location '{input}': URI schemes are not supported"
        ));
    }
    Ok(trimmed.to_string())
}

fn parse_pull_from_mirror(value: &str, mirror: &str) -> Result<PullFromMirror, String> {
    match value {
        "" | "all" => Ok(PullFromMirror::All),
        "digest-only" => Ok(PullFromMirror::DigestOnly),
        "tag-only" => Ok(PullFromMirror::TagOnly),
        _ => Err(format!(
            "unsupported pull-from-mirror value {value:?} for mirror {mirror:?}"
        )),
    }
}

/// Validates the `[[registry]]` tables of one file: prefixes default to locations, wildcard prefixes
/// are `*.domain`, a location defined twice agrees on `insecure` and `blocked`, and a prefix given
/// twice keeps its first table.
fn post_process(raw: Vec<RawRegistry>) -> Result<Vec<Registry>, String> {
    let mut out: Vec<Registry> = vec![];
    for r in raw {
        let location = parse_location(r.location.as_deref().unwrap_or(""))?;
        let prefix = match r.prefix.as_deref().filter(|p| !p.is_empty()) {
            None if location.is_empty() => {
                return Err("invalid condition: both location and prefix are unset".into())
            }
            None => location.clone(),
            Some(p) => {
                let p = parse_location(p)?;
                if !p.starts_with("*.") && location.is_empty() {
                    return Err(
                        "invalid condition: location is unset and prefix is not in the format: *.example.com"
                            .into(),
                    );
                }
                p
            }
        };
        if prefix.starts_with("*.") && prefix.contains(['/', '@', ':']) {
            return Err(format!(
                "Wildcarded prefix should be in the format: *.example.com. Current prefix {prefix:?} is incorrectly formatted"
            ));
        }
        if r.pull_from_mirror.is_some_and(|p| !p.is_empty()) {
            return Err(format!(
                "pull-from-mirror must not be set for a non-mirror registry {prefix:?}"
            ));
        }
        let mut mirrors = vec![];
        for m in r.mirror {
            let location = parse_location(m.location.as_deref().unwrap_or(""))?;
            if location.is_empty() {
                return Err("invalid condition: mirror location is unset".into());
            }
            let pull = m.pull_from_mirror.unwrap_or_default();
            if r.mirror_by_digest_only && !pull.is_empty() {
                return Err(format!(
                    "cannot set mirror usage mirror-by-digest-only for the registry ({prefix:?}) and pull-from-mirror for per-mirror ({location:?}) at the same time"
                ));
            }
            mirrors.push(Mirror {
                pull_from_mirror: parse_pull_from_mirror(&pull, &location)?,
                location,
                insecure: m.insecure,
            });
        }
        out.push(Registry {
            prefix,
            location,
            insecure: r.insecure,
            blocked: r.blocked,
            mirror_by_digest_only: r.mirror_by_digest_only,
            mirrors,
        });
    }
    let key = |r: &Registry| {
        if r.location.is_empty() {
            r.prefix.clone()
        } else {
            r.location.clone()
        }
    };
    for (i, a) in out.iter().enumerate() {
        for b in out[..i].iter().filter(|b| key(b) == key(a)) {
            for (what, differs) in [
                ("insecure", a.insecure != b.insecure),
                ("blocked", a.blocked != b.blocked),
            ] {
                if differs {
                    return Err(format!(
                        "registry '{}' is defined multiple times with conflicting '{what}' setting",
                        a.location
                    ));
                }
            }
        }
    }
    let mut unique: BTreeMap<String, Registry> = BTreeMap::new();
    for r in out {
        unique.entry(r.prefix.clone()).or_insert(r);
    }
    Ok(unique.into_values().collect())
}

/// `host[:port]` as the distribution grammar has it: dot-separated labels of letters, digits and inner
/// dashes, or a bracketed IPv6 address, and an optional numeric port.
fn valid_host(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (s, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Validates `[aliases]`: names are short names, values are fully qualified, neither has a tag or
/// digest, and `""` erases an alias set by an earlier file. Every bad entry is reported.
fn parse_aliases(path: &Path, raw: BTreeMap<String, String>) -> Result<BTreeMap<String, Alias>, String> {
    let mut out = BTreeMap::new();
    let mut errors = vec![];
    for (name, value) in raw {
        if let Err(e) = validate_alias_name(&name) {
            errors.push(e);
        }
        if value.is_empty() {
            out.insert(
                name,
                Alias {
                    value: None,
                    origin: path.to_path_buf(),
                },
            );
            continue;
        }
        match parse_alias_value(&value) {
            Ok(r) => {
                out.insert(
                    name,
                    Alias {
                        value: Some(r),
                        origin: path.to_path_buf(),
                    },
                );
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

fn validate_alias_name(name: &str) -> Result<(), String> {
    let r = Reference::parse(name).map_err(|e| format!("cannot parse short name: {name:?}: {e}"))?;
    if r.digest.is_some() {
        return Err(format!("invalid short name {name:?}: must not contain digest"));
    }
    if r.tag.is_some() {
        return Err(format!("invalid short name {name:?}: must not contain tag"));
    }
    if !r.is_short() {
        return Err(format!("invalid short name {name:?}: must not contain registry"));
    }
    Ok(())
}

/// An alias value, normalised as Podman normalises it (`docker.io/alpine` → `docker.io/library/alpine`).
fn parse_alias_value(value: &str) -> Result<Reference, String> {
    let r = Reference::parse(value).map_err(|e| format!("parsing alias {value:?}: {e}"))?;
    if r.digest.is_some() {
        return Err(format!("invalid alias {value:?}: must not contain digest"));
    }
    if r.tag.is_some() {
        return Err(format!("invalid alias {value:?}: must not contain tag"));
    }
    if r.is_short() {
        return Err(format!(
            "invalid alias {value:?}: must contain registry and repository"
        ));
    }
    let mut r = r.normalized();
    r.tag = None;
    Ok(r)
}

// ---- merging and lookup ----

impl RegistriesConf {
    /// Applies a later file: its settings replace earlier ones, tables merge by prefix, aliases by name.
    fn merge(&mut self, layer: Layer) {
        let mut by_prefix: BTreeMap<String, Registry> = std::mem::take(&mut self.registries)
            .into_iter()
            .map(|r| (r.prefix.clone(), r))
            .collect();
        for r in layer.registries {
            by_prefix.insert(r.prefix.clone(), r);
        }
        self.registries = by_prefix.into_values().collect();
        if let Some(search) = layer.search {
            self.unqualified_search_registries = search;
            self.search_registries_origin = Some(layer.path);
        }
        if let Some(mode) = layer.mode {
            self.short_name_mode = mode;
        }
        self.aliases.extend(layer.aliases);
    }

    /// The `[[registry]]` table with the longest prefix matching `name` (`host[:port][/path]`).
    pub fn find_registry(&self, name: &str) -> Option<&Registry> {
        let mut best: Option<&Registry> = None;
        for r in &self.registries {
            if match_prefix(name, &r.prefix).is_some() && best.is_none_or(|b| r.prefix.len() > b.prefix.len())
            {
                best = Some(r);
            }
        }
        best
    }

    /// Where to pull `reference` from: its matching table's mirrors that serve this kind of reference
    /// (by tag or by digest), then its location. A short name is taken as Docker Hub's; resolve short
    /// names with `registry::shortnames` first.
    pub fn lookup(&self, reference: &Reference) -> Result<PullSources> {
        let logical = reference.normalized();
        let name = logical.repository();
        let Some(reg) = self.find_registry(&name) else {
            return Ok(PullSources {
                endpoints: vec![Endpoint {
                    registry: logical.registry().to_string(),
                    repository: logical.path.clone(),
                    insecure: false,
                    mirror: false,
                }],
            });
        };
        if reg.blocked {
            return Err(Error::Config(format!(
                "initializing source docker://{logical}: registry {} is blocked in {}",
                reg.prefix, self.sources
            )));
        }
        let digested = logical.digest.is_some();
        let mirrors = reg.mirrors.iter().filter(|m| {
            if reg.mirror_by_digest_only {
                return digested;
            }
            match m.pull_from_mirror {
                PullFromMirror::All => true,
                PullFromMirror::DigestOnly => digested,
                PullFromMirror::TagOnly => !digested,
            }
        });
        let mut endpoints = vec![];
        for m in mirrors {
            endpoints.push(rewrite(&name, reg, &m.location, m.insecure, true)?);
        }
        endpoints.push(rewrite(&name, reg, &reg.location, reg.insecure, false)?);
        Ok(PullSources { endpoints })
    }

    /// For push and login, which use neither mirrors nor remapping: the endpoint of `name`
    /// (`host[:port][/path]`) with the `insecure` of its matching table; an error when it is blocked.
    pub fn direct_endpoint(&self, name: &str) -> Result<Endpoint> {
        let (registry, repository) = name.split_once('/').unwrap_or((name, ""));
        let reg = self.find_registry(name);
        if let Some(r) = reg.filter(|r| r.blocked) {
            return Err(Error::Config(format!(
                "registry {} is blocked in {}",
                r.prefix, self.sources
            )));
        }
        Ok(Endpoint {
            registry: registry.to_string(),
            repository: repository.to_string(),
            insecure: reg.is_some_and(|r| r.insecure),
            mirror: false,
        })
    }
}

/// The length of `name` that `prefix` matches: the whole prefix followed by the end or a separator
/// (`/`, `:`, `@`, as containers/image allows), or for `*.domain` any subdomain of the first component.
fn match_prefix(name: &str, prefix: &str) -> Option<usize> {
    if let Some(domain) = prefix.strip_prefix('*') {
        let at = name.find(domain)?;
        if name[..at].contains('/') {
            return None;
        }
        let end = at + domain.len();
        return matches!(name.as_bytes().get(end), None | Some(b':' | b'/' | b'@')).then_some(end);
    }
    let rest = name.strip_prefix(prefix)?;
    matches!(rest.as_bytes().first(), None | Some(b':' | b'/' | b'@')).then_some(prefix.len())
}

/// `name` with the matched prefix replaced by `location` (unchanged for an empty location).
fn rewrite(name: &str, reg: &Registry, location: &str, insecure: bool, mirror: bool) -> Result<Endpoint> {
    let matched = match_prefix(name, &reg.prefix)
        .ok_or_else(|| Error::Config(format!("invalid prefix '{}' for reference '{name}'", reg.prefix)))?;
    let physical = if location.is_empty() {
        name.to_string()
    } else {
        format!("{location}{}", &name[matched..])
    };
    let parsed = Reference::parse(&physical)
        .ok()
        .filter(|r| !r.is_short() && r.tag.is_none() && r.digest.is_none())
        .ok_or_else(|| {
            Error::Config(format!(
                "rewriting reference: invalid reference format: {physical:?}"
            ))
        })?;
    let mut repository = parsed.path;
    if parsed.domain.as_deref() == Some(DOCKER_HUB) && !repository.contains('/') {
        repository = format!("library/{repository}");
    }
    Ok(Endpoint {
        registry: parsed.domain.unwrap_or_default(),
        repository,
        insecure,
        mirror,
    })
}

impl fmt::Display for ShortNameMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShortNameMode::Enforcing => "enforcing",
            ShortNameMode::Permissive => "permissive",
            ShortNameMode::Disabled => "disabled",
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;

    /// An environment rooted in `root`: system files under it, HOME at `root/home`.
    pub(crate) fn test_env(root: &Path) -> Env {
        Env {
            uid: 1000,
            home: Some(root.join("home")),
            xdg_runtime_dir: None,
            xdg_config_home: None,
            xdg_cache_home: None,
            registries_conf: None,
            registry_auth_file: None,
            docker_config: None,
            system_root: root.to_path_buf(),
        }
    }

    pub(crate) fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Loads `text` as the only configuration file.
    pub(crate) fn conf_of(text: &str) -> Result<RegistriesConf> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("registries.conf");
        write(&file, text);
        let mut env = test_env(dir.path());
        env.registries_conf = Some(file);
        load_with(&env)
    }

    fn reference(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    /// `registry/repository` of each endpoint, `!` marking insecure ones.
    fn endpoints(conf: &RegistriesConf, image: &str) -> Vec<String> {
        let sources = conf.lookup(&reference(image)).unwrap();
        sources
            .endpoints
            .iter()
            .map(|e| {
                format!(
                    "{}/{}{}",
                    e.registry,
                    e.repository,
                    if e.insecure { "!" } else { "" }
                )
            })
            .collect()
    }

    const MAN_PAGE_EXAMPLE: &str = r#"
unqualified-search-registries = ["example.com"]

[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar"

[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"

[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true

[[registry]]
location = "registry.com"

[[registry.mirror]]
location = "mirror.registry.com"
"#;

    #[test]
    fn the_man_page_example_tries_mirrors_then_the_remapped_location() {
        let conf = conf_of(MAN_PAGE_EXAMPLE).unwrap();
        assert_eq!(conf.unqualified_search_registries, ["example.com"]);
        assert_eq!(conf.short_name_mode, ShortNameMode::Permissive);
        assert_eq!(
            endpoints(&conf, "example.com/foo/image:latest"),
            [
                "example-mirror-0.local/mirror-for-foo/image",
                "example-mirror-1.local/mirrors/foo/image!",
                "internal-registry-for-example.com/bar/image",
            ]
        );
        // A mirror belongs to its own table only.
        assert_eq!(
            endpoints(&conf, "registry.com/image"),
            ["mirror.registry.com/image", "registry.com/image"]
        );
        let sources = conf.lookup(&reference("registry.com/image:1")).unwrap();
        assert!(sources.endpoints[0].mirror && !sources.endpoints[1].mirror);
        assert_eq!(
            sources.endpoints[0]
                .reference(&reference("registry.com/image:1"))
                .to_string(),
            "mirror.registry.com/image:1"
        );
    }

    #[test]
    fn an_unmatched_reference_is_its_own_single_endpoint() {
        let conf = conf_of(MAN_PAGE_EXAMPLE).unwrap();
        assert_eq!(endpoints(&conf, "quay.io/a/b"), ["quay.io/a/b"]);
        assert_eq!(endpoints(&conf, "busybox"), ["docker.io/library/busybox"]);
        // A prefix matches whole components only.
        assert_eq!(endpoints(&conf, "example.com/foobar/x"), ["example.com/foobar/x"]);
    }

    #[test]
    fn the_longest_prefix_wins_and_docker_hub_paths_carry_library() {
        let conf = conf_of(
            r#"
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "hub-mirror.local"

[[registry]]
prefix = "docker.io/library/busybox"
location = "local.test:5000/bb"
insecure = true
"#,
        )
        .unwrap();
        assert_eq!(endpoints(&conf, "busybox:1"), ["local.test:5000/bb!"]);
        assert_eq!(
            endpoints(&conf, "alpine"),
            ["hub-mirror.local/library/alpine", "docker.io/library/alpine"]
        );
        assert_eq!(
            conf.find_registry("docker.io/library/busybox").unwrap().location,
            "local.test:5000/bb"
        );
    }

    #[test]
    fn a_bare_host_prefix_also_matches_the_host_with_a_port_as_in_podman() {
        let conf = conf_of("[[registry]]\nlocation = \"localhost\"\ninsecure = true\n").unwrap();
        assert_eq!(endpoints(&conf, "localhost:5000/x"), ["localhost:5000/x!"]);
    }

    #[test]
    fn wildcard_prefixes_match_subdomains_only() {
        let conf = conf_of(
            r#"
[[registry]]
prefix = "*.example.com"
insecure = true

[[registry]]
prefix = "*.mirrored.org"
location = "cache.local/mirrored"
"#,
        )
        .unwrap();
        assert_eq!(
            endpoints(&conf, "a.b.example.com/x/y:1"),
            ["a.b.example.com/x/y!"]
        );
        assert_eq!(
            endpoints(&conf, "a.example.com:5000/x"),
            ["a.example.com:5000/x!"]
        );
        assert_eq!(endpoints(&conf, "example.com/x"), ["example.com/x"]);
        assert_eq!(endpoints(&conf, "q.mirrored.org/x"), ["cache.local/mirrored/x"]);
        let err = conf_of("[[registry]]\nprefix = \"*.example.com/foo\"\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("Wildcarded prefix should be in the format: *.example.com."),
            "{err}"
        );
    }

    #[test]
    fn mirrors_serve_tags_or_digests_as_configured() {
        let conf = conf_of(
            r#"
[[registry]]
location = "r.test"
[[registry.mirror]]
location = "by-digest.test"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "by-tag.test"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.test"

[[registry]]
location = "d.test"
mirror-by-digest-only = true
[[registry.mirror]]
location = "dm.test"
"#,
        )
        .unwrap();
        let digest = format!("@sha256:{}", "a".repeat(64));
        assert_eq!(
            endpoints(&conf, "r.test/x:1"),
            ["by-tag.test/x", "all.test/x", "r.test/x"]
        );
        assert_eq!(
            endpoints(&conf, &format!("r.test/x{digest}")),
            ["by-digest.test/x", "all.test/x", "r.test/x"]
        );
        assert_eq!(endpoints(&conf, "d.test/x"), ["d.test/x"]);
        assert_eq!(
            endpoints(&conf, &format!("d.test/x{digest}")),
            ["dm.test/x", "d.test/x"]
        );
    }

    #[test]
    fn a_blocked_registry_is_refused_with_podmans_message() {
        let conf = conf_of("[[registry]]\nlocation = \"127.0.0.1:1\"\nblocked = true\n").unwrap();
        let err = conf
            .lookup(&reference("127.0.0.1:1/foo"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "initializing source docker://127.0.0.1:1/foo:latest: registry 127.0.0.1:1 is blocked in /"
            ),
            "{err}"
        );
        assert!(err.ends_with("/registries.conf"), "{err}");
        assert!(conf
            .direct_endpoint("127.0.0.1:1/foo")
            .unwrap_err()
            .to_string()
            .contains("is blocked in"));
        assert!(conf.direct_endpoint("127.0.0.1:2").is_ok());
    }

    #[test]
    fn direct_endpoints_never_rewrite() {
        let conf = conf_of(MAN_PAGE_EXAMPLE).unwrap();
        let e = conf.direct_endpoint("example.com/foo/image").unwrap();
        assert_eq!(
            (e.registry.as_str(), e.repository.as_str(), e.insecure),
            ("example.com", "foo/image", false)
        );
        let conf = conf_of("[[registry]]\nlocation = \"insecure.test\"\ninsecure = true\n").unwrap();
        assert!(conf.direct_endpoint("insecure.test").unwrap().insecure);
    }

    #[test]
    fn invalid_tables_are_refused_with_containers_image_messages() {
        let cases = [
            ("[[registry]]\nlocation = \"https://x.test\"\n", "invalid location 'https://x.test': URI schemes are not supported"),
            ("[[registry]]\ninsecure = true\n", "invalid condition: both location and prefix are unset"),
            ("[[registry]]\nprefix = \"x.test\"\n", "invalid condition: location is unset and prefix is not in the format"),
            ("[[registry]]\nlocation = \"x.test\"\n[[registry.mirror]]\ninsecure = true\n", "invalid condition: mirror location is unset"),
            (
                "[[registry]]\nlocation = \"x.test\"\n[[registry.mirror]]\nlocation = \"m.test\"\npull-from-mirror = \"sometimes\"\n",
                "unsupported pull-from-mirror value \"sometimes\" for mirror \"m.test\"",
            ),
            (
                "[[registry]]\nlocation = \"x.test\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.test\"\npull-from-mirror = \"all\"\n",
                "cannot set mirror usage mirror-by-digest-only",
            ),
            ("[[registry]]\nlocation = \"x.test\"\npull-from-mirror = \"all\"\n", "pull-from-mirror must not be set for a non-mirror registry \"x.test\""),
            (
                "[[registry]]\nlocation = \"x.test\"\n[[registry]]\nprefix = \"y.test\"\nlocation = \"x.test\"\ninsecure = true\n",
                "registry 'x.test' is defined multiple times with conflicting 'insecure' setting",
            ),
            ("short-name-mode = \"sometimes\"\n", "invalid short-name mode: \"sometimes\""),
            ("unqualified-search-registries = [\"bad host\"]\n", "Invalid unqualified-search-registries entry \"bad host\""),
            ("[aliases]\n\"x.test/y\" = \"quay.io/y\"\n", "invalid short name \"x.test/y\": must not contain registry"),
            ("[aliases]\n\"y\" = \"quay.io/y:1\"\n", "invalid alias \"quay.io/y:1\": must not contain tag"),
            ("[aliases]\n\"y\" = \"y\"\n", "invalid alias \"y\": must contain registry and repository"),
        ];
        for (text, want) in cases {
            let err = conf_of(text).unwrap_err().to_string();
            assert!(err.starts_with("loading registries configuration \""), "{err}");
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn search_entries_lose_trailing_slashes_and_aliases_normalise() {
        let conf = conf_of(
            "unqualified-search-registries = [\"quay.io/\", \"docker.io\", \"[::1]:5000\"]\n[aliases]\n\"alpine\" = \"docker.io/alpine\"\n",
        )
        .unwrap();
        assert_eq!(
            conf.unqualified_search_registries,
            ["quay.io", "docker.io", "[::1]:5000"]
        );
        assert_eq!(
            conf.aliases["alpine"].value.as_ref().unwrap().to_string(),
            "docker.io/library/alpine"
        );
    }

    #[test]
    fn version_1_files_are_converted() {
        let conf = conf_of(
            "[registries.search]\nregistries = ['r1.test', 'r2.test']\n[registries.insecure]\nregistries = ['r3.test']\n[registries.block]\nregistries = ['bad.test']\n",
        )
        .unwrap();
        assert_eq!(conf.unqualified_search_registries, ["r1.test", "r2.test"]);
        assert_eq!(endpoints(&conf, "r3.test/x"), ["r3.test/x!"]);
        assert!(conf.lookup(&reference("bad.test/x")).is_err());
        let err =
            conf_of("unqualified-search-registries = []\n[registries.search]\nregistries = ['r1.test']\n")
                .unwrap_err();
        assert!(
            err.to_string()
                .contains("mixing sysregistry v1/v2 is not supported"),
            "{err}"
        );
    }

    #[test]
    fn drop_ins_override_settings_and_merge_tables_and_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        let etc = dir.path().join("etc/containers");
        write(
            &etc.join("registries.conf"),
            "unqualified-search-registries = [\"a.test\"]\nshort-name-mode = \"enforcing\"\n[[registry]]\nlocation = \"x.test\"\n[[registry]]\nlocation = \"y.test\"\n[aliases]\n\"one\" = \"a.test/one\"\n\"two\" = \"a.test/two\"\n",
        );
        write(
            &etc.join("registries.conf.d/10-first.conf"),
            "unqualified-search-registries = [\"b.test\", \"c.test\"]\n[[registry]]\nlocation = \"x.test\"\ninsecure = true\n[aliases]\n\"two\" = \"\"\n",
        );
        write(
            &etc.join("registries.conf.d/20-ignored.txt"),
            "this is not toml [",
        );
        fs::create_dir_all(etc.join("registries.conf.d/30-dir.conf")).unwrap();
        write(
            &dir.path()
                .join("home/.config/containers/registries.conf.d/00-user.conf"),
            "short-name-mode = \"disabled\"\n[aliases]\n\"three\" = \"c.test/three\"\n",
        );
        let conf = load_with(&env).unwrap();
        assert_eq!(conf.unqualified_search_registries, ["b.test", "c.test"]);
        assert_eq!(
            conf.search_registries_origin.as_deref(),
            Some(&*etc.join("registries.conf.d/10-first.conf"))
        );
        assert_eq!(conf.short_name_mode, ShortNameMode::Disabled);
        assert_eq!(endpoints(&conf, "x.test/i"), ["x.test/i!"]);
        assert_eq!(conf.registries.len(), 2);
        assert!(conf.aliases["one"].value.is_some());
        assert_eq!(conf.aliases["two"].value, None);
        assert_eq!(
            conf.aliases["three"].origin,
            dir.path()
                .join("home/.config/containers/registries.conf.d/00-user.conf")
        );
        assert!(
            conf.sources
                .ends_with("home/.config/containers/registries.conf.d"),
            "{}",
            conf.sources
        );

        write(
            &etc.join("registries.conf.d/40-v1.conf"),
            "[registries.search]\nregistries = ['r1.test']\n",
        );
        let err = load_with(&env).unwrap_err().to_string();
        assert!(
            err.starts_with("loading drop-in registries configuration"),
            "{err}"
        );
        assert!(
            err.contains("registry must be in v2 format but is in v1"),
            "{err}"
        );
    }

    #[test]
    fn a_user_file_replaces_the_system_file_and_its_drop_ins() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        write(
            &dir.path().join("etc/containers/registries.conf"),
            "unqualified-search-registries = [\"sys.test\"]\n",
        );
        write(
            &dir.path().join("etc/containers/registries.conf.d/a.conf"),
            "short-name-mode = \"disabled\"\n",
        );
        let user = dir.path().join("home/.config/containers/registries.conf");
        write(&user, "unqualified-search-registries = [\"user.test\"]\n");
        let conf = load_with(&env).unwrap();
        assert_eq!(conf.unqualified_search_registries, ["user.test"]);
        assert_eq!(conf.short_name_mode, ShortNameMode::Permissive);
        assert_eq!(conf.search_registries_origin, Some(user));
    }

    #[test]
    fn the_named_file_is_read_alone_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = test_env(dir.path());
        write(
            &dir.path().join("etc/containers/registries.conf.d/a.conf"),
            "short-name-mode = \"disabled\"\n",
        );
        let named = dir.path().join("named.conf");
        write(&named, "");
        env.registries_conf = Some(named.clone());
        let conf = load_with(&env).unwrap();
        assert_eq!(conf.short_name_mode, ShortNameMode::Permissive);
        assert_eq!(conf.search_registries_origin, Some(named.clone()));
        assert_eq!(conf.sources, named.display().to_string());

        let missing = dir.path().join("missing.conf");
        env.registries_conf = Some(missing.clone());
        let err = load_with(&env).unwrap_err().to_string();
        let m = missing.display();
        assert_eq!(
            err,
            format!("loading registries configuration \"{m}\": open {m}: no such file or directory")
        );
    }

    #[test]
    fn no_file_at_all_is_an_empty_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let conf = load_with(&test_env(dir.path())).unwrap();
        assert!(conf.unqualified_search_registries.is_empty() && conf.registries.is_empty());
        assert_eq!(conf.search_registries_origin, None);
    }

    #[test]
    fn the_alias_cache_is_read_from_the_users_cache_or_var_cache_for_root() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = test_env(dir.path());
        write(
            &dir.path().join("home/.cache/containers/short-name-aliases.conf"),
            "[aliases]\n\"x\" = \"u.test/x\"\n",
        );
        write(
            &dir.path().join("var/cache/containers/short-name-aliases.conf"),
            "[aliases]\n\"x\" = \"r.test/x\"\n",
        );
        let value = |env: &Env| {
            load_with(env).unwrap().cached_aliases["x"]
                .value
                .clone()
                .unwrap()
                .to_string()
        };
        assert_eq!(value(&env), "u.test/x");
        env.uid = 0;
        assert_eq!(value(&env), "r.test/x");
    }
}
