//! The timestamp spellings the exports use, written from UTC microseconds.
//!
//! Hand-rolled civil-date arithmetic (no chrono per record) because the
//! writers format millions of timestamps. Every spelling truncates: an
//! export with second or millisecond precision never rounds up.

use std::fmt::Write as _;

pub const US_PER_SEC: i64 = 1_000_000;
pub const US_PER_MIN: i64 = 60 * US_PER_SEC;
pub const US_PER_HOUR: i64 = 60 * US_PER_MIN;
pub const US_PER_DAY: i64 = 24 * US_PER_HOUR;

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
#[cfg(test)]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil(t_us: i64) -> Civil {
    let days = t_us.div_euclid(US_PER_DAY);
    let rem = t_us.rem_euclid(US_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = rem / US_PER_SEC;
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: ((secs / 60) % 60) as u32,
        second: (secs % 60) as u32,
        micros: (rem % US_PER_SEC) as u32,
    }
}

/// Monday = 0 … Sunday = 6.
pub fn weekday(t_us: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((t_us.div_euclid(US_PER_DAY) + 3).rem_euclid(7)) as u32
}

fn date_time(c: &Civil, sep: char, out: &mut String) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
        c.year, c.month, c.day, sep, c.hour, c.minute, c.second
    );
}

/// `2026-03-02T07:41:09.1234567Z`: Graph's spelling. `tick` is the 7th
/// fraction digit (100 ns), which the microsecond model cannot hold; it is
/// derived from the record so that all formats agree.
pub fn iso_z7(t_us: i64, tick: u8) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(28);
    date_time(&c, 'T', &mut s);
    let _ = write!(s, ".{:06}{}Z", c.micros, tick % 10);
    s
}

/// `2026-03-02T07:41:09.1234567+00:00`, or six digits when the seventh is
/// zero, as Azure Monitor writes `properties.createdDateTime`.
pub fn iso_offset(t_us: i64, tick: u8) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(33);
    date_time(&c, 'T', &mut s);
    if tick.is_multiple_of(10) {
        let _ = write!(s, ".{:06}+00:00", c.micros);
    } else {
        let _ = write!(s, ".{:06}{}+00:00", c.micros, tick % 10);
    }
    s
}

/// `2026-03-02T07:41:09.123456700Z`: nine fraction digits.
pub fn iso_z9(t_us: i64, tick: u8) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(30);
    date_time(&c, 'T', &mut s);
    let _ = write!(s, ".{:06}{}00Z", c.micros, tick % 10);
    s
}

/// `2026-03-02T07:41:09Z`.
pub fn iso_z_sec(t_us: i64) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(20);
    date_time(&c, 'T', &mut s);
    s.push('Z');
    s
}

/// `2026-03-02T07:41:09`: the audit log's `CreationTime` (UTC, no zone).
pub fn iso_plain_sec(t_us: i64) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(19);
    date_time(&c, 'T', &mut s);
    s
}

/// `2026-03-02T07:41:09.0000000Z`: classic audit search export.
pub fn iso_z_zero7(t_us: i64) -> String {
    let c = civil(t_us);
    let mut s = String::with_capacity(28);
    date_time(&c, 'T', &mut s);
    s.push_str(".0000000Z");
    s
}

fn hour12(h: u32) -> (u32, &'static str) {
    let ampm = if h < 12 { "AM" } else { "PM" };
    let h12 = match h % 12 {
        0 => 12,
        x => x,
    };
    (h12, ampm)
}

/// `3/2/2026 7:41:09 AM`: en-US culture without milliseconds (Purview
/// export, `Export-Csv`, some Azure Monitor pipelines).
pub fn us_datetime(t_us: i64) -> String {
    let c = civil(t_us);
    let (h, ampm) = hour12(c.hour);
    let mut s = String::with_capacity(22);
    let _ = write!(
        s,
        "{}/{}/{} {}:{:02}:{:02} {}",
        c.month, c.day, c.year, h, c.minute, c.second, ampm
    );
    s
}

/// `3/2/2026, 7:41:09.123 AM`: Log Analytics "Export to CSV".
pub fn la_datetime(t_us: i64) -> String {
    let c = civil(t_us);
    let (h, ampm) = hour12(c.hour);
    let mut s = String::with_capacity(26);
    let _ = write!(
        s,
        "{}/{}/{}, {}:{:02}:{:02}.{:03} {}",
        c.month,
        c.day,
        c.year,
        h,
        c.minute,
        c.second,
        c.micros / 1000,
        ampm
    );
    s
}

/// `2026-03-02`.
pub fn ymd(t_us: i64) -> String {
    let c = civil(t_us);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `20260302074109`.
pub fn compact(t_us: i64) -> String {
    let c = civil(t_us);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-03-02T00:00:00Z
    const START: i64 = 1_772_409_600 * US_PER_SEC;

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 3, 2) * US_PER_DAY, START);
        for days in [-800_000i64, -1, 0, 59, 60, 365, 10_957, 20_514, 80_000] {
            let c = civil(days * US_PER_DAY);
            assert_eq!(days_from_civil(c.year, c.month, c.day), days);
        }
        assert_eq!(weekday(START), 0, "2026-03-02 is a Monday");
    }

    #[test]
    fn spellings_match_the_exports() {
        let t = START + 13 * US_PER_HOUR + 45 * US_PER_MIN + 17 * US_PER_SEC + 287_654;
        assert_eq!(iso_z7(t, 3), "2026-03-02T13:45:17.2876543Z");
        assert_eq!(iso_offset(t, 3), "2026-03-02T13:45:17.2876543+00:00");
        assert_eq!(iso_offset(t, 0), "2026-03-02T13:45:17.287654+00:00");
        assert_eq!(iso_z9(t, 3), "2026-03-02T13:45:17.287654300Z");
        assert_eq!(iso_z_sec(t), "2026-03-02T13:45:17Z");
        assert_eq!(iso_plain_sec(t), "2026-03-02T13:45:17");
        assert_eq!(iso_z_zero7(t), "2026-03-02T13:45:17.0000000Z");
        assert_eq!(us_datetime(t), "3/2/2026 1:45:17 PM");
        assert_eq!(la_datetime(t), "3/2/2026, 1:45:17.287 PM");
        assert_eq!(ymd(t), "2026-03-02");
        assert_eq!(compact(t), "20260302134517");
        let midnight = START + 999_999;
        assert_eq!(us_datetime(midnight), "3/2/2026 12:00:00 AM");
        assert_eq!(la_datetime(midnight), "3/2/2026, 12:00:00.999 AM");
        assert_eq!(
            us_datetime(START + 12 * US_PER_HOUR),
            "3/2/2026 12:00:00 PM"
        );
    }
}
