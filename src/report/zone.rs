//! `--display-tz`: local time shown beside UTC for people, never instead
//! of it. Data files keep UTC only.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};

/// An IANA zone (`Europe/Berlin`, daylight saving applied per instant) or
/// a fixed offset (`+05:30`, `UTC-3`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DisplayZone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: give an IANA name such as Europe/Berlin or an offset such as +05:30"
)]
pub struct ZoneError(String);

impl DisplayZone {
    pub fn parse(s: &str) -> Result<Self, ZoneError> {
        let t = s.trim();
        if let Ok(tz) = t.parse::<chrono_tz::Tz>() {
            return Ok(DisplayZone::Named(tz));
        }
        let off = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("GMT"))
            .unwrap_or(t);
        parse_offset(off)
            .map(DisplayZone::Fixed)
            .ok_or_else(|| ZoneError(s.to_string()))
    }

    /// The zone's name as the user gave it, for column headings.
    pub fn name(&self) -> String {
        match self {
            DisplayZone::Named(tz) => tz.name().to_string(),
            DisplayZone::Fixed(o) => format!("UTC{o}"),
        }
    }

    /// `2026-03-02 14:05:09 +01:00` for microseconds since the epoch.
    pub fn local(&self, us: i64) -> String {
        let Some(utc) = DateTime::<Utc>::from_timestamp_micros(us) else {
            return String::new();
        };
        let fmt = "%Y-%m-%d %H:%M:%S %:z";
        match self {
            DisplayZone::Named(tz) => utc.with_timezone(tz).format(fmt).to_string(),
            DisplayZone::Fixed(o) => utc.with_timezone(o).format(fmt).to_string(),
        }
    }

    /// The offset in force at `us`, e.g. for a note under a table.
    pub fn offset_at(&self, us: i64) -> FixedOffset {
        let utc = DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
        match self {
            DisplayZone::Named(tz) => tz.offset_from_utc_datetime(&utc.naive_utc()).fix(),
            DisplayZone::Fixed(o) => *o,
        }
    }
}

/// `+05:30`, `-0300`, `+2`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) if h.len() <= 2 && m.len() == 2 && all_digits(h) && all_digits(m) => {
            (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
        }
        None if rest.len() <= 2 && all_digits(rest) => (rest.parse().ok()?, 0),
        None if rest.len() == 4 && all_digits(rest) => {
            (rest[..2].parse().ok()?, rest[2..].parse().ok()?)
        }
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_zones_follow_daylight_saving() {
        let z = DisplayZone::parse("Europe/Berlin").unwrap();
        // 2026-01-15 12:00 UTC (winter) and 2026-07-15 12:00 UTC (summer).
        assert_eq!(z.local(1_768_478_400_000_000), "2026-01-15 13:00:00 +01:00");
        assert_eq!(z.local(1_784_116_800_000_000), "2026-07-15 14:00:00 +02:00");
    }

    #[test]
    fn offsets_and_errors() {
        let z = DisplayZone::parse("+05:45").unwrap();
        assert_eq!(z.local(0), "1970-01-01 05:45:00 +05:45");
        assert_eq!(
            DisplayZone::parse("UTC-3").unwrap().local(0),
            "1969-12-31 21:00:00 -03:00"
        );
        assert_eq!(z.name(), "UTC+05:45");
        for bad in ["Mars/Olympus", "+25:00", "5", "", "+1:2:3"] {
            assert!(DisplayZone::parse(bad).is_err(), "{bad}");
        }
    }
}
