//! The reports as plain text: the tables and lines the CLI prints, and that any front end
//! showing text (a terminal, the Python package's `repr`) shows the same way. Built from the
//! report values only, with the number forms of [`crate::human`].

pub mod cost;
pub mod estimate;
pub mod fleet;
pub mod lifecycle;
pub mod model;
pub mod prices;
pub mod search;
pub mod simulate;

use std::fmt::Write as _;

/// Column alignment in a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Cells start at the column's left edge.
    Left,
    /// Cells end at the column's right edge (numbers).
    Right,
}

/// A plain-text table: a header row, then rows, columns separated by two spaces.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as `(header, alignment)`.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of cells, one per column.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table with a trailing newline; every line indented by `indent` spaces.
    pub fn render(&self, indent: usize) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|(h, _)| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(width(cell));
                }
            }
        }
        let headers: Vec<String> = self.headers.iter().map(|(h, _)| h.clone()).collect();
        let mut out = String::new();
        for row in std::iter::once(&headers).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (i, cell) in row.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                let align = self.headers.get(i).map_or(Align::Left, |h| h.1);
                let pad = " ".repeat(w.saturating_sub(width(cell)));
                if i > 0 {
                    line.push_str("  ");
                }
                match align {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&[("name", Align::Left), ("value", Align::Right)]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["long".into(), "1,000".into()]);
        assert_eq!(t.render(0), "name  value\na         1\nlong  1,000\n");
    }
}
