//! The one S3 prefix lister: every object under a prefix, all pages, in S3's key order. Replay,
//! backfill, the cost estimate, status and verify all list through it.

use anyhow::{Context, Result};

/// An object listed under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// When S3 last wrote it, in milliseconds since the epoch (`None` when S3 did not say).
    pub modified_ms: Option<i64>,
}

/// Every object under `prefix` (all pages), in S3's key order; `limit` stops early.
pub async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    limit: Option<usize>,
) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    let mut pages = s3
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
                    modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
                });
                if limit.is_some_and(|n| out.len() >= n) {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}
