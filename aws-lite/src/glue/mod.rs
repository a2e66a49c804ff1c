//! A small client for the Glue actions flowlogs calls (CreateDatabase, GetDatabase,
//! DeleteDatabase, GetTags, TagResource; CreateTable, GetTable, GetTables, UpdateTable,
//! DeleteTable), typed, over the AWS JSON 1.1 protocol.
//!
//! Requests go through the crate's shared core (`service`: SigV4 with signing name `glue`, the
//! standard retry strategy with the SDK's throttling codes, `ThrottlingException`...). Errors are
//! the SDK's `SdkError` over [`GlueError`], which implements `ProvideErrorMetadata`.
//!
//! The wire format (targets and member names) follows the Glue API reference, as
//! `aws-sdk-glue`'s generated serializers spell it.

mod client;
mod error;
mod types;

pub use client::{Glue, CONTENT_TYPE};
pub use error::{Error, GlueError};
pub use types::{Column, Database, DatabaseInput, SerDeInfo, StorageDescriptor, Table, TableInput};
