//! A small client for the EC2 Query API: the few actions flowlogs calls (DescribeFlowLogs,
//! CreateFlowLogs, DeleteFlowLogs, DescribeVpcs; CreateVpc, CreateTags and CreateTransitGateway
//! for the tests), typed, and a generic [`Ec2::call`] for anything else.
//!
//! Requests go through the crate's shared core (`service`: SigV4 with signing name `ec2`, the
//! standard retry strategy with the SDK's throttling codes, `RequestLimitExceeded`...). Errors
//! are the SDK's `SdkError` over [`Ec2Error`], which implements `ProvideErrorMetadata`, so code
//! written for the SDK's errors reads these alike.
//!
//! The wire format (parameter and element names) follows the EC2 API reference and the Smithy
//! model's `ec2QueryName`s, as `aws-sdk-ec2`'s generated serializers spell them.

mod client;
mod error;
mod ops;
pub mod query;
pub mod xml;

pub use client::Ec2;
pub use error::{Ec2Error, Error};
pub use ops::{
    CreateFlowLogs, CreateFlowLogsOutput, DestinationOptions, Filter, FlowLog, Tag, Unsuccessful,
    Vpc,
};
pub use query::Params;
