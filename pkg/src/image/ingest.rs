//! Turning staged blobs into committed images: the step shared by load, import and pull.
//!
//! Layers not yet in the store are extracted in parallel (each into its own staging directory), then
//! every image is recorded in one commit, so nothing is visible until all of it is complete.

use super::config::ImageConfigFile;
use crate::error::{Error, Result};
use chrono::Utc;
use image_store::extract::ExtractOptions;
use image_store::store::chain_ids;
use image_store::{Digest, ImageLayer, ImageRecord, LayerInfo, Transaction};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

#[derive(Clone, Debug)]
pub struct LayerDescriptor {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// An image whose blobs are all staged (or already in the store).
#[derive(Clone, Debug)]
pub struct StagedImage {
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub config_digest: Digest,
    pub layers: Vec<LayerDescriptor>,
    pub names: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Digests the image is known by besides its manifest's: the index it was pulled through.
    pub digests: Vec<Digest>,
}

/// Builds an OCI manifest for layers we hold, stages it, and returns its digest.
pub fn stage_oci_manifest(
    tx: &Transaction,
    config: &Digest,
    config_size: u64,
    layers: &[LayerDescriptor],
) -> Result<Digest> {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.to_string(), "size": config_size},
        "layers": layers.iter().map(|l| serde_json::json!({
            "mediaType": l.media_type, "digest": l.digest.to_string(), "size": l.size,
        })).collect::<Vec<_>>(),
    });
    Ok(tx.put_blob_bytes(&serde_json::to_vec(&manifest).expect("manifest serialises"))?)
}

struct Job<'a> {
    blob: &'a Digest,
    media_type: &'a str,
    parent: Option<Digest>,
    diff_id: Digest,
}

/// Extracts every missing layer and records the images. Returns the committed records.
pub fn commit_images(tx: Transaction, images: Vec<StagedImage>) -> Result<Vec<ImageRecord>> {
    let mut records = Vec::with_capacity(images.len());
    let mut jobs: Vec<Job> = vec![];
    let mut planned = std::collections::HashSet::new();
    let mut configs = vec![];
    for img in &images {
        let config = ImageConfigFile::parse(&tx.read_blob(&img.config_digest)?)
            .map_err(|e| Error::InvalidArchive(format!("image {}: {e}", img.config_digest)))?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != img.layers.len() {
            return Err(Error::InvalidArchive(format!(
                "image {}: the manifest lists {} layers but the config has {} diff IDs",
                img.config_digest,
                img.layers.len(),
                diff_ids.len()
            )));
        }
        let chains = chain_ids(diff_ids);
        for (i, layer) in img.layers.iter().enumerate() {
            if !tx.store().has_layer(&chains[i]) && planned.insert(chains[i].clone()) {
                jobs.push(Job {
                    blob: &layer.digest,
                    media_type: &layer.media_type,
                    parent: (i > 0).then(|| chains[i - 1].clone()),
                    diff_id: diff_ids[i].clone(),
                });
            }
        }
        configs.push((config, chains));
    }

    let extracted = extract_parallel(&tx, &jobs)?;
    let size_of = |chain: &Digest| -> Result<u64> {
        match extracted.iter().find(|l| &l.chain_id == chain) {
            Some(l) => Ok(l.size),
            None => Ok(tx.store().layer_info(chain)?.size),
        }
    };

    let now = Utc::now();
    for (img, (config, chains)) in images.iter().zip(configs) {
        let mut layers = Vec::with_capacity(img.layers.len());
        for (i, l) in img.layers.iter().enumerate() {
            layers.push(ImageLayer {
                blob: l.digest.clone(),
                media_type: l.media_type.clone(),
                blob_size: l.size,
                diff_id: config.rootfs.diff_ids[i].clone(),
                chain_id: chains[i].clone(),
                size: size_of(&chains[i])?,
            });
        }
        records.push(ImageRecord {
            id: img.config_digest.clone(),
            names: img.names.clone(),
            manifest_digest: img.manifest_digest.clone(),
            manifest_media_type: img.manifest_media_type.clone(),
            digests: img.digests.clone(),
            repo_digests: img.repo_digests.clone(),
            size: layers.iter().map(|l| l.size).sum(),
            layers,
            created: config.created_time(),
            added: now,
        });
    }
    let to_insert = records.clone();
    tx.commit(|db| -> Result<()> {
        for r in to_insert {
            db.insert(r);
        }
        Ok(())
    })?;
    Ok(records)
}

fn extract_parallel(tx: &Transaction, jobs: &[Job]) -> Result<Vec<LayerInfo>> {
    if jobs.is_empty() {
        return Ok(vec![]);
    }
    let mut opts = ExtractOptions::default();
    if crate::rootless::in_user_namespace() {
        // Rootless overlay is mounted with `userxattr`: opaque directories are marked in `user.` xattrs.
        opts.whiteouts = image_store::extract::WhiteoutFormat::OverlayUserXattr;
        // A user without subordinate IDs has one ID: every file is theirs (Podman's ignore_chown_errors).
        opts.preserve_ownership &= crate::rootless::mapped_ids() > 1;
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<LayerInfo>> = Mutex::new(Vec::with_capacity(jobs.len()));
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs.len() || first_error.lock().unwrap().is_some() {
                    break;
                }
                let j = &jobs[i];
                match tx.extract_layer(j.blob, Some(j.media_type), j.parent.as_ref(), &j.diff_id, &opts) {
                    Ok(info) => results.lock().unwrap().push(info),
                    Err(e) => {
                        first_error.lock().unwrap().get_or_insert(e.into());
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap() {
        return Err(e);
    }
    Ok(results.into_inner().unwrap())
}
