//! The integration tests, one binary: each module a part of the product, run against the local
//! stack (`support`). One binary links the AWS SDK once, and its tests share the test threads.

mod support;

mod adopted_bucket_aws_rules;
mod athena_table;
mod aws_behaviours_lifecycle;
mod backfill;
mod cli_output;
mod config_schema;
mod cost_estimate;
mod deployer_lifecycle;
mod deployer_policy;
mod devstack_behaviours;
mod eventbridge_trigger;
mod failure_replay;
mod firehose_mode;
mod forwarder_code;
mod forwarder_stack;
mod https_endpoint;
mod init_wizard;
mod json_output;
mod organisation;
mod pipeline_verify;
mod policies_lint;
mod secrets_stay_secret;
mod stack_smoke;
mod transit_gateway;
