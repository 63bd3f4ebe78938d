//! Timestamps: every spelling the exports use, parsed to the one
//! normalized time (microseconds since the epoch, UTC), and formatted back
//! as RFC 3339.
//!
//! Why microseconds: Entra writes up to seven fractional digits (100 ns),
//! but the normalized table, Parquet output, the SQL detections and every
//! report carry an `i64` of microseconds, and no detection or report reads
//! finer than a second. Digits past the sixth are cut (truncated, never
//! rounded), the same way in every parser, so a record read from two
//! exports that spell its time with 6 or 7 digits lands on the same
//! instant and is still recognised as one sign-in.

use chrono::NaiveDate;

/// Parses a timestamp into microseconds since the epoch, UTC.
///
/// Accepted spellings (all seen in real exports): ISO 8601 with 0-9
/// fractional digits and `Z`, an offset, or no zone (taken as UTC, which is
/// what every Entra export writes); a space instead of `T`; US-style
/// `M/D/YYYY[,] h:mm:ss[.fff] [AM|PM] [+hh:mm]` as Log Analytics, Purview
/// and some Azure Monitor pipelines write; .NET `/Date(ms)/`.
/// Slash dates are read month first (en-US, the portal default) unless the
/// first number cannot be a month.
pub fn parse_time(raw: &str) -> Option<i64> {
    let s = raw.trim().trim_matches('"').trim();
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s
        .strip_prefix("/Date(")
        .or_else(|| s.strip_prefix("\\/Date("))
    {
        let digits: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        let ms: i64 = digits.parse().ok()?;
        return ms.checked_mul(1000);
    }
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        parse_iso(b)
    } else if s.contains('/') {
        parse_slash(s)
    } else {
        None
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

#[allow(clippy::too_many_arguments)] // the fields of one timestamp
fn to_micros(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    frac_us: u32,
    off_s: i64,
) -> Option<i64> {
    if !(1..=9999).contains(&y) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y, mo, d)?;
    // Leap seconds (":60") are folded into the next second.
    let (s, extra) = if s == 60 { (59, 1) } else { (s, 0) };
    let dt = date.and_hms_opt(h, mi, s)?;
    let secs = dt.and_utc().timestamp() + extra - off_s;
    secs.checked_mul(1_000_000)?.checked_add(i64::from(frac_us))
}

/// Reads `.fffffffff` and returns (microseconds, bytes consumed).
fn fraction(b: &[u8]) -> (u32, usize) {
    if b.first() != Some(&b'.') && b.first() != Some(&b',') {
        return (0, 0);
    }
    let mut i = 1;
    let mut us = 0u32;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        if digits < 6 {
            us = us * 10 + u32::from(b[i] - b'0');
        }
        digits += 1;
        i += 1;
    }
    for _ in digits..6 {
        us *= 10;
    }
    (us, i)
}

/// Parses `Z`, `+hh:mm`, `+hhmm`, `+hh`, ` UTC` or nothing into seconds east.
fn offset(b: &[u8]) -> Option<i64> {
    let b = trim_ascii(b);
    if b.is_empty()
        || b == b"Z"
        || b == b"z"
        || b.eq_ignore_ascii_case(b"UTC")
        || b.eq_ignore_ascii_case(b"GMT")
    {
        return Some(0);
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &b[1..];
    let (h, m) = match rest.len() {
        2 => (num(rest)?, 0),
        4 => (num(&rest[..2])?, num(&rest[2..])?),
        5 if rest[2] == b':' => (num(&rest[..2])?, num(&rest[3..])?),
        _ => return None,
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * i64::from(h * 3600 + m * 60))
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn parse_iso(b: &[u8]) -> Option<i64> {
    let y = num(&b[0..4])? as i32;
    let mo = num(&b[5..7])?;
    let d = num(&b[8..10])?;
    if b.len() == 10 {
        return to_micros(y, mo, d, 0, 0, 0, 0, 0);
    }
    if !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b.len() < 16 {
        return None;
    }
    let h = num(&b[11..13])?;
    if b[13] != b':' {
        return None;
    }
    let mi = num(&b[14..16])?;
    let (s, mut i) = if b.len() >= 19 && b[16] == b':' {
        (num(&b[17..19])?, 19)
    } else {
        (0, 16)
    };
    let (us, used) = fraction(&b[i..]);
    i += used;
    let off = offset(&b[i..])?;
    to_micros(y, mo, d, h, mi, s, us, off)
}

fn parse_slash(s: &str) -> Option<i64> {
    // Split "M/D/YYYY[,] time [AM|PM] [offset]".
    let s = s.trim();
    let (date, rest) = match s.find([' ', ',']) {
        Some(i) => (&s[..i], s[i..].trim_start_matches([',', ' '])),
        None => (s, ""),
    };
    let mut parts = date.split('/');
    let a = num(parts.next()?.as_bytes())?;
    let b = num(parts.next()?.as_bytes())?;
    let y = num(parts.next()?.as_bytes())? as i32;
    if parts.next().is_some() {
        return None;
    }
    let (mo, d) = if a > 12 && b <= 12 { (b, a) } else { (a, b) };
    if rest.is_empty() {
        return to_micros(y, mo, d, 0, 0, 0, 0, 0);
    }
    let mut tokens = rest.split_whitespace();
    let time = tokens.next()?;
    let mut ampm = None;
    let mut off = 0i64;
    for t in tokens {
        if t.eq_ignore_ascii_case("AM") || t.eq_ignore_ascii_case("PM") {
            ampm = Some(t.eq_ignore_ascii_case("PM"));
        } else {
            off = offset(t.as_bytes())?;
        }
    }
    let mut fields = time.split(':');
    let mut h = num(fields.next()?.as_bytes())?;
    let mi = num(fields.next()?.as_bytes())?;
    let (sec, us) = match fields.next() {
        Some(sf) => {
            let sb = sf.as_bytes();
            let digits = sb.iter().take_while(|c| c.is_ascii_digit()).count();
            let (us, used) = fraction(&sb[digits..]);
            if digits + used != sb.len() {
                return None;
            }
            (num(&sb[..digits])?, us)
        }
        None => (0, 0),
    };
    if let Some(pm) = ampm {
        if h == 0 || h > 12 {
            return None;
        }
        h = match (pm, h) {
            (false, 12) => 0,
            (false, h) => h,
            (true, 12) => 12,
            (true, h) => h + 12,
        };
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    to_micros(y, mo, d, h, mi, sec, us, off)
}

/// Formats microseconds since the epoch as RFC 3339 UTC with the precision
/// the value needs (seconds, milli, or micro).
pub fn format_time(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, frac * 1000) {
        Some(dt) => {
            if frac == 0 {
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else if frac.is_multiple_of(1000) {
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            }
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_168_335_660_000_000; // 2007-01-09T09:41:00Z

    #[test]
    fn azure_monitor_corner_cases_all_parse_to_the_same_instant() {
        // The eleven spellings from Elastic's Azure Monitor test capture.
        let cases = [
            ("01/09/2007 09:41:00", T0),
            ("1/9/2007 09:41:00", T0),
            ("01/09/2007 09:41:00 AM", T0),
            ("1/9/2007 9:41:00 AM", T0),
            ("1/9/2007 10:41:00 AM +01:00", T0),
            ("2007-01-09T09:41:00", T0),
            ("2007-01-09T09:41:00.22Z", T0 + 220_000),
            ("2007-01-09T09:41:00.6816663Z", T0 + 681_666),
            ("2007-01-09T09:41:00.535404056Z", T0 + 535_404),
            ("2007-01-09T09:41:00.992099+00:00", T0 + 992_099),
            ("2007-01-09T11:41:00+02:00", T0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time(text), Some(want), "{text}");
        }
    }

    #[test]
    fn log_analytics_and_purview_spellings() {
        assert_eq!(
            parse_time("9/19/2023, 1:45:17.287 PM"),
            Some(1_695_131_117_287_000)
        );
        assert_eq!(
            parse_time("9/20/2023 4:05:03 AM"),
            Some(1_695_182_703_000_000)
        );
        assert_eq!(
            parse_time("2026-01-24T06:54:24.0000000Z "),
            Some(1_769_237_664_000_000)
        );
        assert_eq!(
            parse_time("2022-12-12 15:57:57"),
            Some(1_670_860_677_000_000)
        );
        assert_eq!(
            parse_time("/Date(1709365269000)/"),
            Some(1_709_365_269_000_000)
        );
        assert_eq!(
            parse_time("12/1/2023 12:00:00 AM"),
            Some(1_701_388_800_000_000)
        );
    }

    #[test]
    fn digits_past_the_microsecond_are_cut_never_rounded() {
        let us = parse_time("2019-01-16T13:24:31.063651Z");
        assert_eq!(parse_time("2019-01-16T13:24:31.0636519Z"), us);
        assert_eq!(parse_time("2019-01-16T13:24:31.063651999+00:00"), us);
        assert_eq!(parse_time("1/16/2019 1:24:31.0636519 PM"), us);
        // A cut never carries into the next second (rounding would).
        let last = parse_time("2019-01-16T13:24:31.9999999Z").unwrap();
        assert_eq!(last.rem_euclid(1_000_000), 999_999);
        assert_eq!(format_time(last), "2019-01-16T13:24:31.999999Z");
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            "0000-01-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "13/13/2024 10:00:00",
            "yesterday",
            "",
            "2024-01-01T10:00:00+99:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
