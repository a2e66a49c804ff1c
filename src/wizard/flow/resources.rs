//! The question of what to log: VPCs (picked from the account's list), subnets or interfaces.

use anyhow::Result;

use super::ask_into;
use crate::config::{RawConfig, ResourceType};
use crate::wizard::draft::{self};
use crate::wizard::listing::{ListError, VpcInfo};
use crate::wizard::prompt::Ask;

pub(super) fn ask_resources<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    flagged: bool,
    region: &str,
    vpcs: Result<Vec<VpcInfo>, ListError>,
) -> Result<()> {
    let listed = match vpcs {
        Ok(vpcs) if vpcs.is_empty() => {
            q.say(&format!(
                "No VPCs found in {region}: type the ids, or check the region."
            ));
            Vec::new()
        }
        Ok(vpcs) => vpcs,
        Err(e) => {
            q.say(&e.to_string());
            q.say("You can type the ids by hand instead.");
            Vec::new()
        }
    };
    // (what the item picks, its label)
    let mut choices: Vec<(Option<ResourceType>, String)> = Vec::new();
    if !listed.is_empty() {
        choices.push((
            None,
            format!(
                "VPCs of this account, picked from a list ({} in {region})",
                listed.len()
            ),
        ));
    }
    choices.push((Some(ResourceType::Vpc), "VPC ids, typed by hand".into()));
    choices.push((
        Some(ResourceType::Subnet),
        "Subnet ids, typed by hand".into(),
    ));
    choices.push((
        Some(ResourceType::NetworkInterface),
        "Network interface (ENI) ids, typed by hand".into(),
    ));
    let (preset_kind, preset_ids) = match flagged {
        true => {
            let (kind, ids) = draft::resources(raw);
            (Some(kind), ids.to_vec())
        }
        false => (None, Vec::new()),
    };
    let preset_all_listed = !preset_ids.is_empty()
        && preset_ids
            .iter()
            .all(|id| listed.iter().any(|v| &v.id == id));
    let default = choices
        .iter()
        .position(|(kind, _)| match (kind, preset_kind) {
            (None, None) => true,
            (None, Some(ResourceType::Vpc)) => preset_all_listed,
            (Some(k), Some(p)) => *k == p && !(p == ResourceType::Vpc && preset_all_listed),
            _ => false,
        })
        .unwrap_or(0);
    let labels: Vec<String> = choices.iter().map(|(_, l)| l.clone()).collect();
    let picked = q.select("What should be logged?", &labels, default)?;
    match choices[picked].0 {
        None => {
            let labels: Vec<String> = listed.iter().map(VpcInfo::label).collect();
            let checked: Vec<bool> = listed.iter().map(|v| preset_ids.contains(&v.id)).collect();
            loop {
                let picked = q.multi_select(
                    "VPCs to log (Space picks, Enter confirms)",
                    &labels,
                    &checked,
                )?;
                if !picked.is_empty() {
                    let ids = picked.into_iter().map(|i| listed[i].id.clone()).collect();
                    draft::set_resources(raw, ResourceType::Vpc, ids);
                    return Ok(());
                }
                q.say("Pick at least one VPC with Space, then press Enter.");
            }
        }
        Some(kind) => {
            let prompt = match kind {
                ResourceType::Vpc => "VPC ids (separated by commas)",
                ResourceType::Subnet => "Subnet ids (separated by commas)",
                ResourceType::NetworkInterface => "Network interface ids (separated by commas)",
                ResourceType::TransitGateway => "Transit gateway ids (separated by commas)",
                ResourceType::TransitGatewayAttachment => {
                    "Transit gateway attachment ids (separated by commas)"
                }
            };
            let default = (preset_kind == Some(kind)).then(|| preset_ids.join(", "));
            ask_into(q, raw, prompt, default, false, &|r, t| {
                draft::set_resources(r, kind, draft::split_ids(t));
                Ok(())
            })?;
            Ok(())
        }
    }
}
