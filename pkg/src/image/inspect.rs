//! `image inspect`: Podman's ImageData JSON.

use super::config::ImageConfigFile;
use crate::engine::Engine;
use crate::error::{Error, Result};
use image_store::ImageRecord;
use serde_json::{json, Value};

pub fn inspect(engine: &Engine, r: &ImageRecord) -> Result<Value> {
    let config = ImageConfigFile::parse(&engine.store.read_blob(&r.id)?)
        .map_err(|e| Error::InvalidArchive(format!("image {}: {e}", r.id.short())))?;
    let repo_digests = super::list::repo_digests(r);
    let lower: Vec<String> = r
        .layers
        .iter()
        .rev()
        .map(|l| engine.store.layer_diff_path(&l.chain_id).display().to_string())
        .collect();
    let created = r
        .created
        .map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_else(|| config.created.clone().unwrap_or_default());
    Ok(json!({
        "Id": r.id.hex(),
        "Digest": r.digest().to_string(),
        "RepoTags": r.names,
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": config.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        "Created": created,
        "Config": config.config,
        "Version": config.extra.get("docker_version").cloned().unwrap_or(json!("")),
        "Author": config.author.clone().unwrap_or_default(),
        "Architecture": config.architecture,
        "Os": config.os,
        "Variant": config.variant.clone().unwrap_or_default(),
        "Size": r.size,
        "VirtualSize": r.size,
        "GraphDriver": {
            "Name": "overlay",
            "Data": {"LowerDir": lower.join(":")},
        },
        "RootFS": {"Type": config.rootfs.kind, "Layers": config.rootfs.diff_ids},
        "Labels": config.config.labels.clone().map(|l| json!(l)).unwrap_or(Value::Null),
        "Annotations": {},
        "ManifestType": r.manifest_media_type,
        "User": config.config.user.clone().unwrap_or_default(),
        "History": config.history,
        "NamesHistory": r.names,
    }))
}
