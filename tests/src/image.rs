//! Images built by code: a config, layers, and the archive formats `load` reads.
//!
//! [`ImageBuilder`] collects layers and the config fields; [`ImageBuilder::build`] serialises the config once
//! (so the image ID, the config digest, is fixed) and compresses each layer. The resulting [`Image`] writes:
//! - a Docker archive as `docker save` does ([`Image::write_docker_archive`]): `manifest.json`,
//!   `<id>.json`, `<layer-dir>/layer.tar` (always uncompressed), `<layer-dir>/VERSION`, `<layer-dir>/json`,
//!   `repositories`; optionally gzip-compressed as a whole ([`Image::write_docker_archive_gz`]);
//! - an OCI layout directory ([`Image::write_oci_layout`]) or the same as a tar ([`Image::write_oci_archive`]),
//!   with layer media types matching each layer's compression.
//!
//! [`OciLayout`] is the writer behind the OCI outputs; it takes any number of manifests so an image index
//! for several platforms can be added beside the single-image case.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::layer::{gzip, sha256_digest, Layer, LayerBlob, FIXED_MTIME};

/// The `created` timestamp of every fixture image and history entry.
pub const FIXED_CREATED: &str = "2024-01-01T00:00:00Z";

pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// The host's architecture in OCI (GOARCH) spelling: `amd64` on x86_64, `arm64` on aarch64.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => panic!("no OCI name known for architecture {other}"),
    }
}

/// One `history` entry of an image config.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub created: String,
    pub created_by: String,
    pub comment: String,
    pub empty_layer: bool,
}

/// Collects what an image is made of; [`ImageBuilder::build`] fixes it into an [`Image`].
#[derive(Clone, Debug)]
pub struct ImageBuilder {
    layers: Vec<Layer>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: Vec<String>,
    working_dir: Option<String>,
    user: Option<String>,
    labels: BTreeMap<String, String>,
    volumes: Vec<String>,
    exposed_ports: Vec<String>,
    stop_signal: Option<String>,
    history: Option<Vec<HistoryEntry>>,
    created: String,
    architecture: String,
    os: String,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ImageBuilder {
    /// No layers, no config; host architecture, `linux`, created [`FIXED_CREATED`].
    pub fn new() -> Self {
        ImageBuilder {
            layers: Vec::new(),
            entrypoint: None,
            cmd: None,
            env: Vec::new(),
            working_dir: None,
            user: None,
            labels: BTreeMap::new(),
            volumes: Vec::new(),
            exposed_ports: Vec::new(),
            stop_signal: None,
            history: None,
            created: FIXED_CREATED.to_string(),
            architecture: host_architecture().to_string(),
            os: "linux".to_string(),
        }
    }

    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    pub fn entrypoint(mut self, args: &[&str]) -> Self {
        self.entrypoint = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(args.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Adds one `KEY=value` to `Env`.
    pub fn env(mut self, var: &str) -> Self {
        self.env.push(var.to_string());
        self
    }

    pub fn working_dir(mut self, dir: &str) -> Self {
        self.working_dir = Some(dir.to_string());
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.user = Some(user.to_string());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_string(), value.to_string());
        self
    }

    pub fn volume(mut self, path: &str) -> Self {
        self.volumes.push(path.to_string());
        self
    }

    /// Adds an exposed port such as `80/tcp`.
    pub fn expose(mut self, port: &str) -> Self {
        self.exposed_ports.push(port.to_string());
        self
    }

    pub fn stop_signal(mut self, signal: &str) -> Self {
        self.stop_signal = Some(signal.to_string());
        self
    }

    /// Adds a history entry; once any is added, the default (one per layer) is not generated.
    pub fn history(mut self, created_by: &str, comment: &str, empty_layer: bool) -> Self {
        self.history.get_or_insert_with(Vec::new).push(HistoryEntry {
            created: self.created.clone(),
            created_by: created_by.to_string(),
            comment: comment.to_string(),
            empty_layer,
        });
        self
    }

    /// RFC 3339 creation time of the image (and of history entries added after this call).
    pub fn created(mut self, created: &str) -> Self {
        self.created = created.to_string();
        self
    }

    pub fn architecture(mut self, arch: &str) -> Self {
        self.architecture = arch.to_string();
        self
    }

    pub fn os(mut self, os: &str) -> Self {
        self.os = os.to_string();
        self
    }

    fn config_json(&self, blobs: &[LayerBlob]) -> Value {
        let mut config = serde_json::Map::new();
        if !self.env.is_empty() {
            config.insert("Env".into(), json!(self.env));
        }
        if let Some(entrypoint) = &self.entrypoint {
            config.insert("Entrypoint".into(), json!(entrypoint));
        }
        if let Some(cmd) = &self.cmd {
            config.insert("Cmd".into(), json!(cmd));
        }
        if let Some(dir) = &self.working_dir {
            config.insert("WorkingDir".into(), json!(dir));
        }
        if let Some(user) = &self.user {
            config.insert("User".into(), json!(user));
        }
        if !self.labels.is_empty() {
            config.insert("Labels".into(), json!(self.labels));
        }
        if !self.volumes.is_empty() {
            let volumes: BTreeMap<&str, Value> =
                self.volumes.iter().map(|v| (v.as_str(), json!({}))).collect();
            config.insert("Volumes".into(), json!(volumes));
        }
        if !self.exposed_ports.is_empty() {
            let ports: BTreeMap<&str, Value> = self
                .exposed_ports
                .iter()
                .map(|p| (p.as_str(), json!({})))
                .collect();
            config.insert("ExposedPorts".into(), json!(ports));
        }
        if let Some(signal) = &self.stop_signal {
            config.insert("StopSignal".into(), json!(signal));
        }
        let history: Vec<Value> = match &self.history {
            Some(entries) => entries
                .iter()
                .map(|h| {
                    let mut v = json!({"created": h.created, "created_by": h.created_by});
                    if !h.comment.is_empty() {
                        v["comment"] = json!(h.comment);
                    }
                    if h.empty_layer {
                        v["empty_layer"] = json!(true);
                    }
                    v
                })
                .collect(),
            None => (0..blobs.len())
                .map(|i| json!({"created": self.created, "created_by": format!("/bin/sh -c #(nop) ADD layer{i} in /")}))
                .collect(),
        };
        json!({
            "architecture": self.architecture,
            "os": self.os,
            "created": self.created,
            "config": Value::Object(config),
            "rootfs": {"type": "layers", "diff_ids": blobs.iter().map(|b| b.diff_id.clone()).collect::<Vec<_>>()},
            "history": history,
        })
    }

    /// Serialises the config and compresses the layers.
    pub fn build(&self) -> Image {
        let layers: Vec<LayerBlob> = self.layers.iter().map(Layer::blob).collect();
        let config = serde_json::to_vec(&self.config_json(&layers)).expect("config json");
        let config_digest = sha256_digest(&config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": OCI_CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config.len()},
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.compression.oci_media_type(),
                "digest": l.digest,
                "size": l.data.len(),
            })).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest).expect("manifest json");
        Image {
            manifest_digest: sha256_digest(&manifest),
            manifest,
            config_digest,
            config,
            layers,
            architecture: self.architecture.clone(),
            os: self.os.clone(),
        }
    }
}

/// A built image: fixed config bytes, layer blobs, and its OCI manifest.
#[derive(Clone, Debug)]
pub struct Image {
    /// The config JSON exactly as written; its digest is the image ID.
    pub config: Vec<u8>,
    /// `sha256:<hex>` of `config`.
    pub config_digest: String,
    pub layers: Vec<LayerBlob>,
    /// The OCI manifest written by the OCI outputs.
    pub manifest: Vec<u8>,
    /// `sha256:<hex>` of `manifest`.
    pub manifest_digest: String,
    pub architecture: String,
    pub os: String,
}

impl Image {
    /// The image ID Podman reports: the config digest's 64 hex characters.
    pub fn id(&self) -> String {
        self.config_digest.trim_start_matches("sha256:").to_string()
    }

    /// The first 12 hex characters of [`Image::id`], as `images` shows it.
    pub fn short_id(&self) -> String {
        self.id()[..12].to_string()
    }

    /// `sha256:<hex>` of the config.
    pub fn config_digest(&self) -> &str {
        &self.config_digest
    }

    /// `sha256:<hex>` of the OCI manifest.
    pub fn manifest_digest(&self) -> &str {
        &self.manifest_digest
    }

    /// The config's `rootfs.diff_ids`.
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers.iter().map(|l| l.diff_id.clone()).collect()
    }

    /// The config parsed back, for assertions.
    pub fn config_value(&self) -> Value {
        serde_json::from_slice(&self.config).expect("config json")
    }

    /// The bytes of a `docker save` archive holding this image under `repo_tags`.
    pub fn docker_archive(&self, repo_tags: &[&str]) -> Vec<u8> {
        docker_archive(&[(self, repo_tags)])
    }

    /// Writes a `docker save` archive (uncompressed `layer.tar`s, `manifest.json`, `repositories`).
    pub fn write_docker_archive(&self, path: &Path, repo_tags: &[&str]) {
        write_file(path, &self.docker_archive(repo_tags));
    }

    /// Writes a `docker save` archive compressed as a whole with gzip (`docker save | gzip`).
    pub fn write_docker_archive_gz(&self, path: &Path, repo_tags: &[&str]) {
        write_file(path, &gzip(&self.docker_archive(repo_tags)));
    }

    /// Writes an OCI image layout in `dir`; `tag` becomes `org.opencontainers.image.ref.name`.
    pub fn write_oci_layout(&self, dir: &Path, tag: Option<&str>) {
        OciLayout::new().manifest(self, tag).write_dir(dir);
    }

    /// The bytes of the OCI image layout as a tar (an `oci-archive`).
    pub fn oci_archive(&self, tag: Option<&str>) -> Vec<u8> {
        OciLayout::new().manifest(self, tag).tar()
    }

    /// Writes the OCI image layout as a tar (an `oci-archive`).
    pub fn write_oci_archive(&self, path: &Path, tag: Option<&str>) {
        write_file(path, &self.oci_archive(tag));
    }
}

fn write_file(path: &Path, data: &[u8]) {
    fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Appends a regular file to a tar with fixed metadata.
pub(crate) fn tar_file(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_mtime(FIXED_MTIME);
    header.set_size(data.len() as u64);
    builder.append_data(&mut header, path, data).expect("tar append");
}

pub(crate) fn tar_dir(builder: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_mode(0o755);
    header.set_mtime(FIXED_MTIME);
    header.set_size(0);
    builder
        .append_data(&mut header, format!("{path}/"), std::io::empty())
        .expect("tar append");
}

/// Splits `repo:tag` at the tag's colon (not a registry port's).
fn split_repo_tag(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "latest"),
    }
}

/// A `docker save` archive of several images, each under its RepoTags; shared layers are written once.
pub fn docker_archive(images: &[(&Image, &[&str])]) -> Vec<u8> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut dirs: Vec<String> = Vec::new();
    let mut manifest = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (image, repo_tags) in images {
        let mut parent = String::new();
        let mut layer_paths = Vec::new();
        for blob in &image.layers {
            // Docker's legacy layer IDs chain the parent; any stable, position-aware name will do.
            let id = crate::layer::sha256_hex(format!("{parent}\n{}", blob.diff_id).as_bytes());
            if !dirs.contains(&id) {
                dirs.push(id.clone());
                let mut v1 = json!({"id": id, "created": FIXED_CREATED});
                if !parent.is_empty() {
                    v1["parent"] = json!(parent);
                }
                files.insert(format!("{id}/VERSION"), b"1.0".to_vec());
                files.insert(format!("{id}/json"), serde_json::to_vec(&v1).unwrap());
                files.insert(format!("{id}/layer.tar"), blob.tar.clone());
            }
            layer_paths.push(format!("{id}/layer.tar"));
            parent = id;
        }
        files.insert(format!("{}.json", image.id()), image.config.clone());
        manifest.push(json!({
            "Config": format!("{}.json", image.id()),
            "RepoTags": if repo_tags.is_empty() { Value::Null } else { json!(repo_tags) },
            "Layers": layer_paths,
        }));
        for reference in repo_tags.iter() {
            let (repo, tag) = split_repo_tag(reference);
            repositories
                .entry(repo.to_string())
                .or_default()
                .insert(tag.to_string(), parent.clone());
        }
    }
    files.insert("manifest.json".into(), serde_json::to_vec(&manifest).unwrap());
    if !repositories.is_empty() {
        files.insert("repositories".into(), serde_json::to_vec(&repositories).unwrap());
    }
    let mut builder = tar::Builder::new(Vec::new());
    dirs.sort();
    for dir in &dirs {
        tar_dir(&mut builder, dir);
    }
    for (path, data) in &files {
        tar_file(&mut builder, path, data);
    }
    builder.into_inner().expect("finishing docker archive")
}

/// An OCI image layout under construction: blobs and the top-level index's descriptors.
#[derive(Clone, Debug, Default)]
pub struct OciLayout {
    blobs: BTreeMap<String, Vec<u8>>,
    descriptors: Vec<Value>,
}

impl OciLayout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a blob, returning its `sha256:<hex>` digest.
    pub fn blob(&mut self, data: &[u8]) -> String {
        let digest = sha256_digest(data);
        self.blobs.insert(digest.clone(), data.to_vec());
        digest
    }

    /// Adds `image` (its config, layers and manifest) with a top-level descriptor naming it `tag`.
    pub fn manifest(mut self, image: &Image, tag: Option<&str>) -> Self {
        let descriptor = self.add_image(image);
        self.push_descriptor(descriptor, tag);
        self
    }

    /// Adds an image's blobs and returns the descriptor of its manifest (with its platform), not yet listed.
    pub fn add_image(&mut self, image: &Image) -> Value {
        self.blob(&image.config);
        for layer in &image.layers {
            self.blob(&layer.data);
        }
        let digest = self.blob(&image.manifest);
        json!({
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "digest": digest,
            "size": image.manifest.len(),
            "platform": {"architecture": image.architecture, "os": image.os},
        })
    }

    /// Adds an image index (one manifest per image, each with its platform) listed in `index.json` as
    /// `tag`; returns the index's `sha256:<hex>` digest. For multi-platform images.
    pub fn image_index(&mut self, images: &[&Image], tag: Option<&str>) -> String {
        let manifests: Vec<Value> = images.iter().map(|image| self.add_image(image)).collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX_MEDIA_TYPE, "manifests": manifests});
        let bytes = serde_json::to_vec(&index).expect("index json");
        let digest = self.blob(&bytes);
        self.push_descriptor(
            json!({"mediaType": OCI_INDEX_MEDIA_TYPE, "digest": digest, "size": bytes.len()}),
            tag,
        );
        digest
    }

    /// Lists a descriptor in `index.json`, annotated with `tag` as `org.opencontainers.image.ref.name`.
    pub fn push_descriptor(&mut self, mut descriptor: Value, tag: Option<&str>) {
        if let Some(tag) = tag {
            descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        }
        self.descriptors.push(descriptor);
    }

    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let index =
            json!({"schemaVersion": 2, "mediaType": OCI_INDEX_MEDIA_TYPE, "manifests": self.descriptors});
        let mut files = vec![
            ("blobs/sha256/".to_string(), Vec::new()),
            ("index.json".to_string(), serde_json::to_vec(&index).unwrap()),
            (
                "oci-layout".to_string(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
        ];
        for (digest, data) in &self.blobs {
            files.push((
                format!("blobs/sha256/{}", digest.trim_start_matches("sha256:")),
                data.clone(),
            ));
        }
        files
    }

    /// Writes the layout into `dir` (created if needed).
    pub fn write_dir(&self, dir: &Path) {
        for (path, data) in self.files() {
            let target = dir.join(&path);
            if path.ends_with('/') {
                fs::create_dir_all(&target).expect("creating layout dir");
            } else {
                write_file(&target, &data);
            }
        }
    }

    /// The layout as a tar stream (an `oci-archive`).
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        tar_dir(&mut builder, "blobs");
        for (path, data) in self.files() {
            if let Some(dir) = path.strip_suffix('/') {
                tar_dir(&mut builder, dir);
            } else {
                tar_file(&mut builder, &path, &data);
            }
        }
        builder.into_inner().expect("finishing oci archive")
    }
}
