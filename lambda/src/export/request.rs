//! The HTTP body and headers of an export request: encoding plus gzip.

use super::batch::Batch;
use super::config::{Compression, ExportConfig, Protocol};
use super::encode;
use bytes::Bytes;
use flate2::write::GzEncoder;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use std::io::{self, Write};

/// An export request body, ready to send (and to resend on a retry).
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub records: u64,
    /// Size before compression.
    pub encoded_len: usize,
}

/// Counts what passes through to the compressor.
struct Counting<W> {
    inner: W,
    n: usize,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn write_encoded(batch: &Batch, config: &ExportConfig, out: &mut impl Write) -> io::Result<()> {
    match config.protocol {
        Protocol::Protobuf => encode::write_protobuf(batch, config, out),
        Protocol::Json => encode::write_json(batch, config, out),
    }
}

/// Encodes and compresses a batch.
pub fn body(batch: &Batch, config: &ExportConfig) -> io::Result<Body> {
    let capacity = batch.bytes / 4 + 1024;
    let (bytes, encoded_len) = match config.compression {
        Compression::Gzip => {
            // Level 1: the repeated attribute keys compress well even at the fastest level,
            // and compressing is the most expensive step of the pipeline.
            let gz = GzEncoder::new(Vec::with_capacity(capacity), flate2::Compression::fast());
            let mut w = Counting { inner: gz, n: 0 };
            write_encoded(batch, config, &mut w)?;
            (w.inner.finish()?, w.n)
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
    })
}

/// Headers sent with every export request.
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
    if config.compression == Compression::Gzip {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("flowlogs-forwarder/", env!("CARGO_PKG_VERSION"))),
    );
    for (k, v) in &config.headers {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|_| HeaderError { name: k.clone() })?;
        let value = HeaderValue::from_str(v).map_err(|_| HeaderError { name: k.clone() })?;
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
            },
            b"\x08\x01",
        );
        let batch = b.finish().unwrap();
        let body = body(&batch, &cfg).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body.bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
        let mut direct = Vec::new();
        encode::write_protobuf(&batch, &cfg, &mut direct).unwrap();
        assert_eq!(plain, direct);
        assert_eq!(body.encoded_len, direct.len());
        assert_eq!(body.records, 1);
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
        assert_eq!(h[CONTENT_ENCODING], "gzip");
        let bad = ExportConfig {
            headers: vec![("bad header".into(), "v".into())],
            ..cfg
        };
        assert!(headers(&bad).is_err());
    }
}
