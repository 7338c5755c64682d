//! A Go `text/template` engine over `serde_json` data.
//!
//! Podman renders `--format` with Go's `text/template`; this is a re-implementation of its
//! syntax and semantics (lexing, parsing, execution, error wording) rather than a binding to
//! `gtmpl`, which prints lists and maps in Rust's debug form, ranges over maps in random order,
//! lacks `break`/`continue` and reports errors without positions. See [`value`] for how Go's
//! typed values map onto JSON.

mod exec;
pub(crate) mod fmt;
mod funcs;
mod lex;
mod parse;
pub(crate) mod value;

use std::collections::HashMap;

pub(crate) use exec::HeaderFn;
use parse::{Arg, Node, Pipe};
pub(crate) use value::Val;

/// A parsed template, ready to be executed any number of times.
#[derive(Clone)]
pub(crate) struct Program {
    /// Template name, shown in error messages (`template: NAME:1:2: ...`).
    pub name: String,
    /// The parsed text, for line/column positions in execution errors.
    pub text: String,
    root: Vec<Node>,
    defined: HashMap<String, Vec<Node>>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("name", &self.name)
            .field("text", &self.text)
            .finish()
    }
}

impl Program {
    /// Parses `text`; errors are worded as Go's (`template: NAME:LINE: MSG`).
    pub fn parse(name: &str, text: &str) -> Result<Program, String> {
        let parsed = parse::parse(name, text, &|f| funcs::arity(f).is_some()).map_err(|e| e.0)?;
        Ok(Program {
            name: name.to_string(),
            text: text.to_string(),
            root: parsed.root,
            defined: parsed.defined,
        })
    }

    /// Executes the template with `dot` as data, appending to `out`. With `header`, runs in
    /// header mode (see [`HeaderFn`]). Output produced before an error stays in `out`.
    pub fn execute<'p, 'a>(
        &'p self,
        dot: Val<'a>,
        out: &mut String,
        header: Option<HeaderFn<'p>>,
    ) -> Result<(), String> {
        let mut state = exec::State::new(self, out, dot.clone(), header);
        state.run(&self.root, &dot)
    }

    /// The names of the fields the template reads from its data (`.ID` → `ID`, `$.X` → `X`),
    /// first-level only, in order of first appearance.
    pub fn field_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        collect_list(&self.root, &mut names);
        for list in self.defined.values() {
            collect_list(list, &mut names);
        }
        names
    }
}

fn collect_list(list: &[Node], out: &mut Vec<String>) {
    for n in list {
        match n {
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
            Node::Action { pipe, .. } => collect_pipe(pipe, out),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                collect_pipe(&b.pipe, out);
                collect_list(&b.list, out);
                if let Some(e) = &b.else_list {
                    collect_list(e, out);
                }
            }
            Node::Template { pipe, .. } => {
                if let Some(p) = pipe {
                    collect_pipe(p, out);
                }
            }
        }
    }
}

fn collect_pipe(pipe: &Pipe, out: &mut Vec<String>) {
    for cmd in &pipe.cmds {
        for arg in &cmd.args {
            collect_arg(arg, out);
        }
    }
}

fn collect_arg(arg: &Arg, out: &mut Vec<String>) {
    let name = match arg {
        Arg::Field { idents, .. } => idents.first(),
        Arg::Variable { idents, .. } if idents[0] == "$" => idents.get(1),
        Arg::Chain { node, .. } => {
            collect_arg(node, out);
            None
        }
        Arg::Pipe(p) => {
            collect_pipe(p, out);
            None
        }
        _ => None,
    };
    if let Some(n) = name {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    fn run(t: &str, data: &Json) -> Result<String, String> {
        let p = Program::parse("t", t)?;
        let mut out = String::new();
        p.execute(Val::Ref(data), &mut out, None)?;
        Ok(out)
    }

    fn ok(t: &str, data: &Json) -> String {
        run(t, data).unwrap_or_else(|e| panic!("{t:?}: {e}"))
    }

    #[test]
    fn fields_and_printing() {
        let d = json!({"ID": "abc", "Names": ["a", "b"], "State": {"Pid": 42, "Running": true},
                       "Labels": {"z": "1", "a": "2"}, "Nil": null, "F": 1.5});
        assert_eq!(ok("{{.ID}}", &d), "abc");
        assert_eq!(ok("{{.State.Pid}}", &d), "42");
        assert_eq!(ok("{{.Names}}", &d), "[a b]");
        assert_eq!(ok("{{.Labels}}", &d), "map[a:2 z:1]");
        assert_eq!(ok("{{.Labels.a}} {{.Labels.nope}}", &d), "2 <no value>");
        assert_eq!(ok("{{.Nil}}", &d), "<nil>");
        assert_eq!(ok("{{.F}}", &d), "1.5");
        assert_eq!(ok("{{.}}", &json!("x")), "x");
        assert_eq!(ok("{{$.ID}}", &d), "abc");
    }

    #[test]
    fn control_structures() {
        let d = json!({"Names": ["a", "b", "c"], "Running": false, "Labels": {"b": "2", "a": "1"}, "N": 0});
        assert_eq!(ok("{{range .Names}}{{.}} {{end}}", &d), "a b c ");
        assert_eq!(
            ok("{{range $i, $n := .Names}}{{$i}}={{$n}},{{end}}", &d),
            "0=a,1=b,2=c,"
        );
        assert_eq!(
            ok("{{range $k, $v := .Labels}}{{$k}}:{{$v}};{{end}}", &d),
            "a:1;b:2;"
        );
        assert_eq!(
            ok("{{range .Missing}}x{{else}}empty{{end}}", &json!({"Missing": []})),
            "empty"
        );
        assert_eq!(ok("{{if .Running}}up{{else}}down{{end}}", &d), "down");
        assert_eq!(ok("{{if .N}}a{{else if .Names}}b{{else}}c{{end}}", &d), "b");
        assert_eq!(ok("{{with .Names}}{{len .}}{{end}}", &d), "3");
        assert_eq!(
            ok("{{with .N}}x{{else with .Names}}{{index . 0}}{{end}}", &d),
            "a"
        );
        assert_eq!(
            ok(
                "{{range .Names}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}",
                &d
            ),
            "a"
        );
        assert_eq!(
            ok(
                "{{range .Names}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}",
                &d
            ),
            "ac"
        );
        assert_eq!(ok("{{range 3}}{{.}}{{end}}", &d), "012");
        assert_eq!(ok("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", &d), "2");
        assert_eq!(ok("{{- /* comment */ -}} a {{- \" b \" -}} c", &d), "a b c");
        assert_eq!(
            ok("{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .N}}", &d),
            "[0]"
        );
        assert_eq!(ok("{{block \"B\" .Names}}{{len .}}{{end}}", &d), "3");
    }

    #[test]
    fn functions_and_pipelines() {
        let d = json!({"Name": "web", "Num": 3, "X": "HeLLo", "Names": ["a", "b"]});
        assert_eq!(ok("{{printf \"%s-%d\" .Name .Num}}", &d), "web-3");
        assert_eq!(ok("{{.X | lower}}", &d), "hello");
        assert_eq!(ok("{{join .Names \",\"}}", &d), "a,b");
        assert_eq!(ok("{{.Name | printf \"%q\"}}", &d), "\"web\"");
        assert_eq!(ok("{{json .Names}}", &d), "[\"a\",\"b\"]");
        assert_eq!(ok("{{(index .Names 1) | upper}}", &d), "B");
        assert_eq!(ok("{{and .Num .Name}} {{or 0 \"\" .X}}", &d), "web HeLLo");
        // and/or short-circuit: the failing call is never made.
        assert_eq!(ok("{{or .Name (index .Names 9)}}", &d), "web");
        assert_eq!(ok("{{not .Num}}", &d), "false");
        assert_eq!(ok("{{len .Name}}", &d), "3");
        assert_eq!(ok("{{.Name | len | printf \"%03d\"}}", &d), "003");
    }

    #[test]
    fn callable_map_fields() {
        let d = json!({"Label": {"app": "web"}});
        assert_eq!(ok("{{.Label \"app\"}}|{{.Label \"nope\"}}", &d), "web|");
    }

    #[test]
    fn execution_errors_read_like_go() {
        let d = json!({"ID": "x", "Names": ["a"], "Nil": null});
        assert_eq!(
            run("{{range .}}{{.Foo}}{{end}}", &json!([{"ID": "x"}])).unwrap_err(),
            "template: t:1:13: executing \"t\" at <.Foo>: can't evaluate field Foo in type struct"
        );
        assert_eq!(
            run("{{.ID.Foo}}", &d).unwrap_err(),
            "template: t:1:5: executing \"t\" at <.ID.Foo>: can't evaluate field Foo in type string"
        );
        assert_eq!(
            run("{{.Nil.Foo}}", &d).unwrap_err(),
            "template: t:1:6: executing \"t\" at <.Nil.Foo>: nil pointer evaluating interface {}.Foo"
        );
        assert_eq!(
            run("x\n {{index .Names 3}}", &d).unwrap_err(),
            "template: t:2:3: executing \"t\" at <index .Names 3>: error calling index: index out of range: 3"
        );
        assert_eq!(
            run("{{lower .Names}}", &d).unwrap_err(),
            "template: t:1:2: executing \"t\" at <lower .Names>: wrong type for value; expected string; got []interface {}"
        );
        assert_eq!(
            run("{{join .Names}}", &d).unwrap_err(),
            "template: t:1:2: executing \"t\" at <join>: wrong number of args for join: want 2 got 1"
        );
        assert_eq!(
            run("{{range .ID}}{{end}}", &d).unwrap_err(),
            "template: t:1:8: executing \"t\" at <{{range .ID}}{{end}}>: range can't iterate over x"
        );
        assert_eq!(
            run("{{template \"nope\"}}", &d).unwrap_err(),
            "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"
        );
    }

    #[test]
    fn header_mode() {
        let p = Program::parse(
            "t",
            "{{.ID}}|{{.State.Pid}}|{{join .Names \",\"}}|{{range .Names}}{{.}}{{end}}",
        )
        .unwrap();
        let hdr = json!({"ID": "IMAGE ID", "State": "STATE", "Names": "NAMES"});
        let mut out = String::new();
        let label = |f: &str| f.to_uppercase();
        p.execute(Val::Ref(&hdr), &mut out, Some(&label)).unwrap();
        assert_eq!(out, "IMAGE ID|PID|NAMES|NAMES");
        assert_eq!(p.field_names(), vec!["ID", "State", "Names"]);
    }
}
