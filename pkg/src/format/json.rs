//! JSON text as Go's `encoding/json` writes it, so `--format json`, `{{json .}}` and
//! `inspect` output match Podman byte for byte:
//!
//! - `json.MarshalIndent(v, "", indent)` / `Encoder.SetIndent`: `"key": value`, one element per
//!   line, empty arrays and objects as `[]` and `{}`;
//! - HTML-sensitive characters `<`, `>`, `&` escaped as `\u003c`... unless the caller turns that
//!   off (Podman's `json` template function and `inspect` use `SetEscapeHTML(false)`);
//! - U+2028/U+2029 always escaped, control characters as `\n`, `\t`, `\u001b`...;
//! - floats in Go's shortest form (`1e+21`, `1e-7`);
//! - map-like objects written with sorted keys (Go sorts map keys), struct-like objects (see
//!   `template::value`) in their own order.

use serde_json::Value as Json;

use super::template::fmt::format_float_json;
use super::template::value::is_struct_like;

/// Encodes `v` as Go would. `indent: None` is compact (`json.Marshal`), `Some(s)` indents each
/// level with `s` (`json.MarshalIndent(v, "", s)`). No trailing newline.
pub fn to_go_json(v: &Json, indent: Option<&str>, escape_html: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, v, indent, escape_html, 0);
    out
}

fn newline(out: &mut String, indent: &str, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str(indent);
    }
}

fn write_value(out: &mut String, v: &Json, indent: Option<&str>, html: bool, depth: usize) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                out.push_str(&format_float_json(n.as_f64().unwrap_or(0.0)));
            }
        }
        Json::String(s) => write_string(out, s, html),
        Json::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(ind) = indent {
                    newline(out, ind, depth + 1);
                }
                write_value(out, e, indent, html, depth + 1);
            }
            if let Some(ind) = indent {
                newline(out, ind, depth);
            }
            out.push(']');
        }
        Json::Object(o) => {
            if o.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Json)> = o.iter().collect();
            if !is_struct_like(o) {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, e)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(ind) = indent {
                    newline(out, ind, depth + 1);
                }
                write_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, e, indent, html, depth + 1);
            }
            if let Some(ind) = indent {
                newline(out, ind, depth);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_and_escaping() {
        let v = json!({"b": "<a&b>", "a": [1, 2.5, null, true], "c": "\u{1b}\n\u{2028}"});
        assert_eq!(
            to_go_json(&v, None, false),
            r#"{"a":[1,2.5,null,true],"b":"<a&b>","c":"\u001b\n\u2028"}"#
        );
        assert_eq!(
            to_go_json(&json!("<a&b>"), None, true),
            r#""\u003ca\u0026b\u003e""#
        );
        assert_eq!(to_go_json(&json!(1e21), None, false), "1e+21");
    }

    #[test]
    fn indented_like_marshal_indent() {
        let v = json!([{"ID": "abc", "Names": ["x"], "Labels": {}, "Empty": []}]);
        let expected = "[\n    {\n        \"Empty\": [],\n        \"ID\": \"abc\",\n        \"Labels\": {},\n        \"Names\": [\n            \"x\"\n        ]\n    }\n]";
        assert_eq!(to_go_json(&v, Some("    "), true), expected);
        assert_eq!(to_go_json(&json!([]), Some("    "), true), "[]");
    }
}
