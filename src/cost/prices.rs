//! The one table of AWS list prices the cost estimate uses: each price with its unit and the AWS
//! pricing page it comes from, one row per region where they differ (other regions use us-east-1's
//! row, and the estimate says so).
//!
//! Written 2026-12-06. The AWS pricing pages themselves could not be opened from the machine this
//! was written on (no web access); each figure was taken from what public pages quote of them, and
//! the note beside a figure says how sure it is. Check them on the page named before relying on a
//! figure, and update `DATED` with the table.

/// The day the table was last checked.
pub const DATED: &str = "2026-12-06";

/// One price: US dollars per `unit`, and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub usd: f64,
    pub unit: &'static str,
    pub page: &'static str,
}

const LAMBDA: &str = "https://aws.amazon.com/lambda/pricing/";
const S3: &str = "https://aws.amazon.com/s3/pricing/";
const CLOUDWATCH: &str = "https://aws.amazon.com/cloudwatch/pricing/";
const FIREHOSE: &str = "https://aws.amazon.com/firehose/pricing/";
const TRANSFER: &str = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer";

/// The prices of one region. First tier of every tiered price (the estimate's volumes are far
/// below the next tier for almost every stack); no free tier, no savings plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionPrices {
    pub region: &'static str,
    /// Lambda duration, x86_64.
    pub lambda_gb_second_x86: Price,
    /// Lambda duration, arm64 (Graviton): 20% below x86_64.
    pub lambda_gb_second_arm: Price,
    pub lambda_request: Price,
    /// S3 Standard storage, first 50 TB.
    pub s3_storage: Price,
    /// S3 Standard PUT, COPY, POST, LIST requests.
    pub s3_put: Price,
    /// S3 Standard GET, SELECT and other requests.
    pub s3_get: Price,
    /// CloudWatch Logs ingestion (Standard log class), the function's own lines.
    pub logs_ingest: Price,
    /// CloudWatch Logs storage (archival).
    pub logs_storage: Price,
    /// CloudWatch vended logs delivered to S3 or Firehose (flow logs), first 10 TB.
    pub vended_logs: Price,
    /// Firehose ingestion with vended logs as the source (per GB, no 5 KB rounding).
    pub firehose_ingest: Price,
    /// Data transfer out from AWS to the internet, first 10 TB (after the first 100 GB a month).
    pub transfer_out: Price,
}

const fn price(usd: f64, unit: &'static str, page: &'static str) -> Price {
    Price { usd, unit, page }
}

/// The table. Notes per figure:
/// - Lambda: $0.0000166667 (x86_64) and $0.0000133334 (arm64) per GB-second, $0.20 per million
///   requests: quoted alike by every source seen, the same in most commercial regions.
/// - S3: $0.023 per GB-month, $0.005 per 1,000 PUT, $0.0004 per 1,000 GET in us-east-1: quoted
///   alike by every source seen. ap-northeast-1 storage $0.025 (one source).
/// - CloudWatch Logs: ingestion $0.50 per GB, storage $0.03 per GB-month, vended logs $0.25 per
///   GB (us-east-1, several sources); ap-northeast-1 $0.76, $0.033 and $0.38 (one source each).
/// - Firehose, vended logs as source: the page says such records are billed per GB without the
///   5 KB rounding; the figure $0.13 per GB could NOT be confirmed from any source reachable here.
/// - Data transfer out: $0.09 per GB (us-east-1, several sources); ap-northeast-1 $0.114 (one
///   source, for ap-southeast-2; the same tier price is commonly quoted for Tokyo).
/// - ap-northeast-1's Lambda, S3 request and Firehose figures are us-east-1's: not confirmed.
pub const TABLE: &[RegionPrices] = &[
    RegionPrices {
        region: "us-east-1",
        lambda_gb_second_x86: price(0.000_016_666_7, "GB-second", LAMBDA),
        lambda_gb_second_arm: price(0.000_013_333_4, "GB-second", LAMBDA),
        lambda_request: price(0.000_000_2, "request", LAMBDA),
        s3_storage: price(0.023, "GB-month", S3),
        s3_put: price(0.000_005, "request", S3),
        s3_get: price(0.000_000_4, "request", S3),
        logs_ingest: price(0.50, "GB", CLOUDWATCH),
        logs_storage: price(0.03, "GB-month", CLOUDWATCH),
        vended_logs: price(0.25, "GB", CLOUDWATCH),
        firehose_ingest: price(0.13, "GB", FIREHOSE),
        transfer_out: price(0.09, "GB", TRANSFER),
    },
    RegionPrices {
        region: "ap-northeast-1",
        lambda_gb_second_x86: price(0.000_016_666_7, "GB-second", LAMBDA),
        lambda_gb_second_arm: price(0.000_013_333_4, "GB-second", LAMBDA),
        lambda_request: price(0.000_000_2, "request", LAMBDA),
        s3_storage: price(0.025, "GB-month", S3),
        s3_put: price(0.000_005, "request", S3),
        s3_get: price(0.000_000_4, "request", S3),
        logs_ingest: price(0.76, "GB", CLOUDWATCH),
        logs_storage: price(0.033, "GB-month", CLOUDWATCH),
        vended_logs: price(0.38, "GB", CLOUDWATCH),
        firehose_ingest: price(0.13, "GB", FIREHOSE),
        transfer_out: price(0.114, "GB", TRANSFER),
    },
];

/// The prices for `region`, and whether the table has a row of its own for it (else us-east-1's).
pub fn for_region(region: &str) -> (&'static RegionPrices, bool) {
    match TABLE.iter().find(|r| r.region == region) {
        Some(row) => (row, true),
        None => (&TABLE[0], false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm64_is_twenty_percent_cheaper_per_gb_second_in_every_row() {
        for row in TABLE {
            let ratio = row.lambda_gb_second_arm.usd / row.lambda_gb_second_x86.usd;
            assert!((ratio - 0.8).abs() < 1e-4, "{}: {ratio}", row.region);
        }
    }

    #[test]
    fn every_price_names_an_aws_pricing_page_and_a_unit() {
        for row in TABLE {
            for p in [
                row.lambda_gb_second_x86,
                row.lambda_gb_second_arm,
                row.lambda_request,
                row.s3_storage,
                row.s3_put,
                row.s3_get,
                row.logs_ingest,
                row.logs_storage,
                row.vended_logs,
                row.firehose_ingest,
                row.transfer_out,
            ] {
                assert!(p.page.starts_with("https://aws.amazon.com/"), "{p:?}");
                assert!(!p.unit.is_empty() && p.usd > 0.0, "{p:?}");
            }
        }
    }

    #[test]
    fn a_region_without_a_row_gets_us_east_1_and_is_told_so() {
        assert_eq!(for_region("ap-northeast-1"), (&TABLE[1], true));
        let (row, own) = for_region("eu-west-1");
        assert_eq!((row.region, own), ("us-east-1", false));
    }
}
