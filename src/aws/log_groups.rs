//! CloudWatch Logs log groups as flowlogs' resources read and remove them: looked up by exact
//! name (DescribeLogGroups only filters by prefix), their tags read by the group's ARN, and a
//! delete that counts a group already gone as done.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Serialize;

use super::errors::is_not_found;
use super::{tags, Clients};

/// A log group as CloudWatch Logs holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedLogGroup {
    pub name: String,
    /// `None`: never expire.
    pub retention_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

/// The group named exactly `name`, with its ARN (without the `:*` DescribeLogGroups' `arn` has).
async fn find(
    clients: &Clients,
    name: &str,
) -> Result<Option<(aws_sdk_cloudwatchlogs::types::LogGroup, String)>> {
    let out = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .with_context(|| format!("looking for log group {name}"))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| {
            let arn = g.log_group_arn().map(str::to_string).unwrap_or_else(|| {
                g.arn()
                    .unwrap_or_default()
                    .trim_end_matches(":*")
                    .to_string()
            });
            (g.clone(), arn)
        }))
}

/// The group named `name` with its retention and tags; `None` when there is none.
pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedLogGroup>> {
    let Some((group, arn)) = find(clients, name).await? else {
        return Ok(None);
    };
    let tags = clients
        .logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .with_context(|| format!("reading the tags of log group {name}"))?
        .tags()
        .map(tags::from_pairs)
        .unwrap_or_default();
    Ok(Some(ObservedLogGroup {
        name: name.to_string(),
        retention_days: group.retention_in_days(),
        tags,
    }))
}

/// The ARN that TagResource wants.
pub async fn arn(clients: &Clients, name: &str) -> Result<String> {
    find(clients, name)
        .await?
        .map(|(_, arn)| arn)
        .with_context(|| format!("log group {name} is gone"))
}

/// Deletes the group; one already gone is done.
pub async fn delete(clients: &Clients, name: &str) -> Result<()> {
    match clients
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting log group {name}")),
    }
}
