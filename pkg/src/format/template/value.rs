//! Values seen by a running template.
//!
//! Template data is `serde_json::Value`, borrowed wherever possible so that rendering a list of
//! rows clones nothing. Go's typed values are mapped onto JSON kinds as follows:
//!
//! | Go                         | here                                               |
//! |----------------------------|----------------------------------------------------|
//! | invalid `reflect.Value`    | [`Val::Missing`] (a missing map key), prints `<no value>` |
//! | nil pointer / interface    | JSON `null`, prints `<nil>`                        |
//! | bool, string               | JSON bool, string                                  |
//! | int / uint / float64       | JSON number (`i64`/`u64` stay integers)            |
//! | slice                      | JSON array, prints `[a b c]`                       |
//! | map, struct                | JSON object, prints `map[k:v ...]` (keys sorted)   |
//!
//! Objects double as Go structs and maps. An object is *struct-like* when it is non-empty and
//! every key looks like an exported Go field name (`ID`, `CreatedAt`, ...); reading a missing
//! field of a struct-like object is an error ("can't evaluate field"), while a missing key of
//! any other object (labels, annotations: `io.podman.foo`) reads as `<no value>`, as for a Go
//! map.

use std::rc::Rc;

use serde_json::{Map, Number, Value as Json};

#[derive(Clone, Debug)]
pub(crate) enum Val<'a> {
    /// Go's invalid value: the result of reading a missing map key.
    Missing,
    Ref(&'a Json),
    Own(Rc<Json>),
    /// A borrowed list that is not itself stored in a `Json::Array` (the rows handed to render).
    Slice(&'a [Json]),
}

/// A borrowed look at a [`Val`], for matching on its kind.
#[derive(Clone, Copy, Debug)]
pub(crate) enum View<'v> {
    Missing,
    Null,
    Bool(bool),
    Num(&'v Number),
    Str(&'v str),
    Arr(&'v [Json]),
    Obj(&'v Map<String, Json>),
}

pub(crate) fn view_json(j: &Json) -> View<'_> {
    match j {
        Json::Null => View::Null,
        Json::Bool(b) => View::Bool(*b),
        Json::Number(n) => View::Num(n),
        Json::String(s) => View::Str(s),
        Json::Array(a) => View::Arr(a),
        Json::Object(o) => View::Obj(o),
    }
}

impl<'a> Val<'a> {
    pub fn own(j: Json) -> Val<'a> {
        Val::Own(Rc::new(j))
    }

    pub fn str(s: impl Into<String>) -> Val<'a> {
        Val::own(Json::String(s.into()))
    }

    pub fn bool(b: bool) -> Val<'a> {
        Val::own(Json::Bool(b))
    }

    pub fn int(i: i64) -> Val<'a> {
        Val::own(Json::Number(i.into()))
    }

    pub fn view(&self) -> View<'_> {
        match self {
            Val::Missing => View::Missing,
            Val::Ref(j) => view_json(j),
            Val::Own(j) => view_json(j),
            Val::Slice(s) => View::Arr(s),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.view() {
            View::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Converts to an owned JSON value (`Missing` becomes `null`).
    pub fn to_json(&self) -> Json {
        match self {
            Val::Missing => Json::Null,
            Val::Ref(j) => (*j).clone(),
            Val::Own(j) => (**j).clone(),
            Val::Slice(s) => Json::Array(s.to_vec()),
        }
    }

    /// The elements of an array value, borrowing where the value is borrowed.
    pub fn elements(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::Ref(Json::Array(a)) => Some(a.iter().map(Val::Ref).collect()),
            Val::Slice(s) => Some(s.iter().map(Val::Ref).collect()),
            Val::Own(j) => match &**j {
                Json::Array(a) => Some(a.iter().map(|e| Val::own(e.clone())).collect()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The entries of an object value in sorted key order (Go ranges over maps in key order).
    pub fn entries(&self) -> Option<Vec<(String, Val<'a>)>> {
        let mut out: Vec<(String, Val<'a>)> = match self {
            Val::Ref(Json::Object(o)) => o.iter().map(|(k, v)| (k.clone(), Val::Ref(v))).collect(),
            Val::Own(j) => match &**j {
                Json::Object(o) => o.iter().map(|(k, v)| (k.clone(), Val::own(v.clone()))).collect(),
                _ => return None,
            },
            _ => return None,
        };
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    }

    /// Looks up a key of an object value.
    pub fn get(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::Ref(Json::Object(o)) => o.get(key).map(Val::Ref),
            Val::Own(j) => match &**j {
                Json::Object(o) => o.get(key).map(|v| Val::own(v.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    /// Element `i` of an array value.
    pub fn index(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Val::Ref(Json::Array(a)) => a.get(i).map(Val::Ref),
            Val::Slice(s) => s.get(i).map(Val::Ref),
            Val::Own(j) => match &**j {
                Json::Array(a) => a.get(i).map(|v| Val::own(v.clone())),
                _ => None,
            },
            _ => None,
        }
    }

    /// A sub-slice `[lo, hi)` of an array value.
    pub fn slice(&self, lo: usize, hi: usize) -> Option<Val<'a>> {
        match self {
            Val::Ref(Json::Array(a)) => Some(Val::Slice(&a[lo..hi])),
            Val::Slice(s) => Some(Val::Slice(&s[lo..hi])),
            Val::Own(j) => match &**j {
                Json::Array(a) => Some(Val::own(Json::Array(a[lo..hi].to_vec()))),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Go's truth: false, 0, nil, empty string/array/map and missing values are false.
pub(crate) fn is_true(v: &View) -> bool {
    match *v {
        View::Missing | View::Null => false,
        View::Bool(b) => b,
        View::Num(n) => {
            if let Some(i) = n.as_i64() {
                i != 0
            } else if let Some(u) = n.as_u64() {
                u != 0
            } else {
                n.as_f64().is_some_and(|f| f != 0.0)
            }
        }
        View::Str(s) => !s.is_empty(),
        View::Arr(a) => !a.is_empty(),
        View::Obj(o) => !o.is_empty(),
    }
}

/// Whether an object should be treated as a Go struct (see the module documentation).
pub(crate) fn is_struct_like(o: &Map<String, Json>) -> bool {
    !o.is_empty()
        && o.keys().all(|k| {
            let mut chars = k.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Go's name for the type of a value, for error messages and `%!verb(type=value)`.
pub(crate) fn type_name(v: &View) -> &'static str {
    match v {
        View::Missing => "<nil>",
        View::Null => "interface {}",
        View::Bool(_) => "bool",
        View::Num(n) => {
            if n.is_i64() {
                "int"
            } else if n.is_u64() {
                "uint64"
            } else {
                "float64"
            }
        }
        View::Str(_) => "string",
        View::Arr(_) => "[]interface {}",
        View::Obj(o) => {
            if is_struct_like(o) {
                "struct"
            } else {
                "map[string]interface {}"
            }
        }
    }
}
