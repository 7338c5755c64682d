//! Tiny static C helpers for images (busybox cannot make arbitrary system calls or talk to unix
//! sockets), built by the tests with the machine's C compiler.

use std::path::Path;
use std::process::Command;

/// Compiles `source` as a static binary named `name` in `dir` and returns its bytes.
pub fn static_binary(dir: &Path, name: &str, source: &str) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "building the static {name} helper needs cc and libc's static library (scripts/deps: gcc libc6-dev)"
    );
    std::fs::read(out).unwrap()
}
