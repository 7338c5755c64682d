//! Podman's `--format` handling and table output, shared by every listing and inspect command.
//!
//! Commands hand over their data as `serde_json::Value` objects whose keys are Podman's
//! template field names (`ID`, `Repository`, `CreatedAt`, ...), and this module renders them the
//! way Podman does (containers/common `pkg/report`):
//!
//! - `--format json` (exactly `json`, `{{json}}` or `{{ json. }}`, case-sensitive, surrounding
//!   blanks allowed: [`is_json`]) prints the items as indented JSON, Go-encoded ([`json`]).
//! - Anything else is a Go template, executed by a re-implementation of Go's `text/template`
//!   (lexer, parser, executor, error wording) over the JSON data. Podman's template functions
//!   (`join`, `json`, `lower`, `pad`, `split`, `title`, `truncate`, `upper`) and Go's builtins
//!   (`printf`, `len`, `index`, `slice`, `eq`, `and`, `or`, `not`, ...) are available; lists
//!   print as `[a b c]`, maps as `map[k:v]` with sorted keys, `range` over a map goes in key
//!   order, `break`/`continue`/`else if`/`else with` work.
//! - A user's template ([`OutputFormat::parse`]) has its literal `\t` and `\n` turned into tab and
//!   newline, gets a trailing newline if it has none, and is run once per item: it is wrapped in
//!   `{{range .}}...{{end -}}` unless it already ranges over `.` itself.
//! - `table ` prefix: the template additionally has its spaces turned into tabs (so
//!   `table {{.ID}} {{.Tag}}` makes two columns), a header line is rendered first, and the whole
//!   output goes through Go's tabwriter with Podman's settings (minwidth 12, tabwidth 2,
//!   padding 2, space padding: [`tabwriter::TabWriter::PODMAN`]). Without `table` there are no
//!   headers and no alignment: tabs are printed as they are.
//! - Podman's built-in default format of a command ([`Origin::Podman`]) always gets the header
//!   and the tabwriter (unless `--noheading`); a user's format for one object ([`Origin::Single`],
//!   `info`, `version`) runs once on that object.
//! - Headers are produced as Podman does, by running the template once more over a single
//!   "header row" mapping each field the template reads (and each key of the first row) to its
//!   header: the caller's override if any (upper-cased), else the field name split on camel case
//!   and upper-cased (`CreatedAt` → `CREATED AT`, [`camelcase`]). In that pass a nested field
//!   gives the header of its last name (`.State.Pid` → `PID`) unless that name is a map key
//!   (`.Labels.app` → `LABELS`), a function that cannot take a header string returns it
//!   unchanged, and `range` over a header runs once, so header rendering does not fail where
//!   the rows would not.
//!
//! Errors are worded as Go's: `template: ps:1:13: executing "ps" at <.Foo>: can't evaluate
//! field Foo in type struct`, `template: ps:1: unclosed action`. The name is `format` or the one
//! given to [`OutputFormat::parse_named`] (Podman uses the command name: `images`, `ps`).
//!
//! How JSON data stands in for Go's typed data (module `template::value`): objects
//! whose keys all look like exported Go fields act as structs (reading a missing field is an
//! error), other objects act as maps (a missing key reads as `<no value>`); `null` prints
//! `<nil>`; `{{.Label "key"}}` on a field holding an object indexes it (for Podman's
//! method-with-argument fields such as ps `Label`). Key order: `{{json .}}` and `--format json`
//! write struct-like objects in the order `serde_json` keeps them (alphabetical unless its
//! `preserve_order` feature is on), maps with sorted keys as Go does.
//!
//! [`units`] has go-units' human sizes and durations for the columns built from them.

pub mod camelcase;
pub mod json;
pub mod tabwriter;
pub(crate) mod template;
pub mod units;

use serde_json::{Map, Value as Json};

use tabwriter::TabWriter;
use template::{Program, Val};

/// A bad `--format`: the template does not parse, or failed while rendering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse: `template: NAME:LINE: MESSAGE`.
    #[error("{0}")]
    Parse(String),
    /// Rendering failed: `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
    #[error("{0}")]
    Execute(String),
}

/// Where a template comes from, which decides how it is wrapped and laid out (containers/common
/// `report.Origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A user's `--format` for a list of items (and `inspect`): run once per item.
    User,
    /// A command's own default format: a complete template over the list, always a table.
    Podman,
    /// A user's `--format` for a single object (`info`, `version`): run once on the object.
    Single,
}

/// A parsed Go template, ready to render any number of times.
#[derive(Debug, Clone)]
pub struct Template {
    program: Program,
    source: String,
    origin: Origin,
    table: bool,
    /// Cleared by [`Template::without_header`] (`--noheading`).
    header: bool,
}

impl Template {
    /// The format string as the user gave it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text actually parsed (after `table`/escape normalisation and range wrapping).
    pub fn parsed_text(&self) -> &str {
        &self.program.text
    }

    /// Whether the format had the `table ` prefix.
    pub fn is_table(&self) -> bool {
        self.table
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Whether the output goes through the tabwriter: `table` formats and Podman's built-in
    /// formats.
    pub fn is_aligned(&self) -> bool {
        self.table || self.origin == Origin::Podman
    }

    /// Whether a header line is rendered before the items: aligned formats, unless
    /// [`Template::without_header`] was applied.
    pub fn renders_headers(&self) -> bool {
        self.header && self.is_aligned()
    }

    /// The same template without its header line (`--noheading`); alignment is kept.
    pub fn without_header(&self) -> Template {
        Template {
            header: false,
            ..self.clone()
        }
    }

    /// The first-level field names the template reads, in order (`{{.State.Pid}}` → `State`).
    pub fn field_names(&self) -> Vec<String> {
        self.program.field_names()
    }
}

/// A parsed `--format` value.
#[derive(Debug)]
pub enum OutputFormat {
    /// `--format json`: the items as indented JSON.
    Json,
    /// A Go template.
    Template(Template),
}

impl OutputFormat {
    /// Parses a user's `--format` for a command that lists items (`images`, `ps`, `volume ls`,
    /// `history`, `inspect`, ...): `json`, or a template run once per item. Error messages name
    /// the template `format`; see [`OutputFormat::parse_named`].
    pub fn parse(format: &str) -> Result<OutputFormat, FormatError> {
        OutputFormat::parse_with("format", format, Origin::User)
    }

    /// As [`OutputFormat::parse`], naming the template in error messages as Podman does with
    /// the command name (`template: images:1:13: executing "images" at <.Foo>: ...`).
    pub fn parse_named(name: &str, format: &str) -> Result<OutputFormat, FormatError> {
        OutputFormat::parse_with(name, format, Origin::User)
    }

    /// Parses a format of the given origin: [`Origin::User`] for a user's format over a list,
    /// [`Origin::Single`] for a user's format over one object (`info`, `version`: no per-item
    /// wrapping), [`Origin::Podman`] for a command's built-in default, a complete template over
    /// the list such as `{{range .}}{{.ID}}\t{{.Names}}\n{{end -}}`, always a table.
    pub fn parse_with(name: &str, format: &str, origin: Origin) -> Result<OutputFormat, FormatError> {
        if origin != Origin::Podman && is_json(format) {
            return Ok(OutputFormat::Json);
        }
        Template::new(name, format, origin).map(OutputFormat::Template)
    }

    pub fn is_json(&self) -> bool {
        matches!(self, OutputFormat::Json)
    }

    pub fn template(&self) -> Option<&Template> {
        match self {
            OutputFormat::Json => None,
            OutputFormat::Template(t) => Some(t),
        }
    }
}

/// Podman's `report.IsJSON`: `json`, `{{json}}` or `{{ json. }}` with optional surrounding
/// blanks. Case-sensitive, as in Podman (`JSON` is a template that prints `JSON`).
pub fn is_json(format: &str) -> bool {
    let f = format.trim_matches(is_go_space);
    if f == "json" {
        return true;
    }
    let Some(inner) = f.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) else {
        return false;
    };
    let inner = inner.trim_matches(is_go_space);
    inner == "json" || inner == "json."
}

/// Go regexp's `\s`.
fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// How JSON output is laid out; Podman differs per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStyle<'s> {
    /// Indentation per level; `None` for compact output.
    pub indent: Option<&'s str>,
    /// Escape `<`, `>`, `&` as `\u003c`... (Go's default; off for `inspect`).
    pub escape_html: bool,
}

impl JsonStyle<'static> {
    /// `json.MarshalIndent(v, "", "    ")`: `images`, `search`, `system df`, `manifest inspect`.
    pub const INDENT4: JsonStyle<'static> = JsonStyle {
        indent: Some("    "),
        escape_html: true,
    };
    /// `json.MarshalIndent(v, "", "  ")`: `ps`, `volume ls`, `network ls`, `pod ps`, `info`.
    pub const INDENT2: JsonStyle<'static> = JsonStyle {
        indent: Some("  "),
        escape_html: true,
    };
    /// `inspect`: an encoder with 5-space indentation and no HTML escaping.
    pub const INSPECT: JsonStyle<'static> = JsonStyle {
        indent: Some("     "),
        escape_html: false,
    };
    /// `json.Marshal`: compact (`version`).
    pub const COMPACT: JsonStyle<'static> = JsonStyle {
        indent: None,
        escape_html: true,
    };
}

/// Rendering settings beyond the format itself.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'o> {
    /// Header text for fields whose header is not their camel-case split, e.g. images
    /// `[("ID", "IMAGE ID"), ("ReadOnly", "R/O")]`, ps `[("ID", "CONTAINER ID"), ...]`.
    /// Upper-cased on use, as Podman does.
    pub header_overrides: &'o [(&'o str, &'o str)],
    /// `--noheading`: no header line even for tables.
    pub no_heading: bool,
    /// Layout of `--format json`.
    pub json: JsonStyle<'o>,
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        RenderOptions {
            header_overrides: &[],
            no_heading: false,
            json: JsonStyle::INDENT4,
        }
    }
}

impl<'o> RenderOptions<'o> {
    /// `inspect`: never a header line, JSON in inspect's layout.
    pub fn inspect() -> RenderOptions<'static> {
        RenderOptions {
            header_overrides: &[],
            no_heading: true,
            json: JsonStyle::INSPECT,
        }
    }
}

/// Renders a list of items (`images`, `ps`, ...) with default options and the given header
/// overrides. JSON is indented by four spaces (as `images`); see [`render_with`].
pub fn render(
    format: &OutputFormat,
    rows: &[Json],
    header_overrides: &[(&str, &str)],
) -> Result<String, FormatError> {
    render_with(
        format,
        rows,
        &RenderOptions {
            header_overrides,
            ..Default::default()
        },
    )
}

/// Renders a list of items: JSON of the whole list, or the template over the list (once per
/// item for user formats) with a header line and alignment for tables. The result ends with a
/// newline unless it is empty.
pub fn render_with(
    format: &OutputFormat,
    rows: &[Json],
    opts: &RenderOptions,
) -> Result<String, FormatError> {
    let t = match format {
        OutputFormat::Json => {
            let mut s = json::to_go_json(
                &Json::Array(rows.to_vec()),
                opts.json.indent,
                opts.json.escape_html,
            );
            s.push('\n');
            return Ok(s);
        }
        OutputFormat::Template(t) => t,
    };
    let mut out = String::new();
    if t.renders_headers() && !opts.no_heading {
        let header = header_row(t, rows.first(), opts.header_overrides);
        let label = |field: &str| header_label(field, opts.header_overrides);
        let data = Val::Slice(std::slice::from_ref(&header));
        t.program
            .execute(data, &mut out, Some(&label))
            .map_err(FormatError::Execute)?;
    }
    t.program
        .execute(Val::Slice(rows), &mut out, None)
        .map_err(FormatError::Execute)?;
    if t.is_aligned() {
        out = TabWriter::PODMAN.format(&out);
    }
    Ok(out)
}

/// Renders one object (`info`, `version`): JSON of the object in the given style, or the
/// template once with the object as `.` (a template parsed with [`Origin::Single`]). A template
/// from [`OutputFormat::parse`] is run over a one-item list, so it behaves as in
/// [`render_with`].
pub fn render_one(format: &OutputFormat, value: &Json, json: JsonStyle) -> Result<String, FormatError> {
    let t = match format {
        OutputFormat::Json => {
            let mut s = json::to_go_json(value, json.indent, json.escape_html);
            s.push('\n');
            return Ok(s);
        }
        OutputFormat::Template(t) => t,
    };
    let mut out = String::new();
    let data = match t.origin {
        Origin::Single => Val::Ref(value),
        Origin::User | Origin::Podman => Val::Slice(std::slice::from_ref(value)),
    };
    t.program
        .execute(data, &mut out, None)
        .map_err(FormatError::Execute)?;
    if t.is_aligned() {
        out = TabWriter::PODMAN.format(&out);
    }
    Ok(out)
}

/// Renders inspect-style objects (`inspect` and friends): JSON of the list as Podman's inspect
/// writes it ([`json_pretty`]), or the template once per object, never with a header line.
pub fn render_each(format: &OutputFormat, values: &[Json]) -> Result<String, FormatError> {
    render_with(format, values, &RenderOptions::inspect())
}

/// JSON as `podman inspect` prints it: 5-space indentation, no HTML escaping, a final newline.
pub fn json_pretty(value: &Json) -> String {
    let mut s = json::to_go_json(value, JsonStyle::INSPECT.indent, JsonStyle::INSPECT.escape_html);
    s.push('\n');
    s
}

impl Template {
    fn new(name: &str, format: &str, origin: Origin) -> Result<Template, FormatError> {
        let table_body = format.strip_prefix("table ");
        let (normalized, raw) = match (table_body, origin) {
            (Some(body), _) => (
                format!("{{{{range .}}}}{}{{{{end -}}}}", normalize(format)),
                format!("{{{{range .}}}}{}{{{{end -}}}}", body),
            ),
            (None, Origin::User) => (enforce_range(&normalize(format)), enforce_range(format)),
            (None, _) => (normalize(format), format.to_string()),
        };
        // As Podman: if unescaping \n broke the template (`{{printf "\n"}}`), parse it as typed.
        let program = match Program::parse(name, &normalized) {
            Ok(p) => p,
            Err(_) => Program::parse(name, &raw).map_err(FormatError::Parse)?,
        };
        Ok(Template {
            program,
            source: format.to_string(),
            origin,
            table: table_body.is_some(),
            header: true,
        })
    }
}

/// Podman's `NormalizeFormat`: with a `table ` prefix, drop `table `, turn literal `\t` and
/// spaces into tabs and literal `\n` into newlines; otherwise only unescape `\t` and `\n`. A
/// trailing newline is added when missing.
fn normalize(format: &str) -> String {
    let table = format.starts_with("table ");
    let mut out = String::with_capacity(format.len() + 1);
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if table && rest.starts_with("table ") {
            rest = &rest[6..];
        } else if rest.starts_with("\\t") {
            out.push('\t');
            rest = &rest[2..];
        } else if rest.starts_with("\\n") {
            out.push('\n');
            rest = &rest[2..];
        } else if table && c == ' ' {
            out.push('\t');
            rest = &rest[1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Podman's `EnforceRange`: wraps the template in `{{range .}}...{{end -}}` unless it contains
/// `{{range .}}` followed somewhere by `{{end}}` (blanks and `end -` allowed).
fn enforce_range(format: &str) -> String {
    if has_range_over_dot(format) {
        return format.to_string();
    }
    format!("{{{{range .}}}}{}{{{{end -}}}}", format)
}

fn has_range_over_dot(s: &str) -> bool {
    let skip_ws = |s: &str| s.trim_start_matches(is_go_space).to_string();
    let mut search = s;
    while let Some(i) = search.find("{{") {
        let after = &search[i + 2..];
        let t = skip_ws(after);
        if let Some(t) = t.strip_prefix("range") {
            let t = skip_ws(t);
            if let Some(t) = t.strip_prefix('.') {
                let t = skip_ws(t);
                if let Some(tail) = t.strip_prefix("}}") {
                    if has_end(tail) {
                        return true;
                    }
                }
            }
        }
        search = after;
    }
    false
}

fn has_end(s: &str) -> bool {
    let mut search = s;
    while let Some(i) = search.find("{{") {
        let after = &search[i + 2..];
        let t = after.trim_start_matches(is_go_space);
        if let Some(t) = t.strip_prefix("end") {
            let t = t.trim_start_matches(is_go_space);
            let t = t.strip_prefix('-').unwrap_or(t).trim_start_matches(is_go_space);
            if t.starts_with("}}") {
                return true;
            }
        }
        search = after;
    }
    false
}

/// The header for `field`: the caller's override, upper-cased, else the camel-case split.
fn header_label(field: &str, overrides: &[(&str, &str)]) -> String {
    match overrides.iter().find(|(k, _)| *k == field) {
        Some((_, v)) => v.to_uppercase(),
        None => camelcase::header(field),
    }
}

/// The row the template is run on to produce the header line (Podman's `report.Headers`):
/// every field the template reads and every key of the first row, mapped to its header.
fn header_row(t: &Template, first: Option<&Json>, overrides: &[(&str, &str)]) -> Json {
    let mut m = Map::new();
    for f in t.field_names() {
        let label = header_label(&f, overrides);
        m.insert(f, Json::String(label));
    }
    if let Some(Json::Object(o)) = first {
        for k in o.keys() {
            if !m.contains_key(k) {
                m.insert(k.clone(), Json::String(header_label(k, overrides)));
            }
        }
    }
    for (k, _) in overrides {
        if !m.contains_key(*k) {
            m.insert(k.to_string(), Json::String(header_label(k, overrides)));
        }
    }
    Json::Object(m)
}

/// Converts JSON to a `gtmpl_value::Value`, for code that uses `gtmpl` directly: objects become
/// `Object` maps, arrays `Array`, integers stay integers, `null` becomes `Nil`. (This module's
/// own rendering does not go through `gtmpl`: see the module documentation.)
pub fn to_gtmpl_value(v: &Json) -> gtmpl_value::Value {
    use gtmpl_value::Value as G;
    match v {
        Json::Null => G::Nil,
        Json::Bool(b) => G::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                G::from(i)
            } else if let Some(u) = n.as_u64() {
                G::from(u)
            } else {
                G::from(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => G::String(s.clone()),
        Json::Array(a) => G::Array(a.iter().map(to_gtmpl_value).collect()),
        Json::Object(o) => G::Object(o.iter().map(|(k, v)| (k.clone(), to_gtmpl_value(v))).collect()),
    }
}

#[cfg(test)]
mod tests;
