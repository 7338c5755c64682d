//! Parser for Go's `text/template` syntax, building the tree the executor walks. The grammar,
//! the checks done at parse time (undefined functions and variables, `{{break}}` outside
//! `{{range}}`, ...) and the error wording follow Go's `text/template/parse`.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use super::lex::{lex, Item, ItemType};

/// A parse error, already worded as Go does: `template: NAME:LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub String);

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action {
        pos: usize,
        pipe: Pipe,
    },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break(usize),
    Continue(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A number literal, typed as Go's `idealConstant` would type it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lit {
    Int(i64),
    Float(f64),
    /// Fits only an unsigned 64-bit integer: "overflows int" when evaluated.
    Overflow,
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.A`: `idents[0]` is the variable name including `$`.
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipeline).A.B`
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    /// A function name.
    Ident {
        pos: usize,
        name: String,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number {
        pos: usize,
        text: String,
        lit: Lit,
    },
    Str {
        pos: usize,
        quoted: String,
        value: String,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number { pos, .. }
            | Arg::Str { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

// Go's Node.String() forms, used as the context of execution errors.

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{}", i)?;
                }
                Ok(())
            }
            Arg::Variable { idents, .. } => write!(f, "{}", idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(_) = **node {
                    write!(f, "({})", node)?;
                } else {
                    write!(f, "{}", node)?;
                }
                for field in fields {
                    write!(f, ".{}", field)?;
                }
                Ok(())
            }
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{}", b),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{}", p),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(_) = a {
                write!(f, "({})", a)?;
            } else {
                write!(f, "{}", a)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{}", c)?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for n in list {
        write!(f, "{}", n)?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut fmt::Formatter<'_>, kw: &str, b: &Branch| -> fmt::Result {
            write!(f, "{{{{{} {}}}}}", kw, b.pipe)?;
            write_list(f, &b.list)?;
            if let Some(e) = &b.else_list {
                f.write_str("{{else}}")?;
                write_list(f, e)?;
            }
            f.write_str("{{end}}")
        };
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action { pipe, .. } => write!(f, "{{{{{}}}}}", pipe),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => match pipe {
                Some(p) => write!(f, "{{{{template {} {}}}}}", super::fmt::quote(name), p),
                None => write!(f, "{{{{template {}}}}}", super::fmt::quote(name)),
            },
            Node::Break(_) => f.write_str("{{break}}"),
            Node::Continue(_) => f.write_str("{{continue}}"),
        }
    }
}

/// What `itemList` stopped at.
enum Stop {
    End,
    Else,
}

/// The result of parsing: the main tree plus any `{{define}}`d or `{{block}}` templates.
pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defined: HashMap<String, Vec<Node>>,
}

struct Parser<'f> {
    name: String,
    items: Vec<Item>,
    i: usize,
    /// Highest item index looked at, for the line number of errors.
    seen: usize,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'f dyn Fn(&str) -> bool,
    defined: HashMap<String, Vec<Node>>,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `text` as the template `name`. `has_func` says which function names exist.
pub(crate) fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> PResult<Parsed> {
    let mut p = Parser {
        name: name.to_string(),
        items: lex(text),
        i: 0,
        seen: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        has_func,
        defined: HashMap::new(),
    };
    let root = p.parse_top()?;
    Ok(Parsed {
        root,
        defined: p.defined,
    })
}

impl Parser<'_> {
    fn errorf(&self, msg: impl fmt::Display) -> ParseError {
        let line = self
            .items
            .get(self.seen.min(self.items.len() - 1))
            .map(|i| i.line)
            .unwrap_or(1);
        ParseError(format!("template: {}:{}: {}", self.name, line, msg))
    }

    fn unexpected(&self, item: &Item, context: &str) -> ParseError {
        if item.typ == ItemType::Error {
            return self.errorf(&item.val);
        }
        self.errorf(format!("unexpected {} in {}", item, context))
    }

    /// The next item; past the end, the final `Eof`/`Error` item again.
    fn next(&mut self) -> Item {
        let idx = self.i.min(self.items.len() - 1);
        self.i = idx + 1;
        self.seen = self.seen.max(idx);
        self.items[idx].clone()
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn peek(&mut self) -> Item {
        let it = self.next();
        self.backup();
        it
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.typ != ItemType::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn expect(&mut self, typ: ItemType, context: &str) -> PResult<Item> {
        let it = self.next_non_space();
        if it.typ != typ {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let mark = self.i;
                self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = mark;
            }
            match self.text_or_action()? {
                Ok(n) => root.push(n),
                Err(Stop::End) => return Err(self.errorf("unexpected {{end}}")),
                Err(Stop::Else) => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let it = self.next_non_space();
        if it.typ != ItemType::String && it.typ != ItemType::RawString {
            return Err(self.unexpected(&it, CONTEXT));
        }
        let name = self.unquote(&it.val)?;
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, stop) = self.item_list()?;
        self.vars = saved_vars;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {}", CONTEXT)));
        }
        self.add_definition(name, list)
    }

    fn add_definition(&mut self, name: String, list: Vec<Node>) -> PResult<()> {
        if let Some(existing) = self.defined.get(&name) {
            if !is_empty_tree(existing) && !is_empty_tree(&list) {
                return Err(self.errorf(format!("template: multiple definition of template {:?}", name)));
            }
            if is_empty_tree(&list) {
                return Ok(());
            }
        }
        self.defined.insert(name, list);
        Ok(())
    }

    /// Parses nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Ok(n) => list.push(n),
                Err(stop) => return Ok((list, stop)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Result<Node, Stop>> {
        let it = self.next_non_space();
        match it.typ {
            ItemType::Text => Ok(Ok(Node::Text(it.val))),
            ItemType::LeftDelim => self.action(),
            _ => Err(self.unexpected(&it, "input")),
        }
    }

    fn action(&mut self) -> PResult<Result<Node, Stop>> {
        let it = self.next_non_space();
        match it.typ {
            ItemType::Block => return self.block_control().map(Ok),
            ItemType::Break => return self.break_control(it.pos, "break").map(Ok),
            ItemType::Continue => return self.break_control(it.pos, "continue").map(Ok),
            ItemType::Else => return self.else_control().map(Err),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Err(Stop::End));
            }
            ItemType::If => return self.control("if").map(|b| Ok(Node::If(b))),
            ItemType::Range => return self.control("range").map(|b| Ok(Node::Range(b))),
            ItemType::Template => return self.template_control().map(Ok),
            ItemType::With => return self.control("with").map(|b| Ok(Node::With(b))),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        // Variables declared here persist until the enclosing "end".
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Ok(Node::Action { pos, pipe }))
    }

    fn break_control(&mut self, pos: usize, kw: &str) -> PResult<Node> {
        let it = self.next_non_space();
        if it.typ != ItemType::RightDelim {
            return Err(self.unexpected(&it, &format!("{{{{{}}}}}", kw)));
        }
        if self.range_depth == 0 {
            return Err(self.errorf(format!("{{{{{}}}}} outside {{{{range}}}}", kw)));
        }
        Ok(if kw == "break" {
            Node::Break(pos)
        } else {
            Node::Continue(pos)
        })
    }

    fn else_control(&mut self) -> PResult<Stop> {
        let peek = self.peek_non_space();
        // "{{else if ..." and "{{else with ..." are treated as "{{else}}{{if ...".
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Stop::Else);
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Stop::Else)
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        let nvars = self.vars.len();
        let result = self.control_inner(context);
        self.vars.truncate(nvars);
        result
    }

    fn control_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, stop) = r?;
        let mut else_list = None;
        if let Stop::Else = stop {
            let peek = self.peek().typ;
            if context == "if" && peek == ItemType::If {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && peek == ItemType::With {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (list, stop) = self.item_list()?;
                if let Stop::Else = stop {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, it: &Item, context: &str) -> PResult<String> {
        match it.typ {
            ItemType::String | ItemType::RawString => self.unquote(&it.val),
            _ => Err(self.unexpected(it, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: it.pos,
            name,
            pipe,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_depth = std::mem::take(&mut self.range_depth);
        let r = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        let (list, stop) = r?;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {}", CONTEXT)));
        }
        self.add_definition(name.clone(), list)?;
        Ok(Node::Template {
            pos: it.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        // Declarations or assignments?
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            let mark = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                pipe.is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                pipe.decl.push(v.val.clone());
                self.vars.push(v.val);
                break;
            } else if next.typ == ItemType::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(v.val.clone());
                self.vars.push(v.val);
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().typ {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => continue,
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format!("too many declarations in {}", context)));
            } else {
                self.i = mark;
                break;
            }
        }
        loop {
            let it = self.next_non_space();
            match it.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&it, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {}", context)));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::Str { .. }
            ) {
                return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let it = self.next();
            match it.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&it, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().typ == ItemType::Field {
            let it = self.next();
            fields.push(it.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    super::fmt::quote(&node.to_string())
                )));
            }
            node => Arg::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let it = self.next_non_space();
        let pos = it.pos;
        Ok(Some(match it.typ {
            ItemType::Identifier => {
                if !(self.has_func)(&it.val) {
                    return Err(self.errorf(format!("function {} not defined", super::fmt::quote(&it.val))));
                }
                Arg::Ident { pos, name: it.val }
            }
            ItemType::Dot => Arg::Dot(pos),
            ItemType::Nil => Arg::Nil(pos),
            ItemType::Variable => {
                let idents: Vec<String> = it.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    return Err(self.errorf(format!("undefined variable {}", super::fmt::quote(&idents[0]))));
                }
                Arg::Variable { pos, idents }
            }
            ItemType::Field => Arg::Field {
                pos,
                idents: it.val[1..].split('.').map(str::to_string).collect(),
            },
            ItemType::Bool => Arg::Bool(pos, it.val == "true"),
            ItemType::CharConstant | ItemType::Number | ItemType::Complex => {
                let lit = self.number(&it)?;
                Arg::Number {
                    pos,
                    text: it.val,
                    lit,
                }
            }
            ItemType::LeftParen => {
                let p = self.pipeline("parenthesized pipeline", ItemType::RightParen)?;
                Arg::Pipe(Box::new(p))
            }
            ItemType::String | ItemType::RawString => {
                let value = self.unquote(&it.val)?;
                Arg::Str {
                    pos,
                    quoted: it.val,
                    value,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn number(&self, it: &Item) -> PResult<Lit> {
        let text = it.val.as_str();
        if it.typ == ItemType::CharConstant {
            let inner = &text[1..text.len() - 1];
            let s = unquote_go(inner, '\'').ok_or_else(|| self.errorf("invalid syntax"))?;
            let mut chars = s.chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Lit::Int(c as i64)),
                _ => Err(self.errorf(format!("malformed character constant: {}", text))),
            };
        }
        if it.typ == ItemType::Complex || text.ends_with('i') {
            return Err(self.errorf(format!(
                "complex numbers are not supported: {}",
                super::fmt::quote(text)
            )));
        }
        if let Some(i) = parse_go_int(text) {
            let looks_float = !is_hex(text) && text.contains(['.', 'e', 'E', 'p', 'P']);
            return Ok(match i {
                Ok(i) if !looks_float => Lit::Int(i),
                Ok(i) => Lit::Float(i as f64),
                Err(()) => Lit::Overflow,
            });
        }
        let clean: String = text.chars().filter(|&c| c != '_').collect();
        match clean.parse::<f64>() {
            Ok(f) if f.is_finite() => {
                if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                    return Err(self.errorf(format!("integer overflow: {}", super::fmt::quote(text))));
                }
                Ok(Lit::Float(f))
            }
            _ => Err(self.errorf(format!("illegal number syntax: {}", super::fmt::quote(text)))),
        }
    }

    fn unquote(&self, quoted: &str) -> PResult<String> {
        if let Some(raw) = quoted.strip_prefix('`') {
            return Ok(raw.trim_end_matches('`').replace('\r', ""));
        }
        unquote_go(&quoted[1..quoted.len() - 1], '"').ok_or_else(|| self.errorf("invalid syntax"))
    }
}

fn is_hex(s: &str) -> bool {
    let s = s.trim_start_matches(['+', '-']);
    s.len() > 2 && (s.starts_with("0x") || s.starts_with("0X")) && !s.contains(['p', 'P'])
}

/// Go's `strconv.ParseInt(s, 0, 64)` (base prefixes, underscores). `None` when `s` is not an
/// integer literal at all, `Some(Err)` when it is one but does not fit an `i64`.
fn parse_go_int(s: &str) -> Option<Result<i64, ()>> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower.clone())
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = match u128::from_str_radix(&digits, radix) {
        Ok(m) => m,
        Err(_) => return Some(Err(())),
    };
    let value = if neg {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    Some(i64::try_from(value).map_err(|_| ()))
}

/// Interprets Go escape sequences in the body of a quoted string or character literal.
pub(crate) fn unquote_go(s: &str, quote: char) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote || c == '\n' {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' | '"' => {
                if e != quote {
                    return None;
                }
                out.push(e);
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                if hex.len() != n {
                    return None;
                }
                let v = u32::from_str_radix(&hex, 16).ok()?;
                if e == 'x' {
                    // A byte; only ASCII bytes can be represented in a Rust string.
                    out.push(char::from_u32(v).filter(|c| c.is_ascii()).unwrap_or('\u{fffd}'));
                } else {
                    out.push(char::from_u32(v)?);
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + chars.next()?.to_digit(8)?;
                }
                if v > 255 {
                    return None;
                }
                out.push(char::from_u32(v).filter(|c| c.is_ascii()).unwrap_or('\u{fffd}'));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn is_empty_tree(list: &[Node]) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PResult<Parsed> {
        parse("t", s, &|f| matches!(f, "printf" | "len" | "eq" | "json"))
    }

    fn err(s: &str) -> String {
        match p(s) {
            Err(e) => e.0,
            Ok(_) => panic!("{s:?} parsed"),
        }
    }

    #[test]
    fn round_trips_through_display() {
        let t = p("{{range $i, $x := .Names}}{{printf \"%d\" $i}}{{else}}none{{end}}").unwrap();
        assert_eq!(
            t.root[0].to_string(),
            "{{range $i, $x := .Names}}{{printf \"%d\" $i}}{{else}}none{{end}}"
        );
        let t = p("{{(.A).B.C | len}}").unwrap();
        assert_eq!(t.root[0].to_string(), "{{(.A).B.C | len}}");
        let t = p("{{$.X.Y}}").unwrap();
        assert_eq!(t.root[0].to_string(), "{{$.X.Y}}");
    }

    #[test]
    fn parse_errors_read_like_go() {
        assert_eq!(err("{{.Foo"), "template: t:1: unclosed action");
        assert_eq!(err("{{nope .X}}"), "template: t:1: function \"nope\" not defined");
        assert_eq!(err("{{if .X}}"), "template: t:1: unexpected EOF");
        assert_eq!(err("{{end}}"), "template: t:1: unexpected {{end}}");
        assert_eq!(err("{{$x}}"), "template: t:1: undefined variable \"$x\"");
        assert_eq!(err("{{}}"), "template: t:1: missing value for command");
        assert_eq!(err("{{break}}"), "template: t:1: {{break}} outside {{range}}");
        assert_eq!(
            err("a\n{{.X | 3}}"),
            "template: t:2: non executable command in pipeline stage 2"
        );
        assert_eq!(
            err("{{.X )}}"),
            "template: t:1: unexpected right paren U+0029 ')'"
        );
    }

    #[test]
    fn numbers() {
        let lit = |s: &str| match &p(&format!("{{{{{}}}}}", s)).unwrap().root[0] {
            Node::Action { pipe, .. } => match &pipe.cmds[0].args[0] {
                Arg::Number { lit, .. } => *lit,
                _ => unreachable!(),
            },
            _ => unreachable!(),
        };
        assert!(matches!(lit("42"), Lit::Int(42)));
        assert!(matches!(lit("-0x1F"), Lit::Int(-31)));
        assert!(matches!(lit("017"), Lit::Int(15)));
        assert!(matches!(lit("1_000"), Lit::Int(1000)));
        assert!(matches!(lit("1.5"), Lit::Float(f) if f == 1.5));
        assert!(matches!(lit("1e3"), Lit::Float(f) if f == 1000.0));
        assert!(matches!(lit("'a'"), Lit::Int(97)));
        assert!(matches!(lit("18446744073709551615"), Lit::Overflow));
    }

    #[test]
    fn define_and_block() {
        let t = p("{{define \"x\"}}X{{end}}{{block \"y\" .}}Y{{end}}").unwrap();
        assert!(t.defined.contains_key("x"));
        assert!(t.defined.contains_key("y"));
    }
}
