//! The cgroup v2 device filter against the kernel: a program built from OCI rules is loaded, attached
//! to a fresh cgroup2 directory, and a child moved into it opens devices. Needs root and a cgroup2
//! mount (`/sys/fs/cgroup/unified` on a hybrid host, `/sys/fs/cgroup` on a pure v2 one).

use std::ffi::CString;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxDeviceType;
use pkg::cgroups::devices_bpf;
use pkg::container::spec::device_rule as rule;

/// The cgroup2 mount to test under, or `None` (with a loud message) when there is none or we are not root.
fn cgroup2_root() -> Option<PathBuf> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: the device filter test needs root");
        return None;
    }
    let is_cgroup2 = |p: &Path| {
        nix::sys::statfs::statfs(p)
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
    };
    let found = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_cgroup2(p));
    if found.is_none() {
        eprintln!("SKIPPED: no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup");
    }
    found
}

/// A cgroup2 directory, removed (after killing what is left in it) when dropped.
struct TestCgroup(PathBuf);

impl TestCgroup {
    fn new(root: &Path, name: &str) -> TestCgroup {
        let dir = root.join(format!("selkie-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir(&dir);
        std::fs::create_dir(&dir).unwrap();
        TestCgroup(dir)
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Ok(procs) = std::fs::read_to_string(self.0.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        eprintln!("could not remove {}", self.0.display());
    }
}

/// What an `open` in the child gave: 0 for success, else the errno.
fn open_results_in(cgroup: &Path, opens: &[(&str, libc::c_int)]) -> Vec<i32> {
    // Everything the child uses is made before the fork: it runs only async-signal-safe calls.
    let paths: Vec<CString> = opens.iter().map(|(p, _)| CString::new(*p).unwrap()).collect();
    let flags: Vec<libc::c_int> = opens.iter().map(|(_, f)| *f).collect();
    let mut go = [0; 2];
    let mut results = [0; 2];
    // SAFETY: plain pipe(2) calls into arrays of two descriptors.
    unsafe {
        assert_eq!(libc::pipe2(go.as_mut_ptr(), libc::O_CLOEXEC), 0);
        assert_eq!(libc::pipe2(results.as_mut_ptr(), libc::O_CLOEXEC), 0);
    }
    // SAFETY: the child only reads, opens, writes and _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: async-signal-safe calls on descriptors and buffers prepared before the fork.
        unsafe {
            let mut byte = 0u8;
            // Wait until the parent has moved this process into the cgroup.
            if libc::read(go[0], &mut byte as *mut u8 as *mut libc::c_void, 1) != 1 {
                libc::_exit(2);
            }
            for (path, flag) in paths.iter().zip(&flags) {
                let fd = libc::open(path.as_ptr(), *flag);
                let code: i32 = if fd >= 0 {
                    libc::close(fd);
                    0
                } else {
                    *libc::__errno_location()
                };
                libc::write(results[1], &code as *const i32 as *const libc::c_void, 4);
            }
            libc::_exit(0);
        }
    }
    // SAFETY: closing the ends of the pipes the parent does not use.
    unsafe {
        libc::close(go[0]);
        libc::close(results[1]);
    }
    let moved = std::fs::write(cgroup.join("cgroup.procs"), pid.to_string());
    if moved.is_ok() {
        // SAFETY: a one-byte write to our end of the pipe.
        unsafe { libc::write(go[1], b"g".as_ptr() as *const libc::c_void, 1) };
    }
    // SAFETY: closing our write end lets a child that was not told to go see EOF and exit.
    unsafe { libc::close(go[1]) };
    let mut out = Vec::new();
    loop {
        let mut code = 0i32;
        // SAFETY: a four-byte read into `code`.
        let n = unsafe { libc::read(results[0], &mut code as *mut i32 as *mut libc::c_void, 4) };
        if n != 4 {
            break;
        }
        out.push(code);
    }
    // SAFETY: closing our read end, then reaping the child.
    let mut status = 0;
    unsafe {
        libc::close(results[0]);
        libc::waitpid(pid, &mut status, 0);
    }
    moved.unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child status {status:#x}"
    );
    out
}

#[test]
fn the_filter_allows_and_denies_device_opens_by_the_last_matching_rule() {
    let Some(root) = cgroup2_root() else { return };
    let cg = TestCgroup::new(&root, "filter");
    let rules = [
        rule(false, LinuxDeviceType::A, None, None, "rwm"),
        rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"),
        rule(true, LinuxDeviceType::C, Some(1), Some(5), "r"),
    ];
    devices_bpf::apply(&cg.0, &rules).unwrap();
    let results = open_results_in(
        &cg.0,
        &[
            ("/dev/null", libc::O_WRONLY),
            ("/dev/zero", libc::O_RDONLY),
            ("/dev/zero", libc::O_WRONLY),
            ("/dev/full", libc::O_RDONLY),
            ("/dev/zero", libc::O_RDWR),
        ],
    );
    assert_eq!(results, vec![0, 0, libc::EPERM, libc::EPERM, libc::EPERM]);
}

#[test]
fn a_later_deny_of_one_access_wins_over_an_earlier_allow() {
    let Some(root) = cgroup2_root() else { return };
    let cg = TestCgroup::new(&root, "deny");
    let rules = [
        rule(true, LinuxDeviceType::A, None, None, "rwm"),
        rule(false, LinuxDeviceType::C, Some(1), Some(5), "w"),
    ];
    devices_bpf::apply(&cg.0, &rules).unwrap();
    let results = open_results_in(
        &cg.0,
        &[
            ("/dev/zero", libc::O_RDONLY),
            ("/dev/zero", libc::O_WRONLY),
            ("/dev/zero", libc::O_RDWR),
            ("/dev/full", libc::O_WRONLY),
        ],
    );
    assert_eq!(results, vec![0, libc::EPERM, libc::EPERM, 0]);
}

#[test]
fn podmans_default_device_rules_pass_the_verifier() {
    let Some(root) = cgroup2_root() else { return };
    let cg = TestCgroup::new(&root, "defaults");
    let c = LinuxDeviceType::C;
    let mut rules = vec![
        rule(false, LinuxDeviceType::A, None, None, "rwm"),
        rule(true, c, None, None, "m"),
        rule(true, LinuxDeviceType::B, None, None, "m"),
    ];
    for (major, minor) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2)] {
        rules.push(rule(true, c, Some(major), Some(minor), "rwm"));
    }
    rules.push(rule(true, c, Some(136), None, "rwm"));
    rules.push(rule(true, c, Some(10), Some(200), "rwm"));
    devices_bpf::apply(&cg.0, &rules).unwrap();
    // A device the defaults leave out (c 1:1, /dev/mem), made outside the cgroup.
    let tmp = tempfile::tempdir().unwrap();
    let mem = tmp.path().join("mem");
    nix::sys::stat::mknod(
        &mem,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        nix::sys::stat::makedev(1, 1),
    )
    .unwrap();
    let results = open_results_in(
        &cg.0,
        &[
            ("/dev/full", libc::O_RDWR),
            ("/dev/urandom", libc::O_RDONLY),
            (mem.to_str().unwrap(), libc::O_RDONLY),
        ],
    );
    assert_eq!(results, vec![0, 0, libc::EPERM]);
}

#[test]
fn a_program_the_verifier_rejects_is_an_error_with_its_log() {
    if cgroup2_root().is_none() {
        return;
    }
    // A program that returns without setting r0.
    let bad = [devices_bpf::Insn {
        code: 0x95,
        regs: 0,
        off: 0,
        imm: 0,
    }];
    let err = devices_bpf::load(&bad).unwrap_err().to_string();
    assert!(err.contains("verifier"), "{err}");
}
