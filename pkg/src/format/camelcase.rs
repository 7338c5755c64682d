//! Camel-case splitting for table headers, with the rules of containers/common
//! `report/camelcase`: `CreatedAt` → `Created At`, `PDFLoader` → `PDF Loader`, `GL11Version` →
//! `GL 11 Version`.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Lower,
    Upper,
    Digit,
    Other,
}

fn class(c: char) -> Class {
    if c.is_lowercase() {
        Class::Lower
    } else if c.is_uppercase() {
        Class::Upper
    } else if c.is_numeric() {
        Class::Digit
    } else {
        Class::Other
    }
}

/// Splits a camel-case word into its words.
pub fn split(src: &str) -> Vec<String> {
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last: Option<Class> = None;
    for c in src.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if last == Some(k) => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = Some(k);
    }
    // Upper-case run followed by a lower-case run: the last upper-case letter starts the next
    // word ("PDFL" "oader" -> "PDF" "Loader").
    for i in 0..runs.len().saturating_sub(1) {
        let upper_then_lower = runs[i].first().is_some_and(|c| c.is_uppercase())
            && runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper_then_lower {
            if let Some(c) = runs[i].pop() {
                runs[i + 1].insert(0, c);
            }
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

/// Podman's default column header for a field: camel-case words, upper-cased, joined by spaces.
pub fn header(field: &str) -> String {
    split(field).join(" ").to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_containers_common() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("lowercase", &["lowercase"]),
            ("Class", &["Class"]),
            ("MyClass", &["My", "Class"]),
            ("MyC", &["My", "C"]),
            ("HTML", &["HTML"]),
            ("PDFLoader", &["PDF", "Loader"]),
            ("AString", &["A", "String"]),
            ("SimpleXMLParser", &["Simple", "XML", "Parser"]),
            ("vimRPCPlugin", &["vim", "RPC", "Plugin"]),
            ("GL11Version", &["GL", "11", "Version"]),
            ("99Bottles", &["99", "Bottles"]),
            ("May5", &["May", "5"]),
            ("BFG9000", &["BFG", "9000"]),
            ("BöseÜberraschung", &["Böse", "Überraschung"]),
            ("Two  spaces", &["Two", "  ", "spaces"]),
        ];
        for (input, want) in cases {
            assert_eq!(split(input), *want, "{input:?}");
        }
    }

    #[test]
    fn headers() {
        assert_eq!(header("CreatedAt"), "CREATED AT");
        assert_eq!(header("ID"), "ID");
        assert_eq!(header("Repository"), "REPOSITORY");
        assert_eq!(header("FieldA"), "FIELD A");
        assert_eq!(header("Fieldb"), "FIELDB");
        assert_eq!(header("fieldC"), "FIELD C");
    }
}
