//! Runs the forwarding pipeline (read, gunzip, parse, encode, gzip) over a local file the way
//! the function runs it over an S3 stream, dropping the request bodies, and prints what it
//! did. The exporter settings come from the usual `OTEL_EXPORTER_OTLP_*` variables (so
//! `OTEL_EXPORTER_OTLP_COMPRESSION=none` shows the cost of gzip, `=zstd` that of zstd) and the
//! forwarder's own (`FLOWLOGS_OTLP_BODY=line|summary|none`, `FLOWLOGS_FILTER`). It prints the
//! OTLP bytes per record sent, before and after compression. For measuring the whole process's
//! peak memory and CPU time:
//!
//! ```text
//! cargo run --release -p flowlogs-forwarder --example gen_flowlogs -- /tmp/2m.log.gz --records 2000000
//! cargo build --release -p flowlogs-forwarder --example forward_file
//! /usr/bin/time -v $CARGO_TARGET_DIR/release/examples/forward_file /tmp/2m.log.gz
//! ```
//!
//! Transit gateway flow logs the same way, from `gen_flowlogs ... --format tgw` (every one of
//! their 36 fields): the forwarder reads any object by its header.

use flowlogs_forwarder::export::{request::Body, ExportConfig};
use flowlogs_forwarder::otlp::ObjectInfo;
use flowlogs_forwarder::pipeline::{self, Sink};
use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    flowlogs_forwarder::memory::fix_mmap_threshold();
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: forward_file PATH"))?;
    let started = Instant::now();
    let config = ExportConfig::from_env()?;
    let object = Arc::new(ObjectInfo::new("local", &path, None));
    let (mut batches, mut sent, mut encoded) = (0u64, 0usize, 0usize);
    let mut emit = |b: Body| {
        batches += 1;
        sent += b.bytes.len();
        encoded += b.encoded_len;
        true
    };
    let mut sink = Sink {
        config: &config,
        emit: &mut emit,
        stop: &|| false,
    };
    let stats = pipeline::forward_text(std::fs::File::open(&path)?, &object, 0, &mut sink)?;
    let secs = started.elapsed().as_secs_f64();
    let kept = (stats.records - stats.filtered).max(1) as f64;
    println!(
        "{} records, {} filtered, {} skipped lines, {batches} batches, {encoded} bytes encoded ({:.1} per record), {sent} bytes sent ({:.1} per record), {secs:.2}s, {:.0} records/s",
        stats.records,
        stats.filtered,
        stats.skipped_lines,
        encoded as f64 / kept,
        sent as f64 / kept,
        stats.records as f64 / secs
    );
    Ok(())
}
