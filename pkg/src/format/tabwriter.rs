//! Go's `text/tabwriter` elastic tabstops, which Podman runs its table output through.
//!
//! Cells are terminated by `\t` (or `\v`); tab-terminated cells in adjacent lines form a column,
//! padded to the widest cell plus `padding` (at least `minwidth`). The text after the last tab
//! of a line is not part of a column. A line with no tab at all ends every column block (Go
//! flushes there), so alignment restarts after it. Widths count characters, not bytes.

/// Tabwriter settings, as the arguments of Go's `tabwriter.NewWriter`.
#[derive(Clone, Copy, Debug)]
pub struct TabWriter {
    pub minwidth: usize,
    pub tabwidth: usize,
    pub padding: usize,
    pub padchar: char,
    /// `tabwriter.AlignRight`.
    pub align_right: bool,
    /// `tabwriter.DiscardEmptyColumns`.
    pub discard_empty_columns: bool,
    /// `tabwriter.Debug`: a `|` between columns.
    pub debug: bool,
}

impl TabWriter {
    /// Podman's settings (containers/common `report`): `NewWriter(w, 12, 2, 2, ' ', 0)`.
    pub const PODMAN: TabWriter = TabWriter {
        minwidth: 12,
        tabwidth: 2,
        padding: 2,
        padchar: ' ',
        align_right: false,
        discard_empty_columns: false,
        debug: false,
    };

    /// Aligns `input` and returns the result.
    pub fn format(&self, input: &str) -> String {
        let mut st = Fmt {
            cfg: self,
            out: String::with_capacity(input.len() * 2),
            lines: vec![Vec::new()],
            widths: Vec::new(),
        };
        let mut cell = Cell::default();
        let mut text_start = 0;
        for (i, b) in input.bytes().enumerate() {
            if !matches!(b, b'\t' | 0x0b | b'\n' | 0x0c) {
                continue;
            }
            let text = &input[text_start..i];
            cell.text_end = i;
            cell.width = text.chars().count();
            cell.text_start = text_start;
            cell.htab = b == b'\t';
            text_start = i + 1;
            let line = st.lines.last_mut().expect("at least one line");
            line.push(std::mem::take(&mut cell));
            let ncells = line.len();
            if b == b'\n' || b == 0x0c {
                st.lines.push(Vec::new());
                if b == 0x0c || ncells == 1 {
                    // A line with a single cell has no effect on the columns: flush.
                    st.flush(input);
                }
            }
        }
        if text_start < input.len() {
            let text = &input[text_start..];
            let line = st.lines.last_mut().expect("at least one line");
            line.push(Cell {
                text_start,
                text_end: input.len(),
                width: text.chars().count(),
                htab: false,
            });
        }
        st.flush(input);
        st.out
    }
}

#[derive(Default, Clone, Copy)]
struct Cell {
    text_start: usize,
    text_end: usize,
    width: usize,
    htab: bool,
}

struct Fmt<'c> {
    cfg: &'c TabWriter,
    out: String,
    lines: Vec<Vec<Cell>>,
    widths: Vec<usize>,
}

impl Fmt<'_> {
    fn flush(&mut self, input: &str) {
        let n = self.lines.len();
        self.format(input, 0, n);
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
    }

    fn write_padding(&mut self, textw: usize, cellw: usize, use_tabs: bool) {
        if self.cfg.padchar == '\t' || use_tabs {
            if self.cfg.tabwidth == 0 {
                return;
            }
            let tw = self.cfg.tabwidth;
            let cellw = cellw.div_ceil(tw) * tw;
            let n = cellw.saturating_sub(textw);
            self.out.extend(std::iter::repeat_n('\t', n.div_ceil(tw)));
            return;
        }
        self.out
            .extend(std::iter::repeat_n(self.cfg.padchar, cellw.saturating_sub(textw)));
    }

    fn write_lines(&mut self, input: &str, line0: usize, line1: usize) {
        for i in line0..line1 {
            let line = std::mem::take(&mut self.lines[i]);
            let mut use_tabs = false;
            for (j, c) in line.iter().enumerate() {
                if j > 0 && self.cfg.debug {
                    self.out.push('|');
                }
                let text = &input[c.text_start..c.text_end];
                if text.is_empty() {
                    if j < self.widths.len() {
                        self.write_padding(c.width, self.widths[j], use_tabs);
                    }
                } else {
                    use_tabs = false;
                    if !self.cfg.align_right {
                        self.out.push_str(text);
                        if j < self.widths.len() {
                            self.write_padding(c.width, self.widths[j], false);
                        }
                    } else {
                        if j < self.widths.len() {
                            self.write_padding(c.width, self.widths[j], false);
                        }
                        self.out.push_str(text);
                    }
                }
            }
            self.lines[i] = line;
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }

    fn format(&mut self, input: &str, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if self.lines[this].len() > column + 1 {
                // A cell exists in this column: this line has more cells than the previous.
                self.write_lines(input, line0, this);
                line0 = this;
                let mut width = self.cfg.minwidth;
                let mut discardable = true;
                while this < line1 {
                    let line = &self.lines[this];
                    if line.len() <= column + 1 {
                        break;
                    }
                    let c = line[column];
                    width = width.max(c.width + self.cfg.padding);
                    if c.width > 0 || c.htab {
                        discardable = false;
                    }
                    this += 1;
                }
                if discardable && self.cfg.discard_empty_columns {
                    width = 0;
                }
                self.widths.push(width);
                self.format(input, line0, this);
                self.widths.pop();
                line0 = this;
            }
            this += 1;
        }
        self.write_lines(input, line0, line1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_alignment() {
        // From containers/common report tests.
        let out = TabWriter::PODMAN.format(
            "Identity\tValue\nc061a0839e\tone\nf10fc2e11057\ttwo\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n",
        );
        assert_eq!(
            out,
            "Identity                          Value\nc061a0839e                        one\nf10fc2e11057                      two\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n"
        );
    }

    #[test]
    fn single_cell_lines_restart_alignment() {
        let out = TabWriter::PODMAN.format("Value\tIdent\nIdentity\tID\nValue\tIdent\nc061a0839e\tIDf10fc2e11057\tID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tID");
        assert_eq!(
            out,
            "Value       Ident\nIdentity    ID\nValue       Ident\nc061a0839e  IDf10fc2e11057  ID1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  ID"
        );
        assert_eq!(
            TabWriter::PODMAN.format("a\tb\nno tabs\nccccccccccccccc\td\n"),
            "a           b\nno tabs\nccccccccccccccc  d\n"
        );
    }

    #[test]
    fn minwidth_and_unicode() {
        assert_eq!(TabWriter::PODMAN.format("ID\tX\n"), "ID          X\n");
        assert_eq!(
            TabWriter::PODMAN.format("ééé\tx\nab\ty\n"),
            "ééé         x\nab          y\n"
        );
    }

    #[test]
    fn debug_and_right_align() {
        let tw = TabWriter {
            minwidth: 0,
            tabwidth: 8,
            padding: 1,
            padchar: '.',
            align_right: true,
            discard_empty_columns: false,
            debug: true,
        };
        assert_eq!(tw.format("a\tbbb\tc\naa\tb\tc\n"), "..a|.bbb|c\n.aa|...b|c\n");
    }
}
