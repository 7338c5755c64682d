//! Printing command results: Podman's tables, `--format json`, and Go templates, all through
//! `pkg::format`; plus the YAML-like plain form of `info`.

use pkg::format::{self, OutputFormat};
use serde_json::Value;
use std::io::Write;

/// Prints a listing. `template_rows` feed tables and templates; `json_rows` feed `--format json`
/// (indented as `images` does).
pub fn list(
    user_format: Option<&str>,
    default_table: &str,
    noheading: bool,
    headers: &[(&str, &str)],
    template_rows: impl FnOnce() -> Vec<Value>,
    json_rows: impl FnOnce() -> Vec<Value>,
) -> anyhow::Result<()> {
    list_styled(
        user_format,
        default_table,
        noheading,
        headers,
        template_rows,
        json_rows,
        format::JsonStyle::INDENT4,
    )
}

/// [`list`] with the JSON indentation of a particular Podman command (`ps`, `volume ls`: two spaces).
pub fn list_styled(
    user_format: Option<&str>,
    default_table: &str,
    noheading: bool,
    headers: &[(&str, &str)],
    template_rows: impl FnOnce() -> Vec<Value>,
    json_rows: impl FnOnce() -> Vec<Value>,
    json: format::JsonStyle,
) -> anyhow::Result<()> {
    let fmt = parse(user_format.unwrap_or(default_table))?;
    let text = match &fmt {
        OutputFormat::Json => {
            let opts = format::RenderOptions {
                header_overrides: headers,
                no_heading: noheading,
                json,
            };
            format::render_with(&fmt, &json_rows(), &opts)?
        }
        OutputFormat::Template(t) => {
            let t = if noheading { t.without_header() } else { t.clone() };
            format::render(&OutputFormat::Template(t), &template_rows(), headers)?
        }
    };
    write_out(&text)
}

/// Prints inspect-style objects: a JSON array by default, or the template once per object.
pub fn inspect(user_format: Option<&str>, values: &[Value]) -> anyhow::Result<()> {
    let text = match user_format {
        None => format::json_pretty(&Value::Array(values.to_vec())),
        Some(f) => format::render_each(&parse(f)?, values)?,
    };
    write_out(&text)
}

/// Prints one object with a template, or as JSON for `json`.
pub fn inspect_one(user_format: &str, value: &Value) -> anyhow::Result<()> {
    let fmt = parse(user_format)?;
    let text = match fmt {
        OutputFormat::Json => format::json_pretty(value),
        _ => format::render_each(&fmt, std::slice::from_ref(value))?,
    };
    write_out(&text)
}

/// A user's `--format`; a template that does not parse is quoted in the error, since Go's message
/// (`bad character U+007B '{'`) alone does not say which flag value was wrong.
fn parse(user_format: &str) -> anyhow::Result<OutputFormat> {
    OutputFormat::parse(user_format).map_err(|e| anyhow::anyhow!("{e}: in --format {user_format:?}"))
}

fn write_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// YAML for a JSON tree, as `podman info` prints by default.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    yaml_into(&mut out, v, 0);
    out
}

fn yaml_into(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml_into(out, v, indent + 2);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        for item in a {
                            out.push_str(&format!("{pad}- {}\n", scalar(item)));
                        }
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

/// Writes an archive to `path` atomically (beside the target, then renamed, so a failure never leaves a
/// truncated file), or to stdout, which must not be a terminal (`verb`: "save", "export").
pub fn write_archive(
    path: Option<&std::path::Path>,
    verb: &str,
    produce: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::IsTerminal;
    let Some(path) = path else {
        if std::io::stdout().is_terminal() {
            return Err(crate::exit::Exit::usage(format!(
                "refusing to {verb} to terminal. Use -o flag or redirect"
            ))
            .into());
        }
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
        produce(&mut out)?;
        out.flush()?;
        return Ok(());
    };
    let tmp = image_store::atomic::temp_sibling(path);
    let result = (|| -> anyhow::Result<()> {
        let f = std::fs::File::create(&tmp).with_context(|| format!("creating {}", path.display()))?;
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
        produce(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
