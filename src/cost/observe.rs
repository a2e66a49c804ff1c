//! The estimate's one look at AWS: the stack's flow-log objects of the last 7 days, found by
//! listing only the day (or hour) folders of those days under the flow-log prefix (the listing
//! and the folder layout are backfill's), and one of them read to count its records.

use std::io::Read;

use time::{Duration, OffsetDateTime};

use super::volume::{self, Listing, Sample};
use crate::aws::Clients;
use crate::config::{Config, FileFormat};
use crate::desired::Names;
use crate::redrive::edge;
use crate::redrive::window::{self, Layout, Window};

/// The largest object read as a sample: bigger ones are skipped for a smaller one.
const SAMPLE_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The most text a sample may unpack to.
const SAMPLE_MAX_TEXT: u64 = 512 * 1024 * 1024;

/// The stack's flow-log files as backfill sees them.
pub fn layout(config: &Config, names: &Names) -> Layout {
    let f = &config.flow_log;
    Layout {
        log_key_prefix: names.log_key_prefix.clone(),
        hive: f.hive_compatible_partitions,
        per_hour: f.per_hour_partition,
        suffix: match f.file_format {
            FileFormat::PlainText => ".log.gz",
            FileFormat::Parquet => ".log.parquet",
        },
    }
}

/// Lists the flow-log objects of the 7 days before `now` and samples the newest text object that
/// is not too big. `Err` says why the bucket could not be listed.
pub async fn listing(
    clients: &Clients,
    bucket: &str,
    layout: &Layout,
    now: OffsetDateTime,
) -> anyhow::Result<Listing> {
    let window = Window {
        since: now - Duration::days(volume::LOOKBACK_DAYS as i64),
        until: now,
    };
    // Day folders even with hourly partitions: each holds its hours' folders, and 8 listings
    // cost less than 169.
    let days = Layout {
        per_hour: false,
        ..layout.clone()
    };
    let mut objects = Vec::new();
    for folder in window::prefixes(&days, &window) {
        objects.extend(
            crate::aws::objects::list(&clients.s3, bucket, &folder, None)
                .await?
                .into_iter()
                .filter(|o| window::in_window(layout, &window, &o.key)),
        );
    }
    let oldest = objects
        .iter()
        .filter_map(|o| window::object_time(&o.key))
        .min();
    let age_days = oldest.map_or(0.0, |t| (now - t).as_seconds_f64() / 86_400.0);
    let mut sample = None;
    if layout.suffix == ".log.gz" {
        let mut candidates: Vec<&crate::aws::objects::Listed> = objects
            .iter()
            .filter(|o| o.size > 0 && o.size <= SAMPLE_MAX_BYTES)
            .collect();
        candidates.sort_by_key(|o| std::cmp::Reverse(window::object_time(&o.key)));
        if let Some(o) = candidates.first() {
            // A sample that cannot be read leaves the stated ratio in use; the listing stands.
            if let Ok(bytes) = edge::get(clients, bucket, &o.key).await {
                if let Some((records, text_bytes)) = gunzip_count(&bytes) {
                    sample = Some(Sample {
                        key: o.key.clone(),
                        stored_bytes: bytes.len() as u64,
                        records,
                        text_bytes,
                    });
                }
            }
        }
    }
    Ok(Listing {
        objects: objects.len() as u64,
        bytes: objects.iter().map(|o| o.size).sum(),
        age_days,
        sample,
    })
}

/// Records and text bytes of a gzip flow-log object; `None` if it is not gzip.
fn gunzip_count(bytes: &[u8]) -> Option<(u64, u64)> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(SAMPLE_MAX_TEXT)
        .read_to_end(&mut text)
        .ok()?;
    Some(volume::count(&text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_object_is_counted_and_anything_else_is_not() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"version srcaddr\n2 10.0.0.1\n2 10.0.0.2\n")
            .unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(gunzip_count(&bytes), Some((2, 38)));
        assert_eq!(gunzip_count(b"PAR1 not gzip"), None);
    }
}
