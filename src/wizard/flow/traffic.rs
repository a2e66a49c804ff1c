//! The questions of what each record holds: the traffic type and the record format (default,
//! all fields, or fields picked from the catalogue).

use anyhow::Result;
use flowlogs_forwarder::format;

use crate::config::{RawConfig, TrafficType};
use crate::wizard::prompt::Ask;

pub(super) fn ask_traffic_type<Q: Ask>(q: &mut Q, raw: &mut RawConfig) -> Result<()> {
    let types = [TrafficType::All, TrafficType::Accept, TrafficType::Reject];
    let picked = q.select(
        "Traffic to log",
        &[
            "ALL (accepted and rejected)".to_string(),
            "ACCEPT (accepted only)".to_string(),
            "REJECT (rejected only)".to_string(),
        ],
        types
            .iter()
            .position(|t| *t == raw.flow_log.traffic_type)
            .unwrap_or(0),
    )?;
    raw.flow_log.traffic_type = types[picked];
    Ok(())
}

pub(super) fn ask_format<Q: Ask>(q: &mut Q, raw: &mut RawConfig) -> Result<()> {
    let given = raw.flow_log.format.trim().to_string();
    let default = match given.as_str() {
        "default" => 0,
        "all" => 1,
        _ => 2,
    };
    let picked = q.select(
        "Record format",
        &[
            "default: the 14 fields of version 2".to_string(),
            format!(
                "all: every field of versions 2 to 8 ({} fields)",
                format::fields().len()
            ),
            "custom: pick the fields".to_string(),
        ],
        default,
    )?;
    raw.flow_log.format = match picked {
        0 => "default".into(),
        1 => "all".into(),
        _ => {
            let fields = format::fields();
            let wanted: Vec<String> = match format::parse_log_format(&given) {
                Ok(custom) if default == 2 => custom.iter().map(|f| f.name.to_string()).collect(),
                _ => format::DEFAULT_FIELDS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            let labels: Vec<String> = fields.iter().map(field_label).collect();
            let checked: Vec<bool> = fields
                .iter()
                .map(|f| wanted.iter().any(|w| w == f.name))
                .collect();
            let picked = loop {
                let picked = q.multi_select(
                    "Fields, grouped by version (Space picks, Enter confirms)",
                    &labels,
                    &checked,
                )?;
                if !picked.is_empty() {
                    break picked;
                }
                q.say("Pick at least one field with Space, then press Enter.");
            };
            let mut names: Vec<String> =
                picked.iter().map(|&i| fields[i].name.to_string()).collect();
            if names.len() > 1
                && q.confirm(
                    &format!("Put the {} fields in another order?", names.len()),
                    false,
                )?
            {
                let order = q.sort("Field order (Space grabs a field, arrows move it)", &names)?;
                names = order.into_iter().map(|i| names[i].clone()).collect();
            }
            names
                .iter()
                .map(|f| format!("${{{f}}}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    Ok(())
}

/// `v3  pkt-srcaddr         The packet-level (original) source IP address...`
pub(super) fn field_label(field: &format::Field) -> String {
    // Fits an 80-column terminal with dialoguer's check mark in front.
    const WIDTH: usize = 46;
    let description = if field.description.chars().count() > WIDTH {
        let cut: String = field.description.chars().take(WIDTH - 3).collect();
        format!("{cut}...")
    } else {
        field.description.to_string()
    };
    format!("v{}  {:<20} {description}", field.version, field.name)
}
