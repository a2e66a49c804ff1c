//! Sends encoded log records to an OTLP/HTTP endpoint.
//!
//! One file per concern, as Vector's HTTP sink does: [`config`] (the `OTEL_*` environment),
//! [`batch`] (grouping records by resource, capped by encoded bytes), [`encode`] (the export
//! request as protobuf or OTLP/JSON), [`request`] (compression and headers), [`retry`] (what
//! to do after an attempt, a pure function) and [`send`] (the HTTP client loop).

pub mod batch;
pub mod config;
pub mod encode;
pub mod request;
pub mod retry;
pub mod send;

pub use batch::{Batch, Batcher};
pub use config::{Compression, ExportConfig, Protocol};
pub use send::{Exporter, SendError, Sent};
