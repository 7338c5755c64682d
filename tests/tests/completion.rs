//! End-to-end tests of shell completion and man pages, through the real binary and the real shells.
//!
//! - The scripts committed under `completions/` are what `selkie completion SHELL` prints (rewrite them
//!   with `SELKIE_BLESS=1 cargo test -p selkie-tests --test completion`).
//! - bash (with the bash-completion package's loader), zsh (compinit in an interactive zsh on a pty, the
//!   completion run from `zle-line-init`, matches captured by wrapping `compadd`) and fish
//!   (`complete -C`) load those committed scripts the way an installed system does, and complete
//!   subcommands, flags, flag values, and the names of the containers and images this test creates: every
//!   container for `rm`, only running ones for `stop`, only stopped ones for `start`. The shells see the
//!   test's private store through its `storage.conf` (`CONTAINERS_STORAGE_CONF`), or through `--root`
//!   typed on the command line.
//! - `selkie generate-man-pages DIR` writes a page for every command, and groff renders one.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use harness::container::{ContainerStore, BUSYBOX};
use harness::{is_podman, Selkie};

const SHELLS: &[(&str, &str)] = &[
    ("bash", "bash/selkie"),
    ("zsh", "zsh/_selkie"),
    ("fish", "fish/selkie.fish"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn committed(rel: &str) -> PathBuf {
    repo().join("completions").join(rel)
}

fn skip_podman() -> bool {
    if is_podman() {
        eprintln!("skipped against podman: selkie's own completion scripts");
    }
    is_podman()
}

#[test]
fn committed_scripts_match_the_binary() {
    if skip_podman() {
        return;
    }
    let s = Selkie::new();
    let bless = std::env::var_os("SELKIE_BLESS").is_some_and(|v| v != "0");
    let mut drifted = vec![];
    for (shell, rel) in SHELLS {
        let generated = s.run(&["completion", shell]).success().stdout_str();
        assert!(generated.contains("SELKIE_COMPLETE"), "{shell}: {generated}");
        let path = committed(rel);
        if bless {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = fs::read_to_string(&path).unwrap_or_default();
        if on_disk != generated {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "{drifted:?} differ from `selkie completion SHELL`: regenerate them with \
         SELKIE_BLESS=1 cargo test -p selkie-tests --test completion"
    );
}

#[test]
fn completion_command_flags() {
    if skip_podman() {
        return;
    }
    let s = Selkie::new();
    let stdout = s.run(&["completion", "fish"]).success().stdout_str();
    let file = s.path("out.fish");
    let out = s.run(&["completion", "--file", file.to_str().unwrap(), "fish"]);
    assert_eq!(out.success().stdout_str(), "");
    assert_eq!(fs::read_to_string(&file).unwrap(), stdout);
    let no_desc = s.run(&["completion", "--no-desc", "fish"]).success().stdout_str();
    assert!(no_desc.contains("SELKIE_COMPLETE_NODESC=fish"), "{no_desc}");
    // What a --no-desc script asks for: candidates without their descriptions.
    let mut cmd = Command::new(s.bin());
    s.apply_env(&mut cmd);
    cmd.env("SELKIE_COMPLETE_NODESC", "fish")
        .args(["--", "selkie", "r"]);
    let plain = output_lines(cmd, "completing without descriptions");
    assert!(
        plain.contains(&"rm".to_string()) && plain.iter().all(|l| !l.contains('\t')),
        "{plain:?}"
    );
    let ps = s.run(&["completion", "powershell"]).success().stdout_str();
    assert!(ps.contains("Register-ArgumentCompleter"), "{ps}");
    s.run(&["completion", "tcsh"]).assert_code(125);
    s.run(&["completion", "--help"])
        .success()
        .assert_stdout_contains("bash|zsh|fish|powershell");
}

/// A directory holding `selkie` (a symlink to the binary under test), to put first on the shells' PATH:
/// the scripts call `selkie` back by name.
fn bin_dir(s: &Selkie) -> PathBuf {
    let dir = s.path("bin");
    if !dir.exists() {
        fs::create_dir_all(&dir).unwrap();
        symlink(s.bin(), dir.join("selkie")).unwrap();
    }
    dir
}

/// A shell command with the store's environment, `selkie` first on PATH, and nothing from the user's
/// shell configuration.
fn shell_command(s: &Selkie, program: &str) -> Command {
    let mut cmd = Command::new(program);
    s.apply_env(&mut cmd);
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", bin_dir(s).display()))
        .env("HOME", s.dir())
        .env("XDG_CONFIG_HOME", s.path("xdg-config"))
        .env("XDG_DATA_HOME", s.path("xdg-data"))
        .env_remove("SELKIE_COMPLETE")
        .env_remove("SELKIE_COMPLETE_NODESC")
        .stdin(Stdio::null());
    cmd
}

fn output_lines(mut cmd: Command, what: &str) -> Vec<String> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The candidates bash offers for `line` (the cursor at its end), with the committed script found by
/// bash-completion's own loader, as an installed `/usr/share/bash-completion/completions/selkie` is.
fn bash(s: &Selkie, line: &str) -> Vec<String> {
    let user_dir = s.path("bash-completion");
    fs::create_dir_all(user_dir.join("completions")).unwrap();
    let _ = fs::copy(committed("bash/selkie"), user_dir.join("completions/selkie"));
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if line.ends_with(' ') {
        words.push("");
    }
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let script = format!(
        "source /usr/share/bash-completion/bash_completion\n\
         _completion_loader selkie\n\
         COMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE={line}\nCOMP_POINT=${{#COMP_LINE}}\n\
         _clap_complete_selkie selkie {cur} {prev}\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = words.iter().map(|w| sh_quote(w)).collect::<Vec<_>>().join(" "),
        line = sh_quote(line),
        cur = sh_quote(words[cword]),
        prev = sh_quote(prev),
    );
    let mut cmd = shell_command(s, "bash");
    cmd.args(["--norc", "--noprofile", "-c", &script])
        .env("BASH_COMPLETION_USER_DIR", &user_dir);
    output_lines(cmd, &format!("bash completing {line:?}"))
}

/// Drives an interactive zsh on a pty (zsh/zpty): compinit finds the committed `_selkie` in `$fpath`;
/// `zle-line-init` puts the line in the buffer and runs `complete-word`; a `compadd` wrapper records the
/// matches.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
: > $ZCOMP_OUT
zpty z zsh -f -i
zpty -w z "source ${(q)ZCOMP_SETUP}"
local chunk i
for i in {1..600}; do
  while zpty -rt z chunk 2>/dev/null; do :; done
  grep -q '^__done__$' $ZCOMP_OUT && break
  sleep 0.05
done
zpty -d z
grep -q '^__done__$' $ZCOMP_OUT || { print -u2 "zsh did not finish completing"; exit 4; }
grep -v '^__done__$' $ZCOMP_OUT || true
"#;

const ZSH_SETUP: &str = r#"
PS1='> '
fpath=($ZCOMP_FPATH $fpath)
autoload -Uz compinit
compinit -u -D
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a __hits
  builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >> $ZCOMP_OUT
  builtin compadd "$@"
}
zle-line-init() {
  BUFFER=$ZCOMP_LINE
  CURSOR=$#BUFFER
  zle complete-word
  print -r -- __done__ >> $ZCOMP_OUT
  exit
}
zle -N zle-line-init
"#;

fn zsh(s: &Selkie, line: &str) -> Vec<String> {
    let dir = s.path("zsh");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("setup.zsh"), ZSH_SETUP).unwrap();
    let mut cmd = shell_command(s, "zsh");
    cmd.args(["-f", "-c", ZSH_DRIVER])
        .env("ZCOMP_SETUP", dir.join("setup.zsh"))
        .env("ZCOMP_FPATH", committed("zsh"))
        .env("ZCOMP_OUT", dir.join("out"))
        .env("ZCOMP_LINE", line);
    output_lines(cmd, &format!("zsh completing {line:?}"))
}

/// fish's own `complete -C`, with the committed script found through `$fish_complete_path`, as an
/// installed `vendor_completions.d/selkie.fish` is.
fn fish(s: &Selkie, line: &str) -> Vec<String> {
    let script = format!(
        "set -p fish_complete_path {}; complete -C {}",
        sh_quote(committed("fish").to_str().unwrap()),
        sh_quote(line)
    );
    let mut cmd = shell_command(s, "fish");
    cmd.args(["--no-config", "-c", &script]);
    output_lines(cmd, &format!("fish completing {line:?}"))
        .into_iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

type Shell = fn(&Selkie, &str) -> Vec<String>;

/// A store with a running container, a created one, and a second image name.
struct Scene {
    store: ContainerStore,
}

const RUNNING: &str = "compl-running";
const CREATED: &str = "compl-created";
const TAGGED: &str = "compl-image:v1";

impl Scene {
    fn new() -> Scene {
        let store = ContainerStore::new();
        store.run_detached(&["--name", RUNNING, BUSYBOX, "sleep", "1000"]);
        store
            .run(&["create", "--name", CREATED, BUSYBOX, "true"])
            .success();
        store.run(&["tag", BUSYBOX, TAGGED]).success();
        Scene { store }
    }
}

fn has(got: &[String], want: &str) -> bool {
    got.iter().any(|g| g == want)
}

fn assert_offers(shell: &str, line: &str, got: &[String], want: &[&str], not: &[&str]) {
    for w in want {
        assert!(
            has(got, w),
            "{shell}: {line:?} should offer {w:?}, offered {got:?}"
        );
    }
    for n in not {
        assert!(
            !has(got, n),
            "{shell}: {line:?} should not offer {n:?}, offered {got:?}"
        );
    }
}

fn check_shell(name: &str, complete: Shell) {
    if skip_podman() {
        return;
    }
    let scene = Scene::new();
    let s: &Selkie = scene.store.selkie();
    let c = |line: &str, want: &[&str], not: &[&str]| {
        let got = complete(s, line);
        assert_offers(name, line, &got, want, not);
    };
    c("selkie r", &["rm", "rmi", "run", "restart"], &["ps"]);
    // clap_complete offers one name per command: `list` (an alias of `ls`, first in order) stands for it.
    c("selkie container l", &["list", "logs"], &[]);
    c("selkie rm --f", &["--force"], &[]);
    c("selkie rm ", &[RUNNING, CREATED], &[]);
    c("selkie logs compl-", &[RUNNING, CREATED], &[]);
    c("selkie stop ", &[RUNNING], &[CREATED]);
    c("selkie exec ", &[RUNNING], &[CREATED]);
    c("selkie start ", &[CREATED], &[RUNNING]);
    c(
        "selkie run ",
        &["localhost/busybox:latest", "localhost/compl-image:v1"],
        &[],
    );
    c("selkie rmi compl", &["compl-image:v1", "compl-image"], &[]);
    c(
        "selkie image inspect localhost/b",
        &["localhost/busybox:latest"],
        &[],
    );
    c("selkie run --sdnotify ", &["container", "conmon", "ignore"], &[]);
    c("selkie run --network ", &["none", "host", "private"], &[]);
    c(
        "selkie create --pull ",
        &["always", "missing", "never", "newer"],
        &[],
    );
    c("selkie --log-level ", &["debug", "info", "warn", "error"], &[]);
    c("selkie ps --filter sta", &["status="], &[]);
    c("selkie ps --format js", &["json"], &[]);
    // zsh's completion system quotes `{` in candidates and then matches none of them; bash and fish take
    // Go-template fields.
    if name != "zsh" {
        c("selkie ps --format {{.Na", &["{{.Names}}"], &[]);
        c("selkie ps --format table", &["table", "table {{.ID}}"], &[]);
    }
    c("selkie completion ", &["bash", "zsh", "fish", "powershell"], &[]);
    c("selkie cp compl-r", &["compl-running:"], &[]);
}

#[test]
fn bash_completes_commands_flags_and_names() {
    check_shell("bash", bash);
}

#[test]
fn zsh_completes_commands_flags_and_names() {
    check_shell("zsh", zsh);
}

#[test]
fn fish_completes_commands_flags_and_names() {
    check_shell("fish", fish);
}

/// Files where a path is expected.
#[test]
fn paths_complete_as_files() {
    if skip_podman() {
        return;
    }
    let s = Selkie::new();
    fs::write(s.path("archive-for-completion.tar"), b"").unwrap();
    let line = format!("selkie load -i {}/archive-for", s.dir().display());
    let want = format!("{}/archive-for-completion.tar", s.dir().display());
    for (name, complete) in [("bash", bash as Shell), ("fish", fish as Shell)] {
        let got = complete(&s, &line);
        assert_offers(name, &line, &got, &[&want], &[]);
    }
}

/// The store typed on the command line wins over the one storage.conf names.
#[test]
fn root_on_the_command_line_selects_the_store() {
    if skip_podman() {
        return;
    }
    let scene = Scene::new();
    let s: &Selkie = scene.store.selkie();
    // Another store's configuration: an empty store.
    let other = Selkie::new();
    let root = s.root();
    let runroot = s.runroot();
    let with_flags = format!(
        "selkie --root {} --runroot {} rm ",
        root.display(),
        runroot.display()
    );
    for (name, complete) in [
        ("bash", bash as Shell),
        ("zsh", zsh as Shell),
        ("fish", fish as Shell),
    ] {
        // `other`'s environment (its storage.conf), `s`'s store on the command line.
        let got = complete(&other, "selkie rm ");
        assert_offers(name, "selkie rm ", &got, &[], &[RUNNING, CREATED]);
        let got = complete(&other, &with_flags);
        assert_offers(name, &with_flags, &got, &[RUNNING, CREATED], &[]);
    }
}

/// The visible commands under `selkie PREFIX...`, from the "Commands:" section of its `--help`.
fn commands(s: &Selkie, prefix: &[&str]) -> Vec<String> {
    let mut args = prefix.to_vec();
    args.push("--help");
    let help = s.run(&args).success().stdout_str();
    let Some((_, section)) = help.split_once("Commands:\n") else {
        return vec![];
    };
    section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn man_pages_for_every_command() {
    if skip_podman() {
        return;
    }
    let s = Selkie::new();
    let dir = s.path("man");
    s.run(&["generate-man-pages", dir.to_str().unwrap()]).success();
    let exists = |name: &str| dir.join(format!("{name}.1")).is_file();
    for page in [
        "selkie",
        "selkie-run",
        "selkie-container-ls",
        "selkie-image-inspect",
        "selkie-completion",
    ] {
        assert!(exists(page), "{page}.1 missing in {}", dir.display());
    }
    let top = commands(&s, &[]);
    assert!(top.len() > 20, "{top:?}");
    for c in &top {
        assert!(exists(&format!("selkie-{c}")), "no man page for selkie {c}");
        for sub in commands(&s, &[c]) {
            assert!(
                exists(&format!("selkie-{c}-{sub}")),
                "no man page for selkie {c} {sub}"
            );
        }
    }
    assert!(!exists("selkie-container-monitor"), "hidden commands get no page");
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .arg(dir.join("selkie-run.1"))
        .output()
        .expect("groff (groff-base) renders man pages");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).replace(['\u{2010}', '\u{2212}'], "-");
    let plain: String = text.chars().filter(|c| *c != '\u{8}').collect();
    for want in ["selkie-run", "SYNOPSIS", "--detach", "--network"] {
        assert!(
            plain.contains(want) || text.contains(want),
            "{want} not in the rendered page:\n{text}"
        );
    }
}
