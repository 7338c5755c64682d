//! End-to-end tests of systemd integration: `generate systemd` (with and without `--new`, `--files`) and
//! the `selkie-quadlet` generator (`--dryrun` and into an output directory). Each test has its own store.
//!
//! PID 1 is not systemd on these machines, so no unit is started through systemctl. Instead every
//! generated unit is checked twice: `systemd-analyze verify` (offline: syntax, keys, executables) must
//! print nothing, and the unit's own `ExecStartPre=`/`ExecStart=`/`ExecStartPost=`/`ExecStop=`/
//! `ExecStopPost=` command lines are split and their specifiers (`%t`, `%n`, `%N`) expanded as systemd
//! would, then run, so the commands a unit holds are known to work against the store.
//!
//! `selkie-quadlet` is found beside the selkie binary under test (`target/debug/`). The unit texts are
//! selkie's own (Podman's name themselves, and its Quadlet is another program), so the tests are skipped
//! against Podman.

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use harness::{busybox_image, selkie_binary, skip_on_podman, Output, Selkie};
use serde_json::Value;

/// The generator built beside the selkie binary.
fn quadlet_binary() -> PathBuf {
    let bin = selkie_binary().with_file_name("selkie-quadlet");
    assert!(
        bin.exists(),
        "{} is missing: build it with cargo build -p selkie",
        bin.display()
    );
    bin
}

/// The selkie binary's path as the binary itself reports it (`current_exe`, symlinks and `..` resolved).
fn selkie_path() -> String {
    fs::canonicalize(selkie_binary()).unwrap().display().to_string()
}

/// A store with busybox and the container `web`, created as the brief's example.
fn store_with_web() -> Selkie {
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    s.run(&[
        "create",
        "--name",
        "web",
        "-e",
        "A=1",
        "-v",
        "/tmp:/tmp",
        "busybox",
        "sleep",
        "100",
    ])
    .success();
    s
}

/// Writes `content` as `dir/file_name` and asserts that `systemd-analyze verify` accepts it silently:
/// it reports unknown keys and unparsable values on stderr without failing, so stderr must be empty.
fn verify_unit(dir: &Path, file_name: &str, content: &str) {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join(file_name);
    fs::write(&path, content).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("running systemd-analyze (apt-get install systemd)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify {}: {}\n{stderr}\n--- unit ---\n{content}",
        path.display(),
        out.status
    );
}

/// A generated unit, read the way systemd reads it, for running its commands outside systemd.
struct Unit {
    /// The unit's file name (`%n`).
    name: String,
    text: String,
    /// What `%t` stands for.
    runtime_dir: PathBuf,
}

impl Unit {
    fn new(name: &str, text: &str, runtime_dir: &Path) -> Unit {
        Unit {
            name: name.to_string(),
            text: text.to_string(),
            runtime_dir: runtime_dir.to_path_buf(),
        }
    }

    /// Every value of `key` in `[section]`, continuation lines joined.
    fn values(&self, section: &str, key: &str) -> Vec<String> {
        let mut joined: Vec<String> = vec![];
        let mut pending = String::new();
        for line in self.text.lines() {
            let line = line.trim();
            match line.strip_suffix('\\') {
                Some(head) => {
                    pending.push_str(head);
                    pending.push(' ');
                }
                None => {
                    pending.push_str(line);
                    joined.push(std::mem::take(&mut pending));
                }
            }
        }
        let mut current = String::new();
        let mut values = vec![];
        for line in joined {
            if line.starts_with('[') {
                current = line.trim_matches(['[', ']']).to_string();
            } else if current == section {
                if let Some(v) = line.strip_prefix(&format!("{key}=")) {
                    values.push(v.to_string());
                }
            }
        }
        values
    }

    fn value(&self, section: &str, key: &str) -> String {
        let v = self.values(section, key);
        assert_eq!(v.len(), 1, "one {key}= expected in [{section}] of\n{}", self.text);
        v[0].clone()
    }

    /// The commands of `key` in [Service], split and with specifiers expanded; a leading `-` (failure
    /// ignored) is dropped.
    fn commands(&self, key: &str) -> Vec<Vec<String>> {
        self.values("Service", key)
            .iter()
            .map(|line| {
                split_systemd_words(line)
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let w = if i == 0 {
                            w.trim_start_matches('-').to_string()
                        } else {
                            w
                        };
                        self.expand(&w)
                    })
                    .collect()
            })
            .collect()
    }

    fn command(&self, key: &str) -> Vec<String> {
        let mut c = self.commands(key);
        assert_eq!(c.len(), 1, "one {key}= expected in\n{}", self.text);
        c.remove(0)
    }

    /// The specifiers these units use, and `$$` (a literal `$` once systemd has expanded variables).
    fn expand(&self, word: &str) -> String {
        let stem = self.name.strip_suffix(".service").unwrap_or(&self.name);
        let mut out = String::new();
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            match (c, chars.clone().next()) {
                ('%', Some(s)) => {
                    chars.next();
                    match s {
                        't' => out.push_str(&self.runtime_dir.to_string_lossy()),
                        'n' => out.push_str(&self.name),
                        'N' => out.push_str(stem),
                        '%' => out.push('%'),
                        other => panic!("specifier %{other} not expected in {word:?}"),
                    }
                }
                ('$', Some('$')) => {
                    chars.next();
                    out.push('$');
                }
                (c, _) => out.push(c),
            }
        }
        out
    }
}

/// systemd's command-line splitting: whitespace separates, quotes group, backslash escapes.
fn split_systemd_words(line: &str) -> Vec<String> {
    let mut words = vec![];
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return words;
        }
        let mut word = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => match chars.next() {
                    Some('n') => word.push('\n'),
                    Some('t') => word.push('\t'),
                    Some(other) => word.push(other),
                    None => {}
                },
                (c, Some(q)) if c == q => quote = None,
                (c, Some(_)) => word.push(c),
                ('"' | '\'', None) => quote = Some(c),
                (c, None) if c.is_whitespace() => break,
                (c, None) => word.push(c),
            }
        }
        words.push(word);
    }
}

/// Runs one of a unit's command lines in the store's environment (its global flags, if any, are in
/// the command line itself; otherwise the store's storage.conf applies).
fn run_unit_command(s: &Selkie, argv: &[String]) -> Output {
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    s.run_command(s.bare_command_with(Path::new(&argv[0]), &args), None)
}

/// `generate systemd ARGS`, read as unit `unit_name` with a runtime directory (`%t`) of the store's own,
/// after `systemd-analyze verify` has accepted it.
fn generate_unit(s: &Selkie, args: &[&str], unit_name: &str) -> Unit {
    let text = s
        .run(&[&["generate", "systemd"], args].concat())
        .success()
        .stdout_str();
    verify_unit(&s.path("units"), unit_name, &text);
    let runtime = s.path("runtime");
    fs::create_dir_all(&runtime).unwrap();
    Unit::new(unit_name, &text, &runtime)
}

fn inspect(s: &Selkie, name: &str) -> Value {
    let v = s.run(&["container", "inspect", name]).success().json();
    v[0].clone()
}

fn assert_runs_like_web(s: &Selkie, name: &str) {
    let c = inspect(s, name);
    assert_eq!(c["State"]["Status"], "running", "{c}");
    let env: Vec<&str> = c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(env.contains(&"A=1"), "{env:?}");
    assert_eq!(c["Config"]["Cmd"], serde_json::json!(["sleep", "100"]));
    let mounts: Vec<&str> = c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Destination"].as_str().unwrap())
        .collect();
    assert!(mounts.contains(&"/tmp"), "{mounts:?}");
}

// ---------------------------------------------------------------- generate systemd --new

#[test]
fn new_unit_recreates_the_container_and_its_commands_work() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = store_with_web();
    let old_id = inspect(&s, "web")["Id"].as_str().unwrap().to_string();
    let unit = generate_unit(&s, &["--new", "--name", "web"], "container-web.service");
    let runtime = unit.runtime_dir.clone();
    assert!(
        unit.text
            .starts_with("# container-web.service\n# autogenerated by selkie "),
        "{}",
        unit.text
    );
    assert_eq!(unit.value("Service", "Type"), "notify");
    assert_eq!(unit.value("Service", "NotifyAccess"), "all");
    assert_eq!(unit.value("Service", "TimeoutStopSec"), "70");
    assert_eq!(unit.value("Service", "Restart"), "on-failure");
    assert_eq!(unit.value("Service", "Environment"), "PODMAN_SYSTEMD_UNIT=%n");
    assert_eq!(unit.value("Install", "WantedBy"), "default.target");
    assert!(unit.values("Service", "PIDFile").is_empty());
    let mounts_for = unit.value("Unit", "RequiresMountsFor");
    assert_eq!(
        mounts_for,
        format!("{} {}", s.root().display(), s.runroot().display())
    );
    let start = unit.value("Service", "ExecStart");
    for part in [
        "run",
        "--cidfile=%t/%n.ctr-id",
        "--rm",
        "--sdnotify=conmon",
        "--replace",
        "-d",
        "--name web",
        "-e A=1",
        "-v /tmp:/tmp",
        "localhost/busybox:latest sleep 100",
    ] {
        assert!(start.contains(part), "ExecStart lacks {part:?}: {start}");
    }
    assert!(start.starts_with(&selkie_path()), "{start}");

    // The unit's life, command by command.
    run_unit_command(&s, &unit.command("ExecStartPre")).success();
    let out = run_unit_command(&s, &unit.command("ExecStart"));
    out.success();
    let new_id = out.stdout_str().trim().to_string();
    assert_ne!(new_id, old_id, "--replace makes a new container");
    assert_eq!(
        fs::read_to_string(runtime.join("container-web.service.ctr-id")).unwrap(),
        new_id
    );
    assert_runs_like_web(&s, "web");
    assert_eq!(inspect(&s, "web")["Id"], new_id.as_str());

    run_unit_command(&s, &unit.command("ExecStop")).success();
    run_unit_command(&s, &unit.command("ExecStopPost")).success();
    s.run(&["container", "exists", "web"]).assert_code(1);

    // A restart: ExecStartPre clears the old ID file, so `run --cidfile` does not refuse it.
    run_unit_command(&s, &unit.command("ExecStartPre")).success();
    run_unit_command(&s, &unit.command("ExecStart")).success();
    assert_runs_like_web(&s, "web");
    run_unit_command(&s, &unit.command("ExecStopPost")).success();
    s.run(&["container", "exists", "web"]).assert_code(1);
}

/// Values with systemd's special characters reach the container unchanged.
#[test]
fn new_unit_escapes_specifiers_and_quotes() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    s.run(&[
        "create",
        "--name",
        "odd",
        "-e",
        "PCT=100%",
        "-e",
        "DOLLAR=$HOME",
        "-e",
        "SPACE=a b",
        "busybox",
        "sh",
        "-c",
        "echo \"hi\"; sleep 100",
    ])
    .success();
    let unit = generate_unit(&s, &["--new", "--name", "odd"], "container-odd.service");
    run_unit_command(&s, &unit.command("ExecStart")).success();
    let c = inspect(&s, "odd");
    let env = c["Config"]["Env"].as_array().unwrap();
    for want in ["PCT=100%", "DOLLAR=$HOME", "SPACE=a b"] {
        assert!(env.iter().any(|e| e == want), "{want} not in {env:?}");
    }
    assert_eq!(
        c["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "echo \"hi\"; sleep 100"])
    );
    run_unit_command(&s, &unit.command("ExecStopPost")).success();
}

// ---------------------------------------------------------------- generate systemd (existing container)

#[test]
fn unit_for_the_existing_container_starts_it_and_records_the_monitor_pid() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = store_with_web();
    let id = inspect(&s, "web")["Id"].as_str().unwrap().to_string();
    let unit = generate_unit(&s, &["--name", "web"], "container-web.service");
    let runtime = unit.runtime_dir.clone();
    assert_eq!(unit.value("Service", "Type"), "forking");
    assert_eq!(unit.value("Service", "PIDFile"), "%t/%n.pid");
    assert!(unit.values("Service", "NotifyAccess").is_empty());
    let start = unit.command("ExecStart");
    assert_eq!(start[start.len() - 2..], ["start", "web"]);
    let stop = unit.command("ExecStop");
    assert_eq!(stop[stop.len() - 4..], ["stop", "-t", "10", "web"]);
    assert_eq!(unit.command("ExecStopPost"), stop);

    run_unit_command(&s, &start).success();
    // systemd reads PIDFile= after ExecStartPost=, which writes it.
    run_unit_command(&s, &unit.command("ExecStartPost")).success();
    let pid_file = runtime.join("container-web.service.pid");
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .expect("the PID file holds a PID");
    let c = inspect(&s, "web");
    assert_eq!(c["State"]["ConmonPid"], pid);
    assert_eq!(c["Id"], id.as_str(), "the same container is started");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert_runs_like_web(&s, "web");

    run_unit_command(&s, &stop).success();
    run_unit_command(&s, &unit.command("ExecStopPost")).success();
    assert_eq!(inspect(&s, "web")["State"]["Status"], "exited");
}

#[test]
fn files_are_written_into_the_working_directory() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = store_with_web();
    let id = inspect(&s, "web")["Id"].as_str().unwrap().to_string();
    let cwd = s.path("cwd");
    fs::create_dir_all(&cwd).unwrap();
    for (args, file) in [
        (vec!["--name"], "container-web.service".to_string()),
        (vec![], format!("container-{id}.service")),
    ] {
        let mut full = vec!["generate", "systemd", "--no-header"];
        full.extend(&args);
        let printed = s
            .run(&[full.clone(), vec!["web"]].concat())
            .success()
            .stdout_str();
        let mut cmd = s.command(&[full, vec!["--files", "web"]].concat());
        cmd.current_dir(&cwd);
        let out = s.run_command(cmd, None);
        out.success();
        let path = cwd.join(&file);
        assert_eq!(out.stdout_str(), format!("{}\n", path.display()));
        let written = fs::read_to_string(&path).unwrap();
        assert_eq!(written, printed);
        assert!(written.starts_with(&format!("# {file}\n\n[Unit]\n")), "{written}");
        verify_unit(&s.path("units"), &file, &written);
    }
}

#[test]
fn options_shape_the_unit_and_errors_are_podmans() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = store_with_web();
    let unit = generate_unit(
        &s,
        &[
            "--name",
            "--restart-policy",
            "always",
            "--restart-sec",
            "5",
            "-t",
            "3",
            "--container-prefix",
            "app",
            "--separator",
            "_",
            "--after",
            "sshd.service",
            "web",
        ],
        "app_web.service",
    );
    assert!(unit.text.starts_with("# app_web.service\n"), "{}", unit.text);
    assert_eq!(unit.value("Service", "Restart"), "always");
    assert_eq!(unit.value("Service", "RestartSec"), "5");
    assert_eq!(unit.value("Service", "TimeoutStopSec"), "63");
    assert!(unit
        .command("ExecStop")
        .ends_with(&["-t".into(), "3".into(), "web".into()]));
    assert_eq!(
        unit.values("Unit", "After"),
        ["network-online.target", "sshd.service"]
    );

    s.run(&["generate", "systemd", "nosuch"])
        .assert_error(125, "no such container");
    s.run(&["generate", "systemd", "--restart-policy", "sometimes", "web"])
        .assert_error(125, "sometimes");
    let json = s
        .run(&["generate", "systemd", "--name", "--format", "json", "web"])
        .success()
        .json();
    assert!(json["container-web"].as_str().unwrap().contains("ExecStart="));
}

/// `Type=notify` units wait for READY=1: with `--sdnotify=conmon` the container's monitor sends it, and
/// MAINPID, to the `$NOTIFY_SOCKET` systemd gives the unit's ExecStart.
#[test]
fn new_unit_notifies_readiness() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = store_with_web();
    let unit = generate_unit(&s, &["--new", "--name", "web"], "container-web.service");
    let socket_path = s.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let argv = unit.command("ExecStart");
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let mut cmd = s.bare_command_with(Path::new(&argv[0]), &args);
    cmd.env("NOTIFY_SOCKET", &socket_path);
    s.run_command(cmd, None).success();
    let mut buf = [0u8; 4096];
    let mut messages = String::new();
    while !messages.contains("READY=1") {
        let n = socket.recv(&mut buf).expect("a notification before the timeout");
        messages.push_str(&String::from_utf8_lossy(&buf[..n]));
        messages.push('\n');
    }
    assert!(messages.contains("MAINPID="), "{messages}");
    run_unit_command(&s, &unit.command("ExecStopPost")).success();
}

// ---------------------------------------------------------------- selkie-quadlet

const WEB_CONTAINER: &str = "\
[Unit]
Description=The web container

[Container]
Image=localhost/busybox:latest
Exec=sleep 100
Environment=A=1 \"B=two words\"
Volume=/tmp:/tmp
Label=app=web

[Service]
Restart=always

[Install]
WantedBy=multi-user.target
";

const DB_CONTAINER: &str = "\
[Container]
Image=localhost/busybox:latest
ContainerName=db
Exec=sh -c 'echo started; sleep 100'
Environment=DB=main
Volume=/tmp:/data:ro
WorkingDir=/data
PodmanArgs=--hostname dbhost --stop-timeout 1

[Install]
WantedBy=default.target
";

/// Runs the generator with `args`, reading `.container` files from `dirs` only.
fn quadlet(s: &Selkie, dirs: &[&Path], args: &[&str]) -> Output {
    let joined = std::env::join_paths(dirs).unwrap();
    let mut cmd = s.bare_command_with(&quadlet_binary(), args);
    cmd.env("QUADLET_UNIT_DIRS", joined).env_remove("SELKIE");
    s.run_command(cmd, None)
}

#[test]
fn quadlet_generates_services_that_run_the_containers() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = Selkie::new();
    s.load_image(busybox_image(), &["busybox:latest"]);
    let source = s.path("quadlet");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("web.container"), WEB_CONTAINER).unwrap();
    fs::write(source.join("db.container"), DB_CONTAINER).unwrap();

    let dry = quadlet(&s, &[&source], &["--dryrun"]);
    dry.success();
    let printed = dry.stdout_str();
    let db_at = printed.find("---db.service---\n").expect(&printed);
    let web_at = printed.find("---web.service---\n").expect(&printed);
    assert!(db_at < web_at, "units in name order: {printed}");
    let dry_web = printed[web_at + "---web.service---\n".len()..].to_string();

    let out_dir = s.path("generator.normal");
    let out = quadlet(
        &s,
        &[&source],
        &[
            out_dir.to_str().unwrap(),
            s.path("generator.early").to_str().unwrap(),
            s.path("generator.late").to_str().unwrap(),
        ],
    );
    out.success();
    assert_eq!(out.stderr_str(), "", "good files make no messages");
    let web_text = fs::read_to_string(out_dir.join("web.service")).unwrap();
    assert_eq!(
        format!("{web_text}\n"),
        dry_web,
        "--dryrun prints what is written"
    );
    assert_eq!(
        fs::read_link(out_dir.join("multi-user.target.wants/web.service")).unwrap(),
        Path::new("../web.service")
    );
    assert!(out_dir.join("default.target.wants/db.service").exists());

    let runtime = s.path("runtime");
    fs::create_dir_all(&runtime).unwrap();
    let web = Unit::new("web.service", &web_text, &runtime);
    assert_eq!(web.value("Service", "Type"), "notify");
    assert_eq!(web.value("Service", "KillMode"), "mixed");
    assert_eq!(web.value("Service", "Restart"), "always");
    assert_eq!(web.value("Unit", "Description"), "The web container");
    assert_eq!(
        web.value("Unit", "SourcePath"),
        source.join("web.container").display().to_string()
    );
    let start = web.value("Service", "ExecStart");
    let head = format!("{} run --name=systemd-%N", selkie_path());
    for part in [
        head.as_str(),
        "--cidfile=%t/%N.cid --replace --rm --sdnotify=conmon -d",
        "-v /tmp:/tmp",
        "--env A=1 --env \"B=two words\"",
        "--label app=web",
        "localhost/busybox:latest sleep 100",
    ] {
        assert!(start.contains(part), "ExecStart lacks {part:?}: {start}");
    }
    let units = s.path("units");
    verify_unit(&units, "web.service", &web_text);
    let db_text = fs::read_to_string(out_dir.join("db.service")).unwrap();
    verify_unit(&units, "db.service", &db_text);

    // web.service's life, command by command.
    run_unit_command(&s, &web.command("ExecStart")).success();
    assert_runs_like_web(&s, "systemd-web");
    let c = inspect(&s, "systemd-web");
    assert!(c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "B=two words"));
    assert_eq!(c["Config"]["Labels"]["app"], "web");
    let cid = fs::read_to_string(runtime.join("web.cid")).unwrap();
    assert_eq!(c["Id"], cid.as_str());
    run_unit_command(&s, &web.command("ExecStop")).success();
    for post in web.commands("ExecStopPost") {
        run_unit_command(&s, &post);
    }
    s.run(&["container", "exists", "systemd-web"]).assert_code(1);
    assert!(!runtime.join("web.cid").exists());

    // db.service: ContainerName, WorkingDir and PodmanArgs reach the container.
    let db = Unit::new("db.service", &db_text, &runtime);
    run_unit_command(&s, &db.command("ExecStart")).success();
    let c = inspect(&s, "db");
    assert_eq!(c["State"]["Status"], "running");
    assert_eq!(c["Config"]["WorkingDir"], "/data");
    assert_eq!(c["Config"]["Hostname"], "dbhost");
    run_unit_command(&s, &db.command("ExecStop")).success();
    s.run(&["container", "exists", "db"]).assert_code(1);
}

#[test]
fn quadlet_reports_and_skips_bad_files() {
    if skip_on_podman("selkie's own unit text and generator") {
        return;
    }
    let s = Selkie::new();
    let source = s.path("quadlet");
    fs::create_dir_all(&source).unwrap();
    fs::write(
        source.join("good.container"),
        "[Container]\nImage=localhost/busybox:latest\n",
    )
    .unwrap();
    fs::write(
        source.join("tz.container"),
        "[Container]\nImage=localhost/busybox:latest\nTimezone=UTC\n",
    )
    .unwrap();
    fs::write(
        source.join("typo.container"),
        "[Container]\nImage=localhost/busybox:latest\nEnviroment=A=1\n",
    )
    .unwrap();
    fs::write(
        source.join("broken.container"),
        "[Container]\nthis is not a key\n",
    )
    .unwrap();
    let out_dir = s.path("out");
    let out = quadlet(&s, &[&source], &[out_dir.to_str().unwrap()]);
    out.success();
    let stderr = out.stderr_str();
    for want in [
        format!(
            "{}, skipped: key Timezone=UTC",
            source.join("tz.container").display()
        ),
        format!(
            "{}, skipped: unsupported key 'Enviroment'",
            source.join("typo.container").display()
        ),
        format!("{}, skipped: line 2", source.join("broken.container").display()),
    ] {
        assert!(stderr.contains(&want), "stderr lacks {want:?}:\n{stderr}");
    }
    let mut written: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["good.service"]);

    let usage = quadlet(&s, &[&source], &[]);
    usage.assert_code(1);
    assert!(
        usage.stderr_str().contains("missing output directory"),
        "{}",
        usage.stderr_str()
    );
}
