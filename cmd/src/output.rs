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
    let fmt = OutputFormat::parse(user_format.unwrap_or(default_table))?;
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
        Some(f) => format::render_each(&OutputFormat::parse(f)?, values)?,
    };
    write_out(&text)
}

/// Prints one object with a template, or as JSON for `json`.
pub fn inspect_one(user_format: &str, value: &Value) -> anyhow::Result<()> {
    let fmt = OutputFormat::parse(user_format)?;
    let text = match fmt {
        OutputFormat::Json => format::json_pretty(value),
        _ => format::render_each(&fmt, std::slice::from_ref(value))?,
    };
    write_out(&text)
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
