//! How much flow-log data a stack makes a day, pure: from what a listing of the bucket's flow-log
//! objects of the last 7 days found (and what one sampled object holds), or from
//! `--records-per-day`. The listing and the sample's read are in `observe`.

use serde::Serialize;

/// Flow-log objects are published every 5 minutes per flow log (VPC user guide, "Flow log files"):
/// 288 a day at least, more when a file reaches its size limit.
pub const OBJECTS_PER_DAY_PER_FLOW_LOG: f64 = 288.0;
/// A default-format record as text: 121 bytes a line (`gen_flowlogs --seed 1`: 24,278,142 bytes
/// for 200,000 records and the header), used when no sample says otherwise.
pub const LINE_BYTES_PER_RECORD: f64 = 121.0;
/// Stored bytes per record of a gzip text object, used when no sample says otherwise: 6,537,822
/// bytes for 200,000 default-format records from `gen_flowlogs --seed 1` (README "What it
/// costs"). Its random addresses and ports compress worse than real traffic's repeats.
pub const GZIP_BYTES_PER_RECORD: f64 = 32.7;
/// Parquet objects: AWS says Parquet flow logs take about 20% less storage than gzip text (VPC
/// user guide, "Flow log files"); not measured here (no Parquet sample is read).
pub const PARQUET_BYTES_PER_RECORD: f64 = GZIP_BYTES_PER_RECORD * 0.8;
/// The longest span the listing looks back.
pub const LOOKBACK_DAYS: f64 = 7.0;

/// What the listing of the last 7 days' folders found.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub objects: u64,
    pub bytes: u64,
    /// From the oldest object's time (in its name) to now, in days.
    pub age_days: f64,
    /// One object read whole, when it could be.
    pub sample: Option<Sample>,
}

/// One text object, read and counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub key: String,
    /// Its size in the bucket (gzip).
    pub stored_bytes: u64,
    /// Its records (lines after the header).
    pub records: u64,
    /// Its text, uncompressed.
    pub text_bytes: u64,
}

/// Records and text bytes of a flow-log object's text: every non-empty line after the first (the
/// header AWS writes at the top of each file).
pub fn count(text: &[u8]) -> (u64, u64) {
    let lines = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64;
    (lines.saturating_sub(1), text.len() as u64)
}

/// The volume the estimate works from, per day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    /// `bucket` (objects of the last 7 days) or `records_per_day` (the flag).
    pub source: &'static str,
    /// Objects listed (bucket only; 0 from the flag).
    pub objects: u64,
    /// Their bytes (bucket only).
    pub bytes: u64,
    /// The days those objects span (at least 1, at most 7; 0 from the flag).
    pub days: f64,
    pub records_per_day: f64,
    pub objects_per_day: f64,
    /// Bytes a day the objects take in S3.
    pub stored_bytes_per_day: f64,
    /// Bytes a day of the records as text (what flow-log delivery bills).
    pub text_bytes_per_day: f64,
    /// Stored bytes per record, and where that ratio comes from.
    pub bytes_per_record: f64,
    pub bytes_per_record_from: String,
    pub text_bytes_per_record: f64,
}

/// The volume from the objects listed; `None` when there were none.
pub fn from_listing(listing: &Listing, parquet: bool) -> Option<Volume> {
    if listing.objects == 0 {
        return None;
    }
    let days = listing.age_days.clamp(1.0, LOOKBACK_DAYS);
    let (bytes_per_record, from, text_per_record) = match &listing.sample {
        Some(s) if s.records > 0 && !parquet => (
            s.stored_bytes as f64 / s.records as f64,
            format!("sample {} ({} records)", s.key, s.records),
            s.text_bytes as f64 / s.records as f64,
        ),
        _ => assumed(parquet),
    };
    let records = listing.bytes as f64 / bytes_per_record;
    Some(Volume {
        source: "bucket",
        objects: listing.objects,
        bytes: listing.bytes,
        days,
        records_per_day: records / days,
        objects_per_day: listing.objects as f64 / days,
        stored_bytes_per_day: listing.bytes as f64 / days,
        text_bytes_per_day: records * text_per_record / days,
        bytes_per_record,
        bytes_per_record_from: from,
        text_bytes_per_record: text_per_record,
    })
}

/// The volume from `--records-per-day`, with `flow_logs` flow logs publishing objects.
pub fn from_flag(records_per_day: u64, flow_logs: usize, parquet: bool) -> Volume {
    let (bytes_per_record, from, text_per_record) = assumed(parquet);
    let records = records_per_day as f64;
    Volume {
        source: "records_per_day",
        objects: 0,
        bytes: 0,
        days: 0.0,
        records_per_day: records,
        objects_per_day: OBJECTS_PER_DAY_PER_FLOW_LOG * flow_logs.max(1) as f64,
        stored_bytes_per_day: records * bytes_per_record,
        text_bytes_per_day: records * text_per_record,
        bytes_per_record,
        bytes_per_record_from: from,
        text_bytes_per_record: text_per_record,
    }
}

fn assumed(parquet: bool) -> (f64, String, f64) {
    if parquet {
        (
            PARQUET_BYTES_PER_RECORD,
            "assumed for Parquet (20% below gzip text)".into(),
            LINE_BYTES_PER_RECORD,
        )
    } else {
        (
            GZIP_BYTES_PER_RECORD,
            "assumed for gzip text (default format)".into(),
            LINE_BYTES_PER_RECORD,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_counts_the_lines_after_the_header() {
        let text = b"version srcaddr\n2 10.0.0.1\n2 10.0.0.2\n\n";
        assert_eq!(count(text), (2, text.len() as u64));
        assert_eq!(count(b"version srcaddr\n"), (0, 16));
        assert_eq!(count(b""), (0, 0));
    }

    #[test]
    fn objects_found_give_the_volume_from_what_the_sample_holds() {
        // 3 objects of 2,000 bytes each, one of them sampled: 100 records, 12,000 bytes of text.
        let listing = Listing {
            objects: 3,
            bytes: 6_000,
            age_days: 2.0,
            sample: Some(Sample {
                key: "k".into(),
                stored_bytes: 2_000,
                records: 100,
                text_bytes: 12_000,
            }),
        };
        let v = from_listing(&listing, false).unwrap();
        assert_eq!(v.source, "bucket");
        assert_eq!(v.bytes_per_record, 20.0);
        // 6,000 bytes / 20 bytes a record = 300 records over 2 days.
        assert_eq!(v.records_per_day, 150.0);
        assert_eq!(v.objects_per_day, 1.5);
        assert_eq!(v.stored_bytes_per_day, 3_000.0);
        assert_eq!(v.text_bytes_per_day, 150.0 * 120.0);
        assert!(v.bytes_per_record_from.contains("sample k"));
    }

    #[test]
    fn a_young_stack_counts_as_one_day_and_an_old_one_as_seven() {
        let listing = |age_days| Listing {
            objects: 7,
            bytes: 7 * 300,
            age_days,
            sample: None,
        };
        let young = from_listing(&listing(0.1), false).unwrap();
        assert_eq!((young.days, young.objects_per_day), (1.0, 7.0));
        let old = from_listing(&listing(9.0), false).unwrap();
        assert_eq!((old.days, old.objects_per_day), (7.0, 1.0));
        // No sample: the stated ratio.
        assert_eq!(young.records_per_day, 2_100.0 / GZIP_BYTES_PER_RECORD);
        assert!(young.bytes_per_record_from.starts_with("assumed"));
        assert!(from_listing(&listing(3.0), false).is_some());
        assert_eq!(
            from_listing(
                &Listing {
                    objects: 0,
                    bytes: 0,
                    age_days: 0.0,
                    sample: None
                },
                false
            ),
            None
        );
    }

    #[test]
    fn parquet_uses_its_own_ratio_even_with_a_sample() {
        let listing = Listing {
            objects: 1,
            bytes: 2_400,
            age_days: 1.0,
            sample: Some(Sample {
                key: "k".into(),
                stored_bytes: 2_400,
                records: 1,
                text_bytes: 1,
            }),
        };
        let v = from_listing(&listing, true).unwrap();
        // The sample says 2,400 bytes a record; Parquet is not sampled, the stated ratio stands.
        assert_eq!(v.bytes_per_record, PARQUET_BYTES_PER_RECORD);
        assert_eq!(v.records_per_day, 2_400.0 / PARQUET_BYTES_PER_RECORD);
    }

    #[test]
    fn the_flag_gives_records_and_one_object_per_five_minutes_per_flow_log() {
        let v = from_flag(1_000_000, 2, false);
        assert_eq!(v.source, "records_per_day");
        assert_eq!(v.objects_per_day, 576.0);
        assert_eq!(v.stored_bytes_per_day, 1_000_000.0 * GZIP_BYTES_PER_RECORD);
        assert_eq!(v.text_bytes_per_day, 121_000_000.0);
        assert_eq!(from_flag(10, 0, false).objects_per_day, 288.0);
    }
}
