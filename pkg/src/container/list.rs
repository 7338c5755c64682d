//! `ps`: containers with their run state, filtered and sorted, as rows for Podman's table, templates and JSON.

use super::lifecycle::status_text;
use super::paths::ContainerPaths;
use super::state::{self, ContainerState, Status};
use super::store::{self, ContainerRecord};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::units::{human_duration, human_size};
use serde_json::{json, Value};

#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    pub all: bool,
    pub filters: Vec<String>,
    pub last: Option<usize>,
    pub sort: String,
    pub size: bool,
}

pub struct ContainerRow {
    pub record: ContainerRecord,
    pub state: ContainerState,
    /// Bytes written by the container (its upper layer), with `--size`.
    pub size: Option<u64>,
}

/// How many containers there are, and in which state, for `info`.
pub fn counts(engine: &Engine) -> Result<crate::system::ContainerCounts> {
    let mut c = crate::system::ContainerCounts::default();
    for record in store::read(&engine.store)?.containers {
        c.total += 1;
        match state::read(&ContainerPaths::new(engine.store.root(), &record.id).dir).status {
            Status::Running | Status::Stopping => c.running += 1,
            Status::Paused => c.paused += 1,
            Status::Created | Status::Exited => c.stopped += 1,
        }
    }
    Ok(c)
}

pub fn list(engine: &Engine, opts: &ListOptions) -> Result<Vec<ContainerRow>> {
    let filters = opts
        .filters
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<Vec<_>>>()?;
    let db = store::read(&engine.store)?;
    let images = if filters.iter().any(|f| matches!(f, Filter::Ancestor(_))) {
        Some(engine.store.images()?)
    } else {
        None
    };
    let mut rows = vec![];
    for record in db.containers {
        let paths = ContainerPaths::new(engine.store.root(), &record.id);
        let st = state::read(&paths.dir);
        // Without -a only running containers, as Podman: a paused one is listed by `ps -a`.
        let running = st.is_running() && st.status != Status::Paused;
        let shown = opts.all || opts.last.is_some() || !filters.is_empty() || running;
        if !shown || !filters.iter().all(|f| f.matches(&record, &st, images.as_ref())) {
            continue;
        }
        let size = opts.size.then(|| dir_size(&paths.upper()));
        rows.push(ContainerRow {
            record,
            state: st,
            size,
        });
    }
    sort(&mut rows, &opts.sort)?;
    if let Some(n) = opts.last {
        rows.truncate(n);
    }
    Ok(rows)
}

fn sort(rows: &mut [ContainerRow], key: &str) -> Result<()> {
    match key {
        "created" | "runningfor" => rows.sort_by_key(|r| std::cmp::Reverse(r.record.created)),
        "id" => rows.sort_by(|a, b| a.record.id.cmp(&b.record.id)),
        "names" => rows.sort_by(|a, b| a.record.name.cmp(&b.record.name)),
        "image" => rows.sort_by(|a, b| a.record.image_name.cmp(&b.record.image_name)),
        "command" => rows.sort_by(|a, b| a.record.command.cmp(&b.record.command)),
        "status" => rows.sort_by_key(|r| r.state.status.as_str()),
        "size" => rows.sort_by_key(|r| r.size.unwrap_or(0)),
        other => {
            return Err(Error::InvalidInput(format!(
                "invalid option for --sort {other:?}: options are: command, created, id, image, names, runningfor, size, status"
            )))
        }
    }
    Ok(())
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

enum Filter {
    Id(String),
    Name(String),
    Status(String),
    Ancestor(String),
    Label(String, Option<String>),
    Exited(i32),
}

impl Filter {
    fn parse(f: &str) -> Result<Filter> {
        let bad = || Error::InvalidInput(format!("invalid filter {f:?}"));
        let (k, v) = f.split_once('=').ok_or_else(bad)?;
        Ok(match k {
            "id" => Filter::Id(v.into()),
            "name" => Filter::Name(v.into()),
            "status" => {
                const VALID: &[&str] = &["created", "running", "paused", "stopped", "exited", "unknown"];
                if !VALID.contains(&v) {
                    return Err(Error::InvalidInput(format!("{v:?} is not a valid status")));
                }
                Filter::Status(v.into())
            }
            "ancestor" => Filter::Ancestor(v.into()),
            "label" => match v.split_once('=') {
                Some((lk, lv)) => Filter::Label(lk.into(), Some(lv.into())),
                None => Filter::Label(v.into(), None),
            },
            "exited" => Filter::Exited(v.parse().map_err(|_| bad())?),
            other => {
                return Err(Error::InvalidInput(format!(
                    "{other:?} is an invalid filter: use id, name, status, ancestor, label or exited"
                )))
            }
        })
    }

    fn matches(
        &self,
        c: &ContainerRecord,
        st: &ContainerState,
        images: Option<&image_store::ImageDb>,
    ) -> bool {
        match self {
            Filter::Id(p) => c.id.starts_with(p.as_str()),
            // Podman matches names as a regular expression; a substring covers the common use.
            Filter::Name(n) => match n.strip_prefix('^').and_then(|n| n.strip_suffix('$')) {
                Some(exact) => c.name == exact,
                None => c.name.contains(n.as_str()),
            },
            Filter::Status(s) => match s.as_str() {
                "stopped" => st.status == Status::Exited,
                other => st.status.as_str() == other,
            },
            Filter::Ancestor(a) => {
                c.image_name == *a
                    || c.image_id.hex().starts_with(a.trim_start_matches("sha256:"))
                    || images
                        .and_then(|db| crate::image::lookup::find(db, a).ok())
                        .is_some_and(|img| img.id == c.image_id)
            }
            Filter::Label(k, v) => c
                .labels
                .get(k)
                .is_some_and(|have| v.as_ref().is_none_or(|v| v == have)),
            Filter::Exited(code) => st.status == Status::Exited && st.exit_code == Some(*code),
        }
    }
}

/// Command as `ps` shows it: joined, cut to 17 characters and `...` unless `no_trunc`.
fn command_text(c: &ContainerRecord, no_trunc: bool) -> String {
    let full = c.command.join(" ");
    if no_trunc || full.chars().count() <= 20 {
        full
    } else {
        format!("{}...", full.chars().take(17).collect::<String>())
    }
}

pub fn template_rows(rows: &[ContainerRow], no_trunc: bool) -> Vec<Value> {
    let now = chrono::Utc::now();
    rows.iter()
        .map(|r| {
            let c = &r.record;
            let since = format!(
                "{} ago",
                human_duration((now - c.created).to_std().unwrap_or_default())
            );
            let status = status_text(&r.state, now);
            json!({
                "ID": if no_trunc { c.id.clone() } else { c.id[..12].to_string() },
                "Image": c.image_name,
                "ImageID": if no_trunc { c.image_id.hex() } else { &c.image_id.hex()[..12] },
                "Command": command_text(c, no_trunc),
                "Created": crate::image::list::go_time(c.created),
                "CreatedHuman": since,
                "RunningFor": since,
                "CreatedAt": crate::image::list::go_time(c.created),
                "Status": status,
                "State": status,
                "Ports": "",
                "Names": c.name,
                "Labels": c.labels,
                "Label": c.labels,
                "Mounts": c.volumes,
                "Pid": if r.state.is_running() { r.state.pid } else { 0 },
                "ExitCode": r.state.exit_code.unwrap_or(0),
                "Exited": r.state.status == Status::Exited,
                "Size": r.size.map(human_size).unwrap_or_default(),
                "Networks": "",
                "Pod": "",
                "PodName": "",
                "IsInfra": false,
                "StartedAt": r.state.started_at.map(|t| t.timestamp()).unwrap_or(0),
                "ExitedAt": r.state.finished_at.map(|t| t.timestamp()).unwrap_or(0),
                "Namespaces": {},
            })
        })
        .collect()
}

pub fn json_rows(rows: &[ContainerRow]) -> Vec<Value> {
    let now = chrono::Utc::now();
    rows.iter()
        .map(|r| {
            let c = &r.record;
            let st = &r.state;
            json!({
                "AutoRemove": false,
                "Command": c.command,
                "CreatedAt": format!("{} ago", human_duration((now - c.created).to_std().unwrap_or_default())),
                "Exited": st.status == Status::Exited,
                "ExitedAt": st.finished_at.map(|t| t.timestamp()).unwrap_or(0),
                "ExitCode": st.exit_code.unwrap_or(0),
                "Id": c.id,
                "Image": c.image_name,
                "ImageID": c.image_id.hex(),
                "IsInfra": false,
                "Labels": if c.labels.is_empty() { Value::Null } else { json!(c.labels) },
                "Mounts": c.volumes,
                "Names": [c.name],
                "Namespaces": {},
                "Networks": [],
                "Pid": if st.is_running() { st.pid } else { 0 },
                "Pod": "",
                "PodName": "",
                "Ports": null,
                "Size": r.size.map(|s| json!({"rwSize": s, "rootFsSize": 0})).unwrap_or(Value::Null),
                "StartedAt": st.started_at.map(|t| t.timestamp()).unwrap_or(0),
                "State": st.status.as_str(),
                "Status": status_text(st, now),
                "Created": c.created.timestamp(),
            })
        })
        .collect()
}
