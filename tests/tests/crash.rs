//! Crash safety of `load`: a load killed with SIGKILL part-way must leave a store that lists nothing
//! half-loaded, and the same archive must load afterwards with the right ID.
//!
//! One test runs every case in sequence, so the timings it measures are not skewed by a sibling test.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{is_podman, large_image, Selkie};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// After a kill: `images` works, and an image that is listed is complete (inspectable, right layers).
fn assert_consistent(s: &Selkie, when: &str) {
    let ids = s.image_ids();
    let image = large_image();
    assert!(
        ids.is_empty() || ids == vec![image.id()],
        "{when}: unexpected images {ids:?}"
    );
    if !ids.is_empty() {
        let v = s.run(&["image", "inspect", &image.id()]).success().json();
        assert_eq!(
            v[0]["RootFS"]["Layers"],
            serde_json::json!(image.diff_ids()),
            "{when}"
        );
    }
    s.run(&["images"]).success();
}

/// Starts a load (from the file, or from it on stdin), SIGKILLs it after `delay_ms`, checks the store.
/// Returns whether the kill landed before the load finished.
fn kill_load(s: &Selkie, archive: &Path, from_stdin: bool, delay_ms: u64) -> bool {
    let mut cmd = if from_stdin {
        let mut cmd = s.command(&["load", "-q"]);
        cmd.stdin(std::fs::File::open(archive).unwrap());
        cmd
    } else {
        s.command(&["load", "-q", "-i", archive.to_str().unwrap()])
    };
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawning load");
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let status = child.wait().unwrap();
    let landed = status.signal() == Some(libc::SIGKILL);
    let when = format!(
        "load{} killed after {delay_ms} ms ({status})",
        if from_stdin { " <stdin" } else { "" }
    );
    eprintln!("{when}: images {:?}", s.image_ids());
    assert_consistent(s, &when);
    // Start from an empty store again when the load won the race.
    if !s.image_ids().is_empty() {
        s.run(&["rmi", "-a"]).success();
    }
    landed
}

#[test]
fn load_killed_at_any_point_leaves_a_consistent_store() {
    let image = large_image();
    let s = Selkie::new();
    let archive = s.path("large.tar");
    image.write_docker_archive(&archive, &["large:1"]);

    // Time one whole load (in a scratch store) to aim kills at the middle and the end (commit) too.
    let probe = Selkie::new();
    let started = Instant::now();
    probe
        .run(&["load", "-q", "-i", archive.to_str().unwrap()])
        .success();
    let full_ms = started.elapsed().as_millis() as u64;
    drop(probe);

    let mut delays = vec![20u64, 60, 150];
    delays.extend(
        [25u64, 50, 75, 90, 97, 105, 115]
            .iter()
            .map(|pct| full_ms * pct / 100),
    );
    let mut landed = 0;
    for delay_ms in delays {
        landed += kill_load(&s, &archive, false, delay_ms) as usize;
    }
    for delay_ms in [30, full_ms / 2] {
        landed += kill_load(&s, &archive, true, delay_ms) as usize;
    }
    assert!(
        landed > 0,
        "every load finished before its kill: the test proved nothing"
    );

    let out = s.run(&["load", "-i", archive.to_str().unwrap()]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![format!("Loaded image: {}", harness::full_name("large:1"))]
    );
    assert_eq!(s.image_ids(), vec![image.id()]);
    assert_eq!(s.image_id("large:1"), image.id());

    // Removing it leaves no layer or blob behind, including whatever the killed loads had started.
    s.run(&["rmi", "-a"]).success();
    if !is_podman() {
        assert_eq!(
            s.store_entries("layers"),
            Vec::<String>::new(),
            "layers left after rmi -a"
        );
        assert_eq!(
            s.store_entries("blobs/sha256"),
            Vec::<String>::new(),
            "blobs left after rmi -a"
        );
    }
    // And it loads again from stdin.
    s.run_stdin_file(&["load", "-q"], &archive).success();
    assert_eq!(s.image_ids(), vec![image.id()]);
}
