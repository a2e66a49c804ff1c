//! The synchronous half of forwarding one object: decompress, parse, map, batch, encode.
//!
//! It runs on a blocking thread and hands each encoded request body to `emit` (the async half
//! sends them). Batches are encoded and gzipped on a second thread while this one reads and
//! parses the next ones: inflating and parsing the input and deflating the output are the
//! expensive steps, and they overlap when there is a second core. Memory stays bounded by the
//! read buffers and a few batches, whatever the size of the object.

use crate::export::request::Body;
use crate::export::{request, Batch, Batcher, ExportConfig};
use crate::otlp::{Mapper, ObjectInfo};
use crate::parse::{Header, LineParser, Reader};
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

const READ_BUFFER: usize = 64 * 1024;

/// What reading one object found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectStats {
    pub records: u64,
    pub skipped_lines: u64,
    /// Reading stopped early: `emit` refused a body or `stop` said so.
    pub stopped: bool,
}

/// Wraps a raw object body: gunzips it (every member of a multi-member file) when it starts
/// with the gzip magic bytes, whatever the key says.
pub fn decompressed<'a, R: Read + 'a>(raw: R) -> io::Result<Box<dyn BufRead + 'a>> {
    let mut raw = BufReader::with_capacity(READ_BUFFER, raw);
    let head = raw.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    })
}

/// Hands out encoded batches, and stops when asked to.
pub struct Sink<'a> {
    pub config: &'a ExportConfig,
    /// Receives each request body, on the compressing thread; returns false to stop reading.
    pub emit: &'a mut (dyn FnMut(Body) -> bool + Send),
    /// Checked once per batch: true when time is running out.
    pub stop: &'a dyn Fn() -> bool,
}

/// Full batches that may wait for the compressing thread.
const QUEUED_BATCHES: usize = 1;

/// The reading side's end of the hand-over to the compressing thread.
struct Handoff<'s> {
    batches: SyncSender<Batch>,
    stop: &'s dyn Fn() -> bool,
}

impl Handoff<'_> {
    /// False when reading should stop: the compressing side refused a body or time is short.
    fn send(&mut self, batch: Batch) -> bool {
        self.batches.send(batch).is_ok() && !(self.stop)()
    }
}

impl Sink<'_> {
    /// Runs `read` on this thread while a scoped thread encodes and compresses the batches it
    /// hands over and passes the bodies to `emit`. Also says whether `emit` took every body.
    fn run<T>(
        &mut self,
        read: impl FnOnce(&mut Handoff<'_>) -> io::Result<T>,
    ) -> io::Result<(T, bool)> {
        let (config, stop) = (self.config, self.stop);
        let emit = &mut *self.emit;
        std::thread::scope(|scope| {
            let (batches, queued) = std::sync::mpsc::sync_channel::<Batch>(QUEUED_BATCHES);
            let compressor = scope.spawn(move || -> io::Result<bool> {
                for batch in queued {
                    if !emit(request::body(&batch, config)?) {
                        return Ok(false);
                    }
                }
                Ok(true)
            });
            let mut handoff = Handoff { batches, stop };
            let read = read(&mut handoff);
            drop(handoff);
            let emitted = compressor
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok((read?, emitted?))
        })
    }
}

/// Forwards a text flow log (plain or gzip).
pub fn forward_text(
    input: impl Read,
    object: &Arc<ObjectInfo>,
    observed_nanos: u64,
    sink: &mut Sink<'_>,
) -> io::Result<ObjectStats> {
    let mut reader = Reader::new(decompressed(input)?, object.key.clone());
    let max_batch_bytes = sink.config.max_batch_bytes;
    let (mut stats, emitted) = sink.run(|handoff| {
        let mut batcher = Batcher::new(max_batch_bytes);
        let mut mapper: Option<Mapper> = None;
        let mut buf = Vec::with_capacity(1024);
        let mut stats = ObjectStats::default();
        while let Some(rec) = reader.next_record()? {
            let m = mapper.get_or_insert_with(|| Mapper::new(rec.header(), object, observed_nanos));
            buf.clear();
            let key = m.encode(&rec, &mut buf);
            stats.records += 1;
            if let Some(full) = batcher.push(object, key, &buf) {
                if !handoff.send(full) {
                    // The record just pushed was not sent: it is counted as read, not forwarded.
                    stats.stopped = true;
                    break;
                }
            }
        }
        if !stats.stopped {
            if let Some(last) = batcher.finish() {
                stats.stopped = !handoff.send(last);
            }
        }
        stats.skipped_lines = reader.skipped_lines();
        Ok(stats)
    })?;
    stats.stopped |= !emitted;
    Ok(stats)
}

/// Forwards a Parquet flow log (columns named with underscores) from a local file.
///
/// Each row is rendered as the equivalent text line and parsed like one, so both formats
/// share one parser and one mapping; row `i` (0-based) counts as line `i + 2`, as if the
/// file had a header line.
pub fn forward_parquet(
    file: std::fs::File,
    object: &Arc<ObjectInfo>,
    observed_nanos: u64,
    sink: &mut Sink<'_>,
) -> io::Result<ObjectStats> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let bad = |e: parquet::errors::ParquetError| io::Error::new(io::ErrorKind::InvalidData, e);

    let reader = SerializedFileReader::new(file).map_err(bad)?;
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let header = Header::new(&names);
    let mut parser = LineParser::new(header.clone());
    let mut mapper = Mapper::new(&header, object, observed_nanos);
    let max_batch_bytes = sink.config.max_batch_bytes;
    let (mut stats, emitted) = sink.run(|handoff| {
        let mut batcher = Batcher::new(max_batch_bytes);
        let mut line = String::with_capacity(512);
        let mut buf = Vec::with_capacity(1024);
        let mut stats = ObjectStats::default();
        for (i, row) in reader.into_iter().enumerate() {
            let row = row.map_err(bad)?;
            line.clear();
            for (_, field) in row.get_column_iter() {
                if !line.is_empty() {
                    line.push(' ');
                }
                use std::fmt::Write as _;
                let _ = match field {
                    Field::Null => write!(line, "-"),
                    Field::Str(s) if s.is_empty() => write!(line, "-"),
                    Field::Str(s) => write!(line, "{}", s.replace([' ', '\t'], "_")),
                    other => write!(line, "{other}"),
                };
            }
            if let Err(e) = parser.parse_line(&line) {
                stats.skipped_lines += 1;
                if stats.skipped_lines <= crate::parse::LOGGED_BAD_LINES {
                    tracing::warn!(source = %object.key, row = i, error = %e, "skipping malformed row");
                }
                continue;
            }
            let rec = parser.record(&line, i as u64 + 2);
            buf.clear();
            let key = mapper.encode(&rec, &mut buf);
            stats.records += 1;
            if let Some(full) = batcher.push(object, key, &buf) {
                if !handoff.send(full) {
                    stats.stopped = true;
                    return Ok(stats);
                }
            }
        }
        if let Some(last) = batcher.finish() {
            stats.stopped = !handoff.send(last);
        }
        Ok(stats)
    })?;
    stats.stopped |= !emitted;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures");

    fn run(input: &[u8], max_batch_bytes: usize) -> (ObjectStats, Vec<Body>) {
        let mut config = ExportConfig::from_lookup(|_| None).unwrap();
        config.max_batch_bytes = max_batch_bytes;
        let object = Arc::new(ObjectInfo::new("b", "k", None));
        let mut bodies = Vec::new();
        let mut emit = |b: Body| {
            bodies.push(b);
            true
        };
        let mut sink = Sink {
            config: &config,
            emit: &mut emit,
            stop: &|| false,
        };
        let stats = forward_text(input, &object, 0, &mut sink).unwrap();
        (stats, bodies)
    }

    #[test]
    fn gzip_multi_member_and_plain_give_the_same_records() {
        let plain = std::fs::read(format!("{FIXTURES}/default-v2.log")).unwrap();
        let (split, _) = plain.split_at(plain.len() / 2);
        let mut multi = Vec::new();
        for part in [split, &plain[split.len()..]] {
            let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(part).unwrap();
            multi.extend(gz.finish().unwrap());
        }
        let (a, _) = run(&plain, 1 << 20);
        let (b, _) = run(&multi, 1 << 20);
        assert_eq!(a, b);
        assert_eq!(a.records, 7);
    }

    #[test]
    fn batches_add_up_to_the_records() {
        let gz = std::fs::read(format!("{FIXTURES}/default-1k.log.gz")).unwrap();
        let (stats, bodies) = run(&gz, 16 * 1024);
        assert_eq!(
            stats,
            ObjectStats {
                records: 1000,
                skipped_lines: 0,
                stopped: false
            }
        );
        assert!(bodies.len() > 5);
        assert_eq!(bodies.iter().map(|b| b.records).sum::<u64>(), 1000);
        assert!(bodies.iter().all(|b| b.encoded_len <= 16 * 1024));
    }

    #[test]
    fn refusing_a_body_stops_reading() {
        let gz = std::fs::read(format!("{FIXTURES}/default-1k.log.gz")).unwrap();
        let config = ExportConfig {
            max_batch_bytes: 16 * 1024,
            ..ExportConfig::from_lookup(|_| None).unwrap()
        };
        let object = Arc::new(ObjectInfo::new("b", "k", None));
        let mut n = 0;
        let mut emit = |_b: Body| {
            n += 1;
            n < 2
        };
        let mut sink = Sink {
            config: &config,
            emit: &mut emit,
            stop: &|| false,
        };
        let stats = forward_text(&gz[..], &object, 0, &mut sink).unwrap();
        assert!(stats.stopped && stats.records < 1000);
    }

    #[test]
    fn empty_input_sends_nothing() {
        let (stats, bodies) = run(b"", 1 << 20);
        assert_eq!(stats.records, 0);
        assert!(bodies.is_empty());
    }
}
