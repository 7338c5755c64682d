//! Talking to one registry endpoint: an oci-client `Client` configured for its TLS settings and the
//! caller's credentials, with Podman's error messages.
//!
//! An insecure endpoint (`--tls-verify=false`, `insecure = true`) is tried over HTTPS without
//! certificate verification first and over plain HTTP when that fails to connect, as containers/image
//! does.

use super::TransportOptions;
use crate::error::{Error, Result};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference as OciReference};

pub use crate::config::registries::Endpoint;

/// A configured client for one endpoint.
pub struct Remote {
    pub client: Client,
    pub auth: RegistryAuth,
    pub endpoint: Endpoint,
    /// Plain HTTP was chosen (only for insecure endpoints).
    pub http: bool,
}

fn config(endpoint: &Endpoint, opts: &TransportOptions, http: bool) -> Result<ClientConfig> {
    let mut extra = vec![];
    for pem in super::certs::ca_certificates(&endpoint.registry, opts.cert_dir.as_deref())? {
        extra.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data: pem,
        });
    }
    Ok(ClientConfig {
        protocol: if http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        accept_invalid_certificates: endpoint.insecure,
        extra_root_certificates: extra,
        platform_resolver: None,
        connect_timeout: Some(std::time::Duration::from_secs(30)),
        ..Default::default()
    })
}

/// The credentials to use: `--creds` (never sent to a mirror), else auth.json (or Docker's config.json),
/// else anonymous.
pub fn credentials(endpoint: &Endpoint, opts: &TransportOptions) -> Result<RegistryAuth> {
    if let Some((u, p)) = &opts.creds {
        if !endpoint.mirror {
            return Ok(RegistryAuth::Basic(u.clone(), p.clone()));
        }
    }
    Ok(
        match super::auth::credentials_for(
            opts.authfile.as_deref(),
            &endpoint.registry,
            &endpoint.repository,
        )? {
            Some((u, p)) => RegistryAuth::Basic(u, p),
            None => RegistryAuth::Anonymous,
        },
    )
}

impl Remote {
    pub fn new(endpoint: &Endpoint, opts: &TransportOptions, http: bool) -> Result<Remote> {
        Ok(Remote {
            client: Client::new(config(endpoint, opts, http)?),
            auth: credentials(endpoint, opts)?,
            endpoint: endpoint.clone(),
            http,
        })
    }

    pub fn tagged(&self, tag: &str) -> OciReference {
        OciReference::with_tag(
            self.endpoint.registry.clone(),
            self.endpoint.repository.clone(),
            tag.to_string(),
        )
    }

    pub fn digested(&self, digest: &str) -> OciReference {
        OciReference::with_digest(
            self.endpoint.registry.clone(),
            self.endpoint.repository.clone(),
            digest.to_string(),
        )
    }
}

/// Runs `op` against the endpoint, falling back from HTTPS to HTTP for insecure endpoints whose HTTPS
/// attempt cannot connect. Returns the remote that worked, for the rest of the operation.
pub async fn connect<T, F, Fut>(endpoint: &Endpoint, opts: &TransportOptions, op: F) -> Result<(Remote, T)>
where
    F: Fn(Remote) -> Fut,
    Fut: std::future::Future<Output = (Remote, std::result::Result<T, OciDistributionError>)>,
{
    let (remote, result) = op(Remote::new(endpoint, opts, false)?).await;
    match result {
        Ok(v) => Ok((remote, v)),
        Err(e) if endpoint.insecure && is_connection_error(&e) => {
            let (remote, result) = op(Remote::new(endpoint, opts, true)?).await;
            result.map(|v| (remote, v)).map_err(|e| describe(endpoint, e))
        }
        Err(e) => Err(describe(endpoint, e)),
    }
}

fn is_connection_error(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => r.is_connect() || r.is_request() || r.is_timeout(),
        other => {
            let s = other.to_string();
            s.contains("error sending request") || s.contains("InvalidContentType") || s.contains("tls")
        }
    }
}

/// The one-line cause Podman users recognise: manifest unknown, authentication required, connection refused,
/// certificate signed by unknown authority.
pub fn describe(endpoint: &Endpoint, e: OciDistributionError) -> Error {
    let full = error_chain(&e);
    let lower = full.to_ascii_lowercase();
    let what = format!("{}/{}", endpoint.registry, endpoint.repository);
    let cause = if lower.contains("manifest unknown")
        || matches!(e, OciDistributionError::ImageManifestNotFoundError(_))
    {
        "manifest unknown".to_string()
    } else if lower.contains("name unknown") || lower.contains("repository name not known") {
        "repository name not known to registry".to_string()
    } else if matches!(
        e,
        OciDistributionError::AuthenticationFailure(_) | OciDistributionError::UnauthorizedError { .. }
    ) || lower.contains("unauthorized")
        || lower.contains("401")
    {
        format!(
            "unauthorized: authentication required: invalid username/password or missing credentials for {}",
            endpoint.registry
        )
    } else if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        format!(
            "pinging container registry {}: http: server gave HTTP response to HTTPS client",
            endpoint.registry
        )
    } else if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer")
    {
        format!(
            "pinging container registry {}: x509: certificate signed by unknown authority ({full})",
            endpoint.registry
        )
    } else if lower.contains("connection refused")
        || lower.contains("error sending request")
        || lower.contains("connect")
    {
        format!(
            "pinging container registry {}: connection refused ({full})",
            endpoint.registry
        )
    } else {
        full
    };
    Error::Registry {
        reference: what,
        cause,
        not_found: lower.contains("manifest unknown")
            || lower.contains("not found")
            || lower.contains("name unknown"),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s.replace('\n', " ")
}
