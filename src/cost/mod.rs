//! The bill before it is spent: what a stack costs a month, pure. A volume (records, objects and
//! bytes a day, from `volume`) and the stack's settings go in; cost lines at the list prices of
//! `prices` come out, with the assumptions they rest on. `plan` and `status` show it; the
//! bucket's listing that feeds it is in `observe`.

pub mod observe;
pub mod prices;
pub mod volume;

use std::fmt;

use serde::Serialize;

use prices::{Price, RegionPrices};
use volume::Volume;

/// The forwarder's pace, end to end (read, gunzip, parse, encode, gzip), in records per
/// CPU-second: issue 27, measured with `cargo bench -p flowlogs-forwarder --bench pipeline` on a
/// 2-core x86_64 machine. Taken as the same on arm64 (not measured there).
pub const RECORDS_PER_CPU_SECOND: f64 = 472_199.0;
/// OTLP bytes per record before compression (issue 27; `forward_file` prints `bytes encoded`).
pub const OTLP_BYTES_PER_RECORD: f64 = 577.0;
/// Bytes sent per OTLP byte encoded, with gzip: `forward_file`'s `bytes sent` over
/// `bytes encoded`, 22,305,075 / 115,504,849 on 200,000 default-format records from
/// `gen_flowlogs --seed 1` (README "What it costs"). Also taken, unmeasured, for Firehose's
/// gzip of its base64 JSON.
pub const OTLP_GZIP_RATIO: f64 = 0.193;
/// Wall time of an invocation besides its CPU: the GET's first byte and the last export's round
/// trip. Not measured against AWS: a stated guess.
pub const SECONDS_PER_INVOCATION: f64 = 0.1;
/// Lambda gives a function one full vCPU at 1,769 MB, a share of one below (Lambda developer
/// guide, "Configuring function memory").
pub const FULL_VCPU_MB: f64 = 1769.0;
/// The function's log lines per invocation: Lambda's START, END and REPORT, and the forwarder's
/// `object` and `invocation` report lines, about 1,000 bytes.
pub const LOG_BYTES_PER_INVOCATION: f64 = 1000.0;
/// Firehose mode: each record reaches the stream as `{"message":"<line>"}` (14 bytes more than
/// the line) and goes out base64-encoded in the HTTP endpoint's JSON (4/3).
pub const FIREHOSE_JSON_OVERHEAD: f64 = 14.0;
/// A month as AWS's pricing calculator counts it: 730 hours.
pub const DAYS_PER_MONTH: f64 = 730.0 / 24.0;
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// How records leave AWS, as the estimate needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Lambda { memory_mb: u32, arm64: bool },
    Firehose { gzip: bool },
}

/// The stack's settings the bill depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub region: String,
    pub mode: Mode,
    /// Days objects stay in the bucket (and the function's log lines in CloudWatch Logs).
    pub retention_days: u32,
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub item: &'static str,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd_per_unit: f64,
    pub usd: f64,
    /// The AWS pricing page of the price.
    pub page: &'static str,
}

impl Line {
    fn new(item: &'static str, quantity: f64, price: Price) -> Line {
        Line {
            item,
            quantity,
            unit: price.unit,
            usd_per_unit: price.usd,
            usd: quantity * price.usd,
            page: price.page,
        }
    }
}

/// The estimate as plan and status show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// The volume it works from; null when there is none (see `hint`).
    pub volume: Option<Volume>,
    /// The region whose list prices are used, and the day the table was checked.
    pub prices_region: &'static str,
    pub prices_dated: &'static str,
    pub lines: Vec<Line>,
    /// The sum of the lines; null without a volume.
    pub usd_per_month: Option<f64>,
    pub assumptions: Vec<String>,
    /// How to get an estimate when there is no volume; else null.
    pub hint: Option<String>,
}

/// The estimate for a volume (or, with none, what to do to get one).
pub fn estimate(settings: &Settings, volume: Option<Volume>, notes: Vec<String>) -> Estimate {
    let (p, own_row) = prices::for_region(&settings.region);
    let mut assumptions = notes;
    if !own_row {
        assumptions.push(format!(
            "prices of {}: the table has no row for {}",
            p.region, settings.region
        ));
    }
    let Some(v) = volume else {
        return Estimate {
            volume: None,
            prices_region: p.region,
            prices_dated: prices::DATED,
            lines: vec![],
            usd_per_month: None,
            assumptions,
            hint: Some(
                "no flow-log objects of the last 7 days to measure: pass --records-per-day N \
                 (e.g. --records-per-day 10000000) for an estimate"
                    .into(),
            ),
        };
    };
    let lines = match settings.mode {
        Mode::Lambda { memory_mb, arm64 } => {
            lambda_lines(&v, p, memory_mb, arm64, settings.retention_days)
        }
        Mode::Firehose { gzip } => firehose_lines(&v, p, gzip),
    };
    assumptions.extend(standing_assumptions(settings.mode));
    Estimate {
        usd_per_month: Some(lines.iter().map(|l| l.usd).sum()),
        volume: Some(v),
        prices_region: p.region,
        prices_dated: prices::DATED,
        lines,
        assumptions,
        hint: None,
    }
}

fn lambda_lines(
    v: &Volume,
    p: &RegionPrices,
    memory_mb: u32,
    arm64: bool,
    retention_days: u32,
) -> Vec<Line> {
    let records = v.records_per_day * DAYS_PER_MONTH;
    let objects = v.objects_per_day * DAYS_PER_MONTH;
    let memory = f64::from(memory_mb);
    let cpu_share = (memory / FULL_VCPU_MB).min(1.0);
    let seconds = objects * SECONDS_PER_INVOCATION + records / RECORDS_PER_CPU_SECOND / cpu_share;
    let gb_seconds = seconds * memory / 1024.0;
    let log_gb = objects * LOG_BYTES_PER_INVOCATION / GB;
    let retention_months = f64::from(retention_days) / DAYS_PER_MONTH;
    vec![
        Line::new(
            "Flow-log delivery to S3 (vended logs)",
            v.text_bytes_per_day * DAYS_PER_MONTH / GB,
            p.vended_logs,
        ),
        Line::new(
            "Lambda duration",
            gb_seconds,
            if arm64 {
                p.lambda_gb_second_arm
            } else {
                p.lambda_gb_second_x86
            },
        ),
        Line::new("Lambda requests", objects, p.lambda_request),
        Line::new("S3 PUT (log delivery)", objects, p.s3_put),
        Line::new("S3 GET (forwarder)", objects, p.s3_get),
        Line::new(
            "S3 storage until retention expires",
            v.stored_bytes_per_day * f64::from(retention_days) / GB,
            p.s3_storage,
        ),
        Line::new("CloudWatch Logs ingestion", log_gb, p.logs_ingest),
        Line::new(
            "CloudWatch Logs storage",
            log_gb * retention_months,
            p.logs_storage,
        ),
        Line::new(
            "OTLP sent out (data transfer)",
            records * OTLP_BYTES_PER_RECORD * OTLP_GZIP_RATIO / GB,
            p.transfer_out,
        ),
    ]
}

fn firehose_lines(v: &Volume, p: &RegionPrices, gzip: bool) -> Vec<Line> {
    let records = v.records_per_day * DAYS_PER_MONTH;
    let ingested = records * (v.text_bytes_per_record + FIREHOSE_JSON_OVERHEAD);
    let out = ingested * 4.0 / 3.0 * if gzip { OTLP_GZIP_RATIO } else { 1.0 };
    vec![
        Line::new(
            "Flow-log delivery to Firehose (vended logs)",
            v.text_bytes_per_day * DAYS_PER_MONTH / GB,
            p.vended_logs,
        ),
        Line::new("Firehose ingestion", ingested / GB, p.firehose_ingest),
        Line::new(
            "Sent out to the endpoint (data transfer)",
            out / GB,
            p.transfer_out,
        ),
    ]
}

fn standing_assumptions(mode: Mode) -> Vec<String> {
    let mut out = vec![
        "list prices, first tier, before free tiers and savings plans; a month is 730 hours".into(),
    ];
    match mode {
        Mode::Lambda { .. } => {
            out.push(format!(
                "forwarder: {RECORDS_PER_CPU_SECOND:.0} records per CPU-second (measured on x86_64, \
                 taken as the same on arm64), a CPU share of memory/{FULL_VCPU_MB:.0} MB, plus \
                 {SECONDS_PER_INVOCATION}s per invocation"
            ));
            out.push(format!(
                "OTLP: {OTLP_BYTES_PER_RECORD:.0} bytes per record, gzip to {:.0}%, all of it \
                 leaving AWS (an endpoint in the same region costs less)",
                OTLP_GZIP_RATIO * 100.0
            ));
            out.push(format!(
                "one invocation, one S3 PUT and one GET per object; {LOG_BYTES_PER_INVOCATION:.0} \
                 bytes of function log lines per invocation"
            ));
        }
        Mode::Firehose { .. } => out.push(format!(
            "Firehose: each record as {{\"message\": line}} ({FIREHOSE_JSON_OVERHEAD:.0} bytes more), \
             sent base64-encoded; gzip to {:.0}% when content_encoding is gzip",
            OTLP_GZIP_RATIO * 100.0
        )),
    }
    out.push(
        "vended logs billed on the records' text size (whether AWS bills S3 delivery on the \
         compressed size is not stated on the page)"
            .into(),
    );
    out
}

/// Numbers with thousands separators, to `decimals` places.
fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// Dollars to the cent, or to four places under a dollar.
fn dollars(usd: f64) -> String {
    if usd < 1.0 {
        format!("${usd:.4}")
    } else {
        format!("${}", grouped(usd, 2))
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(v) = &self.volume else {
            writeln!(
                f,
                "Cost estimate: {}.",
                self.hint.as_deref().unwrap_or("no volume")
            )?;
            for a in &self.assumptions {
                writeln!(f, "  - {a}")?;
            }
            return Ok(());
        };
        let source = match v.source {
            "bucket" => format!(
                "from {} objects ({}) of the last 7 days, over {} day(s)",
                v.objects,
                crate::redrive::human_bytes(v.bytes),
                grouped(v.days, 1)
            ),
            _ => "from --records-per-day".to_string(),
        };
        writeln!(
            f,
            "Cost estimate per month: {} records a day {source} (list prices of {}, {}; a guess, not a quote):",
            grouped(v.records_per_day, 0),
            self.prices_region,
            self.prices_dated
        )?;
        for l in &self.lines {
            writeln!(
                f,
                "  {:<42} {:>16} {:<10} {:>10}",
                l.item,
                grouped(l.quantity, if l.quantity < 10.0 { 3 } else { 0 }),
                l.unit,
                dollars(l.usd)
            )?;
        }
        writeln!(
            f,
            "  {:<42} {:>16} {:<10} {:>10}",
            "Total",
            "",
            "",
            dollars(self.usd_per_month.unwrap_or(0.0))
        )?;
        writeln!(
            f,
            "  Assumptions: {} stored bytes per record ({}), {} bytes of text per record;",
            grouped(v.bytes_per_record, 1),
            v.bytes_per_record_from,
            grouped(v.text_bytes_per_record, 0)
        )?;
        for a in &self.assumptions {
            writeln!(f, "  - {a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
