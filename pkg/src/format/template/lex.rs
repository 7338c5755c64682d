//! Lexer for Go's `text/template` syntax, following the token rules of Go's
//! `text/template/parse` package: `{{`/`}}` delimiters, `{{-`/`-}}` trim markers, comments,
//! quoted/raw strings, character constants, numbers, fields, variables, keywords.
//!
//! The whole input is tokenised up front; errors become an [`ItemType::Error`] item that ends
//! the stream, exactly where Go's lexer would emit its error item.

const LEFT: &str = "{{";
const RIGHT: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
/// A trim marker is a `-` followed (left delimiter) or preceded (right delimiter) by a space.
const TRIM_MARKER_LEN: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub typ: ItemType,
    /// Byte offset of the item in the template text.
    pub pos: usize,
    pub val: String,
    /// 1-based line number of the start of the item.
    pub line: usize,
}

impl std::fmt::Display for Item {
    /// Mirrors Go's `item.String()`, used in "unexpected X in Y" parse errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            ItemType::Eof => write!(f, "EOF"),
            ItemType::Error => write!(f, "{}", self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ => {
                let chars: Vec<char> = self.val.chars().collect();
                if chars.len() > 10 {
                    let head: String = chars[..10].iter().collect();
                    write!(f, "{}...", super::fmt::quote(&head))
                } else {
                    write!(f, "{}", super::fmt::quote(&self.val))
                }
            }
        }
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

fn left_trim_length(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

fn right_trim_length(s: &str) -> usize {
    s.len() - s.trim_end_matches(is_space).len()
}

struct Lexer<'s> {
    input: &'s str,
    pos: usize,
    start: usize,
    /// Line of `start`.
    start_line: usize,
    /// Line of `pos`.
    line: usize,
    paren_depth: i32,
    items: Vec<Item>,
}

/// Tokenises `input`. The returned vector always ends with an `Eof` or an `Error` item.
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        start_line: 1,
        line: 1,
        paren_depth: 0,
        items: Vec::new(),
    };
    l.run();
    l.items
}

enum State {
    Text,
    LeftDelim,
    InsideAction,
    Done,
}

impl<'s> Lexer<'s> {
    fn run(&mut self) {
        let mut state = State::Text;
        loop {
            state = match state {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Done => return,
            };
        }
    }

    fn rest(&self) -> &'s str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Steps back over the character just read by `next`.
    fn backup(&mut self) {
        if let Some(c) = self.input[..self.pos].chars().next_back() {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn emit(&mut self, typ: ItemType) {
        let val = self.input[self.start..self.pos].to_string();
        self.items.push(Item {
            typ,
            pos: self.start,
            val,
            line: self.start_line,
        });
        self.ignore();
    }

    fn ignore(&mut self) {
        self.start_line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.line = self.start_line;
    }

    /// Advances `pos` by `n` bytes, keeping the line count right.
    fn skip(&mut self, n: usize) {
        self.line += self.input[self.pos..self.pos + n].matches('\n').count();
        self.pos += n;
    }

    fn error(&mut self, msg: String) -> State {
        self.items.push(Item {
            typ: ItemType::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        });
        State::Done
    }

    fn accept(&mut self, valid: &str) -> bool {
        if let Some(c) = self.peek() {
            if valid.contains(c) {
                self.next();
                return true;
            }
        }
        false
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn lex_text(&mut self) -> State {
        if let Some(x) = self.rest().find(LEFT) {
            let mut trim = 0;
            if has_left_trim_marker(&self.rest()[x + LEFT.len()..]) {
                trim = right_trim_length(&self.rest()[..x]);
            }
            self.skip(x);
            let end = self.pos - trim;
            if end > self.start {
                let val = self.input[self.start..end].to_string();
                self.items.push(Item {
                    typ: ItemType::Text,
                    pos: self.start,
                    val,
                    line: self.start_line,
                });
            }
            self.ignore();
            return State::LeftDelim;
        }
        self.skip(self.rest().len());
        if self.pos > self.start {
            self.emit(ItemType::Text);
        }
        self.items.push(Item {
            typ: ItemType::Eof,
            pos: self.pos,
            val: String::new(),
            line: self.line,
        });
        State::Done
    }

    /// Reports whether we are at a right delimiter, possibly preceded by a trim marker.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT) {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn lex_left_delim(&mut self) -> State {
        self.skip(LEFT.len());
        let trim_space = has_left_trim_marker(self.rest());
        let after_marker = if trim_space { TRIM_MARKER_LEN } else { 0 };
        if self.rest()[after_marker..].starts_with(LEFT_COMMENT) {
            self.skip(after_marker);
            self.ignore();
            return self.lex_comment();
        }
        self.emit(ItemType::LeftDelim);
        self.skip(after_marker);
        self.ignore();
        self.paren_depth = 0;
        State::InsideAction
    }

    fn lex_comment(&mut self) -> State {
        self.skip(LEFT_COMMENT.len());
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.skip(x + RIGHT_COMMENT.len());
        let (delim, trim_space) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        // Comments produce no item: the parser would discard them anyway.
        if trim_space {
            self.skip(TRIM_MARKER_LEN);
        }
        self.skip(RIGHT.len());
        if trim_space {
            let n = left_trim_length(self.rest());
            self.skip(n);
        }
        self.ignore();
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim_space) = self.at_right_delim();
        if trim_space {
            self.skip(TRIM_MARKER_LEN);
            self.ignore();
        }
        self.skip(RIGHT.len());
        self.emit(ItemType::RightDelim);
        if trim_space {
            let n = left_trim_length(self.rest());
            self.skip(n);
            self.ignore();
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(r) = self.next() else {
            return self.error("unclosed action".into());
        };
        match r {
            c if is_space(c) => {
                self.backup();
                return self.lex_space();
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(ItemType::Declare);
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => return self.lex_quote(),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => return self.lex_char(),
            '.' => {
                // Special look-ahead for ".field" so we don't break backup().
                match self.peek() {
                    Some(c) if c.is_ascii_digit() => {
                        self.backup();
                        return self.lex_number();
                    }
                    _ => return self.lex_field_or_variable(ItemType::Field),
                }
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                return self.lex_number();
            }
            c if is_alphanumeric(c) => {
                self.backup();
                return self.lex_identifier();
            }
            '(' => {
                self.emit(ItemType::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error(format!("unexpected right paren {}", super::fmt::unicode_repr(r)));
                }
                self.emit(ItemType::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(ItemType::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    super::fmt::unicode_repr(c)
                ));
            }
        }
        State::InsideAction
    }

    fn lex_space(&mut self) -> State {
        let mut num_spaces = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            num_spaces += 1;
        }
        // Be careful about a trim-marked closing delimiter, which has a minus after a space.
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before) && before[TRIM_MARKER_LEN..].starts_with(RIGHT) {
            self.backup();
            if num_spaces == 1 {
                return State::InsideAction;
            }
        }
        self.emit(ItemType::Space);
        State::InsideAction
    }

    fn lex_identifier(&mut self) -> State {
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.next().unwrap_or('\0');
            return self.error(format!("bad character {}", super::fmt::unicode_repr(c)));
        }
        let word = &self.input[self.start..self.pos];
        let typ = if let Some(k) = keyword(word) {
            k
        } else if word.starts_with('.') {
            ItemType::Field
        } else if word == "true" || word == "false" {
            ItemType::Bool
        } else {
            ItemType::Identifier
        };
        self.emit(typ);
        State::InsideAction
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            // Nothing interesting follows: just "$".
            self.emit(ItemType::Variable);
            return State::InsideAction;
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> State {
        if self.at_terminator() {
            // Nothing interesting follows: "." or "$".
            self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
            return State::InsideAction;
        }
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.next().unwrap_or('\0');
            return self.error(format!("bad character {}", super::fmt::unicode_repr(c)));
        }
        self.emit(typ);
        State::InsideAction
    }

    /// Reports whether the input is at a valid termination character to appear after an
    /// identifier.
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with(RIGHT),
        }
    }

    fn lex_char(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => continue,
                    _ => return self.error("unterminated character constant".into()),
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.emit(ItemType::CharConstant);
        State::InsideAction
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            let bad = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", super::fmt::quote(&bad)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            // Complex: 1+2i. No spaces, must end in 'i'.
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let bad = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", super::fmt::quote(&bad)));
            }
            self.emit(ItemType::Complex);
        } else {
            self.emit(ItemType::Number);
        }
        State::InsideAction
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek() {
            if is_alphanumeric(c) {
                self.next();
                return false;
            }
        }
        true
    }

    fn lex_quote(&mut self) -> State {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => continue,
                    _ => return self.error("unterminated quoted string".into()),
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.emit(ItemType::String);
        State::InsideAction
    }

    fn lex_raw_quote(&mut self) -> State {
        let Some(x) = self.rest().find('`') else {
            return self.error("unterminated raw quoted string".into());
        };
        self.skip(x + 1);
        self.emit(ItemType::RawString);
        State::InsideAction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(s: &str) -> Vec<ItemType> {
        lex(s).into_iter().map(|i| i.typ).collect()
    }

    #[test]
    fn simple_action() {
        use ItemType::*;
        assert_eq!(
            types("a{{.ID}}b"),
            vec![Text, LeftDelim, Field, RightDelim, Text, Eof]
        );
        assert_eq!(
            types("{{ $x := .A.B | printf \"%s\" }}"),
            vec![
                LeftDelim, Space, Variable, Space, Declare, Space, Field, Field, Space, Pipe, Space,
                Identifier, Space, String, Space, RightDelim, Eof
            ]
        );
    }

    #[test]
    fn trim_markers() {
        let items = lex("a  {{- .X -}}  b");
        assert_eq!(items[0].val, "a");
        assert_eq!(items.iter().rfind(|i| i.typ == ItemType::Text).unwrap().val, "b");
        let items = lex("x {{- /* c */ -}} y");
        let text: Vec<_> = items
            .iter()
            .filter(|i| i.typ == ItemType::Text)
            .map(|i| &i.val)
            .collect();
        assert_eq!(text, vec!["x", "y"]);
    }

    #[test]
    fn errors() {
        assert_eq!(lex("{{.Foo").last().unwrap().val, "unclosed action");
        assert_eq!(lex("{{\"abc}}").last().unwrap().val, "unterminated quoted string");
        assert_eq!(lex("{{/* x }}").last().unwrap().val, "unclosed comment");
        assert_eq!(lex("{{3k}}").last().unwrap().val, "bad number syntax: \"3k\"");
        assert_eq!(lex("{{(.X}}").last().unwrap().val, "unclosed left paren");
    }

    #[test]
    fn numbers_and_keywords() {
        use ItemType::*;
        assert_eq!(types("{{-1.5e3}}"), vec![LeftDelim, Number, RightDelim, Eof]);
        assert_eq!(types("{{if true}}{{end}}")[1], If);
        assert_eq!(types("{{ 'a' }}")[2], CharConstant);
        assert_eq!(types("{{nil}}")[1], Nil);
    }
}
