//! Go `fmt` behaviour needed by templates: `%v` printing of values (`[a b]`, `map[k:v]`,
//! `<nil>`), `fmt.Sprintf`/`Sprint`/`Sprintln`, `strconv.Quote` and Go's float formatting.

use serde_json::Number;

use super::value::{type_name, view_json, Val, View};

/// Go's `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted_char(&mut out, c, '"');
    }
    out.push('"');
    out
}

fn push_quoted_char(out: &mut String, c: char, q: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        c if c == q => {
            out.push('\\');
            out.push(c);
        }
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if is_printable(c) => out.push(c),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

fn is_printable(c: char) -> bool {
    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    c == ' '
        || !(c.is_control()
            || c.is_whitespace()
            || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}'))
}

/// Go's `%#U` form of a rune, e.g. `U+0041 'A'`.
pub(crate) fn unicode_repr(c: char) -> String {
    if is_printable(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

// ---------------------------------------------------------------------------------------------
// Floats

/// Decimal digits of a float: `0.d1d2d3... * 10^dp`, without trailing zeros.
struct Digits {
    neg: bool,
    d: Vec<u8>,
    dp: i32,
}

/// Parses Rust's `{:e}` output (`-1.2345e-7`) into digits.
fn digits_from_exp(s: &str) -> Digits {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    if d.is_empty() {
        return Digits { neg, d, dp: 0 };
    }
    Digits { neg, d, dp: exp + 1 }
}

fn shortest_digits(f: f64) -> Digits {
    digits_from_exp(&format!("{:e}", f))
}

/// Digits rounded to `n` (>= 1) significant digits.
fn precision_digits(f: f64, n: usize) -> Digits {
    digits_from_exp(&format!("{:.*e}", n.max(1) - 1, f))
}

fn fmt_e(out: &mut String, dg: &Digits, prec: usize, upper: bool) {
    if dg.neg {
        out.push('-');
    }
    let first = dg.d.first().copied().unwrap_or(b'0');
    out.push(first as char);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(dg.d.get(i).copied().unwrap_or(b'0') as char);
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if dg.d.is_empty() { 0 } else { dg.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
}

fn fmt_f(out: &mut String, dg: &Digits, prec: usize) {
    if dg.neg {
        out.push('-');
    }
    if dg.dp > 0 {
        for i in 0..dg.dp as usize {
            out.push(dg.d.get(i).copied().unwrap_or(b'0') as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i32 {
            let j = dg.dp + i - 1;
            let c = if j >= 0 {
                dg.d.get(j as usize).copied().unwrap_or(b'0')
            } else {
                b'0'
            };
            out.push(c as char);
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', prec, 64)`; `prec == None` is the shortest form (`%v`).
pub(crate) fn format_float_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    let shortest = prec.is_none();
    let (dg, mut prec) = match prec {
        None => {
            let dg = shortest_digits(f);
            let n = dg.d.len();
            (dg, n)
        }
        Some(p) => {
            let p = p.max(1);
            (precision_digits(f, p), p)
        }
    };
    let nd = dg.d.len();
    let mut eprec = prec as i32;
    if eprec > nd as i32 && nd as i32 >= dg.dp {
        eprec = nd as i32;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dg.dp - 1;
    let mut out = String::new();
    if !dg.d.is_empty() && (exp < -4 || exp >= eprec) {
        if prec > nd {
            prec = nd;
        }
        fmt_e(&mut out, &dg, prec.saturating_sub(1), upper);
        return out;
    }
    if prec as i32 > dg.dp {
        prec = nd;
    }
    fmt_f(&mut out, &dg, (prec as i32 - dg.dp).max(0) as usize);
    out
}

/// Go's `%e` with a precision (default 6).
pub(crate) fn format_float_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    let dg = precision_digits(f, prec + 1);
    let mut out = String::new();
    fmt_e(&mut out, &dg, prec, upper);
    out
}

/// Go's `%f` with a precision (default 6).
pub(crate) fn format_float_f(f: f64, prec: usize) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    format!("{:.*}", prec, f)
}

fn special_float(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf".into() } else { "-Inf".into() })
    } else {
        None
    }
}

/// Go's `encoding/json` float formatting.
pub(crate) fn format_float_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let dg = shortest_digits(f);
        let mut out = String::new();
        fmt_e(&mut out, &dg, dg.d.len().saturating_sub(1), false);
        // Go cleans up e-09 to e-9 (but keeps e+21).
        if let Some(pos) = out.find("e-0") {
            out.remove(pos + 2);
        }
        return out;
    }
    let dg = shortest_digits(f);
    let mut out = String::new();
    fmt_f(&mut out, &dg, (dg.d.len() as i32 - dg.dp).max(0) as usize);
    out
}

fn format_number_v(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_float_g(n.as_f64().unwrap_or(0.0), None, false)
    }
}

// ---------------------------------------------------------------------------------------------
// %v

/// Appends Go's `%v` rendering of a value.
pub(crate) fn write_v(out: &mut String, v: &View) {
    match *v {
        View::Missing => out.push_str("<no value>"),
        View::Null => out.push_str("<nil>"),
        View::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        View::Num(n) => out.push_str(&format_number_v(n)),
        View::Str(s) => out.push_str(s),
        View::Arr(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, &view_json(e));
            }
            out.push(']');
        }
        View::Obj(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, &view_json(&o[k]));
            }
            out.push(']');
        }
    }
}

/// Go's `%v` rendering of a value as a string.
pub(crate) fn to_v(v: &Val) -> String {
    let mut s = String::new();
    write_v(&mut s, &v.view());
    s
}

/// Go's `fmt.Sprint`: operands are formatted with `%v`; a space is added between operands when
/// neither is a string.
pub(crate) fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a.view(), View::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(&mut out, &a.view(), &Spec::plain('v'));
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: operands separated by spaces, newline appended.
pub(crate) fn sprintln(args: &[Val]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(&mut out, &a.view(), &Spec::plain('v'));
    }
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Printf

#[derive(Clone, Default)]
struct Spec {
    verb: char,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    fn plain(verb: char) -> Spec {
        Spec {
            verb,
            ..Default::default()
        }
    }
}

/// Go's `fmt.Sprintf`, including its in-band error notation (`%!d(string=x)`,
/// `%!s(MISSING)`, `%!(EXTRA ...)`).
pub(crate) fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut argn = 0;
    let mut reordered = false;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        // Flags.
        while i < chars.len() {
            match chars[i] {
                '#' => spec.sharp = true,
                '0' => spec.zero = !spec.minus,
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                ' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        // Argument index, width.
        let mut bad_index = false;
        parse_arg_index(
            &chars,
            &mut i,
            &mut argn,
            &mut reordered,
            &mut bad_index,
            args.len(),
        );
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(argn).and_then(|a| int_of(&a.view())) {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            argn += 1;
        } else {
            spec.width = parse_num(&chars, &mut i);
        }
        // Precision.
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            parse_arg_index(
                &chars,
                &mut i,
                &mut argn,
                &mut reordered,
                &mut bad_index,
                args.len(),
            );
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(argn).and_then(|a| int_of(&a.view())) {
                    Some(p) if p >= 0 => spec.prec = Some(p as usize),
                    Some(_) => spec.prec = None,
                    None => out.push_str("%!(BADPREC)"),
                }
                argn += 1;
            } else {
                spec.prec = Some(parse_num(&chars, &mut i).unwrap_or(0));
            }
        }
        parse_arg_index(
            &chars,
            &mut i,
            &mut argn,
            &mut reordered,
            &mut bad_index,
            args.len(),
        );
        if i >= chars.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        spec.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if bad_index {
            out.push_str(&format!("%!{}(BADINDEX)", verb));
            continue;
        }
        let Some(arg) = args.get(argn) else {
            out.push_str(&format!("%!{}(MISSING)", verb));
            continue;
        };
        argn += 1;
        print_arg(&mut out, &arg.view(), &spec);
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            let v = a.view();
            if matches!(v, View::Missing | View::Null) {
                out.push_str("<nil>");
            } else {
                out.push_str(type_name(&v));
                out.push('=');
                print_arg(&mut out, &v, &Spec::plain('v'));
            }
        }
        out.push(')');
    }
    out
}

fn parse_num(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        *i += 1;
    }
    if *i == start {
        return None;
    }
    chars[start..*i].iter().collect::<String>().parse().ok()
}

fn parse_arg_index(
    chars: &[char],
    i: &mut usize,
    argn: &mut usize,
    reordered: &mut bool,
    bad: &mut bool,
    nargs: usize,
) {
    if *i >= chars.len() || chars[*i] != '[' {
        return;
    }
    *reordered = true;
    let Some(close) = chars[*i..].iter().position(|&c| c == ']') else {
        *bad = true;
        return;
    };
    let inner: String = chars[*i + 1..*i + close].iter().collect();
    *i += close + 1;
    match inner.parse::<usize>() {
        Ok(n) if n >= 1 && n <= nargs => *argn = n - 1,
        _ => *bad = true,
    }
}

fn int_of(v: &View) -> Option<i64> {
    match v {
        View::Num(n) => n.as_i64(),
        _ => None,
    }
}

fn bad_verb(out: &mut String, v: &View, verb: char) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    match v {
        View::Missing | View::Null => out.push_str("<nil>"),
        _ => {
            out.push_str(type_name(v));
            out.push('=');
            print_arg(out, v, &Spec::plain('v'));
        }
    }
    out.push(')');
}

/// Pads `s` to the spec's width (counted in characters).
fn pad(out: &mut String, s: &str, spec: &Spec, zero_ok: bool) {
    let len = s.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(s);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && zero_ok {
        // Zero padding goes after the sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &s[1..]),
            _ => (None, s),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn print_arg(out: &mut String, v: &View, spec: &Spec) {
    match *v {
        View::Missing | View::Null => {
            if spec.verb == 'v' {
                pad(out, "<nil>", spec, false);
            } else {
                bad_verb(out, v, spec.verb);
            }
        }
        View::Bool(b) => match spec.verb {
            'v' | 't' => pad(out, if b { "true" } else { "false" }, spec, false),
            _ => bad_verb(out, v, spec.verb),
        },
        View::Num(n) => {
            if let Some(i) = n.as_i64() {
                print_int(out, i as i128, v, spec)
            } else if let Some(u) = n.as_u64() {
                print_int(out, u as i128, v, spec)
            } else {
                print_float(out, n.as_f64().unwrap_or(0.0), v, spec)
            }
        }
        View::Str(s) => print_str(out, s, v, spec),
        View::Arr(a) => {
            if spec.verb == 'T' {
                pad(out, type_name(v), spec, false);
                return;
            }
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_arg(out, &view_json(e), spec);
            }
            out.push(']');
        }
        View::Obj(o) => {
            if spec.verb == 'T' {
                pad(out, type_name(v), spec, false);
                return;
            }
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_arg(out, &View::Str(k), spec);
                out.push(':');
                print_arg(out, &view_json(&o[k]), spec);
            }
            out.push(']');
        }
    }
}

fn sign_prefix(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn print_int(out: &mut String, i: i128, v: &View, spec: &Spec) {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let digits = match spec.verb {
        'v' | 'd' => a.to_string(),
        'b' => format!("{:b}", a),
        'o' | 'O' => format!("{:o}", a),
        'x' => format!("{:x}", a),
        'X' => format!("{:X}", a),
        'c' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            pad(out, &c.to_string(), spec, false);
            return;
        }
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            let mut s = String::from("'");
            push_quoted_char(&mut s, c, '\'');
            s.push('\'');
            pad(out, &s, spec, false);
            return;
        }
        'U' => {
            let mut s = format!("U+{:04X}", a);
            if spec.sharp {
                if let Some(c) = char::from_u32(i as u32) {
                    s.push_str(&format!(" '{}'", c));
                }
            }
            pad(out, &s, spec, false);
            return;
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            bad_verb(out, v, spec.verb);
            return;
        }
        'T' => {
            pad(out, type_name(v), spec, false);
            return;
        }
        _ => {
            bad_verb(out, v, spec.verb);
            return;
        }
    };
    // Precision for integers is the minimum number of digits.
    let digits = match spec.prec {
        Some(0) if a == 0 => String::new(),
        Some(p) if digits.len() < p => format!("{}{}", "0".repeat(p - digits.len()), digits),
        _ => digits,
    };
    let prefix = match (spec.sharp, spec.verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'b') => "0b",
        (true, 'o') if !digits.starts_with('0') => "0",
        (_, 'O') => "0o",
        _ => "",
    };
    let s = format!("{}{}{}", sign_prefix(neg, spec), prefix, digits);
    pad(out, &s, spec, spec.prec.is_none());
}

fn print_float(out: &mut String, f: f64, v: &View, spec: &Spec) {
    let s = match spec.verb {
        'v' => format_float_g(f, spec.prec, false),
        'g' => format_float_g(f, spec.prec, false),
        'G' => format_float_g(f, spec.prec, true),
        'e' => format_float_e(f, spec.prec.unwrap_or(6), false),
        'E' => format_float_e(f, spec.prec.unwrap_or(6), true),
        'f' | 'F' => format_float_f(f, spec.prec.unwrap_or(6)),
        'T' => {
            pad(out, type_name(v), spec, false);
            return;
        }
        _ => {
            bad_verb(out, v, spec.verb);
            return;
        }
    };
    let s = if !s.starts_with('-') && !s.starts_with('+') {
        format!("{}{}", sign_prefix(false, spec), s)
    } else {
        s
    };
    pad(out, &s, spec, true);
}

fn print_str(out: &mut String, s: &str, v: &View, spec: &Spec) {
    let truncated: String;
    let s = match spec.prec {
        Some(p) if matches!(spec.verb, 'v' | 's' | 'q') => {
            truncated = s.chars().take(p).collect();
            truncated.as_str()
        }
        _ => s,
    };
    match spec.verb {
        'v' | 's' => pad(out, s, spec, false),
        'q' => {
            if spec.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
                pad(out, &format!("`{}`", s), spec, false);
            } else {
                pad(out, &quote(s), spec, false);
            }
        }
        'x' | 'X' => {
            let mut h = String::new();
            for (i, b) in s.bytes().enumerate() {
                if spec.space && i > 0 {
                    h.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    h.push_str(if spec.verb == 'x' { "0x" } else { "0X" });
                }
                if spec.verb == 'x' {
                    h.push_str(&format!("{:02x}", b));
                } else {
                    h.push_str(&format!("{:02X}", b));
                }
            }
            pad(out, &h, spec, false);
        }
        'T' => pad(out, type_name(v), spec, false),
        _ => bad_verb(out, v, spec.verb),
    }
}

/// `%v` of a JSON value.
#[cfg(test)]
fn json_v(j: &serde_json::Value) -> String {
    let mut s = String::new();
    write_v(&mut s, &view_json(j));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    fn v(j: Json) -> Val<'static> {
        Val::own(j)
    }

    #[test]
    fn go_float_v() {
        assert_eq!(format_float_g(1.5, None, false), "1.5");
        assert_eq!(format_float_g(100000.0, None, false), "100000");
        assert_eq!(format_float_g(1000000.0, None, false), "1e+06");
        assert_eq!(format_float_g(123456789.0, None, false), "1.23456789e+08");
        assert_eq!(format_float_g(0.0001, None, false), "0.0001");
        assert_eq!(format_float_g(0.00001, None, false), "1e-05");
        assert_eq!(format_float_g(0.0, None, false), "0");
        assert_eq!(format_float_g(-2.5, None, false), "-2.5");
    }

    #[test]
    fn go_float_precision_g() {
        // The cases go-units' HumanSizeWithPrecision relies on.
        assert_eq!(format_float_g(4.2634, Some(3), false), "4.26");
        assert_eq!(format_float_g(4.0, Some(3), false), "4");
        assert_eq!(format_float_g(100.0, Some(3), false), "100");
        assert_eq!(format_float_g(999.5, Some(3), false), "1e+03");
        assert_eq!(format_float_g(1.048576, Some(4), false), "1.049");
        assert_eq!(format_float_g(10000.0, Some(4), false), "1e+04");
        assert_eq!(format_float_g(1048576.0, Some(4), false), "1.049e+06");
    }

    #[test]
    fn go_json_float() {
        assert_eq!(format_float_json(1.5), "1.5");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e20), "100000000000000000000");
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(0.0), "0");
    }

    #[test]
    fn values_print_like_go() {
        assert_eq!(json_v(&json!(["a", "b", "c"])), "[a b c]");
        assert_eq!(json_v(&json!({"b": "2", "a": 1})), "map[a:1 b:2]");
        assert_eq!(json_v(&json!([])), "[]");
        assert_eq!(json_v(&json!({})), "map[]");
        assert_eq!(json_v(&json!(null)), "<nil>");
        assert_eq!(json_v(&json!([null, true, 1.5])), "[<nil> true 1.5]");
    }

    #[test]
    fn printf_verbs() {
        let args = [v(json!("web")), v(json!(3))];
        assert_eq!(sprintf("%s-%d", &args), "web-3");
        assert_eq!(
            sprintf("%-6s|%4d|%04d", &[v(json!("ab")), v(json!(7)), v(json!(-7))]),
            "ab    |   7|-007"
        );
        assert_eq!(sprintf("%.3s", &[v(json!("abcdef"))]), "abc");
        assert_eq!(sprintf("%q", &[v(json!("a\"b"))]), "\"a\\\"b\"");
        assert_eq!(sprintf("%v", &[v(json!(["x", "y"]))]), "[x y]");
        assert_eq!(
            sprintf("%x %X %#x", &[v(json!(255)), v(json!(255)), v(json!(255))]),
            "ff FF 0xff"
        );
        assert_eq!(sprintf("%5.2f%%", &[v(json!(3.25159))]), " 3.25%");
        assert_eq!(sprintf("%t", &[v(json!(true))]), "true");
        assert_eq!(sprintf("%d", &[v(json!("x"))]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[v(json!("x"))]), "x %!s(MISSING)");
        assert_eq!(sprintf("%s", &[v(json!("x")), v(json!(1))]), "x%!(EXTRA int=1)");
        assert_eq!(sprintf("%[2]s %[1]s", &[v(json!("a")), v(json!("b"))]), "b a");
        assert_eq!(sprintf("%s", &[Val::Missing]), "%!s(<nil>)");
        assert_eq!(sprintf("%v", &[Val::Missing]), "<nil>");
        assert_eq!(sprintf("%e", &[v(json!(123456.0))]), "1.234560e+05");
        assert_eq!(sprintf("%c", &[v(json!(65))]), "A");
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(
            sprint(&[v(json!("a")), v(json!(1)), v(json!(2)), v(json!("b"))]),
            "a1 2b"
        );
        assert_eq!(sprintln(&[v(json!("a")), v(json!(1))]), "a 1\n");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\tb\u{1}é"), "\"a\\tb\\x01é\"");
        assert_eq!(unicode_repr('A'), "U+0041 'A'");
    }
}
