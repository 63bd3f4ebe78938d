//! Opening a MaxMind DB file, recognising its record layout, and turning
//! one lookup into the fields a sign-in can carry.
//!
//! Three layouts exist among the free databases:
//! - GeoIP2 City/Country (MaxMind GeoLite2 City and Country, DB-IP City and
//!   Country Lite): nested maps, `country.iso_code`, `city.names.en`,
//!   `subdivisions[0].names.en`, `location.latitude/longitude`;
//! - GeoIP2 ASN (GeoLite2 ASN, DB-IP ASN Lite, GeoIP2 ISP):
//!   `autonomous_system_number`, `autonomous_system_organization`;
//! - IPinfo (IPinfo Lite, and the older free country+ASN file): flat
//!   strings, `country_code`, `asn` as `"AS15169"`, `as_name`.

use super::EnrichError;
use maxminddb::{MaxMindDbError, Reader, WithinOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// Which flag a database was given with, and so what it must provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Geo,
    Asn,
}

impl Role {
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Role::Geo => "--geoip",
            Role::Asn => "--asn",
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Role::Geo => "a City or Country database (GeoLite2, DB-IP Lite or IPinfo Lite)",
            Role::Asn => "an ASN database (GeoLite2 ASN, DB-IP ASN Lite or IPinfo Lite)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// GeoIP2 City: country, subdivision, city, coordinates.
    City,
    /// GeoIP2 Country: country only.
    Country,
    /// GeoIP2 ASN: number and organisation.
    Asn,
    /// IPinfo: country code, ASN and organisation.
    Ipinfo,
}

impl Layout {
    fn serves(self, role: Role) -> bool {
        match role {
            Role::Geo => matches!(self, Layout::City | Layout::Country | Layout::Ipinfo),
            Role::Asn => matches!(self, Layout::Asn | Layout::Ipinfo),
        }
    }

    /// From the metadata's `database_type`, the documented way to tell.
    /// MaxMind's names (`GeoLite2-City`, `GeoIP2-ISP`), DB-IP's
    /// (`DBIP-City-Lite`, `DBIP-ASN-Lite (compat=GeoLite2-ASN)`,
    /// `DBIP-Location (compat=City)`) and anything naming IPinfo.
    fn from_type(database_type: &str) -> Option<Layout> {
        let t = database_type.to_ascii_lowercase();
        if t.contains("ipinfo") {
            Some(Layout::Ipinfo)
        } else if t.contains("asn") || t.contains("isp") {
            Some(Layout::Asn)
        } else if t.contains("city") || t.contains("location") || t.contains("enterprise") {
            Some(Layout::City)
        } else if t.contains("country") {
            Some(Layout::Country)
        } else {
            None
        }
    }

    /// From the keys of one record, for files whose type name says
    /// nothing we know (IPinfo does not promise a fixed name).
    fn from_keys(keys: &BTreeMap<&str, serde::de::IgnoredAny>) -> Option<Layout> {
        let has = |k: &str| keys.contains_key(k);
        if has("autonomous_system_number") {
            Some(Layout::Asn)
        } else if has("country_code") || has("as_name") || has("asn") {
            Some(Layout::Ipinfo)
        } else if has("location") || has("city") {
            Some(Layout::City)
        } else if has("country") {
            Some(Layout::Country)
        } else {
            None
        }
    }
}

/// What the manifest and the report say about a database used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseInfo {
    /// `--geoip` or `--asn`.
    pub flag: &'static str,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub database_type: String,
    pub layout: Layout,
    /// Seconds since the Unix epoch, from the metadata.
    pub build_epoch: u64,
    /// `build_epoch` as ISO 8601 UTC.
    pub built: String,
    pub ip_version: u16,
}

/// Location and network facts for one address from one database.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Hit {
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub coords: Option<(f64, f64)>,
    pub asn: Option<i64>,
    pub org: Option<String>,
}

pub(crate) struct Database {
    reader: Reader<Vec<u8>>,
    pub info: DatabaseInfo,
}

impl Database {
    pub(crate) fn open(path: &Path, role: Role) -> Result<Database, EnrichError> {
        use sha2::{Digest, Sha256};
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| EnrichError::Read {
            flag: role.flag(),
            path: shown.clone(),
            source,
        })?;
        let sha256: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let size = bytes.len() as u64;
        let not_mmdb = |e: MaxMindDbError| EnrichError::NotMmdb {
            path: shown.clone(),
            flag: role.flag(),
            reason: e.to_string(),
        };
        let reader = Reader::from_source(bytes).map_err(not_mmdb)?;
        let m = reader.metadata();
        let database_type = m.database_type.clone();
        let first = first_record_keys(&reader).map_err(not_mmdb)?;
        let layout = Layout::from_type(&database_type)
            .or_else(|| first.as_ref().and_then(Layout::from_keys))
            .filter(|l| l.serves(role))
            .ok_or_else(|| EnrichError::WrongType {
                path: shown.clone(),
                flag: role.flag(),
                database_type: database_type.clone(),
                needs: role.needs(),
            })?;
        let info = DatabaseInfo {
            flag: role.flag(),
            path: shown.clone(),
            sha256,
            bytes: size,
            database_type,
            layout,
            build_epoch: m.build_epoch,
            built: i64::try_from(m.build_epoch)
                .ok()
                .and_then(|s| s.checked_mul(1_000_000))
                .map(crate::model::time::format_time)
                .unwrap_or_default(),
            ip_version: m.ip_version,
        };
        let db = Database { reader, info };
        // Decode the first record in the chosen layout now, so a damaged
        // data section or a mislabelled file fails here, naming the file,
        // rather than silently enriching nothing.
        if let Some(ip) = db.first_network().map_err(not_mmdb)? {
            db.lookup(ip).map_err(not_mmdb)?;
        }
        Ok(db)
    }

    fn first_network(&self) -> Result<Option<IpAddr>, MaxMindDbError> {
        match self.reader.networks(WithinOptions::default())?.next() {
            Some(r) => Ok(Some(r?.network()?.ip())),
            None => Ok(None),
        }
    }

    /// What the database knows about `ip` (an empty hit when nothing).
    pub(crate) fn lookup(&self, ip: IpAddr) -> Result<Hit, MaxMindDbError> {
        if ip.is_ipv6() && self.info.ip_version == 4 {
            return Ok(Hit::default());
        }
        let found = self.reader.lookup(ip)?;
        Ok(match self.info.layout {
            Layout::City | Layout::Country => found.decode::<GeoRecord>()?.map(GeoRecord::hit),
            Layout::Asn => found.decode::<AsnRecord>()?.map(AsnRecord::hit),
            Layout::Ipinfo => found.decode::<IpinfoRecord>()?.map(IpinfoRecord::hit),
        }
        .unwrap_or_default())
    }
}

/// The keys of the first record with data, if the database has any.
fn first_record_keys(
    reader: &Reader<Vec<u8>>,
) -> Result<Option<BTreeMap<&str, serde::de::IgnoredAny>>, MaxMindDbError> {
    match reader.networks(WithinOptions::default())?.next() {
        Some(r) => r?.decode(),
        None => Ok(None),
    }
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Names<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named<'a> {
    #[serde(borrow)]
    names: Names<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IsoCode<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GeoRecord<'a> {
    #[serde(borrow)]
    country: IsoCode<'a>,
    #[serde(borrow)]
    city: Named<'a>,
    #[serde(borrow)]
    subdivisions: Vec<Named<'a>>,
    location: Location,
}

impl GeoRecord<'_> {
    fn hit(self) -> Hit {
        let city = text(self.city.names.en);
        // Without a city the coordinates are a country's or region's
        // centroid, hundreds of kilometres from the user: used for distance
        // they would invent impossible travel.
        let coords = match (self.location.latitude, self.location.longitude) {
            (Some(lat), Some(lon)) if city.is_some() && valid_coords(lat, lon) => Some((lat, lon)),
            _ => None,
        };
        Hit {
            country: text(self.country.iso_code).map(|c| c.to_ascii_uppercase()),
            state: text(self.subdivisions.first().and_then(|s| s.names.en)),
            city,
            coords,
            ..Hit::default()
        }
    }
}

fn valid_coords(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AsnRecord<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
    /// GeoIP2 ISP's name for the same thing when the AS org is absent.
    #[serde(borrow)]
    organization: Option<&'a str>,
}

impl AsnRecord<'_> {
    fn hit(self) -> Hit {
        Hit {
            asn: self.autonomous_system_number.map(i64::from),
            org: text(self.autonomous_system_organization).or_else(|| text(self.organization)),
            ..Hit::default()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IpinfoRecord<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
    /// A name in IPinfo Lite, a two-letter code in the older free file.
    #[serde(borrow)]
    country: Option<&'a str>,
    #[serde(borrow)]
    asn: Option<&'a str>,
    #[serde(borrow)]
    as_name: Option<&'a str>,
}

impl IpinfoRecord<'_> {
    fn hit(self) -> Hit {
        let two_letters = |s: &&str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic());
        let country = self
            .country_code
            .or_else(|| self.country.filter(two_letters))
            .and_then(|c| text(Some(c)))
            .map(|c| c.to_ascii_uppercase());
        let asn = self.asn.map(str::trim).and_then(|a| {
            let digits = match a.get(..2) {
                Some(p) if p.eq_ignore_ascii_case("as") => &a[2..],
                _ => a,
            };
            digits.parse::<i64>().ok().filter(|n| *n > 0)
        });
        Hit {
            country,
            asn,
            org: text(self.as_name),
            ..Hit::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_database_type_names_in_use() {
        for (name, want) in [
            ("GeoLite2-City", Some(Layout::City)),
            ("GeoIP2-City", Some(Layout::City)),
            ("DBIP-City-Lite", Some(Layout::City)),
            ("DBIP-Location (compat=City)", Some(Layout::City)),
            ("GeoIP2-Enterprise", Some(Layout::City)),
            ("GeoLite2-Country", Some(Layout::Country)),
            ("DBIP-Country-Lite", Some(Layout::Country)),
            ("GeoLite2-ASN", Some(Layout::Asn)),
            ("DBIP-ASN-Lite (compat=GeoLite2-ASN)", Some(Layout::Asn)),
            ("GeoIP2-ISP", Some(Layout::Asn)),
            ("ipinfo ipinfo_lite.mmdb", Some(Layout::Ipinfo)),
            ("GeoIP2-Anonymous-IP", None),
            ("GeoIP2-Connection-Type", None),
        ] {
            assert_eq!(Layout::from_type(name), want, "{name}");
        }
        assert!(Layout::Ipinfo.serves(Role::Geo) && Layout::Ipinfo.serves(Role::Asn));
        assert!(!Layout::Asn.serves(Role::Geo) && !Layout::City.serves(Role::Asn));
    }

    #[test]
    fn ipinfo_values_parse_in_both_of_its_shapes() {
        let lite = IpinfoRecord {
            country_code: Some("US"),
            country: Some("United States"),
            asn: Some("AS15169"),
            as_name: Some("Google LLC"),
        }
        .hit();
        assert_eq!(lite.country.as_deref(), Some("US"));
        assert_eq!(lite.asn, Some(15169));
        assert_eq!(lite.org.as_deref(), Some("Google LLC"));
        let older = IpinfoRecord {
            country: Some("de"),
            asn: Some("as3320"),
            ..IpinfoRecord::default()
        }
        .hit();
        assert_eq!(
            (older.country.as_deref(), older.asn),
            (Some("DE"), Some(3320))
        );
        let junk = IpinfoRecord {
            country: Some("Germany"),
            asn: Some("ASX"),
            ..IpinfoRecord::default()
        }
        .hit();
        assert_eq!(junk, Hit::default());
    }
}
