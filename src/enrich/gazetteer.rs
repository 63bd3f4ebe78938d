//! A compiled-in city gazetteer: the coordinates of a place named by city,
//! state and country, so that a sign-in whose export gives only a place
//! name (the portal CSV's `Location`, "City, State, CC") can still be
//! located, with no database given.
//!
//! The table is GeoNames data (CC BY 4.0), built by
//! `scripts/build-gazetteer.py` into `data/gazetteer/cities.tsv.gz`; see
//! `data/gazetteer/SOURCES.md`. It is decompressed on first use only, so
//! runs whose logs carry coordinates never pay for it, and each country's
//! places are indexed on the first lookup there.
//!
//! A name resolves only when it names one place: a city with the same
//! name in two states of the country, and no state to tell them apart,
//! gives nothing rather than a guess that could invent impossible travel.

use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;

static DATA: &[u8] = include_bytes!("../../data/gazetteer/cities.tsv.gz");

/// Places closer than this are one place for a lookup (GeoNames lists some
/// cities twice: the city and its district seat, a suburb of one name...).
const SAME_PLACE_KM: f64 = 30.0;
/// A name shared by places farther apart still resolves to the largest
/// when it has this many times the population of the next.
const DOMINANT_FACTOR: u64 = 10;

struct Place {
    lat: f64,
    lon: f64,
    population: u64,
    /// Folded admin1 (state, region) name: a range of `Gazetteer::arena`.
    admin1: (u32, u32),
}

/// One spelling of one place: the country code and folded name it is
/// found by (a range of the arena) and its hash, and whether it is the
/// place's main name.
struct Name {
    hash: u64,
    key: (u32, u32),
    place: u32,
    main: bool,
}

/// The compiled-in table, decompressed, with its lines grouped by
/// country. A lookup only ever reads places of its own country (the
/// country code is part of every name's key), so each country's places are
/// parsed and indexed on the first lookup in that country: a tenant's
/// sign-ins come from a few dozen of the table's 246 countries, and
/// indexing all of them was most of a small CSV run's time.
pub struct Gazetteer {
    text: String,
    /// Per upper-case country code, its runs of lines.
    countries: HashMap<String, Country>,
}

/// One country's lines, and its table once built.
struct Country {
    /// (byte range in `Gazetteer::text`, number of the run's first line).
    runs: Vec<(Range<usize>, usize)>,
    table: OnceLock<Result<Table, ParseError>>,
}

/// One country's places.
struct Table {
    places: Vec<Place>,
    /// Sorted by hash: a lookup is a binary search. One sorted vector and
    /// one text arena instead of a map of owned strings: building it is
    /// most of the table's first-use cost.
    names: Vec<Name>,
    arena: String,
}

static TABLE: OnceLock<Gazetteer> = OnceLock::new();

/// The compiled-in table, decompressed on first use.
pub fn get() -> &'static Gazetteer {
    TABLE.get_or_init(|| Gazetteer::open(DATA).expect("the compiled-in gazetteer is gzip text"))
}

/// Whether the table has been built in this process (nothing was placed
/// from it otherwise).
pub fn loaded() -> bool {
    TABLE.get().is_some()
}

/// Whether a record's coordinates are the gazetteer's point for its
/// logged place: what enrichment fills from it, and never what a log or
/// a database gives (their coordinates are not GeoNames' to the last
/// digit). False without loading the table when nothing used it.
pub fn placed(city: &str, state: &str, country: &str, lat: f64, lon: f64) -> bool {
    loaded() && get().locate(city, state, country) == Some((lat, lon))
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("gazetteer line {line}: {what}")]
pub struct ParseError {
    line: usize,
    what: &'static str,
}

fn hash(key: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x6765_6f6e_616d_6573).hash_one(key)
}

/// Appends `country` upper-cased and `name` folded to `out`; returns the range.
fn push_key(out: &mut String, country: &str, name: &str) -> (u32, u32) {
    let start = out.len();
    out.extend(country.chars().map(|c| c.to_ascii_uppercase()));
    fold_into(out, name);
    (start as u32, (out.len() - start) as u32)
}

impl Gazetteer {
    /// [`Gazetteer::open`], then every country read: the first damaged
    /// line is the error. Runs read countries as lookups need them; the
    /// tests check tables whole.
    #[cfg(test)]
    fn parse(gz: &[u8]) -> Result<Gazetteer, ParseError> {
        let g = Gazetteer::open(gz)?;
        let mut countries: Vec<&Country> = g.countries.values().collect();
        countries.sort_by_key(|c| c.runs[0].1);
        for c in countries {
            if let Err(e) = g.table(c) {
                return Err(e.clone());
            }
        }
        Ok(g)
    }

    /// Decompresses the gzip-compressed table (`country, city, admin1,
    /// latitude, longitude, population, alternate names (|-separated)` per
    /// line, `#` lines ignored) and finds each country's lines; their
    /// fields are read on the first lookup in the country.
    fn open(gz: &[u8]) -> Result<Gazetteer, ParseError> {
        let mut text = String::new();
        GzDecoder::new(gz)
            .read_to_string(&mut text)
            .map_err(|_| ParseError {
                line: 0,
                what: "not gzip-compressed UTF-8 text",
            })?;
        let mut countries: HashMap<String, Country> = HashMap::new();
        let mut run: Option<(String, usize, usize)> = None;
        let mut close = |run: Option<(String, usize, usize)>, end: usize| {
            if let Some((cc, start, line)) = run {
                let c = countries.entry(cc).or_insert_with(|| Country {
                    runs: Vec::new(),
                    table: OnceLock::new(),
                });
                c.runs.push((start..end, line));
            }
        };
        let mut at = 0;
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let start = at;
            at += line.len();
            if line.trim_end_matches(['\n', '\r']).is_empty() || line.starts_with('#') {
                continue;
            }
            let cc = line
                .split('\t')
                .next()
                .unwrap_or("")
                .trim_end_matches(['\n', '\r']);
            if run
                .as_ref()
                .is_none_or(|(open, _, _)| !open.eq_ignore_ascii_case(cc))
            {
                close(run.take(), start);
                run = Some((cc.to_ascii_uppercase(), start, n + 1));
            }
        }
        close(run, at);
        Ok(Gazetteer { text, countries })
    }

    /// The country's table, built on first use.
    fn table<'a>(&self, c: &'a Country) -> &'a Result<Table, ParseError> {
        c.table.get_or_init(|| {
            let mut t = Table {
                places: Vec::new(),
                names: Vec::new(),
                arena: String::new(),
            };
            for (range, first) in &c.runs {
                t.read(&self.text[range.clone()], *first)?;
            }
            t.names.sort_unstable_by_key(|n| (n.hash, n.place, !n.main));
            Ok(t)
        })
    }

    /// Coordinates of `city` in `country` (two-letter code), using `state`
    /// to choose between places of one name. City, state and country are
    /// matched first, then city and country; main names before alternate
    /// spellings. `None` when the place is unknown or the name ambiguous.
    pub fn locate(&self, city: &str, state: &str, country: &str) -> Option<(f64, f64)> {
        let country = country.trim();
        if country.len() != 2 || city.trim().is_empty() {
            return None;
        }
        let c = self.countries.get(&country.to_ascii_uppercase())?;
        // The compiled-in table is checked whole by a test; a damaged
        // line elsewhere places nothing in its country.
        self.table(c).as_ref().ok()?.locate(city, state, country)
    }

    /// Places in the table (every country read).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.countries
            .values()
            .map(|c| self.table(c).as_ref().map_or(0, |t| t.places.len()))
            .sum()
    }
}

impl Table {
    /// Adds the places of `lines`, the first of them line `first`.
    fn read(&mut self, lines: &str, first: usize) -> Result<(), ParseError> {
        for (n, line) in lines.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what| ParseError {
                line: first + n,
                what,
            };
            let mut f = line.split('\t');
            let mut next = |what| f.next().ok_or_else(|| bad(what));
            let (cc, city, admin1) = (next("no country")?, next("no city")?, next("no admin1")?);
            let num = |s: &str, what| s.parse::<f64>().map_err(|_| bad(what));
            let lat = num(next("no latitude")?, "bad latitude")?;
            let lon = num(next("no longitude")?, "bad longitude")?;
            let population = next("no population")?
                .parse::<u64>()
                .map_err(|_| bad("bad population"))?;
            let alternates = next("no alternate names")?;
            let place = self.places.len() as u32;
            let start = self.arena.len();
            fold_into(&mut self.arena, admin1);
            self.places.push(Place {
                lat,
                lon,
                population,
                admin1: (start as u32, (self.arena.len() - start) as u32),
            });
            let names = std::iter::once((city, true))
                .chain(alternates.split('|').map(|a| (a, false)))
                .filter(|(a, _)| !a.is_empty());
            for (name, main) in names {
                let key = push_key(&mut self.arena, cc, name);
                self.names.push(Name {
                    hash: hash(self.text(key)),
                    key,
                    place,
                    main,
                });
            }
        }
        Ok(())
    }

    fn text(&self, (start, len): (u32, u32)) -> &str {
        &self.arena[start as usize..(start + len) as usize]
    }

    /// [`Gazetteer::locate`] in this country's places.
    fn locate(&self, city: &str, state: &str, country: &str) -> Option<(f64, f64)> {
        let mut key = String::with_capacity(city.len() + 2);
        push_key(&mut key, country, city);
        let h = hash(&key);
        let from = self.names.partition_point(|n| n.hash < h);
        let list: Vec<&Name> = self.names[from..]
            .iter()
            .take_while(|n| n.hash == h)
            .filter(|n| self.text(n.key) == key)
            .collect();
        let mut state_key = String::new();
        fold_into(&mut state_key, state);
        let in_state = |n: &&&Name| {
            !state_key.is_empty() && self.text(self.places[n.place as usize].admin1) == state_key
        };
        let tiers: [&dyn Fn(&&&Name) -> bool; 4] = [
            &|n| n.main && in_state(n),
            &|n| !n.main && in_state(n),
            &|n| n.main,
            &|n| !n.main,
        ];
        for tier in tiers {
            let hits: Vec<&Place> = list
                .iter()
                .filter(|n| tier(n))
                .map(|n| &self.places[n.place as usize])
                .collect();
            if !hits.is_empty() {
                return self.one_place(&hits);
            }
        }
        None
    }

    /// The place all `hits` name, or `None` when they name several.
    fn one_place(&self, hits: &[&Place]) -> Option<(f64, f64)> {
        // Largest first; ties by position so the answer never depends on
        // the table's order.
        let best = hits.iter().copied().max_by(|a, b| {
            a.population
                .cmp(&b.population)
                .then(b.lat.total_cmp(&a.lat))
                .then(b.lon.total_cmp(&a.lon))
        })?;
        let far_max = hits
            .iter()
            .filter(|p| km((best.lat, best.lon), (p.lat, p.lon)) > SAME_PLACE_KM)
            .map(|p| p.population)
            .max();
        match far_max {
            None => Some((best.lat, best.lon)),
            Some(p) if best.population >= p.saturating_mul(DOMINANT_FACTOR).max(1) => {
                Some((best.lat, best.lon))
            }
            Some(_) => None,
        }
    }
}

/// Great-circle distance (haversine, mean Earth radius).
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((b.1 - a.1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0088 * h.sqrt().min(1.0).asin()
}

/// The comparable form of a place name: lower case, accents dropped, only
/// letters and digits kept (so "Ha Noi" is "Hanoi" and "Île-de-France" is
/// "Ile de France"), and "St."/"Ste"/"Mt"/"Ft" read as the words they
/// abbreviate.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    fold_into(&mut out, name);
    out
}

/// [`fold`], appending to `out`.
fn fold_into(out: &mut String, name: &str) {
    for word in name.split(|c: char| !c.is_alphanumeric()) {
        let start = out.len();
        if word.is_ascii() {
            out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            for c in word.chars().flat_map(char::to_lowercase) {
                match ascii_of(c) {
                    Some(s) => out.push_str(s),
                    None if c.is_alphanumeric() => out.push(c),
                    None => {}
                }
            }
        }
        let expanded = match &out[start..] {
            "st" => "saint",
            "ste" => "sainte",
            "mt" => "mount",
            "ft" => "fort",
            _ => continue,
        };
        out.truncate(start);
        out.push_str(expanded);
    }
}

/// The ASCII letters a lower-case Latin letter with diacritics is written
/// with when the accents are dropped; `None` for ASCII and other scripts.
fn ascii_of(c: char) -> Option<&'static str> {
    Some(match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ȁ' | 'ȃ' | 'ạ'..='ặ' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ȅ' | 'ȇ' | 'ẹ'..='ệ' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' | 'ỉ' | 'ị' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ọ'..='ợ' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ụ'..='ự' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'ỳ'..='ỹ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_spacing_and_abbreviations() {
        assert_eq!(fold("São Paulo"), "saopaulo");
        assert_eq!(fold("Ha Noi"), fold("Hanoi"));
        assert_eq!(fold("Île-de-France"), fold("Ile-de-France"));
        assert_eq!(fold("München"), "munchen");
        assert_eq!(fold("Bucureşti"), fold("Bucuresti"));
        assert_eq!(fold("Hai Bà Trưng"), "haibatrung");
        assert_eq!(fold("St. Paul"), fold("Saint Paul"));
        assert_eq!(fold("Ste-Foy"), fold("Sainte Foy"));
        assert_eq!(fold("Stuttgart"), "stuttgart");
        assert_eq!(fold("Москва"), "москва");
    }

    fn near(got: Option<(f64, f64)>, want: (f64, f64), km: f64) -> bool {
        got.is_some_and(|g| super::km(g, want) < km)
    }

    #[test]
    fn every_place_the_generator_uses_is_found_where_it_is() {
        let g = get();
        assert!(g.len() > 100_000, "{}", g.len());
        let ds = crate::generate::build_dataset(&crate::generate::GenerateOptions {
            records: 3000,
            ..Default::default()
        });
        let mut places = std::collections::BTreeSet::new();
        for e in &ds.events {
            if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
                places.insert((
                    e.city.to_string(),
                    e.state.to_string(),
                    e.country.to_string(),
                    lat.to_bits(),
                    lon.to_bits(),
                ));
            }
        }
        assert!(places.len() > 20, "{}", places.len());
        for (city, state, country, lat, lon) in places {
            let want = (f64::from_bits(lat), f64::from_bits(lon));
            let got = g.locate(&city, &state, &country);
            assert!(near(got, want, 25.0), "{city}, {state}, {country}: {got:?}");
        }
    }

    #[test]
    fn state_chooses_between_namesakes_and_ambiguity_gives_nothing() {
        let g = get();
        // Quincy: Washington's, Illinois', Massachusetts'...
        assert!(near(
            g.locate("Quincy", "Washington", "US"),
            (47.234, -119.853),
            5.0
        ));
        assert!(near(
            g.locate("Quincy", "Massachusetts", "US"),
            (42.253, -71.002),
            5.0
        ));
        assert_eq!(g.locate("Quincy", "", "US"), None);
        assert_eq!(g.locate("Quincy", "Nowhere", "US"), None);
        // One London dominates Great Britain; the US has several.
        assert!(near(g.locate("London", "", "GB"), (51.507, -0.128), 5.0));
        assert!(near(
            g.locate("LONDON", "england", "gb"),
            (51.507, -0.128),
            5.0
        ));
        assert_eq!(g.locate("London", "", "US"), None);
        // A state name in another language still finds the city by country.
        assert!(near(
            g.locate("Munich", "Bayern", "DE"),
            (48.137, 11.575),
            5.0
        ));
        assert!(near(
            g.locate("St. Louis", "Missouri", "US"),
            (38.627, -90.198),
            10.0
        ));
    }

    #[test]
    fn unknown_or_incomplete_places_give_nothing() {
        let g = get();
        assert_eq!(g.locate("Atlantis", "", "GR"), None);
        assert_eq!(g.locate("Paris", "", ""), None);
        assert_eq!(g.locate("", "Ile-de-France", "FR"), None);
        assert_eq!(g.locate("Paris", "", "France"), None);
        // Paris is in France, not in Germany.
        assert_eq!(g.locate("Paris", "", "DE"), None);
    }

    #[test]
    fn a_damaged_table_is_an_error_naming_the_line() {
        let gz = |text: &str| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        let ok = Gazetteer::parse(&gz(
            "# header\nFR\tParis\tIle-de-France\t48.85\t2.35\t2138551\tLutetia\n",
        ))
        .unwrap();
        assert_eq!(ok.locate("Lutetia", "", "FR"), Some((48.85, 2.35)));
        let err = Gazetteer::parse(&gz(
            "# header\nFR\tParis\tIle-de-France\tnorth\t2.35\t1\t\n",
        ))
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "gazetteer line 2: bad latitude");
        assert!(Gazetteer::parse(b"not gzip").is_err());
    }

    /// Every line of the compiled-in table reads, each country's lines
    /// are found whole, and a lookup builds only its own country.
    #[test]
    fn the_compiled_in_table_reads_whole_and_one_country_at_a_time() {
        let lines = {
            let mut text = String::new();
            GzDecoder::new(DATA).read_to_string(&mut text).unwrap();
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count()
        };
        let g = Gazetteer::parse(DATA).unwrap();
        assert_eq!(g.len(), lines);
        assert!(g.countries.len() > 200, "{}", g.countries.len());
        assert!(g.countries.keys().all(|cc| cc.len() == 2));
        let fresh = Gazetteer::open(DATA).unwrap();
        assert!(fresh.locate("Lyon", "", "fr").is_some());
        let built: Vec<&String> = fresh
            .countries
            .iter()
            .filter(|(_, c)| c.table.get().is_some())
            .map(|(cc, _)| cc)
            .collect();
        assert_eq!(built, vec!["FR"]);
    }
}
