//! A real image registry for the pull/push/login tests: Debian's `docker-registry` (the CNCF distribution
//! registry), one child process per [`Kind`] and test binary, on a free port of 127.0.0.1.
//!
//! - [`Registry::start`] starts (once per test binary and kind) a registry serving plain HTTP
//!   ([`Kind::Http`]), HTTPS with a certificate signed by a CA made for it ([`Kind::Tls`]), or plain HTTP
//!   with htpasswd basic authentication ([`Kind::Auth`]). Its storage, configuration, certificates and logs
//!   live in a temporary directory; the process and the directory are removed when the test binary exits
//!   (an `atexit` handler), and the process is also killed by `PR_SET_PDEATHSIG` if the test binary dies
//!   without exiting.
//! - [`Registry::seed`], [`Registry::seed_index`] and [`Registry::seed_docker`] copy harness-built images
//!   into it with `skopeo --preserve-digests` (from an OCI layout, or a `dir:` for Docker schema 2), in their
//!   [`registry_form`] (uncompressed layers gzipped, as `podman push` sends them), byte for byte, and
//!   return the manifest digest the registry serves. [`Registry::seed_as_is`] keeps uncompressed layers.
//! - [`RegistriesConf`] writes a store's `registries.conf` naming the registry (insecure, searched, blocked,
//!   aliases).
//!
//! Tools needed: `docker-registry`, `skopeo`, `openssl` (for [`Kind::Tls`]). The htpasswd file is written
//! from a fixed bcrypt hash ([`PASSWORD_BCRYPT`]), so `htpasswd` itself is not needed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::image::{Image, OciLayout, OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE};
use crate::layer::{sha256_digest, Compression, LayerBlob};
use crate::selkie::Selkie;

/// The user the [`Kind::Auth`] registry accepts.
pub const USER: &str = "selkie";
/// The password of [`USER`].
pub const PASSWORD: &str = "s3cret-pass";
/// `htpasswd -Bbn selkie s3cret-pass` (bcrypt, the only scheme the registry's htpasswd accepts).
pub const PASSWORD_BCRYPT: &str = "$2y$05$XNRHz6YwnK8rfC4GUkX8gOra87OHpmEc1cJGZ5W3mP04GI0GlRcSK";
/// The realm of the [`Kind::Auth`] registry's basic authentication.
pub const REALM: &str = "selkie-test-realm";

/// How long a registry may take to answer `GET /v2/` after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the registry serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Plain HTTP, no authentication: clients need `--tls-verify=false` or an `insecure` registries.conf.
    Http,
    /// HTTPS with a server certificate (for `127.0.0.1` and `localhost`) signed by a CA of its own; clients
    /// trust it with `--cert-dir` [`Registry::cert_dir`].
    Tls,
    /// Plain HTTP with htpasswd basic authentication of [`USER`] / [`PASSWORD`].
    Auth,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::Auth => "auth",
        }
    }
}

/// A running registry; see the module documentation.
pub struct Registry {
    kind: Kind,
    port: u16,
    dir: PathBuf,
    pid: i32,
    exited: Arc<Mutex<Option<ExitStatus>>>,
    /// Serialises seeding; remembers what each `repo:tag` was seeded with (harness manifest digest) and
    /// the digest the registry serves for it.
    seeded: Mutex<HashMap<String, (String, String)>>,
}

/// What the `atexit` handler cleans up: each registry's pid, exit status slot and directory.
type Cleanup = (i32, Arc<Mutex<Option<ExitStatus>>>, PathBuf);

fn cleanups() -> &'static Mutex<Vec<Cleanup>> {
    static CLEANUPS: OnceLock<Mutex<Vec<Cleanup>>> = OnceLock::new();
    CLEANUPS.get_or_init(|| Mutex::new(Vec::new()))
}

extern "C" fn stop_registries() {
    let Ok(mut list) = cleanups().lock() else {
        return;
    };
    for (pid, exited, dir) in list.drain(..) {
        // SAFETY: kill(2) on a pid this process started and has not reaped (the waiter thread reaps it).
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        let start = Instant::now();
        while exited.lock().map(|e| e.is_none()).unwrap_or(false) && start.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

fn register_cleanup(entry: Cleanup) {
    static ATEXIT: Once = Once::new();
    ATEXIT.call_once(|| {
        // SAFETY: registers a plain extern "C" function without arguments.
        unsafe {
            libc::atexit(stop_registries);
        }
    });
    cleanups().lock().unwrap().push(entry);
}

/// Spawns `cmd` from a thread that lives as long as the child (it waits for it), so the child's
/// `PR_SET_PDEATHSIG` (which fires when the spawning *thread* ends) fires only when the test process dies.
/// Returns the pid and the slot the exit status is put in once the child ends.
fn spawn_supervised(mut cmd: Command) -> (i32, Arc<Mutex<Option<ExitStatus>>>) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid, kill, getpid).
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
            // The parent may have died between fork and prctl.
            if libc::getppid() != parent {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            Ok(())
        });
    }
    let exited = Arc::new(Mutex::new(None));
    let slot = exited.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("registry-supervisor".into())
        .spawn(move || {
            let mut child = match cmd.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let _ = tx.send(Ok(child.id() as i32));
            let status = child.wait().expect("waiting for the registry");
            *slot.lock().unwrap() = Some(status);
        })
        .expect("spawning the registry supervisor thread");
    let pid = rx.recv().expect("registry supervisor").unwrap_or_else(|e| {
        panic!("starting docker-registry: {e}; install it with `apt-get install -y docker-registry`")
    });
    (pid, exited)
}

/// The prefix of each registry's temporary directory.
const DIR_PREFIX: &str = "selkie-registry-";
/// The file in a registry's directory naming the test process that owns it.
const OWNER_FILE: &str = "owner.pid";

/// Removes the directories of registries whose test process died without exiting (SIGKILL, say).
fn remove_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let Ok(owner) = fs::read_to_string(entry.path().join(OWNER_FILE)) else {
            continue;
        };
        let Ok(pid) = owner.trim().parse::<i32>() else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A port of 127.0.0.1 nothing listens on right now (the kernel's choice for a port-0 bind).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("binding 127.0.0.1:0")
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `cmd`, panicking with its output unless it succeeds; returns stdout.
fn run_tool(mut cmd: Command, what: &str) -> Vec<u8> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: running {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn openssl(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir).args(args);
    run_tool(cmd, &format!("openssl {}", args.join(" ")));
}

/// Makes `ca.key`/`ca.crt` and `server.key`/`server.crt` (SANs `IP:127.0.0.1`, `DNS:localhost`) in `dir`,
/// and `certs/ca.crt` (the CA alone, for `--cert-dir`).
fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-sha256",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "3650",
        "-subj",
        "/CN=selkie test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(dir, &csr);
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3650",
            "-sha256",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
    fs::create_dir_all(dir.join("certs")).unwrap();
    fs::copy(dir.join("ca.crt"), dir.join("certs/ca.crt")).unwrap();
}

/// One plain HTTP/1.0 request to `127.0.0.1:port`; the whole response, or None when nothing answers.
pub fn http_request(port: u16, method: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    Some(String::from_utf8_lossy(&response).into_owned())
}

impl Registry {
    /// The registry of `kind` for this test binary, started on first use.
    pub fn start(kind: Kind) -> &'static Registry {
        static HTTP: OnceLock<Registry> = OnceLock::new();
        static TLS: OnceLock<Registry> = OnceLock::new();
        static AUTH: OnceLock<Registry> = OnceLock::new();
        let cell = match kind {
            Kind::Http => &HTTP,
            Kind::Tls => &TLS,
            Kind::Auth => &AUTH,
        };
        cell.get_or_init(|| Registry::launch(kind))
    }

    /// [`Registry::start`] of [`Kind::Http`].
    pub fn http() -> &'static Registry {
        Registry::start(Kind::Http)
    }

    /// [`Registry::start`] of [`Kind::Tls`].
    pub fn tls() -> &'static Registry {
        Registry::start(Kind::Tls)
    }

    /// [`Registry::start`] of [`Kind::Auth`].
    pub fn auth() -> &'static Registry {
        Registry::start(Kind::Auth)
    }

    fn launch(kind: Kind) -> Registry {
        remove_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", kind.name()))
            .tempdir()
            .expect("creating the registry's temp dir")
            .keep();
        fs::write(dir.join(OWNER_FILE), std::process::id().to_string()).unwrap();
        fs::create_dir_all(dir.join("data")).unwrap();
        if kind == Kind::Tls {
            make_certificates(&dir);
        }
        if kind == Kind::Auth {
            fs::write(dir.join("htpasswd"), format!("{USER}:{PASSWORD_BCRYPT}\n")).unwrap();
        }
        // skopeo reads these; keep it away from the host's configuration and credentials.
        fs::write(
            dir.join("registries.conf"),
            "unqualified-search-registries = []\n",
        )
        .unwrap();
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.join("config.yml");
            fs::write(&config, Self::config(kind, &dir, port)).unwrap();
            let mut cmd = Command::new("docker-registry");
            cmd.arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(fs::File::create(dir.join("access.log")).unwrap())
                .stderr(fs::File::create(dir.join("registry.log")).unwrap());
            let (pid, exited) = spawn_supervised(cmd);
            register_cleanup((pid, exited.clone(), dir.clone()));
            let registry = Registry {
                kind,
                port,
                dir: dir.clone(),
                pid,
                exited,
                seeded: Mutex::new(HashMap::new()),
            };
            match registry.wait_ready() {
                Ok(()) => return registry,
                Err(e) => {
                    // A port taken between our probe and the registry's bind: kill and try another.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                    last_error = e;
                }
            }
        }
        panic!("the {} registry did not start: {last_error}", kind.name());
    }

    fn config(kind: Kind, dir: &Path, port: u16) -> String {
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  formatter: text\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  headers:\n    X-Selkie-Test-Registry: [\"{port}\"]\n",
            data = dir.join("data").display()
        );
        if kind == Kind::Tls {
            let _ = write!(
                config,
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.join("server.crt").display(),
                dir.join("server.key").display()
            );
        }
        if kind == Kind::Auth {
            let _ = write!(
                config,
                "auth:\n  htpasswd:\n    realm: {REALM}\n    path: {}\n",
                dir.join("htpasswd").display()
            );
        }
        config
    }

    /// Waits until the registry logs that it listens and answers `GET /v2/`.
    fn wait_ready(&self) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(status) = *self.exited.lock().unwrap() {
                return Err(format!("docker-registry exited with {status}:\n{}", self.log()));
            }
            let listening = self.log().contains("listening on");
            if listening {
                let response = http_request(self.port, "GET", "/v2/").unwrap_or_default();
                let ours = match self.kind {
                    // A TLS server answers plain HTTP with a 400 saying so.
                    Kind::Tls => response.contains("HTTPS server"),
                    Kind::Http => {
                        response.starts_with("HTTP/1.0 200") && response.contains("X-Selkie-Test-Registry")
                    }
                    Kind::Auth => {
                        response.starts_with("HTTP/1.0 401") && response.contains("X-Selkie-Test-Registry")
                    }
                };
                if ours {
                    return Ok(());
                }
            }
            if start.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "no answer on port {} within {START_TIMEOUT:?}:\n{}",
                    self.port,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry's process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// `127.0.0.1:PORT`, the registry part of references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT/<name>` (name is `repo`, `repo:tag` or `repo@digest`).
    pub fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.host())
    }

    /// The temporary directory holding the registry's configuration, storage and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The registry's storage root (`rootdirectory`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The file the registry keeps the blob `digest` (`sha256:<hex>`) in.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's own log (stderr) so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }

    /// The access log so far: one Apache combined-format line per request
    /// (`127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 ...`).
    pub fn access_log(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The access-log lines of requests whose method is `method` and whose path starts with `path_prefix`.
    pub fn requests(&self, method: &str, path_prefix: &str) -> Vec<String> {
        let needle = format!("\"{method} {path_prefix}");
        self.access_log()
            .into_iter()
            .filter(|l| l.contains(&needle))
            .collect()
    }

    /// The CA certificate of a [`Kind::Tls`] registry.
    pub fn ca_path(&self) -> PathBuf {
        assert_eq!(self.kind, Kind::Tls, "only the TLS registry has a CA");
        self.dir.join("ca.crt")
    }

    /// A directory holding only `ca.crt` (the registry's CA), for `--cert-dir`.
    pub fn cert_dir(&self) -> PathBuf {
        assert_eq!(self.kind, Kind::Tls, "only the TLS registry has a CA");
        self.dir.join("certs")
    }

    /// [`USER`].
    pub fn user(&self) -> &'static str {
        USER
    }

    /// [`PASSWORD`].
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// `user:password`, for `--creds`.
    pub fn creds(&self) -> String {
        format!("{USER}:{PASSWORD}")
    }

    /// The flags that let a selkie/podman command reach this registry: `--tls-verify=false` for the plain
    /// HTTP ones, `--cert-dir <dir>` for the TLS one; plus `--creds` for the authenticated one.
    pub fn client_args(&self) -> Vec<String> {
        let mut args = self.tls_args();
        if self.kind == Kind::Auth {
            args.push("--creds".into());
            args.push(self.creds());
        }
        args
    }

    /// [`Registry::client_args`] without the credentials.
    pub fn tls_args(&self) -> Vec<String> {
        match self.kind {
            Kind::Http | Kind::Auth => vec!["--tls-verify=false".into()],
            Kind::Tls => vec!["--cert-dir".into(), self.cert_dir().display().to_string()],
        }
    }

    /// skopeo with an isolated configuration and the flags for this registry, for the `src` or `dest` side
    /// of a copy, or (`side` None) for `inspect`.
    fn skopeo(&self, subcommand: &str, side: Option<&str>) -> Command {
        let mut cmd = Command::new("skopeo");
        cmd.env("CONTAINERS_REGISTRIES_CONF", self.dir.join("registries.conf"))
            .env("REGISTRY_AUTH_FILE", self.dir.join("skopeo-auth.json"))
            .arg("--insecure-policy")
            .arg(subcommand);
        let flag = |name: &str| match side {
            Some(side) => format!("--{side}-{name}"),
            None => format!("--{name}"),
        };
        match self.kind {
            Kind::Http | Kind::Auth => {
                cmd.arg(flag("tls-verify=false"));
            }
            Kind::Tls => {
                cmd.arg(flag("cert-dir")).arg(self.cert_dir());
            }
        }
        if self.kind == Kind::Auth {
            cmd.arg(flag("creds")).arg(self.creds());
        }
        cmd
    }

    fn copy_layout(&self, layout: &OciLayout, key: &str, repo_tag: &str, all: bool) -> String {
        self.copy_source(key, repo_tag, all, |work| {
            let oci = work.join("layout");
            layout.write_dir(&oci);
            format!("oci:{}:seed", oci.display())
        })
    }

    /// Copies what `write` puts in a fresh directory (returning the skopeo source name) to `repo:tag`,
    /// unless `repo:tag` was seeded with `key` already; returns the digest skopeo pushed.
    fn copy_source(
        &self,
        key: &str,
        repo_tag: &str,
        all: bool,
        write: impl FnOnce(&Path) -> String,
    ) -> String {
        let mut seeded = self.seeded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seeded_key, digest)) = seeded.get(repo_tag) {
            if seeded_key == key {
                return digest.clone();
            }
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let work = self
            .dir
            .join(format!("seed-{}", N.fetch_add(1, Ordering::SeqCst)));
        fs::create_dir_all(&work).unwrap();
        let source = write(&work);
        let digest_file = work.join("digest");
        let mut cmd = self.skopeo("copy", Some("dest"));
        if all {
            cmd.arg("--all");
        }
        // Exactly the layout's manifests and blobs: no recompression, and no substitution of a blob with
        // the same diff ID from c/image's host-wide blob-info cache (which would swap a gzip layer for a
        // zstd one pushed earlier, say).
        cmd.arg("--preserve-digests")
            .arg("--digestfile")
            .arg(&digest_file)
            .arg(source)
            .arg(format!("docker://{}", self.reference(repo_tag)));
        run_tool(cmd, &format!("seeding {}", self.reference(repo_tag)));
        let digest = fs::read_to_string(&digest_file)
            .expect("skopeo's digest file")
            .trim()
            .to_string();
        let _ = fs::remove_dir_all(&work);
        assert!(digest.starts_with("sha256:"), "skopeo wrote digest {digest:?}");
        seeded.insert(repo_tag.to_string(), (key.to_string(), digest.clone()));
        digest
    }

    /// Copies `image` into the registry as `repo:tag` in its [`registry_form`] (uncompressed layers gzipped,
    /// as `podman push` sends them) and returns the digest of the manifest the registry serves for it
    /// (`sha256:<hex>`): the `manifest_digest()` of [`registry_form`]`(image)`. The config, so the image
    /// ID, is unchanged. Seeding the same image to the same `repo:tag` again does nothing.
    pub fn seed(&self, image: &Image, repo_tag: &str) -> String {
        self.seed_as_is(&registry_form(image), repo_tag)
    }

    /// Like [`Registry::seed`], but with every blob exactly as `image` has it (uncompressed layers stay
    /// uncompressed); the digest returned is `image.manifest_digest()`.
    pub fn seed_as_is(&self, image: &Image, repo_tag: &str) -> String {
        let layout = OciLayout::new().manifest(image, Some("seed"));
        let digest = self.copy_layout(&layout, image.manifest_digest(), repo_tag, false);
        assert_eq!(
            digest,
            image.manifest_digest(),
            "skopeo changed the manifest of {repo_tag}"
        );
        digest
    }

    /// Copies `image` into the registry as `repo:tag` with a Docker schema 2 manifest
    /// (`application/vnd.docker.distribution.manifest.v2+json`, what most registries hold) instead of an
    /// OCI one, its layers in [`registry_form`] (zstd layers are not allowed there); returns the digest of
    /// that manifest ([`docker_manifest`]).
    pub fn seed_docker(&self, image: &Image, repo_tag: &str) -> String {
        let image = registry_form(image);
        let manifest = docker_manifest(&image);
        let digest = sha256_digest(&manifest);
        // The `dir:` transport: skopeo's OCI layouts only list OCI manifests.
        let served = self.copy_source(&digest, repo_tag, false, |work| {
            let dir = work.join("dir");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").unwrap();
            fs::write(dir.join("manifest.json"), &manifest).unwrap();
            fs::write(
                dir.join(image.config_digest.trim_start_matches("sha256:")),
                &image.config,
            )
            .unwrap();
            for layer in &image.layers {
                fs::write(dir.join(layer.digest.trim_start_matches("sha256:")), &layer.data).unwrap();
            }
            format!("dir:{}", dir.display())
        });
        assert_eq!(served, digest, "skopeo changed the manifest of {repo_tag}");
        served
    }

    /// Copies an image index of `images` (each in its [`registry_form`], one manifest per image with its
    /// platform) into the registry as `repo:tag` and returns the digest of the index it serves.
    pub fn seed_index(&self, images: &[&Image], repo_tag: &str) -> String {
        let images: Vec<Image> = images.iter().map(|i| registry_form(i)).collect();
        let refs: Vec<&Image> = images.iter().collect();
        let mut layout = OciLayout::new();
        let index = layout.image_index(&refs, Some("seed"));
        let digest = self.copy_layout(&layout, &index, repo_tag, true);
        assert_eq!(digest, index, "skopeo changed the index of {repo_tag}");
        digest
    }

    /// The manifest (or index) the registry serves for `name` (`repo:tag` or `repo@digest`), exactly.
    pub fn raw_manifest(&self, name: &str) -> Vec<u8> {
        let mut cmd = self.skopeo("inspect", None);
        cmd.arg("--raw").arg(format!("docker://{}", self.reference(name)));
        run_tool(cmd, &format!("skopeo inspect --raw {}", self.reference(name)))
    }

    /// [`Registry::raw_manifest`] parsed.
    pub fn manifest(&self, name: &str) -> Value {
        serde_json::from_slice(&self.raw_manifest(name)).expect("manifest json")
    }

    /// The digest of what the registry serves for `name`.
    pub fn manifest_digest(&self, name: &str) -> String {
        sha256_digest(&self.raw_manifest(name))
    }

    /// A registries.conf that searches this registry, permissively, and marks it insecure unless it is the
    /// TLS one. Add to it with the [`RegistriesConf`] methods, then [`RegistriesConf::write`].
    pub fn registries_conf(&self) -> RegistriesConf {
        let conf = RegistriesConf::new()
            .search(&self.host())
            .short_name_mode("permissive");
        if self.kind == Kind::Tls {
            conf
        } else {
            conf.insecure(&self.host())
        }
    }

    /// Writes [`Registry::registries_conf`] as `s`'s registries.conf.
    pub fn write_registries_conf(&self, s: &Selkie) {
        self.registries_conf().write(s);
    }
}

/// `image` with `layers` as its layer blobs, and its OCI manifest rebuilt for them. The blobs must have the
/// image's diff IDs (same tars, any compression), so the config and the image ID stay the same.
pub fn with_layers(image: &Image, layers: Vec<LayerBlob>) -> Image {
    let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(
        diff_ids,
        image.diff_ids(),
        "with_layers needs the same layer contents"
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": OCI_CONFIG_MEDIA_TYPE, "digest": image.config_digest, "size": image.config.len()},
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
        layers,
        ..image.clone()
    }
}

/// The media type of a Docker schema 2 manifest.
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The Docker schema 2 manifest of `image` (whose layers must be uncompressed or gzip): the same config
/// and layer blobs as its OCI manifest, Docker media types.
pub fn docker_manifest(image: &Image) -> Vec<u8> {
    let layers: Vec<Value> = image
        .layers
        .iter()
        .map(|l| {
            let media_type = match l.compression {
                Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
                Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Compression::Zstd => panic!("a Docker schema 2 manifest cannot hold a zstd layer"),
            };
            json!({"mediaType": media_type, "size": l.data.len(), "digest": l.digest})
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": image.config.len(),
            "digest": image.config_digest,
        },
        "layers": layers,
    });
    serde_json::to_vec(&manifest).expect("manifest json")
}

/// `image` as registries hold images: every uncompressed layer gzip-compressed (as `podman push` and
/// `skopeo copy` do), compressed ones unchanged. An image without uncompressed layers is returned as is.
pub fn registry_form(image: &Image) -> Image {
    if image.layers.iter().all(|l| l.compression != Compression::None) {
        return image.clone();
    }
    // Compressing is slow in a debug build, and tests seed the same images many times.
    static FORMS: OnceLock<Mutex<HashMap<String, Image>>> = OnceLock::new();
    let forms = FORMS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(form) = forms.lock().unwrap().get(image.manifest_digest()) {
        return form.clone();
    }
    let layers = image
        .layers
        .iter()
        .map(|l| match l.compression {
            Compression::None => LayerBlob::from_tar(&l.tar, Compression::Gzip),
            _ => l.clone(),
        })
        .collect();
    let form = with_layers(image, layers);
    forms
        .lock()
        .unwrap()
        .insert(image.manifest_digest().to_string(), form.clone());
    form
}

/// A `registries.conf` (containers-registries.conf(5), version 2) under construction.
#[derive(Clone, Debug, Default)]
pub struct RegistriesConf {
    search: Vec<String>,
    short_name_mode: Option<String>,
    registries: Vec<(String, bool, bool)>,
    aliases: Vec<(String, String)>,
}

impl RegistriesConf {
    /// No search registries, no registry entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `host` to `unqualified-search-registries`.
    pub fn search(mut self, host: &str) -> Self {
        self.search.push(host.to_string());
        self
    }

    /// Sets `short-name-mode` (`enforcing`, `permissive`, `disabled`).
    pub fn short_name_mode(mut self, mode: &str) -> Self {
        self.short_name_mode = Some(mode.to_string());
        self
    }

    fn entry(&mut self, host: &str) -> &mut (String, bool, bool) {
        if let Some(i) = self.registries.iter().position(|r| r.0 == host) {
            &mut self.registries[i]
        } else {
            self.registries.push((host.to_string(), false, false));
            self.registries.last_mut().unwrap()
        }
    }

    /// A `[[registry]]` for `host` with `insecure = true`.
    pub fn insecure(mut self, host: &str) -> Self {
        self.entry(host).1 = true;
        self
    }

    /// A `[[registry]]` for `host` with `blocked = true`.
    pub fn blocked(mut self, host: &str) -> Self {
        self.entry(host).2 = true;
        self
    }

    /// An `[aliases]` entry: the short name `name` stands for `target` (`host/repo`).
    pub fn alias(mut self, name: &str, target: &str) -> Self {
        self.aliases.push((name.to_string(), target.to_string()));
        self
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let quoted: Vec<String> = self.search.iter().map(|h| format!("{h:?}")).collect();
        let mut out = format!("unqualified-search-registries = [{}]\n", quoted.join(", "));
        if let Some(mode) = &self.short_name_mode {
            let _ = writeln!(out, "short-name-mode = {mode:?}");
        }
        for (host, insecure, blocked) in &self.registries {
            let _ = write!(
                out,
                "\n[[registry]]\nlocation = {host:?}\ninsecure = {insecure}\nblocked = {blocked}\n"
            );
        }
        if !self.aliases.is_empty() {
            out.push_str("\n[aliases]\n");
            for (name, target) in &self.aliases {
                let _ = writeln!(out, "{name:?} = {target:?}");
            }
        }
        out
    }

    /// Writes it as `s`'s registries.conf.
    pub fn write(&self, s: &Selkie) {
        s.write_registries_conf(&self.render());
    }
}

/// Standard base64 with padding (what `auth.json` stores `user:password` as).
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"selkie:s3cret-pass"), "c2Vsa2llOnMzY3JldC1wYXNz");
    }

    #[test]
    fn registries_conf_renders_toml() {
        let text = RegistriesConf::new()
            .search("127.0.0.1:5000")
            .short_name_mode("permissive")
            .insecure("127.0.0.1:5000")
            .blocked("127.0.0.1:6000")
            .alias("myalias", "127.0.0.1:5000/repo")
            .render();
        assert_eq!(
            text,
            "unqualified-search-registries = [\"127.0.0.1:5000\"]\nshort-name-mode = \"permissive\"\n\n\
             [[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\nblocked = false\n\n\
             [[registry]]\nlocation = \"127.0.0.1:6000\"\ninsecure = false\nblocked = true\n\n\
             [aliases]\n\"myalias\" = \"127.0.0.1:5000/repo\"\n"
        );
    }
}
