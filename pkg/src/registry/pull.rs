//! `pull`: a reference (short or qualified) to a committed image.
//!
//! The manifest (through an index to this platform's manifest when there is one) and the config come
//! first; then every layer the store lacks is streamed into the pull's transaction, several at once, its
//! digest checked as it arrives; then the layers are extracted in parallel and the image committed in one
//! step, so nothing shows in `images` until all of it is there and a killed pull leaves only a staging
//! directory that the next command removes.

use super::client::{connect, describe, Endpoint, Remote};
use super::progress::Progress;
use super::TransportOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::image::config::{host_arch, ImageConfigFile};
use crate::image::ingest::{self, LayerDescriptor, StagedImage};
use crate::reference::Reference;
use futures_util::{StreamExt, TryStreamExt};
use image_store::{Digest, ImageRecord, Transaction};
use oci_client::manifest::OciDescriptor;
use serde_json::Value;
use std::io::Write;

const ACCEPTED: &[&str] = &[
    ingest::OCI_MANIFEST,
    ingest::OCI_INDEX,
    ingest::DOCKER_MANIFEST,
    ingest::DOCKER_MANIFEST_LIST,
];
/// Layers downloaded at once: decompression, not the network, bounds a local pull.
const CONCURRENT_LAYERS: usize = 3;

/// `os/arch[/variant]` to pull from an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            arch: host_arch().into(),
            variant: None,
        }
    }

    /// `--platform os/arch[/variant]`, with `--os`/`--arch`/`--variant` overriding parts.
    pub fn parse(
        platform: Option<&str>,
        os: Option<&str>,
        arch: Option<&str>,
        variant: Option<&str>,
    ) -> Result<Platform> {
        let mut p = Platform::host();
        if let Some(spec) = platform {
            let parts: Vec<&str> = spec.split('/').collect();
            if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|s| s.is_empty()) {
                return Err(Error::InvalidInput(format!(
                    "invalid platform {spec:?}: expected os/arch[/variant]"
                )));
            }
            p = Platform {
                os: parts[0].into(),
                arch: parts[1].into(),
                variant: parts.get(2).map(|v| v.to_string()),
            };
        }
        if let Some(o) = os {
            p.os = o.into();
        }
        if let Some(a) = arch {
            p.arch = a.into();
        }
        if let Some(v) = variant {
            p.variant = Some(v.into());
        }
        Ok(p)
    }
}

#[derive(Clone, Debug, Default)]
pub struct PullOptions {
    pub transport: TransportOptions,
    pub platform: Option<Platform>,
    pub quiet: bool,
}

/// Pulls `input` and returns the committed image. Runs its own async runtime and shuts it down before
/// returning, so nothing async is alive afterwards (the container fork path must stay single-threaded).
pub fn pull(engine: &Engine, input: &str, opts: &PullOptions) -> Result<ImageRecord> {
    super::block_on(2, pull_async(engine, input, opts))
}

async fn pull_async(engine: &Engine, input: &str, opts: &PullOptions) -> Result<ImageRecord> {
    let progress = Progress::new(opts.quiet);
    let reference = Reference::parse(input)?;
    let conf = crate::config::registries::load()?;
    let (candidates, description) = super::candidates(&conf, &reference)?;
    if let Some(d) = description {
        progress.say(&d);
    }
    let mut last_error = None;
    for candidate in &candidates {
        progress.say(&format!("Trying to pull {candidate}..."));
        for endpoint in super::endpoints(&conf, candidate, &opts.transport)? {
            match pull_from(engine, candidate, &endpoint, opts, &progress).await {
                Ok(rec) => return Ok(rec),
                // Another search registry or mirror may have it.
                Err(e @ Error::Registry { not_found: true, .. }) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
    }
    Err(last_error.unwrap_or_else(|| Error::InvalidInput(format!("{input}: no registry to pull from"))))
}

/// The tag or digest the reference asks for.
fn wanted(r: &Reference) -> String {
    match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    }
}

async fn fetch_manifest(
    remote: &Remote,
    what: &str,
) -> std::result::Result<(bytes::Bytes, String), oci_client::errors::OciDistributionError> {
    let r = if what.starts_with("sha256:") {
        remote.digested(what)
    } else {
        remote.tagged(what)
    };
    remote.client.pull_manifest_raw(&r, &remote.auth, ACCEPTED).await
}

async fn pull_from(
    engine: &Engine,
    candidate: &Reference,
    endpoint: &Endpoint,
    opts: &PullOptions,
    progress: &Progress,
) -> Result<ImageRecord> {
    let what = wanted(candidate);
    let (remote, (raw, digest)) = connect(endpoint, &opts.transport, |remote| {
        let what = what.clone();
        async move {
            let r = fetch_manifest(&remote, &what).await;
            (remote, r)
        }
    })
    .await
    .map_err(|e| name_error(e, candidate))?;
    let mut manifest: Value = serde_json::from_slice(&raw).map_err(|e| invalid(candidate, e))?;
    let mut manifest_bytes = raw.to_vec();
    let mut manifest_digest = parse_digest(&digest, candidate)?;
    let mut list_digest = None;
    let mut media_type = manifest["mediaType"]
        .as_str()
        .unwrap_or(ingest::OCI_MANIFEST)
        .to_string();
    if media_type == ingest::OCI_INDEX
        || media_type == ingest::DOCKER_MANIFEST_LIST
        || manifest["manifests"].is_array()
    {
        let platform = opts.platform.clone().unwrap_or_else(Platform::host);
        let chosen = choose_platform(&manifest, &platform, candidate)?;
        let (raw, digest) = fetch_manifest(&remote, &chosen)
            .await
            .map_err(|e| name_error(describe(endpoint, e), candidate))?;
        list_digest = Some(manifest_digest);
        manifest_digest = parse_digest(&digest, candidate)?;
        manifest_bytes = raw.to_vec();
        manifest = serde_json::from_slice(&raw).map_err(|e| invalid(candidate, e))?;
        media_type = manifest["mediaType"]
            .as_str()
            .unwrap_or(ingest::OCI_MANIFEST)
            .to_string();
    }
    let config_desc: OciDescriptor =
        serde_json::from_value(manifest["config"].clone()).map_err(|e| invalid(candidate, e))?;
    let layers: Vec<OciDescriptor> =
        serde_json::from_value(manifest["layers"].clone()).map_err(|e| invalid(candidate, e))?;
    let config_digest = parse_digest(&config_desc.digest, candidate)?;
    progress.say("Getting image source signatures");

    let name = candidate.normalized().to_string();
    let mut repo_digests = vec![format!(
        "{}@{manifest_digest}",
        candidate.normalized().repository()
    )];
    if let Some(l) = &list_digest {
        repo_digests.push(format!("{}@{l}", candidate.normalized().repository()));
    }

    // Already complete here: only the name and digests are new.
    if let Some(existing) = engine.store.images()?.get(&config_digest).cloned() {
        if existing
            .layers
            .iter()
            .all(|l| engine.store.has_layer(&l.chain_id) && engine.store.has_blob(&l.blob))
        {
            for l in &layers {
                progress.done(
                    progress.blob("blob", &l.digest, 0),
                    "blob",
                    &l.digest,
                    "skipped: already exists",
                );
            }
            progress.done(
                progress.blob("config", &config_desc.digest, 0),
                "config",
                &config_desc.digest,
                "done",
            );
            progress.say("Writing manifest to image destination");
            progress.say("Storing signatures");
            let list_digest = list_digest.clone();
            return engine.store.update_images(|db| -> Result<ImageRecord> {
                db.add_name(&config_digest, &name);
                let img = db
                    .get_mut(&config_digest)
                    .ok_or_else(|| Error::ImageNotKnown(name.clone()))?;
                for rd in &repo_digests {
                    if !img.repo_digests.contains(rd) {
                        img.repo_digests.push(rd.clone());
                    }
                }
                if let Some(l) = list_digest {
                    img.digests.retain(|d| *d != l);
                    img.digests.insert(0, l);
                }
                Ok(img.clone())
            });
        }
    }

    let tx = engine.store.begin()?;
    let mut config_bytes = Vec::new();
    remote
        .client
        .pull_blob(
            &remote.digested(&config_desc.digest),
            &config_desc,
            &mut config_bytes,
        )
        .await
        .map_err(|e| name_error(describe(endpoint, e), candidate))?;
    tx.put_blob(&config_bytes[..], Some(&config_digest))?;
    let config = ImageConfigFile::parse(&config_bytes)
        .map_err(|e| Error::InvalidArchive(format!("{candidate}: {e}")))?;
    if config.rootfs.diff_ids.len() != layers.len() {
        return Err(Error::InvalidArchive(format!(
            "{candidate}: the manifest lists {} layers but the config has {} diff IDs",
            layers.len(),
            config.rootfs.diff_ids.len()
        )));
    }
    let chains = image_store::store::chain_ids(&config.rootfs.diff_ids);
    let downloads = layers.iter().zip(&chains).filter(|(l, chain)| {
        let blob = Digest::parse(&l.digest).ok();
        !(blob.is_some_and(|b| engine.store.has_blob(&b)) && engine.store.has_layer(chain))
    });
    let jobs =
        futures_util::stream::iter(downloads.map(|(l, _)| download(&remote, &tx, l, progress, candidate)))
            .buffer_unordered(CONCURRENT_LAYERS);
    jobs.try_collect::<Vec<()>>().await?;
    for (l, _) in layers.iter().zip(&chains) {
        if tx.blob_path(&parse_digest(&l.digest, candidate)?).is_err() {
            return Err(Error::InvalidArchive(format!(
                "{candidate}: layer {} is missing",
                l.digest
            )));
        }
    }
    progress.done(
        progress.blob("config", &config_desc.digest, config_desc.size as u64),
        "config",
        &config_desc.digest,
        "done",
    );
    progress.say("Writing manifest to image destination");
    let manifest_staged = tx.put_blob_bytes(&manifest_bytes)?;
    debug_assert_eq!(manifest_staged, manifest_digest);
    let staged = StagedImage {
        manifest_digest,
        manifest_media_type: media_type,
        config_digest,
        layers: layers
            .iter()
            .map(|l| -> Result<LayerDescriptor> {
                Ok(LayerDescriptor {
                    digest: parse_digest(&l.digest, candidate)?,
                    media_type: l.media_type.clone(),
                    size: l.size as u64,
                })
            })
            .collect::<Result<_>>()?,
        names: vec![name],
        repo_digests,
        digests: list_digest.into_iter().collect(),
    };
    // Extraction is CPU work: off the async workers.
    let mut records = tokio::task::block_in_place(|| ingest::commit_images(tx, vec![staged]))?;
    progress.say("Storing signatures");
    Ok(records.remove(0))
}

async fn download(
    remote: &Remote,
    tx: &Transaction<'_>,
    layer: &OciDescriptor,
    progress: &Progress,
    candidate: &Reference,
) -> Result<()> {
    let digest = parse_digest(&layer.digest, candidate)?;
    let bar = progress.blob("blob", &layer.digest, layer.size as u64);
    let mut writer = tx.blob_writer(digest.clone())?;
    let mut stream = remote
        .client
        .pull_blob_stream(&remote.digested(&layer.digest), layer)
        .await
        .map_err(|e| name_error(describe(&remote.endpoint, e), candidate))?;
    while let Some(chunk) = stream.next().await {
        // The stream checks the digest at its end: a mismatch arrives here as an I/O error.
        let chunk = chunk.map_err(|e| Error::Registry {
            reference: candidate.normalized().to_string(),
            cause: format!("reading blob {}: {e}", layer.digest),
            not_found: false,
        })?;
        writer.write_all(&chunk).map_err(|e| Error::Io {
            context: format!("writing layer {digest}"),
            source: e,
        })?;
        bar.advance(chunk.len() as u64);
    }
    writer.finish()?;
    progress.done(bar, "blob", &layer.digest, "done");
    Ok(())
}

/// Picks the manifest for `want` from an index; a missing platform lists the ones there are.
fn choose_platform(index: &Value, want: &Platform, candidate: &Reference) -> Result<String> {
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    let mut available = vec![];
    for m in &manifests {
        let p = &m["platform"];
        let (os, arch, variant) = (
            p["os"].as_str().unwrap_or(""),
            p["architecture"].as_str().unwrap_or(""),
            p["variant"].as_str(),
        );
        available.push(match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
        let variant_ok = want.variant.as_deref().is_none_or(|w| Some(w) == variant);
        if os == want.os && arch == want.arch && variant_ok {
            if let Some(d) = m["digest"].as_str() {
                return Ok(d.to_string());
            }
        }
    }
    let want_s = match &want.variant {
        Some(v) => format!("{}/{}/{v}", want.os, want.arch),
        None => format!("{}/{}", want.os, want.arch),
    };
    Err(Error::InvalidInput(format!(
        "{candidate}: no image found in manifest list for architecture {want_s} (available: {})",
        available.join(", ")
    )))
}

fn parse_digest(d: &str, candidate: &Reference) -> Result<Digest> {
    Digest::parse(d).map_err(|e| Error::InvalidArchive(format!("{candidate}: {e}")))
}

fn invalid(candidate: &Reference, e: impl std::fmt::Display) -> Error {
    Error::InvalidArchive(format!("{candidate}: invalid manifest: {e}"))
}

/// Registry errors name the reference as the user gave it (qualified).
fn name_error(e: Error, candidate: &Reference) -> Error {
    match e {
        Error::Registry { cause, not_found, .. } => Error::Registry {
            reference: candidate.normalized().to_string(),
            cause,
            not_found,
        },
        other => other,
    }
}

/// `--pull` for `run` and `create`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Missing,
    Never,
    /// Pull when the registry has something else; the pull itself notices an unchanged image and only
    /// re-tags it, so this is `Always` at the cost of one manifest request.
    Newer,
}

impl std::str::FromStr for PullPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "always" => Ok(PullPolicy::Always),
            "missing" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            "newer" => Ok(PullPolicy::Newer),
            other => Err(Error::InvalidInput(format!(
                "unsupported pull policy {other:?}: use always, missing, never or newer"
            ))),
        }
    }
}

/// Makes `image` local as the policy says, before a container is created from it.
pub fn ensure_local(engine: &Engine, image: &str, policy: PullPolicy, opts: &PullOptions) -> Result<()> {
    let present = match crate::image::lookup::find(&engine.store.images()?, image) {
        Ok(_) => true,
        Err(Error::ImageNotKnown(_)) => false,
        Err(e) => return Err(e),
    };
    // `localhost/` names are local by definition: Podman never pulls them.
    let local_only =
        Reference::parse(image).is_ok_and(|r| r.domain.as_deref() == Some(crate::reference::LOCALHOST));
    match policy {
        PullPolicy::Never => Ok(()),
        _ if local_only => Ok(()),
        PullPolicy::Missing if present => Ok(()),
        PullPolicy::Newer if present && up_to_date(engine, image, opts)? => Ok(()),
        _ => pull(engine, image, opts).map(|_| ()),
    }
}

/// `--pull=newer`: does the registry still serve the manifest (or index) the local image came from?
/// An unreachable registry counts as up to date, as Podman falls back to the local image.
fn up_to_date(engine: &Engine, image: &str, opts: &PullOptions) -> Result<bool> {
    let db = engine.store.images()?;
    let local = crate::image::lookup::find(&db, image)?;
    let name =
        match crate::image::lookup::matching_name(local, image).or_else(|| local.names.first().cloned()) {
            Some(n) => Reference::parse(&n)?,
            None => return Ok(true),
        };
    let known: Vec<String> = std::iter::once(&local.manifest_digest)
        .chain(&local.digests)
        .map(|d| d.to_string())
        .collect();
    let remote = super::block_on(1, async {
        let conf = crate::config::registries::load()?;
        for endpoint in super::endpoints(&conf, &name, &opts.transport)? {
            let what = wanted(&name);
            let found = connect(&endpoint, &opts.transport, |remote| {
                let what = what.clone();
                async move {
                    let r = remote
                        .client
                        .fetch_manifest_digest(&remote.tagged(&what), &remote.auth)
                        .await;
                    (remote, r)
                }
            })
            .await;
            if let Ok((_, digest)) = found {
                return Ok::<_, Error>(Some(digest));
            }
        }
        Ok(None)
    })?;
    Ok(match remote {
        Some(digest) => known.contains(&digest),
        None => true,
    })
}
