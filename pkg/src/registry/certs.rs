//! Per-registry TLS files (containers-certs.d(5)): `*.crt` CA certificates, and `*.cert` + `*.key`
//! client certificate pairs matched by name.
//!
//! The directory: `--cert-dir` itself when given; else the first existing `<host[:port]>` directory
//! under `$HOME/.config/containers/certs.d`, `/etc/containers/certs.d`, `/etc/docker/certs.d`, as
//! containers/image searches them. The port must match the reference exactly (`registry.example`
//! and `registry.example:443` are different directories). Files are read, never parsed: the TLS
//! client does that.

use crate::config::registries::Env;
use crate::error::{Error, IoContext, Result};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// A client certificate and its key, PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The shared file stem (`client` for `client.cert` and `client.key`).
    pub name: String,
    pub certificate: Vec<u8>,
    pub key: Vec<u8>,
}

/// What a registry's certificate directory holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The directory read; None when none exists.
    pub dir: Option<PathBuf>,
    /// Contents of each `*.crt` file, in name order.
    pub ca_certificates: Vec<Vec<u8>>,
    pub client_identities: Vec<ClientIdentity>,
}

/// The PEM contents of the `*.crt` files for `registry` (`host[:port]`).
pub fn ca_certificates(registry: &str, cert_dir: Option<&Path>) -> Result<Vec<Vec<u8>>> {
    Ok(tls_files(registry, cert_dir)?.ca_certificates)
}

/// CA certificates and client identities for `registry` (`host[:port]`).
pub fn tls_files(registry: &str, cert_dir: Option<&Path>) -> Result<TlsFiles> {
    tls_files_with(&Env::from_process(), registry, cert_dir)
}

pub fn tls_files_with(env: &Env, registry: &str, cert_dir: Option<&Path>) -> Result<TlsFiles> {
    let dir = match cert_dir {
        Some(d) => Some(d.to_path_buf()),
        None => registry_dir(env, registry),
    };
    match dir {
        Some(d) => read_dir(&d),
        None => Ok(TlsFiles::default()),
    }
}

/// The first existing `<registry>` directory of the per-host certificate directories.
fn registry_dir(env: &Env, registry: &str) -> Option<PathBuf> {
    let roots = env
        .home_path(".config/containers/certs.d")
        .into_iter()
        .chain(["/etc/containers/certs.d", "/etc/docker/certs.d"].map(|p| env.system_path(p)));
    // An unreadable candidate is passed over, as containers/image does.
    roots.map(|root| root.join(registry)).find(|d| d.exists())
}

fn read_dir(dir: &Path) -> Result<TlsFiles> {
    let mut files = TlsFiles {
        dir: Some(dir.to_path_buf()),
        ..TlsFiles::default()
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => return Ok(files),
        Err(e) => return Err(e).ctx(|| format!("reading certificates in {}", dir.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let read =
        |name: &str| std::fs::read(dir.join(name)).ctx(|| format!("reading {}", dir.join(name).display()));
    for name in &names {
        if name.ends_with(".crt") {
            match std::fs::read(dir.join(name)) {
                Ok(pem) => files.ca_certificates.push(pem),
                // Removed between the listing and the read.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e).ctx(|| format!("reading {}", dir.join(name).display())),
            }
        } else if let Some(stem) = name.strip_suffix(".cert") {
            let key = format!("{stem}.key");
            if !names.contains(&key) {
                return Err(Error::Config(format!(
                    "missing key {key} for client certificate {name}. Note that CA certificates should use the extension .crt"
                )));
            }
            files.client_identities.push(ClientIdentity {
                name: stem.to_string(),
                certificate: read(name)?,
                key: read(&key)?,
            });
        } else if let Some(stem) = name.strip_suffix(".key") {
            let cert = format!("{stem}.cert");
            if !names.contains(&cert) {
                return Err(Error::Config(format!(
                    "missing client certificate {cert} for key {name}"
                )));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::registries::tests::{test_env, write};

    #[test]
    fn a_cert_dir_is_read_directly_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        write(&certs.join("b.crt"), "B");
        write(&certs.join("a.crt"), "A");
        write(&certs.join("client.cert"), "CERT");
        write(&certs.join("client.key"), "KEY");
        write(&certs.join("notes.txt"), "ignored");
        let files = tls_files_with(&test_env(dir.path()), "any.test", Some(&certs)).unwrap();
        assert_eq!(files.ca_certificates, [b"A".to_vec(), b"B".to_vec()]);
        assert_eq!(
            files.client_identities,
            [ClientIdentity {
                name: "client".into(),
                certificate: b"CERT".to_vec(),
                key: b"KEY".to_vec()
            }]
        );
        assert_eq!(files.dir, Some(certs));
    }

    #[test]
    fn the_first_existing_host_directory_wins_and_the_port_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        write(
            &dir.path().join("etc/containers/certs.d/r.test:5000/ca.crt"),
            "ETC",
        );
        write(&dir.path().join("etc/docker/certs.d/r.test/ca.crt"), "DOCKER");
        let ca = |registry: &str| tls_files_with(&env, registry, None).unwrap().ca_certificates;
        assert_eq!(ca("r.test:5000"), [b"ETC".to_vec()]);
        assert_eq!(ca("r.test"), [b"DOCKER".to_vec()]);
        assert!(ca("r.test:443").is_empty());
        write(
            &dir.path()
                .join("home/.config/containers/certs.d/r.test:5000/mine.crt"),
            "HOME",
        );
        assert_eq!(ca("r.test:5000"), [b"HOME".to_vec()]);
    }

    #[test]
    fn an_unpaired_client_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        let one = dir.path().join("one");
        write(&one.join("client.cert"), "C");
        let err = tls_files_with(&env, "r.test", Some(&one))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "missing key client.key for client certificate client.cert. Note that CA certificates should use the extension .crt"
        );
        let two = dir.path().join("two");
        write(&two.join("client.key"), "K");
        let err = tls_files_with(&env, "r.test", Some(&two))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "missing client certificate client.cert for key client.key");
    }
}
