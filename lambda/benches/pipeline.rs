//! Throughput of the forwarder's stages on files written by the `gen_flowlogs` example's
//! generator (1M default-format records, 200k all-fields records, 200k transit gateway
//! records with all their 36 fields, seed 1), beside gunzip
//! alone over the same bytes: parse; parse + encode (protobuf, uncompressed); end to end
//! (gunzip, parse, encode, gzip), end to end with zstd instead of gzip, and end to end with the
//! `line` and `none` bodies instead of the default `summary`. Run with `cargo bench -p flowlogs-forwarder --bench pipeline`.
//!
//! The generated files are cached in `$FLOWLOGS_BENCH_DIR` (default: the system temp dir,
//! `flowlogs-bench/`), named after the generator's options and version;
//! `FLOWLOGS_BENCH_SCALE=0.1` makes them ten times smaller.

#[path = "../examples/gen_flowlogs/generate.rs"]
mod generate;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flowlogs_forwarder::export::{Compression, ExportConfig};
use flowlogs_forwarder::otlp::{BodyMode, ObjectInfo};
use flowlogs_forwarder::parse::Reader;
use flowlogs_forwarder::pipeline::{self, Sink};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A generated file (gzip), from the cache when it holds one made with the same options.
fn generated(format: &str, records: u64) -> Vec<u8> {
    let dir = std::env::var_os("FLOWLOGS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("flowlogs-bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let options = generate::Options {
        records,
        fields: generate::Options::fields_of(format).unwrap(),
        seed: 1,
        nodata_every: 500,
    };
    let path = dir.join(options.cache_name());
    if !path.exists() {
        eprintln!("generating {} ...", path.display());
        generate::write_file(&path, &options).unwrap();
    }
    std::fs::read(path).unwrap()
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn forward(input: &[u8], compression: Compression) -> u64 {
    forward_with(input, compression, BodyMode::default())
}

fn forward_with(input: &[u8], compression: Compression, body: BodyMode) -> u64 {
    let mut config = ExportConfig::from_lookup(|_| None).unwrap();
    config.compression = compression;
    config.body = body;
    let object = Arc::new(ObjectInfo::new(
        "bucket",
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/x.log.gz",
        None,
    ));
    let mut bytes = 0usize;
    let mut emit = |b: flowlogs_forwarder::export::request::Body| {
        bytes += b.bytes.len();
        true
    };
    let mut sink = Sink {
        config: &config,
        emit: &mut emit,
        stop: &|| false,
    };
    let stats = pipeline::forward_text(input, &object, 1, &mut sink).unwrap();
    std::hint::black_box(bytes);
    stats.records
}

fn bench_file(c: &mut Criterion, name: &str, format: &str, records: u64) {
    let gz = generated(format, records);
    let plain = gunzip(&gz);
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(records));
    g.bench_function("gunzip", |b| {
        b.iter(|| {
            let mut d = flate2::read::MultiGzDecoder::new(&gz[..]);
            std::io::copy(&mut d, &mut std::io::sink()).unwrap()
        })
    });
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut r = Reader::new(&plain[..], "bench");
            let mut n = 0u64;
            while let Some(rec) = r.next_record().unwrap() {
                std::hint::black_box(rec.get(0));
                n += 1;
            }
            assert_eq!(n, records);
        })
    });
    g.bench_function("parse+encode", |b| {
        b.iter(|| assert_eq!(forward(&plain, Compression::None), records))
    });
    g.bench_function("end-to-end", |b| {
        b.iter(|| assert_eq!(forward(&gz, Compression::Gzip), records))
    });
    g.bench_function("end-to-end-zstd", |b| {
        b.iter(|| assert_eq!(forward(&gz, Compression::Zstd), records))
    });
    // The other bodies than the default (summary), with gzip: what the body costs.
    for body in [BodyMode::Line, BodyMode::None] {
        g.bench_function(format!("end-to-end-body-{}", body.name()), |b| {
            b.iter(|| assert_eq!(forward_with(&gz, Compression::Gzip, body), records))
        });
    }
    g.finish();
}

fn scale(n: u64) -> u64 {
    let s: f64 = std::env::var("FLOWLOGS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((n as f64) * s).max(1000.0) as u64
}

fn benches(c: &mut Criterion) {
    bench_file(c, "default-1M", "default", scale(1_000_000));
    bench_file(c, "all-fields-200k", "all", scale(200_000));
    bench_file(c, "tgw-all-fields-200k", "tgw", scale(200_000));
}

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);
