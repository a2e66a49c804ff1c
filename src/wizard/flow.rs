//! The questions, in order, over the `Ask` trait and the `Account` listing: stack, region, what to
//! log, traffic, format, interval, file format, partitions, bucket, delivery. Flags given on the
//! command line (`Preset`) become the proposed answers.

use std::future::Future;

use anyhow::Result;
use flowlogs_forwarder::format;

use super::answers::{
    self, Answers, BucketChoice, DeliveryAnswers, FormatChoice, Header, LambdaAnswers, OtlpAnswers,
    Preset, Resources,
};
use super::listing::{Account, VpcInfo};
use super::prompt::{Ask, Text};
use crate::config::{
    Architecture, DeliveryMode, FileFormat, OtlpProtocol, ResourceType, TrafficType,
};

/// Asks every question. `connect` gives the account of the chosen region.
pub async fn ask<Q, A, F, Fut>(
    q: &mut Q,
    preset: &Preset,
    region_default: Option<String>,
    connect: F,
) -> Result<Answers>
where
    Q: Ask,
    A: Account,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<A>>,
{
    q.say("flowlogs init: a few questions, then flowlogs.yaml is written (Esc or Ctrl-C leaves without writing).");
    let stack = q.text(&Text {
        prompt: "Stack name (names and tags every resource)",
        default: Some(
            preset
                .stack
                .clone()
                .unwrap_or_else(|| answers::DEFAULT_STACK.into()),
        ),
        allow_empty: false,
        check: &answers::check_stack,
    })?;
    let region = q.text(&Text {
        prompt: "AWS region",
        default: region_default,
        allow_empty: false,
        check: &answers::check_region,
    })?;

    q.say(&format!("Looking at the account in {region} ..."));
    let account = connect(region.clone()).await?;
    let (account_id, vpcs, buckets) =
        tokio::join!(account.account_id(), account.vpcs(), account.buckets());

    let resources = ask_resources(q, preset, &region, vpcs)?;
    let traffic_type = ask_traffic_type(q, preset)?;
    let format = ask_format(q, preset)?;
    let intervals = [600, 60];
    let interval = q.select(
        "Aggregation interval",
        &[
            "600 seconds (10 minutes: fewer, larger records)".to_string(),
            "60 seconds (1 minute: finer timing)".to_string(),
        ],
        intervals
            .iter()
            .position(|i| Some(*i) == preset.max_aggregation_interval)
            .unwrap_or(0),
    )?;
    let file_format = match q.select(
        "File format",
        &[
            "plain-text (gzip text, one record per line)".to_string(),
            "parquet (columnar; needs the Lambda delivery)".to_string(),
        ],
        usize::from(preset.file_format == Some(FileFormat::Parquet)),
    )? {
        0 => FileFormat::PlainText,
        _ => FileFormat::Parquet,
    };
    let hive = q.confirm(
        "Hive-compatible partitions (aws-account-id=.../year=... keys)?",
        preset.hive_compatible_partitions,
    )?;
    let hourly = q.confirm(
        "One folder per hour (per-hour partitions)?",
        preset.per_hour_partition,
    )?;

    let bucket = ask_bucket(q, preset, &stack, &region, account_id.as_deref(), buckets)?;
    let retention_days = match &bucket {
        BucketChoice::Existing(_) => preset
            .retention_days
            .unwrap_or(answers::DEFAULT_RETENTION_DAYS),
        _ => ask_number(
            q,
            "Keep logs for how many days?",
            preset
                .retention_days
                .unwrap_or(answers::DEFAULT_RETENTION_DAYS),
            &answers::check_retention,
        )?,
    };

    let delivery = ask_delivery(q, preset, file_format)?;

    Ok(Answers {
        stack,
        region: Some(region),
        resources,
        traffic_type,
        format,
        max_aggregation_interval: intervals[interval],
        file_format,
        hive_compatible_partitions: hive,
        per_hour_partition: hourly,
        bucket,
        retention_days,
        delivery,
    })
}

fn ask_resources<Q: Ask>(
    q: &mut Q,
    preset: &Preset,
    region: &str,
    vpcs: Result<Vec<VpcInfo>, super::listing::ListError>,
) -> Result<Resources> {
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
    let preset_kind = preset.resources.as_ref().map(|r| r.kind);
    let preset_ids: &[String] = preset.resources.as_ref().map_or(&[], |r| &r.ids);
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
                    return Ok(Resources {
                        kind: ResourceType::Vpc,
                        ids: picked.into_iter().map(|i| listed[i].id.clone()).collect(),
                    });
                }
                q.say("Pick at least one VPC with Space, then press Enter.");
            }
        }
        Some(kind) => {
            let (prompt, example) = match kind {
                ResourceType::Vpc => ("VPC ids (separated by commas)", "vpc-"),
                ResourceType::Subnet => ("Subnet ids (separated by commas)", "subnet-"),
                ResourceType::NetworkInterface => {
                    ("Network interface ids (separated by commas)", "eni-")
                }
            };
            let default = (preset_kind == Some(kind)).then(|| preset_ids.join(", "));
            let check = move |text: &str| answers::parse_ids(kind, text).map(|_| ());
            let text = q.text(&Text {
                prompt,
                default,
                allow_empty: false,
                check: &check,
            })?;
            let ids = answers::parse_ids(kind, &text)
                .map_err(|p| anyhow::anyhow!("{p} (expected {example}... ids)"))?;
            Ok(Resources { kind, ids })
        }
    }
}

fn ask_traffic_type<Q: Ask>(q: &mut Q, preset: &Preset) -> Result<TrafficType> {
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
            .position(|t| Some(*t) == preset.traffic_type)
            .unwrap_or(0),
    )?;
    Ok(types[picked])
}

fn ask_format<Q: Ask>(q: &mut Q, preset: &Preset) -> Result<FormatChoice> {
    let default = match &preset.format {
        None | Some(FormatChoice::Default) => 0,
        Some(FormatChoice::All) => 1,
        Some(FormatChoice::Custom(_)) => 2,
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
    match picked {
        0 => Ok(FormatChoice::Default),
        1 => Ok(FormatChoice::All),
        _ => {
            let fields = format::fields();
            let wanted: Vec<String> = match &preset.format {
                Some(FormatChoice::Custom(names)) => names.clone(),
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
            Ok(FormatChoice::Custom(names))
        }
    }
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

fn ask_bucket<Q: Ask>(
    q: &mut Q,
    preset: &Preset,
    stack: &str,
    region: &str,
    account_id: Option<&str>,
    buckets: Result<Vec<String>, super::listing::ListError>,
) -> Result<BucketChoice> {
    let existing_label = match &buckets {
        Ok(names) if !names.is_empty() => format!(
            "An existing bucket, picked from the {} in this account",
            names.len()
        ),
        _ => "An existing bucket (type its name)".to_string(),
    };
    let picked = q.select(
        "Where should the logs be stored?",
        &[
            "A new bucket that flowlogs creates and hardens".to_string(),
            existing_label,
        ],
        usize::from(matches!(preset.bucket, Some(BucketChoice::Existing(_)))),
    )?;
    if picked == 0 {
        let proposed = account_id
            .map(|account| answers::derived_bucket_name(stack, account, region))
            .filter(|name| crate::config::check_bucket_name(name).is_ok());
        let default = match &preset.bucket {
            Some(BucketChoice::New(name)) => Some(name.clone()),
            _ => proposed.clone(),
        };
        let prompt = if proposed.is_some() {
            "Bucket name".to_string()
        } else {
            "Bucket name (Enter: <stack>-flowlogs-<account>-<region>, set at setup)".to_string()
        };
        let check = |name: &str| crate::config::check_bucket_name(name);
        let name = q.text(&Text {
            prompt: &prompt,
            allow_empty: default.is_none(),
            default,
            check: &check,
        })?;
        return Ok(if name.is_empty() || Some(&name) == proposed.as_ref() {
            BucketChoice::Derived
        } else {
            BucketChoice::New(name)
        });
    }
    let preset_name = match &preset.bucket {
        Some(BucketChoice::Existing(name)) => Some(name.clone()),
        _ => None,
    };
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
                return Ok(BucketChoice::Existing(name.clone()));
            }
        }
        Ok(_) => q.say("This account has no buckets yet: type the name of one you can use."),
        Err(e) => {
            q.say(&e.to_string());
            q.say("You can type the bucket's name instead.");
        }
    }
    let check = |name: &str| crate::config::check_bucket_name(name);
    let name = q.text(&Text {
        prompt: "Name of the existing bucket",
        default: preset_name,
        allow_empty: false,
        check: &check,
    })?;
    Ok(BucketChoice::Existing(name))
}

fn ask_delivery<Q: Ask>(
    q: &mut Q,
    preset: &Preset,
    file_format: FileFormat,
) -> Result<DeliveryAnswers> {
    let mode = if file_format == FileFormat::Parquet {
        q.say("Delivery: lambda (Firehose takes plain text only, not parquet).");
        DeliveryMode::Lambda
    } else {
        let picked = q.select(
            "How should records reach your collector?",
            &[
                "lambda: a forwarder Lambda sends each new log file over OTLP/HTTP".to_string(),
                "firehose: Kinesis Data Firehose posts the records to an HTTP endpoint".to_string(),
            ],
            usize::from(preset.mode == Some(DeliveryMode::Firehose)),
        )?;
        if picked == 0 {
            DeliveryMode::Lambda
        } else {
            DeliveryMode::Firehose
        }
    };
    if mode == DeliveryMode::Firehose {
        let url = q.text(&Text {
            prompt: "Firehose HTTP endpoint URL",
            default: preset.firehose_url.clone(),
            allow_empty: false,
            check: &answers::check_url,
        })?;
        let env = q.text(&Text {
            prompt: "Name of the environment variable holding the access key (Enter for none)",
            default: preset.access_key_env.clone(),
            allow_empty: true,
            check: &answers::check_env_name,
        })?;
        return Ok(DeliveryAnswers::Firehose {
            url,
            access_key_env: (!env.is_empty()).then_some(env),
        });
    }
    let endpoint = q.text(&Text {
        prompt: "OTLP/HTTP endpoint (base URL; /v1/logs is added)",
        default: preset.endpoint.clone(),
        allow_empty: false,
        check: &answers::check_url,
    })?;
    let protocols = [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson];
    let protocol = protocols[q.select(
        "OTLP protocol",
        &["http/protobuf".to_string(), "http/json".to_string()],
        usize::from(preset.protocol == Some(OtlpProtocol::HttpJson)),
    )?];
    let header_name = q.text(&Text {
        prompt: "Auth header name, for example signoz-ingestion-key (Enter for none)",
        default: preset.header.as_ref().map(|h| h.name.clone()),
        allow_empty: true,
        check: &answers::check_header_name,
    })?;
    let header = if header_name.is_empty() {
        None
    } else {
        let env = q.text(&Text {
            prompt: &format!(
                "Name of the environment variable holding the {header_name} value (the name, not the secret)"
            ),
            default: Some(match &preset.header {
                Some(h) if h.name == header_name => h.env.clone(),
                _ => answers::env_name_for(&header_name),
            }),
            allow_empty: false,
            check: &answers::check_env_name,
        })?;
        Some(Header {
            name: header_name,
            env,
        })
    };
    let service_name = q.text(&Text {
        prompt: "Service name (service.name of every record)",
        default: Some(
            preset
                .service_name
                .clone()
                .unwrap_or_else(|| answers::DEFAULT_SERVICE_NAME.into()),
        ),
        allow_empty: false,
        check: &answers::check_service_name,
    })?;
    let memory_mb = ask_number(
        q,
        "Lambda memory (MB)",
        preset.memory_mb.unwrap_or(answers::DEFAULT_MEMORY_MB),
        &answers::check_memory,
    )?;
    let timeout_s = ask_number(
        q,
        "Lambda timeout (seconds)",
        preset.timeout_s.unwrap_or(answers::DEFAULT_TIMEOUT_S),
        &answers::check_timeout,
    )?;
    let architectures = [Architecture::X86_64, Architecture::Arm64];
    let architecture = architectures[q.select(
        "Lambda architecture",
        &["x86_64".to_string(), "arm64".to_string()],
        usize::from(preset.architecture == Some(Architecture::Arm64)),
    )?];
    Ok(DeliveryAnswers::Lambda {
        otlp: OtlpAnswers {
            endpoint,
            protocol,
            header,
            service_name,
        },
        lambda: LambdaAnswers {
            memory_mb,
            timeout_s,
            architecture,
        },
    })
}

fn ask_number<Q: Ask>(
    q: &mut Q,
    prompt: &str,
    default: u32,
    check: &dyn Fn(u32) -> Result<(), String>,
) -> Result<u32> {
    let parse_and_check = |text: &str| -> Result<(), String> {
        let n: u32 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a whole number"))?;
        check(n)
    };
    let text = q.text(&Text {
        prompt,
        default: Some(default.to_string()),
        allow_empty: false,
        check: &parse_and_check,
    })?;
    Ok(text.parse()?)
}

/// The summary shown before the file is written.
pub fn summary(a: &Answers) -> Vec<String> {
    let what = match a.resources.kind {
        ResourceType::Vpc => "VPC",
        ResourceType::Subnet => "subnet",
        ResourceType::NetworkInterface => "network interface",
    };
    let format = match &a.format {
        FormatChoice::Default => "default format".to_string(),
        FormatChoice::All => "all fields".to_string(),
        FormatChoice::Custom(fields) => format!("{} fields", fields.len()),
    };
    let mut partitions = Vec::new();
    if a.hive_compatible_partitions {
        partitions.push(", hive partitions");
    }
    if a.per_hour_partition {
        partitions.push(", hourly folders");
    }
    let bucket = match &a.bucket {
        BucketChoice::Derived => format!(
            "a new bucket named <stack>-flowlogs-<account>-<region>; logs kept {} days",
            a.retention_days
        ),
        BucketChoice::New(name) => {
            format!("a new bucket {name}; logs kept {} days", a.retention_days)
        }
        BucketChoice::Existing(name) => format!("the existing bucket {name}"),
    };
    let delivery = match &a.delivery {
        DeliveryAnswers::Lambda { otlp, lambda } => {
            let header = match &otlp.header {
                Some(Header { name, env }) => format!(", header {name} from ${env}"),
                None => String::new(),
            };
            format!(
                "Lambda ({} MB, {} s, {}) -> {} ({}{header}), service {}",
                lambda.memory_mb,
                lambda.timeout_s,
                lambda.architecture.as_aws(),
                otlp.endpoint,
                otlp.protocol.as_env(),
                otlp.service_name
            )
        }
        DeliveryAnswers::Firehose {
            url,
            access_key_env,
        } => match access_key_env {
            Some(env) => format!("Firehose -> {url}, access key from ${env}"),
            None => format!("Firehose -> {url}"),
        },
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
            a.resources.ids.join(", "),
            a.traffic_type.as_aws()
        ),
        format!(
            "  records   {format}, {} s interval, {}{}",
            a.max_aggregation_interval,
            a.file_format.as_aws(),
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
    use crate::wizard::listing::ListError;
    use crate::wizard::prompt::Cancelled;
    use crate::wizard::render::render;

    /// Scripted answers, in order; panics when the flow asks something unexpected.
    #[derive(Default)]
    struct Script {
        replies: VecDeque<Reply>,
        said: Vec<String>,
        asked: Vec<String>,
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
            match self.next(t.prompt) {
                Reply::Text(s) => {
                    let value = match (s, &t.default) {
                        ("", Some(d)) => d.clone(),
                        (s, _) => s.to_string(),
                    };
                    if !(value.is_empty() && t.allow_empty) {
                        (t.check)(&value).map_err(|p| anyhow::anyhow!("{}: {p}", t.prompt))?;
                    }
                    Ok(value)
                }
                Reply::Cancel => Err(Cancelled.into()),
                _ => panic!("`{}` is a text question", t.prompt),
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

    async fn run(script: &mut Script, preset: &Preset, account: FakeAccount) -> Result<Answers> {
        ask(script, preset, Some("us-east-1".into()), |_| async {
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
        let answers = run(&mut script, &Preset::default(), two_vpcs())
            .await
            .unwrap();
        assert!(script.replies.is_empty());
        let flags = Preset {
            stack: Some("demo".into()),
            resources: Some(Resources {
                kind: ResourceType::Vpc,
                ids: vec!["vpc-0bbb".into()],
            }),
            endpoint: Some("https://otel.example.com:4318".into()),
            ..Preset::default()
        }
        .into_answers(Some("us-east-1".into()))
        .unwrap();
        assert_eq!(answers, flags);
        assert_eq!(
            answers.bucket,
            BucketChoice::Derived,
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
        let a = run(&mut script, &Preset::default(), two_vpcs())
            .await
            .unwrap();
        assert!(script.replies.is_empty());
        assert_eq!(a.resources.ids, ["vpc-0123", "vpc-0456"]);
        assert_eq!(a.traffic_type, TrafficType::Reject);
        assert_eq!(
            a.format,
            FormatChoice::Custom(vec!["vpc-id".into(), "version".into(), "srcaddr".into()])
        );
        assert_eq!(a.max_aggregation_interval, 60);
        assert_eq!(a.file_format, FileFormat::Parquet);
        assert!(a.hive_compatible_partitions && !a.per_hour_partition);
        assert_eq!(a.bucket, BucketChoice::Existing("logs-b".into()));
        assert!(script
            .said
            .iter()
            .any(|s| s.contains("Firehose takes plain text")));
        let DeliveryAnswers::Lambda { otlp, lambda } = &a.delivery else {
            panic!()
        };
        assert_eq!(
            otlp.header,
            Some(Header {
                name: "x-api-key".into(),
                env: "X_API_KEY".into()
            })
        );
        assert_eq!(lambda.architecture, Architecture::Arm64);
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
            Text("https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose"),
            Text("O2_KEY"),
        ]);
        let a = run(&mut script, &Preset::default(), account).await.unwrap();
        assert!(script
            .said
            .iter()
            .any(|s| s.contains("not allowed to call ec2:DescribeVpcs") && s.contains("fix:")));
        assert_eq!(script.asked[2], "What should be logged?");
        assert_eq!(a.resources.kind, ResourceType::Subnet);
        assert_eq!(a.bucket, BucketChoice::Existing("my-bucket".into()));
        assert!(matches!(
            &a.delivery,
            DeliveryAnswers::Firehose { access_key_env: Some(env), .. } if env == "O2_KEY"
        ));
    }

    #[tokio::test]
    async fn cancel_at_any_prompt_stops_the_flow() {
        let mut script = Script::new(vec![Text("demo"), Text(""), Cancel]);
        let err = run(&mut script, &Preset::default(), two_vpcs())
            .await
            .unwrap_err();
        assert!(err.downcast_ref::<Cancelled>().is_some());
    }

    #[test]
    fn field_labels_show_version_and_name() {
        let label = field_label(format::lookup("pkt-srcaddr").unwrap());
        assert!(label.starts_with("v3  pkt-srcaddr"), "{label}");
    }
}
