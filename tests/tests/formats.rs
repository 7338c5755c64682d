//! `--format` Go templates on `ps` and `images`, from the examples of Podman's documentation and the
//! fields and functions scripts use. Every expected string below is what Podman 4.3.1 printed for the same
//! image and containers (recorded by hand with `podman ps -a --sort names --format ...`), with the IDs,
//! which differ from store to store, substituted.

use harness::container::ContainerStore;
use harness::image::Image;
use harness::rootfs::busybox_builder;
use std::sync::OnceLock;

/// The image Podman's outputs were recorded with: busybox, one label, created 2023-11-14 22:13:20 UTC.
fn image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        busybox_builder()
            .label("org.selkie.bench", "mkarchive")
            .created("2023-11-14T22:13:20Z")
            .build()
    })
}

struct Fixture {
    s: ContainerStore,
    job: String,
    web: String,
}

/// `job` exited with 3; `web` runs with the label tier=web; the image is tagged `latest`, then `1.36`.
fn fixture() -> Fixture {
    let s = ContainerStore::with_image(image(), &["localhost/busybox:latest"]);
    s.run(&["tag", "localhost/busybox:latest", "localhost/busybox:1.36"])
        .success();
    s.run(&["run", "--name", "job", "localhost/busybox", "sh", "-c", "exit 3"])
        .assert_code(3);
    s.run_detached(&[
        "--name",
        "web",
        "--label",
        "tier=web",
        "localhost/busybox",
        "sleep",
        "1000",
    ]);
    let id = |name: &str| s.inspect_format(name, "{{.Id}}")[..12].to_string();
    let (job, web) = (id("job"), id("web"));
    Fixture { s, job, web }
}

impl Fixture {
    fn ps(&self, template: &str) -> String {
        self.s
            .run(&["ps", "-a", "--sort", "names", "--format", template])
            .success()
            .stdout_str()
    }

    fn images(&self, template: &str) -> String {
        self.s
            .run(&["images", "--sort", "tag", "--format", template])
            .success()
            .stdout_str()
    }

    /// `{job}`, `{web}` and `{image}` (12 hex characters) replaced.
    fn expand(&self, want: &str) -> String {
        want.replace("{job}", &self.job)
            .replace("{web}", &self.web)
            .replace("{image}", &image().short_id())
    }
}

#[test]
fn ps_templates_print_what_podman_prints() {
    let f = fixture();
    let cases: &[(&str, &str)] = &[
        // podman-ps(1), EXAMPLES.
        (
            "{{.ID}}  {{.Image}}  {{.Labels}}  {{.Mounts}}",
            "{job}  localhost/busybox:latest  map[org.selkie.bench:mkarchive]  []\n\
             {web}  localhost/busybox:latest  map[org.selkie.bench:mkarchive tier:web]  []\n",
        ),
        (
            "table {{.ID}} {{.Image}} {{.Labels}} {{.Mounts}}",
            "CONTAINER ID  IMAGE                     LABELS                                    MOUNTS\n\
             {job}  localhost/busybox:latest  map[org.selkie.bench:mkarchive]           []\n\
             {web}  localhost/busybox:latest  map[org.selkie.bench:mkarchive tier:web]  []\n",
        ),
        (
            "{{.Names}}|{{.Command}}|{{.Labels}}|{{.Ports}}|{{.Pod}}|{{.Networks}}|{{.IsInfra}}|{{.Exited}}|{{.ExitCode}}",
            "job|sh -c exit 3|map[org.selkie.bench:mkarchive]||||false|true|3\n\
             web|sleep 1000|map[org.selkie.bench:mkarchive tier:web]||||false|false|0\n",
        ),
        (
            "{{if .Exited}}{{.Names}} exited {{.ExitCode}}{{else}}{{.Names}} running{{end}}",
            "job exited 3\nweb running\n",
        ),
        (
            "{{printf \"%-6s|\" .Names}}{{.Image}}",
            "job   |localhost/busybox:latest\nweb   |localhost/busybox:latest\n",
        ),
        (
            "{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}",
            "org.selkie.bench=mkarchive;\norg.selkie.bench=mkarchive;tier=web;\n",
        ),
        ("{{index .Labels \"tier\"}}.", ".\nweb.\n"),
        (
            "{{json .Labels}}",
            "{\"org.selkie.bench\":\"mkarchive\"}\n{\"org.selkie.bench\":\"mkarchive\",\"tier\":\"web\"}\n",
        ),
        ("{{len .Labels}} {{.ImageID}}", "1 {image}\n2 {image}\n"),
        ("{{upper .Names}}", "JOB\nWEB\n"),
    ];
    for (template, want) in cases {
        assert_eq!(f.ps(template), f.expand(want), "ps --format {template:?}");
    }

    // Times: what they look like, not when they were.
    let lines = f.ps("{{lower .Status}}|{{.CreatedHuman}}|{{.Created}}");
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let fields: Vec<Vec<&str>> = lines.iter().map(|l| l.split('|').collect()).collect();
    assert!(fields[0][0].starts_with("exited (3) "), "{lines:?}");
    assert!(fields[1][0].starts_with("up "), "{lines:?}");
    for f in &fields {
        assert!(f[1].ends_with(" ago"), "{lines:?}");
        // Go's time.String(): `2026-11-29 14:04:43.580831314 +0000 UTC`.
        let created = f[2];
        assert!(created.ends_with(" +0000 UTC"), "{created}");
        assert_eq!(&created[4..5], "-", "{created}");
        assert_eq!(&created[10..11], " ", "{created}");
        assert_eq!(&created[13..14], ":", "{created}");
    }

    // A tab-separated table: Podman's columns are at least 12 wide, 2 apart.
    let table = f.ps("table {{.Names}}\t{{.Status}}");
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows[0], "NAMES       STATUS", "{table}");
    assert!(rows[1].starts_with("job         Exited (3) "), "{table}");
    assert!(rows[2].starts_with("web         Up "), "{table}");
}

#[test]
fn images_templates_print_what_podman_prints() {
    let f = fixture();
    let size = f.s.inspect_format("localhost/busybox:latest", "{{.Size}}");
    let digest = f.s.inspect_format("localhost/busybox:latest", "{{.Digest}}");
    let cases: &[(&str, String)] = &[
        // podman-images(1), EXAMPLES.
        (
            "table {{.ID}} {{.Repository}} {{.Tag}}",
            "IMAGE ID      REPOSITORY         TAG\n\
             {image}  localhost/busybox  1.36\n\
             {image}  localhost/busybox  latest\n"
                .into(),
        ),
        (
            "{{.Repository}}:{{.Tag}}",
            "localhost/busybox:1.36\nlocalhost/busybox:latest\n".into(),
        ),
        (
            "{{.ID}}|{{.Containers}}|{{.ReadOnly}}",
            "{image}|2|false\n".repeat(2),
        ),
        (
            "{{json .Labels}}",
            "{\"org.selkie.bench\":\"mkarchive\"}\n".repeat(2),
        ),
        ("{{.Digest}}", format!("{digest}\n").repeat(2)),
        (
            "{{range .Names}}{{.}},{{end}}",
            "localhost/busybox:latest,localhost/busybox:1.36,\n".repeat(2),
        ),
        ("{{.CreatedAt}}", "2023-11-14 22:13:20 +0000 UTC\n".repeat(2)),
        (
            "{{.VirtualSize}}|{{.SharedSize}}|{{.Dangling}}",
            format!("{size}|0|false\n").repeat(2),
        ),
        ("{{upper .Tag}}", "1.36\nLATEST\n".into()),
    ];
    for (template, want) in cases {
        assert_eq!(f.images(template), f.expand(want), "images --format {template:?}");
    }
    let since = f.images("{{.CreatedSince}}");
    assert!(since.lines().all(|l| l.ends_with(" years ago")), "{since}");
}

#[test]
fn bad_templates_are_errors_that_quote_them() {
    let f = fixture();
    for (args, quoted) in [
        (&["ps", "-a", "--format", "{{.Nope}}"][..], ".Nope"),
        (&["ps", "-a", "--format", "{{.Names"][..], "{{.Names"),
        (
            &["images", "--format", "{{.Repository}} {{bogus .Tag}}"][..],
            "bogus",
        ),
        (&["images", "--format", "{{range .Names}}"][..], "range"),
        (&["inspect", "--format", "{{.State.Nope}}", "web"][..], "Nope"),
    ] {
        let out = f.s.run(args);
        out.assert_error(125, quoted);
        assert!(out.stdout_str().is_empty(), "{args:?}: nothing printed on error");
    }
}
