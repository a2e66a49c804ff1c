//! The flowlogs forwarder: reads VPC (and transit gateway) flow log objects from S3 and sends
//! their records to an OpenTelemetry endpoint as OTLP log records.
//!
//! The deployer uses [`format`] to validate custom log formats, reads [`report::Report`]
//! from the verify invocation, and finds the forwarder's report lines in its log group with
//! [`report::parse_report_line`], and writes the S3 events of backfill and verify with
//! [`s3_event`]; it builds this crate without the `runtime` feature (the
//! function itself), which leaves out every other module and their dependencies. With the
//! `aws-http` feature it also gives both the HTTPS client of their AWS SDK calls ([`aws_http`]).

#[cfg(feature = "aws-http")]
pub mod aws_http;

#[cfg(feature = "runtime")]
pub mod convert;
pub mod env;
pub mod eventbridge_event;
#[cfg(feature = "runtime")]
pub mod export;
pub mod filter;
pub mod format;
#[cfg(feature = "runtime")]
pub mod handler;
#[cfg(feature = "runtime")]
pub mod memory;
#[cfg(feature = "runtime")]
pub mod otlp;
#[cfg(feature = "runtime")]
pub mod parse;
#[cfg(feature = "runtime")]
pub mod pipeline;
pub mod report;
pub mod s3_event;
#[cfg(feature = "runtime")]
pub mod secret;
