//! Reads the tables Podman prints (`images`, `history`, `ps`) and checks their alignment.
//!
//! Podman lays tables out with Go's `text/tabwriter`, minwidth 12 and padding 2 (its `report` package):
//! every column but the last is exactly `max(12, widest cell + 2)` characters wide, header included.
//! [`Table::parse`] finds the columns from the header names and asserts that rule for every row.

/// Go tabwriter settings Podman uses for its tables.
pub const MIN_WIDTH: usize = 12;
pub const PADDING: usize = 2;

/// A parsed table: header names and rows of trimmed cells.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parses `text` whose first line holds `headers` in order, asserting Podman's column layout.
    #[track_caller]
    pub fn parse(text: &str, headers: &[&str]) -> Table {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "no table header in:\n{text}");
        let header = lines[0];
        let mut offsets = Vec::new();
        let mut from = 0;
        for name in headers {
            let at = header[from..]
                .find(name)
                .unwrap_or_else(|| panic!("header {name:?} missing from {header:?}"))
                + from;
            offsets.push(at);
            from = at + name.len();
        }
        assert_eq!(offsets[0], 0, "the first header must start the line: {header:?}");
        let cells = |line: &str| -> Vec<String> {
            (0..offsets.len())
                .map(|i| {
                    let start = offsets[i].min(line.len());
                    let end = if i + 1 < offsets.len() {
                        offsets[i + 1].min(line.len())
                    } else {
                        line.len()
                    };
                    line[start..end].trim_end().to_string()
                })
                .collect()
        };
        let all: Vec<Vec<String>> = lines.iter().map(|l| cells(l)).collect();
        assert_eq!(
            all[0],
            headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            "header cells of {header:?}"
        );
        for i in 0..offsets.len() - 1 {
            let width = offsets[i + 1] - offsets[i];
            let widest = all.iter().map(|row| row[i].len()).max().unwrap_or(0);
            assert_eq!(
                width,
                (widest + PADDING).max(MIN_WIDTH),
                "column {:?} should be max({MIN_WIDTH}, widest cell {widest} + {PADDING}) wide in:\n{text}",
                headers[i]
            );
            for line in &lines {
                assert!(
                    line.len() <= offsets[i + 1] || line.as_bytes()[offsets[i + 1] - 1] == b' ',
                    "a cell runs into column {:?} in line {line:?}",
                    headers[i + 1]
                );
            }
        }
        Table {
            headers: all[0].clone(),
            rows: all[1..].to_vec(),
        }
    }

    /// The cells of column `name`, top to bottom.
    #[track_caller]
    pub fn column(&self, name: &str) -> Vec<String> {
        let i = self
            .headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.headers));
        self.rows.iter().map(|r| r[i].clone()).collect()
    }
}
