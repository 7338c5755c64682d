//! `commit`: a container's changes become a new image — its overlay upper directory as one more layer
//! on top of its image's layers, with the image's config updated by the container's settings and by
//! Dockerfile-style `--change`s.
//!
//! The upper directory is packed in the OCI layer format (whiteout devices become `.wh.NAME` entries,
//! opaque directories a `.wh..wh..opq` entry) by a descriptor walk that never follows a symlink, so a
//! running container cannot point the packer at a host file. The layer, config and manifest are
//! written through one store transaction and recorded under the store lock by the same path as
//! `import` and `load` ([`crate::image::ingest::commit_images`]), which also extracts the new layer.

use super::lifecycle;
use super::paths::ContainerPaths;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::image::config::{ContainerConfig, History, ImageConfigFile};
use crate::image::import::apply_change;
use crate::image::ingest::{
    commit_images, stage_oci_manifest, LayerDescriptor, StagedImage, OCI_LAYER_TAR, OCI_MANIFEST,
};
use image_store::Digest;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    /// The new image's name (`IMAGE`), tagged as `tag` does.
    pub name: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    /// `--change INSTRUCTION=value` (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR).
    pub changes: Vec<String>,
    /// Freeze a running container while its upper directory is read.
    pub pause: bool,
}

/// Commits the container; returns the new image's ID.
pub fn commit(engine: &Engine, rec: &ContainerRecord, opts: &CommitOptions) -> Result<Digest> {
    let cfg = lifecycle::config_of(engine, &rec.id)?;
    if cfg.rootfs.is_some() {
        return Err(Error::InvalidInput(format!(
            "container {} runs on a --rootfs directory: only containers of images can be committed",
            rec.name
        )));
    }
    let name = opts
        .name
        .as_deref()
        .map(crate::image::tag::new_name)
        .transpose()?;
    let base_id = Digest::from_hex(&cfg.image_id).map_err(|e| Error::Config(e.to_string()))?;
    let base = engine
        .store
        .images()?
        .get(&base_id)
        .cloned()
        .ok_or_else(|| Error::ImageNotKnown(cfg.image.clone()))?;
    let mut config =
        ImageConfigFile::parse(&engine.store.read_blob(&base_id)?).map_err(Error::InvalidArchive)?;
    let paths = ContainerPaths::new(engine.store.root(), &rec.id);
    apply_container_settings(&mut config.config, &cfg, &process_env(&paths));
    for c in &opts.changes {
        apply_change(&mut config.config, c)?;
    }

    let paused = opts.pause && lifecycle::state_of(engine, &rec.id).is_running();
    if paused {
        super::pause::pause(engine, rec)?;
    }
    let tx = engine.store.begin()?;
    let layer = put_upper_layer(&tx, &paths.upper());
    if paused {
        let _ = super::pause::unpause(engine, rec);
    }
    let (diff_id, size) = layer?;

    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    config.created = Some(now.clone());
    if opts.author.is_some() {
        config.author.clone_from(&opts.author);
    }
    config.rootfs.diff_ids.push(diff_id.clone());
    config.history.push(History {
        created: Some(now),
        created_by: Some(if rec.command.is_empty() {
            "/bin/sh".into()
        } else {
            rec.command.join(" ")
        }),
        author: opts.author.clone(),
        comment: opts.message.clone(),
        ..Default::default()
    });
    let config_bytes = serde_json::to_vec(&config).expect("config serialises");
    let config_digest = tx.put_blob_bytes(&config_bytes)?;
    let mut layers: Vec<LayerDescriptor> = base
        .layers
        .iter()
        .map(|l| LayerDescriptor {
            digest: l.blob.clone(),
            media_type: l.media_type.clone(),
            size: l.blob_size,
        })
        .collect();
    layers.push(LayerDescriptor {
        digest: diff_id,
        media_type: OCI_LAYER_TAR.into(),
        size,
    });
    let manifest_digest = stage_oci_manifest(&tx, &config_digest, config_bytes.len() as u64, &layers)?;
    commit_images(
        tx,
        vec![StagedImage {
            manifest_digest,
            manifest_media_type: OCI_MANIFEST.into(),
            config_digest: config_digest.clone(),
            layers,
            names: name.into_iter().collect(),
            repo_digests: vec![],
            digests: vec![],
        }],
    )?;
    Ok(config_digest)
}

/// Packs the upper directory as an OCI layer straight into a new blob; returns its digest (the diff
/// ID, the layer being stored uncompressed) and size.
fn put_upper_layer(tx: &image_store::Transaction, upper: &Path) -> Result<(Digest, u64)> {
    let io_err = |e: std::io::Error| Error::Io {
        context: format!("packing {}", upper.display()),
        source: e,
    };
    let dir = std::fs::File::open(upper).map_err(io_err)?;
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io_err(e.into()))?;
    std::thread::scope(|s| {
        let packer = s.spawn(move || -> std::io::Result<()> {
            let w = std::fs::File::from(write_end);
            let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(256 * 1024, w));
            let p = super::cp::Packer {
                one_file_system: false,
                overlay_whiteouts: true,
                root_dev: 0,
            };
            p.append_children(&mut b, dir.as_fd(), Path::new(""))?;
            b.into_inner()?.flush()
        });
        let stored = tx.put_blob(std::fs::File::from(read_end), None);
        let packed = packer.join().expect("the packer does not panic");
        packed.map_err(io_err)?;
        Ok(stored?)
    })
}

/// The environment of the container's process (its spec), to resolve `-e KEY` entries.
fn process_env(paths: &ContainerPaths) -> Vec<String> {
    std::fs::read(paths.config_json())
        .ok()
        .and_then(|d| serde_json::from_slice::<oci_spec::runtime::Spec>(&d).ok())
        .and_then(|s| s.process().as_ref().and_then(|p| p.env().clone()))
        .unwrap_or_default()
}

/// What the container was created with that the image did not say: its command and entrypoint, its
/// `-e` variables, working directory, user and labels.
fn apply_container_settings(c: &mut ContainerConfig, cfg: &super::config::CreateConfig, env: &[String]) {
    if let Some(ep) = &cfg.entrypoint {
        c.entrypoint = (!ep.is_empty()).then(|| ep.clone());
    }
    if !cfg.command.is_empty() {
        c.cmd = Some(cfg.command.clone());
    }
    for e in &cfg.env {
        let key = e.split('=').next().unwrap_or(e);
        let value = env.iter().find(|v| v.split('=').next() == Some(key));
        if let Some(v) = value {
            let list = c.env.get_or_insert_with(Vec::new);
            list.retain(|x| x.split('=').next() != Some(key));
            list.push(v.clone());
        }
    }
    if let Some(w) = &cfg.workdir {
        c.working_dir = Some(w.clone());
    }
    if let Some(u) = &cfg.user {
        c.user = Some(u.clone());
    }
    if !cfg.labels.is_empty() {
        let labels = c.labels.get_or_insert_with(Default::default);
        for (k, v) in &cfg.labels {
            labels.insert(k.clone(), v.clone());
        }
    }
}
