//! Where AWS writes the flow log's objects, as the table's partition projection sees it. AWS writes
//! `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd/[HH/]<file>`, or with hive-compatible
//! partitions `<prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
//! year=yyyy/month=MM/day=dd/[hour=HH/]<file>` (DESIGN §5 "Key layout"; VPC user guide, "Flow log
//! files"). Without `targets:` a stack's flow logs write one account and one region, so those parts
//! are fixed in the table's location and only the date (and the hour) are partitions (with
//! `targets:` the account and region are partitions before them: `super::origin`), each in a form
//! the Athena user guide documents:
//!
//! - plain layout: `day` (string), projected as a `date` written `yyyy/MM/dd` from the stack's first
//!   day to `NOW`, one value a day ("Create and query a table for Amazon VPC flow logs using
//!   partition projection"), and `hour` (int, 0 to 23, two digits) with hourly folders;
//! - hive layout: the partition columns of AWS's own hive DDL for flow logs ("Create tables for
//!   flow logs in Apache Parquet format": `year`, `month`, `day`, `hour`, strings), `year`
//!   projected as a `date` written `yyyy` from the stack's first year to `NOW`, `month`, `day` and
//!   `hour` as `integer` ranges with `digits` 2 ("Supported types for partition projection").
//!   The folder names (`year=`, ...) are in the location template, not in a date pattern: no AWS
//!   example shows quoted literals in a projection's date format.
//!
//! The partition locations are `storage.location.template` with those values put in.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::day::{self, Day};
use super::origin::Origin;

pub const DAY_KEY: &str = "day";
pub const HOUR_KEY: &str = "hour";

/// The plain layout's day folders, as the `day` projection writes them.
const PLAIN_DAY: &str = "yyyy/MM/dd";
/// The hive layout's day folders, read back from a key (not a projection pattern).
const HIVE_DAY_FOLDERS: &str = "'year='yyyy'/month='MM'/day='dd";

/// The flow log's folder layout (`hive_compatible_partitions`, `per_hour_partition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub hive: bool,
    pub hourly: bool,
}

/// The partition an object falls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    #[serde(skip)]
    pub date: Day,
    pub hour: Option<u32>,
    #[serde(skip)]
    pub hive: bool,
    /// The account and region, in a table over many accounts (`super::origin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl Partition {
    /// The day's partition values as `(column, SQL literal)`, after the account's and region's
    /// when the table has them.
    fn day_values(&self) -> Vec<(&'static str, String)> {
        let d = self.date;
        let mut values: Vec<(&'static str, String)> =
            self.origin.iter().flat_map(|o| o.values()).collect();
        if self.hive {
            values.extend([
                ("year", format!("'{:04}'", d.year)),
                ("month", format!("'{:02}'", d.month)),
                (DAY_KEY, format!("'{:02}'", d.day)),
            ]);
        } else {
            values.push((DAY_KEY, format!("'{}'", day::format(PLAIN_DAY, d))));
        }
        values
    }

    fn hour_value(&self) -> Option<String> {
        // A string column in the hive layout (AWS's DDL), an int in the plain one.
        self.hour.map(|h| {
            if self.hive {
                format!("'{h:02}'")
            } else {
                h.to_string()
            }
        })
    }

    /// The SQL predicate that selects this partition's day (identifiers quoted).
    pub fn day_predicate(&self) -> String {
        self.day_values()
            .iter()
            .map(|(k, v)| format!("\"{k}\" = {v}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The day alone, as `Display` shows it.
    pub fn day_shown(&self) -> String {
        self.day_values()
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.day_shown())?;
        if let Some(h) = self.hour_value() {
            write!(f, " AND {HOUR_KEY} = {h}")?;
        }
        Ok(())
    }
}

impl Layout {
    /// The partition of a day (no hour), to name that day in a query.
    pub fn day_partition(self, date: Day) -> Partition {
        Partition {
            date,
            hour: None,
            hive: self.hive,
            origin: None,
        }
    }

    /// How the projection's first value is written: the day (`yyyy/MM/dd`), or the year in the
    /// hive layout (its `year` projection starts there).
    pub fn first_value(self, since: Day) -> String {
        if self.hive {
            format!("{:04}", since.year)
        } else {
            day::format(PLAIN_DAY, since)
        }
    }

    /// The projection's first day, as it reads back: the hive layout's starts on the first of
    /// January of its first year.
    pub fn first_day(self, since: Day) -> Day {
        if self.hive {
            Day {
                year: since.year,
                month: 1,
                day: 1,
            }
        } else {
            since
        }
    }

    /// The SQL predicate on the partition columns that keeps the last seven days (named queries).
    pub fn recent_days_predicate(self) -> String {
        let week_ago = "current_date - interval '7' day";
        if self.hive {
            format!(
                "\"year\" >= date_format({week_ago}, '%Y')\n  AND concat(\"year\", '/', \"month\", '/', \"{DAY_KEY}\") >= date_format({week_ago}, '%Y/%m/%d')"
            )
        } else {
            format!("\"{DAY_KEY}\" >= date_format({week_ago}, '%Y/%m/%d')")
        }
    }

    /// `storage.location.template`: the table's location (ending in `/`), then the partition folders.
    pub fn template(self, location: &str) -> String {
        match (self.hive, self.hourly) {
            (false, false) => format!("{location}${{{DAY_KEY}}}/"),
            (false, true) => format!("{location}${{{DAY_KEY}}}/${{{HOUR_KEY}}}/"),
            (true, false) => {
                format!("{location}year=${{year}}/month=${{month}}/day=${{{DAY_KEY}}}/")
            }
            (true, true) => format!(
                "{location}year=${{year}}/month=${{month}}/day=${{{DAY_KEY}}}/hour=${{{HOUR_KEY}}}/"
            ),
        }
    }

    /// The partition keys, as Glue columns (name, type).
    pub fn partition_keys(self) -> Vec<(&'static str, &'static str)> {
        let mut keys = if self.hive {
            vec![("year", "string"), ("month", "string"), (DAY_KEY, "string")]
        } else {
            vec![(DAY_KEY, "string")]
        };
        if self.hourly {
            keys.push((HOUR_KEY, if self.hive { "string" } else { "int" }));
        }
        keys
    }

    /// The projection's table parameters: days (or years) from `since` to now, months, days of
    /// the month and hours as two-digit integers.
    pub fn projection(self, location: &str, since: Day) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            p.insert(k.to_string(), v.to_string());
        };
        put("projection.enabled", "true");
        let two_digits = |put: &mut dyn FnMut(&str, &str), column: &str, range: &str| {
            put(&format!("projection.{column}.type"), "integer");
            put(&format!("projection.{column}.range"), range);
            put(&format!("projection.{column}.digits"), "2");
        };
        if self.hive {
            put("projection.year.type", "date");
            put("projection.year.format", "yyyy");
            put(
                "projection.year.range",
                &format!("{},NOW", self.first_value(since)),
            );
            put("projection.year.interval", "1");
            put("projection.year.interval.unit", "YEARS");
            two_digits(&mut put, "month", "1,12");
            two_digits(&mut put, DAY_KEY, "1,31");
        } else {
            put("projection.day.type", "date");
            put("projection.day.format", PLAIN_DAY);
            put(
                "projection.day.range",
                &format!("{},NOW", self.first_value(since)),
            );
            put("projection.day.interval", "1");
            put("projection.day.interval.unit", "DAYS");
        }
        if self.hourly {
            two_digits(&mut put, HOUR_KEY, "0,23");
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
        let folders = if self.hive {
            HIVE_DAY_FOLDERS
        } else {
            PLAIN_DAY
        };
        let (date, rest) = day::parse(folders, rest).ok_or_else(|| {
            format!(
                "its folders after {key_prefix} are not a day written `{}`",
                if self.hive {
                    "year=yyyy/month=MM/day=dd"
                } else {
                    PLAIN_DAY
                }
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
            date,
            hour,
            hive: self.hive,
            origin: None,
        })
    }
}

/// The projection's first day as a table's parameters hold it (either layout, and the hive
/// layout's former single `day` column written with quoted literals), when it has one.
pub fn since_of(parameters: &BTreeMap<String, String>) -> Option<Day> {
    let first = |column: &str| -> Option<(String, String)> {
        if parameters.get(&format!("projection.{column}.type"))? != "date" {
            return None;
        }
        let pattern = parameters.get(&format!("projection.{column}.format"))?;
        let range = parameters.get(&format!("projection.{column}.range"))?;
        Some((pattern.clone(), range.split(',').next()?.to_string()))
    };
    if let Some((pattern, value)) = first(DAY_KEY) {
        return day::parse(&pattern, &value)
            .filter(|(_, rest)| rest.is_empty())
            .map(|(d, _)| d);
    }
    let (pattern, value) = first("year")?;
    if pattern != "yyyy" || value.len() != 4 {
        return None;
    }
    Some(Day {
        year: value.parse().ok()?,
        month: 1,
        day: 1,
    })
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

    /// What the projection does: the template with the partition values put in, each written as
    /// its projection writes it (the plain day with its date format, the hive year with `yyyy`,
    /// the integers with their `digits`).
    fn project(params: &BTreeMap<String, String>, d: Day, hour: u32) -> String {
        let digits = |column: &str, n: u32| match params.get(&format!("projection.{column}.digits"))
        {
            Some(w) => format!("{n:0w$}", w = w.parse::<usize>().unwrap()),
            None => n.to_string(),
        };
        let mut out = params["storage.location.template"].clone();
        if params.get("projection.year.type").map(String::as_str) == Some("date") {
            out = out
                .replace(
                    "${year}",
                    &day::format(&params["projection.year.format"], d),
                )
                .replace("${month}", &digits("month", d.month))
                .replace("${day}", &digits("day", d.day));
        } else {
            out = out.replace("${day}", &day::format(&params["projection.day.format"], d));
        }
        out.replace("${hour}", &digits("hour", hour))
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
                        assert!(!template.contains('\''), "{template}");
                        for d in days {
                            for hour in [0, 7, 23] {
                                let key = aws_key(prefix, layout, d, hour, parquet);
                                let case = format!(
                                    "{layout:?} prefix {prefix:?} parquet {parquet}: {key}"
                                );
                                assert_eq!(
                                    project(&params, d, hour),
                                    format!("s3://logs/{}", folder(&key)),
                                    "{case}"
                                );
                                let p = layout.partition_of(&key_prefix, &key).expect(&case);
                                assert_eq!(p.date, d, "{case}");
                                assert_eq!(p.hour, hourly.then_some(hour), "{case}");
                                assert_eq!(p.hive, hive, "{case}");
                            }
                        }
                    }
                }
            }
        }
    }

    fn pairs(params: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
        params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn the_plain_projection_is_a_day_date_from_the_given_day_to_now() {
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
        // The form of AWS's own VPC flow logs example (Athena user guide, "Create and query a
        // table for Amazon VPC flow logs using partition projection").
        assert_eq!(
            pairs(&plain),
            [
                ("projection.day.format", "yyyy/MM/dd"),
                ("projection.day.interval", "1"),
                ("projection.day.interval.unit", "DAYS"),
                ("projection.day.range", "2026/11/29,NOW"),
                ("projection.day.type", "date"),
                ("projection.enabled", "true"),
                ("projection.hour.digits", "2"),
                ("projection.hour.range", "0,23"),
                ("projection.hour.type", "integer"),
                ("storage.location.template", "s3://b/p/${day}/${hour}/"),
            ]
        );
        assert_eq!(
            Layout {
                hive: false,
                hourly: false
            }
            .partition_keys(),
            [("day", "string")]
        );
    }

    #[test]
    fn the_hive_projection_uses_aws_partition_columns_and_no_quoted_literals() {
        let since = Day {
            year: 2026,
            month: 11,
            day: 29,
        };
        let hive = Layout {
            hive: true,
            hourly: true,
        };
        // AWS's hive DDL for flow logs partitions by year, month, day and hour (strings); the
        // year is a date projection written `yyyy`, the others integers with two digits
        // (Athena user guide, "Supported types for partition projection").
        assert_eq!(
            hive.partition_keys(),
            [
                ("year", "string"),
                ("month", "string"),
                ("day", "string"),
                ("hour", "string")
            ]
        );
        assert_eq!(
            pairs(&hive.projection("s3://b/p/", since)),
            [
                ("projection.day.digits", "2"),
                ("projection.day.range", "1,31"),
                ("projection.day.type", "integer"),
                ("projection.enabled", "true"),
                ("projection.hour.digits", "2"),
                ("projection.hour.range", "0,23"),
                ("projection.hour.type", "integer"),
                ("projection.month.digits", "2"),
                ("projection.month.range", "1,12"),
                ("projection.month.type", "integer"),
                ("projection.year.format", "yyyy"),
                ("projection.year.interval", "1"),
                ("projection.year.interval.unit", "YEARS"),
                ("projection.year.range", "2026,NOW"),
                ("projection.year.type", "date"),
                (
                    "storage.location.template",
                    "s3://b/p/year=${year}/month=${month}/day=${day}/hour=${hour}/"
                ),
            ]
        );
        let daily = Layout {
            hive: true,
            hourly: false,
        }
        .projection("s3://b/p/", since);
        assert!(!daily.contains_key("projection.hour.type"));
        assert_eq!(
            daily["storage.location.template"],
            "s3://b/p/year=${year}/month=${month}/day=${day}/"
        );
        // The first day reads back as the first of January of its year.
        assert_eq!(
            since_of(&daily),
            Some(Day {
                year: 2026,
                month: 1,
                day: 1
            })
        );
    }

    #[test]
    fn the_first_day_reads_back_from_each_form_of_table() {
        let since = Day {
            year: 2026,
            month: 11,
            day: 29,
        };
        let plain = Layout {
            hive: false,
            hourly: false,
        }
        .projection("s3://b/p/", since);
        assert_eq!(since_of(&plain), Some(since));
        // A table of the former hive form: one `day` date written with quoted literals.
        let former = BTreeMap::from([
            ("projection.day.type".to_string(), "date".to_string()),
            (
                "projection.day.format".to_string(),
                "'year='yyyy'/month='MM'/day='dd".to_string(),
            ),
            (
                "projection.day.range".to_string(),
                "year=2026/month=11/day=29,NOW".to_string(),
            ),
        ]);
        assert_eq!(since_of(&former), Some(since));
        assert_eq!(since_of(&BTreeMap::new()), None);
    }

    #[test]
    fn partitions_name_their_day_as_a_query_does() {
        let d = Day {
            year: 2026,
            month: 1,
            day: 2,
        };
        let hive = Partition {
            date: d,
            hour: Some(7),
            hive: true,
            origin: None,
        };
        assert_eq!(
            hive.to_string(),
            "year = '2026' AND month = '01' AND day = '02' AND hour = '07'"
        );
        assert_eq!(
            hive.day_predicate(),
            "\"year\" = '2026' AND \"month\" = '01' AND \"day\" = '02'"
        );
        let plain = Partition {
            date: d,
            hour: Some(7),
            hive: false,
            origin: None,
        };
        assert_eq!(plain.to_string(), "day = '2026/01/02' AND hour = 7");
        assert_eq!(plain.day_predicate(), "\"day\" = '2026/01/02'");
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
