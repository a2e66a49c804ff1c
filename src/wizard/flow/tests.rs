//! The flow driven by scripted answers against a listed account.

use std::collections::VecDeque;

use flowlogs_forwarder::format;

use super::traffic::field_label;
use super::*;
use crate::cli::InitAnswers;
use crate::config::{Architecture, ResourceType, TrafficType};
use crate::wizard::listing::{ListError, VpcInfo};
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
    notifications: Vec<crate::resources::notification::NotificationEntry>,
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
    async fn notifications(
        &self,
        _bucket: &str,
    ) -> Vec<crate::resources::notification::NotificationEntry> {
        self.notifications.clone()
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
        notifications: Vec::new(),
    }
}

fn denied() -> ListError {
    ListError {
        action: "list the VPCs (ec2:DescribeVpcs)".into(),
        problem: "these credentials are not allowed to call ec2:DescribeVpcs".into(),
        fix: "ask for ec2:DescribeVpcs".into(),
    }
}

async fn run(script: &mut Script, flags: &InitAnswers, account: FakeAccount) -> Result<RawConfig> {
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
        notifications: Vec::new(),
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
        let file_error =
            crate::config::parse(&text, std::path::Path::new("f.yaml"), &|_| None).expect_err(bad);
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

/// Issue 26: an existing bucket whose notification already reads `AWSLogs/` gets the EventBridge
/// trigger offered (and chosen by default); the config written says so.
#[tokio::test]
async fn a_foreign_notification_on_the_prefix_offers_the_eventbridge_trigger() {
    let theirs = crate::resources::notification::NotificationEntry {
        id: "siem-reader".into(),
        kind: "queue",
        target: "arn:aws:sqs:us-east-1:123456789012:siem".into(),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: "AWSLogs/".into(),
        suffix: String::new(),
    };
    let script = |bucket_pick: usize| {
        Script::new(vec![
            Text("demo"),
            Text(""),
            Pick(0),
            Picks(vec![1]),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Pick(1),           // an existing bucket
            Pick(bucket_pick), // logs-a
            Text(""),          // lambda
            Text("https://otel.example.com:4318"),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""),
            Text(""), // the trigger: the default
        ])
    };
    let account = FakeAccount {
        notifications: vec![theirs.clone()],
        ..two_vpcs()
    };
    let mut s = script(0);
    let a = run(&mut s, &InitAnswers::default(), account).await.unwrap();
    assert!(s.replies.is_empty());
    assert!(
        s.said.iter().any(|l| l.contains("`siem-reader`")),
        "{:?}",
        s.said
    );
    assert_eq!(
        a.delivery.lambda.trigger,
        crate::config::Trigger::EventBridge
    );
    assert!(
        render(&a).contains("trigger: eventbridge"),
        "{}",
        render(&a)
    );
    crate::config::parse(&render(&a), std::path::Path::new("f.yaml"), &|_| None).unwrap();

    // A notification on another prefix takes nothing: no question.
    let elsewhere = FakeAccount {
        notifications: vec![crate::resources::notification::NotificationEntry {
            prefix: "uploads/".into(),
            ..theirs
        }],
        ..two_vpcs()
    };
    let mut s = script(0);
    s.replies.pop_back();
    let a = run(&mut s, &InitAnswers::default(), elsewhere)
        .await
        .unwrap();
    assert!(s.replies.is_empty());
    assert_eq!(
        a.delivery.lambda.trigger,
        crate::config::Trigger::S3Notification
    );
}

#[test]
fn field_labels_show_version_and_name() {
    let label = field_label(format::lookup("pkt-srcaddr").unwrap());
    assert!(label.starts_with("v3  pkt-srcaddr"), "{label}");
}

/// An account that manages an organisation of three accounts.
struct ManagementAccount(FakeAccount);

impl Account for ManagementAccount {
    async fn account_id(&self) -> Option<String> {
        self.0.account_id().await
    }
    async fn vpcs(&self) -> Result<Vec<VpcInfo>, ListError> {
        self.0.vpcs().await
    }
    async fn buckets(&self) -> Result<Vec<String>, ListError> {
        self.0.buckets().await
    }
    async fn organisation(&self) -> Option<crate::wizard::listing::OrgInfo> {
        Some(crate::wizard::listing::OrgInfo {
            id: "o-abc123".into(),
            accounts: vec![
                "111111111111".into(),
                "222222222222".into(),
                "333333333333".into(),
            ],
        })
    }
}

async fn run_as_management(script: &mut Script) -> Result<RawConfig> {
    let start = Draft::from_flags(&InitAnswers::default(), None);
    ask(script, &start, Some("us-east-1".into()), |_| async {
        Ok(ManagementAccount(two_vpcs()))
    })
    .await
}

fn after_the_organisation() -> Vec<Reply> {
    vec![
        Text(""), // traffic
        Text(""), // format
        Text(""), // interval
        Text(""), // file format
        Text(""), // hive
        Text(""), // hourly
        Pick(0),  // new bucket
        Text(""), // proposed name
        Text(""), // retention
        // no delivery mode question: lambda
        Text("https://otel.example.com:4318"),
        Text(""), // protocol
        Text(""), // no header
        Text(""), // service name
        Text(""), // memory
        Text(""), // timeout
        Text(""), // arch
    ]
}

#[tokio::test]
async fn a_management_account_is_offered_the_whole_organisation() {
    let mut replies = vec![
        Text("org"),
        Text(""),
        Yes(true),
        Picks(vec![0, 1, 2]),
        Text("us-east-1, eu-west-1"),
        Text(""),
    ];
    replies.extend(after_the_organisation());
    let mut script = Script::new(replies);
    let answers = run_as_management(&mut script).await.unwrap();
    assert!(script.replies.is_empty());
    assert!(answers.flow_log.resources.all_vpcs);
    let targets = answers.targets.as_ref().unwrap();
    assert!(targets.organization && targets.accounts.is_empty());
    assert_eq!(targets.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(targets.role, "OrganizationAccountAccessRole");
    let c = crate::config::check_raw(&answers, std::path::Path::new("flowlogs.yaml")).unwrap();
    assert_eq!(
        c.targets.unwrap().accounts,
        crate::config::AccountSource::Organization
    );
    assert!(script
        .said
        .iter()
        .any(|s| s.starts_with("Delivery: lambda")));
}

#[tokio::test]
async fn some_accounts_of_the_organisation_are_listed_and_declining_asks_for_this_accounts_vpcs() {
    let mut replies = vec![
        Text("org"),
        Text(""),
        Yes(true),
        Picks(vec![1]),
        Text(""),
        Text(""),
    ];
    replies.extend(after_the_organisation());
    let mut script = Script::new(replies);
    let answers = run_as_management(&mut script).await.unwrap();
    let targets = answers.targets.as_ref().unwrap();
    assert_eq!(targets.accounts, ["222222222222"]);
    assert!(!targets.organization);
    assert_eq!(targets.regions, ["us-east-1"]);
    let text = render(&answers);
    let back = crate::config::parse(&text, std::path::Path::new("flowlogs.yaml"), &|_| None)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        back.targets.unwrap().accounts,
        crate::config::AccountSource::Accounts(vec!["222222222222".into()])
    );

    let mut script = Script::new(vec![
        Text("org"),
        Text(""),
        Yes(false), // this account only
        Pick(0),
        Picks(vec![1]),
        Cancel,
    ]);
    assert!(run_as_management(&mut script).await.is_err(), "cancelled");
    assert!(script.asked.iter().any(|a| a == "What should be logged?"));
}
