//! Crash safety of `load`: a load killed with SIGKILL part-way must leave a store that lists nothing
//! half-loaded, and the same archive must load afterwards with the right ID.

use std::time::Duration;

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
    let table = s.run(&["images"]);
    table.success();
}

#[test]
fn load_killed_at_any_point_leaves_a_consistent_store() {
    let image = large_image();
    let s = Selkie::new();
    let archive = s.path("large.tar");
    image.write_docker_archive(&archive, &["large:1"]);
    let archive = archive.to_str().unwrap().to_string();
    for delay_ms in [20u64, 60, 150, 400] {
        let mut child = s.spawn(&["load", "-q", "-i", &archive]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        let status = child.wait().unwrap();
        let when = format!("killed after {delay_ms} ms ({status})");
        assert_consistent(&s, &when);
        // Start from an empty store again when the load had won the race.
        if !s.image_ids().is_empty() {
            s.run(&["rmi", "-a"]).success();
        }
    }
    let out = s.run(&["load", "-i", &archive]);
    out.success();
    assert_eq!(
        out.lines(),
        vec![format!("Loaded image: {}", harness::full_name("large:1"))]
    );
    assert_eq!(s.image_ids(), vec![image.id()]);
    assert_eq!(s.image_id("large:1"), image.id());
    // Removing it leaves no layer behind, including whatever the killed loads had started.
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
}

#[test]
fn load_from_stdin_killed_leaves_a_consistent_store() {
    let image = large_image();
    let s = Selkie::new();
    let archive = s.path("large.tar");
    image.write_docker_archive(&archive, &["large:1"]);
    for delay_ms in [30u64, 120] {
        let mut cmd = s.command(&["load", "-q"]);
        cmd.stdin(std::fs::File::open(&archive).unwrap());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        child.wait().unwrap();
        assert_consistent(&s, &format!("stdin load killed after {delay_ms} ms"));
    }
    let out = s.run_stdin_file(&["load", "-q"], &archive);
    out.success();
    assert_eq!(s.image_ids(), vec![image.id()]);
}
