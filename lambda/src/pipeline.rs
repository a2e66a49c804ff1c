//! The synchronous half of forwarding one object: decompress, parse, map, batch, encode.
//!
//! It runs on a blocking thread and hands each encoded request body to `emit` (the async half
//! sends them). This thread only reads (and inflates) the input and cuts it into runs of whole
//! lines; worker threads, one per core, parse them, encode and batch the records and gzip
//! each full batch. Inflating the input is a small part of the work and parsing, encoding and
//! above all deflating the output the larger part, so that part is what runs in parallel.
//! Memory stays bounded by a few runs of lines and one batch per worker, whatever the size of
//! the object; runs and batches are refilled rather than freed.

use crate::export::request::{Body, BodyWriter};
use crate::export::{Batch, Batcher, ExportConfig};
use crate::filter::Flow;
use crate::otlp::{Mapper, ObjectInfo};
use crate::parse::{Header, LineParser, Reader, Record, Source, Value};
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
    /// Records the filter dropped (counted in `records` too).
    pub filtered: u64,
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
    /// Receives each request body, on a worker thread; returns false to stop reading.
    pub emit: &'a mut Emit<'a>,
    /// Checked once per chunk of input: true when time is running out.
    pub stop: &'a dyn Fn() -> bool,
}

type Emit<'a> = dyn FnMut(Body) -> bool + Send + 'a;

/// Threads that parse, encode and compress: one per core (the reading thread shares them,
/// since inflating the input is the smaller part of the work), at least one, at most four.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// The input is handed to the workers in runs of whole lines of about this size.
const CHUNK_BYTES: usize = 256 * 1024;

/// Whole lines of the input, the first of them line `first_line` of the file.
struct Chunk {
    text: Vec<u8>,
    first_line: u64,
}

impl Chunk {
    /// An empty chunk with room for `target` bytes and the end of the line that crosses it.
    fn with_room(target: usize, first_line: u64) -> Chunk {
        Chunk {
            text: Vec::with_capacity(target + 4096),
            first_line,
        }
    }
}

/// The reading side's end of the hand-over: fills chunks with whole lines, hands over the
/// full ones and refills those the workers are done with.
///
/// There are at most `pool` chunks: one being filled, one in each worker's hands and one
/// queued. When all are out, the reader waits for one to come back. Memory is then the same
/// once a few chunks have been read, however long the object (without the cap, a rare
/// stall of the workers in a long object let the reader make one more).
struct Lines<'s> {
    current: Chunk,
    target: usize,
    chunks: SyncSender<Chunk>,
    spare: Receiver<Chunk>,
    /// Chunks made so far, `current` included, and the most there may be.
    made: usize,
    pool: usize,
    /// Set by a worker when a body was refused or could not be encoded.
    refused: &'s AtomicBool,
    stop: &'s dyn Fn() -> bool,
    /// Reading stopped before the end of the input.
    stopped: bool,
}

impl Lines<'_> {
    /// Where to append whole lines, each ending with `\n` (the last one of the input may not).
    fn text(&mut self) -> &mut Vec<u8> {
        &mut self.current.text
    }

    /// Hands the chunk over once it holds enough. False when reading should stop.
    fn send_if_full(&mut self) -> bool {
        self.current.text.len() < self.target || self.send()
    }

    /// Hands over what the chunk holds. False when reading should stop.
    fn send(&mut self) -> bool {
        if self.current.text.is_empty() {
            return true;
        }
        let lines = memchr::memchr_iter(b'\n', &self.current.text).count() as u64;
        let Some(next) = self.next_chunk() else {
            // Every worker has stopped: a body was refused or could not be made.
            self.stopped = true;
            return false;
        };
        let mut chunk = std::mem::replace(&mut self.current, next);
        self.current.text.clear();
        self.current.first_line = chunk.first_line + lines;
        chunk.text.shrink_to(self.target * 2);
        let sent = !self.refused.load(Ordering::Relaxed) && self.chunks.send(chunk).is_ok();
        self.stopped = !sent || (self.stop)();
        !self.stopped
    }

    /// A chunk to fill: one given back, a new one while there are fewer than `pool`, or else
    /// the next one given back. `None` once no worker is left to give one back.
    fn next_chunk(&mut self) -> Option<Chunk> {
        if let Ok(chunk) = self.spare.try_recv() {
            return Some(chunk);
        }
        if self.made < self.pool {
            self.made += 1;
            return Some(Chunk::with_room(self.target, 0));
        }
        self.spare.recv().ok()
    }
}

/// The columns the filter looks at, found once per file.
#[derive(Debug, Clone, Copy)]
struct FilterColumns {
    log_status: Option<usize>,
    action: Option<usize>,
    source: [Option<usize>; 2],
    destination: [Option<usize>; 2],
    source_port: Option<usize>,
    destination_port: Option<usize>,
}

impl FilterColumns {
    fn new(header: &Header) -> FilterColumns {
        let col = |name: &str| header.column_of(name);
        FilterColumns {
            log_status: col("log-status"),
            action: col("action"),
            // The packet-level address first, as `source.address` has it.
            source: [col("pkt-srcaddr"), col("srcaddr")],
            destination: [col("pkt-dstaddr"), col("dstaddr")],
            source_port: col("srcport"),
            destination_port: col("dstport"),
        }
    }

    fn flow<'r>(&self, rec: &Record<'r>) -> Flow<'r> {
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c));
        let text = |c| get(c).and_then(Value::as_str);
        let int = |c| get(c).and_then(Value::as_int);
        Flow {
            log_status: text(self.log_status),
            action: text(self.action),
            source: text(self.source[0]).or_else(|| text(self.source[1])),
            destination: text(self.destination[0]).or_else(|| text(self.destination[1])),
            source_port: int(self.source_port),
            destination_port: int(self.destination_port),
        }
    }
}

/// What every worker shares.
struct Work<'w, 'a> {
    config: &'w ExportConfig,
    object: &'w Arc<ObjectInfo>,
    observed_nanos: u64,
    header: &'w Header,
    source: &'w Source,
    queued: &'w Mutex<Receiver<Chunk>>,
    emit: &'w Mutex<&'w mut Emit<'a>>,
    refused: &'w AtomicBool,
}

impl Work<'_, '_> {
    fn refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// Encodes and compresses a batch and passes the body on. False if it was refused.
    fn emit(&self, writer: &mut BodyWriter<'_>, batch: &Batch) -> io::Result<bool> {
        let emitted = writer
            .body(batch)
            .map(|body| (self.emit.lock().unwrap_or_else(PoisonError::into_inner))(body));
        if !matches!(emitted, Ok(true)) {
            self.refused.store(true, Ordering::Relaxed);
        }
        emitted
    }

    /// One worker: parses the lines of each chunk it takes, encodes and batches the records,
    /// compresses each full batch and passes the body on, then gives the chunk back to be
    /// refilled. Once a body was refused (on any thread) it stops.
    fn run(&self, spent: Sender<Chunk>) -> io::Result<ObjectStats> {
        let mut parser = Some(LineParser::new(self.header.clone()));
        let mut mapper =
            Mapper::new(self.header, self.object, self.observed_nanos).with_body(self.config.body);
        let mut batcher = Batcher::new(self.config.max_batch_bytes);
        let mut writer = BodyWriter::new(self.config);
        let filter = &self.config.filter;
        let filter_columns = FilterColumns::new(self.header);
        let mut buf = Vec::with_capacity(1024);
        let mut stats = ObjectStats::default();
        loop {
            let next = self
                .queued
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv();
            let Ok(chunk) = next else { break };
            if self.refused() {
                stats.stopped = true;
                return Ok(stats);
            }
            let mut reader = Reader::part(
                &chunk.text[..],
                parser.take().expect("given back after each chunk"),
                chunk.first_line,
                self.source,
            );
            while let Some(rec) = reader.next_record()? {
                stats.records += 1;
                if !filter.is_empty() && filter.drops(&filter_columns.flow(&rec)) {
                    stats.filtered += 1;
                    continue;
                }
                buf.clear();
                let key = mapper.encode(&rec, &mut buf);
                if let Some(full) = batcher.push(self.object, key, &buf) {
                    if !self.emit(&mut writer, &full)? {
                        // The record just pushed was not sent: it is counted as read only.
                        stats.skipped_lines += reader.skipped_lines();
                        stats.stopped = true;
                        return Ok(stats);
                    }
                    batcher.recycle(full);
                }
            }
            stats.skipped_lines += reader.skipped_lines();
            parser = reader.into_parser();
            let _ = spent.send(chunk);
        }
        if let Some(last) = batcher.finish() {
            stats.stopped = self.refused() || !self.emit(&mut writer, &last)?;
        }
        Ok(stats)
    }
}

impl Sink<'_> {
    /// Runs `read` on this thread, which hands over whole lines of the file, while scoped
    /// workers parse them, encode, batch and compress the records and pass the bodies to
    /// `emit` (one at a time, in the order they are ready). Counts what was read; `stopped`
    /// when it did not all go through.
    fn run(
        &mut self,
        file: &FileLines<'_>,
        object: &Arc<ObjectInfo>,
        observed_nanos: u64,
        read: impl FnOnce(&mut Lines<'_>) -> io::Result<()>,
    ) -> io::Result<ObjectStats> {
        let FileLines {
            header,
            source,
            first_line,
            chunk_bytes,
        } = *file;
        let threads = worker_threads();
        let emit = Mutex::new(&mut *self.emit);
        let refused = AtomicBool::new(false);
        let (chunks, queued) = std::sync::mpsc::sync_channel::<Chunk>(threads);
        let (spent_tx, spent) = std::sync::mpsc::channel::<Chunk>();
        let queued = Mutex::new(queued);
        let work = Work {
            config: self.config,
            object,
            observed_nanos,
            header,
            source,
            queued: &queued,
            emit: &emit,
            refused: &refused,
        };
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (work, spent_tx) = (&work, spent_tx.clone());
                    scope.spawn(move || work.run(spent_tx))
                })
                .collect();
            drop(spent_tx);
            let mut lines = Lines {
                current: Chunk::with_room(chunk_bytes, first_line),
                target: chunk_bytes.max(1),
                chunks,
                spare: spent,
                made: 1,
                pool: threads + 2,
                refused: &refused,
                stop: self.stop,
                stopped: false,
            };
            let read = read(&mut lines);
            let stopped = lines.stopped;
            // Closing the channel tells the workers that the input has ended.
            drop(lines);
            let mut total = ObjectStats {
                stopped,
                ..ObjectStats::default()
            };
            let mut failed = Ok(());
            for w in workers {
                match w
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                {
                    Ok(stats) => {
                        total.records += stats.records;
                        total.filtered += stats.filtered;
                        total.skipped_lines += stats.skipped_lines;
                        total.stopped |= stats.stopped;
                    }
                    Err(e) => failed = Err(e),
                }
            }
            read?;
            failed?;
            total.stopped |= refused.load(Ordering::Relaxed);
            Ok(total)
        })
    }
}

/// The lines a file hands over, and how.
#[derive(Clone, Copy)]
struct FileLines<'f> {
    header: &'f Header,
    source: &'f Source,
    /// Number of the first line handed over.
    first_line: u64,
    /// Size of the runs of lines handed to the workers.
    chunk_bytes: usize,
}

/// Appends input to `text` up to `target` bytes, then to the end of that line. True at the
/// end of the input.
fn fill(src: &mut impl BufRead, text: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    while text.len() < target {
        let available = src.fill_buf()?;
        if available.is_empty() {
            return Ok(true);
        }
        let n = available.len().min(target - text.len());
        text.extend_from_slice(&available[..n]);
        src.consume(n);
    }
    if !text.ends_with(b"\n") {
        src.read_until(b'\n', text)?;
    }
    Ok(src.fill_buf()?.is_empty())
}

/// Forwards a text flow log (plain or gzip).
pub fn forward_text(
    input: impl Read,
    object: &Arc<ObjectInfo>,
    observed_nanos: u64,
    sink: &mut Sink<'_>,
) -> io::Result<ObjectStats> {
    forward_text_in_chunks(input, object, observed_nanos, sink, CHUNK_BYTES)
}

fn forward_text_in_chunks(
    input: impl Read,
    object: &Arc<ObjectInfo>,
    observed_nanos: u64,
    sink: &mut Sink<'_>,
    chunk_bytes: usize,
) -> io::Result<ObjectStats> {
    let mut reader = Reader::new(decompressed(input)?, object.key.clone());
    let Some(header) = reader.start()?.cloned() else {
        return Ok(ObjectStats {
            skipped_lines: reader.skipped_lines(),
            ..ObjectStats::default()
        });
    };
    let (rest, source) = reader.into_rest();
    let mut src = rest.src;
    let file = FileLines {
        header: &header,
        source: &source,
        first_line: rest.next_line,
        chunk_bytes,
    };
    let mut stats = sink.run(&file, object, observed_nanos, |lines| {
        if let Some(line) = rest.pending {
            lines.text().extend_from_slice(&line);
        }
        let target = lines.target;
        loop {
            let end = fill(&mut src, lines.text(), target)?;
            if !lines.send() || end {
                return Ok(());
            }
        }
    })?;
    stats.skipped_lines += rest.skipped;
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
    use std::io::Write as _;
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
    let file = FileLines {
        header: &header,
        source: &Source::new(object.key.clone()),
        first_line: 2,
        chunk_bytes: CHUNK_BYTES,
    };
    sink.run(&file, object, observed_nanos, |lines| {
        for row in reader.into_iter() {
            let row = row.map_err(bad)?;
            let text = lines.text();
            for (i, (_, field)) in row.get_column_iter().enumerate() {
                if i > 0 {
                    text.push(b' ');
                }
                match field {
                    Field::Null => text.push(b'-'),
                    Field::Str(s) if s.is_empty() => text.push(b'-'),
                    Field::Str(s) => text.extend(s.bytes().map(|b| match b {
                        b' ' | b'\t' | b'\n' | b'\r' => b'_',
                        b => b,
                    })),
                    other => write!(text, "{other}")?,
                }
            }
            text.push(b'\n');
            if !lines.send_if_full() {
                return Ok(());
            }
        }
        lines.send();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::{Read, Write};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn run(input: &[u8], max_batch_bytes: usize) -> (ObjectStats, Vec<Body>) {
        run_in_chunks(input, max_batch_bytes, CHUNK_BYTES, &|| false)
    }

    /// Forwards `input` cut into runs of `chunk_bytes`, keeping every body.
    fn run_in_chunks(
        input: &[u8],
        max_batch_bytes: usize,
        chunk_bytes: usize,
        stop: &dyn Fn() -> bool,
    ) -> (ObjectStats, Vec<Body>) {
        let config = ExportConfig {
            max_batch_bytes,
            ..ExportConfig::from_lookup(|_| None).unwrap()
        };
        let object = Arc::new(ObjectInfo::new("b", "k", None));
        let mut bodies = Vec::new();
        let mut emit = |b: Body| {
            bodies.push(b);
            true
        };
        let mut sink = Sink {
            config: &config,
            emit: &mut emit,
            stop,
        };
        let stats = forward_text_in_chunks(input, &object, 0, &mut sink, chunk_bytes).unwrap();
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
                filtered: 0,
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

    /// The line numbers of the records a run delivered, read back from the bodies' uids.
    fn delivered_lines(bodies: &[Body]) -> Vec<u64> {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        use prost::Message;
        let mut lines = Vec::new();
        for body in bodies {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&body.bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            let request = ExportLogsServiceRequest::decode(&plain[..]).unwrap();
            for record in request
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
            {
                let uid = record
                    .attributes
                    .iter()
                    .find(|a| a.key == "log.record.uid")
                    .and_then(|a| a.value.as_ref()?.value.as_ref());
                let Some(Value::StringValue(uid)) = uid else {
                    panic!("record without a uid")
                };
                lines.push(uid.rsplit('-').next().unwrap().parse().unwrap());
            }
        }
        lines.sort_unstable();
        lines
    }

    #[test]
    fn cutting_the_input_into_runs_of_lines_changes_nothing() {
        let mut inputs: Vec<Vec<u8>> = ["default-v2.log", "custom-v5.log", "all-fields-v8.log"]
            .iter()
            .map(|f| std::fs::read(format!("{FIXTURES}/{f}")).unwrap())
            .collect();
        inputs.push(
            b"\n  \n\xff\xfe\nversion srcaddr dstaddr srcport dstport protocol packets bytes start end\r\n\
              2 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6\r\n\
              \n\
              2 10.0.0.1 10.0.0.2 x 2 6 3 4 5 6\n\
              2 10.0.0.1 10.0.0.2\n\
              2 10.0.0.\xff 10.0.0.2 1 2 6 3 4 5 6\n\
              2 10.0.0.3 10.0.0.4 1 2 17 3 4 5 6"
                .to_vec(),
        );
        inputs.push(b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\n".to_vec());
        for input in &inputs {
            let mut reader = Reader::new(&input[..], "whole");
            let mut expected = Vec::new();
            while let Some(rec) = reader.next_record().unwrap() {
                expected.push(rec.line_no);
            }
            assert!(!expected.is_empty());
            for chunk_bytes in [1, 5, 64, 1 << 20] {
                let (stats, bodies) = run_in_chunks(input, 700, chunk_bytes, &|| false);
                let what = format!(
                    "{chunk_bytes}-byte runs of {}",
                    String::from_utf8_lossy(input)
                );
                assert_eq!(stats.records, expected.len() as u64, "{what}");
                assert_eq!(stats.skipped_lines, reader.skipped_lines(), "{what}");
                assert!(!stats.stopped);
                assert_eq!(delivered_lines(&bodies), expected, "{what}");
            }
        }
    }

    #[test]
    fn stopping_for_time_stops_reading_and_says_so() {
        let gz = std::fs::read(format!("{FIXTURES}/default-1k.log.gz")).unwrap();
        let default_batch = ExportConfig::from_lookup(|_| None).unwrap().max_batch_bytes;
        let (stats, bodies) = run_in_chunks(&gz, default_batch, 4096, &|| true);
        assert!(stats.stopped);
        assert!(stats.records > 0 && stats.records < 1000, "{stats:?}");
        // What was read was still sent: the report can say how far it got.
        assert_eq!(bodies.iter().map(|b| b.records).sum::<u64>(), stats.records);
    }
}
