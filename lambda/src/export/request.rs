//! The HTTP body and headers of an export request: encoding plus gzip or zstd.

use super::batch::Batch;
use super::config::{Compression, ExportConfig, Protocol};
use super::encode;
use bytes::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compress;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use std::io::{self, Write};

/// An export request body, ready to send (and to resend on a retry).
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub records: u64,
    /// Size before compression.
    pub encoded_len: usize,
    /// How `bytes` are compressed (the request's `Content-Encoding`).
    pub compression: Compression,
}

/// The gzip level: the fastest. The repeated attribute keys compress well even at this level,
/// and compressing is the most expensive step of the pipeline.
fn gzip_level() -> flate2::Compression {
    flate2::Compression::fast()
}

/// The zstd level: 1, the fastest of the standard levels, which already compresses the
/// records better than gzip's fastest does, for less CPU.
const ZSTD_LEVEL: i32 = 1;

impl Body {
    /// The same records compressed with gzip, for an endpoint that refused zstd.
    pub fn gzip_instead(&self) -> io::Result<Body> {
        let plain = match self.compression {
            Compression::Zstd => zstd::bulk::decompress(&self.bytes, self.encoded_len)?,
            Compression::Gzip => return Ok(self.clone()),
            Compression::None => self.bytes.to_vec(),
        };
        let mut gz =
            flate2::write::GzEncoder::new(Vec::with_capacity(plain.len() / 4 + 1024), gzip_level());
        gz.write_all(&plain)?;
        Ok(Body {
            bytes: Bytes::from(gz.finish()?),
            records: self.records,
            encoded_len: plain.len(),
            compression: Compression::Gzip,
        })
    }
}

fn write_encoded(batch: &Batch, config: &ExportConfig, out: &mut impl Write) -> io::Result<()> {
    match config.protocol {
        Protocol::Protobuf => encode::write_protobuf(batch, config, out),
        Protocol::Json => encode::write_json(batch, config, out),
    }
}

/// Turns batches into request bodies. Each thread that makes bodies has its own, so that one
/// deflate state (a few hundred KiB of tables) serves all its bodies instead of being
/// allocated and cleared for each.
pub struct BodyWriter<'c> {
    config: &'c ExportConfig,
    /// Writes gzip, not zlib: the stream format is the `Compress`'s (`new_gzip`), and the
    /// encoder only drives it. `reset` ends one body and starts the next on the same state.
    gzip: Option<ZlibEncoder<Vec<u8>>>,
    /// zstd compresses a whole encoded request (`plain`) at once, with one reused context.
    zstd: Option<zstd::bulk::Compressor<'static>>,
    plain: Vec<u8>,
}

impl<'c> BodyWriter<'c> {
    pub fn new(config: &'c ExportConfig) -> BodyWriter<'c> {
        BodyWriter {
            config,
            gzip: None,
            zstd: None,
            plain: Vec::new(),
        }
    }

    /// Encodes and compresses a batch.
    pub fn body(&mut self, batch: &Batch) -> io::Result<Body> {
        let config = self.config;
        let (bytes, encoded_len) = match config.compression {
            Compression::Gzip => {
                let gz = self.gzip.get_or_insert_with(|| {
                    let deflate = Compress::new_gzip(gzip_level(), 15);
                    ZlibEncoder::new_with_compress(Vec::new(), deflate)
                });
                gz.get_mut().reserve(batch.bytes / 4 + 1024);
                write_encoded(batch, config, gz)?;
                let n = gz.total_in() as usize;
                (gz.reset(Vec::new())?, n)
            }
            Compression::Zstd => {
                let zstd = match &mut self.zstd {
                    Some(z) => z,
                    None => self.zstd.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
                };
                self.plain.clear();
                write_encoded(batch, config, &mut self.plain)?;
                (zstd.compress(&self.plain)?, self.plain.len())
            }
            Compression::None => {
                let mut v = Vec::with_capacity(batch.bytes + 1024);
                write_encoded(batch, config, &mut v)?;
                let n = v.len();
                (v, n)
            }
        };
        Ok(Body {
            bytes: Bytes::from(bytes),
            records: batch.records,
            encoded_len,
            compression: config.compression,
        })
    }
}

/// Headers sent with every export request (`Content-Encoding` is each body's own).
#[derive(thiserror::Error, Debug)]
#[error("header `{name}` from OTEL_EXPORTER_OTLP_HEADERS is not a valid HTTP header")]
pub struct HeaderError {
    pub name: String,
}

pub fn headers(config: &ExportConfig) -> Result<HeaderMap, HeaderError> {
    let mut h = HeaderMap::new();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(config.protocol.content_type()),
    );
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("flowlogs-forwarder/", env!("CARGO_PKG_VERSION"))),
    );
    for (k, v) in &config.headers {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|_| HeaderError { name: k.clone() })?;
        let mut value = HeaderValue::from_str(v).map_err(|_| HeaderError { name: k.clone() })?;
        // Header values may be secrets (from the stack's secret): never in a debug log.
        value.set_sensitive(true);
        h.insert(name, value);
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::batch::Batcher;
    use crate::otlp::{ObjectInfo, ResourceKey};
    use std::io::Read;
    use std::sync::Arc;

    #[test]
    fn gzip_body_round_trips() {
        let cfg = ExportConfig::from_lookup(|_| None).unwrap();
        let o = Arc::new(ObjectInfo::new("b", "k", None));
        let mut b = Batcher::new(1 << 20);
        b.push(
            &o,
            ResourceKey {
                account: None,
                region: None,
                version: None,
            },
            b"\x08\x01",
        );
        let batch = b.finish().unwrap();
        let mut direct = Vec::new();
        encode::write_protobuf(&batch, &cfg, &mut direct).unwrap();
        // One writer, several bodies: each is a whole gzip stream of its own batch.
        let mut writer = BodyWriter::new(&cfg);
        for _ in 0..3 {
            let body = writer.body(&batch).unwrap();
            let mut plain = Vec::new();
            let mut gz = flate2::read::GzDecoder::new(&body.bytes[..]);
            gz.read_to_end(&mut plain).unwrap();
            assert_eq!(plain, direct);
            assert!(gz.into_inner().is_empty(), "nothing after the gzip stream");
            assert_eq!(body.encoded_len, direct.len());
            assert_eq!(body.records, 1);
        }
    }

    #[test]
    fn zstd_body_round_trips_and_turns_into_gzip() {
        let cfg = ExportConfig {
            compression: Compression::Zstd,
            ..ExportConfig::from_lookup(|_| None).unwrap()
        };
        let batch = crate::export::encode::tests::batch_of(
            "version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
             2 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\n\
             2 10.0.0.3 10.0.0.4 1 2 17 3 4 5 6 REJECT OK\n",
            "k",
        );
        let mut direct = Vec::new();
        encode::write_protobuf(&batch, &cfg, &mut direct).unwrap();
        let mut writer = BodyWriter::new(&cfg);
        for _ in 0..2 {
            let body = writer.body(&batch).unwrap();
            assert_eq!(body.compression, Compression::Zstd);
            assert_eq!(zstd::decode_all(&body.bytes[..]).unwrap(), direct);
            let gz = body.gzip_instead().unwrap();
            assert_eq!(
                (gz.compression, gz.records, gz.encoded_len),
                (Compression::Gzip, 2, direct.len())
            );
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&gz.bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain, direct);
        }
    }

    #[test]
    fn headers_from_config() {
        let cfg = ExportConfig::from_lookup(|k| {
            (k == "OTEL_EXPORTER_OTLP_HEADERS").then(|| "api-key=s3cr%3Dt".to_string())
        })
        .unwrap();
        let h = headers(&cfg).unwrap();
        assert_eq!(h["api-key"], "s3cr=t");
        assert_eq!(h[CONTENT_TYPE], "application/x-protobuf");
        let bad = ExportConfig {
            headers: vec![("bad header".into(), "v".into())],
            ..cfg
        };
        assert!(headers(&bad).is_err());
    }
}
