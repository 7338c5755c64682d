//! Registry credentials in Podman's auth.json (containers-auth.json(5)).
//!
//! The primary file, read and written: `--authfile`, else `$REGISTRY_AUTH_FILE`, else
//! `$XDG_RUNTIME_DIR/containers/auth.json`, else `/run/containers/<uid>/auth.json`. Only when the user
//! named no file are credentials also read from `$XDG_CONFIG_HOME/containers/auth.json` (or
//! `~/.config/...`), `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`) and the legacy
//! `~/.dockercfg`, in that order, as containers/image reads them.
//!
//! Format: `{"auths": {"KEY": {"auth": base64("user:password")}}}`, where KEY is `host[:port]` or
//! `host[:port]/namespace...`; the most specific key matching a repository wins. Keys we do not use
//! (`credHelpers`, `HttpHeaders`, ...) survive a rewrite. Credential helpers are not run: an entry
//! they own is skipped when reading and refused when writing. Writes are atomic, mode 0600, in a
//! directory created 0700.

use crate::config::registries::{io_message, Env};
use crate::error::{Error, IoContext, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::fs::{DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Credentials for `repository` (its path, `library/busybox`) on `registry` (`host[:port]`).
pub fn credentials_for(
    authfile: Option<&Path>,
    registry: &str,
    repository: &str,
) -> Result<Option<(String, String)>> {
    AuthFiles::resolve(authfile, &Env::from_process()).credentials_for(registry, repository)
}

/// Stores `user:password` under `key` in the primary file; returns that file's path.
pub fn store(authfile: Option<&Path>, key: &str, user: &str, password: &str) -> Result<PathBuf> {
    AuthFiles::resolve(authfile, &Env::from_process()).store(key, user, password)
}

/// Removes `key` from the primary file; false when it held no entry for it.
pub fn remove(authfile: Option<&Path>, key: &str) -> Result<bool> {
    AuthFiles::resolve(authfile, &Env::from_process()).remove(key)
}

/// Removes every entry of the primary file.
pub fn remove_all(authfile: Option<&Path>) -> Result<()> {
    AuthFiles::resolve(authfile, &Env::from_process()).remove_all()
}

/// The user name stored for `key` (`login --get-login`); None when not logged in.
pub fn get_login(authfile: Option<&Path>, key: &str) -> Result<Option<String>> {
    AuthFiles::resolve(authfile, &Env::from_process()).get_login(key)
}

/// Splits `--creds USER[:PASSWORD]` at the first colon. An empty password means none was given:
/// Podman then prompts `Password: ` on the terminal.
pub fn parse_creds(s: &str) -> Result<(String, String)> {
    if s.is_empty() {
        return Err(Error::InvalidInput("no credentials supplied".into()));
    }
    let (user, password) = s.split_once(':').unwrap_or((s, ""));
    Ok((user.to_string(), password.to_string()))
}

/// Podman's check of a file named by `--authfile` before pull and logout.
pub fn check_authfile(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::InvalidInput(format!(
            "credential file is not accessible: stat {}: {}",
            path.display(),
            io_message(&e)
        ))),
    }
}

/// The credential key a `login`/`logout` argument names, and its registry: a URL is cut to its
/// `host[:port]`; a `host/namespace` key may not carry a tag or digest.
pub fn key_from_argument(arg: &str) -> Result<(String, String)> {
    let key = match arg
        .strip_prefix("https://")
        .or_else(|| arg.strip_prefix("http://"))
    {
        Some(rest) => rest.split(['/', '?', '#']).next().unwrap_or("").to_string(),
        None => arg.to_string(),
    };
    let registry = key.split('/').next().unwrap_or("").to_string();
    if registry != key {
        let r = crate::reference::Reference::parse(&key)
            .map_err(|e| Error::InvalidInput(format!("parse reference from {key:?}: {e}")))?;
        if r.tag.is_some() || r.digest.is_some() {
            return Err(Error::InvalidInput(format!(
                "reference {:?} contains tag or digest",
                r.to_string()
            )));
        }
    }
    Ok((key, registry))
}

/// Where credentials are read and written for one command.
#[derive(Clone, Debug)]
pub struct AuthFiles {
    /// The read-write file, or why there is none (`$XDG_RUNTIME_DIR` names a missing directory).
    primary: std::result::Result<PathBuf, String>,
    /// Read-only fallbacks, in order; the bool marks the legacy `.dockercfg` format.
    fallbacks: Vec<(PathBuf, bool)>,
}

impl AuthFiles {
    pub fn resolve(authfile: Option<&Path>, env: &Env) -> AuthFiles {
        if let Some(p) = authfile
            .map(Path::to_path_buf)
            .or_else(|| env.registry_auth_file.clone())
        {
            return AuthFiles {
                primary: Ok(p),
                fallbacks: vec![],
            };
        }
        let primary = match &env.xdg_runtime_dir {
            Some(dir) if !dir.exists() => Err(format!(
                "{:?} directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR.",
                dir.display().to_string()
            )),
            Some(dir) => Ok(dir.join("containers/auth.json")),
            None => Ok(env.system_path(&format!("/run/containers/{}/auth.json", env.uid))),
        };
        let mut fallbacks = vec![];
        if let Some(config) = env.config_home() {
            fallbacks.push((config.join("containers/auth.json"), false));
        }
        match &env.docker_config {
            Some(dir) => fallbacks.push((dir.join("config.json"), false)),
            None => fallbacks.extend(env.home_path(".docker/config.json").map(|p| (p, false))),
        }
        fallbacks.extend(env.home_path(".dockercfg").map(|p| (p, true)));
        AuthFiles { primary, fallbacks }
    }

    /// The file `store` and `remove` write.
    pub fn primary(&self) -> Result<&Path> {
        self.primary.as_deref().map_err(|e| Error::Config(e.clone()))
    }

    /// Every file read, in order; a missing primary is left out.
    fn read_order(&self) -> impl Iterator<Item = (&Path, bool)> {
        let primary = self.primary.as_deref().ok().map(|p| (p, false));
        primary
            .into_iter()
            .chain(self.fallbacks.iter().map(|(p, legacy)| (p.as_path(), *legacy)))
    }

    pub fn credentials_for(&self, registry: &str, repository: &str) -> Result<Option<(String, String)>> {
        let key = if repository.is_empty() {
            registry.to_string()
        } else {
            format!("{registry}/{repository}")
        };
        self.find(&key)
    }

    pub fn get_login(&self, key: &str) -> Result<Option<String>> {
        validate_key(key)?;
        Ok(self.find(key)?.map(|(user, _)| user))
    }

    /// The first credentials for `key` (or a parent namespace of it, or its registry) in read order.
    fn find(&self, key: &str) -> Result<Option<(String, String)>> {
        let registry = key.split('/').next().unwrap_or(key);
        for (path, legacy) in self.read_order() {
            let Some(doc) = read_document(path, legacy)? else {
                continue;
            };
            if doc.get("credHelpers").and_then(|h| h.get(registry)).is_some() {
                continue;
            }
            let Some(auths) = doc.get("auths").and_then(Value::as_object) else {
                continue;
            };
            if let Some(found) = find_in(path, auths, key, registry, legacy)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    pub fn store(&self, key: &str, user: &str, password: &str) -> Result<PathBuf> {
        validate_key(key)?;
        let path = self.primary()?;
        let mut doc = read_primary(path)?;
        if let Some(helper) = doc
            .get("credHelpers")
            .and_then(|h| h.get(key))
            .and_then(Value::as_str)
        {
            return Err(Error::InvalidInput(format!(
                "updating {:?}: credentials for {key} are kept by the credential helper docker-credential-{helper}, which is not supported",
                path.display().to_string()
            )));
        }
        let entry = serde_json::json!({ "auth": BASE64.encode(format!("{user}:{password}")) });
        auths_mut(&mut doc).insert(key.to_string(), entry);
        write_document(path, &doc)?;
        Ok(path.to_path_buf())
    }

    pub fn remove(&self, key: &str) -> Result<bool> {
        validate_key(key)?;
        let path = self.primary()?;
        let mut doc = read_primary(path)?;
        if auths_mut(&mut doc).remove(key).is_none() {
            return Ok(false);
        }
        write_document(path, &doc)?;
        Ok(true)
    }

    /// Empties `auths`; `credHelpers` entries stay, as their helpers are not run.
    pub fn remove_all(&self) -> Result<()> {
        let path = self.primary()?;
        if !path.exists() {
            return Ok(());
        }
        let mut doc = read_primary(path)?;
        auths_mut(&mut doc).clear();
        write_document(path, &doc)
    }
}

/// Refuses keys containers/image refuses: URL schemes, digests, tags after the host.
fn validate_key(key: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::InvalidInput(format!("key {key} contains {why}")));
    if key.starts_with("http://") || key.starts_with("https://") {
        return bad("http[s]:// prefix");
    }
    if key.contains('@') {
        return bad("a '@' character");
    }
    if key.split_once('/').is_some_and(|(_, rest)| rest.contains(':')) {
        return bad("a ':' character after host[:port]");
    }
    Ok(())
}

/// The file as a JSON object (a legacy `.dockercfg` is wrapped into `{"auths": ...}`); None when missing.
fn read_document(path: &Path, legacy: bool) -> Result<Option<Map<String, Value>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).ctx(|| format!("reading JSON file {:?}", path.display().to_string())),
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        let p = path.display().to_string();
        Error::Config(format!(
            "reading JSON file {p:?}: unmarshaling JSON at {p:?}: {e}"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(Error::Config(format!(
            "reading JSON file {:?}: not a JSON object",
            path.display().to_string()
        )));
    };
    if legacy {
        return Ok(Some(Map::from_iter([("auths".to_string(), Value::Object(map))])));
    }
    Ok(Some(map))
}

fn read_primary(path: &Path) -> Result<Map<String, Value>> {
    Ok(read_document(path, false)?.unwrap_or_default())
}

fn auths_mut(doc: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let auths = doc.entry("auths").or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    auths.as_object_mut().expect("auths was just made an object")
}

/// Looks `key`, then each parent namespace, then the registry up in `auths`; then the URL and
/// Docker Hub spellings Docker writes (`https://index.docker.io/v1/`).
fn find_in(
    path: &Path,
    auths: &Map<String, Value>,
    key: &str,
    registry: &str,
    legacy: bool,
) -> Result<Option<(String, String)>> {
    let mut candidates = vec![];
    if legacy {
        candidates.push(registry);
    } else {
        let mut k = key;
        loop {
            candidates.push(k);
            match k.rfind('/') {
                Some(i) => k = &k[..i],
                None => break,
            }
        }
    }
    for k in candidates {
        if let Some(entry) = auths.get(k) {
            return decode_entry(path, k, entry);
        }
    }
    let wanted = normalize_registry(registry);
    for (k, entry) in auths {
        if normalize_key(k, legacy) == wanted {
            return decode_entry(path, k, entry);
        }
    }
    Ok(None)
}

/// The user and password of one entry; None for an entry without them (a credential-helper marker).
fn decode_entry(path: &Path, key: &str, entry: &Value) -> Result<Option<(String, String)>> {
    let auth = entry.get("auth").and_then(Value::as_str).unwrap_or("");
    let decoded = BASE64.decode(auth).map_err(|e| {
        Error::Config(format!(
            "decoding the \"auth\" field of {key:?} in {:?}: {e}",
            path.display().to_string()
        ))
    })?;
    let decoded = String::from_utf8_lossy(&decoded);
    Ok(decoded
        .split_once(':')
        .map(|(user, password)| (user.to_string(), password.trim_matches('\0').to_string())))
}

fn normalize_key(key: &str, legacy: bool) -> &str {
    let stripped = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"));
    let host = match stripped {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None if legacy => key.split('/').next().unwrap_or(key),
        None => key,
    };
    normalize_registry(host)
}

fn normalize_registry(registry: &str) -> &str {
    match registry {
        "registry-1.docker.io" | "docker.io" => "index.docker.io",
        other => other,
    }
}

/// Replaces `path` with `doc` (tab-indented, as Podman writes it) atomically, mode 0600, creating its
/// directory 0700.
fn write_document(path: &Path, doc: &Map<String, Value>) -> Result<()> {
    let shown = || path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .ctx(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = vec![];
    let mut ser = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"\t"),
    );
    serde::Serialize::serialize(doc, &mut ser)
        .map_err(|e| Error::Config(format!("marshaling JSON {:?}: {e}", shown())))?;
    bytes.push(b'\n');
    write_private(path, &bytes).ctx(|| format!("writing to file {:?}", shown()))
}

/// `image_store::atomic::write_atomic` with mode 0600 from the start, so the secret is never readable
/// by others, not even for an instant.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use image_store::atomic::{sync_parent, temp_sibling};
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::registries::tests::{test_env, write};
    use std::os::unix::fs::PermissionsExt;

    fn b64(s: &str) -> String {
        BASE64.encode(s)
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn store_writes_a_private_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = test_env(dir.path());
        let runtime = dir.path().join("run-user");
        std::fs::create_dir(&runtime).unwrap();
        env.xdg_runtime_dir = Some(runtime.clone());
        let files = AuthFiles::resolve(None, &env);
        let path = files.store("localhost:5000", "alice", "pa:ss").unwrap();
        assert_eq!(path, runtime.join("containers/auth.json"));
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&format!(
                "\t\"auths\": {{\n\t\t\"localhost:5000\": {{\n\t\t\t\"auth\": \"{}\"",
                b64("alice:pa:ss")
            )),
            "{text}"
        );
        let creds = files.credentials_for("localhost:5000", "x/y").unwrap();
        assert_eq!(creds, Some(("alice".into(), "pa:ss".into())));
        assert_eq!(files.get_login("localhost:5000").unwrap(), Some("alice".into()));
        assert_eq!(files.get_login("other:5000").unwrap(), None);
    }

    #[test]
    fn the_most_specific_namespace_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        let files = AuthFiles::resolve(Some(&file), &test_env(dir.path()));
        files.store("reg.test", "host", "p").unwrap();
        files.store("reg.test/team", "team", "p").unwrap();
        files.store("reg.test/team/app", "app", "p").unwrap();
        let user = |repo: &str| files.credentials_for("reg.test", repo).unwrap().map(|c| c.0);
        assert_eq!(user("team/app").as_deref(), Some("app"));
        assert_eq!(user("team/app2").as_deref(), Some("team"));
        assert_eq!(user("team/app/sub").as_deref(), Some("app"));
        assert_eq!(user("other").as_deref(), Some("host"));
        assert_eq!(files.credentials_for("reg.test:5000", "team/app").unwrap(), None);
    }

    #[test]
    fn rewriting_keeps_keys_we_do_not_use() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        write(
            &file,
            &format!(
                r#"{{"auths": {{"a.test": {{"auth": "{}"}}}}, "credHelpers": {{"h.test": "secretservice"}}, "HttpHeaders": {{"X": "1"}}}}"#,
                b64("u:p")
            ),
        );
        let files = AuthFiles::resolve(Some(&file), &test_env(dir.path()));
        files.store("b.test", "v", "q").unwrap();
        assert!(files.remove("a.test").unwrap());
        assert!(!files.remove("a.test").unwrap());
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(doc["credHelpers"]["h.test"], "secretservice");
        assert_eq!(doc["HttpHeaders"]["X"], "1");
        assert!(doc["auths"].get("a.test").is_none() && doc["auths"].get("b.test").is_some());
        // Entries kept by a credential helper are neither read nor overwritten.
        assert_eq!(files.credentials_for("h.test", "x").unwrap(), None);
        assert!(files
            .store("h.test", "u", "p")
            .unwrap_err()
            .to_string()
            .contains("docker-credential-secretservice"));
        files.remove_all().unwrap();
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(doc["auths"], serde_json::json!({}));
        assert_eq!(doc["credHelpers"]["h.test"], "secretservice");
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn without_a_named_file_docker_configs_are_read_too() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        let home = dir.path().join("home");
        write(
            &home.join(".docker/config.json"),
            &format!(
                r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}}}}}"#,
                b64("hub:pw")
            ),
        );
        write(
            &home.join(".dockercfg"),
            &format!(r#"{{"legacy.test": {{"auth": "{}"}}}}"#, b64("old:pw")),
        );
        write(
            &home.join(".config/containers/auth.json"),
            &format!(r#"{{"auths": {{"cfg.test": {{"auth": "{}"}}}}}}"#, b64("cfg:pw")),
        );
        let files = AuthFiles::resolve(None, &env);
        assert_eq!(
            files.primary().unwrap(),
            dir.path().join("run/containers/1000/auth.json")
        );
        assert_eq!(
            files.credentials_for("docker.io", "library/busybox").unwrap(),
            Some(("hub".into(), "pw".into()))
        );
        assert_eq!(
            files.credentials_for("legacy.test", "x").unwrap(),
            Some(("old".into(), "pw".into()))
        );
        assert_eq!(
            files.credentials_for("cfg.test", "x").unwrap(),
            Some(("cfg".into(), "pw".into()))
        );
        // The primary file comes first.
        files.store("cfg.test", "primary", "pw").unwrap();
        assert_eq!(files.get_login("cfg.test").unwrap(), Some("primary".into()));

        // A named file is the only one read.
        let named = dir.path().join("named.json");
        let only = AuthFiles::resolve(Some(&named), &env);
        assert_eq!(
            only.credentials_for("docker.io", "library/busybox").unwrap(),
            None
        );
        let mut env_file = env.clone();
        env_file.registry_auth_file = Some(named.clone());
        assert_eq!(AuthFiles::resolve(None, &env_file).primary().unwrap(), named);
    }

    #[test]
    fn a_missing_runtime_dir_blocks_writes_but_not_reads() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = test_env(dir.path());
        env.xdg_runtime_dir = Some(dir.path().join("gone"));
        write(
            &dir.path().join("home/.docker/config.json"),
            &format!(r#"{{"auths": {{"r.test": {{"auth": "{}"}}}}}}"#, b64("u:p")),
        );
        let files = AuthFiles::resolve(None, &env);
        let err = files.store("r.test", "u", "p").unwrap_err().to_string();
        assert!(err.ends_with("/gone\" directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR."), "{err}");
        assert_eq!(
            files.credentials_for("r.test", "x").unwrap(),
            Some(("u".into(), "p".into()))
        );
    }

    #[test]
    fn bad_files_and_keys_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        write(&file, "{not json");
        let files = AuthFiles::resolve(Some(&file), &test_env(dir.path()));
        let err = files.credentials_for("r.test", "x").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "reading JSON file \"{}\": unmarshaling JSON at",
                file.display()
            )),
            "{err}"
        );
        for (key, why) in [
            ("https://r.test", "http[s]:// prefix"),
            ("r.test/x@sha256:abc", "a '@' character"),
            ("r.test/x:1", "a ':' character after host[:port]"),
        ] {
            assert_eq!(
                files.remove(key).unwrap_err().to_string(),
                format!("key {key} contains {why}")
            );
        }
        // An entry without a colon (a credential-helper marker) holds no credentials.
        write(
            &file,
            &format!(
                r#"{{"auths": {{"r.test": {{"auth": "{}"}}, "e.test": {{}}}}}}"#,
                b64("nocolon")
            ),
        );
        assert_eq!(files.credentials_for("r.test", "x").unwrap(), None);
        assert_eq!(files.credentials_for("e.test", "x").unwrap(), None);
    }

    #[test]
    fn creds_and_login_arguments_parse_as_podman_parses_them() {
        assert_eq!(parse_creds("u:p:q").unwrap(), ("u".into(), "p:q".into()));
        assert_eq!(parse_creds("u").unwrap(), ("u".into(), "".into()));
        assert_eq!(
            parse_creds("").unwrap_err().to_string(),
            "no credentials supplied"
        );
        assert_eq!(
            key_from_argument("https://quay.io/v1/").unwrap(),
            ("quay.io".into(), "quay.io".into())
        );
        assert_eq!(
            key_from_argument("r.test:5000/ns/app").unwrap(),
            ("r.test:5000/ns/app".into(), "r.test:5000".into())
        );
        assert_eq!(
            key_from_argument("r.test/app:1").unwrap_err().to_string(),
            "reference \"r.test/app:1\" contains tag or digest"
        );
        let missing = Path::new("/nonexistent/auth.json");
        assert_eq!(
            check_authfile(missing).unwrap_err().to_string(),
            "credential file is not accessible: stat /nonexistent/auth.json: no such file or directory"
        );
    }
}
