//! The wizard's raw config -> the text of `flowlogs.yaml`, with short comments in the style of
//! `templates/flowlogs.yaml`. Pure: the same config always gives the same bytes, which is what
//! makes the interactive and the `--non-interactive` forms write the same file.

use super::draft;
use crate::config::{DeliveryMode, RawConfig, ResourceType};

/// The config file for `a`: the keys the wizard asks about (the rest keep their defaults).
pub fn render(a: &RawConfig) -> String {
    let mut out = String::from(
        r#"# flowlogs.yaml, written by `flowlogs init`: one VPC Flow Logs -> OpenTelemetry pipeline ("stack").
# `flowlogs plan` shows what would change, `flowlogs setup` makes it so and proves it works,
# `flowlogs teardown` removes what flowlogs made. Values such as "${env:NAME}" are read from the
# environment at run time and never written here.
version: 1

# Names and tags every resource: 1-24 lowercase letters, digits and hyphens.
"#,
    );
    out += &format!("stack: {}\n\n", scalar(&a.stack));
    out += &match &a.region {
        Some(region) => format!(
            "# Leave out to use the region of your AWS profile or environment; --region overrides.\n\
             region: {}\n",
            scalar(region)
        ),
        None => "# region: us-east-1   # left out: the region of your AWS profile or environment is used\n"
            .to_string(),
    };

    let (kind, ids) = draft::resources(a);
    let key = match kind {
        ResourceType::Vpc => "vpc_ids",
        ResourceType::Subnet => "subnet_ids",
        ResourceType::NetworkInterface => "eni_ids",
        ResourceType::TransitGateway => "transit_gateway_ids",
        ResourceType::TransitGatewayAttachment => "transit_gateway_attachment_ids",
    };
    let ids: Vec<String> = ids.iter().map(|id| scalar(id)).collect();
    let f = &a.flow_log;
    let format = match f.format.as_str() {
        "default" | "all" => f.format.clone(),
        custom => quoted(custom),
    };
    out += &format!(
        r#"
flow_log:
  # What to log: VPCs (vpc_ids), subnets (subnet_ids) or network interfaces (eni_ids).
  resources:
    {resources}
  # ACCEPT | REJECT | ALL
  traffic_type: {traffic}
  # default (the 14 fields of version 2) | all (every field of versions 2-8) |
  # custom, for example "${{version}} ${{vpc-id}} ${{srcaddr}} ${{dstaddr}} ${{action}}"
  format: {format}
  # Seconds over which AWS aggregates a flow into one record: 60 | 600
  max_aggregation_interval: {interval}
  # plain-text | parquet (parquet needs delivery.mode: lambda)
  file_format: {file_format}
  # Hive-style keys (aws-account-id=.../year=...) and one folder per hour.
  hive_compatible_partitions: {hive}
  per_hour_partition: {hourly}
  # Any change to the keys above replaces the flow log (the new one first, then the old one goes).

bucket:
"#,
        resources = if f.resources.all_vpcs {
            "all_vpcs: true   # every VPC of each target; or vpc_tags: { key: value }".to_string()
        } else {
            format!("{key}: [{}]", ids.join(", "))
        },
        traffic = f.traffic_type.as_aws(),
        interval = f.max_aggregation_interval,
        file_format = f.file_format.as_aws(),
        hive = f.hive_compatible_partitions,
        hourly = f.per_hour_partition,
    );
    const CREATED: &str =
        "  # flowlogs creates the bucket, hardens it, and expires old logs.\n  create: true\n";
    out += &match (&a.bucket.name, a.bucket.create) {
        (None, _) => {
            format!("  # null: <stack>-flowlogs-<account>-<region>.\n  name: null\n{CREATED}")
        }
        (Some(name), true) => format!("  name: {}\n{CREATED}", scalar(name)),
        (Some(name), false) => format!(
            "  name: {}\n\
             \x20 # An existing bucket: flowlogs only adds its own policy statements and notification\n\
             \x20 # entry, and never deletes the bucket.\n\
             \x20 create: false\n",
            scalar(name)
        ),
    };
    out += &format!(
        r#"  # Optional folder before AWSLogs/.
  prefix: {}
  # Objects expire after this many days (buckets flowlogs creates).
  retention_days: {}

delivery:
"#,
        quoted(&a.bucket.prefix),
        a.bucket.retention_days
    );
    let d = &a.delivery;
    out += &match (d.mode, &d.otlp, &d.firehose) {
        (DeliveryMode::Lambda, Some(otlp), _) => {
            let lambda = &d.lambda;
            let headers = if otlp.headers.is_empty() {
                "    # Sent with every request; keep secrets in the environment:\n\
                         \x20   #   headers: { signoz-ingestion-key: \"${env:SIGNOZ_KEY}\" }\n\
                         \x20   headers: {}\n"
                    .to_string()
            } else {
                let mut lines = "    # Sent with every request; the value is read from the environment at run time.\n\
                                 \x20   headers:\n"
                    .to_string();
                for (name, value) in &otlp.headers {
                    lines += &format!("      {}: {}\n", scalar(name), quoted(value));
                }
                lines
            };
            format!(
                r#"  # lambda: the forwarder Lambda sends each new object to an OTLP endpoint.
  mode: lambda
  otlp:
    endpoint: {endpoint}
    # http/protobuf | http/json
    protocol: {protocol}
{headers}    service_name: {service_name}
  lambda:
    memory_mb: {memory}
    timeout_s: {timeout}
    # x86_64 | arm64
    architecture: {architecture}
{trigger}"#,
                endpoint = scalar(&otlp.endpoint),
                protocol = otlp.protocol.as_env(),
                service_name = scalar(&otlp.service_name),
                memory = lambda.memory_mb,
                timeout = lambda.timeout_s,
                architecture = lambda.architecture.as_aws(),
                trigger = match lambda.trigger {
                    crate::config::Trigger::S3Notification => String::new(),
                    t => format!(
                        "    # s3-notification | eventbridge (an EventBridge rule: the bucket's other consumers keep reading)\n    trigger: {}\n",
                        t.name()
                    ),
                },
            )
        }
        (DeliveryMode::Firehose, _, Some(firehose)) => {
            let url = &firehose.url;
            let access_key = match &firehose.access_key {
                Some(key) => format!(
                    "    # Read from the environment at run time.\n    access_key: {}\n",
                    quoted(key)
                ),
                None => "    # access_key: \"${env:O2_ACCESS_KEY}\"\n".to_string(),
            };
            format!(
                r#"  # firehose: the flow log delivers to Kinesis Data Firehose, which posts to an HTTP endpoint.
  mode: firehose
  firehose:
    url: {url}
{access_key}    # gzip | none
    content_encoding: {encoding}
"#,
                url = scalar(url),
                encoding = if firehose.content_encoding == crate::config::ContentEncoding::Gzip {
                    "gzip"
                } else {
                    "none"
                },
            )
        }
        // The draft always holds both sections; a hand-built config may lack the chosen one.
        (DeliveryMode::Lambda, None, _) => "  mode: lambda\n".to_string(),
        (DeliveryMode::Firehose, _, None) => "  mode: firehose\n".to_string(),
    };
    if let Some(t) = &a.targets {
        out += &targets(t);
    }
    out
}

/// The `targets:` section: the organisation, or the accounts picked, in the regions given.
fn targets(t: &crate::config::raw::RawTargets) -> String {
    let list = |v: &[String]| v.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ");
    let accounts = if t.organization {
        "  organization: true   # every ACTIVE account; or accounts: [...], organizational_units: [ou-...]\n".to_string()
    } else {
        format!("  accounts: [{}]\n", list(&t.accounts))
    };
    format!(
        "\n# Flow logs in these accounts and regions, delivering to this stack's bucket; the role is\n\
         # assumed in each member account (templates/policies/ has what it needs).\n\
         targets:\n{accounts}  exclude_accounts: []\n  regions: [{regions}]\n  role: {role}\n  concurrency: {concurrency}\n",
        regions = t.regions.iter().map(|r| scalar(r)).collect::<Vec<_>>().join(", "),
        role = scalar(&t.role),
        concurrency = t.concurrency,
    )
}

/// A double-quoted YAML scalar (JSON's string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

/// A YAML scalar for free text: plain when that reads back as the same string, else quoted.
fn scalar(text: &str) -> String {
    serde_yaml::to_string(text)
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| format!("{text:?}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cli::InitAnswers;
    use crate::config::{
        self, Architecture, Delivery, FileFormat, OtlpProtocol, TrafficType, REDACTED,
    };
    use crate::wizard::draft::Draft;

    fn lambda_answers() -> RawConfig {
        let flags = InitAnswers {
            stack: Some("demo".into()),
            vpc_id: vec!["vpc-0abc1234".into(), "vpc-0def5678".into()],
            traffic_type: Some("REJECT".into()),
            interval: Some(60),
            hive_partitions: true,
            retention_days: Some(30),
            endpoint: Some("https://collector.example.com:4318".into()),
            protocol: Some("http/json".into()),
            header_name: Some("signoz-ingestion-key".into()),
            header_env: Some("SIGNOZ_KEY".into()),
            service_name: Some("vpc flow logs: prod".into()),
            memory_mb: Some(1024),
            timeout_s: Some(120),
            architecture: Some("arm64".into()),
            ..InitAnswers::default()
        };
        Draft::from_flags(&flags, Some("eu-west-1".into()))
            .into_answers()
            .unwrap()
    }

    fn parse(text: &str) -> config::Config {
        config::parse(text, Path::new("flowlogs.yaml"), &|_| None)
            .unwrap_or_else(|e| panic!("the rendered file is refused: {e}\n{text}"))
    }

    #[test]
    fn lambda_answers_give_a_config_setup_accepts() {
        let a = lambda_answers();
        let text = render(&a);
        let c = parse(&text);
        assert_eq!(c.stack, "demo");
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.flow_log.resource_type, ResourceType::Vpc);
        assert_eq!(c.flow_log.resource_ids, a.flow_log.resources.vpc_ids);
        assert_eq!(c.flow_log.traffic_type, TrafficType::Reject);
        assert_eq!(c.flow_log.format.kind, "default");
        assert_eq!(c.flow_log.max_aggregation_interval, 60);
        assert!(c.flow_log.hive_compatible_partitions);
        assert!(!c.flow_log.per_hour_partition);
        assert_eq!(c.bucket.name, None);
        assert!(c.bucket.create);
        assert_eq!(c.bucket.retention_days, 30);
        let Delivery::Lambda { otlp, lambda } = &c.delivery else {
            panic!("lambda delivery expected")
        };
        assert_eq!(otlp.endpoint, "https://collector.example.com:4318");
        assert_eq!(otlp.protocol, OtlpProtocol::HttpJson);
        assert_eq!(otlp.service_name, "vpc flow logs: prod");
        let header = &otlp.headers["signoz-ingestion-key"];
        assert!(
            header.is_secret(),
            "the header is read from the environment"
        );
        assert_eq!(lambda.memory_mb, 1024);
        assert_eq!(lambda.timeout_s, 120);
        assert_eq!(lambda.architecture, Architecture::Arm64);
    }

    #[test]
    fn secrets_appear_only_as_env_references() {
        let text = render(&lambda_answers());
        assert!(text.contains("signoz-ingestion-key: \"${env:SIGNOZ_KEY}\""));
        // The header's value, whatever the environment holds, is resolved at run time only.
        let c = config::parse(&text, Path::new("f.yaml"), &|name| {
            (name == "SIGNOZ_KEY").then(|| "s3cr3t".to_string())
        })
        .unwrap();
        let Delivery::Lambda { otlp, .. } = &c.delivery else {
            panic!()
        };
        assert_eq!(
            otlp.headers["signoz-ingestion-key"].display(),
            REDACTED,
            "never printed"
        );
        assert!(!text.contains("s3cr3t"));

        let mut firehose = lambda_answers();
        firehose.delivery.mode = crate::config::DeliveryMode::Firehose;
        let f = draft::firehose(&mut firehose);
        f.url = "https://openobserve.example.com/aws/default/vpcflowlog/_kinesis_firehose".into();
        f.access_key = Some(draft::env_ref("O2_ACCESS_KEY"));
        let text = render(&firehose);
        assert!(text.contains("access_key: \"${env:O2_ACCESS_KEY}\""));
        let c = parse(&text);
        let Delivery::Firehose { firehose } = &c.delivery else {
            panic!("firehose delivery expected")
        };
        assert!(firehose.access_key.as_ref().unwrap().is_secret());
        assert!(firehose.url.ends_with("_kinesis_firehose"));
    }

    #[test]
    fn comments_explain_the_keys() {
        let text = render(&lambda_answers());
        for comment in [
            "# Names and tags every resource",
            "# ACCEPT | REJECT | ALL",
            "# Seconds over which AWS aggregates a flow into one record: 60 | 600",
            "# plain-text | parquet",
            "# null: <stack>-flowlogs-<account>-<region>.",
            "# Objects expire after this many days",
            "# http/protobuf | http/json",
            "# x86_64 | arm64",
        ] {
            assert!(text.contains(comment), "missing `{comment}` in\n{text}");
        }
        assert!(text.starts_with("# flowlogs.yaml, written by `flowlogs init`"));
    }

    #[test]
    fn custom_formats_subnets_existing_buckets_and_no_region_render() {
        let mut a = lambda_answers();
        a.region = None;
        draft::set_resources(&mut a, ResourceType::Subnet, vec!["subnet-0aa11".into()]);
        a.flow_log.format =
            "${version} ${vpc-id} ${srcaddr} ${pkt-srcaddr} ${flow-direction}".into();
        a.flow_log.file_format = FileFormat::Parquet;
        a.bucket.name = Some("my.logs-bucket".into());
        a.bucket.create = false;
        let o = draft::otlp(&mut a);
        o.endpoint = "http://127.0.0.1:4318".into();
        o.protocol = OtlpProtocol::HttpProtobuf;
        draft::set_header(&mut a, None);
        let text = render(&a);
        let c = parse(&text);
        assert_eq!(c.region, None);
        assert_eq!(c.flow_log.resource_type, ResourceType::Subnet);
        assert_eq!(c.flow_log.format.kind, "custom");
        assert_eq!(
            c.flow_log.format.fields,
            [
                "version",
                "vpc-id",
                "srcaddr",
                "pkt-srcaddr",
                "flow-direction"
            ]
        );
        assert_eq!(c.flow_log.file_format, FileFormat::Parquet);
        assert_eq!(c.bucket.name.as_deref(), Some("my.logs-bucket"));
        assert!(!c.bucket.create);
        let Delivery::Lambda { otlp, .. } = &c.delivery else {
            panic!()
        };
        assert!(otlp.headers.is_empty());

        let mut all = lambda_answers();
        all.flow_log.format = "all".into();
        all.bucket.name = Some("demo-logs".into());
        let c = parse(&render(&all));
        assert_eq!(c.flow_log.format.kind, "all");
        assert_eq!(c.bucket.name.as_deref(), Some("demo-logs"));
        assert!(c.bucket.create);
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render(&lambda_answers()), render(&lambda_answers()));
    }

    #[test]
    fn free_text_that_looks_like_yaml_is_quoted() {
        assert_eq!(scalar("vpc-flow-logs"), "vpc-flow-logs");
        for tricky in ["yes", "null", "1.5", "a: b", "# x", "[x]", "'q'"] {
            let back: String = serde_yaml::from_str(&scalar(tricky)).unwrap();
            assert_eq!(back, tricky);
        }
    }
}
