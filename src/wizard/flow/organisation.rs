//! The question a management account (or a delegated administrator) is asked first: flow logs in
//! the organisation's accounts, every VPC of each, in the regions chosen, into this stack's bucket
//! (`targets:`), or this account's VPCs only (the next question, `resources`).

use anyhow::Result;

use super::ask_into;
use crate::config::raw::{default_target_concurrency, default_target_role, RawTargets};
use crate::config::RawConfig;
use crate::wizard::listing::OrgInfo;
use crate::wizard::prompt::Ask;

/// Whether the user chose the organisation (then `targets` and `all_vpcs` are in the draft).
pub(super) fn ask_organisation<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    region: &str,
    org: &OrgInfo,
) -> Result<bool> {
    let whole = q.confirm(
        &format!(
            "These credentials manage the organisation {} ({} active accounts). Log every VPC of its accounts into this stack's bucket?",
            org.id,
            org.accounts.len()
        ),
        false,
    )?;
    if !whole {
        return Ok(false);
    }
    let picked = loop {
        let picked = q.multi_select(
            "Accounts (Space toggles, Enter confirms; all of them: the whole organisation, accounts it gains included)",
            &org.accounts,
            &vec![true; org.accounts.len()],
        )?;
        if !picked.is_empty() {
            break picked;
        }
        q.say("Pick at least one account with Space, then press Enter.");
    };
    let all = picked.len() == org.accounts.len();
    raw.flow_log.resources = Default::default();
    raw.flow_log.resources.all_vpcs = true;
    raw.targets = Some(RawTargets {
        accounts: if all {
            Vec::new()
        } else {
            picked.iter().map(|&i| org.accounts[i].clone()).collect()
        },
        organization: all,
        organizational_units: Vec::new(),
        exclude_accounts: Vec::new(),
        regions: Vec::new(),
        role: default_target_role(),
        external_id: None,
        concurrency: default_target_concurrency(),
    });
    ask_into(
        q,
        raw,
        "Regions to log in (separated by commas)",
        Some(region.to_string()),
        false,
        &|r, t| {
            if let Some(targets) = r.targets.as_mut() {
                targets.regions = t
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            Ok(())
        },
    )?;
    ask_into(
        q,
        raw,
        "Role to assume in each member account (a name, or an ARN with {account})",
        Some(default_target_role()),
        false,
        &|r, t| {
            if let Some(targets) = r.targets.as_mut() {
                targets.role = t.to_string();
            }
            Ok(())
        },
    )?;
    Ok(true)
}
