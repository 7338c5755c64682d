//! `images`: summaries of the stored images, filtered and sorted, as rows for Podman's table,
//! templates and JSON.

use super::config::ImageConfigFile;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::units::{human_duration, human_size};
use crate::reference::split_name;
use chrono::{DateTime, Utc};
use image_store::{Digest, ImageRecord};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct ListOptions {
    pub all: bool,
    pub filters: Vec<String>,
    pub sort: Option<String>,
    /// Read each image's labels from its config (for output that shows them; label filters always do).
    pub labels: bool,
}

/// One image with what listings need from its config.
#[derive(Clone, Debug)]
pub struct ImageSummary {
    pub record: ImageRecord,
    pub labels: BTreeMap<String, String>,
    pub containers: usize,
}

impl ImageSummary {
    fn created(&self) -> DateTime<Utc> {
        self.record.created.unwrap_or(self.record.added)
    }
}

pub fn list(
    engine: &Engine,
    opts: &ListOptions,
    containers_of: &dyn Fn(&Digest) -> usize,
) -> Result<Vec<ImageSummary>> {
    let filters = opts
        .filters
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<Vec<_>>>()?;
    let db = engine.store.images()?;
    let mut out = vec![];
    for rec in db.images {
        // One config read per image, only when a filter or the output needs the labels.
        let needs_labels = opts.labels || filters.iter().any(|f| matches!(f, Filter::Label(..)));
        let labels = if needs_labels {
            labels_of(engine, &rec.id)
        } else {
            BTreeMap::new()
        };
        let s = ImageSummary {
            containers: containers_of(&rec.id),
            labels,
            record: rec,
        };
        if filters.iter().all(|f| f.matches(&s)) {
            out.push(s);
        }
    }
    sort(&mut out, opts.sort.as_deref().unwrap_or("created"))?;
    Ok(out)
}

pub fn labels_of(engine: &Engine, id: &Digest) -> BTreeMap<String, String> {
    engine
        .store
        .read_blob(id)
        .ok()
        .and_then(|b| ImageConfigFile::parse(&b).ok())
        .and_then(|c| c.config.labels)
        .unwrap_or_default()
}

fn sort(images: &mut [ImageSummary], key: &str) -> Result<()> {
    let first_name = |s: &ImageSummary| s.record.names.first().cloned().unwrap_or_default();
    match key {
        "created" => images.sort_by_key(|s| std::cmp::Reverse(s.created())),
        "id" => images.sort_by(|a, b| a.record.id.cmp(&b.record.id)),
        "repository" => images.sort_by_key(|s| split_name(&first_name(s)).0.to_string()),
        "tag" => images.sort_by_key(|s| split_name(&first_name(s)).1.unwrap_or_default().to_string()),
        "size" => images.sort_by_key(|s| s.record.size),
        other => {
            return Err(Error::InvalidInput(format!(
                "invalid sort key {other:?}: use created, id, repository, size or tag"
            )))
        }
    }
    Ok(())
}

enum Filter {
    Reference(String),
    Dangling(bool),
    Label(String, Option<String>),
    Id(String),
}

impl Filter {
    fn parse(f: &str) -> Result<Filter> {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| Error::InvalidInput(format!("invalid filter {f:?}")))?;
        Ok(match k {
            "reference" => Filter::Reference(v.into()),
            "dangling" => Filter::Dangling(
                v.parse()
                    .map_err(|_| Error::InvalidInput(format!("invalid filter {f:?}")))?,
            ),
            "label" => match v.split_once('=') {
                Some((lk, lv)) => Filter::Label(lk.into(), Some(lv.into())),
                None => Filter::Label(v.into(), None),
            },
            "id" => Filter::Id(v.trim_start_matches("sha256:").into()),
            other => {
                return Err(Error::InvalidInput(format!(
                    "invalid filter {other:?}: use reference, dangling, label or id"
                )))
            }
        })
    }

    fn matches(&self, s: &ImageSummary) -> bool {
        match self {
            Filter::Reference(pattern) => s.record.names.iter().any(|n| reference_matches(pattern, n)),
            Filter::Dangling(d) => s.record.names.is_empty() == *d,
            Filter::Label(k, v) => s
                .labels
                .get(k)
                .is_some_and(|have| v.as_ref().is_none_or(|v| v == have)),
            Filter::Id(prefix) => s.record.id.hex().starts_with(prefix.as_str()),
        }
    }
}

/// Podman matches a reference filter against the full name and its familiar forms, with glob patterns;
/// a pattern without a tag matches every tag.
fn reference_matches(pattern: &str, name: &str) -> bool {
    let (repo, tag) = split_name(name);
    let tag = tag.unwrap_or("");
    let short = repo.split_once('/').map(|(_, p)| p).unwrap_or(repo);
    let familiar = short.strip_prefix("library/").unwrap_or(short);
    let (pat_repo, pat_tag) = match split_name(pattern) {
        (r, Some(t)) => (r, Some(t)),
        (r, None) => (r, None),
    };
    let repo_ok = [repo, short, familiar].iter().any(|cand| glob(pat_repo, cand))
        || repo.ends_with(&format!("/{pat_repo}"));
    repo_ok && pat_tag.is_none_or(|t| glob(t, tag))
}

fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && t[0] != b'/' && go(p, &t[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// `repo@digest` for every name of the image, after the ones recorded at pull or push.
pub fn repo_digests(r: &ImageRecord) -> Vec<String> {
    let mut out = r.repo_digests.clone();
    for n in &r.names {
        let rd = format!("{}@{}", split_name(n).0, r.manifest_digest);
        if !out.contains(&rd) {
            out.push(rd);
        }
    }
    out
}

/// Podman's `images --format json` objects, one per image.
pub fn json_rows(images: &[ImageSummary]) -> Vec<Value> {
    images
        .iter()
        .map(|s| {
            let r = &s.record;
            let labels = &s.labels;
            json!({
                "Id": r.id.hex(),
                "ParentId": "",
                "RepoTags": r.names,
                "RepoDigests": repo_digests(r),
                "Size": r.size,
                "SharedSize": 0,
                "VirtualSize": r.size,
                "Labels": if labels.is_empty() { Value::Null } else { json!(labels) },
                "Containers": s.containers,
                "Names": r.names,
                "Digest": r.digest().to_string(),
                "History": r.names,
                "Created": s.created().timestamp(),
                "CreatedAt": s.created().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect()
}

/// Template rows: one per name (`<none>` for an untagged image), with Podman's field names.
/// One row per name (repository and tag), as Podman's `images` lists them; sorting by repository or tag
/// orders these rows, not the images.
pub fn template_rows(images: &[ImageSummary], no_trunc: bool, sort: Option<&str>) -> Vec<Value> {
    let now = Utc::now();
    let mut rows = vec![];
    for s in images {
        let r = &s.record;
        let id = if no_trunc {
            r.id.to_string()
        } else {
            r.id.short().to_string()
        };
        let created = s.created();
        let since = format!(
            "{} ago",
            human_duration((now - created).to_std().unwrap_or_default())
        );
        let names: Vec<(String, String)> = if r.names.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            r.names
                .iter()
                .map(|n| {
                    let (repo, tag) = split_name(n);
                    (repo.to_string(), tag.unwrap_or("<none>").to_string())
                })
                .collect()
        };
        for (repo, tag) in names {
            rows.push(json!({
                "ID": id,
                "Id": r.id.hex(),
                "Repository": repo,
                "Tag": tag,
                "Digest": r.digest().to_string(),
                "Created": since,
                "CreatedSince": since,
                "CreatedAt": go_time(created),
                "CreatedTime": go_time(created),
                "Size": human_size(r.size),
                "VirtualSize": r.size,
                "SharedSize": 0,
                "Containers": s.containers,
                "Labels": s.labels,
                "Names": r.names,
                "RepoTags": r.names,
                "RepoDigests": repo_digests(r),
                "History": r.names,
                "Dangling": r.names.is_empty(),
                "ReadOnly": false,
            }));
        }
    }
    if let Some(key @ ("repository" | "tag")) = sort {
        let field = if key == "tag" { "Tag" } else { "Repository" };
        rows.sort_by(|a, b| a[field].as_str().cmp(&b[field].as_str()));
    }
    rows
}

/// Go's `time.Time` default formatting, which Podman templates print for timestamps.
pub fn go_time(t: DateTime<Utc>) -> String {
    // Go's `time.String()`: the fraction only when non-zero, without trailing zeros.
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let frac = nanos.trim_end_matches('0');
    let dot = if frac.is_empty() { "" } else { "." };
    format!("{}{dot}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_trims_the_fraction_like_go() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            go_time(t("2023-11-14T22:13:20Z")),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(
            go_time(t("2026-11-29T14:04:43.4715870Z")),
            "2026-11-29 14:04:43.471587 +0000 UTC"
        );
        assert_eq!(
            go_time(t("2026-11-29T14:04:43.580831314Z")),
            "2026-11-29 14:04:43.580831314 +0000 UTC"
        );
    }

    #[test]
    fn reference_filter_forms() {
        let n = "docker.io/library/busybox:latest";
        for p in [
            "busybox",
            "busybox:latest",
            "library/busybox",
            "docker.io/library/busybox:latest",
            "busy*",
            "*box:lat*",
        ] {
            assert!(reference_matches(p, n), "{p}");
        }
        for p in ["busybox:1", "alpine", "box"] {
            assert!(!reference_matches(p, n), "{p}");
        }
        assert!(reference_matches("fedora", "localhost:5000/fedora:latest"));
    }
}
