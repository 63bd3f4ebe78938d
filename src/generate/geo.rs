//! `geo-city.mmdb` and `geo-asn.mmdb`: MaxMind DB files that place every
//! address the dataset uses where its events say it is, so `--geoip` and
//! `--asn` can be tried offline (the exports that lack coordinates, such as
//! the portal CSV, gain them).
//!
//! The addresses are documentation and benchmarking ranges, so these files
//! say nothing about the real Internet; their type names say so too.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::catalog as cat;
use super::{Dataset, GenerateError, GenerateOptions};
use crate::enrich::mmdb_write::{geoip2_asn, geoip2_city, RecordSize, WriteError, Writer};

pub const CITY_FILE: &str = "geo-city.mmdb";
pub const ASN_FILE: &str = "geo-asn.mmdb";
pub const CITY_TYPE: &str = "entrasift-synthetic-City";
pub const ASN_TYPE: &str = "entrasift-synthetic-ASN";

/// The two databases' bytes: (city, ASN).
pub fn geo_databases(
    ds: &Dataset,
    opts: &GenerateOptions,
) -> Result<(Vec<u8>, Vec<u8>), WriteError> {
    let epoch = u64::try_from(opts.start_us.div_euclid(1_000_000)).unwrap_or(0);
    let note = "Synthetic: places the documentation-range addresses of an entrasift \
                generate dataset; not real geolocation data";
    let mut city = Writer::new(CITY_TYPE, RecordSize::Bits28)
        .description(note)
        .build_epoch(epoch);
    let mut asn = Writer::new(ASN_TYPE, RecordSize::Bits28)
        .description(note)
        .build_epoch(epoch);
    // Each address keeps the place and network of its first event; the
    // generator never moves an address.
    let mut first: BTreeMap<IpAddr, &crate::model::SignIn> = BTreeMap::new();
    for e in &ds.events {
        if let Ok(ip) = e.ip.parse::<IpAddr>() {
            first.entry(ip).or_insert(e);
        }
    }
    for (ip, e) in first {
        let host = if ip.is_ipv4() { 32 } else { 128 };
        if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
            city.insert(
                ip,
                host,
                geoip2_city(&e.city, &e.state, &e.country, lat, lon),
            )?;
        }
        if let Some(n) = e.asn.and_then(|a| u32::try_from(a).ok()) {
            asn.insert(
                ip,
                host,
                geoip2_asn(n, cat::asn_org(i64::from(n)).unwrap_or("")),
            )?;
        }
    }
    Ok((city.to_bytes()?, asn.to_bytes()?))
}

/// Writes both databases into `dir`; returns their paths.
pub fn write_geo_databases(
    ds: &Dataset,
    opts: &GenerateOptions,
    dir: &Path,
) -> Result<Vec<PathBuf>, GenerateError> {
    let (city, asn) = geo_databases(ds, opts).map_err(|source| GenerateError::Mmdb {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::create_dir_all(dir).map_err(|source| GenerateError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, bytes) in [(CITY_FILE, city), (ASN_FILE, asn)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::build_dataset;

    #[test]
    fn every_event_is_placed_where_it_happened() {
        let opts = GenerateOptions {
            records: 1500,
            ..GenerateOptions::default()
        };
        let ds = build_dataset(&opts);
        let (city, asn) = geo_databases(&ds, &opts).unwrap();
        assert_eq!(
            (city.clone(), asn.clone()),
            geo_databases(&ds, &opts).unwrap()
        );
        let city = maxminddb::Reader::from_source(city).unwrap();
        let asn = maxminddb::Reader::from_source(asn).unwrap();
        city.verify().unwrap();
        asn.verify().unwrap();
        assert_eq!(city.metadata().database_type, CITY_TYPE);
        assert_eq!(
            city.metadata().build_epoch as i64 * 1_000_000,
            opts.start_us
        );
        let (mut checked, mut v6) = (0, 0);
        for e in &ds.events {
            // Managed identities sign in from inside Azure, without an address.
            let Ok(ip) = e.ip.parse::<IpAddr>() else {
                continue;
            };
            checked += 1;
            v6 += usize::from(ip.is_ipv6());
            let c: maxminddb::geoip2::City = city.lookup(ip).unwrap().decode().unwrap().unwrap();
            assert_eq!(c.city.names.english, Some(e.city.as_str()), "{}", e.ip);
            assert_eq!(c.country.iso_code, Some(e.country.as_str()));
            assert_eq!(c.location.latitude, e.latitude);
            let a: maxminddb::geoip2::Asn = asn.lookup(ip).unwrap().decode().unwrap().unwrap();
            assert_eq!(a.autonomous_system_number.map(i64::from), e.asn);
            assert!(a
                .autonomous_system_organization
                .is_some_and(|o| !o.is_empty()));
        }
        assert!(checked > ds.events.len() / 2, "{checked}");
        assert!(v6 > 0, "the dataset has IPv6 sign-ins");
    }
}
