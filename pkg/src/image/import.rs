//! `import`: a root filesystem tarball becomes a one-layer image, with Dockerfile-style `--change`s.

use super::config::{host_arch, ContainerConfig, History, ImageConfigFile, RootFs};
use super::ingest::{
    commit_images, stage_oci_manifest, LayerDescriptor, StagedImage, OCI_LAYER_TAR, OCI_MANIFEST,
};
use super::tag::new_name;
use crate::engine::Engine;
use crate::error::{Error, IoContext, Result};
use image_store::compression;
use image_store::Digest;
use std::io::{BufReader, Read};

#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    pub name: Option<String>,
    pub changes: Vec<String>,
    pub message: Option<String>,
}

/// Imports the tarball and returns the new image's ID.
pub fn import(engine: &Engine, input: impl Read, opts: &ImportOptions) -> Result<Digest> {
    let name = opts.name.as_deref().map(new_name).transpose()?;
    let mut config = ContainerConfig::default();
    for c in &opts.changes {
        apply_change(&mut config, c)?;
    }
    let tx = engine.store.begin()?;
    // Store the layer uncompressed: its digest is then its diff ID, computed in the same pass.
    let (_, plain) = compression::decompress(BufReader::with_capacity(256 * 1024, input), None)
        .ctx(|| "reading tarball".into())?;
    let (diff_id, size) = tx.put_blob(plain, None)?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let image_config = ImageConfigFile {
        created: Some(now.clone()),
        architecture: host_arch().into(),
        os: "linux".into(),
        config,
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![diff_id.clone()],
        },
        history: vec![History {
            created: Some(now),
            created_by: Some(format!("/bin/sh -c #(nop) ADD file:{} in /", diff_id.hex())),
            comment: Some(
                opts.message
                    .clone()
                    .unwrap_or_else(|| "imported from tarball".into()),
            ),
            ..Default::default()
        }],
        ..Default::default()
    };
    let config_bytes = serde_json::to_vec(&image_config).expect("config serialises");
    let config_digest = tx.put_blob_bytes(&config_bytes)?;
    let layers = vec![LayerDescriptor {
        digest: diff_id,
        media_type: OCI_LAYER_TAR.into(),
        size,
    }];
    let manifest_digest = stage_oci_manifest(&tx, &config_digest, config_bytes.len() as u64, &layers)?;
    let staged = StagedImage {
        manifest_digest,
        manifest_media_type: OCI_MANIFEST.into(),
        config_digest: config_digest.clone(),
        layers,
        names: name.into_iter().collect(),
        repo_digests: vec![],
        digests: vec![],
    };
    commit_images(tx, vec![staged])?;
    Ok(config_digest)
}

/// Applies one `INSTRUCTION=value` or `INSTRUCTION value` change (CMD, ENTRYPOINT, ENV, WORKDIR, USER,
/// LABEL, EXPOSE, VOLUME, STOPSIGNAL), with Dockerfile semantics: a JSON array is exec form, anything
/// else shell form.
pub fn apply_change(config: &mut ContainerConfig, change: &str) -> Result<()> {
    let split = change.find(['=', ' ']).ok_or_else(|| bad_change(change))?;
    let (instr, value) = (change[..split].to_ascii_uppercase(), change[split + 1..].trim());
    match instr.as_str() {
        "CMD" => config.cmd = Some(command_form(value)),
        "ENTRYPOINT" => config.entrypoint = Some(command_form(value)),
        "ENV" => {
            let (k, v) = value
                .split_once('=')
                .or_else(|| value.split_once(' '))
                .ok_or_else(|| bad_change(change))?;
            let env = config.env.get_or_insert_with(Vec::new);
            env.retain(|e| e.split('=').next() != Some(k));
            env.push(format!("{k}={}", v.trim()));
        }
        "WORKDIR" => config.working_dir = Some(value.into()),
        "USER" => config.user = Some(value.into()),
        "STOPSIGNAL" => config.stop_signal = Some(value.into()),
        "LABEL" => {
            let (k, v) = value.split_once('=').ok_or_else(|| bad_change(change))?;
            config
                .labels
                .get_or_insert_with(Default::default)
                .insert(k.into(), v.trim_matches('"').into());
        }
        "EXPOSE" => {
            for port in value.split_whitespace() {
                let key = if port.contains('/') {
                    port.to_string()
                } else {
                    format!("{port}/tcp")
                };
                config
                    .exposed_ports
                    .get_or_insert_with(Default::default)
                    .insert(key, serde_json::json!({}));
            }
        }
        "VOLUME" => {
            for v in command_form_list(value) {
                config
                    .volumes
                    .get_or_insert_with(Default::default)
                    .insert(v, serde_json::json!({}));
            }
        }
        _ => return Err(bad_change(change)),
    }
    Ok(())
}

fn bad_change(change: &str) -> Error {
    Error::InvalidInput(format!(
        "invalid change {change:?}: expected INSTRUCTION=value with one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR"
    ))
}

fn command_form(value: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(value) {
        Ok(v) => v,
        Err(_) => vec!["/bin/sh".into(), "-c".into(), value.into()],
    }
}

fn command_form_list(value: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(value)
        .unwrap_or_else(|_| value.split_whitespace().map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_follow_dockerfile_forms() {
        let mut c = ContainerConfig::default();
        apply_change(&mut c, "CMD=/bin/sh").unwrap();
        apply_change(&mut c, r#"ENTRYPOINT=["/bin/echo","hi"]"#).unwrap();
        apply_change(&mut c, "ENV=A=b").unwrap();
        apply_change(&mut c, "ENV A=c").unwrap();
        apply_change(&mut c, "WORKDIR=/tmp").unwrap();
        apply_change(&mut c, "EXPOSE=80").unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "/bin/sh"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/echo", "hi"]);
        assert_eq!(c.env.unwrap(), ["A=c"]);
        assert_eq!(c.working_dir.as_deref(), Some("/tmp"));
        assert!(c.exposed_ports.unwrap().contains_key("80/tcp"));
        assert!(apply_change(&mut ContainerConfig::default(), "FROM=x").is_err());
    }
}
