//! Fuzzes the parser and the mapping over arbitrary bytes: a header line then records, plain
//! or gzip. Nothing may panic, every record must encode to a decodable size, and the counts
//! must add up, however the input is buffered.
#![no_main]

use flowlogs_forwarder::export::{request::Body, ExportConfig};
use flowlogs_forwarder::otlp::{Mapper, ObjectInfo};
use flowlogs_forwarder::parse::Reader;
use flowlogs_forwarder::pipeline::{self, Sink};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let object = Arc::new(ObjectInfo::new("b", "AWSLogs/1/vpcflowlogs/r/k.log", None));

    // The parser and the mapper alone.
    let mut reader = Reader::new(data, "fuzz");
    let mut mapper: Option<Mapper> = None;
    let mut buf = Vec::new();
    let mut records = 0u64;
    while let Ok(Some(rec)) = reader.next_record() {
        let m = mapper.get_or_insert_with(|| Mapper::new(rec.header(), &object, 0));
        buf.clear();
        m.encode(&rec, &mut buf);
        assert!(!buf.is_empty());
        records += 1;
    }

    // Lines that cross the end of a small read buffer (copied, not read in place) give the
    // same records.
    let mut small = Reader::new(std::io::BufReader::with_capacity(3, data), "fuzz");
    let mut small_records = 0u64;
    while let Ok(Some(_)) = small.next_record() {
        small_records += 1;
    }
    assert_eq!(small_records, records);
    assert_eq!(small.skipped_lines(), reader.skipped_lines());

    // The whole pipeline with small batches: the batches hold every record once.
    let mut config = ExportConfig::from_lookup(|_| None).unwrap();
    config.max_batch_bytes = 2048;
    let mut batched = 0u64;
    let mut emit = |b: Body| {
        batched += b.records;
        true
    };
    let mut sink = Sink {
        config: &config,
        emit: &mut emit,
        stop: &|| false,
    };
    if let Ok(stats) = pipeline::forward_text(data, &object, 0, &mut sink) {
        if !data.starts_with(&[0x1f, 0x8b]) {
            assert_eq!(stats.records, records);
        }
        assert_eq!(batched, stats.records);
    }
});
