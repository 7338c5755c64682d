//! `load`: docker-archive (`docker save`/`podman save`) and oci-archive tarballs, plain or compressed.
//!
//! The archive is read once, sequentially (stdin works): every file member is staged as a verified blob
//! while it streams, the small metadata files are kept in memory, and once the archive ends the images
//! it describes are assembled from the staged blobs and committed together.
//!
//! Names follow Podman 4.3.1 (checked against it): a short RepoTag or ref-name annotation lands under
//! `localhost/` (`busybox:latest` → `localhost/busybox:latest`, a bare `latest` → `localhost/latest:latest`),
//! a qualified one is kept, and an image without a name is reported as `sha256:<id>`.

use super::config::host_arch;
use super::ingest::{
    commit_images, stage_oci_manifest, LayerDescriptor, StagedImage, DOCKER_MANIFEST_LIST, OCI_INDEX,
    OCI_LAYER_TAR,
};
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use image_store::compression::{self, Compression};
use image_store::{Digest, Transaction};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

const METADATA_FILES: &[&str] = &["manifest.json", "index.json", "oci-layout", "repositories"];
const MAX_METADATA: u64 = 16 << 20;
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// What `load` reports per image: its names, or `sha256:<id>` when it has none.
pub fn load(engine: &Engine, input: impl Read) -> Result<Vec<String>> {
    let (_, plain) = compression::decompress(BufReader::with_capacity(256 * 1024, input), None)
        .ctx(|| "reading archive".into())?;
    let tx = engine.store.begin()?;
    let archive = read_members(&tx, plain)?;
    let images = if let Some(manifest) = archive.metadata.get("manifest.json") {
        docker_images(&tx, &archive, manifest)?
    } else if let Some(index) = archive.metadata.get("index.json") {
        oci_images(&tx, index)?
    } else {
        return Err(Error::InvalidArchive(
            "payload does not match any of the supported image formats (docker-archive, oci-archive)".into(),
        ));
    };
    let records = commit_images(tx, images)?;
    Ok(records
        .iter()
        .flat_map(|r| {
            if r.names.is_empty() {
                vec![r.id.to_string()]
            } else {
                r.names.clone()
            }
        })
        .collect())
}

struct Members {
    metadata: HashMap<String, Vec<u8>>,
    /// Member path → staged blob digest.
    files: HashMap<String, Digest>,
    /// Member path → path it links to (symlinks and hardlinks, resolved lazily).
    links: HashMap<String, String>,
}

impl Members {
    fn resolve(&self, path: &str) -> Option<&Digest> {
        let mut p = clean(path)?;
        for _ in 0..16 {
            if let Some(d) = self.files.get(&p) {
                return Some(d);
            }
            p = self.links.get(&p)?.clone();
        }
        None
    }
}

/// Normalises a member path (`./a/b` → `a/b`); `None` for paths leaving the archive root.
fn clean(path: &str) -> Option<String> {
    let mut out: Vec<&str> = vec![];
    for c in Path::new(path).components() {
        match c {
            Component::Normal(s) => out.push(s.to_str()?),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out.join("/"))
}

fn read_members(tx: &Transaction, plain: impl Read) -> Result<Members> {
    let mut members = Members {
        metadata: HashMap::new(),
        files: HashMap::new(),
        links: HashMap::new(),
    };
    let mut archive = tar::Archive::new(plain);
    let bad = |e: std::io::Error| Error::InvalidArchive(format!("reading archive: {e}"));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let raw = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let Some(path) = clean(&raw) else { continue };
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name().map_err(bad)? {
                let target = target.to_string_lossy().into_owned();
                let base = if kind.is_symlink() {
                    PathBuf::from(&path)
                        .parent()
                        .map(|p| p.join(&target))
                        .unwrap_or_else(|| target.clone().into())
                } else {
                    PathBuf::from(&target)
                };
                if let Some(t) = clean(&base.to_string_lossy()) {
                    members.links.insert(path, t);
                }
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        if METADATA_FILES.contains(&path.as_str()) {
            if entry.header().size().unwrap_or(0) > MAX_METADATA {
                return Err(Error::InvalidArchive(format!(
                    "archive member {path} is too large"
                )));
            }
            let mut buf = vec![];
            entry.read_to_end(&mut buf).map_err(bad)?;
            members.metadata.insert(path, buf);
            continue;
        }
        // OCI layouts name blobs by digest: hold them to it.
        let expected = path
            .strip_prefix("blobs/sha256/")
            .map(|hex| Digest::from_hex(hex).map_err(|e| Error::InvalidArchive(e.to_string())))
            .transpose()?;
        let (digest, _) = tx.put_blob(&mut entry, expected.as_ref())?;
        members.files.insert(path, digest);
    }
    Ok(members)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn docker_images(tx: &Transaction, archive: &Members, manifest: &[u8]) -> Result<Vec<StagedImage>> {
    let entries: Vec<DockerManifestEntry> = serde_json::from_slice(manifest)
        .map_err(|e| Error::InvalidArchive(format!("invalid manifest.json: {e}")))?;
    let missing = |p: &str| Error::InvalidArchive(format!("archive lacks {p}, which manifest.json names"));
    let mut images = vec![];
    for entry in entries {
        let config = archive
            .resolve(&entry.config)
            .ok_or_else(|| missing(&entry.config))?
            .clone();
        let config_size = std::fs::metadata(tx.blob_path(&config)?)
            .map(|m| m.len())
            .unwrap_or(0);
        let mut layers = vec![];
        for l in &entry.layers {
            let digest = archive.resolve(l).ok_or_else(|| missing(l))?.clone();
            let path = tx.blob_path(&digest)?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            layers.push(LayerDescriptor {
                media_type: sniff_layer_type(&path)?,
                digest,
                size,
            });
        }
        let manifest_digest = stage_oci_manifest(tx, &config, config_size, &layers)?;
        let mut names = vec![];
        for tag in entry.repo_tags.unwrap_or_default() {
            names.push(super::tag::new_name(&tag)?);
        }
        images.push(StagedImage {
            manifest_digest,
            manifest_media_type: super::ingest::OCI_MANIFEST.into(),
            config_digest: config,
            layers,
            names,
            repo_digests: vec![],
            digests: vec![],
        });
    }
    Ok(images)
}

/// Docker archives rarely say what their layers are: look at the bytes.
fn sniff_layer_type(path: &Path) -> Result<String> {
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let n = f.read(&mut head).ctx(|| format!("reading {}", path.display()))?;
    Ok(match Compression::sniff(&head[..n]) {
        Compression::Gzip => format!("{OCI_LAYER_TAR}+gzip"),
        Compression::Zstd => format!("{OCI_LAYER_TAR}+zstd"),
        Compression::None => OCI_LAYER_TAR.into(),
    })
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

fn oci_images(tx: &Transaction, index: &[u8]) -> Result<Vec<StagedImage>> {
    let index: Index = serde_json::from_slice(index)
        .map_err(|e| Error::InvalidArchive(format!("invalid index.json: {e}")))?;
    let mut images = vec![];
    for desc in index.manifests {
        let name = desc
            .annotations
            .get(REF_NAME_ANNOTATION)
            .and_then(|n| super::tag::new_name(n).ok());
        let desc = pick_platform(tx, desc)?;
        let raw = tx.read_blob(&desc.digest)?;
        let manifest: Manifest = serde_json::from_slice(&raw)
            .map_err(|e| Error::InvalidArchive(format!("invalid manifest {}: {e}", desc.digest)))?;
        let media_type = manifest
            .media_type
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or(desc.media_type.clone());
        images.push(StagedImage {
            manifest_digest: desc.digest.clone(),
            manifest_media_type: media_type,
            config_digest: manifest.config.digest.clone(),
            layers: manifest
                .layers
                .iter()
                .map(|l| LayerDescriptor {
                    digest: l.digest.clone(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                })
                .collect(),
            names: name.into_iter().collect(),
            repo_digests: vec![],
            digests: vec![],
        });
    }
    Ok(images)
}

/// A nested index is resolved to the manifest for this machine.
fn pick_platform(tx: &Transaction, desc: Descriptor) -> Result<Descriptor> {
    if desc.media_type != OCI_INDEX && desc.media_type != DOCKER_MANIFEST_LIST {
        return Ok(desc);
    }
    let nested: Index = serde_json::from_slice(&tx.read_blob(&desc.digest)?)
        .map_err(|e| Error::InvalidArchive(format!("invalid index {}: {e}", desc.digest)))?;
    let available: Vec<String> = nested
        .manifests
        .iter()
        .filter_map(|m| {
            m.platform
                .as_ref()
                .map(|p| format!("{}/{}", p.os, p.architecture))
        })
        .collect();
    nested
        .manifests
        .into_iter()
        .find(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == host_arch())
        })
        .ok_or_else(|| {
            Error::InvalidArchive(format!(
                "no image for linux/{} in index {} (available: {})",
                host_arch(),
                desc.digest,
                available.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths_are_cleaned() {
        assert_eq!(clean("./a/b").as_deref(), Some("a/b"));
        assert_eq!(clean("a/../b").as_deref(), Some("b"));
        assert_eq!(clean("../x"), None);
    }
}
