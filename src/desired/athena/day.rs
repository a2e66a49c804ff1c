//! Calendar days in UTC, and the part of Java's `DateTimeFormatter` patterns that Athena's date
//! projection uses here (`yyyy`, `MM`, `dd`, `'quoted text'`, any other character as itself): the
//! projection formats partition values with such a pattern, and a key is read back with it.

use std::fmt;

use serde::Serialize;

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// The UTC day of a Unix time (days-from-civil, inverted: H. Hinnant's algorithm).
    pub fn from_unix(secs: i64) -> Day {
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Day {
            year: year as i32,
            month: month as u32,
            day: day as u32,
        }
    }

    /// Today in UTC.
    pub fn today() -> Day {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        Day::from_unix(secs)
    }

    fn valid(self) -> bool {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=days).contains(&self.day)
    }
}

/// `2026-11-29`.
impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One piece of a date pattern.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Year,
    Month,
    DayOfMonth,
}

fn pieces(pattern: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    let mut text = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    text.push(q);
                }
            }
            'y' | 'M' | 'd' => {
                let mut run = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    run += 1;
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                debug_assert!(matches!((c, run), ('y', 4) | ('M', 2) | ('d', 2)));
                out.push(match c {
                    'y' => Piece::Year,
                    'M' => Piece::Month,
                    _ => Piece::DayOfMonth,
                });
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// `day` written with `pattern`, as the projection writes a partition value.
pub fn format(pattern: &str, day: Day) -> String {
    pieces(pattern)
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Year => format!("{:04}", day.year),
            Piece::Month => format!("{:02}", day.month),
            Piece::DayOfMonth => format!("{:02}", day.day),
        })
        .collect()
}

/// Reads a day written with `pattern` at the start of `text`; returns it and the rest of `text`.
pub fn parse<'a>(pattern: &str, text: &'a str) -> Option<(Day, &'a str)> {
    let mut rest = text;
    let mut day = Day {
        year: 0,
        month: 0,
        day: 0,
    };
    let digits = |rest: &mut &'a str, n: usize| -> Option<u32> {
        let d = rest.get(..n)?;
        if !d.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *rest = &rest[n..];
        d.parse().ok()
    };
    for piece in pieces(pattern) {
        match piece {
            Piece::Text(t) => rest = rest.strip_prefix(t.as_str())?,
            Piece::Year => day.year = digits(&mut rest, 4)? as i32,
            Piece::Month => day.month = digits(&mut rest, 2)?,
            Piece::DayOfMonth => day.day = digits(&mut rest, 2)?,
        }
    }
    day.valid().then_some((day, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u32, day: u32) -> Day {
        Day { year, month, day }
    }

    #[test]
    fn unix_times_fall_on_their_utc_day() {
        assert_eq!(Day::from_unix(0), d(1970, 1, 1));
        assert_eq!(Day::from_unix(951_782_400), d(2000, 2, 29));
        assert_eq!(Day::from_unix(951_782_399), d(2000, 2, 28));
        // 2026-11-29T23:59:59Z
        assert_eq!(Day::from_unix(1_795_996_799), d(2026, 11, 29));
        assert_eq!(Day::from_unix(1_795_996_800), d(2026, 11, 30));
        assert_eq!(Day::from_unix(1_798_761_600), d(2027, 1, 1));
    }

    #[test]
    fn patterns_format_and_parse_back() {
        let day = d(2026, 3, 7);
        assert_eq!(format("yyyy/MM/dd", day), "2026/03/07");
        let hive = "'year='yyyy'/month='MM'/day='dd";
        assert_eq!(format(hive, day), "year=2026/month=03/day=07");
        assert_eq!(
            parse(hive, "year=2026/month=03/day=07/x.log.gz"),
            Some((day, "/x.log.gz"))
        );
        assert_eq!(parse("yyyy/MM/dd", "2026/03/07"), Some((day, "")));
        assert_eq!(parse("yyyy/MM/dd", "2026/3/07"), None);
        assert_eq!(parse("yyyy/MM/dd", "2026/02/30"), None);
        assert_eq!(parse(hive, "2026/03/07"), None);
    }
}
