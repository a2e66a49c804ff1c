//! Where a flow log object came from: its bucket and key, and the account and region the
//! key's VPC Flow Logs layout names.

/// Where a flow log object came from, and the account and region its key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub bucket: String,
    pub key: String,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl ObjectInfo {
    /// Reads account and region from the key when it has the VPC Flow Logs layout
    /// (`AWSLogs/<account>/vpcflowlogs/<region>/...` or the Hive-style
    /// `AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/...`),
    /// else falls back to the event's region.
    pub fn new(bucket: &str, key: &str, event_region: Option<&str>) -> ObjectInfo {
        let parts: Vec<&str> = key.split('/').collect();
        let mut account = None;
        let mut region = None;
        if let Some(i) = parts.iter().position(|p| *p == "AWSLogs") {
            let rest = &parts[i + 1..];
            if let [acct, service, reg, ..] = rest {
                if let (Some(a), Some(r)) = (
                    acct.strip_prefix("aws-account-id="),
                    reg.strip_prefix("aws-region="),
                ) {
                    account = Some(a.to_string());
                    region = Some(r.to_string());
                } else if *service == "vpcflowlogs" {
                    account = Some(acct.to_string());
                    region = Some(reg.to_string());
                }
            }
        }
        ObjectInfo {
            bucket: bucket.to_string(),
            key: key.to_string(),
            account,
            region: region.or_else(|| event_region.filter(|r| !r.is_empty()).map(str::to_string)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_info_from_keys() {
        let o = ObjectInfo::new(
            "b",
            "logs/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/06/19/123456789012_vpcflowlogs_eu-west-1_fl-1_20240619T1400Z_abc.log.gz",
            Some("us-east-1"),
        );
        assert_eq!(
            (o.account.as_deref(), o.region.as_deref()),
            (Some("123456789012"), Some("eu-west-1"))
        );
        let o = ObjectInfo::new(
            "b",
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-west-2/year=2024/x.log.parquet",
            None,
        );
        assert_eq!(
            (o.account.as_deref(), o.region.as_deref()),
            (Some("123456789012"), Some("us-west-2"))
        );
        let o = ObjectInfo::new("b", "canary.log", Some("us-east-1"));
        assert_eq!((o.account, o.region.as_deref()), (None, Some("us-east-1")));
    }
}
