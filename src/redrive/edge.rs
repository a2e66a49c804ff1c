//! The AWS calls of replay and backfill: listing a prefix, reading and deleting an object, and
//! invoking the forwarder synchronously.

use anyhow::{Context, Result};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

use super::{read_answer, Answer};
use crate::aws::Clients;

pub async fn get(clients: &Clients, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let out = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?;
    let bytes = out
        .body
        .collect()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?;
    Ok(bytes.into_bytes().to_vec())
}

pub async fn delete(clients: &Clients, bucket: &str, key: &str) -> Result<()> {
    clients
        .s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("deleting s3://{bucket}/{key}"))
}

/// Invokes the function synchronously (RequestResponse) with `event` and reads its answer.
pub async fn invoke(clients: &Clients, function: &str, event: &Value) -> Answer {
    let payload = match serde_json::to_vec(event) {
        Ok(p) => p,
        Err(e) => return Answer::CallFailed(e.to_string()),
    };
    match clients
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(payload))
        .send()
        .await
    {
        Ok(out) => read_answer(
            out.function_error(),
            out.payload().map(|p| p.as_ref()).unwrap_or_default(),
        ),
        Err(e) => Answer::CallFailed(
            aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        ),
    }
}
