//! The fleet of one run: the targets (listed accounts, or the organisation's or its OUs' ACTIVE
//! accounts, minus the excluded, times the regions, narrowed by `--accounts` / `--regions`), how
//! to reach each (`Connector`), how many at once, and the organisation's id for the bucket policy.
//! Without `targets:` (a selector alone) the stack's own account and region is the one target.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_config::SdkConfig;

use super::clients::Connector;
use super::org;
use super::targets::{self, Hub, Narrow};
use super::Target;
use crate::config::{AccountSource, Config};
use crate::desired::athena::Origins;
use crate::desired::fleet::Sources;

pub struct Fleet {
    pub targets: Vec<Target>,
    pub connector: Connector,
    pub concurrency: usize,
    /// The role as the config writes it (`None` without `targets:`).
    pub role: Option<String>,
    /// Who may deliver to the hub's bucket (every target before `--accounts` / `--regions`
    /// narrow the run); `None` without `targets:` (the stack's own account, as without a fleet).
    pub sources: Option<Sources>,
    /// Every target account (organisation mode: the ACTIVE ones found) and region, before
    /// `--accounts` / `--regions` narrow the run: what the Athena table reads, and whether the hub
    /// is a target; `None` without `targets:`.
    pub origins: Option<Origins>,
}

/// The fleet of `config` as seen from the hub; `None` when the config lists its resources (no
/// fleet: the hub's planner makes the flow logs).
pub async fn resolve(
    sdk: &SdkConfig,
    config: &Config,
    hub: &Hub<'_>,
    partition: &str,
    narrow: &Narrow,
) -> Result<Option<Fleet>> {
    if !targets::fleet_mode(config) {
        if !narrow.accounts.is_empty() || !narrow.regions.is_empty() {
            anyhow::bail!(
                "--accounts / --regions narrow the targets of a stack with `targets:`, and this config has none"
            );
        }
        return Ok(None);
    }
    let Some(t) = &config.targets else {
        let only = vec![Target::new(hub.account, hub.region)];
        let only = targets::narrow(only, narrow)?;
        let connector = Connector::new(
            sdk,
            hub.account,
            partition,
            &config.stack,
            &crate::config::TargetRole::Name(String::new()),
            None,
            &[],
        )
        .await;
        return Ok(Some(Fleet {
            targets: only,
            connector,
            concurrency: 1,
            role: None,
            sources: None,
            origins: None,
        }));
    };
    let organizations = || aws_sdk_organizations::Client::new(sdk);
    let (accounts, organization_id) = match &t.accounts {
        AccountSource::Accounts(listed) => (listed.clone(), None),
        AccountSource::Organization => {
            let client = organizations();
            let (accounts, id) =
                tokio::try_join!(org::active_accounts(&client), org::organization_id(&client))?;
            (accounts, Some(id))
        }
        AccountSource::OrganizationalUnits(units) => {
            let client = organizations();
            let (accounts, id) = tokio::try_join!(
                org::accounts_under(&client, units),
                org::organization_id(&client)
            )?;
            (accounts, Some(id))
        }
    };
    let regions = targets::regions(t, hub);
    let all = targets::expand(&accounts, &t.exclude_accounts, &regions);
    let target_accounts: Vec<String> = all.iter().map(|t| t.account.clone()).collect();
    let origins = Origins::new(&target_accounts, &regions);
    let sources = match organization_id {
        Some(id) => Sources::Organization(id),
        None => {
            let mut by_account: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for target in &all {
                by_account
                    .entry(target.account.clone())
                    .or_default()
                    .push(target.region.clone());
            }
            Sources::Accounts(by_account)
        }
    };
    let chosen = targets::narrow(all, narrow)?;
    let external_id = match &t.external_id {
        Some(v) => {
            let id = v.resolve("targets.external_id")?;
            crate::config::rules::external_id(&id)
                .map_err(|p| anyhow::anyhow!("targets.external_id: {}; {}", p.problem, p.fix))?;
            Some(id)
        }
        None => None,
    };
    let connector = Connector::new(
        sdk,
        hub.account,
        partition,
        &config.stack,
        &t.role,
        external_id.as_deref(),
        &chosen,
    )
    .await;
    Ok(Some(Fleet {
        targets: chosen,
        connector,
        concurrency: t.concurrency as usize,
        role: Some(t.role.as_written().to_string()),
        sources: Some(sources),
        origins: Some(origins),
    }))
}
