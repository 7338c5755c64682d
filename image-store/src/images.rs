//! Image records: the store's `images.json`, one file rewritten atomically on every change so that
//! moving a name from one image to another is a single visible step.

use crate::digest::Digest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One layer of an image as the image uses it: the blob it came from and the extracted layer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ImageLayer {
    /// Digest of the blob as distributed (possibly compressed).
    pub blob: Digest,
    pub media_type: String,
    /// Size of the blob in bytes.
    pub blob_size: u64,
    /// Digest of the uncompressed tar stream.
    pub diff_id: Digest,
    /// The key of the extracted layer directory.
    pub chain_id: Digest,
    /// Size of the uncompressed tar stream.
    pub size: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The config blob's digest.
    pub id: Digest,
    /// Fully qualified names (`docker.io/library/busybox:latest`), each on at most one image.
    #[serde(default)]
    pub names: Vec<String>,
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    /// Further manifest digests this image is known by (e.g. of a manifest list it was pulled through).
    #[serde(default)]
    pub digests: Vec<Digest>,
    /// Repository names with the digest they were pulled or pushed by (`repo@sha256:...`).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    pub layers: Vec<ImageLayer>,
    pub created: Option<DateTime<Utc>>,
    /// Sum of the uncompressed layer sizes.
    pub size: u64,
    /// When this image entered the store.
    pub added: DateTime<Utc>,
}

impl ImageRecord {
    /// Blobs this image keeps alive.
    pub fn blobs(&self) -> impl Iterator<Item = &Digest> {
        [&self.id, &self.manifest_digest]
            .into_iter()
            .chain(self.layers.iter().map(|l| &l.blob))
    }

    /// The digest the image was pulled by, as Podman reports it: the index's when it came through one.
    pub fn digest(&self) -> &Digest {
        self.digests.first().unwrap_or(&self.manifest_digest)
    }

    pub fn top_layer(&self) -> Option<&Digest> {
        self.layers.last().map(|l| &l.chain_id)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImageDb {
    pub images: Vec<ImageRecord>,
}

impl ImageDb {
    pub fn get(&self, id: &Digest) -> Option<&ImageRecord> {
        self.images.iter().find(|i| &i.id == id)
    }

    pub fn get_mut(&mut self, id: &Digest) -> Option<&mut ImageRecord> {
        self.images.iter_mut().find(|i| &i.id == id)
    }

    pub fn by_name(&self, name: &str) -> Option<&ImageRecord> {
        self.images.iter().find(|i| i.names.iter().any(|n| n == name))
    }

    /// Adds an image, or merges names and digests into the record with the same ID.
    /// Names are taken away from any other image that had them, as Podman does.
    pub fn insert(&mut self, rec: ImageRecord) {
        for name in &rec.names {
            self.remove_name(name);
        }
        match self.get_mut(&rec.id) {
            Some(existing) => {
                for n in rec.names {
                    push_unique(&mut existing.names, n);
                }
                for d in rec
                    .digests
                    .into_iter()
                    .chain(std::iter::once(rec.manifest_digest))
                {
                    if d != existing.manifest_digest && !existing.digests.contains(&d) {
                        existing.digests.push(d);
                    }
                }
                for rd in rec.repo_digests {
                    push_unique(&mut existing.repo_digests, rd);
                }
            }
            None => self.images.push(rec),
        }
    }

    /// Gives `name` to image `id`, taking it from whichever image had it.
    pub fn add_name(&mut self, id: &Digest, name: &str) -> bool {
        if self.get(id).is_none() {
            return false;
        }
        self.remove_name(name);
        if let Some(img) = self.get_mut(id) {
            push_unique(&mut img.names, name.to_string());
        }
        true
    }

    /// Removes `name` from whichever image has it; returns that image's ID.
    pub fn remove_name(&mut self, name: &str) -> Option<Digest> {
        let img = self
            .images
            .iter_mut()
            .find(|i| i.names.iter().any(|n| n == name))?;
        img.names.retain(|n| n != name);
        Some(img.id.clone())
    }

    pub fn remove(&mut self, id: &Digest) -> Option<ImageRecord> {
        let pos = self.images.iter().position(|i| &i.id == id)?;
        Some(self.images.remove(pos))
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}
