//! Fault tests of the handler against a local OTLP/HTTP endpoint that misbehaves on cue:
//! failures then success, 429 with Retry-After, partial success, permanent refusal, down.
//! Every case checks that nothing is lost or counted twice and that the report is exact.

use flowlogs_forwarder::export::{ExportConfig, Exporter};
use flowlogs_forwarder::handler::{self, Margins, ObjectBody, ObjectSource};
use flowlogs_forwarder::report::{parse_report_line, ErrorKind, Report, ReportLine, Trigger};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// What the endpoint answers to the next request.
#[derive(Debug, Clone)]
enum Reply {
    Ok,
    Status(u16, Option<&'static str>),
    Partial(i64),
    /// Close the connection without answering.
    Hang,
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    /// Requests answered with a 2xx, decoded, with the partial-success count we answered.
    accepted: Mutex<Vec<(ExportLogsServiceRequest, i64)>>,
    attempts: Mutex<Vec<Instant>>,
}

struct Endpoint {
    url: String,
    state: Arc<State>,
}

impl Endpoint {
    async fn start(script: Vec<Reply>) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            script: Mutex::new(script.into()),
            ..Default::default()
        });
        let s = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                tokio::spawn(connection(sock, Arc::clone(&s)));
            }
        });
        Endpoint { url, state }
    }

    /// log.record.uid of every record accepted, with how many times each was accepted.
    fn accepted_uids(&self) -> BTreeMap<String, usize> {
        let mut uids = BTreeMap::new();
        for (req, _) in self.state.accepted.lock().unwrap().iter() {
            for rl in &req.resource_logs {
                for sl in &rl.scope_logs {
                    for lr in &sl.log_records {
                        let uid = lr
                            .attributes
                            .iter()
                            .find(|a| a.key == "log.record.uid")
                            .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                                any_value::Value::StringValue(s) => Some(s.clone()),
                                _ => None,
                            })
                            .expect("every record has a uid");
                        *uids.entry(uid).or_default() += 1;
                    }
                }
            }
        }
        uids
    }

    fn attempts(&self) -> Vec<Instant> {
        self.state.attempts.lock().unwrap().clone()
    }
}

async fn connection(sock: tokio::net::TcpStream, state: Arc<State>) {
    let mut r = BufReader::new(sock);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            line.clear();
            r.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        let len: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; len];
        r.read_exact(&mut body).await.unwrap();
        state.attempts.lock().unwrap().push(Instant::now());
        let reply = state
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Ok);
        let (status, extra, resp): (u16, String, Vec<u8>) = match reply {
            Reply::Hang => return,
            Reply::Ok => (200, String::new(), Vec::new()),
            Reply::Status(s, retry_after) => (
                s,
                retry_after
                    .map(|v| format!("Retry-After: {v}\r\n"))
                    .unwrap_or_default(),
                b"nope".to_vec(),
            ),
            Reply::Partial(n) => (
                200,
                String::new(),
                ExportLogsServiceResponse {
                    partial_success: Some(ExportLogsPartialSuccess {
                        rejected_log_records: n,
                        error_message: "some were bad".into(),
                    }),
                }
                .encode_to_vec(),
            ),
        };
        if (200..300).contains(&status) {
            let mut plain = Vec::new();
            assert_eq!(
                headers.get("content-encoding").map(String::as_str),
                Some("gzip")
            );
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut plain)
                .unwrap();
            let req = if headers["content-type"] == "application/json" {
                serde_json::from_slice(&plain).expect("valid OTLP/JSON")
            } else {
                ExportLogsServiceRequest::decode(&plain[..]).expect("valid protobuf")
            };
            let rejected = match &resp[..] {
                [] => 0,
                r => {
                    ExportLogsServiceResponse::decode(r)
                        .unwrap()
                        .partial_success
                        .unwrap()
                        .rejected_log_records
                }
            };
            state.accepted.lock().unwrap().push((req, rejected));
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n{extra}\r\n",
            resp.len()
        );
        let sock = r.get_mut();
        if sock.write_all(head.as_bytes()).await.is_err() || sock.write_all(&resp).await.is_err() {
            return;
        }
    }
}

/// Objects held in memory.
struct Memory(HashMap<(String, String), Vec<u8>>);

impl ObjectSource for Memory {
    async fn get(&self, bucket: &str, key: &str) -> anyhow::Result<ObjectBody> {
        let data = self
            .0
            .get(&(bucket.to_string(), key.to_string()))
            .ok_or_else(|| anyhow::anyhow!("NoSuchKey: s3://{bucket}/{key}"))?
            .clone();
        Ok(Box::pin(std::io::Cursor::new(data)))
    }
}

fn event(keys: &[(&str, i64)]) -> serde_json::Value {
    let records: Vec<_> = keys
        .iter()
        .map(|(k, size)| {
            serde_json::json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2024-06-19T14:05:00.000Z", "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "s3": {"bucket": {"name": "bkt"}, "object": {"key": k, "size": size}}})
        })
        .collect();
    serde_json::json!({ "Records": records })
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn exporter(url: &str, extra: &[(&str, &str)]) -> Exporter {
    let mut env: HashMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), url.to_string());
    let mut config = ExportConfig::from_lookup(|k| env.get(k).cloned()).unwrap();
    config.max_batch_bytes = 64 * 1024;
    config.backoff_base = Duration::from_millis(5);
    config.backoff_cap = Duration::from_millis(50);
    config.timeout = Duration::from_secs(2);
    Exporter::new(config, None).unwrap()
}

const KEY: &str = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/19/x.log.gz";

async fn run(
    endpoint: &Endpoint,
    env: &[(&str, &str)],
    deadline: Option<Instant>,
) -> Result<Report, handler::HandlerError> {
    let store = Memory(HashMap::from([(
        ("bkt".to_string(), KEY.to_string()),
        fixture("default-1k.log.gz"),
    )]));
    let size = fixture("default-1k.log.gz").len() as i64;
    handler::handle(
        &store,
        &exporter(&endpoint.url, env),
        event(&[(KEY, size)]),
        deadline,
        Margins::default(),
    )
    .await
}

fn assert_each_once(endpoint: &Endpoint, n: usize) {
    let uids = endpoint.accepted_uids();
    assert_eq!(uids.len(), n, "distinct records accepted");
    assert!(
        uids.values().all(|&c| c == 1),
        "a record was accepted twice"
    );
}

#[tokio::test]
async fn everything_delivered_when_all_goes_well() {
    let ep = Endpoint::start(vec![]).await;
    let report = run(&ep, &[], None).await.unwrap();
    let batches = ep.attempts().len() as u64;
    assert!(batches > 3, "64 KiB batches split 1000 records");
    assert_eq!(
        report,
        Report {
            objects: 1,
            records: 1000,
            forwarded: 1000,
            batches,
            millis: report.millis,
            ..Default::default()
        }
    );
    assert_each_once(&ep, 1000);
}

#[tokio::test]
async fn failures_then_success_are_retried() {
    let ep = Endpoint::start(vec![
        Reply::Status(503, None),
        Reply::Status(502, None),
        Reply::Hang,
        Reply::Status(504, None),
    ])
    .await;
    let report = run(&ep, &[], None).await.unwrap();
    assert_eq!(
        (report.records, report.forwarded, report.rejected),
        (1000, 1000, 0)
    );
    assert_eq!(report.retries, 4);
    assert_eq!(report.batches + 4, ep.attempts().len() as u64);
    assert_each_once(&ep, 1000);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let ep = Endpoint::start(vec![Reply::Status(429, Some("1"))]).await;
    let env = [("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")];
    let store_start = Instant::now();
    let report = run(&ep, &env, None).await.unwrap();
    assert_eq!((report.forwarded, report.retries), (1000, 1));
    let attempts = ep.attempts();
    // The refused request was retried a second later, not at once (other batches go on
    // meanwhile, so only the span of all attempts shows it).
    let span = *attempts.last().unwrap() - attempts[0];
    assert!(span >= Duration::from_millis(990), "{span:?}");
    assert!(store_start.elapsed() >= Duration::from_secs(1));
    assert_each_once(&ep, 1000);
}

#[tokio::test]
async fn partial_success_counts_as_rejected() {
    let ep = Endpoint::start(vec![Reply::Partial(7), Reply::Ok, Reply::Partial(3)]).await;
    let report = run(&ep, &[], None).await.unwrap();
    assert_eq!(
        (
            report.records,
            report.forwarded,
            report.rejected,
            report.retries
        ),
        (1000, 990, 10, 0)
    );
    assert_each_once(&ep, 1000);
}

#[tokio::test]
async fn permanent_refusal_fails_the_invocation_and_says_how_much_was_sent() {
    // Two batches go through, then the endpoint refuses for good.
    let ep = Endpoint::start(vec![Reply::Ok, Reply::Ok, Reply::Status(400, None)]).await;
    let exporter = {
        let e = exporter(&ep.url, &[]);
        let mut c = e.config().clone();
        c.concurrency = 1;
        Exporter::new(c, None).unwrap()
    };
    let store = Memory(HashMap::from([(
        ("bkt".to_string(), KEY.to_string()),
        fixture("default-1k.log.gz"),
    )]));
    let err = handler::handle(
        &store,
        &exporter,
        event(&[(KEY, 10)]),
        None,
        Margins::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ExportFailed);
    let r = &err.report;
    assert_eq!(r.batches, 2);
    assert_eq!(r.retries, 0);
    assert_eq!(r.forwarded as usize, ep.accepted_uids().len());
    assert!(r.forwarded > 0 && r.forwarded < 1000);
    let msg = err.to_string();
    assert!(msg.contains("400"), "{msg}");
    assert!(
        msg.contains(&format!("forwarded {} of", r.forwarded)),
        "{msg}"
    );
    assert_each_once(&ep, r.forwarded as usize);
}

#[tokio::test]
async fn endpoint_down_fails_before_the_deadline() {
    // Bind then drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ep = Endpoint {
        url: format!("http://127.0.0.1:{port}"),
        state: Default::default(),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(4);
    let err = run(&ep, &[], Some(deadline)).await.unwrap_err();
    assert!(Instant::now() < deadline, "gave up before the deadline");
    assert_eq!(err.report.forwarded, 0);
    assert_eq!(err.report.batches, 0);
    assert!(err.report.retries > 0);
    let msg = err.to_string();
    assert!(msg.contains("forwarded 0 of"), "{msg}");
}

#[tokio::test]
async fn zero_byte_objects_test_events_and_bad_lines() {
    let ep = Endpoint::start(vec![]).await;
    let bad = b"version srcport action\n2 22 ACCEPT\n2 x ACCEPT\n2 22\n\n2 23 REJECT\n".to_vec();
    let store = Memory(HashMap::from([
        (("bkt".to_string(), "bad.log".to_string()), bad),
        (
            ("bkt".to_string(), "my key.log".to_string()),
            fixture("default-v2.log"),
        ),
    ]));
    let ex = exporter(&ep.url, &[]);
    let report = handler::handle(
        &store,
        &ex,
        event(&[("empty.log.gz", 0), ("bad.log", 50), ("my+key.log", 846)]),
        None,
        Margins::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            report.objects,
            report.records,
            report.forwarded,
            report.skipped_lines,
            report.batches
        ),
        (2, 9, 9, 2, 2)
    );
    let test_event =
        serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bkt"});
    let report = handler::handle(&store, &ex, test_event, None, Margins::default())
        .await
        .unwrap();
    assert_eq!(
        report,
        Report {
            millis: report.millis,
            ..Default::default()
        }
    );
}

#[tokio::test]
async fn missing_object_fails_the_invocation() {
    let ep = Endpoint::start(vec![]).await;
    let store = Memory(HashMap::new());
    let err = handler::handle(
        &store,
        &exporter(&ep.url, &[]),
        event(&[("nope.log", 5)]),
        None,
        Margins::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("NoSuchKey"), "{err}");
    assert_eq!(err.kind, ErrorKind::ReadFailed);
}

/// The report lines an invocation logs, parsed back as the deployer reads them.
async fn logged(
    store: &Memory,
    exporter: &Exporter,
    event: serde_json::Value,
) -> (Result<Report, handler::HandlerError>, Vec<ReportLine>) {
    let mut lines = Vec::new();
    let mut log = |line: &str| lines.push(line.to_string());
    let result =
        handler::handle_logged(store, exporter, event, None, Margins::default(), &mut log).await;
    let parsed = lines
        .iter()
        .map(|l| {
            assert!(!l.contains('\n'), "one line each: {l}");
            parse_report_line(l).unwrap_or_else(|| panic!("not a report line: {l}"))
        })
        .collect();
    (result, parsed)
}

#[tokio::test]
async fn every_object_named_gets_one_report_line_then_the_invocation_one() {
    let ep = Endpoint::start(vec![]).await;
    let store = Memory(HashMap::from([
        (
            ("bkt".to_string(), "my key.log".to_string()),
            fixture("default-v2.log"),
        ),
        (
            ("bkt".to_string(), "later.log".to_string()),
            fixture("default-v2.log"),
        ),
    ]));
    let ex = exporter(&ep.url, &[]);
    let (result, lines) = logged(
        &store,
        &ex,
        event(&[
            ("empty.log.gz", 0),
            ("my+key.log", 846),
            ("missing.log", 5),
            ("later.log", 846),
        ]),
    )
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ReadFailed);
    let summary: Vec<_> = lines
        .iter()
        .map(|l| match l {
            ReportLine::Object(o) => format!(
                "{} {:?} ok={} {}/{}",
                o.key, o.outcome, o.ok, o.forwarded, o.records
            ),
            ReportLine::Invocation(i) => format!(
                "invocation ok={} {:?} {}/{}",
                i.ok, i.error_type, i.report.forwarded, i.report.records
            ),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "empty.log.gz Skipped ok=false 0/0",
            "my key.log Forwarded ok=true 7/7",
            "missing.log Failed ok=false 0/0",
            "later.log NotRead ok=false 0/0",
            "invocation ok=false Some(ReadFailed) 7/7",
        ]
    );
    let ReportLine::Object(failed) = &lines[2] else {
        panic!()
    };
    assert!(
        failed.error.as_deref().unwrap().contains("NoSuchKey"),
        "{failed:?}"
    );
    assert_each_once(&ep, 7);
}

/// Regression: a hand-made replay without `userIdentity`, `eventTime`... was refused as
/// "not an S3 event"; a record without a key beside it is skipped and counted.
#[tokio::test]
async fn a_minimal_event_is_forwarded_and_a_record_without_key_counted() {
    let ep = Endpoint::start(vec![]).await;
    let store = Memory(HashMap::from([(
        ("b".to_string(), "k".to_string()),
        fixture("default-v2.log"),
    )]));
    let ex = exporter(&ep.url, &[]);
    let minimal =
        serde_json::json!({"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]});
    let (result, lines) = logged(&store, &ex, minimal).await;
    let report = result.unwrap();
    assert_eq!((report.records, report.forwarded), (7, 7));
    assert!(matches!(&lines[0], ReportLine::Object(o) if o.bucket == "b" && o.key == "k" && o.ok));
    assert!(matches!(&lines[1], ReportLine::Invocation(i) if i.ok && i.report == report));
    assert_eq!(lines.len(), 2);

    let with_bad = serde_json::json!({"Records":[
        {"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},
        {"s3":{"bucket":{"name":"b"},"object":{}}},
    ]});
    let report = handler::handle(&store, &ex, with_bad, None, Margins::default())
        .await
        .unwrap();
    assert_eq!((report.forwarded, report.unusable_event_records), (7, 1));

    let only_bad = serde_json::json!({"Records":[{"s3":{"bucket":{"name":"b"}}}]});
    let (result, lines) = logged(&store, &ex, only_bad).await;
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadEvent);
    assert!(err.message.contains("s3.object.key"), "{err}");
    match &lines[..] {
        [ReportLine::Invocation(i)] => {
            assert_eq!(i.error_type, Some(ErrorKind::BadEvent));
            assert_eq!(i.report.unusable_event_records, 1);
        }
        other => panic!("{other:?}"),
    }
}

/// Every record an endpoint accepted, in the order sent, as comparable text: its resource's
/// attributes, its body, time and attributes (the observed time aside: it is "now").
fn accepted_records(endpoint: &Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    for (req, _) in endpoint.state.accepted.lock().unwrap().iter() {
        for rl in &req.resource_logs {
            let resource = format!("{:?}", rl.resource.as_ref().map(|r| &r.attributes));
            for sl in &rl.scope_logs {
                for lr in &sl.log_records {
                    out.push(format!(
                        "{resource} | {:?} | {} | {:?}",
                        lr.body, lr.time_unix_nano, lr.attributes
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// Issue 26: an object whose key has a space, `+` and `=` gives the same report, the same
/// records and the same `log.record.uid` whether S3 notified the function (key URL-encoded) or
/// an EventBridge rule delivered S3's Object Created event (key as it is); only the report
/// line's `trigger` differs.
#[tokio::test]
async fn an_object_through_eventbridge_is_forwarded_as_through_an_s3_notification() {
    let key = "AWSLogs/aws-account-id=123456789012/x y+z.log.gz";
    let data = fixture("default-1k.log.gz");
    let size = data.len() as i64;
    let store = Memory(HashMap::from([(
        ("bkt".to_string(), key.to_string()),
        data,
    )]));
    let notification = event(&[("AWSLogs/aws-account-id%3D123456789012/x+y%2Bz.log.gz", size)]);
    let eventbridge = flowlogs_forwarder::eventbridge_event::EventBridgeEvent::object_created(
        "bkt",
        key,
        size as u64,
        "us-east-1",
    )
    .to_value();

    let mut seen = Vec::new();
    for event in [notification, eventbridge] {
        let ep = Endpoint::start(vec![]).await;
        let (result, lines) = logged(&store, &exporter(&ep.url, &[]), event).await;
        let report = result.unwrap();
        assert_each_once(&ep, 1000);
        let ReportLine::Object(line) = &lines[0] else {
            panic!("{lines:?}")
        };
        seen.push((
            report,
            line.clone(),
            ep.accepted_uids(),
            accepted_records(&ep),
        ));
    }
    let [(r1, l1, u1, rec1), (r2, l2, u2, rec2)] = &seen[..] else {
        unreachable!()
    };
    let counts = |r: &Report| Report {
        millis: 0,
        ..r.clone()
    };
    assert_eq!(counts(r1), counts(r2));
    assert_eq!((r1.records, r1.forwarded), (1000, 1000));
    assert_eq!((&l1.key, &l2.key), (&key.to_string(), &key.to_string()));
    assert_eq!(
        (l1.trigger, l2.trigger),
        (Some(Trigger::S3Notification), Some(Trigger::EventBridge))
    );
    assert_eq!(u1, u2, "the same log.record.uid either way");
    assert_eq!(rec1, rec2, "the same records either way");
}
