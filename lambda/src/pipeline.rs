//! The synchronous half of forwarding one object: decompress, parse, map, batch, encode.
//!
//! It runs on a blocking thread and hands each encoded request body to `emit` (the async half
//! sends them). Batches are encoded and gzipped on other threads (one per core) while this one
//! reads and parses the next ones: inflating and parsing the input and deflating the output
//! are the expensive steps, and they overlap when there are more cores. Memory stays bounded
//! by the read buffers and a few batches, whatever the size of the object, and the batch
//! buffers go back to the reading thread to be refilled rather than freed.

use crate::export::request::Body;
use crate::export::{request, Batch, Batcher, ExportConfig};
use crate::otlp::{Mapper, ObjectInfo, ResourceKey};
use crate::parse::{Header, LineParser, Reader};
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

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
    pub emit: &'a mut Emit<'a>,
    /// Checked once per batch: true when time is running out.
    pub stop: &'a dyn Fn() -> bool,
}

/// Threads that encode and compress batches: one per core (the reading thread shares them,
/// since compressing is the larger half of the work), at least one, at most four.
fn compressor_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// The reading side's end of the hand-over to the compressing threads: it fills batches,
/// hands over the full ones and refills those already compressed.
struct Handoff<'s> {
    batcher: Batcher,
    batches: SyncSender<Batch>,
    spent: Receiver<Batch>,
    /// Batches handed over and not back yet.
    in_flight: usize,
    /// Batches that may be out at once: one per compressing thread plus one waiting. With the
    /// one being filled, this bounds memory whatever the size of the object.
    max_in_flight: usize,
    /// Set by a compressing thread when a body was refused or could not be encoded.
    refused: &'s AtomicBool,
    stop: &'s dyn Fn() -> bool,
}

impl Handoff<'_> {
    /// Adds one encoded record. False when reading should stop: the batch it filled could
    /// not be handed over, or time is short.
    fn push(&mut self, object: &Arc<ObjectInfo>, key: ResourceKey<'_>, record: &[u8]) -> bool {
        match self.batcher.push(object, key, record) {
            Some(full) => self.send(full),
            None => true,
        }
    }

    /// Hands over the last, partly filled batch. False if it could not be.
    fn finish(&mut self) -> bool {
        match self.batcher.finish() {
            Some(last) => self.send(last),
            None => true,
        }
    }

    fn send(&mut self, batch: Batch) -> bool {
        if self.refused.load(Ordering::Relaxed) || self.batches.send(batch).is_err() {
            return false;
        }
        self.in_flight += 1;
        for spent in self.spent.try_iter() {
            self.in_flight -= 1;
            self.batcher.recycle(spent);
        }
        // Wait for a batch to come back rather than allocate another.
        while self.in_flight >= self.max_in_flight {
            let Ok(spent) = self.spent.recv() else {
                return false;
            };
            self.in_flight -= 1;
            self.batcher.recycle(spent);
        }
        !self.refused.load(Ordering::Relaxed) && !(self.stop)()
    }
}

type Emit<'a> = dyn FnMut(Body) -> bool + Send + 'a;

/// One compressing thread: encodes each batch it takes, passes the body to `emit` and gives
/// the batch back to be refilled. Once a body was refused or failed to encode (on any
/// thread), it gives back the batches it takes untouched and stops.
fn compress_batches(
    queued: &Mutex<Receiver<Batch>>,
    spent: Sender<Batch>,
    emit: &Mutex<&mut Emit<'_>>,
    refused: &AtomicBool,
    config: &ExportConfig,
) -> io::Result<()> {
    loop {
        let next = queued.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(batch) = next else { return Ok(()) };
        let emitted = if refused.load(Ordering::Relaxed) {
            Ok(false)
        } else {
            request::body(&batch, config)
                .map(|body| (emit.lock().unwrap_or_else(PoisonError::into_inner))(body))
        };
        let _ = spent.send(batch);
        if !matches!(emitted, Ok(true)) {
            refused.store(true, Ordering::Relaxed);
            return emitted.map(drop);
        }
    }
}

impl Sink<'_> {
    /// Runs `read` on this thread while scoped threads encode and compress the batches it
    /// hands over and pass the bodies to `emit` (one at a time, in the order they are ready).
    /// Also says whether `emit` took every body.
    fn run<T>(
        &mut self,
        read: impl FnOnce(&mut Handoff<'_>) -> io::Result<T>,
    ) -> io::Result<(T, bool)> {
        let (config, stop) = (self.config, self.stop);
        let emit = Mutex::new(&mut *self.emit);
        let refused = AtomicBool::new(false);
        let threads = compressor_threads();
        std::thread::scope(|scope| {
            let (batches, queued) = std::sync::mpsc::sync_channel::<Batch>(threads);
            let (spent_tx, spent) = std::sync::mpsc::channel::<Batch>();
            // Each compressor holds the receiving end: when all have stopped, handing over fails.
            let queued = Arc::new(Mutex::new(queued));
            let compressors: Vec<_> = (0..threads)
                .map(|_| {
                    let (queued, spent_tx) = (Arc::clone(&queued), spent_tx.clone());
                    let (emit, refused) = (&emit, &refused);
                    scope.spawn(move || compress_batches(&queued, spent_tx, emit, refused, config))
                })
                .collect();
            drop((queued, spent_tx));
            let mut handoff = Handoff {
                batcher: Batcher::new(config.max_batch_bytes),
                batches,
                spent,
                in_flight: 0,
                max_in_flight: threads + 1,
                refused: &refused,
                stop,
            };
            let read = read(&mut handoff);
            drop(handoff);
            let mut compressed = Ok(());
            for c in compressors {
                let done = c
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                compressed = compressed.and(done);
            }
            compressed?;
            Ok((read?, !refused.load(Ordering::Relaxed)))
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
    let (mut stats, emitted) = sink.run(|handoff| {
        let mut mapper: Option<Mapper> = None;
        let mut buf = Vec::with_capacity(1024);
        let mut stats = ObjectStats::default();
        while let Some(rec) = reader.next_record()? {
            let m = mapper.get_or_insert_with(|| Mapper::new(rec.header(), object, observed_nanos));
            buf.clear();
            let key = m.encode(&rec, &mut buf);
            stats.records += 1;
            if !handoff.push(object, key, &buf) {
                // The record just pushed was not sent: it is counted as read, not forwarded.
                stats.stopped = true;
                break;
            }
        }
        if !stats.stopped {
            stats.stopped = !handoff.finish();
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
    let (mut stats, emitted) = sink.run(|handoff| {
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
            if !handoff.push(object, key, &buf) {
                stats.stopped = true;
                return Ok(stats);
            }
        }
        stats.stopped = !handoff.finish();
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
