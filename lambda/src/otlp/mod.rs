//! Maps flow log records to OpenTelemetry log records (DESIGN §6), with the attribute names of
//! the OpenTelemetry Collector's awslogsencoding extension.
//!
//! Records are written straight to their protobuf encoding (`opentelemetry.proto.logs.v1.LogRecord`)
//! without building intermediate structs: this is the hot path, and building
//! `opentelemetry_proto` messages would allocate every key and value of every record. Tests
//! decode the output with `opentelemetry_proto` to check it.
//!
//! One job per file: `object` reads the account and region from an object's key,
//! `attributes` is the table of attribute names per column, `record` writes a record as a
//! `LogRecord`, and `wire` holds the protobuf writers they share with the exporter.

mod attributes;
mod object;
mod record;
pub(crate) mod wire;

pub use attributes::protocol_name;
pub use object::ObjectInfo;
pub use record::{BodyMode, Mapper, ResourceKey};

/// The scope name on every exported record.
pub const SCOPE_NAME: &str = "flowlogs-forwarder";
