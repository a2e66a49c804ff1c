//! The streaming reader: a file's lines read in place from its buffer (copied only when a line
//! crosses the buffer's end), the header taken from the first line, and malformed lines
//! counted, the first few logged, and skipped. A file can also be read in parts.

use super::header::Header;
use super::line::{parse_int, LineError, LineParser, Record};
use std::io::{self, BufRead};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    use crate::parse::Value;

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
}
