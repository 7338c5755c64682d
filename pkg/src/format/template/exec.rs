//! Executes a parsed template against a value, as Go's `text/template` `Execute` does.

use std::fmt::Display;

use super::fmt::write_v;
use super::funcs::{self, Arity, FuncErr};
use super::parse::{Arg, Branch, Command, Lit, Node, Pipe};
use super::value::{is_struct_like, is_true, type_name, Val, View};
use super::Program;

const MAX_EXEC_DEPTH: usize = 10_000;

/// How header rows are rendered (see `Program::execute`): field reads on a string give the
/// header of that field, failing functions give back their first string argument, and ranging
/// over a string runs the body once.
pub(crate) type HeaderFn<'h> = &'h dyn Fn(&str) -> String;

/// The node being evaluated, for the `at <...>` part of error messages.
#[derive(Clone, Copy)]
enum At<'p> {
    None,
    Node(&'p Node),
    Pipe(&'p Pipe),
    Cmd(&'p Command),
    Arg(&'p Arg),
}

impl At<'_> {
    fn pos(&self) -> Option<usize> {
        match self {
            At::None => None,
            At::Node(n) => Some(match n {
                Node::Text(_) => 0,
                Node::Action { pos, .. } | Node::Template { pos, .. } => *pos,
                Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
                Node::Break(p) | Node::Continue(p) => *p,
            }),
            At::Pipe(p) => Some(p.pos),
            At::Cmd(c) => Some(c.pos),
            At::Arg(a) => Some(a.pos()),
        }
    }

    fn context(&self) -> String {
        match self {
            At::None => String::new(),
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        }
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

type EResult<T> = Result<T, String>;

pub(crate) struct State<'p, 'a, 'o> {
    prog: &'p Program,
    /// Name of the template being executed (differs from the program's inside `{{template}}`).
    tmpl_name: &'p str,
    out: &'o mut String,
    vars: Vec<(String, Val<'a>)>,
    at: At<'p>,
    depth: usize,
    header: Option<HeaderFn<'p>>,
}

impl<'p, 'a, 'o> State<'p, 'a, 'o> {
    pub fn new(prog: &'p Program, out: &'o mut String, dot: Val<'a>, header: Option<HeaderFn<'p>>) -> Self {
        State {
            prog,
            tmpl_name: &prog.name,
            out,
            vars: vec![("$".to_string(), dot)],
            at: At::None,
            depth: 0,
            header,
        }
    }

    pub fn run(&mut self, root: &'p [Node], dot: &Val<'a>) -> EResult<()> {
        self.walk_list(dot, root)?;
        Ok(())
    }

    /// Go's `state.errorf`: `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG`.
    fn errorf(&self, msg: impl Display) -> String {
        match self.at.pos() {
            None => format!("template: {}: {}", self.prog.name, msg),
            Some(pos) => {
                let text = &self.prog.text[..pos.min(self.prog.text.len())];
                let line = 1 + text.matches('\n').count();
                let col = match text.rfind('\n') {
                    Some(nl) => pos - (nl + 1),
                    None => pos,
                };
                format!(
                    "template: {}:{}:{}: executing {} at <{}>: {}",
                    self.prog.name,
                    line,
                    col,
                    super::fmt::quote(self.tmpl_name),
                    self.at.context(),
                    msg
                )
            }
        }
    }

    fn walk_list(&mut self, dot: &Val<'a>, list: &'p [Node]) -> EResult<Flow> {
        for n in list {
            let flow = self.walk(dot, n)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val<'a>, node: &'p Node) -> EResult<Flow> {
        self.at = At::Node(node);
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action { pipe, .. } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    write_v(self.out, &v.view());
                }
            }
            Node::If(b) => return self.walk_if_or_with(dot, b, false),
            Node::With(b) => return self.walk_if_or_with(dot, b, true),
            Node::Range(b) => return self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref())?,
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, dot: &Val<'a>, b: &'p Branch, with: bool) -> EResult<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if is_true(&val.view()) {
            if with {
                self.walk_list(&val, &b.list)?
            } else {
                self.walk_list(dot, &b.list)?
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Val<'a>, node: &'p Node, r: &'p Branch) -> EResult<Flow> {
        self.at = At::Node(node);
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let body_mark = self.vars.len();
        let ndecl = r.pipe.decl.len();
        let mut iterated = false;
        let mut one = |s: &mut Self, key: Val<'a>, elem: Val<'a>| -> EResult<Flow> {
            iterated = true;
            if ndecl > 0 {
                let n = s.vars.len();
                s.vars[n - 1].1 = elem.clone();
                if ndecl > 1 {
                    s.vars[n - 2].1 = key;
                }
            }
            let flow = s.walk_list(&elem, &r.list)?;
            s.vars.truncate(body_mark);
            Ok(flow)
        };
        match val.view() {
            View::Arr(_) => {
                for (i, e) in val.elements().unwrap_or_default().into_iter().enumerate() {
                    if one(self, Val::int(i as i64), e)? == Flow::Break {
                        break;
                    }
                }
            }
            View::Obj(_) => {
                for (k, v) in val.entries().unwrap_or_default() {
                    if one(self, Val::str(k), v)? == Flow::Break {
                        break;
                    }
                }
            }
            View::Num(n) if n.is_i64() => {
                if ndecl > 1 {
                    self.at = At::Node(node);
                    return Err(self.errorf(format!(
                        "can't use {} to iterate over more than one variable",
                        super::fmt::to_v(&val)
                    )));
                }
                for i in 0..n.as_i64().unwrap_or(0).max(0) {
                    if one(self, Val::int(i), Val::int(i))? == Flow::Break {
                        break;
                    }
                }
            }
            View::Missing | View::Null => {}
            View::Str(_) if self.header.is_some() => {
                one(self, Val::int(0), val.clone())?;
            }
            _ => {
                self.at = At::Node(node);
                return Err(self.errorf(format!("range can't iterate over {}", super::fmt::to_v(&val))));
            }
        }
        // break/continue in the body end here; in the else branch they belong to an outer range.
        let mut flow = Flow::Normal;
        if !iterated {
            if let Some(e) = &r.else_list {
                flow = self.walk_list(dot, e)?;
            }
        }
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_template(
        &mut self,
        dot: &Val<'a>,
        node: &'p Node,
        name: &'p str,
        pipe: Option<&'p Pipe>,
    ) -> EResult<()> {
        self.at = At::Node(node);
        let Some(root) = self.prog.defined.get(name) else {
            return Err(self.errorf(format!("template {} not defined", super::fmt::quote(name))));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!("exceeded maximum template depth ({})", MAX_EXEC_DEPTH)));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Val::Missing,
        };
        let mut inner = State {
            prog: self.prog,
            tmpl_name: name,
            out: self.out,
            vars: vec![("$".to_string(), new_dot.clone())],
            at: At::None,
            depth: self.depth + 1,
            header: self.header,
        };
        inner.walk_list(&new_dot, root)?;
        Ok(())
    }

    fn eval_pipeline(&mut self, dot: &Val<'a>, pipe: &'p Pipe) -> EResult<Val<'a>> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Val<'a>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == var) {
                    Some(slot) => slot.1 = value.clone(),
                    None => return Err(self.errorf(format!("undefined variable: {}", var))),
                }
            } else {
                self.vars.push((var.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'p [Arg], fin: &Option<Val<'a>>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val<'a>, cmd: &'p Command, fin: Option<Val<'a>>) -> EResult<Val<'a>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, fin);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, fin),
            Arg::Ident { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, fin)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool(_, b) => Ok(Val::bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command")),
            Arg::Number { text, lit, .. } => self.ideal_constant(first, text, *lit),
            Arg::Str { value, .. } => Ok(Val::str(value.as_str())),
            _ => Err(self.errorf(format!(
                "can't evaluate command {}",
                super::fmt::quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, node: &'p Arg, text: &str, lit: Lit) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        match lit {
            Lit::Int(i) => Ok(Val::int(i)),
            Lit::Float(f) => Ok(serde_json::Number::from_f64(f)
                .map(|n| Val::own(serde_json::Value::Number(n)))
                .unwrap_or(Val::Missing)),
            Lit::Overflow => Err(self.errorf(format!("{} overflows int", text))),
        }
    }

    fn eval_variable(
        &mut self,
        dot: &Val<'a>,
        node: &'p Arg,
        args: &'p [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Variable { idents, .. } = node else {
            unreachable!()
        };
        let value = match self.vars.iter().rev().find(|(n, _)| *n == idents[0]) {
            Some((_, v)) => v.clone(),
            None => return Err(self.errorf(format!("undefined variable: {}", idents[0]))),
        };
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, node, &idents[1..], args, fin)
    }

    fn eval_chain(
        &mut self,
        dot: &Val<'a>,
        node: &'p Arg,
        args: &'p [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Arg::Chain {
            node: inner, fields, ..
        } = node
        else {
            unreachable!()
        };
        if let Arg::Nil(_) = **inner {
            return Err(self.errorf(format!("indirection through explicit nil in {}", node)));
        }
        let receiver = self.eval_arg(dot, inner)?;
        self.at = At::Arg(node);
        self.eval_field_chain(dot, receiver, node, fields, args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val<'a>,
        mut receiver: Val<'a>,
        node: &'p Arg,
        idents: &'p [String],
        args: &'p [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, &receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, &receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val<'a>,
        name: &str,
        node: &'p Arg,
        args: &'p [Arg],
        fin: Option<Val<'a>>,
        receiver: &Val<'a>,
    ) -> EResult<Val<'a>> {
        let has_args = args.len() > 1 || fin.is_some();
        match receiver.view() {
            View::Missing => Ok(Val::Missing),
            View::Obj(o) => match receiver.get(name) {
                Some(v) if !has_args => Ok(v),
                Some(v) => {
                    // A field invoked with one argument, like `{{.Label "key"}}`: index into it
                    // when it holds a map (Podman's method-with-argument fields).
                    let mut vals = Vec::new();
                    for a in &args[1..] {
                        vals.push(self.eval_arg(dot, a)?);
                    }
                    vals.extend(fin);
                    self.at = At::Arg(node);
                    match (v.view(), vals.as_slice()) {
                        (View::Obj(_), [key]) if key.as_str().is_some() => Ok(v
                            .get(key.as_str().unwrap_or_default())
                            .unwrap_or_else(|| Val::str(""))),
                        _ if is_struct_like(o) => Err(self.errorf(format!(
                            "{} has arguments but cannot be invoked as function",
                            name
                        ))),
                        _ => Err(self.errorf(format!("{} is not a method but has arguments", name))),
                    }
                }
                None if self.header.is_some() || !is_struct_like(o) => {
                    if has_args {
                        return Err(self.errorf(format!("{} is not a method but has arguments", name)));
                    }
                    Ok(Val::Missing)
                }
                None => Err(self.errorf(format!(
                    "can't evaluate field {} in type {}",
                    name,
                    type_name(&receiver.view())
                ))),
            },
            // Header mode, `.State.Pid`: the header of `Pid`; `.Labels.app` (a map key rather
            // than a Go field name): the header already found, `LABELS`.
            View::Str(_) if self.header.is_some() => match self.header {
                Some(h) if name.starts_with(|c: char| c.is_ascii_uppercase()) => Ok(Val::str(h(name))),
                _ => Ok(receiver.clone()),
            },
            View::Null => Err(self.errorf(format!("nil pointer evaluating interface {{}}.{}", name))),
            v => Err(self.errorf(format!("can't evaluate field {} in type {}", name, type_name(&v)))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val<'a>,
        node: &'p Arg,
        name: &'p str,
        call_at: At<'p>,
        args: &'p [Arg],
        fin: Option<Val<'a>>,
    ) -> EResult<Val<'a>> {
        self.at = At::Arg(node);
        let Some(arity) = funcs::arity(name) else {
            return Err(self.errorf(format!("{} is not a defined function", super::fmt::quote(name))));
        };
        let argn = args.len().saturating_sub(1) + usize::from(fin.is_some());
        match arity {
            Arity::Exactly(n) if argn != n => {
                return Err(self.errorf(format!(
                    "wrong number of args for {}: want {} got {}",
                    name, n, argn
                )));
            }
            Arity::AtLeast(n) if argn < n => {
                return Err(self.errorf(format!(
                    "wrong number of args for {}: want at least {} got {}",
                    name,
                    n,
                    args.len().saturating_sub(1)
                )));
            }
            _ => {}
        }
        let rest = if args.is_empty() { args } else { &args[1..] };
        if name == "and" || name == "or" {
            // Short-circuit: stop at the first false (and) or true (or) argument.
            let want = name == "or";
            let mut v = Val::Missing;
            for a in rest {
                v = self.eval_arg(dot, a)?;
                if is_true(&v.view()) == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let mut vals = Vec::with_capacity(argn);
        for a in rest {
            vals.push(self.eval_arg(dot, a)?);
        }
        vals.extend(fin);
        match funcs::call(name, &vals) {
            Ok(v) => Ok(v),
            Err(_) if self.header.is_some() => Ok(vals
                .into_iter()
                .find(|v| v.as_str().is_some())
                .unwrap_or_else(|| Val::str(""))),
            Err(FuncErr::Call(msg)) => {
                self.at = call_at;
                Err(self.errorf(format!("error calling {}: {}", name, msg)))
            }
            Err(FuncErr::Type(msg)) => {
                self.at = call_at;
                Err(self.errorf(msg))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Val<'a>, arg: &'p Arg) -> EResult<Val<'a>> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Val::own(serde_json::Value::Null)),
            Arg::Field { idents, .. } => self.eval_field_chain(dot, dot.clone(), arg, idents, &[], None),
            Arg::Variable { .. } => self.eval_variable(dot, arg, &[], None),
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Ident { name, .. } => self.eval_function(dot, arg, name, At::Arg(arg), &[], None),
            Arg::Chain { .. } => self.eval_chain(dot, arg, &[], None),
            Arg::Bool(_, b) => Ok(Val::bool(*b)),
            Arg::Number { text, lit, .. } => self.ideal_constant(arg, text, *lit),
            Arg::Str { value, .. } => Ok(Val::str(value.as_str())),
        }
    }
}
