//! Template functions: Go's `text/template` builtins plus the functions Podman adds
//! (containers/common `report.DefaultFuncs`: `join`, `json`, `lower`, `pad`, `split`, `title`,
//! `truncate`, `upper`). `and`/`or` short-circuit and live in the executor.

use serde_json::Value as Json;

use super::fmt::{sprint, sprintf, sprintln, to_v};
use super::value::{is_struct_like, is_true, type_name, Val, View};

/// Why a function failed.
#[derive(Debug)]
pub(crate) enum FuncErr {
    /// The function ran and failed: reported as `error calling NAME: MSG`.
    Call(String),
    /// An argument has the wrong type: reported as is (Go's `validateType` wording).
    Type(String),
}

pub(crate) type FuncResult<'a> = Result<Val<'a>, FuncErr>;

/// Arity of a function: a fixed count, or a minimum for variadic functions.
#[derive(Clone, Copy)]
pub(crate) enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

/// The names and arities of all functions (and `and`/`or`, which the executor special-cases).
pub(crate) const FUNCS: &[(&str, Arity)] = &[
    ("and", Arity::AtLeast(1)),
    ("or", Arity::AtLeast(1)),
    ("call", Arity::AtLeast(1)),
    ("html", Arity::AtLeast(0)),
    ("index", Arity::AtLeast(1)),
    ("slice", Arity::AtLeast(1)),
    ("js", Arity::AtLeast(0)),
    ("len", Arity::Exactly(1)),
    ("not", Arity::Exactly(1)),
    ("print", Arity::AtLeast(0)),
    ("printf", Arity::AtLeast(1)),
    ("println", Arity::AtLeast(0)),
    ("urlquery", Arity::AtLeast(0)),
    ("eq", Arity::AtLeast(1)),
    ("ge", Arity::Exactly(2)),
    ("gt", Arity::Exactly(2)),
    ("le", Arity::Exactly(2)),
    ("lt", Arity::Exactly(2)),
    ("ne", Arity::Exactly(2)),
    // Podman's additions.
    ("join", Arity::Exactly(2)),
    ("json", Arity::Exactly(1)),
    ("lower", Arity::Exactly(1)),
    ("pad", Arity::Exactly(3)),
    ("split", Arity::Exactly(2)),
    ("title", Arity::Exactly(1)),
    ("truncate", Arity::Exactly(2)),
    ("upper", Arity::Exactly(1)),
];

pub(crate) fn arity(name: &str) -> Option<Arity> {
    FUNCS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// Calls function `name` (not `and`/`or`) with evaluated arguments.
pub(crate) fn call<'a>(name: &str, args: &[Val<'a>]) -> FuncResult<'a> {
    match name {
        "call" => call_fn(args),
        "html" => Ok(Val::str(html_escape(&eval_args(args)))),
        "js" => Ok(Val::str(js_escape(&eval_args(args)))),
        "urlquery" => Ok(Val::str(query_escape(&eval_args(args)))),
        "index" => index(args),
        "slice" => slice(args),
        "len" => len(&args[0]),
        "not" => Ok(Val::bool(!is_true(&args[0].view()))),
        "print" => Ok(Val::str(sprint(args))),
        "printf" => {
            let f = want_string(&args[0])?;
            Ok(Val::str(sprintf(f, &args[1..])))
        }
        "println" => Ok(Val::str(sprintln(args))),
        "eq" => eq(args).map(Val::bool),
        "ne" => eq(args).map(|b| Val::bool(!b)),
        "lt" => lt(&args[0], &args[1]).map(Val::bool),
        "le" => le(&args[0], &args[1]).map(Val::bool),
        "gt" => le(&args[0], &args[1]).map(|b| Val::bool(!b)),
        "ge" => lt(&args[0], &args[1]).map(|b| Val::bool(!b)),
        "join" => join(&args[0], &args[1]),
        "json" => Ok(Val::str(crate::format::json::to_go_json(
            &args[0].to_json(),
            None,
            false,
        ))),
        "lower" => Ok(Val::str(want_string(&args[0])?.to_lowercase())),
        "upper" => Ok(Val::str(want_string(&args[0])?.to_uppercase())),
        "title" => Ok(Val::str(title(want_string(&args[0])?))),
        "pad" => {
            let s = want_string(&args[0])?;
            let (pre, suf) = (want_int(&args[1])?, want_int(&args[2])?);
            if s.is_empty() {
                return Ok(Val::str(""));
            }
            let n = |i: i64| " ".repeat(i.max(0) as usize);
            Ok(Val::str(format!("{}{}{}", n(pre), s, n(suf))))
        }
        "split" => {
            let (s, sep) = (want_string(&args[0])?, want_string(&args[1])?);
            let parts: Vec<Json> = if sep.is_empty() {
                s.chars().map(|c| Json::String(c.to_string())).collect()
            } else {
                s.split(sep).map(|p| Json::String(p.to_string())).collect()
            };
            Ok(Val::own(Json::Array(parts)))
        }
        "truncate" => {
            let s = want_string(&args[0])?;
            let n = want_int(&args[1])?;
            if n < 0 {
                return Err(FuncErr::Call(format!("slice bounds out of range [:{}]", n)));
            }
            let n = n as usize;
            if s.len() < n {
                return Ok(Val::str(s));
            }
            // Go slices bytes; never split a character here.
            let mut end = n;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Ok(Val::str(&s[..end]))
        }
        _ => Err(FuncErr::Call(format!("function {:?} not implemented", name))),
    }
}

fn wrong_type(expected: &str, v: &Val) -> FuncErr {
    match v.view() {
        View::Missing => FuncErr::Type(format!("invalid value; expected {}", expected)),
        view => FuncErr::Type(format!(
            "wrong type for value; expected {}; got {}",
            expected,
            type_name(&view)
        )),
    }
}

fn want_string<'v>(v: &'v Val) -> Result<&'v str, FuncErr> {
    v.as_str().ok_or_else(|| wrong_type("string", v))
}

fn want_int(v: &Val) -> Result<i64, FuncErr> {
    match v.view() {
        View::Num(n) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        _ => Err(wrong_type("int", v)),
    }
}

fn call_fn<'a>(args: &[Val<'a>]) -> FuncResult<'a> {
    match args[0].view() {
        View::Missing | View::Null => Err(FuncErr::Call("call of nil".into())),
        v => Err(FuncErr::Call(format!("non-function of type {}", type_name(&v)))),
    }
}

/// Go's `evalArgs`: a single string argument is used as is, otherwise `fmt.Sprint`.
fn eval_args(args: &[Val]) -> String {
    if let [a] = args {
        if let Some(s) = a.as_str() {
            return s.to_string();
        }
    }
    sprint(args)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{fffd}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{:02X}", b)),
        }
    }
    out
}

fn index_arg(v: &Val, cap: usize) -> Result<usize, FuncErr> {
    let x = match v.view() {
        View::Num(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
        View::Missing | View::Null => return Err(FuncErr::Call("cannot index slice/array with nil".into())),
        view => {
            return Err(FuncErr::Call(format!(
                "cannot index slice/array with type {}",
                type_name(&view)
            )));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(FuncErr::Call(format!("index out of range: {}", x)));
    }
    Ok(x as usize)
}

fn index<'a>(args: &[Val<'a>]) -> FuncResult<'a> {
    let mut v = args[0].clone();
    if matches!(v.view(), View::Missing) {
        return Err(FuncErr::Call("index of untyped nil".into()));
    }
    for i in &args[1..] {
        v = match v.view() {
            View::Arr(a) => {
                let x = index_arg(i, a.len())?;
                if x >= a.len() {
                    return Err(FuncErr::Call(format!("index out of range: {}", x)));
                }
                v.index(x).unwrap_or(Val::Missing)
            }
            View::Str(s) => {
                let x = index_arg(i, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Val::int(*b as i64),
                    None => return Err(FuncErr::Call(format!("index out of range: {}", x))),
                }
            }
            View::Obj(_) => match i.view() {
                // A missing key reads as the zero value of Podman's map[string]string.
                View::Str(k) => v.get(k).unwrap_or_else(|| Val::str("")),
                View::Missing | View::Null => Val::str(""),
                view => {
                    return Err(FuncErr::Call(format!(
                        "value has type {}; should be string",
                        type_name(&view)
                    )));
                }
            },
            View::Null | View::Missing => return Err(FuncErr::Call("index of nil pointer".into())),
            view => {
                return Err(FuncErr::Call(format!(
                    "can't index item of type {}",
                    type_name(&view)
                )));
            }
        };
    }
    Ok(v)
}

fn slice<'a>(args: &[Val<'a>]) -> FuncResult<'a> {
    let item = &args[0];
    let idx = &args[1..];
    if matches!(item.view(), View::Missing | View::Null) {
        return Err(FuncErr::Call("slice of untyped nil".into()));
    }
    if idx.len() > 3 {
        return Err(FuncErr::Call(format!("too many slice indexes: {}", idx.len())));
    }
    let len = match item.view() {
        View::Str(s) => {
            if idx.len() == 3 {
                return Err(FuncErr::Call("cannot 3-index slice a string".into()));
            }
            s.len()
        }
        View::Arr(a) => a.len(),
        view => {
            return Err(FuncErr::Call(format!(
                "can't slice item of type {}",
                type_name(&view)
            )))
        }
    };
    let mut bounds = [0, len, len];
    for (k, i) in idx.iter().enumerate() {
        bounds[k] = index_arg(i, len)?;
    }
    if bounds[0] > bounds[1] {
        return Err(FuncErr::Call(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        )));
    }
    if idx.len() == 3 && bounds[1] > bounds[2] {
        return Err(FuncErr::Call(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        )));
    }
    match item.view() {
        View::Str(s) => match s.get(bounds[0]..bounds[1]) {
            Some(sub) => Ok(Val::str(sub)),
            None => Err(FuncErr::Call("slice splits a multi-byte character".into())),
        },
        _ => Ok(item.slice(bounds[0], bounds[1]).unwrap_or(Val::Missing)),
    }
}

fn len<'a>(v: &Val<'a>) -> FuncResult<'a> {
    let n = match v.view() {
        View::Str(s) => s.len(),
        View::Arr(a) => a.len(),
        View::Obj(o) => o.len(),
        // JSON null stands for Go's nil slices and maps.
        View::Null => 0,
        View::Missing => return Err(FuncErr::Call("len of untyped nil".into())),
        view => return Err(FuncErr::Call(format!("len of type {}", type_name(&view)))),
    };
    Ok(Val::int(n as i64))
}

#[derive(PartialEq)]
enum Basic<'v> {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'v str),
    Nil,
    Other,
}

fn basic<'v>(v: &'v View<'v>) -> Basic<'v> {
    match *v {
        View::Bool(b) => Basic::Bool(b),
        View::Num(n) => {
            if let Some(i) = n.as_i64() {
                Basic::Int(i as i128)
            } else if let Some(u) = n.as_u64() {
                Basic::Int(u as i128)
            } else {
                Basic::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        View::Str(s) => Basic::Str(s),
        View::Missing | View::Null => Basic::Nil,
        View::Arr(_) | View::Obj(_) => Basic::Other,
    }
}

const INCOMPATIBLE: &str = "incompatible types for comparison";

fn uncomparable(v: &View) -> FuncErr {
    let mut s = String::new();
    super::fmt::write_v(&mut s, v);
    FuncErr::Call(format!("uncomparable type {}: {}", type_name(v), s))
}

/// Go's `eq`: `arg1 == arg2 || arg1 == arg3 || ...`. Integers and floats compare numerically;
/// nil (JSON null, missing values) equals only nil.
fn eq(args: &[Val]) -> Result<bool, FuncErr> {
    let v1 = args[0].view();
    if matches!(v1, View::Arr(_)) || matches!(v1, View::Obj(o) if !is_struct_like(o)) {
        return Err(uncomparable(&v1));
    }
    if args.len() < 2 {
        return Err(FuncErr::Call("missing argument for comparison".into()));
    }
    let b1 = basic(&v1);
    for a in &args[1..] {
        let v2 = a.view();
        let b2 = basic(&v2);
        let truth = match (&b1, &b2) {
            (Basic::Bool(x), Basic::Bool(y)) => x == y,
            (Basic::Int(x), Basic::Int(y)) => x == y,
            (Basic::Float(x), Basic::Float(y)) => x == y,
            (Basic::Int(x), Basic::Float(y)) | (Basic::Float(y), Basic::Int(x)) => *x as f64 == *y,
            (Basic::Str(x), Basic::Str(y)) => x == y,
            (Basic::Nil, Basic::Nil) => true,
            (Basic::Nil, _) | (_, Basic::Nil) => false,
            (Basic::Other, Basic::Other) => {
                if matches!(v2, View::Arr(_)) || matches!(v2, View::Obj(o) if !is_struct_like(o)) {
                    return Err(uncomparable(&v2));
                }
                args[0].to_json() == a.to_json()
            }
            _ => return Err(FuncErr::Call(INCOMPATIBLE.into())),
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Val, b: &Val) -> Result<bool, FuncErr> {
    let (va, vb) = (a.view(), b.view());
    let (x, y) = (basic(&va), basic(&vb));
    let bad_type = || FuncErr::Call("invalid type for comparison".into());
    Ok(match (x, y) {
        (Basic::Bool(_), _) | (_, Basic::Bool(_)) => return Err(bad_type()),
        (Basic::Other | Basic::Nil, _) | (_, Basic::Other | Basic::Nil) => return Err(bad_type()),
        (Basic::Int(x), Basic::Int(y)) => x < y,
        (Basic::Float(x), Basic::Float(y)) => x < y,
        (Basic::Int(x), Basic::Float(y)) => (x as f64) < y,
        (Basic::Float(x), Basic::Int(y)) => x < y as f64,
        (Basic::Str(x), Basic::Str(y)) => x < y,
        _ => return Err(FuncErr::Call(INCOMPATIBLE.into())),
    })
}

fn le(a: &Val, b: &Val) -> Result<bool, FuncErr> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(&[a.clone(), b.clone()])
}

fn join<'a>(list: &Val<'a>, sep: &Val<'a>) -> FuncResult<'a> {
    let sep = want_string(sep)?;
    let View::Arr(items) = list.view() else {
        return Err(wrong_type("[]string", list));
    };
    let mut out = String::new();
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match e {
            Json::String(s) => out.push_str(s),
            other => out.push_str(&to_v(&Val::Ref(other))),
        }
    }
    Ok(Val::str(out))
}

/// Go's deprecated `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            c.is_whitespace()
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: Json) -> Val<'static> {
        Val::own(j)
    }

    fn s(r: FuncResult) -> String {
        to_v(&r.unwrap())
    }

    #[test]
    fn podman_funcs() {
        assert_eq!(s(call("join", &[v(json!(["a", "b"])), v(json!(","))])), "a,b");
        assert_eq!(s(call("lower", &[v(json!("ABC"))])), "abc");
        assert_eq!(s(call("upper", &[v(json!("abc"))])), "ABC");
        assert_eq!(
            s(call("title", &[v(json!("hello wORLD foo-bar"))])),
            "Hello WORLD Foo-Bar"
        );
        assert_eq!(s(call("pad", &[v(json!("x")), v(json!(2)), v(json!(1))])), "  x ");
        assert_eq!(s(call("pad", &[v(json!("")), v(json!(2)), v(json!(1))])), "");
        assert_eq!(s(call("split", &[v(json!("a:b:c")), v(json!(":"))])), "[a b c]");
        assert_eq!(s(call("truncate", &[v(json!("abcdef")), v(json!(3))])), "abc");
        assert_eq!(s(call("truncate", &[v(json!("ab")), v(json!(3))])), "ab");
        assert_eq!(
            s(call("json", &[v(json!({"b": [1, "<x>"], "a": null}))])),
            r#"{"a":null,"b":[1,"<x>"]}"#
        );
    }

    #[test]
    fn builtins() {
        assert_eq!(s(call("len", &[v(json!([1, 2, 3]))])), "3");
        assert_eq!(s(call("index", &[v(json!(["a", "b"])), v(json!(1))])), "b");
        assert_eq!(s(call("index", &[v(json!({"k": "v"})), v(json!("k"))])), "v");
        assert_eq!(s(call("index", &[v(json!({"k": "v"})), v(json!("nope"))])), "");
        assert_eq!(
            s(call("slice", &[v(json!("abcdef")), v(json!(1)), v(json!(3))])),
            "bc"
        );
        assert_eq!(s(call("slice", &[v(json!([1, 2, 3])), v(json!(1))])), "[2 3]");
        assert_eq!(s(call("eq", &[v(json!(1)), v(json!(2)), v(json!(1))])), "true");
        assert_eq!(s(call("ne", &[v(json!("a")), v(json!("a"))])), "false");
        assert_eq!(s(call("lt", &[v(json!(1)), v(json!(2.5))])), "true");
        assert_eq!(s(call("ge", &[v(json!("b")), v(json!("a"))])), "true");
        assert_eq!(
            s(call("html", &[v(json!("<a href='x'>"))])),
            "&lt;a href=&#39;x&#39;&gt;"
        );
        assert_eq!(s(call("urlquery", &[v(json!("a b&c"))])), "a+b%26c");
        assert_eq!(s(call("js", &[v(json!("it's <x>"))])), "it\\'s \\u003Cx\\u003E");
    }

    #[test]
    fn errors() {
        let e = |r: FuncResult| match r {
            Err(FuncErr::Call(m)) | Err(FuncErr::Type(m)) => m,
            Ok(_) => panic!("no error"),
        };
        assert_eq!(
            e(call("eq", &[v(json!(1)), v(json!("1"))])),
            "incompatible types for comparison"
        );
        assert_eq!(
            e(call("join", &[v(json!("x")), v(json!(","))])),
            "wrong type for value; expected []string; got string"
        );
        assert_eq!(
            e(call("lower", &[v(json!(3))])),
            "wrong type for value; expected string; got int"
        );
        assert_eq!(
            e(call("index", &[v(json!([1])), v(json!(5))])),
            "index out of range: 5"
        );
        assert_eq!(e(call("len", &[v(json!(3))])), "len of type int");
    }
}
