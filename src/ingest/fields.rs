//! Value parsers shared by every format: booleans, error codes, numbers,
//! account names. Times and addresses live in `model::time` and
//! `model::net`, because analyze and report read them too.

use crate::model::Text;

/// `str::trim`, quicker on the common cell: one whose first and last
/// bytes are visible ASCII has nothing to trim (no whitespace is visible
/// ASCII, and a last byte below 0x80 is a whole character), which skips
/// the character-by-character walk for tens of cells per row.
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Trimmed and lowercased, as account names are compared. Allocates only
/// when there is something to lowercase.
pub fn lowercase(raw: &str) -> Text {
    let s = raw.trim();
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Text::from(s.to_lowercase().as_str())
    } else {
        Text::from(s)
    }
}

/// `True`/`TRUE`/`true`/`Yes`/`1` and their negatives; anything else is
/// unknown.
pub fn parse_bool(raw: &str) -> Option<bool> {
    let s = raw.trim();
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") || s == "0" {
        Some(false)
    } else {
        None
    }
}

/// Error codes are decimal AADSTS numbers; `AADSTS` prefixes and
/// `Success`/`Failure` placeholders (some pipelines rewrite `resultType`)
/// are handled by the caller. Returns `None` for anything non-numeric or
/// out of the range Entra uses.
pub fn parse_code(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let s = s
        .strip_prefix("AADSTS")
        .or_else(|| s.strip_prefix("aadsts"))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (0..=99_999_999).contains(&v).then_some(v)
}

/// Numbers that arrive as text ("0.0", "47.6") or are empty.
pub fn parse_f64(raw: &str) -> Option<f64> {
    let v: f64 = raw.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// ASN as `8075`, `AS8075` or `"8075"`.
pub fn parse_asn(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let s = s
        .strip_prefix("AS")
        .or_else(|| s.strip_prefix("as"))
        .unwrap_or(s);
    let v: i64 = s.parse().ok()?;
    (v > 0 && v <= u32::MAX as i64).then_some(v)
}

/// The values of `authenticationProtocol`, `originalTransferMethod` and
/// `incomingTokenType` in Graph's spelling, whatever spelling the export
/// used: the portal writes "Device Code" and "Primary Refresh Token",
/// Graph `deviceCode` and `primaryRefreshToken`. `none` stays `none`, so
/// an empty value means the export did not carry the field (which the
/// coverage statement reports). A value not listed is kept as written.
pub fn protocol_value(raw: &str) -> Text {
    const KNOWN: &[&str] = &[
        "deviceCode",
        "ropc",
        "oAuth2",
        "saml20",
        "saml11",
        "wsFederation",
        "authenticationTransfer",
        "nativeAuth",
        "deviceCodeFlow",
        "primaryRefreshToken",
        "refreshToken",
        "remoteDesktopToken",
        "unknownFutureValue",
    ];
    let s = raw.trim();
    let folded: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if folded.is_empty() {
        return Text::default();
    }
    if folded == "none" {
        return Text::from("none");
    }
    match KNOWN.iter().find(|k| k.eq_ignore_ascii_case(&folded)) {
        Some(k) => Text::from(*k),
        None => Text::from(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_spellings_meet() {
        assert_eq!(protocol_value("Device Code"), "deviceCode");
        assert_eq!(protocol_value("deviceCode"), "deviceCode");
        assert_eq!(
            protocol_value(" Primary Refresh Token "),
            "primaryRefreshToken"
        );
        assert_eq!(protocol_value("Device code flow"), "deviceCodeFlow");
        assert_eq!(protocol_value("None"), "none");
        assert_eq!(protocol_value(""), "");
        assert_eq!(protocol_value("Something New"), "Something New");
    }
    #[test]
    fn codes() {
        assert_eq!(parse_code("50126"), Some(50126));
        assert_eq!(parse_code("AADSTS50053"), Some(50053));
        assert_eq!(parse_code("-1"), None);
        assert_eq!(parse_code("Failure"), None);
        assert_eq!(parse_code("99999999999999999999"), None);
    }

    #[test]
    fn quick_trim_agrees_with_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}x\u{a0}",
            "x\u{3000}",
            "\u{2003}",
            "é",
            "xé",
            "a b",
            "\t\r\n",
            "ab\r",
            "\u{85}z",
            "z\u{85}",
            "\u{feff}z",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }
}
