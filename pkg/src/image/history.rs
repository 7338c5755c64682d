//! `history`: the image config's history entries, newest first, matched to the layers they made.

use super::config::{parse_time, ImageConfigFile};
use super::list::go_time;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::units::{human_duration, human_size};
use image_store::ImageRecord;
use serde_json::{json, Value};

pub struct HistoryEntry {
    pub id: String,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
    pub tags: Vec<String>,
}

pub fn history(engine: &Engine, r: &ImageRecord) -> Result<Vec<HistoryEntry>> {
    let config = ImageConfigFile::parse(&engine.store.read_blob(&r.id)?)
        .map_err(|e| Error::InvalidArchive(format!("image {}: {e}", r.id.short())))?;
    let mut layer_sizes = r.layers.iter().map(|l| l.size);
    let mut entries: Vec<HistoryEntry> = config
        .history
        .iter()
        .map(|h| HistoryEntry {
            id: "<missing>".into(),
            created: h.created.as_deref().and_then(parse_time),
            created_by: h.created_by.clone().unwrap_or_default(),
            size: if h.empty_layer {
                0
            } else {
                layer_sizes.next().unwrap_or(0)
            },
            comment: h.comment.clone().unwrap_or_default(),
            tags: vec![],
        })
        .collect();
    if entries.is_empty() {
        entries.push(HistoryEntry {
            id: String::new(),
            created: r.created,
            created_by: String::new(),
            size: r.size,
            comment: String::new(),
            tags: vec![],
        });
    }
    entries.reverse();
    entries[0].id = r.id.hex().to_string();
    entries[0].tags.clone_from(&r.names);
    Ok(entries)
}

/// Podman's `history --format json` objects.
pub fn json_rows(entries: &[HistoryEntry]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            let mut v = json!({
                "id": e.id,
                "created": e.created.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
                "CreatedBy": e.created_by,
                "size": e.size,
                "comment": e.comment,
                "Created": e.created.map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            });
            if !e.tags.is_empty() {
                v["tags"] = json!(e.tags);
            }
            v
        })
        .collect()
}

pub fn template_rows(entries: &[HistoryEntry], no_trunc: bool) -> Vec<Value> {
    let now = chrono::Utc::now();
    entries
        .iter()
        .map(|e| {
            let id = if no_trunc || e.id.len() < 12 {
                e.id.clone()
            } else {
                e.id[..12].to_string()
            };
            let created_by = if no_trunc || e.created_by.chars().count() <= 45 {
                e.created_by.clone()
            } else {
                format!("{}...", e.created_by.chars().take(42).collect::<String>())
            };
            let since = e
                .created
                .map(|c| format!("{} ago", human_duration((now - c).to_std().unwrap_or_default())))
                .unwrap_or_default();
            json!({
                "ID": id,
                "Created": since,
                "CreatedSince": since,
                "CreatedAt": e.created.map(go_time).unwrap_or_default(),
                "CreatedBy": created_by,
                "Size": human_size(e.size),
                "Comment": e.comment,
                "Tags": e.tags,
            })
        })
        .collect()
}
