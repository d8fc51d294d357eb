//! A file's readable rows, packed: every field of every row in one string, so that holding
//! 2^22 rows costs about the file's size plus 8 bytes a field, not an allocation per field.

use std::fmt;

/// Readable rows of one file, all with the same number of fields, in file order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Rows {
    text: String,
    /// End of each field in `text`, row after row.
    ends: Vec<usize>,
    /// Line number where each row starts.
    lines: Vec<u64>,
    /// Cells (`row * width + column`, ascending) whose bytes were not valid in the file's
    /// encoding: their text holds U+FFFD where bytes could not be read.
    unreadable: Vec<usize>,
    width: usize,
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Rows {
    /// No rows yet; each will have `width` fields.
    pub(crate) fn new(width: usize) -> Self {
        Rows {
            width,
            ..Rows::default()
        }
    }

    /// Appends a row of exactly `width` fields starting at `line`.
    pub(crate) fn push<'f>(&mut self, line: u64, fields: impl IntoIterator<Item = &'f str>) {
        let before = self.ends.len();
        for field in fields {
            self.text.push_str(field);
            self.ends.push(self.text.len());
        }
        debug_assert_eq!(self.ends.len() - before, self.width, "row width");
        self.lines.push(line);
    }

    /// Appends a copy of `row` (of another [`Rows`] of the same width): its line, fields and
    /// unreadable cells.
    pub(crate) fn push_copy(&mut self, row: Row<'_>) {
        self.push(row.line(), row.fields());
        for c in (0..self.width).filter(|&c| row.is_unreadable(c)) {
            self.mark_unreadable(c);
        }
    }

    /// Marks cell `column` of the last row pushed as not readable in the file's encoding.
    pub(crate) fn mark_unreadable(&mut self, column: usize) {
        if let Some(row) = self.len().checked_sub(1) {
            self.unreadable.push(row * self.width + column);
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Row `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<Row<'_>> {
        (i < self.len()).then_some(Row {
            rows: self,
            index: i,
        })
    }

    /// The rows in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        (0..self.len()).map(move |index| Row { rows: self, index })
    }

    /// Removes every row, keeping the capacity (a reader's buffer of one row).
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.lines.clear();
        self.unreadable.clear();
    }

    /// Releases spare capacity (after reading).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.lines.shrink_to_fit();
        self.unreadable.shrink_to_fit();
    }
}

/// One readable row: its line number (1-based, where the row starts) and its fields.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    rows: &'a Rows,
    index: usize,
}

impl<'a> Row<'a> {
    /// Line number of the start of the row in the file (the header is line 1 in CSV).
    pub fn line(&self) -> u64 {
        self.rows.lines[self.index]
    }

    /// Field `column` (by header position), if the row has it.
    pub fn field(&self, column: usize) -> Option<&'a str> {
        if column >= self.rows.width {
            return None;
        }
        let at = self.index * self.rows.width + column;
        let start = if at == 0 { 0 } else { self.rows.ends[at - 1] };
        Some(&self.rows.text[start..self.rows.ends[at]])
    }

    /// True when field `column` held bytes that are not valid in the file's encoding (its
    /// text has U+FFFD in their place).
    pub fn is_unreadable(&self, column: usize) -> bool {
        column < self.rows.width
            && self
                .rows
                .unreadable
                .binary_search(&(self.index * self.rows.width + column))
                .is_ok()
    }

    /// The fields, one per header column.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let row = *self;
        (0..self.rows.width).map(move |c| row.field(c).unwrap_or_default())
    }
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line())
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_give_back_their_fields_and_lines() {
        let mut rows = Rows::new(3);
        rows.push(2, ["a", "", "ccc"]);
        rows.push(5, ["", "é", "x,y"]);
        assert_eq!(rows.len(), 2);
        let r0 = rows.get(0).expect("row 0");
        assert_eq!(r0.line(), 2);
        assert_eq!(r0.fields().collect::<Vec<_>>(), ["a", "", "ccc"]);
        let r1 = rows.get(1).expect("row 1");
        assert_eq!(r1.line(), 5);
        assert_eq!(r1.fields().collect::<Vec<_>>(), ["", "é", "x,y"]);
        assert_eq!(r1.field(3), None);
        assert!(!r0.is_unreadable(1));
        rows.push(6, ["\u{FFFD}", "b", "c"]);
        rows.mark_unreadable(0);
        let r2 = rows.get(2).expect("row 2");
        assert!(r2.is_unreadable(0) && !r2.is_unreadable(1));
        assert!(!rows.get(1).expect("row 1").is_unreadable(0));
        assert!(rows.get(3).is_none());
        assert_eq!(rows.iter().map(|r| r.line()).collect::<Vec<_>>(), [2, 5, 6]);
    }
}
