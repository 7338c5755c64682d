//! End-to-end tests: Podman's documented `--format` examples rendered against sample rows.

use serde_json::{json, Value as Json};

use super::*;

const IMAGES_HEADERS: &[(&str, &str)] = &[("ID", "IMAGE ID"), ("ReadOnly", "R/O")];
const PS_HEADERS: &[(&str, &str)] = &[
    ("CreatedHuman", "created"),
    ("ID", "container id"),
    ("Names", "names"),
    ("PodName", "podname"),
    ("RunningFor", "running for"),
];

fn images() -> Vec<Json> {
    vec![
        json!({
            "ID": "e3d42bcaf643", "Repository": "docker.io/kubernetes/pause", "Tag": "latest",
            "Digest": "sha256:0aecf73ff868", "Created": "6 years ago", "CreatedSince": "6 years ago",
            "CreatedAt": "2014-07-19 07:02:32 +0000 UTC", "Size": "250 kB", "ReadOnly": false,
            "Names": ["docker.io/kubernetes/pause:latest"], "Containers": 0,
            "Labels": {"created_by": "test/system/build-testimage"}
        }),
        json!({
            "ID": "ebb91b73692b", "Repository": "<none>", "Tag": "<none>",
            "Digest": "sha256:b1f1b3f2e2f1", "Created": "4 weeks ago", "CreatedSince": "4 weeks ago",
            "CreatedAt": "2024-05-01 10:00:00 +0000 UTC", "Size": "27.2 MB", "ReadOnly": false,
            "Names": [], "Containers": 2, "Labels": {}
        }),
    ]
}

fn ps() -> Vec<Json> {
    vec![
        json!({
            "ID": "2f7a9b1c3d4e", "Image": "quay.io/libpod/alpine:latest", "Command": "top",
            "CreatedHuman": "2 minutes ago", "Status": "Up 2 minutes", "Ports": "0.0.0.0:8080->80/tcp",
            "Names": "web", "Running": true, "Name": "web", "Num": 1,
            "Label": {"app": "frontend"}, "Labels": "app=frontend"
        }),
        json!({
            "ID": "9c8b7a6f5e4d", "Image": "quay.io/libpod/alpine:latest", "Command": "sleep 100",
            "CreatedHuman": "5 hours ago", "Status": "Exited (0) 2 seconds ago", "Ports": "",
            "Names": "db", "Running": false, "Name": "db", "Num": 22,
            "Label": {}, "Labels": ""
        }),
    ]
}

fn user(format: &str) -> OutputFormat {
    OutputFormat::parse_named("images", format).unwrap_or_else(|e| panic!("{format:?}: {e}"))
}

fn out(format: &str, rows: &[Json], overrides: &[(&str, &str)]) -> String {
    render(&user(format), rows, overrides).unwrap_or_else(|e| panic!("{format:?}: {e}"))
}

#[test]
fn images_doc_examples() {
    let rows = images();
    assert_eq!(
        out("{{.ID}}", &rows, IMAGES_HEADERS),
        "e3d42bcaf643\nebb91b73692b\n"
    );
    assert_eq!(
        out("{{.Repository}}:{{.Tag}}", &rows, IMAGES_HEADERS),
        "docker.io/kubernetes/pause:latest\n<none>:<none>\n"
    );
    let table = "IMAGE ID      REPOSITORY                  TAG\n\
                 e3d42bcaf643  docker.io/kubernetes/pause  latest\n\
                 ebb91b73692b  <none>                      <none>\n";
    assert_eq!(
        out("table {{.ID}}\t{{.Repository}}\t{{.Tag}}", &rows, IMAGES_HEADERS),
        table
    );
    // As typed in a shell: a literal backslash-t.
    assert_eq!(
        out(
            "table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}",
            &rows,
            IMAGES_HEADERS
        ),
        table
    );
    // podman-images(1): `--format "table {{.ID}} {{.Repository}} {{.Tag}}"`: spaces make columns.
    assert_eq!(
        out("table {{.ID}} {{.Repository}} {{.Tag}}", &rows, IMAGES_HEADERS),
        table
    );
    assert_eq!(
        out("{{.ID| upper}}", &rows, IMAGES_HEADERS),
        "E3D42BCAF643\nEBB91B73692B\n"
    );
    assert_eq!(
        out("{{.Labels.created_by}}", &rows, IMAGES_HEADERS),
        "test/system/build-testimage\n<no value>\n"
    );
    assert_eq!(
        out("{{join .Names \",\"}}|{{len .Names}}", &rows, IMAGES_HEADERS),
        "docker.io/kubernetes/pause:latest|1\n|0\n"
    );
}

#[test]
fn header_text() {
    let rows = images();
    assert_eq!(
        out(
            "table {{.CreatedAt}}\t{{.ReadOnly}}\t{{.Digest}}",
            &rows[..1],
            IMAGES_HEADERS
        ),
        "CREATED AT                     R/O         DIGEST\n\
         2014-07-19 07:02:32 +0000 UTC  false       sha256:0aecf73ff868\n"
    );
    // Nested fields: the header of the last Go field name; map keys keep the map's header.
    assert_eq!(
        out(
            "table {{.Labels.created_by}}\t{{.Labels.Nope}}",
            &rows[..1],
            IMAGES_HEADERS
        ),
        "LABELS                       NOPE\ntest/system/build-testimage  <no value>\n"
    );
    // Headers are printed even with nothing to list.
    assert_eq!(
        out("table {{.ID}}\t{{.Repository}}", &[], IMAGES_HEADERS),
        "IMAGE ID    REPOSITORY\n"
    );
    // The header pass runs the same template, as in Podman: functions apply to header text.
    assert_eq!(
        out(
            "table {{.Repository}}:{{.Tag}}\t{{.ID | lower}}\t{{if .Containers}}yes{{end}}",
            &rows[..1],
            IMAGES_HEADERS
        ),
        "REPOSITORY:TAG                     image id      yes\n\
         docker.io/kubernetes/pause:latest  e3d42bcaf643  \n"
    );
    let opts = RenderOptions {
        header_overrides: IMAGES_HEADERS,
        no_heading: true,
        ..Default::default()
    };
    assert_eq!(
        render_with(&user("table {{.ID}}"), &rows, &opts).unwrap(),
        "e3d42bcaf643\nebb91b73692b\n"
    );
}

#[test]
fn builtin_default_table() {
    // Podman's default `podman images` format.
    let row = "{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}\t{{if .Tag}}{{.Tag}}{{else}}<none>{{end}}\t{{.ID}}\t{{.Created}}\t{{.Size}}";
    let f = OutputFormat::parse_with(
        "images",
        &format!("{{{{range . }}}}{}\n{{{{end -}}}}", row),
        Origin::Podman,
    )
    .unwrap();
    assert_eq!(
        render(&f, &images(), IMAGES_HEADERS).unwrap(),
        "REPOSITORY                  TAG         IMAGE ID      CREATED      SIZE\n\
         docker.io/kubernetes/pause  latest      e3d42bcaf643  6 years ago  250 kB\n\
         <none>                      <none>      ebb91b73692b  4 weeks ago  27.2 MB\n"
    );
    let f = OutputFormat::parse_with(
        "ps",
        "{{range .}}{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\n{{end -}}",
        Origin::Podman,
    )
    .unwrap();
    assert_eq!(
        render(&f, &ps(), PS_HEADERS).unwrap(),
        "CONTAINER ID  IMAGE                         COMMAND     CREATED        STATUS                    PORTS                 NAMES\n\
         2f7a9b1c3d4e  quay.io/libpod/alpine:latest  top         2 minutes ago  Up 2 minutes              0.0.0.0:8080->80/tcp  web\n\
         9c8b7a6f5e4d  quay.io/libpod/alpine:latest  sleep 100   5 hours ago    Exited (0) 2 seconds ago                        db\n"
    );
}

#[test]
fn ps_doc_examples() {
    let rows = ps();
    assert_eq!(
        out(
            "{{range .Names}}{{.}} {{end}}",
            &[json!({"Names": ["a", "b", "c"]})],
            &[]
        ),
        "a b c \n"
    );
    assert_eq!(
        out("{{if .Running}}up{{else}}down{{end}}", &rows, PS_HEADERS),
        "up\ndown\n"
    );
    assert_eq!(
        out("{{printf \"%s-%d\" .Name .Num}}", &rows, PS_HEADERS),
        "web-1\ndb-22\n"
    );
    assert_eq!(
        out("{{lower .Status}}", &rows, PS_HEADERS),
        "up 2 minutes\nexited (0) 2 seconds ago\n"
    );
    assert_eq!(
        out("{{.ID}}  {{.Names}}", &rows, PS_HEADERS),
        "2f7a9b1c3d4e  web\n9c8b7a6f5e4d  db\n"
    );
    assert_eq!(out("{{.Label \"app\"}}", &rows, PS_HEADERS), "frontend\n\n");
    assert_eq!(
        out("table {{.ID}}\t{{.Names}}\t{{.Status}}", &rows, PS_HEADERS),
        "CONTAINER ID  NAMES       STATUS\n\
         2f7a9b1c3d4e  web         Up 2 minutes\n\
         9c8b7a6f5e4d  db          Exited (0) 2 seconds ago\n"
    );
}

#[test]
fn tabs_without_table_are_not_aligned() {
    let rows = images();
    assert_eq!(
        out("{{.ID}}\\t{{.Tag}}", &rows, &[]),
        "e3d42bcaf643\tlatest\nebb91b73692b\t<none>\n"
    );
    assert_eq!(out("{{.ID}}\\n", &rows, &[]), "e3d42bcaf643\nebb91b73692b\n");
}

#[test]
fn user_range_over_the_list() {
    let rows = images();
    assert_eq!(
        out("{{range .}}{{.ID}} {{end}}", &rows, &[]),
        "e3d42bcaf643 ebb91b73692b \n"
    );
    // containers/common regression test: `\n` inside a string cannot be unescaped.
    assert_eq!(out("{{range .}}{{printf \"\\n\"}}{{end -}}", &rows, &[]), "\n\n");
}

#[test]
fn json_output() {
    let rows = vec![json!({"ID": "abc", "Names": ["x<y>"]})];
    assert_eq!(
        render(&user("json"), &rows, &[]).unwrap(),
        "[\n    {\n        \"ID\": \"abc\",\n        \"Names\": [\n            \"x\\u003cy\\u003e\"\n        ]\n    }\n]\n"
    );
    assert_eq!(
        render_with(&user(" {{ json. }} "), &rows, &RenderOptions::inspect()).unwrap(),
        "[\n     {\n          \"ID\": \"abc\",\n          \"Names\": [\n               \"x<y>\"\n          ]\n     }\n]\n"
    );
    assert_eq!(render(&user("json"), &[], &[]).unwrap(), "[]\n");
    assert_eq!(
        out("{{json .}}", &rows, &[]),
        "{\"ID\":\"abc\",\"Names\":[\"x<y>\"]}\n"
    );
    assert_eq!(out("{{json .Names}}", &rows, &[]), "[\"x<y>\"]\n");
    assert!(
        is_json("json") && is_json("{{json}}") && is_json("  {{ json . }}  ".replace(" . ", ".").as_str())
    );
    assert!(!is_json("JSON") && !is_json("{{json .}}") && !is_json("jsonx"));
    assert_eq!(out("JSON", &rows, &[]), "JSON\n");
}

#[test]
fn inspect_and_single_objects() {
    let c = json!({"Id": "abc", "State": {"Pid": 4242, "Status": "running"}, "Config": {"Env": ["A=1", "B=2"], "Labels": {"b": "2", "a": "1"}}});
    let f = user("{{.State.Pid}}");
    assert_eq!(
        render_with(&f, &[c.clone(), c.clone()], &RenderOptions::inspect()).unwrap(),
        "4242\n4242\n"
    );
    assert_eq!(render_one(&f, &c, JsonStyle::INSPECT).unwrap(), "4242\n");
    assert_eq!(
        render_one(&user("{{.Config.Env}}"), &c, JsonStyle::INSPECT).unwrap(),
        "[A=1 B=2]\n"
    );
    assert_eq!(
        render_one(&user("{{.Config.Labels}}"), &c, JsonStyle::INSPECT).unwrap(),
        "map[a:1 b:2]\n"
    );
    assert_eq!(
        render_one(&user("{{json .Config.Env}}"), &c, JsonStyle::INSPECT).unwrap(),
        "[\"A=1\",\"B=2\"]\n"
    );
    let info = json!({"Host": {"Arch": "amd64", "Os": "linux"}, "Version": {"Version": "5.0.0"}});
    let f = OutputFormat::parse_with("info", "{{.Host.Arch}}/{{.Host.Os}}", Origin::Single).unwrap();
    assert_eq!(
        render_one(&f, &info, JsonStyle::INDENT2).unwrap(),
        "amd64/linux\n"
    );
    let f = OutputFormat::parse_with("info", "json", Origin::Single).unwrap();
    assert_eq!(
        render_one(&f, &json!({"A": 1}), JsonStyle::INDENT2).unwrap(),
        "{\n  \"A\": 1\n}\n"
    );
    assert_eq!(
        render_one(&f, &json!({"A": 1}), JsonStyle::COMPACT).unwrap(),
        "{\"A\":1}\n"
    );
}

#[test]
fn bad_templates() {
    let err = |f: &str| match OutputFormat::parse_named("images", f) {
        Err(e) => e,
        Ok(f) => render(&f, &images(), &[]).unwrap_err(),
    };
    // As in Podman: the normalised text fails, and the error is that of the text as typed.
    assert_eq!(
        err("{{.ID"),
        FormatError::Parse("template: images:1: bad character U+007B '{'".into())
    );
    assert_eq!(
        err("{{.ID }"),
        FormatError::Parse("template: images:1: unexpected \"}\" in operand".into())
    );
    assert_eq!(
        err("{{nope .ID}}"),
        FormatError::Parse("template: images:1: function \"nope\" not defined".into())
    );
    assert_eq!(
        err("{{if .ID}}x"),
        FormatError::Parse("template: images:1: unexpected EOF".into())
    );
    assert_eq!(
        err("{{.Foo}}").to_string(),
        "template: images:1:13: executing \"images\" at <.Foo>: can't evaluate field Foo in type struct"
    );
    assert_eq!(
        err("table {{.ID}} {{.Foo}}").to_string(),
        "template: images:1:21: executing \"images\" at <.Foo>: can't evaluate field Foo in type struct"
    );
    assert_eq!(
        err("{{.ID.X}}").to_string(),
        "template: images:1:16: executing \"images\" at <.ID.X>: can't evaluate field X in type string"
    );
}

#[test]
fn normalization() {
    assert_eq!(normalize("table {{.ID}} {{.Tag}}"), "{{.ID}}\t{{.Tag}}\n");
    assert_eq!(normalize("{{.ID}}\\t{{.Tag}}\\n"), "{{.ID}}\t{{.Tag}}\n");
    assert_eq!(normalize("a b"), "a b\n");
    assert_eq!(enforce_range("{{.ID}}\n"), "{{range .}}{{.ID}}\n{{end -}}");
    assert_eq!(
        enforce_range("{{ range . }}x{{ end -}}"),
        "{{ range . }}x{{ end -}}"
    );
    assert_eq!(
        enforce_range("{{range .Names}}x{{end}}"),
        "{{range .}}{{range .Names}}x{{end}}{{end -}}"
    );
    let t = user("table {{.ID}}");
    assert_eq!(
        t.template().unwrap().parsed_text(),
        "{{range .}}{{.ID}}\n{{end -}}"
    );
    assert!(t.template().unwrap().is_table());
}

#[test]
fn gtmpl_conversion() {
    let g = to_gtmpl_value(&json!({"a": [1, -2, 1.5, "s", null, true]}));
    let gtmpl_value::Value::Object(o) = g else {
        panic!("not an object")
    };
    let gtmpl_value::Value::Array(a) = &o["a"] else {
        panic!("not an array")
    };
    assert_eq!(a[0], gtmpl_value::Value::from(1u64));
    assert_eq!(a[1], gtmpl_value::Value::from(-2i64));
    assert_eq!(a[3], gtmpl_value::Value::from("s"));
    assert_eq!(a[4], gtmpl_value::Value::Nil);
}

#[test]
fn ps_200_rows_renders_fast() {
    let rows: Vec<Json> = (0..200)
        .map(|i| {
            json!({
                "ID": format!("{:012x}", i * 7919), "Image": "quay.io/libpod/alpine:latest",
                "Command": "sleep 1000", "CreatedHuman": format!("{} minutes ago", i),
                "Status": "Up 2 minutes", "Ports": "", "Names": format!("ctr-{}", i),
                "Labels": {"app": "x"}, "Mounts": [], "Pid": 1000 + i, "State": "running"
            })
        })
        .collect();
    let f = OutputFormat::parse_with(
        "ps",
        "{{range .}}{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\n{{end -}}",
        Origin::Podman,
    )
    .unwrap();
    // Warm up, then take the best of a few runs.
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let s = render(&f, &rows, PS_HEADERS).unwrap();
        best = best.min(start.elapsed());
        assert_eq!(s.lines().count(), 201);
    }
    eprintln!("ps 200 rows: {best:?}");
    let limit = if cfg!(debug_assertions) { 50 } else { 5 };
    assert!(best < std::time::Duration::from_millis(limit), "took {best:?}");
}
