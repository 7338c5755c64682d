//! The systemd unit-file syntax (systemd.syntax(7)) as far as selkie reads and writes it: sections of
//! `Key=Value` lines with comments and line continuations, and the quoting of words in command lines
//! (`ExecStart=`) and assignment lists (`Environment=`).
//!
//! Syntax only: which keys mean what is the business of [`super::units`] and [`super::quadlet`]. A file
//! read here is written back with its sections, keys and comments in their order (a section given twice is
//! merged into the first, continuation lines are joined).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A syntax error, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Comment(String),
    Entry { key: String, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    name: String,
    /// Comment lines before the `[name]` header.
    comments: Vec<String>,
    lines: Vec<Line>,
}

/// A parsed unit file: its sections in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFile {
    sections: Vec<Section>,
}

fn is_comment(line: &str) -> bool {
    line.is_empty() || line.starts_with('#') || line.starts_with(';')
}

impl UnitFile {
    /// Parses `text`. Comment lines start with `#` or `;`; a line ending in `\` continues on the next
    /// one (the backslash becomes a space, as systemd reads it).
    pub fn parse(text: &str) -> Result<UnitFile, SyntaxError> {
        let mut file = UnitFile::default();
        let mut current: Option<usize> = None;
        let mut pending: Vec<String> = vec![];
        let mut lines = text.lines().enumerate().peekable();
        while let Some((index, raw)) = lines.next() {
            let number = index + 1;
            let line = raw.trim();
            if is_comment(line) {
                pending.push(line.to_string());
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .filter(|n| !n.is_empty() && !n.contains(['[', ']']) && !n.chars().any(char::is_control))
                    .ok_or_else(|| SyntaxError {
                        line: number,
                        message: format!("invalid section header {line:?}"),
                    })?;
                // One blank line before a header is the separator that writing puts back.
                if pending.first().is_some_and(|c| c.is_empty()) {
                    pending.remove(0);
                }
                let at = file.section_index(name);
                file.sections[at].comments.append(&mut pending);
                current = Some(at);
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(SyntaxError {
                    line: number,
                    message: format!("{line:?} is not a key-value pair, section header or comment"),
                });
            };
            let key = key.trim_end();
            if key.is_empty() {
                return Err(SyntaxError {
                    line: number,
                    message: format!("{line:?} has an empty key"),
                });
            }
            let Some(at) = current else {
                return Err(SyntaxError {
                    line: number,
                    message: format!("key {key:?} comes before any [Section] header"),
                });
            };
            let mut value = value.trim_start().to_string();
            while value.ends_with('\\') {
                value.pop();
                value.push(' ');
                match lines.next() {
                    Some((_, next)) => value.push_str(next.trim()),
                    None => break,
                }
            }
            let section = &mut file.sections[at];
            section.lines.extend(pending.drain(..).map(Line::Comment));
            section.lines.push(Line::Entry {
                key: key.to_string(),
                value,
            });
        }
        if !pending.is_empty() {
            match current {
                Some(at) => file.sections[at]
                    .lines
                    .extend(pending.into_iter().map(Line::Comment)),
                None => file.sections.push(Section {
                    name: String::new(),
                    comments: pending,
                    lines: vec![],
                }),
            }
        }
        Ok(file)
    }

    fn section_index(&mut self, name: &str) -> usize {
        match self.sections.iter().position(|s| s.name == name) {
            Some(at) => at,
            None => {
                self.sections.push(Section {
                    name: name.to_string(),
                    comments: vec![],
                    lines: vec![],
                });
                self.sections.len() - 1
            }
        }
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The values of `key` in `section`, in order, trailing whitespace removed.
    fn entries(&self, section: &str, key: &str) -> Vec<&str> {
        self.section(section)
            .into_iter()
            .flat_map(|s| s.lines.iter())
            .filter_map(|l| match l {
                Line::Entry { key: k, value } if k == key => Some(value.trim_end()),
                _ => None,
            })
            .collect()
    }

    /// The section names, in order.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| !n.is_empty())
    }

    /// The distinct keys of `section`, in order of first appearance.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = vec![];
        for line in self.section(section).into_iter().flat_map(|s| s.lines.iter()) {
            if let Line::Entry { key, .. } = line {
                if !keys.contains(&key.as_str()) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    pub fn has_key(&self, section: &str, key: &str) -> bool {
        !self.entries(section, key).is_empty()
    }

    /// The last value of `key` (trailing whitespace removed).
    pub fn lookup(&self, section: &str, key: &str) -> Option<&str> {
        self.entries(section, key).last().copied()
    }

    /// Every value of `key`; an empty assignment drops the values before it, as in systemd.
    pub fn lookup_all(&self, section: &str, key: &str) -> Vec<&str> {
        let mut values = vec![];
        for v in self.entries(section, key) {
            if v.is_empty() {
                values.clear();
            } else {
                values.push(v);
            }
        }
        values
    }

    /// The last value of `key` as a boolean (`1`, `yes`, `true`, `on` and their opposites).
    pub fn lookup_bool(&self, section: &str, key: &str) -> Option<Result<bool, String>> {
        self.lookup(section, key).map(parse_bool)
    }

    /// Every value of `key`, each split into words (quotes removed, C escapes applied), concatenated.
    pub fn lookup_all_words(&self, section: &str, key: &str) -> Result<Vec<String>, String> {
        let mut words = vec![];
        for v in self.lookup_all(section, key) {
            words.extend(split_words(v)?);
        }
        Ok(words)
    }

    /// `Environment=`-style values: words of `KEY=VALUE`, merged over every value of `key`.
    pub fn lookup_all_assignments(
        &self,
        section: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut map = BTreeMap::new();
        for word in self.lookup_all_words(section, key)? {
            match word.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    map.insert(k.to_string(), v.to_string());
                }
                _ => return Err(format!("{word:?} is not a KEY=VALUE assignment")),
            }
        }
        Ok(map)
    }

    /// Appends `key=value` to `section` (created at the end when missing).
    pub fn add(&mut self, section: &str, key: &str, value: &str) {
        let at = self.section_index(section);
        self.sections[at].lines.push(Line::Entry {
            key: key.to_string(),
            value: value.to_string(),
        });
    }

    /// Sets `key` to `value`: the last assignment is replaced and the earlier ones dropped, or the key
    /// is appended.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        let at = self.section_index(section);
        let lines = &mut self.sections[at].lines;
        let is_key = |l: &Line| matches!(l, Line::Entry { key: k, .. } if k == key);
        match lines.iter().rposition(is_key) {
            Some(last) => {
                lines[last] = Line::Entry {
                    key: key.to_string(),
                    value: value.to_string(),
                };
                let mut index = 0;
                lines.retain(|l| {
                    let keep = index >= last || !is_key(l);
                    index += 1;
                    keep
                });
            }
            None => lines.push(Line::Entry {
                key: key.to_string(),
                value: value.to_string(),
            }),
        }
    }

    /// Renames section `from` to `to` (merging into `to` when it exists).
    pub fn rename_section(&mut self, from: &str, to: &str) {
        let Some(at) = self.sections.iter().position(|s| s.name == from) else {
            return;
        };
        if let Some(into) = self.sections.iter().position(|s| s.name == to) {
            let mut moved = self.sections.remove(at);
            let into = if into > at { into - 1 } else { into };
            self.sections[into].lines.append(&mut moved.lines);
        } else {
            self.sections[at].name = to.to_string();
        }
    }

    /// Puts comment lines (`# ` added) at the very top of the file.
    pub fn prepend_comments(&mut self, comments: &[&str]) {
        let lines: Vec<String> = comments
            .iter()
            .map(|c| format!("# {c}").trim_end().to_string())
            .collect();
        match self.sections.first_mut() {
            Some(first) => {
                first.comments.splice(0..0, lines);
            }
            None => self.sections.push(Section {
                name: String::new(),
                comments: lines,
                lines: vec![],
            }),
        }
    }
}

impl fmt::Display for UnitFile {
    /// The file as text: sections separated by one blank line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, section) in self.sections.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            for c in &section.comments {
                writeln!(f, "{c}")?;
            }
            if section.name.is_empty() {
                continue;
            }
            writeln!(f, "[{}]", section.name)?;
            for line in &section.lines {
                match line {
                    Line::Comment(c) => writeln!(f, "{c}")?,
                    Line::Entry { key, value } => writeln!(f, "{key}={value}")?,
                }
            }
        }
        Ok(())
    }
}

/// systemd's booleans.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(format!(
            "{v:?} is not a boolean (yes/no, true/false, on/off, 1/0)"
        )),
    }
}

/// Splits a value into words as systemd splits command lines: whitespace separates, single and double
/// quotes group (and are removed), and backslash escapes are C's (`\n`, `\t`, `\\`, `\"`, `\xNN`, `\NNN`,
/// `\uNNNN`, `\s` for a space).
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = vec![];
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => word.push(unescape(&mut chars)?),
                (c, Some(q)) if c == q => quote = None,
                (c, Some(_)) => word.push(c),
                ('"' | '\'', None) => quote = Some(c),
                (c, None) if c.is_whitespace() => break,
                (c, None) => word.push(c),
            }
        }
        if let Some(q) = quote {
            return Err(format!("unbalanced quote {q} in {s:?}"));
        }
        words.push(word);
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// The character of `n` hex digits taken from `chars`.
fn hex_char(chars: &mut Chars<'_>, n: usize) -> Result<char, String> {
    let text: String = (0..n).filter_map(|_| chars.next()).collect();
    u32::from_str_radix(&text, 16)
        .ok()
        .filter(|_| text.len() == n)
        .and_then(char::from_u32)
        .ok_or_else(|| format!("invalid escape sequence with {text:?}"))
}

/// The character a backslash escape stands for (the backslash already taken).
fn unescape(chars: &mut Chars<'_>) -> Result<char, String> {
    Ok(match chars.next() {
        None => return Err("a trailing backslash escapes nothing".into()),
        Some('a') => '\u{7}',
        Some('b') => '\u{8}',
        Some('f') => '\u{c}',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('t') => '\t',
        Some('v') => '\u{b}',
        Some('s') => ' ',
        Some('x') => hex_char(chars, 2)?,
        Some('u') => hex_char(chars, 4)?,
        Some('U') => hex_char(chars, 8)?,
        Some(c @ '0'..='7') => {
            let rest: String = (0..2).filter_map(|_| chars.next()).collect();
            u32::from_str_radix(&format!("{c}{rest}"), 8)
                .ok()
                .filter(|_| rest.len() == 2)
                .and_then(char::from_u32)
                .ok_or_else(|| format!("invalid octal escape \\{c}{rest}"))?
        }
        Some(c @ ('\\' | '"' | '\'' | ' ' | '\t' | '\n' | ';')) => c,
        Some(c) => return Err(format!("unsupported escape \\{c}")),
    })
}

/// `word` as systemd reads it back as one word: double-quoted with C escapes when it holds whitespace,
/// quotes, backslashes or control characters (or is empty). Specifiers (`%`) and variables (`$`) are
/// left alone: see [`escape_specifiers`].
pub fn quote_word(word: &str) -> Cow<'_, str> {
    let special = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\');
    if word == ";" {
        return Cow::Borrowed("\\;");
    }
    if !word.is_empty() && !word.chars().any(special) {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Makes `%` and `$` literal for systemd (`%%`, `$$`): for values that come from a container rather
/// than from a unit author.
pub fn escape_specifiers(s: &str) -> Cow<'_, str> {
    if s.contains(['%', '$']) {
        Cow::Owned(s.replace('%', "%%").replace('$', "$$"))
    } else {
        Cow::Borrowed(s)
    }
}

/// `words` quoted and joined into one command line.
pub fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote_word(w.as_ref()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# leading comment\n[Unit]\nDescription=A web server\n\n[Container]\nImage=busybox\n\
        # the command\nExec=sleep \\\n  100\nEnvironment=A=1\nEnvironment=\"B=two words\" C=\\x41\n\n[Unit]\nAfter=x.service\n";

    #[test]
    fn parses_sections_keys_and_continuations() {
        let f = UnitFile::parse(SAMPLE).unwrap();
        assert_eq!(f.section_names().collect::<Vec<_>>(), ["Unit", "Container"]);
        assert_eq!(f.lookup("Unit", "After"), Some("x.service"));
        assert_eq!(f.lookup("Container", "Exec"), Some("sleep  100"));
        assert_eq!(f.keys("Container"), ["Image", "Exec", "Environment"]);
        let env = f.lookup_all_assignments("Container", "Environment").unwrap();
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two words");
        assert_eq!(env["C"], "A");
    }

    #[test]
    fn writes_back_what_it_read() {
        let f = UnitFile::parse(SAMPLE).unwrap();
        let text = f.to_string();
        assert!(text.starts_with(
            "# leading comment\n[Unit]\nDescription=A web server\nAfter=x.service\n\n[Container]\n"
        ));
        assert!(text.contains("# the command\nExec=sleep  100\n"));
        assert_eq!(UnitFile::parse(&text).unwrap(), f);
    }

    #[test]
    fn empty_assignment_resets_a_list() {
        let f = UnitFile::parse("[S]\nV=a\nV=\nV=b\n").unwrap();
        assert_eq!(f.lookup_all("S", "V"), ["b"]);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = UnitFile::parse("[S]\nok=1\nnot a pair\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(UnitFile::parse("Key=1\n")
            .unwrap_err()
            .message
            .contains("before any"));
        assert!(UnitFile::parse("[S\n").is_err());
    }

    #[test]
    fn set_replaces_and_rename_merges() {
        let mut f = UnitFile::parse("[A]\nK=1\nK=2\n[B]\nX=1\n").unwrap();
        f.set("A", "K", "3");
        assert_eq!(f.lookup_all("A", "K"), ["3"]);
        f.rename_section("B", "A");
        assert_eq!(f.keys("A"), ["K", "X"]);
        f.rename_section("A", "X-A");
        assert_eq!(f.section_names().collect::<Vec<_>>(), ["X-A"]);
    }

    #[test]
    fn words_round_trip_through_quoting() {
        let words = [
            "plain",
            "two words",
            "quote\"d",
            "single'q",
            "back\\slash",
            "",
            "tab\there",
            "line\nbreak",
            ";",
        ];
        let line = command_line(&words);
        let back = split_words(&line).unwrap();
        assert_eq!(back, words);
    }

    #[test]
    fn split_handles_quotes_and_escapes() {
        assert_eq!(
            split_words("a 'b c' \"d\\\"e\" f\\sg").unwrap(),
            ["a", "b c", "d\"e", "f g"]
        );
        assert!(split_words("'open").is_err());
        assert!(split_words("bad\\q").is_err());
    }

    #[test]
    fn specifiers_are_escaped() {
        assert_eq!(escape_specifiers("50%$HOME"), "50%%$$HOME");
        assert_eq!(escape_specifiers("plain"), "plain");
    }
}
