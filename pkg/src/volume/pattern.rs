//! The regular expressions of `volume ls --filter name=REGEX`, which Podman matches with Go's `regexp`
//! (`MatchString`: unanchored). Only the answer "does it match anywhere" is needed, so a small
//! backtracking matcher does: literals, `.`, `^`, `$`, classes (`[a-z]`, `[^.]`, `\d`, `\w`, `\s` and
//! their negations), groups with `|`, and the quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (lazy
//! forms match the same). Anything else (flags, `\b`, POSIX classes) is refused, never misread.
//!
//! Volume names are short, so backtracking's worst case does not matter here. The `regex` crate is
//! already in the dependency tree (through oci-spec); once it is a direct dependency of this crate, it
//! replaces this file.

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    /// Inclusive ranges; `true` when negated.
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    /// Alternatives, each a sequence.
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, Option<usize>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    alternatives: Vec<Vec<Node>>,
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')];

struct Parser<'p> {
    source: &'p str,
    chars: Vec<char>,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::InvalidInput(format!("error parsing regexp: {what}: `{}`", self.source))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.at += usize::from(c.is_some());
        c
    }

    fn alternatives(&mut self, depth: usize) -> Result<Vec<Vec<Node>>> {
        let mut alts = vec![self.sequence(depth)?];
        while self.peek() == Some('|') {
            self.at += 1;
            alts.push(self.sequence(depth)?);
        }
        Ok(alts)
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<Node>> {
        let mut seq = vec![];
        while let Some(c) = self.peek() {
            if c == '|' || (c == ')' && depth > 0) {
                break;
            }
            let atom = self.atom(depth)?;
            seq.push(self.quantified(atom)?);
        }
        Ok(seq)
    }

    fn atom(&mut self, depth: usize) -> Result<Node> {
        let c = self.next().expect("sequence checked for a character");
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.peek() == Some('?') {
                    if self.chars.get(self.at + 1) != Some(&':') {
                        return Err(self.error("unsupported group flags"));
                    }
                    self.at += 2;
                }
                let alts = self.alternatives(depth + 1)?;
                if self.next() != Some(')') {
                    return Err(self.error("missing closing )"));
                }
                Node::Group(alts)
            }
            ')' => return Err(self.error("unexpected )")),
            '[' => self.class()?,
            '\\' => self.escape(false)?,
            '*' | '+' | '?' => return Err(self.error("missing argument to repetition operator")),
            c => Node::Char(c),
        })
    }

    /// After a `\`: a class shorthand or an escaped punctuation character.
    fn escape(&mut self, in_class: bool) -> Result<Node> {
        let c = self
            .next()
            .ok_or_else(|| self.error("trailing backslash at end of expression"))?;
        let class = |ranges: &[(char, char)], negated| Node::Class(ranges.to_vec(), negated);
        Ok(match c {
            'd' => class(DIGIT, false),
            'w' => class(WORD, false),
            's' => class(SPACE, false),
            'D' | 'W' | 'S' if in_class => return Err(self.error("unsupported negated class in a class")),
            'D' => class(DIGIT, true),
            'W' => class(WORD, true),
            'S' => class(SPACE, true),
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            c if c.is_ascii_punctuation() => Node::Char(c),
            _ => return Err(self.error(&format!("unsupported escape sequence \\{c}"))),
        })
    }

    fn class(&mut self) -> Result<Node> {
        let negated = self.peek() == Some('^');
        self.at += usize::from(negated);
        let mut ranges = vec![];
        let mut first = true;
        loop {
            let c = self.next().ok_or_else(|| self.error("missing closing ]"))?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '[' if self.peek() == Some(':') => return Err(self.error("unsupported POSIX class")),
                '\\' => match self.escape(true)? {
                    Node::Char(ch) => ch,
                    Node::Class(r, _) => {
                        ranges.extend(r);
                        continue;
                    }
                    _ => unreachable!("escape gives a character or a class"),
                },
                c => c,
            };
            let high = if self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(|&n| n != ']') {
                self.at += 1;
                match self.next() {
                    Some('\\') => match self.escape(true)? {
                        Node::Char(ch) => ch,
                        _ => return Err(self.error("invalid character class range")),
                    },
                    Some(h) => h,
                    None => return Err(self.error("missing closing ]")),
                }
            } else {
                low
            };
            if high < low {
                return Err(self.error(&format!("invalid character class range {low}-{high}")));
            }
            ranges.push((low, high));
        }
        Ok(Node::Class(ranges, negated))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node> {
        let mut node = atom;
        loop {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => match self.counts() {
                    Some(bounds) => bounds,
                    None => return Ok(node),
                },
                _ => return Ok(node),
            };
            if matches!(node, Node::Repeat(..)) {
                return Err(self.error("invalid nested repetition operator"));
            }
            if self.peek() != Some('{') {
                self.at += 1;
            } else {
                self.skip_counts();
            }
            if self.peek() == Some('?') {
                self.at += 1;
            }
            node = Node::Repeat(Box::new(node), min, max);
        }
    }

    /// The bounds of `{n}`, `{n,}` or `{n,m}` at the cursor; `None` when the brace is a literal, as in Go.
    fn counts(&self) -> Option<(usize, Option<usize>)> {
        let rest: String = self.chars[self.at..].iter().collect();
        let inner = &rest[1..rest.find('}')?];
        Some(match inner.split_once(',') {
            None => {
                let n = inner.parse().ok()?;
                (n, Some(n))
            }
            Some((a, "")) => (a.parse().ok()?, None),
            Some((a, b)) => (a.parse().ok()?, Some(b.parse().ok()?)),
        })
    }

    /// Moves past the `{...}` that [`Parser::counts`] read.
    fn skip_counts(&mut self) {
        while self.next().is_some_and(|c| c != '}') {}
    }
}

impl Pattern {
    /// Compiles `source`; an unsupported or malformed expression is an error naming it.
    pub fn new(source: &str) -> Result<Pattern> {
        let mut p = Parser {
            source,
            chars: source.chars().collect(),
            at: 0,
        };
        let alternatives = p.alternatives(0)?;
        if p.at != p.chars.len() {
            return Err(p.error("unexpected )"));
        }
        Ok(Pattern { alternatives })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let group = Node::Group(self.alternatives.clone());
        (0..=t.len()).any(|start| match_node(&group, start, &t, &mut |_| true))
    }
}

fn match_seq(seq: &[Node], i: usize, t: &[char], k: &mut dyn FnMut(usize) -> bool) -> bool {
    match seq.split_first() {
        None => k(i),
        Some((node, rest)) => match_node(node, i, t, &mut |j| match_seq(rest, j, t, k)),
    }
}

fn match_node(node: &Node, i: usize, t: &[char], k: &mut dyn FnMut(usize) -> bool) -> bool {
    match node {
        Node::Char(c) => t.get(i) == Some(c) && k(i + 1),
        Node::Any => t.get(i).is_some_and(|&c| c != '\n') && k(i + 1),
        Node::Class(ranges, negated) => {
            t.get(i)
                .is_some_and(|&c| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                && k(i + 1)
        }
        Node::Start => i == 0 && k(i),
        Node::End => i == t.len() && k(i),
        Node::Group(alts) => alts.iter().any(|alt| match_seq(alt, i, t, k)),
        Node::Repeat(inner, min, max) => repeat(inner, *min, *max, 0, i, t, k),
    }
}

fn repeat(
    inner: &Node,
    min: usize,
    max: Option<usize>,
    count: usize,
    i: usize,
    t: &[char],
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if max.is_none_or(|m| count < m)
        && match_node(inner, i, t, &mut |j| {
            // An empty iteration only counts towards the minimum, so the recursion always ends.
            (j != i || count < min) && repeat(inner, min, max, count + 1, j, t, k)
        })
    {
        return true;
    }
    count >= min && k(i)
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, t: &str) -> bool {
        Pattern::new(p).unwrap().is_match(t)
    }

    #[test]
    fn unanchored_literals_and_anchors() {
        assert!(m("foo", "myfoovol"));
        assert!(!m("^foo", "myfoo"));
        assert!(m("^my", "myfoo"));
        assert!(m("vol$", "myvol"));
        assert!(!m("vol$", "volume"));
        assert!(m("^$", ""));
        assert!(m("", "anything"));
    }

    #[test]
    fn classes_quantifiers_and_groups() {
        assert!(m("^v[0-9]+$", "v123"));
        assert!(!m("^v[0-9]+$", "v12a"));
        assert!(m("^[^.]*$", "abc"));
        assert!(!m("^[^.]*$", "a.c"));
        assert!(m(r"^\w+\.\d$", "data.1"));
        assert!(m("^(ab|cd)*e?$", "abcdab"));
        assert!(!m("^(ab|cd)*$", "abc"));
        assert!(m("^a{2,3}$", "aaa"));
        assert!(!m("^a{2,3}$", "aaaa"));
        assert!(m("^a{2}b{1,}$", "aabbb"));
        assert!(m("a{x", "a{x"), "a brace that is not a count is a literal");
        assert!(m("^a.*?z$", "abcz"));
        assert!(m("^(a*)+$", ""));
        assert!(m("[]a]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("x}*", "x}}"));
    }

    #[test]
    fn malformed_and_unsupported_expressions_are_errors() {
        for p in [
            "(",
            "a)",
            "[a",
            "*a",
            "a**",
            r"\b",
            "(?i)a",
            "[[:alpha:]]",
            "[z-a]",
            "\\",
        ] {
            let e = Pattern::new(p).unwrap_err().to_string();
            assert!(e.starts_with("error parsing regexp: "), "{p}: {e}");
        }
    }
}
