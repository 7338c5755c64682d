//! The busybox root filesystem every test image starts from, and ready-made images built on it.
//!
//! The host's static busybox (Debian's `busybox-static`, `/bin/busybox`) is the only binary; applets are
//! symlinks to it. Entries are added in sorted order with fixed metadata, so the layer and every image
//! built from it have the same digests on every run of the same host busybox. Each fixture is built once
//! per test binary.

use std::sync::OnceLock;

use crate::image::{Image, ImageBuilder};
use crate::layer::{Compression, Layer};

/// Where the host's static busybox is read from.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// The applets linked in `/bin` of the rootfs.
pub const APPLETS: &[&str] = &[
    "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dd", "df", "dirname", "du", "echo",
    "env", "false", "find", "grep", "head", "hostname", "httpd", "id", "ip", "kill", "ln", "ls", "mkdir",
    "mknod", "mount", "mv", "nc", "nslookup", "ping", "printf", "ps", "pwd", "readlink", "rm", "rmdir",
    "sed", "seq", "sh", "sleep", "sort", "stat", "tail", "tee", "test", "timeout", "top", "touch", "tr",
    "true", "umount", "uname", "wc", "wget", "whoami", "xargs", "yes",
];

/// `/etc/passwd` of the rootfs: root, nobody, and `tester` (uid 1000).
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
tester:x:1000:1000:tester:/home/tester:/bin/sh\n";

/// `/etc/group` of the rootfs.
pub const GROUP: &str = "root:x:0:\nnobody:x:65534:\ntester:x:1000:\n";

fn host_busybox() -> &'static [u8] {
    static BUSYBOX: OnceLock<Vec<u8>> = OnceLock::new();
    BUSYBOX.get_or_init(|| {
        std::fs::read(HOST_BUSYBOX).unwrap_or_else(|e| {
            panic!("reading {HOST_BUSYBOX}: {e}; install it with `apt-get install -y busybox-static`")
        })
    })
}

/// The busybox rootfs as one layer (uncompressed; set another compression with [`Layer::compression`]).
pub fn busybox_layer() -> Layer {
    static LAYER: OnceLock<Layer> = OnceLock::new();
    LAYER
        .get_or_init(|| {
            let mut bin = Layer::new()
                .dir("bin")
                .file_with("bin/busybox", host_busybox(), 0o755, 0, 0);
            let mut applets: Vec<&str> = APPLETS.to_vec();
            applets.sort_unstable();
            for applet in applets {
                bin = bin.symlink(&format!("bin/{applet}"), "busybox");
            }
            bin.dir("dev")
                .dir("etc")
                .file("etc/group", GROUP)
                .file("etc/hostname", "selkie\n")
                .file("etc/hosts", "127.0.0.1 localhost\n")
                .file("etc/passwd", PASSWD)
                .dir("home")
                .dir_with("home/tester", 0o755, 1000, 1000)
                .dir("proc")
                .dir_with("root", 0o700, 0, 0)
                .dir("run")
                .dir("sys")
                .dir_with("tmp", 0o1777, 0, 0)
                .dir("usr")
                .dir("usr/bin")
                .symlink("usr/bin/env", "/bin/busybox")
                .dir("var")
                .dir_with("var/tmp", 0o1777, 0, 0)
        })
        .clone()
}

/// An image builder with the busybox rootfs as its first layer and `Cmd ["/bin/sh"]`, `PATH` set.
pub fn busybox_builder() -> ImageBuilder {
    ImageBuilder::new()
        .layer(busybox_layer())
        .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .cmd(&["/bin/sh"])
}

/// The plain busybox image: one uncompressed layer, `Cmd ["/bin/sh"]`. Built once per test binary.
pub fn busybox_image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| busybox_builder().build())
}

/// A second, different image: busybox plus a gzip layer with `/hello.txt`, and config fields set
/// (Entrypoint, Cmd, Env, WorkingDir, User, Labels, Volumes, ExposedPorts, StopSignal, history).
pub fn rich_image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        ImageBuilder::new()
            .layer(busybox_layer())
            .layer(
                Layer::new()
                    .compression(Compression::Gzip)
                    .file("hello.txt", "hello from selkie\n")
                    .dir("data"),
            )
            .entrypoint(&["/bin/echo"])
            .cmd(&["hello"])
            .env("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("GREETING=hi there")
            .working_dir("/data")
            .user("1000:1000")
            .label("org.example.name", "rich")
            .label("version", "1.2")
            .volume("/data")
            .expose("8080/tcp")
            .stop_signal("SIGINT")
            .history("/bin/sh -c #(nop) ADD busybox in /", "rootfs", false)
            .history("/bin/sh -c #(nop) ADD hello.txt in /", "", false)
            .history("/bin/sh -c #(nop)  ENTRYPOINT [\"/bin/echo\"]", "", true)
            .build()
    })
}

/// Deterministic bytes that do not compress: an xorshift stream from `seed`.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A layer of `files` incompressible files of `file_size` bytes each under `/data/<n>/`.
pub fn bulk_layer(seed: u64, files: usize, file_size: usize) -> Layer {
    let mut layer = Layer::new().dir("data");
    for dir in 0..files.div_ceil(100) {
        layer = layer.dir(&format!("data/{dir:03}"));
        for n in dir * 100..files.min((dir + 1) * 100) {
            layer = layer.file(
                &format!("data/{dir:03}/f{n:05}"),
                noise(seed + n as u64, file_size),
            );
        }
    }
    layer
}

/// A large image (about 50 MB in two layers of many files) for interrupted-load tests. Built once.
pub fn large_image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        busybox_builder()
            .layer(bulk_layer(1, 1000, 24 * 1024))
            .layer(bulk_layer(100_000, 1000, 24 * 1024))
            .build()
    })
}
