//! Image references per the distribution grammar (`[domain[:port]/]path[:tag][@sha256:hex]`), with
//! Docker Hub normalisation and Podman's rules for short names.
//!
//! Parsed by hand rather than with oci-client's regex: its first use costs ~40 ms, and references are
//! parsed on the `run` path.

use image_store::Digest;
use std::fmt;

pub const DOCKER_HUB: &str = "docker.io";
pub const LOCALHOST: &str = "localhost";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReferenceError {
    #[error("invalid reference format: {0:?}: repository name must be lowercase")]
    Uppercase(String),
    #[error("invalid reference format: {0:?}")]
    Invalid(String),
    #[error("invalid reference format: {0:?}: repository name must not be more than 255 characters")]
    TooLong(String),
    #[error("invalid reference format: {0:?}: {1}")]
    BadDigest(String, String),
}

/// A parsed reference. `domain` is `None` for a short name such as `busybox` or `library/busybox`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub domain: Option<String>,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let invalid = || ReferenceError::Invalid(input.to_string());
        if input.is_empty() {
            return Err(invalid());
        }
        let (rest, digest) = match input.split_once('@') {
            Some((name, d)) => {
                let dg =
                    Digest::parse(d).map_err(|e| ReferenceError::BadDigest(input.into(), e.to_string()))?;
                (name, Some(dg))
            }
            None => (input, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].find(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(invalid());
            }
        }
        if name.len() > 255 {
            return Err(ReferenceError::TooLong(input.to_string()));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, remainder)) if looks_like_domain(first) => (Some(first), remainder),
            _ => (None, name),
        };
        if let Some(d) = domain {
            if !valid_domain(d) {
                return Err(invalid());
            }
        }
        if path.is_empty() {
            return Err(invalid());
        }
        for component in path.split('/') {
            if !valid_path_component(component) {
                if valid_path_component(&component.to_ascii_lowercase()) {
                    return Err(ReferenceError::Uppercase(input.to_string()));
                }
                return Err(invalid());
            }
        }
        let domain = domain.map(|d| {
            if d == "index.docker.io" {
                DOCKER_HUB.to_string()
            } else {
                d.to_string()
            }
        });
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// True for a name without a registry (`busybox`, `library/busybox`).
    pub fn is_short(&self) -> bool {
        self.domain.is_none()
    }

    /// Qualifies a short name with `domain` (Docker Hub adds `library/` to one-component paths) and
    /// adds `:latest` when there is neither tag nor digest.
    pub fn qualified_with(&self, domain: &str) -> Reference {
        let mut r = self.clone();
        if r.domain.is_none() {
            r.domain = Some(domain.to_string());
        }
        if r.domain.as_deref() == Some(DOCKER_HUB) && !r.path.contains('/') {
            r.path = format!("library/{}", r.path);
        }
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some("latest".into());
        }
        r
    }

    /// Docker's normalisation: short names live on Docker Hub (`busybox` → `docker.io/library/busybox:latest`).
    pub fn normalized(&self) -> Reference {
        self.qualified_with(DOCKER_HUB)
    }

    /// Podman's normalisation for names it creates (tag, import, commit): short names live under `localhost/`.
    pub fn normalized_local(&self) -> Reference {
        self.qualified_with(LOCALHOST)
    }

    /// `domain/path` without tag or digest.
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// `domain:port` of the registry, or Docker Hub.
    pub fn registry(&self) -> &str {
        self.domain.as_deref().unwrap_or(DOCKER_HUB)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Splits a stored name (`repo:tag` or `repo@digest`) into repository and tag, for listings.
pub fn split_name(name: &str) -> (&str, Option<&str>) {
    if let Some((repo, _)) = name.split_once('@') {
        return (repo, None);
    }
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    }
}

fn looks_like_domain(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == LOCALHOST
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || d.starts_with('[') => (h, Some(p)),
        _ => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.' || x == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().normalized().to_string()
    }

    #[test]
    fn docker_hub_normalisation() {
        assert_eq!(norm("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(norm("library/busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(norm("user/app"), "docker.io/user/app:latest");
        assert_eq!(norm("index.docker.io/user/app"), "docker.io/user/app:latest");
        assert_eq!(norm("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(norm("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(norm("localhost/x:1"), "localhost/x:1");
        assert_eq!(norm("127.0.0.1:5000/a/b/c:v1.0"), "127.0.0.1:5000/a/b/c:v1.0");
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            norm(&format!("busybox@{d}")),
            format!("docker.io/library/busybox@{d}")
        );
        assert_eq!(
            norm(&format!("busybox:1@{d}")),
            format!("docker.io/library/busybox:1@{d}")
        );
    }

    #[test]
    fn local_normalisation() {
        assert_eq!(
            Reference::parse("foo").unwrap().normalized_local().to_string(),
            "localhost/foo:latest"
        );
        assert_eq!(
            Reference::parse("a/b:2").unwrap().normalized_local().to_string(),
            "localhost/a/b:2"
        );
    }

    #[test]
    fn rejects_bad_references() {
        assert!(matches!(
            Reference::parse("Busybox"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse("docker.io/Library/x"),
            Err(ReferenceError::Uppercase(_))
        ));
        for bad in [
            "",
            ":tag",
            "a::b",
            "a/",
            "/a",
            "a//b",
            "-a",
            "a-",
            "a@sha256:12",
            "a:tag with space",
            "a:-x",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(Reference::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn path_separators() {
        for ok in ["a_b", "a__b", "a.b", "a---b", "a-b_c.d"] {
            assert!(Reference::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a___b", "a..b", "a._b"] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_names() {
        assert_eq!(split_name("localhost:5000/x:1"), ("localhost:5000/x", Some("1")));
        assert_eq!(split_name("localhost:5000/x"), ("localhost:5000/x", None));
    }
}
