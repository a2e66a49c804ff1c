//! The questions, in order, over the `Ask` trait and the `Account` listing: stack, region, what to
//! log, traffic, format, interval, file format, partitions, bucket, delivery. Every answer is
//! written into the draft raw config (`draft`), and the config's checker judges it: a refused
//! answer is asked again with the checker's own message. Flags are the proposed answers.

use std::future::Future;

use anyhow::Result;
use flowlogs_forwarder::format;

use super::draft::{self, Draft};
use super::listing::{Account, ListError, VpcInfo};
use super::prompt::{Ask, Text};
use crate::config::{
    Architecture, DeliveryMode, FileFormat, OtlpProtocol, RawConfig, ResourceType, TrafficType,
};

/// Writes a typed answer into the draft; `Err` when the text is not even of the key's type.
type Set<'a> = &'a dyn Fn(&mut RawConfig, &str) -> Result<(), String>;

/// A text question whose answer `set` writes into the draft; the checker decides whether it stands.
fn ask_into<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    prompt: &str,
    default: Option<String>,
    allow_empty: bool,
    set: Set,
) -> Result<String> {
    let text = {
        let check = |text: &str| {
            let mut trial = raw.clone();
            set(&mut trial, text)?;
            draft::verdict(&trial)
        };
        q.text(&Text {
            prompt,
            default,
            allow_empty,
            check: &check,
        })?
    };
    set(raw, &text).map_err(anyhow::Error::msg)?;
    Ok(text)
}

fn number(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a whole number"))
}

/// Asks every question, starting from the flags' draft. `connect` gives the account of the region.
pub async fn ask<Q, A, F, Fut>(
    q: &mut Q,
    start: &Draft,
    region_default: Option<String>,
    connect: F,
) -> Result<RawConfig>
where
    Q: Ask,
    A: Account,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<A>>,
{
    let mut raw = start.raw.clone();
    q.say("flowlogs init: a few questions, then flowlogs.yaml is written (Esc or Ctrl-C leaves without writing).");
    let stack = ask_into(
        q,
        &mut raw,
        "Stack name (names and tags every resource)",
        Some(start.raw.stack.clone()),
        false,
        &|r, t| {
            r.stack = t.to_string();
            Ok(())
        },
    )?;
    let region = ask_into(q, &mut raw, "AWS region", region_default, false, &|r, t| {
        r.region = Some(t.to_string());
        Ok(())
    })?;

    q.say(&format!("Looking at the account in {region} ..."));
    let account = connect(region.clone()).await?;
    let (account_id, vpcs, buckets) =
        tokio::join!(account.account_id(), account.vpcs(), account.buckets());

    ask_resources(q, &mut raw, start.has_resources, &region, vpcs)?;
    ask_traffic_type(q, &mut raw)?;
    ask_format(q, &mut raw)?;
    let intervals = [600, 60];
    let f = &mut raw.flow_log;
    f.max_aggregation_interval = intervals[q.select(
        "Aggregation interval",
        &[
            "600 seconds (10 minutes: fewer, larger records)".to_string(),
            "60 seconds (1 minute: finer timing)".to_string(),
        ],
        usize::from(f.max_aggregation_interval == 60),
    )?];
    let formats = [FileFormat::PlainText, FileFormat::Parquet];
    f.file_format = formats[q.select(
        "File format",
        &[
            "plain-text (gzip text, one record per line)".to_string(),
            "parquet (columnar; needs the Lambda delivery)".to_string(),
        ],
        usize::from(f.file_format == FileFormat::Parquet),
    )?];
    f.hive_compatible_partitions = q.confirm(
        "Hive-compatible partitions (aws-account-id=.../year=... keys)?",
        f.hive_compatible_partitions,
    )?;
    f.per_hour_partition = q.confirm(
        "One folder per hour (per-hour partitions)?",
        f.per_hour_partition,
    )?;
    if raw.flow_log.file_format == FileFormat::Parquet {
        // Firehose takes plain text only: the delivery question is not asked (see ask_delivery).
        raw.delivery.mode = DeliveryMode::Lambda;
    }

    ask_bucket(q, &mut raw, &stack, &region, account_id.as_deref(), buckets)?;
    if raw.bucket.create {
        ask_into(
            q,
            &mut raw,
            "Keep logs for how many days?",
            Some(start.raw.bucket.retention_days.to_string()),
            false,
            &|r, t| {
                r.bucket.retention_days = number(t)?;
                Ok(())
            },
        )?;
    }
    ask_delivery(q, &mut raw, start)?;
    Ok(raw)
}

fn ask_resources<Q: Ask>(
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

fn ask_traffic_type<Q: Ask>(q: &mut Q, raw: &mut RawConfig) -> Result<()> {
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

fn ask_format<Q: Ask>(q: &mut Q, raw: &mut RawConfig) -> Result<()> {
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
fn field_label(field: &format::Field) -> String {
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

fn set_bucket(raw: &mut RawConfig, name: Option<&str>, create: bool) {
    raw.bucket.name = name.map(str::to_string);
    raw.bucket.create = create;
}

fn ask_bucket<Q: Ask>(
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

fn ask_delivery<Q: Ask>(q: &mut Q, raw: &mut RawConfig, start: &Draft) -> Result<()> {
    let mode = if raw.flow_log.file_format == FileFormat::Parquet {
        q.say("Delivery: lambda (Firehose takes plain text only, not parquet).");
        DeliveryMode::Lambda
    } else {
        let modes = [DeliveryMode::Lambda, DeliveryMode::Firehose];
        modes[q.select(
            "How should records reach your collector?",
            &[
                "lambda: a forwarder Lambda sends each new log file over OTLP/HTTP".to_string(),
                "firehose: Kinesis Data Firehose posts the records to an HTTP endpoint".to_string(),
            ],
            usize::from(raw.delivery.mode == DeliveryMode::Firehose),
        )?]
    };
    raw.delivery.mode = mode;
    if mode == DeliveryMode::Firehose {
        let url = start
            .has_firehose_url
            .then(|| draft::firehose(raw).url.clone());
        ask_into(q, raw, "Firehose HTTP endpoint URL", url, false, &|r, t| {
            draft::firehose(r).url = t.to_string();
            Ok(())
        })?;
        let env = draft::firehose(raw)
            .access_key
            .as_deref()
            .and_then(draft::env_of);
        ask_into(
            q,
            raw,
            "Name of the environment variable holding the access key (Enter for none)",
            env,
            true,
            &|r, t| {
                draft::firehose(r).access_key = (!t.is_empty()).then(|| draft::env_ref(t));
                Ok(())
            },
        )?;
        return Ok(());
    }
    let endpoint = start
        .has_endpoint
        .then(|| draft::otlp(raw).endpoint.clone());
    ask_into(
        q,
        raw,
        "OTLP/HTTP endpoint (base URL; /v1/logs is added)",
        endpoint,
        false,
        &|r, t| {
            draft::otlp(r).endpoint = t.to_string();
            Ok(())
        },
    )?;
    let protocols = [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson];
    let otlp = draft::otlp(raw);
    otlp.protocol = protocols[q.select(
        "OTLP protocol",
        &["http/protobuf".to_string(), "http/json".to_string()],
        usize::from(otlp.protocol == OtlpProtocol::HttpJson),
    )?];
    let flagged_header = draft::header(raw);
    // The header's name first (its value's variable is proposed from it), then the variable.
    let header_name = ask_into(
        q,
        raw,
        "Auth header name, for example signoz-ingestion-key (Enter for none)",
        flagged_header.as_ref().map(|(name, _)| name.clone()),
        true,
        &|r, t| {
            let env = draft::env_name_for(t);
            draft::set_header(r, (!t.is_empty()).then_some((t, env.as_str())));
            Ok(())
        },
    )?;
    if !header_name.is_empty() {
        let env = match &flagged_header {
            Some((name, Some(env))) if *name == header_name => env.clone(),
            _ => draft::env_name_for(&header_name),
        };
        ask_into(
            q,
            raw,
            &format!(
                "Name of the environment variable holding the {header_name} value (the name, not the secret)"
            ),
            Some(env),
            false,
            &|r, t| {
                draft::set_header(r, Some((&header_name, t)));
                Ok(())
            },
        )?;
    }
    let service_name = draft::otlp(raw).service_name.clone();
    ask_into(
        q,
        raw,
        "Service name (service.name of every record)",
        Some(service_name),
        false,
        &|r, t| {
            draft::otlp(r).service_name = t.to_string();
            Ok(())
        },
    )?;
    let memory = raw.delivery.lambda.memory_mb.to_string();
    ask_into(
        q,
        raw,
        "Lambda memory (MB)",
        Some(memory),
        false,
        &|r, t| {
            r.delivery.lambda.memory_mb = number(t)?;
            Ok(())
        },
    )?;
    let timeout = raw.delivery.lambda.timeout_s.to_string();
    ask_into(
        q,
        raw,
        "Lambda timeout (seconds)",
        Some(timeout),
        false,
        &|r, t| {
            r.delivery.lambda.timeout_s = number(t)?;
            Ok(())
        },
    )?;
    let architectures = [Architecture::X86_64, Architecture::Arm64];
    let lambda = &mut raw.delivery.lambda;
    lambda.architecture = architectures[q.select(
        "Lambda architecture",
        &["x86_64".to_string(), "arm64".to_string()],
        usize::from(lambda.architecture == Architecture::Arm64),
    )?];
    Ok(())
}

/// The summary shown before the file is written.
pub fn summary(a: &RawConfig) -> Vec<String> {
    let (kind, ids) = draft::resources(a);
    let what = match kind {
        ResourceType::Vpc => "VPC",
        ResourceType::Subnet => "subnet",
        ResourceType::NetworkInterface => "network interface",
    };
    let f = &a.flow_log;
    let format = match f.format.as_str() {
        "default" => "default format".to_string(),
        "all" => "all fields".to_string(),
        custom => format!("{} fields", custom.split_whitespace().count()),
    };
    let mut partitions = Vec::new();
    if f.hive_compatible_partitions {
        partitions.push(", hive partitions");
    }
    if f.per_hour_partition {
        partitions.push(", hourly folders");
    }
    let days = a.bucket.retention_days;
    let bucket = match (&a.bucket.name, a.bucket.create) {
        (None, _) => {
            format!("a new bucket named <stack>-flowlogs-<account>-<region>; logs kept {days} days")
        }
        (Some(name), true) => format!("a new bucket {name}; logs kept {days} days"),
        (Some(name), false) => format!("the existing bucket {name}"),
    };
    let d = &a.delivery;
    let delivery = match (d.mode, &d.otlp, &d.firehose) {
        (DeliveryMode::Lambda, Some(otlp), _) => {
            let header = match draft::header(a) {
                Some((name, Some(env))) => format!(", header {name} from ${env}"),
                Some((name, None)) => format!(", header {name}"),
                None => String::new(),
            };
            format!(
                "Lambda ({} MB, {} s, {}) -> {} ({}{header}), service {}",
                d.lambda.memory_mb,
                d.lambda.timeout_s,
                d.lambda.architecture.as_aws(),
                otlp.endpoint,
                otlp.protocol.as_env(),
                otlp.service_name
            )
        }
        (DeliveryMode::Firehose, _, Some(fh)) => {
            match fh.access_key.as_deref().and_then(draft::env_of) {
                Some(env) => format!("Firehose -> {}, access key from ${env}", fh.url),
                None => format!("Firehose -> {}", fh.url),
            }
        }
        (mode, _, _) => format!("{mode:?}"),
    };
    vec![
        "Summary:".to_string(),
        format!(
            "  stack     {} in {}",
            a.stack,
            a.region.as_deref().unwrap_or("the profile's region")
        ),
        format!(
            "  log       {} {}: {} traffic",
            what,
            ids.join(", "),
            f.traffic_type.as_aws()
        ),
        format!(
            "  records   {format}, {} s interval, {}{}",
            f.max_aggregation_interval,
            f.file_format.as_aws(),
            partitions.concat()
        ),
        format!("  bucket    {bucket}"),
        format!("  delivery  {delivery}"),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::cli::InitAnswers;
    use crate::wizard::prompt::Cancelled;
    use crate::wizard::render::render;

    /// Scripted answers, in order; panics when the flow asks something unexpected.
    #[derive(Default)]
    struct Script {
        replies: VecDeque<Reply>,
        said: Vec<String>,
        asked: Vec<String>,
        /// What each refused answer was told, as the terminal shows it before asking again.
        refused: Vec<String>,
    }

    enum Reply {
        Text(&'static str),
        Pick(usize),
        Picks(Vec<usize>),
        Yes(bool),
        Cancel,
    }

    impl Script {
        fn new(replies: Vec<Reply>) -> Script {
            Script {
                replies: replies.into(),
                ..Script::default()
            }
        }

        fn next(&mut self, prompt: &str) -> Reply {
            self.asked.push(prompt.to_string());
            self.replies
                .pop_front()
                .unwrap_or_else(|| panic!("no reply left for `{prompt}`"))
        }
    }

    impl Ask for Script {
        fn text(&mut self, t: &super::Text) -> Result<String> {
            loop {
                match self.next(t.prompt) {
                    Reply::Text(s) => {
                        let value = match (s, &t.default) {
                            ("", Some(d)) => d.clone(),
                            (s, _) => s.to_string(),
                        };
                        if value.is_empty() && t.allow_empty {
                            return Ok(value);
                        }
                        match (t.check)(&value) {
                            Ok(()) => return Ok(value),
                            Err(message) => self.refused.push(message),
                        }
                    }
                    Reply::Cancel => return Err(Cancelled.into()),
                    _ => panic!("`{}` is a text question", t.prompt),
                }
            }
        }
        fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
            match self.next(prompt) {
                Reply::Pick(i) => {
                    assert!(i < items.len());
                    Ok(i)
                }
                Reply::Text("") => Ok(default),
                Reply::Cancel => Err(Cancelled.into()),
                _ => panic!("`{prompt}` is a select"),
            }
        }
        fn multi_select(
            &mut self,
            prompt: &str,
            _items: &[String],
            checked: &[bool],
        ) -> Result<Vec<usize>> {
            match self.next(prompt) {
                Reply::Picks(p) => Ok(p),
                Reply::Text("") => Ok((0..checked.len()).filter(|&i| checked[i]).collect()),
                Reply::Cancel => Err(Cancelled.into()),
                _ => panic!("`{prompt}` is a multi-select"),
            }
        }
        fn sort(&mut self, prompt: &str, _items: &[String]) -> Result<Vec<usize>> {
            match self.next(prompt) {
                Reply::Picks(p) => Ok(p),
                _ => panic!("`{prompt}` is a sort"),
            }
        }
        fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
            match self.next(prompt) {
                Reply::Yes(b) => Ok(b),
                Reply::Text("") => Ok(default),
                Reply::Cancel => Err(Cancelled.into()),
                _ => panic!("`{prompt}` is a confirm"),
            }
        }
        fn say(&mut self, line: &str) {
            self.said.push(line.to_string());
        }
    }

    struct FakeAccount {
        vpcs: Result<Vec<VpcInfo>, ListError>,
        buckets: Result<Vec<String>, ListError>,
    }

    impl Account for FakeAccount {
        async fn account_id(&self) -> Option<String> {
            Some("123456789012".into())
        }
        async fn vpcs(&self) -> Result<Vec<VpcInfo>, ListError> {
            self.vpcs.clone()
        }
        async fn buckets(&self) -> Result<Vec<String>, ListError> {
            self.buckets.clone()
        }
    }

    fn two_vpcs() -> FakeAccount {
        let vpc = |id: &str, cidr: &str| VpcInfo {
            id: id.into(),
            name: Some("x".into()),
            cidr: cidr.into(),
            is_default: false,
            flow_logs: vec![],
        };
        FakeAccount {
            vpcs: Ok(vec![
                vpc("vpc-0aaa", "10.0.0.0/16"),
                vpc("vpc-0bbb", "10.1.0.0/16"),
            ]),
            buckets: Ok(vec!["logs-a".into(), "logs-b".into()]),
        }
    }

    fn denied() -> ListError {
        ListError {
            action: "list the VPCs (ec2:DescribeVpcs)".into(),
            problem: "these credentials are not allowed to call ec2:DescribeVpcs".into(),
            fix: "ask for ec2:DescribeVpcs".into(),
        }
    }

    async fn run(
        script: &mut Script,
        flags: &InitAnswers,
        account: FakeAccount,
    ) -> Result<RawConfig> {
        let start = Draft::from_flags(flags, None);
        ask(script, &start, Some("us-east-1".into()), |_| async {
            Ok(account)
        })
        .await
    }

    use Reply::*;

    #[tokio::test]
    async fn defaults_everywhere_give_the_non_interactive_answers() {
        let mut script = Script::new(vec![
            Text("demo"),   // stack
            Text(""),       // region
            Pick(0),        // from the list
            Picks(vec![1]), // vpc-0bbb
            Text(""),       // traffic
            Text(""),       // format
            Text(""),       // interval
            Text(""),       // file format
            Text(""),       // hive
            Text(""),       // hourly
            Pick(0),        // new bucket
            Text(""),       // proposed name
            Text(""),       // retention
            Text(""),       // lambda
            Text("https://otel.example.com:4318"),
            Text(""), // protocol
            Text(""), // no header
            Text(""), // service name
            Text(""), // memory
            Text(""), // timeout
            Text(""), // arch
        ]);
        let answers = run(&mut script, &InitAnswers::default(), two_vpcs())
            .await
            .unwrap();
        assert!(script.replies.is_empty());
        let flags = Draft::from_flags(
            &InitAnswers {
                stack: Some("demo".into()),
                vpc_id: vec!["vpc-0bbb".into()],
                endpoint: Some("https://otel.example.com:4318".into()),
                ..InitAnswers::default()
            },
            Some("us-east-1".into()),
        )
        .into_answers()
        .unwrap();
        assert_eq!(
            answers.bucket.name, None,
            "the proposed name is the derived one"
        );
        assert_eq!(render(&answers), render(&flags));
    }

    #[tokio::test]
    async fn custom_format_keeps_the_order_the_user_sorts() {
        let mut script = Script::new(vec![
            Text("demo"),
            Text(""),
            Pick(1), // VPC ids typed
            Text("vpc-0123, vpc-0456"),
            Pick(2),               // REJECT
            Pick(2),               // custom
            Picks(vec![0, 3, 14]), // version, srcaddr, vpc-id
            Yes(true),
            Picks(vec![2, 0, 1]),
            Pick(1), // 60 s
            Pick(1), // parquet
            Yes(true),
            Yes(false),
            Pick(1), // existing bucket
            Pick(1), // logs-b
            // parquet: no delivery mode question
            Text("http://127.0.0.1:4318"),
            Pick(1), // http/json
            Text("x-api-key"),
            Text(""), // X_API_KEY proposed
            Text("my-flows"),
            Text("1024"),
            Text("60"),
            Pick(1),
        ]);
        let a = run(&mut script, &InitAnswers::default(), two_vpcs())
            .await
            .unwrap();
        assert!(script.replies.is_empty());
        assert_eq!(a.flow_log.resources.vpc_ids, ["vpc-0123", "vpc-0456"]);
        assert_eq!(a.flow_log.traffic_type, TrafficType::Reject);
        assert_eq!(a.flow_log.format, "${vpc-id} ${version} ${srcaddr}");
        assert_eq!(a.flow_log.max_aggregation_interval, 60);
        assert_eq!(a.flow_log.file_format, FileFormat::Parquet);
        assert!(a.flow_log.hive_compatible_partitions && !a.flow_log.per_hour_partition);
        assert_eq!(a.bucket.name.as_deref(), Some("logs-b"));
        assert!(!a.bucket.create);
        assert!(script
            .said
            .iter()
            .any(|s| s.contains("Firehose takes plain text")));
        assert_eq!(a.delivery.mode, DeliveryMode::Lambda);
        assert_eq!(
            draft::header(&a),
            Some(("x-api-key".into(), Some("X_API_KEY".into())))
        );
        assert_eq!(a.delivery.lambda.architecture, Architecture::Arm64);
        let text = render(&a);
        assert!(
            text.contains("format: \"${vpc-id} ${version} ${srcaddr}\""),
            "{text}"
        );
        crate::config::parse(&text, std::path::Path::new("f.yaml"), &|_| None).unwrap();
    }

    #[tokio::test]
    async fn listing_errors_are_explained_and_ids_can_be_typed() {
        let account = FakeAccount {
            vpcs: Err(denied()),
            buckets: Err(denied()),
        };
        let mut script = Script::new(vec![
            Text("demo"),
            Text(""),
            Pick(1), // subnets (the list is not offered)
            Text("subnet-0abc"),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Pick(1), // existing bucket: typed
            Text("my-bucket"),
            Pick(1), // firehose
            // a port Firehose does not deliver to: refused by the config's rule, asked again
            Text("https://o2.example.com:5080/aws/default/vpcflowlog/_kinesis_firehose"),
            Text("https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose"),
            Text("O2_KEY"),
        ]);
        let a = run(&mut script, &InitAnswers::default(), account)
            .await
            .unwrap();
        assert!(script
            .said
            .iter()
            .any(|s| s.contains("not allowed to call ec2:DescribeVpcs") && s.contains("fix:")));
        assert!(
            script
                .refused
                .iter()
                .any(|s| s.contains("port 443 only") && s.contains("https://o2.example.com/aws/")),
            "{:?}",
            script.refused
        );
        assert_eq!(script.asked[2], "What should be logged?");
        assert_eq!(draft::resources(&a).0, ResourceType::Subnet);
        assert_eq!(a.bucket.name.as_deref(), Some("my-bucket"));
        assert!(!a.bucket.create);
        assert_eq!(a.delivery.mode, DeliveryMode::Firehose);
        assert_eq!(
            a.delivery.firehose.as_ref().unwrap().access_key.as_deref(),
            Some("${env:O2_KEY}")
        );
    }

    #[tokio::test]
    async fn cancel_at_any_prompt_stops_the_flow() {
        let mut script = Script::new(vec![Text("demo"), Text(""), Cancel]);
        let err = run(&mut script, &InitAnswers::default(), two_vpcs())
            .await
            .unwrap_err();
        assert!(err.downcast_ref::<Cancelled>().is_some());
    }

    /// A file with every answer the table below changes, as the wizard would write it.
    const FILE: &str = r#"
version: 1
stack: demo
region: us-east-1
flow_log:
  resources: { subnet_ids: [subnet-0abc] }
bucket:
  name: my-logs
  retention_days: 90
delivery:
  mode: lambda
  otlp:
    endpoint: https://otel.example.com:4318
    headers: { x-api-key: "${env:X_API_KEY}" }
    service_name: vpc-flows
  lambda: { memory_mb: 512, timeout_s: 300 }
"#;

    /// The text replies that reach each question of FILE's answers, with `bad` at `at`, then `good`.
    fn replies(at: usize, bad: &'static str, good: &'static str) -> Vec<Reply> {
        let mut replies = vec![
            Text("demo"),        // 0 stack
            Text(""),            // 1 region
            Pick(2),             // subnets
            Text("subnet-0abc"), // 2 ids
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Pick(0),                               // new bucket
            Text("my-logs"),                       // 3 bucket name
            Text(""),                              // 4 retention
            Pick(0),                               // lambda
            Text("https://otel.example.com:4318"), // 5 endpoint
            Text(""),                              // protocol
            Text("x-api-key"),                     // 6 header name
            Text("X_API_KEY"),                     // 7 header variable
            Text("vpc-flows"),                     // 8 service name
            Text(""),                              // 9 memory
            Text(""),                              // 10 timeout
            Text(""),                              // architecture
        ];
        // Where the text answers of the comments' numbers sit in `replies`.
        const TEXTS: [usize; 11] = [0, 1, 3, 11, 12, 14, 16, 17, 18, 19, 20];
        let slot = TEXTS[at];
        replies[slot] = Text(good);
        replies.insert(slot, Text(bad));
        replies
    }

    /// Issue 13: every rule lives in the config. The same bad value, given to the wizard and
    /// written in a file, is refused with the same key, problem and fix.
    #[tokio::test]
    async fn the_wizard_and_a_file_refuse_the_same_values_with_the_same_message() {
        let table: [(usize, &str, &str, &str, &str); 13] = [
            (0, "Prod_VPC", "demo", "stack: demo", "stack: Prod_VPC"),
            (
                0,
                "a-stack-name-longer-than-24",
                "demo",
                "stack: demo",
                "stack: a-stack-name-longer-than-24",
            ),
            (
                1,
                "mars-1",
                "us-east-1",
                "region: us-east-1",
                "region: mars-1",
            ),
            (
                2,
                "subnet-xyz",
                "subnet-0abc",
                "subnet-0abc]",
                "subnet-xyz]",
            ),
            (
                2,
                "subnet-1 subnet-1",
                "subnet-0abc",
                "subnet-0abc]",
                "subnet-1, subnet-1]",
            ),
            (
                3,
                "My_Bucket",
                "my-logs",
                "name: my-logs",
                "name: My_Bucket",
            ),
            (4, "0", "90", "retention_days: 90", "retention_days: 0"),
            (
                5,
                "collector:4318",
                "https://otel.example.com:4318",
                "endpoint: https://otel.example.com:4318",
                "endpoint: collector:4318",
            ),
            (6, "x api key", "x-api-key", "{ x-api-key:", "{ x api key:"),
            // The drift issue 13 names: a variable starting with a digit.
            (7, "2KEY", "X_API_KEY", "${env:X_API_KEY}", "${env:2KEY}"),
            (
                8,
                " ",
                "vpc-flows",
                "service_name: vpc-flows",
                "service_name: \" \"",
            ),
            (9, "64", "512", "memory_mb: 512", "memory_mb: 64"),
            (10, "901", "300", "timeout_s: 300", "timeout_s: 901"),
        ];
        let good_file = crate::config::parse(FILE, std::path::Path::new("f.yaml"), &|_| None);
        assert!(good_file.is_ok(), "{good_file:?}");
        for (at, bad, good, from, to) in table {
            let text = FILE.replace(from, to);
            assert_ne!(text, FILE, "{from}");
            let file_error = crate::config::parse(&text, std::path::Path::new("f.yaml"), &|_| None)
                .expect_err(bad);
            let mut script = Script::new(replies(at, bad, good));
            let a = run(&mut script, &InitAnswers::default(), two_vpcs())
                .await
                .unwrap_or_else(|e| panic!("{bad}: {e}"));
            assert!(script.replies.is_empty(), "{bad}: replies left");
            assert_eq!(script.refused, [file_error.message()], "{bad}");
            // And what the wizard finally holds is the file without the bad value.
            assert_eq!(
                crate::config::parse(&render(&a), std::path::Path::new("f.yaml"), &|_| None)
                    .map(|c| c.stack),
                Ok("demo".to_string())
            );
        }
    }

    #[test]
    fn field_labels_show_version_and_name() {
        let label = field_label(format::lookup("pkt-srcaddr").unwrap());
        assert!(label.starts_with("v3  pkt-srcaddr"), "{label}");
    }
}
