//! Line typing: a line split into its fields and each field typed against the header, with
//! values borrowed from the line and the parser's buffers reused from line to line.

use super::header::{Column, Header};
use crate::format::FieldType;

/// A typed value borrowed from its line. Absent values (`-`) are `None` at the accessor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Int(i64),
    Str(&'a str),
}

impl<'a> Value<'a> {
    pub fn as_int(self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(i),
            Value::Str(_) => None,
        }
    }
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Int(_) => None,
        }
    }
}

/// Why one line was skipped.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    #[error("{found} fields where the header names {expected}")]
    FieldCount { expected: usize, found: usize },
    #[error("field `{field}` is not a valid {kind}: `{value}`")]
    BadNumber {
        field: String,
        kind: FieldType,
        value: String,
    },
    #[error("the line is not valid UTF-8")]
    NotUtf8,
}

/// A column's value in the line last parsed, typed once for every later look.
#[derive(Debug, Clone, Copy)]
enum Cell {
    /// `-`
    Absent,
    Int(i64),
    /// The column's text.
    Str,
}

/// Splits and types lines against one header, reusing its buffers between lines.
#[derive(Debug, Clone)]
pub struct LineParser {
    header: Header,
    spans: Vec<(u32, u32)>,
    cells: Vec<Cell>,
}

impl LineParser {
    pub fn new(header: Header) -> LineParser {
        let n = header.columns.len();
        LineParser {
            header,
            spans: Vec::with_capacity(n),
            cells: Vec::with_capacity(n),
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Splits and checks one line (without its line ending); on success, [`Self::record`]
    /// gives the record.
    pub fn parse_line(&mut self, line: &str) -> Result<(), LineError> {
        let bytes = line.as_bytes();
        split_fields(bytes, &mut self.spans);
        let expected = self.header.columns.len();
        if self.spans.len() != expected {
            return Err(LineError::FieldCount {
                expected,
                found: self.spans.len(),
            });
        }
        self.cells.clear();
        for (c, &(s, e)) in self.spans.iter().enumerate() {
            let text = &bytes[s as usize..e as usize];
            let cell = if text == b"-" {
                Cell::Absent
            } else if self.header.numeric[c] {
                let kind = self.header.columns[c].kind();
                let parsed = match kind {
                    FieldType::Int => parse_int(text).filter(|v| i32::try_from(*v).is_ok()),
                    _ => parse_int(text),
                };
                match parsed {
                    Some(v) => Cell::Int(v),
                    None => {
                        return Err(LineError::BadNumber {
                            field: self.header.columns[c].name.clone(),
                            kind,
                            value: line[s as usize..e as usize].chars().take(40).collect(),
                        })
                    }
                }
            } else {
                Cell::Str
            };
            self.cells.push(cell);
        }
        Ok(())
    }

    /// The record of the line last parsed with success.
    pub fn record<'a>(&'a self, line: &'a str, line_no: u64) -> Record<'a> {
        Record {
            line,
            line_no,
            spans: &self.spans,
            cells: &self.cells,
            header: &self.header,
        }
    }
}

/// The byte ranges of the fields of a line: runs of bytes other than space and tab.
///
/// Looks at eight bytes at a time and jumps from separator to separator, since lines are
/// mostly short fields; this is the hottest loop of the forwarder.
fn split_fields(line: &[u8], spans: &mut Vec<(u32, u32)>) {
    spans.clear();
    let mut start = 0;
    let mut field_to = |end: usize| {
        if end > start {
            spans.push((start as u32, end as u32));
        }
        start = end + 1;
    };
    let mut words = line.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let mut seps = separator_bytes(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        while seps != 0 {
            field_to(at + seps.trailing_zeros() as usize / 8);
            seps &= seps - 1;
        }
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b' ' || b == b'\t' {
            field_to(at + i);
        }
    }
    field_to(line.len());
}

/// The high bit of each byte of `word` that is a space or a tab.
#[inline]
fn separator_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // High bit set exactly in the zero bytes of `x` (no borrow between bytes, unlike x - 1).
    let zero_bytes = |x: u64| !(((x & LOW7) + LOW7) | x | LOW7);
    zero_bytes(word ^ 0x2020_2020_2020_2020) | zero_bytes(word ^ 0x0909_0909_0909_0909)
}

/// Decimal digits with an optional leading minus sign, fitting in i64.
pub(super) fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        b => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // 19 digits fit in a u64 (at most 10^19 - 1 < 2^64); the i64 range is checked below.
        v = v * 10 + d as u64;
    }
    if neg {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// One record, borrowing its line and the parser's buffers.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    line: &'a str,
    /// 1-based line number in the object (the header is line 1).
    pub line_no: u64,
    spans: &'a [(u32, u32)],
    cells: &'a [Cell],
    header: &'a Header,
}

impl<'a> Record<'a> {
    pub fn header(&self) -> &'a Header {
        self.header
    }

    /// The whole line, without its line ending.
    #[inline]
    pub fn line(&self) -> &'a str {
        self.line
    }

    /// The text of a column as the line writes it (`-` included).
    #[inline]
    pub fn text(&self, col: usize) -> &'a str {
        let (s, e) = self.spans[col];
        &self.line[s as usize..e as usize]
    }

    /// The typed value of a column; `None` when it is `-`.
    #[inline]
    pub fn get(&self, col: usize) -> Option<Value<'a>> {
        match self.cells[col] {
            Cell::Absent => None,
            Cell::Int(v) => Some(Value::Int(v)),
            Cell::Str => Some(Value::Str(self.text(col))),
        }
    }

    /// The value of a catalogue field (either spelling), if the file has it and it is present.
    pub fn field(&self, name: &str) -> Option<Value<'a>> {
        self.header.column_of(name).and_then(|c| self.get(c))
    }

    /// Every column with its value, in header order.
    pub fn values(&self) -> impl Iterator<Item = (&'a Column, Option<Value<'a>>)> + '_ {
        self.header
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c, self.get(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_errors() {
        let mut p = LineParser::new(Header::parse("version srcport"));
        assert_eq!(
            p.parse_line("2"),
            Err(LineError::FieldCount {
                expected: 2,
                found: 1
            })
        );
        assert!(matches!(
            p.parse_line("2 +5"),
            Err(LineError::BadNumber { .. })
        ));
        assert!(matches!(
            p.parse_line("2 2147483648"),
            Err(LineError::BadNumber { .. })
        ));
        assert!(p.parse_line("2 2147483647").is_ok());
        assert!(matches!(p.parse_line("2 -"), Ok(())));
    }

    #[test]
    fn parse_int_edges() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-42"), Some(-42));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"-9223372036854775809"), None);
        assert_eq!(parse_int(b"9999999999999999999"), None);
        assert_eq!(parse_int(b"10000000000000000000"), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b"1a"), None);
    }

    /// The field splitter agrees with a plain split on spaces and tabs, around every place a
    /// field or a run of separators can start within its 8-byte words.
    #[test]
    fn split_fields_matches_a_plain_split() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut spans = Vec::new();
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| match next() % 6 {
                    0 => b' ',
                    1 => b'\t',
                    2 => b'-',
                    3 => 0xc3,
                    _ => b'a' + (next() % 26) as u8,
                })
                .collect();
            split_fields(&line, &mut spans);
            let got: Vec<&[u8]> = spans
                .iter()
                .map(|&(s, e)| &line[s as usize..e as usize])
                .collect();
            let want: Vec<&[u8]> = line
                .split(|b| *b == b' ' || *b == b'\t')
                .filter(|f| !f.is_empty())
                .collect();
            assert_eq!(got, want, "{line:?}");
        }
    }
}
