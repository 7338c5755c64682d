//! Runs the real `selkie` binary against a private, throw-away store.
//!
//! Each [`Selkie`] owns a temporary directory holding the store (`root/`, `run/`) and its own
//! `storage.conf`, `registries.conf`, `containers.conf` and auth file, so no test sees the host's
//! configuration or another test's images. Commands get `--root` and `--runroot` before the subcommand,
//! run with a time limit, and come back as an [`Output`] with assertion helpers.
//!
//! The binary is `$SELKIE_BIN`, else `$CARGO_TARGET_DIR/debug/selkie`, else `<workspace>/target/debug/selkie`.
//! Pointing `SELKIE_BIN` at a real `podman` runs the same tests against Podman, which is how the contract
//! these tests encode is checked.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one command may run before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// The selkie binary under test; panics with how to build it when it is missing.
pub fn selkie_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("SELKIE_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.exists(), "SELKIE_BIN={} does not exist", bin.display());
        return bin;
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    };
    let bin = target.join("debug/selkie");
    assert!(
        bin.exists(),
        "the selkie binary {} is missing: build it first with cargo build -p selkie",
        bin.display()
    );
    bin
}

/// True when the binary under test is a real Podman (`SELKIE_BIN=/usr/bin/podman`), for the few checks
/// that look at selkie's own store layout.
pub fn is_podman() -> bool {
    std::env::var_os("SELKIE_BIN")
        .map(|b| Path::new(&b).file_name() == Some(OsStr::new("podman")))
        .unwrap_or(false)
}

/// True (and says so on stderr) when running against Podman, for a check of behaviour where selkie
/// deliberately goes beyond Podman 4.3.1 (named in `reason`); the caller then skips that check.
pub fn skip_on_podman(reason: &str) -> bool {
    if is_podman() {
        eprintln!("skipped against podman: {reason}");
    }
    is_podman()
}

/// A private store and configuration, and the binary to run against them.
pub struct Selkie {
    bin: PathBuf,
    dir: tempfile::TempDir,
    timeout: Duration,
}

impl Default for Selkie {
    fn default() -> Self {
        Self::new()
    }
}

impl Selkie {
    /// A fresh, empty store in a new temporary directory, with configuration files of its own.
    pub fn new() -> Self {
        let bin = selkie_binary();
        let dir = tempfile::Builder::new()
            .prefix("selkie-test-")
            .tempdir()
            .expect("creating temp dir");
        let s = Selkie {
            bin,
            dir,
            timeout: DEFAULT_TIMEOUT,
        };
        let root = s.root();
        let runroot = s.runroot();
        fs::write(
            s.storage_conf(),
            format!(
                "[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
                root.display(),
                runroot.display()
            ),
        )
        .expect("writing storage.conf");
        s.write_registries_conf("unqualified-search-registries = []\n");
        fs::write(
            s.containers_conf(),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n\n\
                 [engine]\nruntime = \"runc\"\ntmp_dir = \"{}\"\n",
                s.dir().join("libpod-tmp").display()
            ),
        )
        .expect("writing containers.conf");
        s
    }

    /// Sets the time limit for each later command.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The binary that commands run.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The temporary directory holding the store and configuration; also free for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside [`Selkie::dir`].
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// The `--root` (graph root) of this store.
    pub fn root(&self) -> PathBuf {
        self.path("root")
    }

    /// The `--runroot` of this store.
    pub fn runroot(&self) -> PathBuf {
        self.path("run")
    }

    pub fn storage_conf(&self) -> PathBuf {
        self.path("storage.conf")
    }

    pub fn registries_conf(&self) -> PathBuf {
        self.path("registries.conf")
    }

    pub fn containers_conf(&self) -> PathBuf {
        self.path("containers.conf")
    }

    pub fn auth_file(&self) -> PathBuf {
        self.path("auth.json")
    }

    /// Replaces this store's `registries.conf`.
    pub fn write_registries_conf(&self, content: &str) {
        fs::write(self.registries_conf(), content).expect("writing registries.conf");
    }

    /// Sets the isolating environment on `cmd`: this store's configuration files, no remote connection.
    pub fn apply_env(&self, cmd: &mut Command) {
        cmd.env("CONTAINERS_STORAGE_CONF", self.storage_conf())
            .env("CONTAINERS_REGISTRIES_CONF", self.registries_conf())
            .env("CONTAINERS_CONF", self.containers_conf())
            .env("REGISTRY_AUTH_FILE", self.auth_file())
            .env_remove("CONTAINER_HOST")
            .env_remove("CONTAINER_CONNECTION")
            .env_remove("CONTAINERS_CONF_OVERRIDE");
    }

    /// A command for `program` with the isolating environment and the global store flags, then `args`.
    pub fn command_with(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = self.bare_command_with(program, &[]);
        cmd.arg("--root")
            .arg(self.root())
            .arg("--runroot")
            .arg(self.runroot())
            .args(args);
        cmd
    }

    /// A command for the binary under test: `selkie --root … --runroot … <args>`.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_with(&self.bin, args)
    }

    /// A command for `program` with the isolating environment but no global flags (the store then comes
    /// from this store's `storage.conf`).
    pub fn bare_command_with(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        self.apply_env(&mut cmd);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs the binary with exactly `args` (no global flags added), in the isolating environment.
    pub fn run_bare(&self, args: &[&str]) -> Output {
        self.run_command(self.bare_command_with(&self.bin, args), None)
    }

    /// Runs `selkie --root … --runroot … <args>` and collects its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_command(self.command(args), None)
    }

    /// Like [`Selkie::run`], with `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        self.run_command(self.command(args), Some(input.to_vec()))
    }

    /// Like [`Selkie::run`], with the file at `path` on standard input.
    pub fn run_stdin_file(&self, args: &[&str], path: &Path) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(fs::File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display())));
        self.run_command(cmd, None)
    }

    /// Runs `program` (for example a `podman` symlink to the binary) with this store's flags and env.
    pub fn run_program(&self, program: &Path, args: &[&str]) -> Output {
        self.run_command(self.command_with(program, args), None)
    }

    /// Runs `cmd` to completion (within the time limit), feeding `input` if given.
    pub fn run_command(&self, mut cmd: Command, input: Option<Vec<u8>>) -> Output {
        let description = describe(&cmd);
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {description}: {e}"));
        wait_output(child, input, self.timeout, description)
    }

    /// Spawns `selkie <global flags> <args>` without waiting (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("spawning selkie")
    }

    /// `load -i <archive>`, asserted to succeed.
    pub fn load(&self, archive: &Path) -> Output {
        let out = self.run(&["load", "-i", archive.to_str().expect("utf-8 path")]);
        out.success();
        out
    }

    /// Writes `image` as a docker archive under [`Selkie::dir`] with `tags` and loads it.
    pub fn load_image(&self, image: &crate::image::Image, tags: &[&str]) -> Output {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = self.path(&format!("fixture-{}.tar", N.fetch_add(1, Ordering::SeqCst)));
        image.write_docker_archive(&path, tags);
        let out = self.load(&path);
        let _ = fs::remove_file(&path);
        out
    }

    /// The full image ID (64 hex) of `reference`, via `inspect --format {{.Id}}`.
    pub fn image_id(&self, reference: &str) -> String {
        self.run(&["image", "inspect", "--format", "{{.Id}}", reference])
            .success()
            .stdout_str()
            .trim()
            .to_string()
    }

    /// The IDs `images -q --no-trunc` lists, without any `sha256:` prefix.
    pub fn image_ids(&self) -> Vec<String> {
        self.run(&["images", "-q", "--no-trunc"])
            .success()
            .lines()
            .into_iter()
            .map(|l| l.trim_start_matches("sha256:").to_string())
            .collect()
    }

    /// Entries in `<root>/<sub>` (empty when it does not exist): for checks that nothing was left behind.
    pub fn store_entries(&self, sub: &str) -> Vec<String> {
        match fs::read_dir(self.root().join(sub)) {
            Ok(rd) => {
                let mut v: Vec<String> = rd
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                v
            }
            Err(_) => Vec::new(),
        }
    }

    /// Total bytes of regular files under the graph root.
    pub fn store_bytes(&self) -> u64 {
        dir_bytes(&self.root())
    }
}

impl Drop for Selkie {
    /// Detaches anything still mounted under the temporary directory before it is removed, so removal
    /// never walks into a mount that reaches the host.
    fn drop(&mut self) {
        // Containers a test left behind go with their store: their monitors and host-wide network
        // namespaces must not outlive the records deleted with the directory.
        let has_containers =
            fs::read_dir(self.root().join("containers")).is_ok_and(|mut d| d.next().is_some());
        if has_containers {
            let _ = self.run(&["rm", "-a", "-f", "-t", "0"]);
        }
        unmount_below(self.dir.path());
    }
}

/// Lazily unmounts every mount point at or below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let Ok(mounts) = fs::read_to_string("/proc/self/mounts") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = nix::mount::umount2(point.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Total bytes of regular files under `dir`, not following symlinks.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    rd.map(|e| {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        if meta.is_dir() {
            dir_bytes(&e.path())
        } else if meta.is_file() {
            meta.len()
        } else {
            0
        }
    })
    .sum()
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn wait_output(mut child: Child, input: Option<Vec<u8>>, timeout: Duration, description: String) -> Output {
    let writer = input.map(|data| {
        let mut stdin = child.stdin.take().expect("piped stdin");
        std::thread::spawn(move || {
            // The command may exit without reading all of it; that is its business.
            let _ = stdin.write_all(&data);
        })
    });
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for selkie") {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{description} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Output {
        command: description,
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// What a finished command left: its exit status and everything it printed.
#[derive(Debug)]
pub struct Output {
    /// The command line, for failure messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// The exit code; a death by signal is reported as `128 + signal`.
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        match self.status.code() {
            Some(code) => code,
            None => 128 + self.status.signal().unwrap_or(0),
        }
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The non-empty lines of stdout.
    pub fn lines(&self) -> Vec<String> {
        self.stdout_str()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not JSON ({e}):\n{}",
                self.command,
                self.stdout_str()
            )
        })
    }

    fn report(&self) -> String {
        format!(
            "command: {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.code(),
            self.stdout_str(),
            self.stderr_str()
        )
    }

    /// Asserts exit code 0, printing the command's output when it is not.
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(self.code(), 0, "expected success\n{}", self.report());
        self
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "expected exit code {code}\n{}", self.report());
        self
    }

    /// Asserts Podman's error shape: exit `code`, and stderr exactly one line, starting `Error: ` and
    /// containing `substring` (case-sensitive). Against a real Podman ([`is_podman`]) only an `Error: `
    /// line somewhere and the substring anywhere on stderr are required.
    #[track_caller]
    pub fn assert_error(&self, code: i32, substring: &str) -> &Self {
        self.assert_code(code);
        let stderr = self.stderr_str();
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        if is_podman() {
            // Podman adds progress lines before, and hint or detail lines after, its `Error: ` line.
            let at = lines.iter().position(|l| l.starts_with("Error: "));
            assert!(at.is_some(), "expected an `Error: ` line\n{}", self.report());
            assert!(
                stderr.contains(substring),
                "stderr must contain {substring:?}\n{}",
                self.report()
            );
            return self;
        }
        assert_eq!(
            lines.len(),
            1,
            "expected one error line on stderr\n{}",
            self.report()
        );
        assert!(
            lines[0].starts_with("Error: "),
            "the error line must start `Error: `\n{}",
            self.report()
        );
        assert!(
            lines[0].contains(substring),
            "the error line must contain {substring:?}\n{}",
            self.report()
        );
        self
    }

    /// Asserts stdout contains `substring`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, substring: &str) -> &Self {
        assert!(
            self.stdout_str().contains(substring),
            "stdout must contain {substring:?}\n{}",
            self.report()
        );
        self
    }
}
