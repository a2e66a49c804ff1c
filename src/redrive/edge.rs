//! The AWS calls of replay and backfill: listing a prefix, reading and deleting an object, and
//! invoking the forwarder synchronously.

use anyhow::{Context, Result};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

use super::{read_answer, Answer};
use crate::aws::Clients;

/// An object listed under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

/// Every object under `prefix` (all pages), in S3's key order; `limit` stops early.
pub async fn list(
    clients: &Clients,
    bucket: &str,
    prefix: &str,
    limit: Option<usize>,
) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    let mut pages = clients
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        for o in page.contents() {
            if let Some(key) = o.key() {
                out.push(Listed {
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
                if limit.is_some_and(|n| out.len() >= n) {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

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
