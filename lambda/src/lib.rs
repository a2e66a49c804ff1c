//! The flowlogs forwarder: reads VPC flow log objects from S3 and sends their records to an
//! OpenTelemetry endpoint as OTLP log records.
//!
//! The deployer uses [`format`] to validate custom log formats, reads [`report::Report`]
//! from the verify invocation, and finds the forwarder's report lines in its log group with
//! [`report::parse_report_line`].

pub mod convert;
pub mod export;
pub mod format;
pub mod handler;
pub mod memory;
pub mod otlp;
pub mod parse;
pub mod pipeline;
pub mod report;
