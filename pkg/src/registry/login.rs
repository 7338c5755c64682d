//! `login`: checks the credentials against the registry (the `/v2/` ping, following a Bearer challenge
//! to its token endpoint), then stores them in auth.json as Podman does.

use super::client::Endpoint;
use super::TransportOptions;
use crate::error::{Error, Result};
use base64::Engine as _;

/// Verifies `user`/`password` at `registry` (`host[:port]`).
pub fn verify(registry: &str, user: &str, password: &str, opts: &TransportOptions) -> Result<()> {
    let conf = crate::config::registries::load()?;
    let mut endpoint = super::direct_endpoint(&conf, registry, opts)?;
    endpoint.repository.clear();
    super::block_on(1, async {
        match ping(&endpoint, user, password, opts, false).await {
            Err(e)
                if endpoint.insecure
                    && !matches!(e, Error::Registry { not_found: false, ref cause, .. } if cause.contains("invalid username")) =>
            {
                ping(&endpoint, user, password, opts, true).await
            }
            other => other,
        }
    })
}

fn fail(registry: &str, cause: String) -> Error {
    Error::Registry {
        reference: registry.to_string(),
        cause,
        not_found: false,
    }
}

async fn ping(
    endpoint: &Endpoint,
    user: &str,
    password: &str,
    opts: &TransportOptions,
    http: bool,
) -> Result<()> {
    let mut builder = reqwest::Client::builder().danger_accept_invalid_certs(endpoint.insecure);
    for pem in super::certs::ca_certificates(&endpoint.registry, opts.cert_dir.as_deref())? {
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| fail(&endpoint.registry, format!("reading CA: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder
        .build()
        .map_err(|e| fail(&endpoint.registry, e.to_string()))?;
    let scheme = if http { "http" } else { "https" };
    let url = format!("{scheme}://{}/v2/", endpoint.registry);
    let send_err = |e: reqwest::Error| {
        fail(
            &endpoint.registry,
            format!("pinging container registry {}: {e}", endpoint.registry),
        )
    };
    let resp = client
        .get(&url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .map_err(send_err)?;
    if resp.status().is_success() {
        return Ok(());
    }
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if let Some(params) = challenge.strip_prefix("Bearer ") {
            let field = |name: &str| {
                params.split(',').find_map(|kv| {
                    let (k, v) = kv.trim().split_once('=')?;
                    (k == name).then(|| v.trim_matches('"').to_string())
                })
            };
            let realm = field("realm")
                .ok_or_else(|| fail(&endpoint.registry, "token challenge without realm".into()))?;
            let mut req = client.get(&realm).basic_auth(user, Some(password));
            if let Some(service) = field("service") {
                req = req.query(&[("service", service)]);
            }
            let token = req.send().await.map_err(send_err)?;
            if token.status().is_success() {
                return Ok(());
            }
        }
        return Err(fail(&endpoint.registry, "invalid username/password".into()));
    }
    Err(fail(
        &endpoint.registry,
        format!(
            "pinging container registry {}: unexpected status {}",
            endpoint.registry,
            resp.status()
        ),
    ))
}

/// `user:password` in base64, as auth.json stores it.
pub fn encode_auth(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
