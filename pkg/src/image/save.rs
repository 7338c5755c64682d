//! `save`: docker-archive (layers as uncompressed tars whose digests are their diff IDs, as `docker load`
//! expects) and oci-archive (an OCI layout with the blobs exactly as stored).

use super::lookup;
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use image_store::compression::{self, Compression};
use image_store::{Digest, ImageRecord, Store};
use std::collections::HashSet;
use std::io::{BufReader, Read, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    DockerArchive,
    OciArchive,
}

impl std::str::FromStr for ArchiveFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "docker-archive" => Ok(ArchiveFormat::DockerArchive),
            "oci-archive" => Ok(ArchiveFormat::OciArchive),
            other => Err(Error::InvalidInput(format!(
                "unsupported format {other:?} for save: use docker-archive or oci-archive"
            ))),
        }
    }
}

/// Writes the images named by `inputs` as one archive into `out`.
pub fn save(engine: &Engine, inputs: &[String], format: ArchiveFormat, out: impl Write) -> Result<()> {
    let db = engine.store.images()?;
    let mut images: Vec<(&ImageRecord, Vec<String>)> = vec![];
    for input in inputs {
        let img = lookup::find(&db, input)?;
        // Saved by name: that name; by ID: no name, as Podman writes it.
        let names: Vec<String> = lookup::matching_name(img, input).into_iter().collect();
        images.push((img, names));
    }
    let mut tar = tar::Builder::new(out);
    match format {
        ArchiveFormat::DockerArchive => write_docker(&engine.store, &images, &mut tar)?,
        ArchiveFormat::OciArchive => write_oci(&engine.store, &images, &mut tar)?,
    }
    tar.into_inner()
        .and_then(|mut w| w.flush())
        .ctx(|| "writing archive".into())
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<()> {
    let mut h = header(data.len() as u64);
    tar.append_data(&mut h, path, data)
        .ctx(|| format!("writing {path}"))
}

fn write_docker<W: Write>(
    store: &Store,
    images: &[(&ImageRecord, Vec<String>)],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let mut written: HashSet<Digest> = HashSet::new();
    let mut manifest = vec![];
    for (img, names) in images {
        let config_path = format!("{}.json", img.id.hex());
        if written.insert(img.id.clone()) {
            append_bytes(tar, &config_path, &store.read_blob(&img.id)?)?;
        }
        let mut layer_paths = vec![];
        for layer in &img.layers {
            let path = format!("{}.tar", layer.diff_id.hex());
            if written.insert(layer.diff_id.clone()) {
                let blob = BufReader::with_capacity(256 * 1024, store.open_blob(&layer.blob)?);
                let (kind, plain) =
                    compression::decompress(blob, None).ctx(|| format!("reading {}", layer.blob))?;
                let size = if kind == Compression::None {
                    layer.blob_size
                } else {
                    layer.size
                };
                let mut h = header(size);
                tar.append_data(&mut h, &path, plain.take(size))
                    .ctx(|| format!("writing layer {}", layer.diff_id))?;
            }
            layer_paths.push(path);
        }
        manifest.push(serde_json::json!({"Config": config_path, "RepoTags": names, "Layers": layer_paths}));
    }
    append_bytes(
        tar,
        "manifest.json",
        &serde_json::to_vec(&manifest).expect("manifest serialises"),
    )
}

fn write_oci<W: Write>(
    store: &Store,
    images: &[(&ImageRecord, Vec<String>)],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    append_bytes(tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut written: HashSet<Digest> = HashSet::new();
    let mut manifests = vec![];
    for (img, names) in images {
        for blob in img.blobs() {
            if written.insert(blob.clone()) {
                let size = std::fs::metadata(store.blob_path(blob))
                    .ctx(|| format!("reading blob {blob}"))?
                    .len();
                let mut h = header(size);
                let path = format!("blobs/sha256/{}", blob.hex());
                tar.append_data(&mut h, &path, store.open_blob(blob)?)
                    .ctx(|| format!("writing {path}"))?;
            }
        }
        let size = std::fs::metadata(store.blob_path(&img.manifest_digest))
            .map(|m| m.len())
            .unwrap_or(0);
        let descriptor = |name: Option<&String>| {
            let mut d = serde_json::json!({
                "mediaType": img.manifest_media_type, "digest": img.manifest_digest.to_string(), "size": size,
            });
            if let Some(n) = name {
                d["annotations"] = serde_json::json!({ super::load::REF_NAME_ANNOTATION: n });
            }
            d
        };
        if names.is_empty() {
            manifests.push(descriptor(None));
        }
        manifests.extend(names.iter().map(|n| descriptor(Some(n))));
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    append_bytes(
        tar,
        "index.json",
        &serde_json::to_vec(&index).expect("index serialises"),
    )
}
