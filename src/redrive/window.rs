//! Backfill's time window over the stack's key layout, pure: reading `--since`/`--until`, the
//! folders of the layout that hold the window's objects (one per day, or per hour with
//! `per_hour_partition`; plain `yyyy/mm/dd/[hh/]` or hive `year=yyyy/month=mm/day=dd/[hour=hh/]`,
//! each after the stack's `<prefix>AWSLogs/...` part; and the folder after them, where a file
//! delivered just after midnight or the hour sits), and whether an object listed there is one of
//! the window's: its name ends as the stack's files do and the time in its name
//! (`..._<yyyymmddThhmmZ>_<hash>.log.gz`) is in the window.

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// The half-open window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

/// Where a stack's flow logs are and how their folders are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/` or its hive form (ends in `/`).
    pub log_key_prefix: String,
    pub hive: bool,
    pub per_hour: bool,
    /// `.log.gz` or `.log.parquet`.
    pub suffix: &'static str,
}

/// `2026-11-20T00:00:00Z` (RFC 3339, any offset) or a date, `2026-11-20` (midnight UTC).
pub fn parse_time(text: &str, flag: &str) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    let date = text
        .split('-')
        .map(str::parse::<u32>)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|parts| parts.len() == 3 && text.len() == 10)
        .and_then(|p| {
            let month = Month::try_from(u8::try_from(p[1]).ok()?).ok()?;
            Date::from_calendar_date(i32::try_from(p[0]).ok()?, month, u8::try_from(p[2]).ok()?)
                .ok()
        });
    match date {
        Some(d) => Ok(d.midnight().assume_utc()),
        None => Err(format!(
            "{flag} `{text}` is not a time: write RFC 3339 (2026-11-20T00:00:00Z) or a date (2026-11-20)"
        )),
    }
}

/// The window from the flags; `--until` defaults to `now`. Refused: a time in the future, and a
/// `--since` that is not before `--until`.
pub fn window(since: &str, until: Option<&str>, now: OffsetDateTime) -> Result<Window, String> {
    let since = parse_time(since, "--since")?;
    let until = match until {
        Some(text) => parse_time(text, "--until")?,
        None => now,
    };
    for (flag, t) in [("--since", since), ("--until", until)] {
        if t > now {
            return Err(format!(
                "{flag} {} is in the future (now is {}): flow logs for it do not exist yet",
                shown(t),
                shown(now)
            ));
        }
    }
    if since >= until {
        return Err(format!(
            "--since {} is not before --until {}: give a window that starts before it ends",
            shown(since),
            shown(until)
        ));
    }
    Ok(Window { since, until })
}

/// RFC 3339 in UTC, to the second.
pub fn shown(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn folder(layout: &Layout, t: OffsetDateTime) -> String {
    let (y, m, d, h) = (t.year(), u8::from(t.month()), t.day(), t.hour());
    let mut out = layout.log_key_prefix.clone();
    if layout.hive {
        out.push_str(&format!("year={y:04}/month={m:02}/day={d:02}/"));
        if layout.per_hour {
            out.push_str(&format!("hour={h:02}/"));
        }
    } else {
        out.push_str(&format!("{y:04}/{m:02}/{d:02}/"));
        if layout.per_hour {
            out.push_str(&format!("{h:02}/"));
        }
    }
    out
}

/// The folders to list: every day (or hour) that overlaps the window, in order, and the one after
/// it. AWS files an object by when it delivered it, which is later than the time in its name: a
/// file named 23:55 is often delivered after midnight and sits in the next day's (or hour's)
/// folder. Which objects are the window's is decided by the time in their name (`in_window`).
pub fn prefixes(layout: &Layout, window: &Window) -> Vec<String> {
    let step = if layout.per_hour {
        Duration::HOUR
    } else {
        Duration::DAY
    };
    let start = window.since;
    let mut t = if layout.per_hour {
        PrimitiveDateTime::new(
            start.date(),
            Time::from_hms(start.hour(), 0, 0).expect("hour"),
        )
        .assume_utc()
    } else {
        start.date().midnight().assume_utc()
    };
    let mut out = Vec::new();
    while t < window.until {
        out.push(folder(layout, t));
        t += step;
    }
    out.push(folder(layout, t));
    out
}

/// The time in a flow-log file's name: the `<yyyymmddThhmmZ>` part.
pub fn object_time(key: &str) -> Option<OffsetDateTime> {
    let name = key.rsplit('/').next()?;
    let token = name
        .split('_')
        .find(|p| p.len() == 14 && p.as_bytes()[8] == b'T' && p.ends_with('Z'))?;
    let digits = |range: std::ops::Range<usize>| token.get(range)?.parse::<u32>().ok();
    let date = Date::from_calendar_date(
        i32::try_from(digits(0..4)?).ok()?,
        Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?,
        u8::try_from(digits(6..8)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(digits(9..11)?).ok()?,
        u8::try_from(digits(11..13)?).ok()?,
        0,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// An object listed in one of the window's folders is sent when it is one of the stack's files
/// (its suffix) and the time in its name is in the window. Anything else there is not ours to send.
pub fn in_window(layout: &Layout, window: &Window, key: &str) -> bool {
    key.starts_with(&layout.log_key_prefix)
        && key.ends_with(layout.suffix)
        && object_time(key).is_some_and(|t| window.since <= t && t < window.until)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> OffsetDateTime {
        parse_time(text, "--since").unwrap()
    }

    fn layout(hive: bool, per_hour: bool) -> Layout {
        Layout {
            log_key_prefix: if hive {
                "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/".into()
            } else {
                "p/AWSLogs/1/vpcflowlogs/r/".into()
            },
            hive,
            per_hour,
            suffix: ".log.gz",
        }
    }

    #[test]
    fn times_are_rfc3339_with_any_offset_or_a_date_at_midnight_utc() {
        assert_eq!(t("2026-11-20"), t("2026-11-20T00:00:00Z"));
        assert_eq!(t("2026-11-20T02:00:00+02:00"), t("2026-11-20T00:00:00Z"));
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-11-20 00:00",
            "20261120",
            "",
        ] {
            let e = parse_time(bad, "--since").unwrap_err();
            assert!(e.contains("--since") && e.contains("RFC 3339"), "{e}");
        }
    }

    #[test]
    fn a_window_ends_now_by_default_and_refuses_the_future_and_an_empty_span() {
        let now = t("2026-11-29T12:00:00Z");
        let w = window("2026-11-20", None, now).unwrap();
        assert_eq!((w.since, w.until), (t("2026-11-20"), now));
        let future = window("2026-11-30", None, now).unwrap_err();
        assert!(
            future.contains("--since") && future.contains("future"),
            "{future}"
        );
        let future_until = window("2026-11-20", Some("2026-12-01"), now).unwrap_err();
        assert!(future_until.contains("--until"), "{future_until}");
        let reversed = window("2026-11-22", Some("2026-11-21"), now).unwrap_err();
        assert!(reversed.contains("not before"), "{reversed}");
        assert!(window("2026-11-21", Some("2026-11-21"), now).is_err());
    }

    #[test]
    fn daily_folders_cover_every_day_the_window_touches() {
        let w = window(
            "2026-11-20T22:00:00Z",
            Some("2026-11-22T00:00:00Z"),
            t("2026-11-29"),
        )
        .unwrap();
        assert_eq!(
            prefixes(&layout(false, false), &w),
            [
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/20/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/21/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/22/"
            ]
        );
        assert_eq!(
            prefixes(&layout(true, false), &w)[1],
            "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/year=2026/month=11/day=21/"
        );
    }

    #[test]
    fn hourly_folders_cover_every_hour_the_window_touches_across_midnight() {
        let w = window(
            "2026-11-20T22:30:00Z",
            Some("2026-11-21T01:00:00Z"),
            t("2026-11-29"),
        )
        .unwrap();
        assert_eq!(
            prefixes(&layout(false, true), &w),
            [
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/20/22/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/20/23/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/21/00/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/21/01/"
            ]
        );
        assert_eq!(
            prefixes(&layout(true, true), &w)[2],
            "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/year=2026/month=11/day=21/hour=00/"
        );
    }

    #[test]
    fn only_the_stacks_files_named_in_the_window_are_sent() {
        let l = layout(false, false);
        let w = window(
            "2026-11-20T06:00:00Z",
            Some("2026-11-20T12:00:00Z"),
            t("2026-11-29"),
        )
        .unwrap();
        let key = |time: &str, suffix: &str| {
            format!("p/AWSLogs/1/vpcflowlogs/r/2026/11/20/1_vpcflowlogs_r_fl-0abc_{time}_0f1e2d3c{suffix}")
        };
        assert!(in_window(&l, &w, &key("20261120T0600Z", ".log.gz")));
        assert!(in_window(&l, &w, &key("20261120T1155Z", ".log.gz")));
        assert!(!in_window(&l, &w, &key("20261120T1200Z", ".log.gz")));
        assert!(!in_window(&l, &w, &key("20261120T0555Z", ".log.gz")));
        assert!(!in_window(&l, &w, &key("20261120T0700Z", ".log.parquet")));
        assert!(!in_window(
            &l,
            &w,
            "p/AWSLogs/1/vpcflowlogs/r/2026/11/20/notes.log.gz"
        ));
        assert!(!in_window(
            &l,
            &w,
            "other/1_vpcflowlogs_r_fl-0abc_20261120T0700Z_0f.log.gz"
        ));
        assert_eq!(
            object_time(&key("20261120T0705Z", ".log.gz")),
            Some(t("2026-11-20T07:05:00Z"))
        );
    }

    /// What backfill sends of the objects listed in its folders.
    fn select<'a>(layout: &Layout, window: &Window, keys: &'a [String]) -> Vec<&'a str> {
        keys.iter()
            .map(String::as_str)
            .filter(|key| in_window(layout, window, key))
            .collect()
    }

    /// Files as AWS leaves them around a boundary: named for the end of their capture, filed in
    /// the folder of their delivery, a few minutes later.
    fn delivered(layout: &Layout, named: &str, filed: &str) -> String {
        let filed = t(filed);
        let named = t(named);
        format!(
            "{}1_vpcflowlogs_r_fl-0abc_{:04}{:02}{:02}T{:02}{:02}Z_0f1e2d3c.log.gz",
            folder(layout, filed),
            named.year(),
            u8::from(named.month()),
            named.day(),
            named.hour(),
            named.minute()
        )
    }

    #[test]
    fn files_delivered_after_midnight_are_found_in_the_next_days_folder_by_their_name() {
        let l = layout(false, false);
        let now = t("2026-11-29");
        let w = window("2026-11-20", Some("2026-11-21"), now).unwrap();
        let folders = prefixes(&l, &w);
        assert_eq!(
            folders,
            [
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/20/",
                "p/AWSLogs/1/vpcflowlogs/r/2026/11/21/"
            ],
            "the window's day and the next"
        );
        let listed = vec![
            // Named just before the window, delivered in its first folder: not the window's.
            delivered(&l, "2026-11-19T23:55:00Z", "2026-11-20T00:04:00Z"),
            delivered(&l, "2026-11-20T00:00:00Z", "2026-11-20T00:06:00Z"),
            delivered(&l, "2026-11-20T12:00:00Z", "2026-11-20T12:05:00Z"),
            // Named in the window, delivered after midnight into the next day's folder.
            delivered(&l, "2026-11-20T23:55:00Z", "2026-11-21T00:03:00Z"),
            // The next day's own files stay out.
            delivered(&l, "2026-11-21T00:00:00Z", "2026-11-21T00:07:00Z"),
            delivered(&l, "2026-11-21T00:05:00Z", "2026-11-21T00:09:00Z"),
        ];
        for key in &listed {
            assert!(
                folders.iter().any(|f| key.starts_with(f.as_str())),
                "{key} is in a listed folder"
            );
        }
        assert_eq!(
            select(&l, &w, &listed),
            [listed[1].as_str(), listed[2].as_str(), listed[3].as_str()]
        );
    }

    #[test]
    fn files_delivered_after_the_hour_are_found_in_the_next_hours_folder_by_their_name() {
        for hive in [false, true] {
            let l = layout(hive, true);
            let w = window(
                "2026-11-20T22:00:00Z",
                Some("2026-11-21T00:00:00Z"),
                t("2026-11-29"),
            )
            .unwrap();
            let folders = prefixes(&l, &w);
            assert_eq!(folders.len(), 3, "{folders:?}");
            assert!(folders[2].ends_with(if hive {
                "year=2026/month=11/day=21/hour=00/"
            } else {
                "2026/11/21/00/"
            }));
            let listed = vec![
                delivered(&l, "2026-11-20T21:55:00Z", "2026-11-20T22:02:00Z"),
                delivered(&l, "2026-11-20T22:55:00Z", "2026-11-20T23:01:00Z"),
                delivered(&l, "2026-11-20T23:00:00Z", "2026-11-20T23:05:00Z"),
                delivered(&l, "2026-11-20T23:55:00Z", "2026-11-21T00:04:00Z"),
                delivered(&l, "2026-11-21T00:00:00Z", "2026-11-21T00:05:00Z"),
            ];
            for key in &listed {
                assert!(
                    folders.iter().any(|f| key.starts_with(f.as_str())),
                    "{key} is in a listed folder"
                );
            }
            assert_eq!(
                select(&l, &w, &listed),
                [listed[1].as_str(), listed[2].as_str(), listed[3].as_str()],
                "hive {hive}"
            );
        }
    }
}
