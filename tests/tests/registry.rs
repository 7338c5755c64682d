//! End-to-end tests of `pull`, `push`, `login`, `logout` and `run --pull` against real registries
//! (Debian's `docker-registry`, started once per test binary by [`harness::registry`]): plain HTTP, HTTPS
//! with a CA of its own, and htpasswd basic authentication. Images are built by the harness and seeded
//! with skopeo; each test has its own store and its own repositories where it changes anything.
//!
//! The expected outputs are Podman 4.3.1's, checked by running this file with
//! `SELKIE_BIN=/usr/bin/podman`; checks where selkie deliberately differs are skipped there.

use std::fs;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use harness::layer::{sha256_digest, Compression, LayerBlob};
use harness::registry::{
    base64_encode, free_port, registry_form, with_layers, Kind, RegistriesConf, Registry,
};
use harness::rootfs::noise;
use harness::{
    busybox_builder, busybox_image, busybox_layer, host_architecture, is_podman, large_image, rich_image,
    skip_on_podman, Image, ImageBuilder, Layer, Output, Selkie,
};
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// A fresh store. Against Podman, with an empty auth file: Podman 4.3.1 refuses to pull when
/// `REGISTRY_AUTH_FILE` names a file that does not exist (`Error: stat …: no such file or directory`),
/// where selkie treats a missing default auth file as holding no credentials (an explicit `--authfile`
/// must exist for both: `pull_with_a_missing_authfile_fails`).
fn store() -> Selkie {
    let s = Selkie::new();
    if is_podman() {
        fs::write(s.auth_file(), "{\n\t\"auths\": {}\n}").unwrap();
    }
    s
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `pull <registry's TLS flags and credentials> <extra> <reference>`.
fn pull(s: &Selkie, reg: &Registry, extra: &[&str], reference: &str) -> Output {
    let client = reg.client_args();
    let mut args: Vec<&str> = vec!["pull"];
    args.extend(client.iter().map(String::as_str));
    args.extend_from_slice(extra);
    args.push(reference);
    s.run(&args)
}

/// `images` as `repository:tag` lines, sorted.
fn names_of(s: &Selkie) -> Vec<String> {
    let mut names = s
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .success()
        .lines();
    names.sort();
    names
}

fn inspect(s: &Selkie, reference: &str) -> Value {
    let v = s.run(&["image", "inspect", reference]).success().json();
    let arr = v.as_array().expect("inspect prints a JSON array");
    assert_eq!(arr.len(), 1, "one object per image: {v}");
    arr[0].clone()
}

/// The progress lines Podman prints on stderr while copying an image (not a terminal).
fn is_progress_line(line: &str) -> bool {
    is_resolution_line(line)
        || line.starts_with("Trying to pull ")
        || line == "Getting image source signatures"
        || line.starts_with("Copying blob sha256:")
        || line.starts_with("Copying config sha256:")
        || line == "Writing manifest to image destination"
        || line == "Storing signatures"
}

/// How Podman says it resolved a short name: `Resolved "NAME" as an alias (CONF)`,
/// `Resolving "NAME" using unqualified-search registries (CONF)`.
fn is_resolution_line(line: &str) -> bool {
    line.starts_with("Resolved \"") || line.starts_with("Resolving \"")
}

fn stderr_lines(out: &Output) -> Vec<String> {
    out.stderr_str()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The stderr of a successful copy, as Podman prints it without a terminal: `Getting image source
/// signatures`, a `Copying blob sha256:<hex>` line per layer (optionally ` done` or
/// ` skipped: already exists` after it), `Copying config sha256:<config>`, `Writing manifest to image
/// destination`, `Storing signatures`.
#[track_caller]
fn assert_copy_progress(out: &Output, config_digest: &str) {
    let lines = stderr_lines(out);
    let report = || format!("command: {}\n--- stderr ---\n{}", out.command, out.stderr_str());
    for line in &lines {
        assert!(
            is_progress_line(line),
            "unexpected stderr line {line:?}\n{}",
            report()
        );
    }
    let at = |wanted: &dyn Fn(&str) -> bool| lines.iter().position(|l| wanted(l));
    let signatures =
        at(&|l| l == "Getting image source signatures").unwrap_or_else(|| panic!("{}", report()));
    let blob = at(&|l| l.starts_with("Copying blob sha256:")).unwrap_or_else(|| panic!("{}", report()));
    let config_line = format!("Copying config {config_digest}");
    let config = at(&|l| l == config_line || l == format!("{config_line} done"))
        .unwrap_or_else(|| panic!("expected {config_line:?}\n{}", report()));
    let manifest =
        at(&|l| l == "Writing manifest to image destination").unwrap_or_else(|| panic!("{}", report()));
    let stored = at(&|l| l == "Storing signatures").unwrap_or_else(|| panic!("{}", report()));
    assert!(
        signatures < blob && blob < config && config < manifest && manifest < stored,
        "progress lines out of order\n{}",
        report()
    );
    for line in lines.iter().filter(|l| l.starts_with("Copying blob ")) {
        let rest = &line["Copying blob sha256:".len()..];
        let (hex, suffix) = rest.split_at(rest.len().min(64));
        assert!(is_hex64(hex), "blob digest in {line:?}\n{}", report());
        assert!(
            ["", " done", " skipped: already exists"].contains(&suffix),
            "suffix of {line:?}\n{}",
            report()
        );
    }
}

/// A successful `pull` of `reference` (as printed in `Trying to pull`) giving `image`: the progress lines
/// (after a short name's resolution line), and the full image ID as the only stdout line.
#[track_caller]
fn assert_pulled(out: &Output, reference: &str, image: &Image) {
    out.success();
    let mut lines = stderr_lines(out);
    if lines.first().is_some_and(|l| is_resolution_line(l)) {
        lines.remove(0);
    }
    assert_eq!(
        lines.first().map(String::as_str),
        Some(format!("Trying to pull {reference}...").as_str()),
        "first stderr line\n{}",
        out.stderr_str()
    );
    assert_copy_progress(out, image.config_digest());
    assert_eq!(
        out.lines(),
        vec![image.id()],
        "stdout is the image ID\n{}",
        out.stderr_str()
    );
}

/// A failed pull or push: exit 125, one `Error: ` line (the last) containing every one of `substrings`,
/// and otherwise only progress lines. Against Podman, which adds retry warnings, only the exit code, an
/// `Error: ` line and the substrings are checked.
#[track_caller]
fn assert_copy_error(out: &Output, substrings: &[&str]) {
    out.assert_code(125);
    let lines = stderr_lines(out);
    let errors: Vec<&String> = lines.iter().filter(|l| l.starts_with("Error: ")).collect();
    let report = format!("command: {}\n--- stderr ---\n{}", out.command, out.stderr_str());
    assert_eq!(errors.len(), 1, "expected one `Error: ` line\n{report}");
    if is_podman() {
        for sub in substrings {
            assert!(
                out.stderr_str().contains(sub),
                "stderr must contain {sub:?}\n{report}"
            );
        }
        return;
    }
    assert!(
        lines.last().unwrap().starts_with("Error: "),
        "the error comes last\n{report}"
    );
    for line in &lines[..lines.len() - 1] {
        assert!(
            is_progress_line(line),
            "unexpected stderr line {line:?}\n{report}"
        );
    }
    for sub in substrings {
        assert!(
            errors[0].contains(sub),
            "the error line must contain {sub:?}\n{report}"
        );
    }
}

/// [`assert_copy_error`], and the store still has no image.
#[track_caller]
fn assert_pull_failed(s: &Selkie, out: &Output, substrings: &[&str]) {
    assert_copy_error(out, substrings);
    assert_eq!(s.image_ids(), Vec::<String>::new(), "a failed pull adds no image");
}

fn run_stdout(s: &Selkie, args: &[&str]) -> String {
    s.run(args).success().stdout_str()
}

fn read_json(path: &std::path::Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()))
}

/// The entry for `host` in the store's auth file (`REGISTRY_AUTH_FILE`), if the file and the entry exist.
fn stored_login(s: &Selkie, host: &str) -> Option<Value> {
    if !s.auth_file().exists() {
        return None;
    }
    read_json(&s.auth_file())["auths"].get(host).cloned()
}

/// The plain busybox image, seeded once as `plain/busybox:1` in the HTTP registry; its served digest.
fn seeded_busybox() -> (&'static Registry, String) {
    let reg = Registry::http();
    let digest = reg.seed(busybox_image(), "plain/busybox:1");
    (reg, digest)
}

// ---------------------------------------------------------------- the harness itself

#[test]
fn harness_registries_serve_what_was_seeded() {
    let (reg, digest) = seeded_busybox();
    assert!(
        digest.starts_with("sha256:") && is_hex64(&digest[7..]),
        "{digest}"
    );
    assert_eq!(reg.manifest_digest("plain/busybox:1"), digest);
    let manifest = reg.manifest("plain/busybox:1");
    assert_eq!(manifest["config"]["digest"], busybox_image().config_digest());
    // Seeded with its uncompressed layer gzipped; the config (so the image ID) is unchanged.
    assert_eq!(digest, registry_form(busybox_image()).manifest_digest());
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        Compression::Gzip.oci_media_type()
    );
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_string();
    assert!(
        reg.blob_path(&layer).is_file(),
        "{}",
        reg.blob_path(&layer).display()
    );
    assert_eq!(reg.manifest_digest(&format!("plain/busybox@{digest}")), digest);
    assert!(
        !reg.requests("GET", "/v2/").is_empty(),
        "the access log records requests"
    );

    let tls = Registry::tls();
    assert!(tls.ca_path().is_file() && tls.cert_dir().join("ca.crt").is_file());
    let tls_digest = tls.seed(busybox_image(), "plain/busybox:1");
    assert_eq!(
        tls_digest, digest,
        "the same image seeds the same manifest everywhere"
    );

    let auth = Registry::auth();
    let anonymous = harness::registry::http_request(auth.port(), "GET", "/v2/").unwrap();
    assert!(anonymous.starts_with("HTTP/1.0 401"), "{anonymous}");
    assert!(anonymous.contains(harness::registry::REALM), "{anonymous}");
    assert_eq!(auth.seed(busybox_image(), "plain/busybox:1"), digest);

    let ports = [reg.port(), tls.port(), auth.port()];
    assert!(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
    assert_eq!(
        Registry::start(Kind::Http).pid(),
        reg.pid(),
        "started once per test binary"
    );
}

#[test]
fn harness_seeds_indexes_and_keeps_compression() {
    let reg = Registry::http();
    let (amd64, arm64) = two_platforms();
    let digest = reg.seed_index(&[&amd64, &arm64], "harness/index:1");
    let index = reg.manifest("harness/index:1");
    assert_eq!(reg.manifest_digest("harness/index:1"), digest);
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    let layered = layered_image();
    reg.seed(&layered, "harness/layered:1");
    let manifest = reg.manifest("harness/layered:1");
    let types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ]
    );
}

// ---------------------------------------------------------------- pull from the HTTP registry

#[test]
fn pull_by_tag_prints_progress_and_the_image_id() {
    let (reg, digest) = seeded_busybox();
    let s = store();
    let reference = reg.reference("plain/busybox:1");
    let out = pull(&s, reg, &[], &reference);
    assert_pulled(&out, &reference, busybox_image());

    assert_eq!(names_of(&s), vec![reference.clone()]);
    assert_eq!(s.image_id(&reference), busybox_image().id());
    let image = inspect(&s, &reference);
    assert_eq!(image["Digest"], digest.as_str());
    let repo_digests: Vec<&str> = image["RepoDigests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        repo_digests.contains(&format!("{}@{digest}", reg.reference("plain/busybox")).as_str()),
        "{repo_digests:?}"
    );
    assert_eq!(
        run_stdout(&s, &["run", "--rm", &reference, "echo", "pulled"]),
        "pulled\n"
    );
}

#[test]
fn pull_quiet_prints_only_the_id() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let out = pull(&s, reg, &["-q"], &reg.reference("plain/busybox:1"));
    out.success();
    assert_eq!(out.stdout_str(), format!("{}\n", busybox_image().id()));
    assert_eq!(out.stderr_str(), "");
}

#[test]
fn pull_by_digest_gives_the_same_image_untagged() {
    let (reg, digest) = seeded_busybox();
    let s = store();
    let reference = reg.reference(&format!("plain/busybox@{digest}"));
    let out = pull(&s, reg, &[], &reference);
    assert_pulled(&out, &reference, busybox_image());
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    assert_eq!(
        names_of(&s),
        vec![format!("{}:<none>", reg.reference("plain/busybox"))]
    );
    assert_eq!(s.image_id(&reference), busybox_image().id());
    assert_eq!(inspect(&s, &reference)["Digest"], digest.as_str());
    assert_eq!(
        run_stdout(&s, &["run", "--rm", &reference, "echo", "by-digest"]),
        "by-digest\n"
    );
}

#[test]
fn pull_again_keeps_one_image() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let reference = reg.reference("plain/busybox:1");
    pull(&s, reg, &["-q"], &reference).success();
    let out = pull(&s, reg, &[], &reference);
    assert_pulled(&out, &reference, busybox_image());
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
    assert_eq!(names_of(&s), vec![reference]);
}

#[test]
fn insecure_registries_conf_replaces_tls_verify_false() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let reference = reg.reference("plain/busybox:1");
    // Without either, the client speaks HTTPS to a plain HTTP server.
    let out = s.run(&["pull", &reference]);
    assert_pull_failed(&s, &out, &[&reference]);

    reg.write_registries_conf(&s);
    let out = s.run(&["pull", &reference]);
    assert_pulled(&out, &reference, busybox_image());
    assert_eq!(names_of(&s), vec![reference]);
}

// ---------------------------------------------------------------- layers and compression

/// busybox (uncompressed in the layout, gzip once seeded), a gzip layer adding files, and a zstd layer
/// deleting some of them (a whiteout, an opaque directory) and adding others.
fn layered_image() -> Image {
    busybox_builder()
        .layer(
            Layer::new()
                .compression(Compression::Gzip)
                .dir("data")
                .file("data/a", "a\n")
                .file("data/b", "b\n")
                .dir("data/keep")
                .file("data/keep/old", "old\n")
                .dir("etc")
                .file("etc/motd", "motd\n"),
        )
        .layer(
            Layer::new()
                .compression(Compression::Zstd)
                .dir("data")
                .whiteout("data/a")
                .dir("data/keep")
                .opaque("data/keep")
                .file("data/keep/new", "new\n")
                .dir("etc")
                .whiteout("etc/motd")
                .file("zstd.txt", "from a zstd layer\n"),
        )
        .label("org.example.test", "layered")
        .build()
}

#[test]
fn pull_applies_whiteouts_across_gzip_and_zstd_layers() {
    let reg = Registry::http();
    let image = layered_image();
    reg.seed(&image, "layers/mixed:1");
    let s = store();
    let reference = reg.reference("layers/mixed:1");
    let out = pull(&s, reg, &[], &reference);
    assert_pulled(&out, &reference, &image);
    let listing = run_stdout(
        &s,
        &[
            "run",
            "--rm",
            &reference,
            "sh",
            "-c",
            "ls /data; echo --; ls /data/keep; echo --; cat /zstd.txt; test -e /etc/motd || echo no-motd",
        ],
    );
    assert_eq!(listing, "b\nkeep\n--\nnew\n--\nfrom a zstd layer\nno-motd\n");
    assert_eq!(
        inspect(&s, &reference)["RootFS"]["Layers"],
        serde_json::json!(image.diff_ids())
    );
}

#[test]
fn pull_of_an_all_zstd_image() {
    let reg = Registry::http();
    let image = ImageBuilder::new()
        .layer(busybox_layer().compression(Compression::Zstd))
        .layer(
            Layer::new()
                .compression(Compression::Zstd)
                .file("z.txt", "zstd only\n"),
        )
        .env("PATH=/bin")
        .cmd(&["cat", "/z.txt"])
        .build();
    reg.seed(&image, "layers/zstd:1");
    let manifest = reg.manifest("layers/zstd:1");
    assert!(manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"));
    let s = store();
    let reference = reg.reference("layers/zstd:1");
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, &image);
    assert_eq!(run_stdout(&s, &["run", "--rm", &reference]), "zstd only\n");
}

#[test]
fn pull_of_an_all_gzip_image() {
    let reg = Registry::http();
    let image = ImageBuilder::new()
        .layer(busybox_layer().compression(Compression::Gzip))
        .layer(
            Layer::new()
                .compression(Compression::Gzip)
                .file("g.txt", "gzip only\n"),
        )
        .env("PATH=/bin")
        .cmd(&["cat", "/g.txt"])
        .build();
    let digest = reg.seed(&image, "layers/gzip:1");
    // Already compressed: the registry has the harness's manifest, unchanged.
    assert_eq!(digest, image.manifest_digest());
    let s = store();
    let reference = reg.reference("layers/gzip:1");
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, &image);
    assert_eq!(run_stdout(&s, &["run", "--rm", &reference]), "gzip only\n");
}

#[test]
fn pull_of_uncompressed_layers() {
    let reg = Registry::http();
    let image = busybox_image();
    let digest = reg.seed_as_is(image, "layers/plain:1");
    let manifest = reg.manifest("layers/plain:1");
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        Compression::None.oci_media_type()
    );
    let s = store();
    let reference = reg.reference("layers/plain:1");
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, image);
    assert_eq!(inspect(&s, &reference)["Digest"], digest.as_str());
    assert_eq!(
        run_stdout(&s, &["run", "--rm", &reference, "echo", "plain"]),
        "plain\n"
    );
}

#[test]
fn pull_of_a_docker_schema2_manifest() {
    let reg = Registry::http();
    let image = rich_image();
    let digest = reg.seed_docker(image, "docker/rich:1");
    let manifest = reg.manifest("docker/rich:1");
    assert_eq!(
        manifest["mediaType"],
        harness::registry::DOCKER_MANIFEST_MEDIA_TYPE
    );
    let s = store();
    let reference = reg.reference("docker/rich:1");
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, image);
    assert_eq!(inspect(&s, &reference)["Digest"], digest.as_str());
    let hello = s.run(&["run", "--rm", "--entrypoint", "cat", &reference, "/hello.txt"]);
    assert_eq!(hello.success().stdout_str(), "hello from selkie\n");
}

// ---------------------------------------------------------------- platforms

/// The same rootfs for linux/amd64 and linux/arm64 (only the config differs; nothing is run from the
/// foreign one).
fn two_platforms() -> (Image, Image) {
    let amd64 = busybox_builder()
        .architecture("amd64")
        .label("platform", "amd64")
        .build();
    let arm64 = busybox_builder()
        .architecture("arm64")
        .label("platform", "arm64")
        .build();
    (amd64, arm64)
}

fn seeded_index() -> (&'static Registry, String, Image, Image) {
    let reg = Registry::http();
    let (amd64, arm64) = two_platforms();
    let digest = reg.seed_index(&[&amd64, &arm64], "multi/busybox:1");
    (reg, digest, amd64, arm64)
}

#[test]
fn pull_of_an_index_picks_the_host_platform() {
    let (reg, index_digest, amd64, arm64) = seeded_index();
    let native = if host_architecture() == "arm64" {
        &arm64
    } else {
        &amd64
    };
    let s = store();
    let reference = reg.reference("multi/busybox:1");
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, native);
    assert_eq!(s.image_ids(), vec![native.id()]);
    let image = inspect(&s, &reference);
    assert_eq!(image["Architecture"], host_architecture());
    assert_eq!(image["Os"], "linux");
    // The digest is the index's; the repo digests name both the index and the chosen manifest.
    assert_eq!(image["Digest"], index_digest.as_str());
    let mut repo_digests: Vec<String> = image["RepoDigests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    repo_digests.sort();
    let mut expected = vec![
        format!("{}@{index_digest}", reg.reference("multi/busybox")),
        format!(
            "{}@{}",
            reg.reference("multi/busybox"),
            registry_form(native).manifest_digest()
        ),
    ];
    expected.sort();
    assert_eq!(repo_digests, expected);
    assert_eq!(
        run_stdout(&s, &["run", "--rm", &reference, "echo", "native"]),
        "native\n"
    );
}

#[test]
fn pull_platform_picks_another_manifest() {
    let (reg, _, _, arm64) = seeded_index();
    let reference = reg.reference("multi/busybox:1");
    for flags in [
        &["--platform", "linux/arm64"][..],
        &["--arch", "arm64"][..],
        &["--arch=arm64", "--os=linux"][..],
    ] {
        let s = store();
        assert_pulled(&pull(&s, reg, flags, &reference), &reference, &arm64);
        let image = inspect(&s, &reference);
        assert_eq!(image["Architecture"], "arm64", "{flags:?}");
        assert_eq!(image["Os"], "linux");
        assert_eq!(image["Config"]["Labels"]["platform"], "arm64");
    }
}

#[test]
fn pull_of_a_platform_the_index_lacks_fails() {
    let (reg, _, _, _) = seeded_index();
    let s = store();
    let reference = reg.reference("multi/busybox:1");
    let out = pull(&s, reg, &["--platform", "linux/s390x"], &reference);
    assert_pull_failed(&s, &out, &["s390x"]);
    if !skip_on_podman("Podman 4.3.1 does not list the platforms an index has") {
        assert_copy_error(&out, &["s390x", "linux/amd64", "linux/arm64"]);
    }
}

#[test]
fn pull_of_an_index_by_digest() {
    let (reg, digest, amd64, arm64) = seeded_index();
    let native = if host_architecture() == "arm64" {
        &arm64
    } else {
        &amd64
    };
    let s = store();
    let reference = reg.reference(&format!("multi/busybox@{digest}"));
    assert_pulled(&pull(&s, reg, &[], &reference), &reference, native);
    assert_eq!(s.image_id(&reference), native.id());
}

// ---------------------------------------------------------------- TLS

#[test]
fn tls_registry_needs_its_ca() {
    let reg = Registry::tls();
    reg.seed(busybox_image(), "plain/busybox:1");
    let reference = reg.reference("plain/busybox:1");

    let s = store();
    let out = s.run(&["pull", &reference]);
    assert_pull_failed(&s, &out, &[&reg.host(), "certificate"]);

    let cert_dir = reg.cert_dir();
    let out = s.run(&["pull", "--cert-dir", cert_dir.to_str().unwrap(), &reference]);
    assert_pulled(&out, &reference, busybox_image());
    assert_eq!(names_of(&s), vec![reference.clone()]);
    assert_eq!(
        run_stdout(&s, &["run", "--rm", &reference, "echo", "tls"]),
        "tls\n"
    );
}

#[test]
fn tls_verify_false_skips_verification() {
    let reg = Registry::tls();
    reg.seed(busybox_image(), "plain/busybox:1");
    let reference = reg.reference("plain/busybox:1");
    let s = store();
    let out = s.run(&["pull", "--tls-verify=false", &reference]);
    assert_pulled(&out, &reference, busybox_image());
}

#[test]
fn tls_cert_dir_without_the_ca_fails() {
    let reg = Registry::tls();
    reg.seed(busybox_image(), "plain/busybox:1");
    let s = store();
    let empty = s.path("empty-certs");
    fs::create_dir_all(&empty).unwrap();
    let out = s.run(&[
        "pull",
        "--cert-dir",
        empty.to_str().unwrap(),
        &reg.reference("plain/busybox:1"),
    ]);
    assert_pull_failed(&s, &out, &["certificate"]);
}

// ---------------------------------------------------------------- authentication

fn seeded_auth() -> &'static Registry {
    let reg = Registry::auth();
    reg.seed(busybox_image(), "plain/busybox:1");
    reg
}

#[test]
fn auth_pull_without_credentials_fails() {
    let reg = seeded_auth();
    let s = store();
    let out = s.run(&["pull", "--tls-verify=false", &reg.reference("plain/busybox:1")]);
    assert_pull_failed(&s, &out, &[&reg.host(), "authentication required"]);
}

#[test]
fn auth_pull_with_wrong_credentials_fails() {
    let reg = seeded_auth();
    let s = store();
    let creds = format!("{}:wrong", reg.user());
    let out = s.run(&[
        "pull",
        "--tls-verify=false",
        "--creds",
        &creds,
        &reg.reference("plain/busybox:1"),
    ]);
    assert_pull_failed(&s, &out, &[&reg.host(), "authentication required"]);
}

#[test]
fn auth_pull_with_creds() {
    let reg = seeded_auth();
    let s = store();
    let reference = reg.reference("plain/busybox:1");
    let out = pull(&s, reg, &[], &reference);
    assert_pulled(&out, &reference, busybox_image());
    assert_eq!(stored_login(&s, &reg.host()), None, "--creds stores nothing");
}

fn login(s: &Selkie, reg: &Registry, extra: &[&str]) -> Output {
    let mut args = vec!["login", "--tls-verify=false"];
    args.extend_from_slice(extra);
    let host = reg.host();
    args.push(&host);
    s.run(&args)
}

#[test]
fn login_writes_the_auth_file_and_pulls_use_it() {
    let reg = seeded_auth();
    let s = store();
    let out = login(&s, reg, &["-u", reg.user(), "-p", reg.password()]);
    out.success();
    assert_eq!(out.stdout_str(), "Login Succeeded!\n");
    let auth = read_json(&s.auth_file());
    assert_eq!(
        auth["auths"][reg.host()]["auth"],
        base64_encode(reg.creds().as_bytes()).as_str(),
        "{auth}"
    );

    let reference = reg.reference("plain/busybox:1");
    let out = s.run(&["pull", "--tls-verify=false", &reference]);
    assert_pulled(&out, &reference, busybox_image());

    let out = s.run(&["login", "--get-login", &reg.host()]);
    out.success();
    assert_eq!(out.stdout_str(), format!("{}\n", reg.user()));

    // Push uses the stored credentials too.
    let pushed = reg.reference("pushed/after-login:1");
    s.run(&["push", "--tls-verify=false", &reference, &pushed])
        .success();
    assert_eq!(
        reg.manifest("pushed/after-login:1")["config"]["digest"],
        busybox_image().config_digest()
    );

    let out = s.run(&["logout", &reg.host()]);
    out.success();
    assert_eq!(
        out.stdout_str(),
        format!("Removed login credentials for {}\n", reg.host())
    );
    let auth = read_json(&s.auth_file());
    assert!(auth["auths"].get(reg.host()).is_none(), "{auth}");

    s.run(&["rmi", &reference]).success();
    let out = s.run(&["pull", "--tls-verify=false", &reference]);
    assert_pull_failed(&s, &out, &["authentication required"]);
}

#[test]
fn login_with_a_wrong_password_changes_nothing() {
    let reg = seeded_auth();
    let s = store();
    login(&s, reg, &["-u", reg.user(), "-p", reg.password()]).success();
    let before = fs::read(s.auth_file()).unwrap();
    let out = login(&s, reg, &["-u", reg.user(), "-p", "wrong"]);
    out.assert_error(125, &reg.host());
    out.assert_error(125, "invalid username/password");
    assert_eq!(out.stdout_str(), "");
    assert_eq!(fs::read(s.auth_file()).unwrap(), before, "auth.json unchanged");

    let fresh = store();
    login(&fresh, reg, &["-u", reg.user(), "-p", "wrong"]).assert_error(125, "invalid username/password");
    assert_eq!(stored_login(&fresh, &reg.host()), None);
}

#[test]
fn login_password_stdin() {
    let reg = seeded_auth();
    let s = store();
    let host = reg.host();
    let out = s.run_stdin(
        &[
            "login",
            "--tls-verify=false",
            "-u",
            reg.user(),
            "--password-stdin",
            &host,
        ],
        format!("{}\n", reg.password()).as_bytes(),
    );
    out.success();
    assert_eq!(out.stdout_str(), "Login Succeeded!\n");
    assert_eq!(
        read_json(&s.auth_file())["auths"][host.as_str()]["auth"],
        base64_encode(reg.creds().as_bytes()).as_str()
    );
}

#[test]
fn login_authfile_option() {
    let reg = seeded_auth();
    let s = store();
    let other = s.path("other-auth.json");
    let other_str = other.to_str().unwrap();
    login(
        &s,
        reg,
        &["--authfile", other_str, "-u", reg.user(), "-p", reg.password()],
    )
    .success();
    assert_eq!(
        stored_login(&s, &reg.host()),
        None,
        "REGISTRY_AUTH_FILE is not written with --authfile"
    );
    assert_eq!(
        read_json(&other)["auths"][reg.host()]["auth"],
        base64_encode(reg.creds().as_bytes()).as_str()
    );
    let reference = reg.reference("plain/busybox:1");
    // Without the file, no credentials; with it, the pull works.
    assert_pull_failed(
        &s,
        &s.run(&["pull", "--tls-verify=false", &reference]),
        &["authentication required"],
    );
    let out = s.run(&["pull", "--tls-verify=false", "--authfile", other_str, &reference]);
    assert_pulled(&out, &reference, busybox_image());

    let out = s.run(&["login", "--authfile", other_str, "--get-login", &reg.host()]);
    out.success();
    assert_eq!(out.stdout_str(), format!("{}\n", reg.user()));
    let out = s.run(&["logout", "--authfile", other_str, &reg.host()]);
    out.success();
    assert!(read_json(&other)["auths"].get(reg.host()).is_none());
}

#[test]
fn pull_with_a_missing_authfile_fails() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let missing = s.path("no-such-auth.json");
    let missing = missing.to_str().unwrap();
    let out = pull(
        &s,
        reg,
        &["--authfile", missing],
        &reg.reference("plain/busybox:1"),
    );
    out.assert_error(125, &format!("stat {missing}: no such file or directory"));
    assert_eq!(s.image_ids(), Vec::<String>::new());
}

#[test]
fn logout_all_and_logout_when_not_logged_in() {
    let reg = seeded_auth();
    let s = store();
    let host = reg.host();
    let out = s.run(&["login", "--get-login", &host]);
    out.assert_error(125, &format!("not logged into {host}"));
    s.run(&["logout", &host])
        .assert_error(125, &format!("not logged into {host}"));

    login(&s, reg, &["-u", reg.user(), "-p", reg.password()]).success();
    let out = s.run(&["logout", "-a"]);
    out.success();
    assert_eq!(out.stdout_str(), "Removed login credentials for all registries\n");
    let auth = read_json(&s.auth_file());
    assert!(
        auth["auths"].as_object().map(|a| a.is_empty()).unwrap_or(true),
        "{auth}"
    );
    s.run(&["login", "--get-login", &host])
        .assert_error(125, "not logged into");
}

// ---------------------------------------------------------------- short names

#[test]
fn short_name_through_unqualified_search_registries() {
    let (reg, _) = seeded_busybox();
    let s = store();
    reg.write_registries_conf(&s);
    let out = s.run(&["pull", "plain/busybox:1"]);
    assert_pulled(&out, &reg.reference("plain/busybox:1"), busybox_image());
    assert_eq!(
        stderr_lines(&out)[0],
        format!(
            "Resolving \"plain/busybox\" using unqualified-search registries ({})",
            s.registries_conf().display()
        )
    );
    assert_eq!(names_of(&s), vec![reg.reference("plain/busybox:1")]);
    assert_eq!(
        run_stdout(&s, &["run", "--rm", "plain/busybox:1", "echo", "short"]),
        "short\n"
    );
}

#[test]
fn short_name_through_an_alias() {
    let reg = Registry::http();
    reg.seed(busybox_image(), "aliased/busybox:latest");
    let s = store();
    reg.registries_conf()
        .alias("selkiealias", &reg.reference("aliased/busybox"))
        .write(&s);
    let out = s.run(&["pull", "selkiealias"]);
    assert_pulled(&out, &reg.reference("aliased/busybox:latest"), busybox_image());
    assert_eq!(
        stderr_lines(&out)[0],
        format!(
            "Resolved \"selkiealias\" as an alias ({})",
            s.registries_conf().display()
        )
    );
    assert_eq!(names_of(&s), vec![reg.reference("aliased/busybox:latest")]);
}

#[test]
fn short_name_without_search_registries_fails() {
    let s = store();
    // The store's default registries.conf has `unqualified-search-registries = []`.
    let out = s.run(&["pull", "selkienosuchshort:1"]);
    let conf = s.registries_conf();
    assert_pull_failed(
        &s,
        &out,
        &[
            "short-name \"selkienosuchshort:1\" did not resolve to an alias and no unqualified-search registries are defined in",
            conf.to_str().unwrap(),
        ],
    );
}

#[test]
fn ambiguous_short_name_fails_without_a_terminal() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let other = format!("127.0.0.1:{}", free_port());
    RegistriesConf::new()
        .search(&reg.host())
        .search(&other)
        .short_name_mode("enforcing")
        .insecure(&reg.host())
        .insecure(&other)
        .write(&s);
    let out = s.run(&["pull", "plain/busybox:1"]);
    assert_pull_failed(
        &s,
        &out,
        &["short-name resolution enforced but cannot prompt without a TTY"],
    );
}

// ---------------------------------------------------------------- push

#[test]
fn push_then_pull_round_trip() {
    let reg = Registry::http();
    let s = store();
    s.load_image(rich_image(), &["rich:1"]);
    let dest = reg.reference("pushed/rich:1");
    let out = s.run(&["push", "--tls-verify=false", "localhost/rich:1", &dest]);
    out.success();
    assert_copy_progress(&out, rich_image().config_digest());
    assert_eq!(out.stdout_str(), "", "push prints nothing on stdout");
    assert!(!stderr_lines(&out).iter().any(|l| l.starts_with("Trying to pull")));
    let manifest = reg.manifest("pushed/rich:1");
    assert_eq!(manifest["config"]["digest"], rich_image().config_digest());
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);

    let fresh = store();
    let out = pull(&fresh, reg, &[], &dest);
    assert_pulled(&out, &dest, rich_image());
    assert_eq!(fresh.image_id(&dest), rich_image().id());
    let hello = fresh.run(&["run", "--rm", "--entrypoint", "cat", &dest, "/hello.txt"]);
    assert_eq!(hello.success().stdout_str(), "hello from selkie\n");

    // Pushing again uploads no layer: every one is already there. (Podman 4.3.1 sends the config again.)
    let layer_digests: Vec<String> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().replace(':', "%3A"))
        .collect();
    let uploads = || -> Vec<usize> {
        let puts = reg.requests("PUT", "/v2/pushed/rich/blobs/uploads/");
        layer_digests
            .iter()
            .map(|d| puts.iter().filter(|l| l.contains(d.as_str())).count())
            .collect()
    };
    let before = uploads();
    let out = s.run(&["push", "--tls-verify=false", "localhost/rich:1", &dest]);
    out.success();
    assert_copy_progress(&out, rich_image().config_digest());
    for line in stderr_lines(&out)
        .iter()
        .filter(|l| l.starts_with("Copying blob"))
    {
        assert!(!line.ends_with(" done"), "nothing was copied: {line:?}");
    }
    assert_eq!(uploads(), before, "no layer uploaded again");
    assert_eq!(reg.manifest("pushed/rich:1"), manifest);
}

#[test]
fn push_of_an_image_named_for_the_registry() {
    let reg = Registry::http();
    let s = store();
    s.load_image(busybox_image(), &["busybox-push:1"]);
    let dest = reg.reference("pushed/named:1");
    s.run(&["tag", "localhost/busybox-push:1", &dest]).success();
    s.run(&["push", "--tls-verify=false", &dest]).success();
    assert_eq!(
        reg.manifest("pushed/named:1")["config"]["digest"],
        busybox_image().config_digest()
    );
    let fresh = store();
    assert_pulled(&pull(&fresh, reg, &[], &dest), &dest, busybox_image());
}

#[test]
fn push_to_the_tls_and_auth_registries() {
    let s = store();
    s.load_image(busybox_image(), &["busybox-push:1"]);

    let tls = Registry::tls();
    let dest = tls.reference("pushed/tls:1");
    let cert_dir = tls.cert_dir();
    let out = s.run(&["push", "localhost/busybox-push:1", &dest]);
    assert_copy_error(&out, &["certificate"]);
    s.run(&[
        "push",
        "--cert-dir",
        cert_dir.to_str().unwrap(),
        "localhost/busybox-push:1",
        &dest,
    ])
    .success();
    assert_eq!(
        tls.manifest("pushed/tls:1")["config"]["digest"],
        busybox_image().config_digest()
    );

    let auth = Registry::auth();
    let dest = auth.reference("pushed/auth:1");
    let out = s.run(&["push", "--tls-verify=false", "localhost/busybox-push:1", &dest]);
    assert_copy_error(&out, &["authentication required"]);
    let creds = auth.creds();
    s.run(&[
        "push",
        "--tls-verify=false",
        "--creds",
        &creds,
        "localhost/busybox-push:1",
        &dest,
    ])
    .success();
    assert_eq!(
        auth.manifest("pushed/auth:1")["config"]["digest"],
        busybox_image().config_digest()
    );
}

#[test]
fn push_of_a_missing_image_fails() {
    let reg = Registry::http();
    let s = store();
    let out = s.run(&[
        "push",
        "--tls-verify=false",
        "localhost/nosuchimage:1",
        &reg.reference("pushed/none:1"),
    ]);
    out.assert_error(125, "localhost/nosuchimage:1: image not known");
}

// ---------------------------------------------------------------- errors

#[test]
fn pull_of_an_unknown_tag_fails() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let reference = reg.reference("plain/busybox:nosuchtag");
    let out = pull(&s, reg, &[], &reference);
    assert_pull_failed(&s, &out, &[&reference, "manifest unknown"]);
}

#[test]
fn pull_of_an_unknown_digest_fails() {
    let (reg, _) = seeded_busybox();
    let s = store();
    let reference = reg.reference(&format!("plain/busybox@sha256:{}", "0".repeat(64)));
    let out = pull(&s, reg, &[], &reference);
    assert_pull_failed(&s, &out, &[&reference, "manifest unknown"]);
}

#[test]
fn pull_of_an_unknown_repository_fails() {
    let reg = Registry::http();
    let s = store();
    let reference = reg.reference("nosuch/repository:1");
    let out = pull(&s, reg, &[], &reference);
    assert_pull_failed(&s, &out, &[&reference, "unknown"]);
}

#[test]
fn pull_from_an_unreachable_registry_fails() {
    let s = store();
    let reference = format!("127.0.0.1:{}/closed/port:1", free_port());
    let out = s.run(&["pull", "--tls-verify=false", &reference]);
    assert_pull_failed(&s, &out, &[&reference, "connection refused"]);
}

#[test]
fn pull_from_a_blocked_registry_fails() {
    let (reg, _) = seeded_busybox();
    let s = store();
    RegistriesConf::new()
        .insecure(&reg.host())
        .blocked(&reg.host())
        .write(&s);
    let reference = reg.reference("plain/busybox:1");
    let out = s.run(&["pull", &reference]);
    assert_pull_failed(&s, &out, &[&format!("registry {} is blocked in", reg.host())]);
}

#[test]
fn pull_of_a_corrupted_blob_fails_with_a_digest_mismatch() {
    let reg = Registry::http();
    // Two layers of the same size as gzip without compression (level 0: the size depends only on the
    // tar's), each valid: the registry serves the second one's bytes for the first one's digest.
    let stored_gzip = |tar: &[u8]| {
        let mut enc = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::none());
        std::io::Write::write_all(&mut enc, tar).unwrap();
        let data = enc.finish().unwrap();
        LayerBlob {
            digest: sha256_digest(&data),
            diff_id: sha256_digest(tar),
            tar: tar.to_vec(),
            data,
            compression: Compression::Gzip,
        }
    };
    let built = busybox_builder()
        .layer(Layer::new().file("corrupt.bin", noise(0xC0, 64 * 1024)))
        .label("org.example.test", "corrupt")
        .build();
    let good = stored_gzip(&built.layers[1].tar);
    let evil = stored_gzip(&Layer::new().file("corrupt.bin", noise(0xBAD, 64 * 1024)).tar());
    assert_eq!(good.data.len(), evil.data.len());
    assert_ne!(good.data, evil.data);
    let image = with_layers(
        &built,
        vec![registry_form(&built).layers[0].clone(), good.clone()],
    );
    reg.seed(&image, "corrupt/blob:1");
    let path = reg.blob_path(&good.digest);
    assert_eq!(fs::read(&path).unwrap(), good.data, "{}", path.display());
    fs::write(&path, &evil.data).unwrap();

    let s = store();
    let reference = reg.reference("corrupt/blob:1");
    let out = pull(&s, reg, &[], &reference);
    assert_pull_failed(&s, &out, &[&good.digest]);
    assert!(
        out.stderr_str().to_lowercase().contains("digest"),
        "{}",
        out.stderr_str()
    );
}

// ---------------------------------------------------------------- interrupted pull

#[test]
fn pull_killed_halfway_leaves_nothing_half_made() {
    let reg = Registry::http();
    let image = large_image();
    reg.seed_as_is(image, "large/image:1");
    let s = store();
    let reference = reg.reference("large/image:1");
    let mut child = s.spawn(&["pull", "--tls-verify=false", &reference]);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let copying = line.starts_with("Copying blob");
                seen.push(line);
                if copying {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    let _ = child.kill();
    let status = child.wait().unwrap();
    eprintln!("pull killed ({status}) after {:?}: {seen:?}", start.elapsed());

    // Either nothing, or (had it finished) the whole image: never a half-made one.
    let ids = s.image_ids();
    assert!(ids.is_empty() || ids == vec![image.id()], "{ids:?}");
    let all = s.run(&["images", "-a", "-q", "--no-trunc"]).success().lines();
    assert!(all.len() <= 1, "{all:?}");

    let out = s.run(&["pull", "--tls-verify=false", &reference]);
    assert_pulled(&out, &reference, image);
    let count = run_stdout(
        &s,
        &[
            "run",
            "--rm",
            &reference,
            "sh",
            "-c",
            "ls /data/009 | wc -l; wc -c < /data/009/f00999",
        ],
    );
    assert_eq!(count.split_whitespace().collect::<Vec<_>>(), ["100", "24576"]);
}

// ---------------------------------------------------------------- run --pull

#[test]
fn run_pull_never_fails_for_a_missing_image() {
    let (reg, _) = seeded_busybox();
    let s = store();
    reg.write_registries_conf(&s);
    let reference = reg.reference("plain/busybox:1");
    let out = s.run(&["run", "--rm", "--pull=never", &reference, "true"]);
    out.assert_error(125, &format!("{reference}: image not known"));
    assert_eq!(s.image_ids(), Vec::<String>::new());
}

#[test]
fn run_pull_missing_pulls_once() {
    let (reg, _) = seeded_busybox();
    let s = store();
    reg.write_registries_conf(&s);
    let reference = reg.reference("plain/busybox:1");
    let out = s.run(&["run", "--rm", "--pull=missing", &reference, "echo", "first"]);
    out.success();
    assert_eq!(out.stdout_str(), "first\n");
    assert_eq!(
        stderr_lines(&out).first().cloned(),
        Some(format!("Trying to pull {reference}..."))
    );
    assert_copy_progress(&out, busybox_image().config_digest());
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);

    let out = s.run(&["run", "--rm", "--pull=missing", &reference, "echo", "second"]);
    out.success();
    assert_eq!(out.stdout_str(), "second\n");
    assert_eq!(out.stderr_str(), "", "nothing pulled the second time");
    // The default policy is `missing`.
    let out = s.run(&["run", "--rm", &reference, "echo", "third"]);
    assert_eq!(out.success().stderr_str(), "");
}

#[test]
fn run_pull_always_pulls_every_time() {
    let (reg, _) = seeded_busybox();
    let s = store();
    reg.write_registries_conf(&s);
    let reference = reg.reference("plain/busybox:1");
    for word in ["one", "two"] {
        let out = s.run(&["run", "--rm", "--pull=always", &reference, "echo", word]);
        out.success();
        assert_eq!(out.stdout_str(), format!("{word}\n"));
        assert_eq!(
            stderr_lines(&out).first().cloned(),
            Some(format!("Trying to pull {reference}..."))
        );
    }
    assert_eq!(s.image_ids(), vec![busybox_image().id()]);
}

#[test]
fn run_pull_newer_follows_the_registry() {
    let reg = Registry::http();
    let first = busybox_builder().label("generation", "1").build();
    let second = busybox_builder().label("generation", "2").build();
    reg.seed(&first, "newer/busybox:1");
    let s = store();
    reg.write_registries_conf(&s);
    let reference = reg.reference("newer/busybox:1");
    let label = ["--format", "{{index .Config.Labels \"generation\"}}"];

    let out = s.run(&["run", "--rm", "--pull=newer", &reference, "true"]);
    out.success();
    assert_eq!(s.image_id(&reference), first.id());
    let out = s.run(&["run", "--rm", "--pull=newer", &reference, "true"]);
    out.success();
    assert_eq!(out.stderr_str(), "", "up to date: nothing pulled");

    reg.seed(&second, "newer/busybox:1");
    let out = s.run(&["run", "--rm", "--pull=newer", &reference, "true"]);
    out.success();
    assert_eq!(s.image_id(&reference), second.id());
    let mut args = vec!["image", "inspect"];
    args.extend_from_slice(&label);
    args.push(&reference);
    assert_eq!(run_stdout(&s, &args), "2\n");
}
