//! The estimate's worked figures: 10 million records a day through a 512 MB function in
//! us-east-1, objects kept 90 days, worked out by hand beside each assertion.

use super::volume::Volume;
use super::*;

/// 10M records a day in 288 objects (one flow log), 30 stored and 121 text bytes a record.
fn ten_million() -> Volume {
    Volume {
        source: "records_per_day",
        objects: 0,
        bytes: 0,
        days: 0.0,
        records_per_day: 10_000_000.0,
        objects_per_day: 288.0,
        stored_bytes_per_day: 300_000_000.0,
        text_bytes_per_day: 1_210_000_000.0,
        bytes_per_record: 30.0,
        bytes_per_record_from: "assumed".into(),
        text_bytes_per_record: 121.0,
    }
}

fn lambda(memory_mb: u32, arm64: bool) -> Settings {
    Settings {
        region: "us-east-1".into(),
        mode: Mode::Lambda { memory_mb, arm64 },
        retention_days: 90,
    }
}

fn line<'a>(e: &'a Estimate, item: &str) -> &'a Line {
    e.lines
        .iter()
        .find(|l| l.item == item)
        .unwrap_or_else(|| panic!("no line {item}: {:?}", e.lines))
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= want.abs() * 1e-6 + 1e-12,
        "got {got}, want {want}"
    );
}

#[test]
fn ten_million_records_a_day_through_a_512_mb_x86_function() {
    let e = estimate(&lambda(512, false), Some(ten_million()), vec![]);
    // A month is 730 h = 30.4167 days: 8,760 objects, 304,166,667 records.
    let requests = line(&e, "Lambda requests");
    close(requests.quantity, 8_760.0);
    close(requests.usd, 8_760.0 * 0.000_000_2);
    // CPU: 304,166,667 / 472,199 = 644.15 CPU-s; at 512 MB the function has 512/1769 of a vCPU,
    // so 2,225.59 s of wall time, plus 0.1 s for each of the 8,760 invocations: 3,101.59 s,
    // times 0.5 GB = 1,550.79 GB-s at $0.0000166667 = $0.02585.
    let duration = line(&e, "Lambda duration");
    close(duration.quantity, 1_550.793_119);
    close(duration.usd, 0.025_846_60);
    assert_eq!(duration.page, "https://aws.amazon.com/lambda/pricing/");
    // S3: one PUT and one GET per object; 300 MB a day kept 90 days = 25.15 GB-month at $0.023.
    close(line(&e, "S3 PUT (log delivery)").usd, 0.0438);
    close(line(&e, "S3 GET (forwarder)").usd, 0.003_504);
    let storage = line(&e, "S3 storage until retention expires");
    close(storage.quantity, 25.145_709_51);
    close(storage.usd, 0.578_351_32);
    // Vended logs: 1.21 GB of text a day, 34.28 GB a month at $0.25 = $8.57.
    close(
        line(&e, "Flow-log delivery to S3 (vended logs)").usd,
        8.569_137_81,
    );
    // CloudWatch Logs: 1,000 bytes per invocation, 0.00816 GB a month at $0.50, kept 90 days.
    close(line(&e, "CloudWatch Logs ingestion").usd, 0.004_079_19);
    close(line(&e, "CloudWatch Logs storage").quantity, 0.024_139_88);
    // OTLP out: 577 bytes a record, gzipped, at $0.09 per GB.
    let out = line(&e, "OTLP sent out (data transfer)");
    close(
        out.quantity,
        304_166_666.666_67 * 577.0 * OTLP_GZIP_RATIO / (1024.0 * 1024.0 * 1024.0),
    );
    close(out.usd, out.quantity * 0.09);
    let total: f64 = e.lines.iter().map(|l| l.usd).sum();
    close(e.usd_per_month.unwrap(), total);
    assert_eq!(e.lines.len(), 9);
    assert!(e.hint.is_none());
    assert_eq!(
        (e.prices_region, e.prices_dated),
        ("us-east-1", prices::DATED)
    );
}

#[test]
fn arm64_costs_a_fifth_less_per_gb_second_and_memory_above_one_vcpu_only_adds() {
    let x86 = estimate(&lambda(512, false), Some(ten_million()), vec![]);
    let arm = estimate(&lambda(512, true), Some(ten_million()), vec![]);
    let (dx, da) = (line(&x86, "Lambda duration"), line(&arm, "Lambda duration"));
    close(dx.quantity, da.quantity);
    close(da.usd, 1_550.793_119 * 0.000_013_333_4);
    // Below 1,769 MB the CPU part of GB-s does not depend on memory; above it, it grows.
    let at = |mb| {
        line(
            &estimate(&lambda(mb, false), Some(ten_million()), vec![]),
            "Lambda duration",
        )
        .quantity
    };
    close(at(1024) - 876.0 * 1024.0 / 1024.0, at(512) - 876.0 * 0.5);
    assert!(at(3538) > at(1769));
}

#[test]
fn firehose_mode_bills_ingestion_and_what_goes_out_and_no_lambda() {
    let settings = Settings {
        region: "us-east-1".into(),
        mode: Mode::Firehose { gzip: false },
        retention_days: 90,
    };
    let e = estimate(&settings, Some(ten_million()), vec![]);
    assert!(e.lines.iter().all(|l| !l.item.starts_with("Lambda")));
    // (121 + 14) bytes a record, 304,166,667 records: 38.24 GB at $0.13.
    let ingest = line(&e, "Firehose ingestion");
    close(
        ingest.quantity,
        304_166_666.666_67 * 135.0 / 1_073_741_824.0,
    );
    close(ingest.usd, ingest.quantity * 0.13);
    // Out without gzip: base64 makes it 4/3 of the ingested bytes.
    close(
        line(&e, "Sent out to the endpoint (data transfer)").quantity,
        ingest.quantity * 4.0 / 3.0,
    );
}

#[test]
fn without_a_volume_it_says_how_to_get_an_estimate_instead_of_zeros() {
    let e = estimate(
        &lambda(512, false),
        None,
        vec!["no flow-log objects of the last 7 days under s3://b/AWSLogs/".into()],
    );
    assert!(e.lines.is_empty() && e.usd_per_month.is_none());
    assert!(e.hint.as_deref().unwrap().contains("--records-per-day"));
    let text = e.to_string();
    assert!(text.contains("--records-per-day"), "{text}");
    assert!(text.contains("s3://b/AWSLogs/"), "{text}");
    assert!(!text.contains("$0"), "{text}");
}

#[test]
fn another_region_uses_us_east_1_prices_and_says_so() {
    let mut settings = lambda(512, false);
    settings.region = "eu-west-1".into();
    let e = estimate(&settings, Some(ten_million()), vec![]);
    assert_eq!(e.prices_region, "us-east-1");
    assert!(e
        .assumptions
        .iter()
        .any(|a| a.contains("no row for eu-west-1")));
    settings.region = "ap-northeast-1".into();
    let tokyo = estimate(&settings, Some(ten_million()), vec![]);
    assert_eq!(tokyo.prices_region, "ap-northeast-1");
    assert!(tokyo.usd_per_month > e.usd_per_month);
}

#[test]
fn the_text_is_a_table_with_a_total_and_the_volume_source() {
    let mut v = ten_million();
    v.source = "bucket";
    v.objects = 3;
    v.bytes = 1536 * 1024;
    v.days = 1.0;
    let text = estimate(&lambda(512, false), Some(v), vec![]).to_string();
    assert!(
        text.contains("10,000,000 records a day from 3 objects (1.5 MiB) of the last 7 days"),
        "{text}"
    );
    assert!(
        text.contains("Lambda duration") && text.contains("1,551"),
        "{text}"
    );
    assert!(text.contains("Total"), "{text}");
    assert!(text.contains("a guess, not a quote"), "{text}");
    let flag = estimate(&lambda(512, false), Some(ten_million()), vec![]).to_string();
    assert!(flag.contains("from --records-per-day"), "{flag}");
}

#[test]
fn numbers_are_grouped_by_thousands() {
    assert_eq!(grouped(1_234_567.891, 2), "1,234,567.89");
    assert_eq!(grouped(999.0, 0), "999");
    assert_eq!(grouped(0.5, 1), "0.5");
    assert_eq!(dollars(0.02585), "$0.0259");
    assert_eq!(dollars(1234.5), "$1,234.50");
}
