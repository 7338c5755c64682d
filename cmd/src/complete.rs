//! Dynamic shell completion, as Podman's: the scripts `selkie completion SHELL` prints (and `completions/`
//! holds) are small shims from clap_complete's `CompleteEnv`. On TAB the shell runs
//! `SELKIE_COMPLETE=SHELL selkie -- WORDS...`; [`hook`] answers from the clap definitions (subcommands,
//! flags, possible values) and from the completers below, which commands attach to their arguments
//! (`#[arg(add = complete::containers(State::Running))]`).
//!
//! The completers read the store's records (`containers.json`, `images.json`, `volumes.json`, each
//! container's `state.json`) through pkg, without opening an engine: no lock, nothing written, no
//! configuration beyond `storage.conf`. The store is the one the command line being completed names
//! (`--root`, `--runroot`, `--storage-driver` typed before the cursor), else the one `storage.conf` names.
//! A completer never fails: a missing or unreadable store completes nothing.

use clap::builder::StyledStr;
use clap::{Command, CommandFactory};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{Bash, EnvCompleter, Fish, Powershell, Zsh};
use clap_complete::CompleteEnv;
use image_store::Store;
use pkg::config::storage::{self, Overrides};
use pkg::container::paths::ContainerPaths;
use pkg::container::state::{self, Status};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable that turns a run of the binary into a completion request.
pub const VAR: &str = "SELKIE_COMPLETE";
/// The same, for scripts generated with `--no-desc`: candidates come without descriptions.
pub const VAR_NO_DESC: &str = "SELKIE_COMPLETE_NODESC";

static NO_DESC: AtomicBool = AtomicBool::new(false);

/// Answers a completion request and exits, when the environment carries one; otherwise returns at once.
/// Must run before anything writes to stdout.
pub fn hook(argv0: &str) {
    let factory = || {
        crate::cli::Cli::command()
            .name(argv0.to_string())
            .bin_name(argv0.to_string())
    };
    CompleteEnv::with_factory(factory).var(VAR).bin(argv0).complete();
    if std::env::var_os(VAR_NO_DESC).is_some_and(|v| !v.is_empty() && v != "0") {
        NO_DESC.store(true, Ordering::Relaxed);
    }
    CompleteEnv::with_factory(|| without_help(factory()))
        .var(VAR_NO_DESC)
        .bin(argv0)
        .complete();
}

/// The shells `selkie completion` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// The registration script for `shell`: it makes the shell call `bin` back for candidates.
pub fn registration(shell: Shell, bin: &str, no_desc: bool) -> std::io::Result<Vec<u8>> {
    let var = if no_desc { VAR_NO_DESC } else { VAR };
    let mut buf = Vec::new();
    match shell {
        Shell::Bash => Bash.write_registration(var, bin, bin, bin, &mut buf)?,
        Shell::Fish => Fish.write_registration(var, bin, bin, bin, &mut buf)?,
        Shell::Powershell => Powershell.write_registration(var, bin, bin, bin, &mut buf)?,
        Shell::Zsh => {
            Zsh.write_registration(var, bin, bin, bin, &mut buf)?;
            // Installed in $fpath, the file is autoloaded as the function `_BIN` on the first TAB: make
            // that first call complete too, not only register the real completer.
            let name = bin.replace('-', "_");
            buf.extend_from_slice(
                format!(
                    "if [ \"${{funcstack[1]}}\" = \"_{name}\" ]; then\n    _clap_dynamic_completer_{name} \"$@\"\nfi\n"
                )
                .as_bytes(),
            );
        }
    }
    Ok(buf)
}

/// `cmd` with every about and help text removed, for `--no-desc`.
fn without_help(cmd: Command) -> Command {
    let mut cmd = cmd.about(None).long_about(None);
    let args: Vec<_> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
    for id in args {
        cmd = cmd.mut_arg(id, |a| a.help(None).long_help(None));
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, without_help);
    }
    cmd
}

fn candidate(value: impl Into<OsString>, help: impl Into<String>) -> CompletionCandidate {
    let c = CompletionCandidate::new(value);
    if NO_DESC.load(Ordering::Relaxed) {
        return c;
    }
    let help: String = help.into();
    c.help((!help.is_empty()).then(|| StyledStr::from(help)))
}

/// The words of the command line being completed (after `--`), without the program name.
fn words() -> Vec<String> {
    std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(2)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The store directory the command line being completed works on.
fn store_root() -> Option<PathBuf> {
    let words = words();
    let mut overrides = Overrides::default();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if w == "--" {
            break;
        }
        for (flag, slot) in [("--root", 0), ("--runroot", 1), ("--storage-driver", 2)] {
            let value = if w == flag {
                words.get(i + 1).cloned()
            } else {
                w.strip_prefix(flag)
                    .and_then(|r| r.strip_prefix('='))
                    .map(str::to_string)
            };
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                match slot {
                    0 => overrides.root = Some(v.into()),
                    1 => overrides.runroot = Some(v.into()),
                    _ => overrides.driver = Some(v),
                }
            }
        }
        i += 1;
    }
    let root = storage::resolve(&overrides).ok()?.graph_root;
    root.is_dir().then_some(root)
}

fn open_store() -> Option<Store> {
    Store::open(&store_root()?).ok()
}

/// Which containers a command can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Every container (`rm`, `logs`, `inspect`, ...).
    Any,
    /// Running ones (`stop`, `kill`, `exec`, `attach`, `pause`, `top`).
    Running,
    /// Paused ones (`unpause`).
    Paused,
    /// Created or exited ones (`start`).
    Startable,
}

impl State {
    fn admits(self, status: Status) -> bool {
        match self {
            State::Any => true,
            State::Running => status == Status::Running,
            State::Paused => status == Status::Paused,
            State::Startable => matches!(status, Status::Created | Status::Exited),
        }
    }
}

/// Names (and, once two characters are typed, short IDs) of the containers in `state` that start with
/// `current`, as Podman offers them.
fn container_candidates(want: State, current: &str) -> Vec<CompletionCandidate> {
    let Some(store) = open_store() else {
        return vec![];
    };
    let Ok(db) = pkg::container::store::read(&store) else {
        return vec![];
    };
    let mut out = vec![];
    for c in db.containers {
        let by_name = c.name.starts_with(current);
        let by_id = current.len() >= 2 && c.id.starts_with(current);
        if !by_name && !by_id {
            continue;
        }
        let status = state::read(&ContainerPaths::new(store.root(), &c.id).dir).status;
        if !want.admits(status) {
            continue;
        }
        let help = format!("{} ({})", c.image_name, status.as_str());
        if by_name {
            out.push(candidate(c.name.clone(), help.clone()));
        }
        if by_id {
            out.push(candidate(c.id[..12.min(c.id.len())].to_string(), help));
        }
    }
    out
}

/// Completes container names and IDs for arguments that take containers in state `want`.
pub fn containers(want: State) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| match current.to_str() {
        Some(cur) => container_candidates(want, cur),
        None => vec![],
    })
}

/// Image names that start with `current`: full names, and once something is typed, their shorter forms
/// (`busybox:latest`, `busybox`), and short IDs, as Podman offers them.
fn image_candidates(current: &str) -> Vec<CompletionCandidate> {
    let Some(db) = open_store().and_then(|s| s.images().ok()) else {
        return vec![];
    };
    let mut out: Vec<CompletionCandidate> = vec![];
    let mut seen = std::collections::BTreeSet::new();
    let mut push = |value: String, help: &str, out: &mut Vec<CompletionCandidate>| {
        if value.starts_with(current) && seen.insert(value.clone()) {
            out.push(candidate(value, help));
        }
    };
    for img in db.images {
        let short_id = img.id.hex()[..12.min(img.id.hex().len())].to_string();
        for name in &img.names {
            push(name.clone(), &short_id, &mut out);
            if current.is_empty() {
                continue;
            }
            let parts: Vec<&str> = name.split('/').collect();
            for i in 1..parts.len() {
                let tail = parts[i..].join("/");
                let untagged = tail.rsplit_once(':').map(|(n, _)| n.to_string());
                push(tail, &short_id, &mut out);
                if let Some(u) = untagged {
                    push(u, &short_id, &mut out);
                }
            }
        }
        if current.len() >= 2 {
            let first = img.names.first().cloned().unwrap_or_else(|| "<none>".into());
            push(short_id, &first, &mut out);
        }
    }
    out
}

/// Completes local image names and IDs.
pub fn images() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| match current.to_str() {
        Some(cur) => image_candidates(cur),
        None => vec![],
    })
}

/// Completes volume names.
pub fn volumes() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let Some(cur) = current.to_str() else {
            return vec![];
        };
        let Some(db) = open_store().and_then(|s| pkg::volume::store::read(&s).ok()) else {
            return vec![];
        };
        db.volumes
            .into_iter()
            .filter(|(name, _)| name.starts_with(cur))
            .map(|(name, v)| candidate(name, v.driver))
            .collect()
    })
}

/// Completes a fixed list of `(value, description)`.
pub fn values(list: &'static [(&'static str, &'static str)]) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| {
        let cur = current.to_string_lossy();
        list.iter()
            .filter(|(v, _)| v.starts_with(cur.as_ref()))
            .map(|(v, h)| candidate(*v, *h))
            .collect()
    })
}

/// `cp`'s `[CONTAINER:]PATH`: container names followed by `:`, and local paths.
pub fn container_or_local_paths() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let cur = current.to_string_lossy();
        if cur.contains(':') {
            return vec![];
        }
        let mut out: Vec<CompletionCandidate> = container_candidates(State::Any, &cur)
            .into_iter()
            .filter(|c| !is_short_id(c.get_value()))
            .map(|c| {
                let name = format!("{}:", c.get_value().to_string_lossy());
                candidate(name, "a path in this container")
            })
            .collect();
        out.extend(clap_complete::engine::ValueCompleter::complete(
            &clap_complete::engine::PathCompleter::any(),
            current,
        ));
        out
    })
}

/// Containers and images, for `inspect`.
pub fn objects() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| match current.to_str() {
        Some(cur) => {
            let mut out = container_candidates(State::Any, cur);
            out.extend(image_candidates(cur));
            out
        }
        None => vec![],
    })
}

/// `inspect --type`.
pub fn inspect_types() -> ArgValueCompleter {
    values(&[("container", ""), ("image", ""), ("volume", ""), ("all", "")])
}

/// `save --format`.
pub fn archive_formats() -> ArgValueCompleter {
    values(&[
        ("docker-archive", "a tar archive as docker save writes"),
        ("oci-archive", "an OCI image layout in a tar archive"),
    ])
}

/// `kill --signal`: the usual names.
pub fn signals() -> ArgValueCompleter {
    values(&[
        ("KILL", ""),
        ("TERM", ""),
        ("INT", ""),
        ("HUP", ""),
        ("QUIT", ""),
        ("USR1", ""),
        ("USR2", ""),
        ("STOP", ""),
        ("CONT", ""),
        ("WINCH", ""),
    ])
}

/// `wait --condition`.
pub fn wait_conditions() -> ArgValueCompleter {
    values(&[
        ("configured", ""),
        ("created", ""),
        ("exited", ""),
        ("healthy", ""),
        ("paused", ""),
        ("running", ""),
        ("stopped", ""),
        ("stopping", ""),
        ("unhealthy", ""),
    ])
}

/// `--pull`'s policies.
pub fn pull_policies() -> ArgValueCompleter {
    values(&[
        ("always", "always pull the image"),
        ("missing", "pull the image if it is not in local storage"),
        ("never", "never pull; use the local image"),
        ("newer", "pull if the registry's image is newer"),
    ])
}

/// Namespace modes (`--network`, `--pid`, `--ipc`, `--uts`): the keywords, and `container:NAME`.
fn namespace_modes(modes: &'static [(&'static str, &'static str)]) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| {
        let cur = current.to_string_lossy();
        if let Some(rest) = cur.strip_prefix("container:") {
            return container_candidates(State::Any, rest)
                .into_iter()
                .map(|c| c.add_prefix("container:"))
                .collect();
        }
        modes
            .iter()
            .filter(|(v, _)| v.starts_with(cur.as_ref()))
            .map(|(v, h)| candidate(*v, *h))
            .collect()
    })
}

/// `--network` modes.
pub fn networks() -> ArgValueCompleter {
    namespace_modes(&[
        ("bridge", "a network namespace with the default network"),
        ("none", "a network namespace with only a loopback device"),
        ("host", "the host's network namespace"),
        ("private", "a network namespace of its own"),
        ("slirp4netns", "user-mode networking with slirp4netns"),
        ("pasta", "user-mode networking with pasta"),
        ("container:", "the network namespace of another container"),
        ("ns:", "the network namespace at a path"),
    ])
}

/// Network names: the default network and those stored under `<graphroot>/networks`.
pub fn network_names() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let cur = current.to_string_lossy();
        let mut names = vec![pkg::network::DEFAULT_NETWORK.to_string()];
        if let Some(entries) = store_root().and_then(|r| std::fs::read_dir(r.join("networks")).ok()) {
            names.extend(entries.flatten().filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json").map(str::to_string)
            }));
        }
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| n.starts_with(cur.as_ref()))
            .map(|n| candidate(n, ""))
            .collect()
    })
}

/// `--pid`, `--ipc` and `--uts` modes.
pub fn namespaces() -> ArgValueCompleter {
    namespace_modes(&[
        ("host", "the host's namespace"),
        ("private", "a namespace of its own"),
        ("container:", "the namespace of another container"),
        ("ns:", "the namespace at a path"),
    ])
}

/// What a `--filter` completer offers for one key's values.
#[derive(Clone, Copy)]
enum FilterValues {
    None,
    Containers,
    ContainerIds,
    Images,
    Fixed(&'static [&'static str]),
}

/// `--filter KEY=VALUE`: the keys, then the values a key takes.
fn filters(keys: &'static [(&'static str, FilterValues)]) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| {
        let cur = current.to_string_lossy();
        let Some((key, value)) = cur.split_once('=') else {
            return keys
                .iter()
                .map(|(k, _)| format!("{k}="))
                .filter(|k| k.starts_with(cur.as_ref()))
                .map(|k| candidate(k, ""))
                .collect();
        };
        let Some((_, kind)) = keys.iter().find(|(k, _)| *k == key) else {
            return vec![];
        };
        let found = match kind {
            FilterValues::None => vec![],
            FilterValues::Containers => container_candidates(State::Any, value)
                .into_iter()
                .filter(|c| !is_short_id(c.get_value()))
                .collect(),
            FilterValues::ContainerIds => container_candidates(State::Any, value)
                .into_iter()
                .filter(|c| is_short_id(c.get_value()))
                .collect(),
            FilterValues::Images => image_candidates(value),
            FilterValues::Fixed(list) => list
                .iter()
                .filter(|v| v.starts_with(value))
                .map(|v| candidate(*v, ""))
                .collect(),
        };
        found
            .into_iter()
            .map(|c| c.add_prefix(format!("{key}=")))
            .collect()
    })
}

fn is_short_id(v: &OsStr) -> bool {
    v.len() == 12 && v.to_string_lossy().bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ps --filter`.
pub fn container_filters() -> ArgValueCompleter {
    filters(&[
        ("id", FilterValues::ContainerIds),
        ("name", FilterValues::Containers),
        (
            "status",
            FilterValues::Fixed(&["created", "running", "paused", "stopped", "exited", "unknown"]),
        ),
        ("ancestor", FilterValues::Images),
        ("label", FilterValues::None),
        ("exited", FilterValues::None),
    ])
}

/// `images --filter`.
pub fn image_filters() -> ArgValueCompleter {
    filters(&[
        ("reference", FilterValues::Images),
        ("dangling", FilterValues::Fixed(&["true", "false"])),
        ("label", FilterValues::None),
        ("id", FilterValues::None),
    ])
}

/// `volume ls --filter`.
pub fn volume_filters() -> ArgValueCompleter {
    filters(&[
        ("name", FilterValues::None),
        ("label", FilterValues::None),
        ("driver", FilterValues::Fixed(&["local"])),
        ("scope", FilterValues::Fixed(&["local"])),
        ("opt", FilterValues::None),
        ("dangling", FilterValues::Fixed(&["true", "false"])),
    ])
}

/// `--format`: `json`, `table`, and Go-template fields (`{{.Names}}`), also after text already typed.
fn format_fields(fields: &'static [&'static str]) -> ArgValueCompleter {
    ArgValueCompleter::new(move |current: &OsStr| {
        let cur = current.to_string_lossy();
        let mut out = vec![];
        for word in ["json", "table"] {
            if word.starts_with(cur.as_ref()) {
                out.push(candidate(word, ""));
            }
        }
        // Complete the last `{{` being typed, keeping what comes before it; or start a field after a
        // space, a closed field, a quote or `table`.
        let head = match cur.rfind("{{") {
            Some(i) if !cur[i..].contains("}}") => &cur[..i],
            _ if cur == "table" => "table ",
            _ if cur.is_empty() || cur.ends_with([' ', '\t', '\'', '"']) || cur.ends_with("}}") => {
                cur.as_ref()
            }
            _ => return out,
        };
        for f in fields {
            let value = format!("{head}{{{{.{f}}}}}");
            if value.starts_with(cur.as_ref()) {
                out.push(candidate(value, ""));
            }
        }
        out
    })
}

/// `ps --format` fields.
pub fn container_format() -> ArgValueCompleter {
    format_fields(&[
        "ID",
        "Image",
        "ImageID",
        "Command",
        "CreatedAt",
        "CreatedHuman",
        "RunningFor",
        "Status",
        "State",
        "Ports",
        "Names",
        "Labels",
        "Mounts",
        "Networks",
        "Pid",
        "ExitCode",
        "Exited",
        "ExitedAt",
        "StartedAt",
        "Size",
        "Pod",
        "PodName",
        "AutoRemove",
    ])
}

/// `images --format` fields.
pub fn image_format() -> ArgValueCompleter {
    format_fields(&[
        "ID",
        "Repository",
        "Tag",
        "Digest",
        "Created",
        "CreatedAt",
        "CreatedSince",
        "Size",
        "VirtualSize",
        "SharedSize",
        "Containers",
        "Names",
        "Labels",
        "RepoTags",
        "RepoDigests",
        "History",
        "Dangling",
        "ReadOnly",
    ])
}

/// `history --format` fields.
pub fn history_format() -> ArgValueCompleter {
    format_fields(&[
        "ID",
        "Created",
        "CreatedAt",
        "CreatedSince",
        "CreatedBy",
        "Size",
        "Comment",
        "Tags",
    ])
}

/// `volume ls --format` fields.
pub fn volume_format() -> ArgValueCompleter {
    format_fields(&[
        "Name",
        "Driver",
        "Mountpoint",
        "Scope",
        "Labels",
        "Options",
        "CreatedAt",
    ])
}

/// `inspect --format` top-level fields of a container or an image.
pub fn inspect_format() -> ArgValueCompleter {
    format_fields(&[
        "Id",
        "Name",
        "Created",
        "State",
        "Config",
        "Image",
        "ImageName",
        "HostConfig",
        "Mounts",
        "NetworkSettings",
        "RepoTags",
        "RepoDigests",
        "Size",
        "Labels",
        "Architecture",
        "Os",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values_of(c: &ArgValueCompleter, current: &str) -> Vec<String> {
        c.complete(OsStr::new(current))
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn format_completes_the_template_being_typed() {
        let c = container_format();
        assert!(values_of(&c, "").contains(&"json".to_string()));
        assert_eq!(values_of(&c, "{{.Na"), vec!["{{.Names}}"]);
        assert_eq!(values_of(&c, "{{.ID}} {{.Na"), vec!["{{.ID}} {{.Names}}"]);
    }

    #[test]
    fn filter_keys_then_fixed_values() {
        let c = container_filters();
        assert_eq!(values_of(&c, "sta"), vec!["status="]);
        assert_eq!(values_of(&c, "status=ru"), vec!["status=running"]);
        assert_eq!(
            values_of(&image_filters(), "dangling="),
            vec!["dangling=true", "dangling=false"]
        );
    }

    #[test]
    fn namespace_keywords() {
        assert_eq!(values_of(&networks(), "ho"), vec!["host"]);
        assert_eq!(values_of(&pull_policies(), "n"), vec!["never", "newer"]);
    }

    #[test]
    fn without_help_strips_every_text() {
        let cmd = without_help(crate::cli::Cli::command());
        assert!(cmd.get_about().is_none());
        let rm = cmd.find_subcommand("rm").expect("rm");
        assert!(rm.get_about().is_none());
        assert!(rm.get_arguments().all(|a| a.get_help().is_none()));
    }
}
