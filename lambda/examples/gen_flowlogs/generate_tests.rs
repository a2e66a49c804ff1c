//! The generator's tests: deterministic output, headers, every line parseable, the shape of
//! the values.

use crate::generate::*;
use flowlogs_forwarder::format;
use flowlogs_forwarder::parse::{Header, LineParser, Reader};

fn options(format: &str, records: u64, seed: u64) -> Options {
    Options {
        records,
        fields: Options::fields_of(format).unwrap(),
        seed,
        nodata_every: 50,
    }
}

fn generate(options: &Options) -> String {
    let mut out = Vec::new();
    write(&mut out, options).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let a = generate(&options("all", 500, 7));
    assert_eq!(a, generate(&options("all", 500, 7)));
    assert_ne!(a, generate(&options("all", 500, 8)));
}

#[test]
fn a_gz_file_holds_the_same_text_and_is_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options("default", 300, 3);
    let (one, two) = (dir.path().join("one.log.gz"), dir.path().join("two.log.gz"));
    write_file(&one, &opts).unwrap();
    write_file(&two, &opts).unwrap();
    let gz = std::fs::read(&one).unwrap();
    assert_eq!(gz, std::fs::read(&two).unwrap());
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(text, generate(&opts));
    let plain = dir.path().join("plain.log");
    write_file(&plain, &opts).unwrap();
    assert_eq!(std::fs::read_to_string(plain).unwrap(), text);
}

#[test]
fn the_header_names_the_fields_of_the_format_in_order() {
    let default = generate(&options("default", 1, 1));
    assert_eq!(
        default.lines().next().unwrap(),
        format::DEFAULT_FIELDS.join(" ")
    );
    let all = generate(&options("all", 1, 1));
    let names: Vec<&str> = format::fields().iter().map(|f| f.name).collect();
    assert_eq!(all.lines().next().unwrap(), names.join(" "));
    let custom = generate(&options("flow-direction,srcaddr,pkt-src-aws-service", 1, 1));
    assert_eq!(
        custom.lines().next().unwrap(),
        "flow-direction srcaddr pkt-src-aws-service"
    );
}

#[test]
fn every_line_parses_with_the_forwarders_parser() {
    for format in [
        "default",
        "all",
        "tgw",
        "version,ecs-task-arn,reject-reason,bytes",
    ] {
        let text = generate(&options(format, 2000, 11));
        let mut lines = text.lines();
        let mut parser = LineParser::new(Header::parse(lines.next().unwrap()));
        for (n, line) in lines.enumerate() {
            if let Err(e) = parser.parse_line(line) {
                panic!("{format}: line {}: {e:?}: {line}", n + 2);
            }
        }
        let mut reader = Reader::new(text.as_bytes(), "generated");
        let mut records = 0;
        while reader.next_record().unwrap().is_some() {
            records += 1;
        }
        assert_eq!((records, reader.skipped_lines()), (2000, 0), "{format}");
    }
}

#[test]
fn the_version_is_the_highest_of_the_fields_and_nodata_records_come_every_k() {
    let text = generate(&options("all", 100, 5));
    let records: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(' ').collect())
        .collect();
    assert!(records.iter().all(|r| r[0] == "8"));
    let status: Vec<&str> = records.iter().map(|r| r[13]).collect();
    assert_eq!((status[49], status[99]), ("NODATA", "SKIPDATA"));
    assert_eq!(status.iter().filter(|s| **s == "OK").count(), 98);
    // A record without data keeps the interface and the window, and nothing else.
    let nodata = &records[49];
    assert!(nodata[2].starts_with("eni-") && nodata[10].parse::<u64>().is_ok());
    assert!(nodata[3..10].iter().all(|v| *v == "-"));
    assert_eq!(
        generate(&options("srcaddr,dstaddr", 3, 1))
            .lines()
            .nth(1)
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    let v3 = generate(&options("version,tcp-flags", 1, 1));
    assert!(v3.lines().nth(1).unwrap().starts_with("3 "));
}

#[test]
fn values_follow_the_shape_of_real_traffic() {
    let text = generate(&Options {
        nodata_every: 0,
        ..options("all", 20_000, 2)
    });
    let header = Header::parse(text.lines().next().unwrap());
    let col = |name: &str| header.column_of(name).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(' ').collect())
        .collect();
    let share = |name: &str, value: &str| {
        rows.iter().filter(|r| r[col(name)] == value).count() as f64 / rows.len() as f64
    };
    let near = |got: f64, want: f64| (got - want).abs() < 0.02;
    assert!(near(share("protocol", "6"), 0.70), "TCP share");
    assert!(near(share("protocol", "17"), 0.22), "UDP share");
    assert!(near(share("action", "REJECT"), 0.15), "REJECT share");
    assert!(near(share("type", "IPv6"), 0.05), "IPv6 share");
    assert!(near(share("ecs-cluster-name", "web"), 0.20), "ECS share");
    let distinct = |name: &str| {
        rows.iter()
            .map(|r| r[col(name)])
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert_eq!(distinct("interface-id"), 64);
    assert_eq!(distinct("vpc-id"), 3);
    assert!(distinct("srcaddr") > 10_000, "addresses vary widely");
    assert!(rows
        .iter()
        .all(|r| r[col("protocol")] == "6" || r[col("tcp-flags")] == "0"));
    assert!(rows.iter().all(|r| {
        let (start, end): (u64, u64) = (
            r[col("start")].parse().unwrap(),
            r[col("end")].parse().unwrap(),
        );
        (T0..T0 + 300).contains(&start) && (start + 1..=start + 60).contains(&end)
    }));
}

#[test]
fn an_unknown_field_is_refused_with_its_name() {
    let err = Options::fields_of("srcaddr,dstadr,bogus").unwrap_err();
    assert!(err.contains("dstadr bogus"), "{err}");
}

#[test]
fn the_cache_name_changes_with_every_option() {
    let base = options("default", 1000, 1);
    let variants = [
        options("all", 1000, 1),
        options("default", 1001, 1),
        options("default", 1000, 2),
        Options {
            nodata_every: 0,
            ..base.clone()
        },
        options("dstaddr,srcaddr", 1000, 1),
        options("srcaddr,dstaddr", 1000, 1),
    ];
    let mut names: Vec<String> = variants.iter().map(Options::cache_name).collect();
    names.push(base.cache_name());
    names.sort();
    names.dedup();
    assert_eq!(names.len(), variants.len() + 1, "{names:?}");
}

#[test]
fn tgw_files_have_every_tgw_field_and_leave_vpc_files_as_they_were() {
    let tgw = generate(&options("tgw", 3000, 5));
    let mut lines = tgw.lines();
    assert_eq!(lines.next().unwrap(), format::TGW_FIELDS.join(" "));
    let records: Vec<Vec<&str>> = lines.map(|l| l.split(' ').collect()).collect();
    let col = |name: &str| format::TGW_FIELDS.iter().position(|f| *f == name).unwrap();
    assert!(records.iter().all(|r| r[col("version")] == "6"));
    assert!(records
        .iter()
        .all(|r| r[col("resource-type")] == "TransitGateway"));
    let ok: Vec<_> = records
        .iter()
        .filter(|r| r[col("log-status")] == "OK")
        .collect();
    assert!(ok
        .iter()
        .all(|r| r[col("tgw-attachment-id")] != r[col("tgw-pair-attachment-id")]));
    let losing = ok
        .iter()
        .filter(|r| r[col("packets-lost-no-route")..=col("packets-lost-ttl-expired")] != ["0"; 4])
        .count();
    assert!((30..=150).contains(&losing), "{losing} of {}", ok.len());
    // The same seed gives a VPC file the same flows with or without a gateway column.
    let plain = generate(&options("srcaddr,dstport", 200, 5));
    let with_gateway = generate(&options("srcaddr,dstport,tgw-id", 200, 5));
    for (a, b) in plain.lines().zip(with_gateway.lines()).skip(1) {
        assert!(b.starts_with(&format!("{a} tgw-")), "{a} / {b}");
    }
}
