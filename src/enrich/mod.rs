//! Offline enrichment of source addresses: country, subdivision, city,
//! coordinates, ASN and organisation from local MaxMind DB files, plus
//! labels for private, reserved and Microsoft ranges.
//!
//! The logs' own values always win: a database only fills a field the
//! record left empty, and never places a record in a different country (or
//! different city, for coordinates) than the log gives. Every value in the
//! per-address table says where it came from. Nothing here touches the
//! network: the databases are files the user passes with `--geoip` and
//! `--asn`.
//!
//! A sign-in that names its place but has no coordinates (the portal CSV)
//! and gets none from `--geoip` is placed at its city by the compiled-in
//! [`gazetteer`] (GeoNames), when the name is unambiguous.
//!
//! Detections read the records after [`Enricher::apply`], so a filled
//! coordinate feeds impossible travel like a logged one.

pub mod gazetteer;
mod mmdb;
pub mod mmdb_write;
pub mod ranges;

pub use mmdb::{DatabaseInfo, Layout};

use crate::model::{FastHash, SignIn, Text};
use mmdb::{Database, Hit, Role};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("{flag} {path}: cannot read the file: {source}")]
    Read {
        flag: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{flag} {path}: not a MaxMind DB (.mmdb) file, or a damaged one: {reason}")]
    NotMmdb {
        flag: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "{flag} {path}: database type {database_type:?} has nothing {flag} uses; it needs {needs}"
    )]
    WrongType {
        flag: &'static str,
        path: String,
        database_type: String,
        needs: &'static str,
    },
}

/// Where a value in the per-address table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The sign-in log itself.
    Log,
    /// The `--geoip` database.
    GeoipDb,
    /// The `--asn` database.
    AsnDb,
    /// The compiled-in city gazetteer (coordinates of the logged city).
    Gazetteer,
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Log => "log",
            Source::GeoipDb => "geoip_db",
            Source::AsnDb => "asn_db",
            Source::Gazetteer => "gazetteer",
            Source::None => "none",
        }
    }
}

/// One distinct source address: its label and each value with its source.
/// Log values are the first the records give (they are sorted by time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpRow {
    pub ip: String,
    pub records: u64,
    /// A [`ranges::RangeClass`] name, or empty.
    pub label: String,
    /// The range and what it is, e.g. `10.0.0.0/8 private network (RFC 1918)`.
    pub label_detail: String,
    pub country: String,
    pub country_source: Source,
    pub state: String,
    pub state_source: Source,
    pub city: String,
    pub city_source: Source,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub coordinates_source: Source,
    pub asn: Option<i64>,
    pub asn_source: Source,
    /// The AS organisation; only ever from a database.
    pub org: String,
    pub org_source: Source,
}

/// Records that had a field filled from a database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Filled {
    pub country: u64,
    pub state: u64,
    pub city: u64,
    pub coordinates: u64,
    pub asn: u64,
}

/// What the city gazetteer did: records that had no coordinates after the
/// log and the databases, but a city and a country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GazetteerUse {
    /// Whether the gazetteer was consulted at all (`--no-gazetteer` turns it off).
    pub enabled: bool,
    /// Records given their city's coordinates.
    pub placed: u64,
    /// Records whose place the gazetteer does not know or cannot tell
    /// apart from a namesake; they stay without coordinates.
    pub unresolved: u64,
}

/// Distinct addresses and their records per label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelCount {
    pub label: String,
    pub ips: u64,
    pub records: u64,
}

/// What [`Enricher::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnrichReport {
    pub databases: Vec<DatabaseInfo>,
    pub records: u64,
    /// Records without a source address (nothing to look up).
    pub records_without_ip: u64,
    pub filled: Filled,
    pub gazetteer: GazetteerUse,
    /// Records whose logged country (or city, for coordinates) disagreed
    /// with the database; their location was left as logged.
    pub location_conflicts: u64,
    /// Addresses whose lookup failed (a damaged database region).
    pub lookup_errors: u64,
    pub first_lookup_error: Option<String>,
    pub labels: Vec<LabelCount>,
    /// Most records first, then by address.
    pub ips: Vec<IpRow>,
}

/// The databases to enrich from (possibly none: labels need none).
pub struct Enricher {
    geo: Option<Database>,
    asn: Option<Database>,
    gazetteer: bool,
}

/// A value found for an address and the database it came from.
type Found<T> = Option<(T, Source)>;

/// Everything the databases and range tables say about one address.
#[derive(Default)]
struct Lookup {
    addr: Option<IpAddr>,
    country: Found<String>,
    state: Found<String>,
    city: Found<String>,
    coords: Found<(f64, f64)>,
    asn: Found<i64>,
    org: Found<String>,
    error: Option<String>,
}

/// Per-address tallies while filling.
#[derive(Default, Clone)]
struct Seen {
    records: u64,
    country: Option<Text>,
    state: Option<Text>,
    city: Option<Text>,
    coords: Option<(f64, f64)>,
    asn: Option<i64>,
    /// The first coordinates the gazetteer gave a record of this address.
    gazetteer_coords: Option<(f64, f64)>,
    filled_country: bool,
    filled_state: bool,
    filled_city: bool,
    filled_coords: bool,
    filled_asn: bool,
}

/// What filling one run of consecutive records found: per-address
/// tallies by slot, and the run's counts.
#[derive(Default)]
struct Part {
    seen: HashMap<u32, Seen, FastHash>,
    report: EnrichReport,
}

impl Part {
    /// Adds this run to the tallies of the runs before it.
    fn merge_into(self, seen: &mut [Seen], report: &mut EnrichReport) {
        for (slot, later) in self.seen {
            let s = &mut seen[slot as usize];
            s.records += later.records;
            s.country = s.country.or(later.country);
            s.state = s.state.or(later.state);
            s.city = s.city.or(later.city);
            s.coords = s.coords.or(later.coords);
            s.asn = s.asn.or(later.asn);
            s.gazetteer_coords = s.gazetteer_coords.or(later.gazetteer_coords);
            s.filled_country |= later.filled_country;
            s.filled_state |= later.filled_state;
            s.filled_city |= later.filled_city;
            s.filled_coords |= later.filled_coords;
            s.filled_asn |= later.filled_asn;
        }
        let (r, f) = (&self.report, &mut report.filled);
        report.records_without_ip += r.records_without_ip;
        report.location_conflicts += r.location_conflicts;
        report.gazetteer.placed += r.gazetteer.placed;
        report.gazetteer.unresolved += r.gazetteer.unresolved;
        f.country += r.filled.country;
        f.state += r.filled.state;
        f.city += r.filled.city;
        f.coordinates += r.filled.coordinates;
        f.asn += r.filled.asn;
    }
}

impl Enricher {
    /// Opens the databases; an error names the file and the flag.
    pub fn open(geo: Option<&Path>, asn: Option<&Path>) -> Result<Enricher, EnrichError> {
        Ok(Enricher {
            geo: geo.map(|p| Database::open(p, Role::Geo)).transpose()?,
            asn: asn.map(|p| Database::open(p, Role::Asn)).transpose()?,
            gazetteer: false,
        })
    }

    /// Also places records at their logged city with the compiled-in
    /// gazetteer where neither the log nor `--geoip` gave coordinates.
    pub fn with_gazetteer(mut self, on: bool) -> Enricher {
        self.gazetteer = on;
        self
    }

    /// The databases in use, `--geoip` first.
    pub fn databases(&self) -> Vec<DatabaseInfo> {
        self.geo
            .iter()
            .chain(&self.asn)
            .map(|d| d.info.clone())
            .collect()
    }

    /// Fills empty location and ASN fields in place and describes every
    /// distinct address. Each address is looked up once.
    pub fn apply(&self, records: &mut [SignIn]) -> EnrichReport {
        const NO_IP: u32 = u32::MAX;
        // The addresses are gathered on the pool (a record is several
        // cache lines; its address one pointer), then given slots in
        // record order from the compact copy. Only the distinct ones are
        // copied, for the table.
        let (slots, mut ips, looked) = {
            let addresses: Vec<Text> = records.par_iter().map(|r| r.ip).collect();
            // Keyed by the interned address, which hashes as a pointer.
            let mut slot_of: HashMap<Text, u32, FastHash> = HashMap::default();
            let mut distinct: Vec<&str> = Vec::new();
            let slots: Vec<u32> = addresses
                .iter()
                .map(|&ip| {
                    if ip.is_empty() {
                        return NO_IP;
                    }
                    *slot_of.entry(ip).or_insert_with(|| {
                        distinct.push(ip.as_str());
                        (distinct.len() - 1) as u32
                    })
                })
                .collect();
            let looked: Vec<Lookup> = distinct.par_iter().map(|ip| self.look_up(ip)).collect();
            let ips: Vec<String> = distinct.into_iter().map(str::to_string).collect();
            (slots, ips, looked)
        };
        let mut report = EnrichReport {
            databases: self.databases(),
            records: records.len() as u64,
            ..EnrichReport::default()
        };
        report.gazetteer.enabled = self.gazetteer;
        // Filling runs on the pool in runs of consecutive records. Each
        // run keeps its own tallies per address; they are merged in run
        // order, so "the first record that had a value" is the same as in
        // one pass. Each distinct place is looked up once per run; the
        // table itself is only built when the first record needs it.
        let run = (records.len() / (4 * rayon::current_num_threads().max(1))).max(1 << 14);
        let parts: Vec<Part> = records
            .par_chunks_mut(run)
            .zip(slots.par_chunks(run))
            .map(|(records, slots)| {
                let mut part = Part::default();
                let mut places = PlaceCache::new();
                for (r, &slot) in records.iter_mut().zip(slots) {
                    if slot == NO_IP {
                        part.report.records_without_ip += 1;
                    } else {
                        let s = part.seen.entry(slot).or_default();
                        fill(r, &looked[slot as usize], s, &mut part.report);
                    }
                    if self.gazetteer {
                        let placed = place_at_city(r, &mut places, &mut part.report.gazetteer);
                        if let (Some(c), Some(s)) = (placed, part.seen.get_mut(&slot)) {
                            s.gazetteer_coords.get_or_insert(c);
                        }
                    }
                }
                part
            })
            .collect();
        let mut seen = vec![Seen::default(); ips.len()];
        for part in parts {
            part.merge_into(&mut seen, &mut report);
        }
        for l in &looked {
            if let Some(e) = &l.error {
                report.lookup_errors += 1;
                report.first_lookup_error.get_or_insert_with(|| e.clone());
            }
        }
        // Order by index first: rows are large and there may be millions.
        let mut order: Vec<usize> = (0..ips.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            seen[b]
                .records
                .cmp(&seen[a].records)
                .then_with(|| ips[a].cmp(&ips[b]))
        });
        report.ips = order
            .into_iter()
            .map(|i| {
                let s = std::mem::take(&mut seen[i]);
                row(std::mem::take(&mut ips[i]), &looked[i], s)
            })
            .collect();
        let mut labels: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for r in report.ips.iter().filter(|r| !r.label.is_empty()) {
            let e = labels.entry(r.label.as_str()).or_default();
            e.0 += 1;
            e.1 += r.records;
        }
        report.labels = labels
            .into_iter()
            .map(|(label, (ips, records))| LabelCount {
                label: label.to_string(),
                ips,
                records,
            })
            .collect();
        report
    }

    /// Both databases for one address. Location prefers the `--geoip`
    /// file, ASN and organisation the `--asn` file; an IPinfo file given
    /// for either provides both.
    fn look_up(&self, ip: &str) -> Lookup {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return Lookup::default();
        };
        let addr = addr.to_canonical();
        let mut out = Lookup {
            addr: Some(addr),
            ..Lookup::default()
        };
        let mut hits: Vec<(Hit, Source)> = Vec::with_capacity(2);
        for (db, src) in [(&self.geo, Source::GeoipDb), (&self.asn, Source::AsnDb)] {
            let Some(db) = db else { continue };
            match db.lookup(addr) {
                Ok(h) => hits.push((h, src)),
                Err(e) => {
                    out.error
                        .get_or_insert_with(|| format!("{} {}: {e}", db.info.flag, db.info.path));
                }
            }
        }
        fn first<T: Clone>(
            hits: &[(Hit, Source)],
            order: [Source; 2],
            get: impl Fn(&Hit) -> Option<T>,
        ) -> Found<T> {
            order.iter().find_map(|want| {
                hits.iter()
                    .find(|(_, s)| s == want)
                    .and_then(|(h, s)| get(h).map(|v| (v, *s)))
            })
        }
        let geo_first = [Source::GeoipDb, Source::AsnDb];
        let asn_first = [Source::AsnDb, Source::GeoipDb];
        out.country = first(&hits, geo_first, |h| h.country.clone());
        out.state = first(&hits, geo_first, |h| h.state.clone());
        out.city = first(&hits, geo_first, |h| h.city.clone());
        out.coords = first(&hits, geo_first, |h| h.coords);
        // The organisation belongs to the AS number found with it.
        let network = first(&hits, asn_first, |h| h.asn.map(|a| (a, h.org.clone())));
        out.asn = network.as_ref().map(|((a, _), s)| (*a, *s));
        out.org = network.and_then(|((_, o), s)| o.map(|o| (o, s)));
        out
    }
}

/// Fills one record from its address's lookup, logged values first.
fn fill(r: &mut SignIn, l: &Lookup, s: &mut Seen, report: &mut EnrichReport) {
    s.records += 1;
    let logged = |v: Text| (!v.is_empty()).then_some(v);
    if s.country.is_none() {
        s.country = logged(r.country);
    }
    if s.state.is_none() {
        s.state = logged(r.state);
    }
    if s.city.is_none() {
        s.city = logged(r.city);
    }
    if s.coords.is_none() {
        s.coords = r.latitude.zip(r.longitude);
    }
    if s.asn.is_none() {
        s.asn = r.asn;
    }

    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let db_country = l.country.as_ref().map(|(c, _)| c.as_str());
    // A database location is only used where it agrees with the log's
    // country: otherwise it would describe a different place.
    let country_agrees = match db_country {
        Some(c) => r.country.is_empty() || same(&r.country, c),
        None => r.country.is_empty(),
    };
    let has_location = l.state.is_some() || l.city.is_some() || l.coords.is_some();
    if r.country.is_empty() {
        if let Some((c, _)) = &l.country {
            r.country = Text::from(c.as_str());
            report.filled.country += 1;
            s.filled_country = true;
        }
    }
    if !country_agrees {
        if has_location {
            report.location_conflicts += 1;
        }
    } else {
        if r.state.is_empty() {
            if let Some((v, _)) = &l.state {
                r.state = Text::from(v.as_str());
                report.filled.state += 1;
                s.filled_state = true;
            }
        }
        let city_agrees = match &l.city {
            Some((c, _)) => r.city.is_empty() || same(&r.city, c),
            None => r.city.is_empty(),
        };
        if r.city.is_empty() {
            if let Some((v, _)) = &l.city {
                r.city = Text::from(v.as_str());
                report.filled.city += 1;
                s.filled_city = true;
            }
        }
        if r.latitude.is_none() && r.longitude.is_none() {
            match &l.coords {
                Some(((lat, lon), _)) if city_agrees => {
                    r.latitude = Some(*lat);
                    r.longitude = Some(*lon);
                    report.filled.coordinates += 1;
                    s.filled_coords = true;
                }
                Some(_) => report.location_conflicts += 1,
                None => {}
            }
        }
    }
    if r.asn.is_none() {
        if let Some((a, _)) = l.asn {
            r.asn = Some(a);
            report.filled.asn += 1;
            s.filled_asn = true;
        }
    }
}

/// Gazetteer answers per (city, state, country).
type PlaceCache = HashMap<(Text, Text, Text), Option<(f64, f64)>>;

/// Gives a record without coordinates those of its logged city, when the
/// gazetteer knows exactly one such place; returns them.
fn place_at_city(
    r: &mut SignIn,
    places: &mut PlaceCache,
    tally: &mut GazetteerUse,
) -> Option<(f64, f64)> {
    if r.latitude.is_some() || r.longitude.is_some() || r.city.is_empty() || r.country.is_empty() {
        return None;
    }
    let found = *places
        .entry((r.city, r.state, r.country))
        .or_insert_with(|| gazetteer::get().locate(&r.city, &r.state, &r.country));
    match found {
        Some((lat, lon)) => {
            r.latitude = Some(lat);
            r.longitude = Some(lon);
            tally.placed += 1;
        }
        None => tally.unresolved += 1,
    }
    found
}

/// The table row: a logged value if any record had one, else the
/// database's if it was used, else nothing.
fn row(ip: String, l: &Lookup, s: Seen) -> IpRow {
    fn pick<T: Clone>(logged: Option<T>, filled: bool, found: &Found<T>) -> (Option<T>, Source) {
        match (logged, found) {
            (Some(v), _) => (Some(v), Source::Log),
            (None, Some((v, src))) if filled => (Some(v.clone()), *src),
            _ => (None, Source::None),
        }
    }
    let text = |t: Option<Text>| t.map(|t| t.to_string());
    let (country, country_source) = pick(text(s.country), s.filled_country, &l.country);
    let (state, state_source) = pick(text(s.state), s.filled_state, &l.state);
    let (city, city_source) = pick(text(s.city), s.filled_city, &l.city);
    let (coords, coordinates_source) = match pick(s.coords, s.filled_coords, &l.coords) {
        (None, _) if s.gazetteer_coords.is_some() => (s.gazetteer_coords, Source::Gazetteer),
        picked => picked,
    };
    let (asn, asn_source) = pick(s.asn, s.filled_asn, &l.asn);
    // The organisation is only shown for the AS number it belongs to.
    let (org, org_source) = match (&l.asn, &l.org) {
        (Some((a, _)), Some((o, src))) if asn == Some(*a) => (o.clone(), *src),
        _ => (String::new(), Source::None),
    };
    let (label, label_detail) = match l.addr.and_then(ranges::label) {
        Some(r) => (
            r.class.as_str().to_string(),
            format!("{} {}", r.prefix, r.what),
        ),
        None if asn == Some(ranges::MICROSOFT_ASN) => (
            ranges::RangeClass::Microsoft.as_str().to_string(),
            format!(
                "AS{} Microsoft (ASN from {})",
                ranges::MICROSOFT_ASN,
                asn_source.as_str()
            ),
        ),
        None => (String::new(), String::new()),
    };
    IpRow {
        ip,
        records: s.records,
        label,
        label_detail,
        country: country.unwrap_or_default(),
        country_source,
        state: state.unwrap_or_default(),
        state_source,
        city: city.unwrap_or_default(),
        city_source,
        latitude: coords.map(|c| c.0),
        longitude: coords.map(|c| c.1),
        coordinates_source,
        asn,
        asn_source,
        org,
        org_source,
    }
}

#[cfg(test)]
mod tests;
