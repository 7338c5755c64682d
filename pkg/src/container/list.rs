//! `ps` rows, with Podman's field names.

use super::store::ContainerRecord;
use crate::format::units::human_duration;
use serde_json::{json, Value};

/// Command as `ps` shows it: joined, truncated to 17 characters with `...` unless `no_trunc`.
fn command_text(c: &ContainerRecord, no_trunc: bool) -> String {
    let full = c.command.join(" ");
    if no_trunc || full.chars().count() <= 20 {
        full
    } else {
        format!("{}...", full.chars().take(17).collect::<String>())
    }
}

pub fn template_rows(containers: &[&ContainerRecord], no_trunc: bool) -> Vec<Value> {
    let now = chrono::Utc::now();
    containers
        .iter()
        .map(|c| {
            let since = format!(
                "{} ago",
                human_duration((now - c.created).to_std().unwrap_or_default())
            );
            json!({
                "ID": if no_trunc { c.id.clone() } else { c.id[..12].to_string() },
                "Image": c.image_name,
                "ImageID": c.image_id.hex(),
                "Command": command_text(c, no_trunc),
                "Created": since,
                "CreatedHuman": since,
                "CreatedAt": super::super::image::list::go_time(c.created),
                "Status": "Created",
                "State": "created",
                "Ports": "",
                "Names": c.name,
                "Labels": c.labels,
                "Mounts": [],
            })
        })
        .collect()
}

pub fn json_rows(containers: &[&ContainerRecord]) -> Vec<Value> {
    containers
        .iter()
        .map(|c| {
            json!({
                "Id": c.id,
                "Image": c.image_name,
                "ImageID": c.image_id.hex(),
                "Command": c.command,
                "Created": c.created.timestamp(),
                "CreatedAt": c.created.to_rfc3339(),
                "State": "created",
                "Status": "Created",
                "Names": [c.name],
                "Labels": c.labels,
                "Exited": false,
                "ExitCode": 0,
                "Pid": 0,
                "Ports": null,
                "Mounts": [],
            })
        })
        .collect()
}
