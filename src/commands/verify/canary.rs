//! The test delivery's canary: a few recognisable flow-log records in the stack's own format, a key
//! the notification's (URL-encoded) filter matches, the S3 event that announces them, how the
//! forwarder's report about it is found in its log group, and the check of what it reported.

use flowlogs_forwarder::format;
use flowlogs_forwarder::report::{parse_object_line, ObjectReport, Outcome, Report};
use flowlogs_forwarder::s3_event::{
    Identity, ObjectCreated, RequestParameters, ResponseElements, S3Event,
};
use serde_json::Value;

/// Canary records come from TEST-NET-1 (RFC 5737) to TEST-NET-2, so nobody mistakes them for traffic.
pub const CANARY_SOURCE: &str = "192.0.2.10";
pub const CANARY_DESTINATION: &str = "198.51.100.20";
pub const CANARY_RECORDS: u64 = 3;
pub const CANARY_INTERFACE: &str = "eni-0f10a1c0ca9a12345";
/// The transit gateway canary's transit gateway and attachments.
pub const CANARY_TGW: &str = "tgw-0f10a1c0ca9a12345";
pub const CANARY_TGW_ATTACHMENT: &str = "tgw-attach-0f10a1c0ca9a12345";
pub const CANARY_TGW_PAIR_ATTACHMENT: &str = "tgw-attach-0f10a1c0ca9a67890";

/// The text of a canary object: the header, then `CANARY_RECORDS` records, fields in `fields` order.
pub fn render(fields: &[String], account: &str, region: &str, now_unix: i64) -> String {
    let mut text = fields.join(" ");
    text.push('\n');
    // Transit gateway records are version 6 (TGW guide, "Flow log records").
    let tgw = fields
        .iter()
        .any(|f| crate::config::transit_gateway::is_tgw_only(f));
    for n in 0..CANARY_RECORDS {
        let values: Vec<String> = fields
            .iter()
            .map(|name| match (name.as_str(), tgw) {
                ("version", true) => "6".into(),
                _ => value(name, n, account, region, now_unix),
            })
            .collect();
        text.push_str(&values.join(" "));
        text.push('\n');
    }
    text
}

fn value(field: &str, n: u64, account: &str, region: &str, now: i64) -> String {
    match field {
        "version" => "5".into(),
        "account-id" => account.into(),
        "interface-id" => CANARY_INTERFACE.into(),
        "srcaddr" | "pkt-srcaddr" => CANARY_SOURCE.into(),
        "dstaddr" | "pkt-dstaddr" => CANARY_DESTINATION.into(),
        "srcport" => (40000 + n).to_string(),
        "dstport" => "443".into(),
        "protocol" => "6".into(),
        "packets" => (n + 1).to_string(),
        "bytes" => ((n + 1) * 60).to_string(),
        "start" => (now - 60).to_string(),
        "end" => now.to_string(),
        "action" => "ACCEPT".into(),
        "log-status" => "OK".into(),
        "region" => region.into(),
        "resource-type" => "TransitGateway".into(),
        "tgw-id" => CANARY_TGW.into(),
        "tgw-attachment-id" => CANARY_TGW_ATTACHMENT.into(),
        "tgw-pair-attachment-id" => CANARY_TGW_PAIR_ATTACHMENT.into(),
        "tgw-src-vpc-account-id" | "tgw-dst-vpc-account-id" => account.into(),
        "tgw-src-eni" => CANARY_INTERFACE.into(),
        "packets-lost-no-route"
        | "packets-lost-blackhole"
        | "packets-lost-mtu-exceeded"
        | "packets-lost-ttl-expired" => "0".into(),
        // The VPC, subnet, ENI and AZ of the attachments' sides are not the canary's to invent.
        f if f.starts_with("tgw-") => "-".into(),
        other => format::lookup(other)
            .map(|f| f.example.to_string())
            .unwrap_or_else(|| "-".into()),
    }
}

/// The folder under the flow-log prefix that holds canaries (and that `--wait` does not watch).
pub const CANARY_FOLDER: &str = "flowlogs-verify/";

/// The key of the canary object: under the flow-log prefix, so the forwarder's role may read it,
/// and ending in `.log.gz` like the flow log's own objects.
pub fn key(log_key_prefix: &str, account: &str, region: &str, stamp: &str) -> String {
    format!(
        "{log_key_prefix}{CANARY_FOLDER}{account}_vpcflowlogs_{region}_fl-canary_{stamp}.log.gz"
    )
}

/// Whether S3 would trigger the notification for `key`: its prefix and suffix filter values are
/// matched against the URL-encoded key.
pub fn trigger_matches(key: &str, encoded_prefix: &str, encoded_suffix: &str) -> bool {
    let encoded = crate::aws::keys::encode(key);
    encoded.starts_with(encoded_prefix) && encoded.ends_with(encoded_suffix)
}

/// The CloudWatch Logs filter pattern that finds the log events naming `key`: the key as one quoted
/// term (a quoted term matches the exact text; a key has no `"`).
pub fn filter_pattern(key: &str) -> String {
    format!("\"{key}\"")
}

/// The forwarder's `object` report about `bucket`/`key` among log messages: an asynchronous
/// invocation that failed is retried by Lambda, so the same key may have several; the one that
/// decides is the first that succeeded, else the last written.
pub fn report_for<'a>(
    messages: impl IntoIterator<Item = &'a str>,
    bucket: &str,
    key: &str,
) -> Option<ObjectReport> {
    let mut last = None;
    for o in messages
        .into_iter()
        .filter_map(parse_object_line)
        .filter(|o| o.bucket == bucket && o.key == key)
    {
        if o.ok {
            return Some(o);
        }
        last = Some(o);
    }
    last
}

/// A failure Lambda's own retry of the event is expected to mend: the forwarder's role was not
/// yet allowed to read the object (IAM changes reach S3 after a while, AWS-FACTS.md "Eventual
/// consistency"), which a setup that has just written the role's policy meets on its first canary.
pub fn mended_by_lambda_retry(o: &ObjectReport) -> bool {
    !o.ok
        && o.outcome == Outcome::Failed
        && o.error
            .as_deref()
            .is_some_and(|e| e.contains("AccessDenied"))
}

/// An object report's counts as the invocation report verify shows.
pub fn as_report(o: &ObjectReport) -> Report {
    Report {
        objects: 1,
        records: o.records,
        forwarded: o.forwarded,
        rejected: o.rejected,
        filtered: o.filtered,
        skipped_lines: o.skipped_lines,
        batches: o.batches,
        retries: o.retries,
        millis: o.millis,
        ..Report::default()
    }
}

/// Whether the forwarder's report about the canary object shows every canary record accepted.
pub fn judge_object(o: &ObjectReport) -> Result<(), String> {
    if let Some(error) = o.error.as_deref().filter(|_| !o.ok) {
        return Err(format!(
            "the forwarder failed on the canary ({:?}): {error}",
            o.outcome
        ));
    }
    judge(&as_report(o))?;
    if !o.ok {
        return Err(format!(
            "the forwarder reported the canary not ok ({:?})",
            o.outcome
        ));
    }
    Ok(())
}

/// The S3 event Lambda would receive for the object (keys URL-encoded as S3 sends them).
pub fn s3_event(bucket: &str, key: &str, size: u64, region: &str, time: &str) -> Value {
    let sender = "flowlogs-verify";
    let mut event = S3Event::object_created(&ObjectCreated {
        bucket,
        encoded_key: &crate::aws::keys::encode(key),
        size,
        region,
        sender,
    });
    for r in &mut event.records {
        r.event_time = Some(time.to_string());
        r.request_parameters = Some(RequestParameters {
            source_ip_address: "127.0.0.1".into(),
        });
        r.response_elements = Some(ResponseElements {
            request_id: sender.into(),
            id_2: sender.into(),
        });
        if let Some(s3) = &mut r.s3 {
            if let Some(b) = &mut s3.bucket {
                b.owner_identity = Some(Identity {
                    principal_id: sender.into(),
                });
            }
            if let Some(o) = &mut s3.object {
                o.e_tag = Some("0".into());
                o.sequencer = Some("0".into());
            }
        }
    }
    event.to_value()
}

/// Whether the forwarder's report shows every canary record accepted; the reason when not.
pub fn judge(report: &Report) -> Result<(), String> {
    if report.records != CANARY_RECORDS {
        return Err(format!(
            "the forwarder parsed {} of the {CANARY_RECORDS} canary records ({} lines skipped)",
            report.records, report.skipped_lines
        ));
    }
    if report.rejected > 0 || report.forwarded + report.filtered != CANARY_RECORDS {
        return Err(format!(
            "the endpoint accepted {} of {CANARY_RECORDS} records and rejected {}",
            report.forwarded, report.rejected
        ));
    }
    if report.forwarded == 0 {
        return Err(format!(
            "delivery.filter dropped all {CANARY_RECORDS} canary records (ACCEPT, \
             {CANARY_SOURCE} -> {CANARY_DESTINATION}:443), so none reached the endpoint: \
             narrow the filter, or skip the test delivery with --no-verify"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_fields() -> Vec<String> {
        format::fields()
            .iter()
            .map(|f| f.name.to_string())
            .collect()
    }

    #[test]
    fn canary_follows_the_configured_field_order() {
        let fields: Vec<String> = ["dstaddr", "srcaddr", "action", "end"]
            .map(String::from)
            .to_vec();
        let text = render(&fields, "123456789012", "us-east-1", 1_700_000_000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "dstaddr srcaddr action end");
        assert_eq!(lines[1], "198.51.100.20 192.0.2.10 ACCEPT 1700000000");
        assert_eq!(lines.len(), 1 + CANARY_RECORDS as usize);
    }

    #[test]
    fn a_transit_gateway_canary_has_the_tgw_header_and_values() {
        let fields: Vec<String> = crate::config::transit_gateway::FIELDS
            .map(String::from)
            .to_vec();
        let text = render(&fields, "123456789012", "us-east-1", 1_700_000_000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], crate::config::transit_gateway::FIELDS.join(" "));
        let record: Vec<&str> = lines[1].split(' ').collect();
        assert_eq!(record.len(), 36);
        let at = |f: &str| record[fields.iter().position(|n| n == f).unwrap()];
        assert_eq!(at("version"), "6");
        assert_eq!(at("resource-type"), "TransitGateway");
        assert_eq!(at("tgw-id"), CANARY_TGW);
        assert_eq!(at("tgw-attachment-id"), CANARY_TGW_ATTACHMENT);
        assert_eq!(at("packets-lost-blackhole"), "0");
        assert_eq!(at("srcaddr"), CANARY_SOURCE);
        assert!(!lines[0].split(' ').any(|f| f == "action"));
    }

    #[test]
    fn every_catalogue_field_gets_a_value() {
        let text = render(&all_fields(), "123456789012", "eu-west-1", 1_700_000_000);
        for line in text.lines().skip(1) {
            assert_eq!(line.split(' ').count(), format::fields().len(), "{line}");
        }
        assert!(text.contains(" eu-west-1 "));
    }

    #[test]
    fn event_key_is_url_encoded() {
        let event = s3_event(
            "b",
            "AWSLogs/aws-account-id=1/x y.log.gz",
            10,
            "us-east-1",
            "t",
        );
        assert_eq!(
            event["Records"][0]["s3"]["object"]["key"],
            "AWSLogs/aws-account-id%3D1/x+y.log.gz"
        );
    }

    #[test]
    fn the_canary_key_matches_the_encoded_filter_in_both_layouts() {
        for prefix in [
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
            "team/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/",
        ] {
            let key = key(prefix, "123456789012", "us-east-1", "1700000000000000000");
            let encoded_prefix = crate::aws::keys::encode(prefix);
            assert!(
                trigger_matches(&key, &encoded_prefix, ".log.gz"),
                "{key} under {encoded_prefix}"
            );
            assert!(key.starts_with(prefix) && key.contains(CANARY_FOLDER));
        }
        let hive = "AWSLogs/aws-account-id=1/";
        let key = key(hive, "1", "r", "1");
        assert!(
            !trigger_matches(&key, hive, ".log.gz"),
            "an unencoded hive prefix never fires on AWS"
        );
        assert!(!trigger_matches(
            &key,
            "AWSLogs/aws-account-id%3D1/",
            ".log.parquet"
        ));
    }

    #[test]
    fn a_retried_invocation_is_judged_by_its_success_and_an_access_denied_read_awaits_the_retry() {
        use flowlogs_forwarder::report::ReportLine;
        let key = "AWSLogs/1/flowlogs-verify/c.log.gz";
        let denied = ObjectReport::new(
            "b",
            key,
            Outcome::Failed,
            &Report::default(),
            Some(format!("getting s3://b/{key}: AccessDenied: Access Denied")),
        );
        let forwarded = ObjectReport::new(
            "b",
            key,
            Outcome::Forwarded,
            &Report {
                records: 3,
                forwarded: 3,
                ..Report::default()
            },
            None,
        );
        let line = |o: &ObjectReport| ReportLine::Object(o.clone()).to_line();

        let first_only = [line(&denied)];
        let found = report_for(first_only.iter().map(String::as_str), "b", key).unwrap();
        assert!(mended_by_lambda_retry(&found), "{found:?}");

        let retried = [line(&denied), line(&forwarded)];
        let found = report_for(retried.iter().map(String::as_str), "b", key).unwrap();
        assert!(found.ok && !mended_by_lambda_retry(&found));
        assert!(judge_object(&found).is_ok());

        let endpoint_down = ObjectReport::new(
            "b",
            key,
            Outcome::Failed,
            &Report::default(),
            Some("the OTLP endpoint answered 503".into()),
        );
        assert!(
            !mended_by_lambda_retry(&endpoint_down),
            "only the role's propagation delay is waited out"
        );
    }

    #[test]
    fn the_report_for_the_canary_is_found_among_other_log_lines() {
        use flowlogs_forwarder::report::{Outcome, ReportLine};
        let line = |bucket: &str, key: &str, records| {
            ReportLine::Object(ObjectReport::new(
                bucket,
                key,
                Outcome::Forwarded,
                &Report {
                    records,
                    forwarded: records,
                    ..Report::default()
                },
                None,
            ))
            .to_line()
        };
        let canary = "AWSLogs/aws-account-id=1/flowlogs-verify/c.log.gz";
        let messages = [
            "START RequestId: 1 Version: $LATEST".to_string(),
            line("other-bucket", canary, 1),
            line(
                "b",
                "AWSLogs/aws-account-id=1/flowlogs-verify/other.log.gz",
                2,
            ),
            format!("2026-11-29T09:30:00.000Z\t{}", line("b", canary, 3)),
            line("b", canary, 4),
        ];
        let found = report_for(messages.iter().map(String::as_str), "b", canary).unwrap();
        assert_eq!(found.records, 3, "the first report about that object");
        assert!(judge_object(&found).is_ok());
        assert_eq!(
            report_for(messages.iter().map(String::as_str), "b", "x"),
            None
        );
        assert_eq!(
            filter_pattern(canary),
            "\"AWSLogs/aws-account-id=1/flowlogs-verify/c.log.gz\""
        );
    }

    #[test]
    fn a_failed_or_partial_object_report_fails_the_canary() {
        use flowlogs_forwarder::report::Outcome;
        let counts = |records, forwarded, rejected| Report {
            records,
            forwarded,
            rejected,
            ..Report::default()
        };
        let failed = ObjectReport::new(
            "b",
            "k",
            Outcome::Failed,
            &counts(3, 0, 0),
            Some("sending records failed: 400".into()),
        );
        assert!(judge_object(&failed).unwrap_err().contains("400"));
        let partial = ObjectReport::new("b", "k", Outcome::Forwarded, &counts(3, 2, 1), None);
        assert!(judge_object(&partial).unwrap_err().contains("rejected 1"));
        let short = ObjectReport::new("b", "k", Outcome::Forwarded, &counts(2, 2, 0), None);
        assert!(judge_object(&short).unwrap_err().contains("parsed 2"));
    }

    #[test]
    fn judge_requires_every_record_accepted() {
        let ok = Report {
            records: 3,
            forwarded: 3,
            ..Report::default()
        };
        assert!(judge(&ok).is_ok());
        let rejected = Report {
            records: 3,
            forwarded: 2,
            rejected: 1,
            ..Report::default()
        };
        assert!(judge(&rejected).unwrap_err().contains("rejected 1"));
        let unparsed = Report {
            records: 1,
            forwarded: 1,
            skipped_lines: 2,
            ..Report::default()
        };
        assert!(judge(&unparsed).unwrap_err().contains("parsed 1"));
        // delivery.filter may drop canary records, but not all of them: then nothing was proved.
        let some_filtered = Report {
            records: 3,
            forwarded: 1,
            filtered: 2,
            ..Report::default()
        };
        assert!(judge(&some_filtered).is_ok());
        let all_filtered = Report {
            records: 3,
            filtered: 3,
            ..Report::default()
        };
        assert!(judge(&all_filtered)
            .unwrap_err()
            .contains("delivery.filter dropped all 3"));
    }
}
