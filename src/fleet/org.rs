//! The accounts of an AWS Organization, read through the Organizations API (callable from the
//! management account or a delegated administrator): every ACTIVE account (ListAccounts), or those
//! under some OUs and their child OUs (ListAccountsForParent, ListOrganizationalUnitsForParent),
//! and the organisation's id (DescribeOrganization) that scopes the bucket policy.

use anyhow::{Context, Result};
use aws_sdk_organizations::Client;

use super::targets::is_active;

const WHERE_FROM: &str = "run flowlogs with credentials of the organisation's management account or a delegated administrator (organizations:ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent, DescribeOrganization), or list the accounts under `targets.accounts`";

/// The organisation's id (`o-...`).
pub async fn organization_id(client: &Client) -> Result<String> {
    let out = client
        .describe_organization()
        .send()
        .await
        .with_context(|| {
            format!("reading the organisation (organizations:DescribeOrganization); {WHERE_FROM}")
        })?;
    out.organization()
        .and_then(|o| o.id())
        .map(str::to_string)
        .context("organizations:DescribeOrganization returned no organisation id")
}

/// Every ACTIVE account of the organisation.
pub async fn active_accounts(client: &Client) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| {
            format!(
                "listing the organisation's accounts (organizations:ListAccounts); {WHERE_FROM}"
            )
        })?;
        found.extend(page.accounts().iter().filter_map(|a| {
            is_active(
                a.state().map(|s| s.as_str()),
                a.status().map(|s| s.as_str()),
            )
            .then(|| a.id().map(str::to_string))
            .flatten()
        }));
    }
    Ok(found)
}

/// Every ACTIVE account under `parents` (OUs or roots) and their child OUs, each once.
pub async fn accounts_under(client: &Client, parents: &[String]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut queue: Vec<String> = parents.to_vec();
    let mut seen: Vec<String> = Vec::new();
    while let Some(parent) = queue.pop() {
        if seen.contains(&parent) {
            continue;
        }
        seen.push(parent.clone());
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| {
                format!("listing the accounts of {parent} (organizations:ListAccountsForParent); check the id under `targets.organizational_units`, or {WHERE_FROM}")
            })?;
            for a in page.accounts() {
                let active = is_active(
                    a.state().map(|s| s.as_str()),
                    a.status().map(|s| s.as_str()),
                );
                if let (true, Some(id)) = (active, a.id()) {
                    if !found.iter().any(|f| f == id) {
                        found.push(id.to_string());
                    }
                }
            }
        }
        let mut pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| {
                format!("listing the OUs under {parent} (organizations:ListOrganizationalUnitsForParent); {WHERE_FROM}")
            })?;
            queue.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_string)),
            );
        }
    }
    Ok(found)
}
