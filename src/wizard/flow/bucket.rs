//! The question of where the logs go: a bucket flowlogs makes (named after the stack and the
//! account) or one that is already there.

use anyhow::Result;

use super::ask_into;
use crate::config::RawConfig;
use crate::wizard::draft::{self};
use crate::wizard::listing::ListError;
use crate::wizard::prompt::Ask;

pub(super) fn set_bucket(raw: &mut RawConfig, name: Option<&str>, create: bool) {
    raw.bucket.name = name.map(str::to_string);
    raw.bucket.create = create;
}

pub(super) fn ask_bucket<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    stack: &str,
    region: &str,
    account_id: Option<&str>,
    buckets: Result<Vec<String>, ListError>,
) -> Result<()> {
    let existing_label = match &buckets {
        Ok(names) if !names.is_empty() => format!(
            "An existing bucket, picked from the {} in this account",
            names.len()
        ),
        _ => "An existing bucket (type its name)".to_string(),
    };
    let flagged_existing = !raw.bucket.create;
    let flagged_name = raw.bucket.name.clone();
    let picked = q.select(
        "Where should the logs be stored?",
        &[
            "A new bucket that flowlogs creates and hardens".to_string(),
            existing_label,
        ],
        usize::from(flagged_existing),
    )?;
    if picked == 0 {
        // The derived name is proposed when the checker accepts it; taking it writes `name: null`.
        let proposed = account_id
            .map(|account| format!("{stack}-flowlogs-{account}-{region}"))
            .filter(|name| {
                let mut trial = raw.clone();
                set_bucket(&mut trial, Some(name), true);
                draft::verdict(&trial).is_ok()
            });
        let default = match (&flagged_name, flagged_existing) {
            (Some(name), false) => Some(name.clone()),
            _ => proposed.clone(),
        };
        let prompt = if proposed.is_some() {
            "Bucket name".to_string()
        } else {
            "Bucket name (Enter: <stack>-flowlogs-<account>-<region>, set at setup)".to_string()
        };
        let allow_empty = default.is_none();
        ask_into(q, raw, &prompt, default, allow_empty, &|r, t| {
            let derived = t.is_empty() || Some(t) == proposed.as_deref();
            set_bucket(r, (!derived).then_some(t), true);
            Ok(())
        })?;
        return Ok(());
    }
    let preset_name = flagged_name.filter(|_| flagged_existing);
    match buckets {
        Ok(names) if !names.is_empty() => {
            let mut items = names.clone();
            items.push("another bucket (type its name)".into());
            let default = preset_name
                .as_ref()
                .and_then(|p| names.iter().position(|n| n == p))
                .unwrap_or(0);
            let picked = q.select("Existing bucket to use", &items, default)?;
            if let Some(name) = names.get(picked) {
                set_bucket(raw, Some(name), false);
                return Ok(());
            }
        }
        Ok(_) => q.say("This account has no buckets yet: type the name of one you can use."),
        Err(e) => {
            q.say(&e.to_string());
            q.say("You can type the bucket's name instead.");
        }
    }
    ask_into(
        q,
        raw,
        "Name of the existing bucket",
        preset_name,
        false,
        &|r, t| {
            set_bucket(r, Some(t), false);
            Ok(())
        },
    )?;
    Ok(())
}
