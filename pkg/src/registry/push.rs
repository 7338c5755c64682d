//! `push`: a local image's blobs and manifest, exactly as stored, to a registry. Blobs the registry
//! already has are skipped; the manifest is pushed byte for byte, so the image keeps its digest.

use super::client::{connect, describe, Remote};
use super::progress::Progress;
use super::TransportOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::image::lookup;
use crate::reference::Reference;
use image_store::{Digest, Store};
use std::io::Read;

#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    pub transport: TransportOptions,
    pub quiet: bool,
}

/// Pushes `image` to `dest` (default: the name the image was given by). Returns the manifest digest.
pub fn push(engine: &Engine, image: &str, dest: Option<&str>, opts: &PushOptions) -> Result<Digest> {
    super::block_on(2, push_async(engine, image, dest, opts))
}

async fn push_async(engine: &Engine, image: &str, dest: Option<&str>, opts: &PushOptions) -> Result<Digest> {
    let progress = Progress::new(opts.quiet);
    let db = engine.store.images()?;
    let img = lookup::find(&db, image)?.clone();
    let target = match dest {
        Some(d) => Reference::parse(d.strip_prefix("docker://").unwrap_or(d))?.normalized(),
        None => {
            let name = lookup::matching_name(&img, image)
                .or_else(|| img.names.first().cloned())
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "{image}: an image without a name needs a destination to push to"
                    ))
                })?;
            Reference::parse(&name)?.normalized()
        }
    };
    let conf = crate::config::registries::load()?;
    let endpoint = super::endpoints(&conf, &target, &opts.transport)?
        .into_iter()
        .last()
        .ok_or_else(|| Error::InvalidInput(format!("{target}: no registry to push to")))?;
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    // The first request decides HTTPS or HTTP for an insecure registry.
    let (remote, _) = connect(&endpoint, &opts.transport, |remote| async move {
        let r = remote
            .client
            .auth(
                &remote.tagged("latest"),
                &remote.auth,
                oci_client::RegistryOperation::Push,
            )
            .await;
        (remote, r)
    })
    .await
    .map_err(|e| rename(e, &target))?;
    progress.say("Getting image source signatures");
    for layer in &img.layers {
        push_blob(
            &remote,
            &engine.store,
            &layer.blob,
            layer.blob_size,
            "blob",
            &progress,
            &target,
        )
        .await?;
    }
    let config_size = std::fs::metadata(engine.store.blob_path(&img.id))
        .map(|m| m.len())
        .unwrap_or(0);
    push_blob(
        &remote,
        &engine.store,
        &img.id,
        config_size,
        "config",
        &progress,
        &target,
    )
    .await?;
    progress.say("Writing manifest to image destination");
    let manifest = engine.store.read_blob(&img.manifest_digest)?;
    let content_type = reqwest::header::HeaderValue::from_str(&img.manifest_media_type)
        .map_err(|e| Error::InvalidArchive(format!("manifest media type: {e}")))?;
    remote
        .client
        .push_manifest_raw(&remote.tagged(&tag), manifest, content_type)
        .await
        .map_err(|e| rename(describe(&remote.endpoint, e), &target))?;
    progress.say("Storing signatures");
    Ok(img.manifest_digest.clone())
}

async fn push_blob(
    remote: &Remote,
    store: &Store,
    digest: &Digest,
    size: u64,
    kind: &str,
    progress: &Progress,
    target: &Reference,
) -> Result<()> {
    let d = digest.to_string();
    let reference = remote.tagged("latest");
    let exists = remote
        .client
        .blob_exists(&reference, &d)
        .await
        .map_err(|e| rename(describe(&remote.endpoint, e), target))?;
    let bar = progress.blob(kind, &d, size);
    if exists {
        // Podman reports a config it did not need to send as copied all the same.
        progress.done(
            bar,
            kind,
            &d,
            if kind == "config" {
                "done"
            } else {
                "skipped: already exists"
            },
        );
        return Ok(());
    }
    let mut file = store.open_blob(digest)?;
    // Read in chunks on the async side: the store is local, the registry is the slow end.
    let stream = futures_util::stream::unfold((), move |()| {
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf);
        async move {
            match n {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), ()))
                }
                Err(e) => Some((Err(oci_client::errors::OciDistributionError::IoError(e)), ())),
            }
        }
    });
    remote
        .client
        .push_blob_stream(&reference, stream, &d, Some(size))
        .await
        .map_err(|e| rename(describe(&remote.endpoint, e), target))?;
    bar.advance(size);
    progress.done(bar, kind, &d, "done");
    Ok(())
}

fn rename(e: Error, target: &Reference) -> Error {
    match e {
        Error::Registry { cause, not_found, .. } => Error::Registry {
            reference: target.to_string(),
            cause,
            not_found,
        },
        other => other,
    }
}
