//! Where AWS writes the flow log's objects, as the table's partition projection sees it. AWS writes
//! `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd/[HH/]<file>`, or with hive-compatible
//! partitions `<prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
//! year=yyyy/month=MM/day=dd/[hour=HH/]<file>` (DESIGN §5 "Key layout"; VPC user guide, "Flow log
//! files"). One stack's flow logs write one account and one region, so those parts are fixed in the
//! table's location and only the date (and the hour) are partitions:
//!
//! - `day` (string), projected as a `date` from the stack's first day to `NOW`, one value a day,
//!   written as the folders are (`2026/11/29`, or `year=2026/month=11/day=29` in the hive layout:
//!   quoted text in the projection's date pattern), so a query names the days it reads;
//! - `hour` (int, 0 to 23, two digits) when the flow log writes hourly folders.
//!
//! The partition locations are `storage.location.template` with those values put in.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::day::{self, Day};

pub const DAY_KEY: &str = "day";
pub const HOUR_KEY: &str = "hour";

/// The flow log's folder layout (`hive_compatible_partitions`, `per_hour_partition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub hive: bool,
    pub hourly: bool,
}

/// The partition an object falls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// The `day` value, as queries write it.
    pub day: String,
    #[serde(skip)]
    pub date: Day,
    pub hour: Option<u32>,
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DAY_KEY} = '{}'", self.day)?;
        if let Some(h) = self.hour {
            write!(f, " AND {HOUR_KEY} = {h}")?;
        }
        Ok(())
    }
}

impl Layout {
    /// The projection's date pattern (Java `DateTimeFormatter`): the day folders as AWS writes them.
    pub fn day_pattern(self) -> &'static str {
        if self.hive {
            "'year='yyyy'/month='MM'/day='dd"
        } else {
            "yyyy/MM/dd"
        }
    }

    /// The same pattern for Athena's SQL `date_format`, for queries that pick days.
    pub fn day_sql_pattern(self) -> &'static str {
        if self.hive {
            "year=%Y/month=%m/day=%d"
        } else {
            "%Y/%m/%d"
        }
    }

    /// `storage.location.template`: the table's location (ending in `/`), then the partition folders.
    pub fn template(self, location: &str) -> String {
        let hour = match (self.hourly, self.hive) {
            (false, _) => "",
            (true, false) => "${hour}/",
            (true, true) => "hour=${hour}/",
        };
        format!("{location}${{{DAY_KEY}}}/{hour}")
    }

    /// The partition keys, as Glue columns (name, type).
    pub fn partition_keys(self) -> Vec<(&'static str, &'static str)> {
        let mut keys = vec![(DAY_KEY, "string")];
        if self.hourly {
            keys.push((HOUR_KEY, "int"));
        }
        keys
    }

    /// The projection's table parameters: days from `since` to now, hours 0 to 23.
    pub fn projection(self, location: &str, since: Day) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            p.insert(k.to_string(), v.to_string());
        };
        put("projection.enabled", "true");
        put("projection.day.type", "date");
        put("projection.day.format", self.day_pattern());
        put(
            "projection.day.range",
            &format!("{},NOW", day::format(self.day_pattern(), since)),
        );
        put("projection.day.interval", "1");
        put("projection.day.interval.unit", "DAYS");
        if self.hourly {
            put("projection.hour.type", "integer");
            put("projection.hour.range", "0,23");
            put("projection.hour.digits", "2");
        }
        put("storage.location.template", &self.template(location));
        p
    }

    /// The partition `key` falls in, read back from its folders under `key_prefix` (the flow
    /// log's `.../vpcflowlogs/<region>/` prefix); why not, when it falls in none.
    pub fn partition_of(self, key_prefix: &str, key: &str) -> Result<Partition, String> {
        let rest = key
            .strip_prefix(key_prefix)
            .ok_or_else(|| format!("it is not under the table's location {key_prefix}"))?;
        let (date, rest) = day::parse(self.day_pattern(), rest).ok_or_else(|| {
            format!(
                "its folders after {key_prefix} are not a day written `{}`",
                self.day_pattern()
            )
        })?;
        let mut rest = rest
            .strip_prefix('/')
            .ok_or("no `/` after the day folder")?;
        let hour = if self.hourly {
            let folder = if self.hive {
                rest.strip_prefix("hour=").ok_or("no `hour=` folder")?
            } else {
                rest
            };
            let digits = folder
                .get(..2)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
            let h: u32 = digits
                .and_then(|d| d.parse().ok())
                .filter(|h| *h < 24)
                .ok_or("no two-digit hour folder (00 to 23)")?;
            rest = folder[2..]
                .strip_prefix('/')
                .ok_or("no `/` after the hour folder")?;
            Some(h)
        } else {
            None
        };
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "`{rest}` after the partition folders is not a file name"
            ));
        }
        Ok(Partition {
            day: day::format(self.day_pattern(), date),
            date,
            hour,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "eu-west-1";

    /// A key as AWS writes it (DESIGN §5, VPC user guide "Flow log files"), built by hand.
    fn aws_key(prefix: &str, layout: Layout, d: Day, hour: u32, parquet: bool) -> String {
        let ext = if parquet { "log.parquet" } else { "log.gz" };
        let file = format!(
            "{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_{:04}{:02}{:02}T{hour:02}05Z_0a1b2c3d.{ext}",
            d.year, d.month, d.day
        );
        let (y, m, dd, h) = (
            format!("{:04}", d.year),
            format!("{:02}", d.month),
            format!("{:02}", d.day),
            format!("{hour:02}"),
        );
        match (layout.hive, layout.hourly) {
            (false, false) => format!("{prefix}AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{y}/{m}/{dd}/{file}"),
            (false, true) => format!("{prefix}AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{y}/{m}/{dd}/{h}/{file}"),
            (true, false) => format!("{prefix}AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/year={y}/month={m}/day={dd}/{file}"),
            (true, true) => format!("{prefix}AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/year={y}/month={m}/day={dd}/hour={h}/{file}"),
        }
    }

    /// What the projection does: the template with the partition values put in (the day written
    /// with the projection's pattern, the hour with its two digits).
    fn project(template: &str, layout: Layout, d: Day, hour: u32) -> String {
        template
            .replace("${day}", &day::format(layout.day_pattern(), d))
            .replace("${hour}", &format!("{hour:02}"))
    }

    fn folder(key: &str) -> &str {
        &key[..=key.rfind('/').unwrap()]
    }

    #[test]
    fn every_layout_projects_the_folder_of_each_key_aws_writes() {
        let days = [
            Day {
                year: 2026,
                month: 11,
                day: 29,
            },
            Day {
                year: 2028,
                month: 2,
                day: 29,
            },
            Day {
                year: 2027,
                month: 1,
                day: 1,
            },
        ];
        for hive in [false, true] {
            for hourly in [false, true] {
                for prefix in ["", "team-a/vpc/"] {
                    for parquet in [false, true] {
                        let layout = Layout { hive, hourly };
                        let key_prefix = if hive {
                            format!("{prefix}AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/")
                        } else {
                            format!("{prefix}AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/")
                        };
                        let location = format!("s3://logs/{key_prefix}");
                        let since = days[0];
                        let params = layout.projection(&location, since);
                        let template = &params["storage.location.template"];
                        assert!(template.starts_with(&location), "{template}");
                        for d in days {
                            for hour in [0, 7, 23] {
                                let key = aws_key(prefix, layout, d, hour, parquet);
                                let case = format!(
                                    "{layout:?} prefix {prefix:?} parquet {parquet}: {key}"
                                );
                                assert_eq!(
                                    project(template, layout, d, hour),
                                    format!("s3://logs/{}", folder(&key)),
                                    "{case}"
                                );
                                let p = layout.partition_of(&key_prefix, &key).expect(&case);
                                assert_eq!(p.date, d, "{case}");
                                assert_eq!(p.hour, hourly.then_some(hour), "{case}");
                                assert_eq!(p.day, day::format(layout.day_pattern(), d), "{case}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_projection_starts_at_the_given_day_and_runs_to_now() {
        let since = Day {
            year: 2026,
            month: 11,
            day: 29,
        };
        let plain = Layout {
            hive: false,
            hourly: true,
        }
        .projection("s3://b/p/", since);
        assert_eq!(plain["projection.day.range"], "2026/11/29,NOW");
        assert_eq!(plain["projection.day.format"], "yyyy/MM/dd");
        assert_eq!(plain["projection.hour.range"], "0,23");
        assert_eq!(
            plain["storage.location.template"],
            "s3://b/p/${day}/${hour}/"
        );
        let hive = Layout {
            hive: true,
            hourly: false,
        }
        .projection("s3://b/p/", since);
        assert_eq!(
            hive["projection.day.range"],
            "year=2026/month=11/day=29,NOW"
        );
        assert!(!hive.contains_key("projection.hour.type"));
        assert_eq!(hive["storage.location.template"], "s3://b/p/${day}/");
    }

    #[test]
    fn keys_outside_the_partitions_say_why() {
        let layout = Layout {
            hive: false,
            hourly: false,
        };
        let prefix = "AWSLogs/1/vpcflowlogs/r/";
        let canary = format!("{prefix}flowlogs-verify/1_vpcflowlogs_r_fl-canary_x.log.gz");
        assert!(layout
            .partition_of(prefix, &canary)
            .unwrap_err()
            .contains("not a day"));
        assert!(layout
            .partition_of(prefix, "other/2026/01/01/x.log.gz")
            .unwrap_err()
            .contains("not under"));
        let hourly = Layout {
            hive: false,
            hourly: true,
        };
        assert!(hourly
            .partition_of(prefix, &format!("{prefix}2026/01/01/x.log.gz"))
            .unwrap_err()
            .contains("hour"));
        assert!(hourly
            .partition_of(prefix, &format!("{prefix}2026/01/01/24/x.log.gz"))
            .is_err());
        assert_eq!(
            layout
                .partition_of(prefix, &format!("{prefix}2026/01/01/x.log.gz"))
                .unwrap()
                .to_string(),
            "day = '2026/01/01'"
        );
    }
}
