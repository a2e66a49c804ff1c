//! The line parser: a header line names the fields, every following line is one record.
//!
//! Values are borrowed from the line; the parser keeps its scratch buffers between lines, so
//! parsing a record allocates nothing. A malformed line (wrong number of fields, a bad number,
//! not UTF-8) is an error for that line only: [`Reader`] counts it, logs the first few with
//! their line numbers, and goes on.

use crate::format::{self, Field, FieldType};
use std::io::{self, BufRead};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One column of the header: a catalogue field, or a name we do not know (kept as a string).
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub field: Option<&'static Field>,
}

impl Column {
    fn kind(&self) -> FieldType {
        self.field.map_or(FieldType::String, |f| f.kind)
    }
}

/// The fields of a file, in the order its lines carry them.
#[derive(Debug, Clone)]
pub struct Header {
    columns: Vec<Column>,
    /// Column of each catalogue field (by catalogue index), if the file has it.
    by_field: Vec<Option<usize>>,
    numeric: Vec<bool>,
}

impl Header {
    /// Builds a header from field names as the header line or Parquet columns spell them.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Header {
        let columns: Vec<Column> = names
            .into_iter()
            .map(|n| {
                let name = n.as_ref();
                Column {
                    name: name.to_string(),
                    field: format::lookup(name),
                }
            })
            .collect();
        let mut by_field = vec![None; format::fields().len()];
        for (i, c) in columns.iter().enumerate() {
            if let Some(f) = c.field {
                let slot = &mut by_field[field_index(f)];
                slot.get_or_insert(i);
            }
        }
        let numeric = columns
            .iter()
            .map(|c| matches!(c.kind(), FieldType::Int | FieldType::Long))
            .collect();
        Header {
            columns,
            by_field,
            numeric,
        }
    }

    /// Parses a header line (`version account-id ...`).
    pub fn parse(line: &str) -> Header {
        Header::new(line.split_ascii_whitespace())
    }

    /// The AWS default format, for files that come without a header line.
    pub fn default_format() -> Header {
        Header::new(format::DEFAULT_FIELDS)
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column that holds a catalogue field, looked up by its name.
    pub fn column_of(&self, name: &str) -> Option<usize> {
        format::lookup(name).and_then(|f| self.by_field[field_index(f)])
    }
}

fn field_index(f: &'static Field) -> usize {
    // Fields live in one static array, so the address gives the index.
    (f as *const Field as usize - format::fields().as_ptr() as usize) / std::mem::size_of::<Field>()
}

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
fn parse_int(s: &[u8]) -> Option<i64> {
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

/// How many skipped lines are logged one by one before the rest are only counted.
pub const LOGGED_BAD_LINES: u64 = 5;

/// Reads records from a text flow log (already decompressed), skipping malformed lines.
///
/// One reader can read a whole file, or a file can be read in parts: a reader reads up to
/// the first record ([`Reader::start`]), hands over the rest ([`Reader::into_rest`]), and
/// readers made with [`Reader::part`] read runs of whole lines of it, sharing the header and
/// the budget of logged lines.
pub struct Reader<R> {
    src: R,
    /// The current line when it did not lie whole in `src`'s buffer.
    buf: Vec<u8>,
    at: LineAt,
    line_no: u64,
    parser: Option<LineParser>,
    skipped: u64,
    /// The current line is a record line read by [`Self::start`] and not parsed yet.
    pending: bool,
    source: Source,
}

/// The file a [`Reader`] reads, shared by the readers of its parts.
#[derive(Debug, Clone)]
pub struct Source {
    /// What to call it in log lines (the object key).
    name: Arc<str>,
    /// Malformed lines logged so far, by every reader of the file.
    logged: Arc<AtomicU64>,
}

impl Source {
    pub fn new(name: impl Into<String>) -> Source {
        Source {
            name: Arc::from(name.into()),
            logged: Arc::default(),
        }
    }
}

/// What [`Reader::start`] left to read: the line it read ahead, if any, then the source.
pub struct Rest<R> {
    pub src: R,
    /// A record line (with its line ending) that comes before the rest of `src`.
    pub pending: Option<Vec<u8>>,
    /// Number of the next line: `pending`'s if there is one, else the first of `src`.
    pub next_line: u64,
    pub skipped: u64,
}

/// Where the current line is. Lines are read in place, from the source's buffer, when it
/// holds them whole (and consumed when the reader moves on): that saves copying every line.
#[derive(Debug, Clone, Copy)]
enum LineAt {
    Nowhere,
    /// The first this many bytes of the source's buffer.
    Src(usize),
    /// `buf`, for a line that crossed the end of the source's buffer.
    Buf,
}

/// The current line, with its ending.
fn line_in<'s>(src: &'s mut impl BufRead, buf: &'s [u8], at: LineAt) -> io::Result<&'s [u8]> {
    match at {
        LineAt::Nowhere => Ok(&[]),
        LineAt::Src(n) => src.fill_buf()?.get(..n).ok_or_else(|| {
            io::Error::other("the input's buffer lost a line it had not handed over")
        }),
        LineAt::Buf => Ok(buf),
    }
}

/// A step of reading, up to a line that holds a record.
enum Step {
    End,
    /// A blank, malformed or header line: nothing to parse.
    Skipped,
    /// The current line is a record line for the parser (not yet known to be valid).
    Record,
}

impl<R: BufRead> Reader<R> {
    pub fn new(src: R, source: impl Into<String>) -> Reader<R> {
        Reader {
            src,
            buf: Vec::with_capacity(512),
            at: LineAt::Nowhere,
            line_no: 0,
            parser: None,
            pending: false,
            skipped: 0,
            source: Source::new(source),
        }
    }

    /// A reader of one part of a file, whose first line is line `first_line`.
    pub fn part(src: R, parser: LineParser, first_line: u64, source: &Source) -> Reader<R> {
        Reader {
            src,
            buf: Vec::with_capacity(512),
            at: LineAt::Nowhere,
            line_no: first_line.saturating_sub(1),
            parser: Some(parser),
            pending: false,
            skipped: 0,
            source: source.clone(),
        }
    }

    /// Lines skipped so far.
    pub fn skipped_lines(&self) -> u64 {
        self.skipped
    }

    pub fn header(&self) -> Option<&Header> {
        self.parser.as_ref().map(|p| p.header())
    }

    /// Reads the lines before the first record: blank and malformed ones (counted) and the
    /// header line if the file has one. Returns the header (the default format when the file
    /// starts with a record), or `None` if the input ends first.
    pub fn start(&mut self) -> io::Result<Option<&Header>> {
        while self.parser.is_none() {
            match self.step()? {
                Step::End => return Ok(None),
                Step::Skipped => {}
                Step::Record => {
                    // Held in `buf`, so that the source can be handed over.
                    if let LineAt::Src(_) = self.at {
                        let line = line_in(&mut self.src, &self.buf, self.at)?.to_vec();
                        self.leave_line();
                        (self.buf, self.at) = (line, LineAt::Buf);
                    }
                    self.pending = true;
                }
            }
        }
        Ok(self.header())
    }

    /// After [`Self::start`]: the rest of the input, and the file for the readers of its
    /// parts (see [`Reader::part`]).
    pub fn into_rest(mut self) -> (Rest<R>, Source) {
        self.leave_line();
        let rest = Rest {
            src: self.src,
            pending: self.pending.then_some(self.buf),
            next_line: if self.pending {
                self.line_no
            } else {
                self.line_no + 1
            },
            skipped: self.skipped,
        };
        (rest, self.source)
    }

    /// Gives back the parser, to read another part with.
    pub fn into_parser(self) -> Option<LineParser> {
        self.parser
    }

    /// Moves past the current line.
    fn leave_line(&mut self) {
        if let LineAt::Src(n) = std::mem::replace(&mut self.at, LineAt::Nowhere) {
            self.src.consume(n);
        }
    }

    /// Moves to the next line; false at the end of the input.
    fn next_line(&mut self) -> io::Result<bool> {
        self.leave_line();
        let available = self.src.fill_buf()?;
        if available.is_empty() {
            return Ok(false);
        }
        if let Some(i) = memchr::memchr(b'\n', available) {
            self.at = LineAt::Src(i + 1);
        } else {
            self.buf.clear();
            self.src.read_until(b'\n', &mut self.buf)?;
            self.at = LineAt::Buf;
        }
        Ok(true)
    }

    fn skip(&mut self, err: LineError) {
        self.skipped += 1;
        let logged = self.source.logged.fetch_add(1, Ordering::Relaxed) + 1;
        if logged <= LOGGED_BAD_LINES {
            tracing::warn!(source = %self.source.name, line = self.line_no, error = %err, "skipping malformed line");
        } else if logged == LOGGED_BAD_LINES + 1 {
            tracing::warn!(source = %self.source.name, "more malformed lines: counting them without logging");
        }
    }

    /// Reads the next line, sets the parser up from the first one, and says whether it holds
    /// a record to parse.
    fn step(&mut self) -> io::Result<Step> {
        if self.pending {
            self.pending = false;
            return Ok(Step::Record);
        }
        if !self.next_line()? {
            return Ok(Step::End);
        }
        self.line_no += 1;
        let line = line_in(&mut self.src, &self.buf, self.at)?;
        if line.trim_ascii().is_empty() {
            return Ok(Step::Skipped);
        }
        if self.parser.is_none() {
            let Ok(line) = std::str::from_utf8(trim_line_end(line)) else {
                self.skip(LineError::NotUtf8);
                return Ok(Step::Skipped);
            };
            // A file without a header starts with a record; assume the default format.
            let first = line.split_ascii_whitespace().next().unwrap_or("");
            if parse_int(first.as_bytes()).is_none() {
                self.parser = Some(LineParser::new(Header::parse(line)));
                return Ok(Step::Skipped);
            }
            self.parser = Some(LineParser::new(Header::default_format()));
        }
        Ok(Step::Record)
    }

    /// The next well-formed record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        loop {
            match self.step()? {
                Step::End => return Ok(None),
                Step::Skipped => continue,
                Step::Record => {}
            }
            let line = line_in(&mut self.src, &self.buf, self.at)?;
            let parser = self.parser.as_mut().expect("set up by step");
            let parsed = match std::str::from_utf8(trim_line_end(line)) {
                Ok(line) => parser.parse_line(line),
                Err(_) => Err(LineError::NotUtf8),
            };
            match parsed {
                Ok(()) => break,
                Err(e) => self.skip(e),
            }
        }
        // The line again (a record borrowed inside the loop would hold the reader there);
        // it was checked as UTF-8 in the loop.
        let line = line_in(&mut self.src, &self.buf, self.at)?;
        let line = std::str::from_utf8(trim_line_end(line))
            .map_err(|_| io::Error::other("the input's buffer changed under the reader"))?;
        let parser = self.parser.as_ref().expect("set up by step");
        Ok(Some(parser.record(line, self.line_no)))
    }
}

/// A line without its `\n` or `\r\n` ending.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b'\n' | b'\r'))
        .map_or(0, |p| p + 1);
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
    }

    /// A record as (line_no, [(column name, value as text or None)]).
    type Owned = (u64, Vec<(String, Option<String>)>);

    fn read_all(input: &[u8]) -> (Vec<Owned>, u64) {
        read_all_from(input)
    }

    fn read_all_from(input: impl BufRead) -> (Vec<Owned>, u64) {
        let mut r = Reader::new(input, "test");
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let vals = rec
                .values()
                .map(|(c, v)| {
                    let s = v.map(|v| match v {
                        Value::Int(i) => format!("#{i}"),
                        Value::Str(s) => s.to_string(),
                    });
                    (c.name.clone(), s)
                })
                .collect();
            out.push((rec.line_no, vals));
        }
        (out, r.skipped_lines())
    }

    #[test]
    fn default_fixture() {
        let (recs, skipped) = read_all(&fixture("default-v2.log"));
        assert_eq!(skipped, 0);
        assert_eq!(recs.len(), 7);
        let (line, first) = &recs[0];
        assert_eq!(*line, 2);
        assert_eq!(first[3], ("srcaddr".into(), Some("74.82.47.48".into())));
        assert_eq!(first[6], ("dstport".into(), Some("#123".into())));
        assert_eq!(first[11], ("end".into(), Some("#1718806806".into())));
        let (line, nodata) = &recs[5];
        assert_eq!(*line, 7);
        assert_eq!(nodata[3].1, None);
        assert_eq!(nodata[13].1.as_deref(), Some("NODATA"));
        assert_eq!(recs[6].1[13].1.as_deref(), Some("SKIPDATA"));
    }

    #[test]
    fn custom_order_fixture() {
        let data = fixture("custom-v5.log");
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        let mut r = Reader::new(&data[..], "custom");
        let mut n = 0;
        while let Some(rec) = r.next_record().unwrap() {
            n += 1;
            assert_eq!(rec.field("version"), Some(Value::Int(5)));
            assert!(rec.field("protocol").unwrap().as_int().is_some());
            assert!(matches!(
                rec.field("flow-direction"),
                Some(Value::Str("ingress" | "egress")) | None
            ));
            assert!(
                rec.field("pkt_srcaddr").is_some()
                    || rec.field("log-status") != Some(Value::Str("OK"))
            );
        }
        assert_eq!(n, lines - 1);
        assert_eq!(r.skipped_lines(), 0);
        assert_eq!(r.header().unwrap().columns()[1].name, "vpc-id");
    }

    #[test]
    fn all_fields_fixture() {
        let data = fixture("all-fields-v8.log");
        let mut r = Reader::new(&data[..], "all");
        let mut statuses = std::collections::BTreeSet::new();
        let mut n = 0;
        while let Some(rec) = r.next_record().unwrap() {
            n += 1;
            statuses.insert(
                rec.field("log-status")
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        assert!(n > 10);
        assert_eq!(r.skipped_lines(), 0);
        assert_eq!(
            statuses.into_iter().collect::<Vec<_>>(),
            ["NODATA", "OK", "SKIPDATA"]
        );
        let h = r.header().unwrap();
        assert_eq!(h.columns().len(), 40);
        assert!(h.columns().iter().all(|c| c.field.is_some()));
    }

    #[test]
    fn gzip_fixture_counts() {
        use std::io::Read;
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&fixture("default-1k.log.gz")[..])
            .read_to_end(&mut text)
            .unwrap();
        let (recs, skipped) = read_all(&text);
        assert_eq!((recs.len(), skipped), (1000, 0));
        assert_eq!(recs.last().unwrap().0, 1001);
    }

    #[test]
    fn bad_lines_are_counted_and_skipped() {
        let input: &[u8] = b"version srcport bytes action mystery\n\
            2 22 100 ACCEPT x\n\
            2 22 100 ACCEPT\n\
            2 22 100 ACCEPT x extra\n\
            2 2x 100 ACCEPT x\n\
            2 3000000000 100 ACCEPT x\n\
            2 22 99999999999999999999 ACCEPT x\n\
            \n\
            2 -1 - REJECT -\r\n\
            2 22 100 ACCEPT \xff\n\
            2\t22  100 ACCEPT  y";
        let mut r = Reader::new(input, "bad");
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            got.push(format!(
                "{} {:?} {:?} {:?}",
                rec.line_no,
                rec.field("srcport"),
                rec.field("bytes"),
                rec.get(4)
            ));
        }
        assert_eq!(
            got,
            [
                r#"2 Some(Int(22)) Some(Int(100)) Some(Str("x"))"#,
                "9 Some(Int(-1)) None None",
                r#"11 Some(Int(22)) Some(Int(100)) Some(Str("y"))"#,
            ]
        );
        assert_eq!(r.skipped_lines(), 6);
    }

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
    fn headerless_file_uses_default_format() {
        let input = "2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 40 1 2 ACCEPT OK\n";
        let (recs, skipped) = read_all(input.as_bytes());
        assert_eq!((recs.len(), skipped), (1, 0));
        assert_eq!(recs[0].0, 1);
    }

    #[test]
    fn unknown_columns_are_strings() {
        let input = "version future-field\n2 17\n";
        let mut r = Reader::new(input.as_bytes(), "t");
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!(rec.get(1), Some(Value::Str("17")));
        assert!(rec.header().columns()[1].field.is_none());
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

    /// Lines that cross the end of the source's buffer are read as whole as those that do
    /// not: the same records, line numbers and skipped lines whatever the buffer size.
    #[test]
    fn lines_across_buffer_ends_read_the_same() {
        let hand_made: &[u8] = b"\n\xfe\xff\nversion srcport bytes action\n2 22 100 ACCEPT\r\n\
            2 2x 100 ACCEPT\n2 22 100\n\n2 -1 - REJECT\n2 22 100 ACCEPT \xff\n2\t22  7 ACCEPT";
        let headerless: &[u8] =
            b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1620000000 1620000060 ACCEPT OK";
        let mut inputs = vec![hand_made.to_vec(), headerless.to_vec()];
        for name in ["default-v2.log", "custom-v5.log", "all-fields-v8.log"] {
            inputs.push(fixture(name));
        }
        for input in &inputs {
            let whole = read_all(input);
            assert!(!whole.0.is_empty());
            for capacity in [1, 2, 7, 64, 1000] {
                let buffered = read_all_from(io::BufReader::with_capacity(capacity, &input[..]));
                assert_eq!(buffered, whole, "buffer of {capacity} bytes");
            }
        }
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
