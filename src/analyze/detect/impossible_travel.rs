//! Impossible travel: one account signing in from places too far apart for the time between.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/impossible_travel.md` (the registry in `mod.rs` serves it).

use super::registry::{Invalid, Settings};
use super::sql::{self, Query};
use super::util::{self, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, SignInType, StatusClass};
use serde::{Deserialize, Serialize};

pub struct ImpossibleTravel;

const KIND: &str = "impossible_travel";

/// The `[impossible_travel]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpossibleTravelConfig {
    pub enabled: bool,
    /// Sign-ins further apart than this are not compared.
    pub window_minutes: u32,
    pub min_distance_km: f64,
    pub min_speed_kmh: f64,
    pub interactive_only: bool,
}

impl Default for ImpossibleTravelConfig {
    fn default() -> Self {
        // Elastic: 500 km and 800 km/h; a day of gap so a morning in Paris
        // and an afternoon in New York are still compared.
        ImpossibleTravelConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_distance_km: 500.0,
            min_speed_kmh: 800.0,
            interactive_only: true,
        }
    }
}

impl Settings for ImpossibleTravelConfig {
    fn check(&self) -> Result<(), Invalid> {
        if self.min_speed_kmh.is_nan()
            || self.min_speed_kmh <= 0.0
            || self.min_distance_km.is_nan()
            || self.min_distance_km < 0.0
        {
            return Err(Invalid::new(
                "",
                "min_speed_kmh must be above 0 and min_distance_km 0 or more",
            ));
        }
        Ok(())
    }
}

/// Mean Earth radius.
const EARTH_RADIUS_KM: f64 = 6371.0088;

impl Detection for ImpossibleTravel {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Impossible travel between successful sign-ins"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::Coordinates]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.impossible_travel;
        let w = sql::minutes(c.window_minutes);
        let interactive = if c.interactive_only {
            " AND sign_in_type = 'interactive'"
        } else {
            ""
        };
        let rad = |col: &str| format!("radians({col})");
        let half_sin = |a: &str, b: &str| format!("sin(({} - {}) / 2)", rad(a), rad(b));
        let h = format!(
            "{s1} * {s1} + cos({l1}) * cos({l2}) * {s2} * {s2}",
            s1 = half_sin("latitude", "prev_lat"),
            s2 = half_sin("longitude", "prev_lon"),
            l1 = rad("prev_lat"),
            l2 = rad("latitude")
        );
        Query::new()
            .note("the speed test compares the time between sign-ins with distance / min_speed_kmh as an interval, rounded to the microsecond; analyze divides in floating point")
            .cte(
                "places",
                format!(
                    "SELECT {}, latitude, longitude,\n    \
                     ROW_NUMBER() OVER (PARTITION BY user_principal_name ORDER BY {}) AS pos\n  \
                     FROM ev\n  \
                     WHERE status = 'success' AND user_principal_name <> '' AND ip <> ''{interactive}\n    \
                     AND abs(latitude) <= 90 AND abs(longitude) <= 180 AND NOT (latitude = 0 AND longitude = 0)",
                    sql::member_cols_bare(),
                    sql::ORDER
                ),
            )
            .cte(
                "trips",
                "SELECT p.*,\n    \
                 LAG(time) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_time,\n    \
                 LAG(ip) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_ip,\n    \
                 LAG(latitude) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_lat,\n    \
                 LAG(longitude) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_lon\n  \
                 FROM places p",
            )
            .cte(
                "legs",
                format!(
                    "SELECT t.*,\n    \
                     SUM(CASE WHEN prev_time >= time - {w} THEN 0 ELSE 1 END) OVER (PARTITION BY user_principal_name ORDER BY pos \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cluster,\n    \
                     2 * {EARTH_RADIUS_KM:?} * asin(least(sqrt({h}), 1.0)) AS km\n  \
                     FROM trips t"
                ),
            )
            .cte(
                "hops",
                format!(
                    "SELECT user_principal_name, cluster, pos FROM legs\n  \
                     WHERE prev_time >= time - {w} AND prev_ip <> ip AND km >= {}\n    \
                     AND (time = prev_time OR time <= prev_time + INTERVAL '1' SECOND * (km / {} * 3600))",
                    sql::float(c.min_distance_km),
                    sql::float(c.min_speed_kmh)
                ),
            )
            .cte(
                "hop_ends",
                "SELECT user_principal_name, cluster, pos FROM hops\n  \
                 UNION\n  \
                 SELECT user_principal_name, cluster, pos - 1 FROM hops",
            )
            .select(format!(
                "SELECT {}, MIN(p.time) AS first_seen, MAX(p.time) AS last_seen, COUNT(*) AS count\n\
                 FROM hop_ends e JOIN places p ON p.user_principal_name = e.user_principal_name AND p.pos = e.pos\n\
                 GROUP BY e.user_principal_name, e.cluster",
                sql::head(
                    KIND,
                    "e.user_principal_name",
                    Some("e.user_principal_name"),
                    None
                )
            ))
            .note("the title names the account only; analyze names the fastest hop's places, distance and speed, and facts leave those figures out")
            // Both ends of every hop of the cluster.
            .events(format!(
                "SELECT e.user_principal_name AS actor, MIN(p.time) OVER (PARTITION BY e.user_principal_name, e.cluster) AS found_first, {}\n    \
                 FROM hop_ends e JOIN places p ON p.user_principal_name = e.user_principal_name AND p.pos = e.pos",
                sql::member_cols("p")
            ))
            .severity("'high'")
            .title(format!(
                "concat('Impossible travel for ', f.actor, ': ', {}, ' sign-ins from ', {}, ' IPs in ', {})",
                sql::text_num("f.count"),
                sql::text_num("a.ev_ips"),
                sql::span_text("f.span_s")
            ))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.impossible_travel;
        let recs = ev.records;
        let window = util::minutes(c.window_minutes);
        let groups = util::group_by(ev, cfg, |r| {
            (r.status == StatusClass::Success
                && !r.user_principal_name.is_empty()
                && !r.ip.is_empty()
                && (!c.interactive_only || r.sign_in_type == SignInType::Interactive)
                && coords(r).is_some())
            .then_some(r.user_principal_name.as_str())
        });
        let mut out = Vec::new();
        for (&user, events) in &groups {
            // A cluster (neighbours at most one window apart) yields at most
            // one finding, so stricter thresholds cannot split a finding.
            let mut hops: Vec<Hop> = Vec::new();
            for k in 1..=events.len() {
                let cluster_ends = k == events.len()
                    || recs[events[k]].time_us - recs[events[k - 1]].time_us > window;
                if k < events.len() && !cluster_ends {
                    if let Some(h) = hop(recs, events[k - 1], events[k], c) {
                        hops.push(h);
                    }
                }
                if cluster_ends && !hops.is_empty() {
                    out.push(util::finding(
                        ev,
                        draft(recs, c.window_minutes, user, std::mem::take(&mut hops)),
                    ));
                }
            }
        }
        out
    }
}

struct Hop {
    from: usize,
    to: usize,
    km: f64,
    hours: f64,
    /// `None` when both sign-ins carry the same timestamp.
    kmh: Option<f64>,
}

fn coords(r: &SignIn) -> Option<(f64, f64)> {
    let (lat, lon) = (r.latitude?, r.longitude?);
    let valid = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    // 0,0 is what failed geolocation looks like, not a place anyone signs in from.
    (valid && !(lat == 0.0 && lon == 0.0)).then_some((lat, lon))
}

pub(crate) fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

fn hop(recs: &[SignIn], from: usize, to: usize, c: &ImpossibleTravelConfig) -> Option<Hop> {
    let (a, b) = (&recs[from], &recs[to]);
    if a.ip == b.ip {
        // One address cannot be in two places; differing coordinates are
        // geolocation noise.
        return None;
    }
    let km = haversine_km(coords(a)?, coords(b)?);
    let hours = (b.time_us - a.time_us) as f64 / 3.6e9;
    let kmh = (hours > 0.0).then(|| km / hours);
    (km >= c.min_distance_km && kmh.is_none_or(|v| v >= c.min_speed_kmh)).then_some(Hop {
        from,
        to,
        km,
        hours,
        kmh,
    })
}

fn place(r: &SignIn) -> String {
    match (r.city.is_empty(), r.country.is_empty()) {
        (false, false) => format!("{}, {}", r.city, r.country),
        (true, false) => r.country.to_string(),
        (false, true) => r.city.to_string(),
        (true, true) => r.ip.to_string(),
    }
}

fn place_json(r: &SignIn) -> serde_json::Value {
    serde_json::json!({
        "ip": r.ip,
        "city": r.city,
        "country": r.country,
        "time": util::rfc3339(r.time_us),
    })
}

fn draft(recs: &[SignIn], window_minutes: u32, user: &str, hops: Vec<Hop>) -> Draft {
    // The fastest hop speaks for the finding; a same-second hop beats all.
    let fastest = hops
        .iter()
        .max_by(|x, y| {
            x.kmh
                .unwrap_or(f64::INFINITY)
                .total_cmp(&y.kmh.unwrap_or(f64::INFINITY))
        })
        .unwrap_or(&hops[0]);
    let (a, b) = (&recs[fastest.from], &recs[fastest.to]);
    let speed = match fastest.kmh {
        Some(v) => format!("{:.0} km/h", v),
        None => "at the same moment".to_string(),
    };
    let title = format!(
        "Impossible travel for {user}: {} to {}, {:.0} km in {} ({speed})",
        place(a),
        place(b),
        fastest.km,
        util::span_text(b.time_us - a.time_us)
    );
    let remediation = vec![
        format!("Ask the owner of {user} which of the two sign-ins ({} and {}) was theirs, and whether a VPN or remote desktop explains the other.", a.ip, b.ip),
        format!("If one was not theirs: revoke sessions and refresh tokens for {user}, reset the password, and review MFA methods and devices registered recently; token theft bypasses MFA, so look for a phishing mail shortly before."),
        "Add your VPN and proxy egress ranges to the allowlist so they stop producing these.".to_string(),
    ];
    let mut events: Vec<usize> = hops.iter().flat_map(|h| [h.from, h.to]).collect();
    events.sort_unstable();
    events.dedup();
    let d = Draft {
        events,
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, Severity::High, title)
    };
    // Distances between city centres, not logged positions, are worth
    // saying: the coordinates came from the city's name.
    let d = if city_placed(a) || city_placed(b) {
        d.fact("coordinates", "city gazetteer")
    } else {
        d
    };
    d.fact("distance_km", fastest.km.round())
        .fact("hours", (fastest.hours * 100.0).round() / 100.0)
        .fact(
            "speed_kmh",
            fastest
                .kmh
                .map_or(serde_json::Value::Null, |v| v.round().into()),
        )
        .fact("from", place_json(a))
        .fact("to", place_json(b))
        .fact("impossible_hops", hops.len())
}

/// Whether enrichment placed the sign-in at its logged city (the export
/// had no coordinates), so the distance is between city centres.
fn city_placed(r: &SignIn) -> bool {
    let (Some(lat), Some(lon)) = (r.latitude, r.longitude) else {
        return false;
    };
    crate::enrich::gazetteer::placed(&r.city, &r.state, &r.country, lat, lon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    fn at(sec: i64, ip: &str, city: &str, country: &str, lat: f64, lon: f64) -> SignIn {
        SignIn {
            city: city.into(),
            country: country.into(),
            latitude: Some(lat),
            longitude: Some(lon),
            ..signin(sec, "buyer@contoso.com", ip, 0)
        }
    }

    #[test]
    fn distance_matches_known_city_pairs() {
        // Paris to New York is about 5,840 km great-circle.
        let d = haversine_km((48.8566, 2.3522), (40.7128, -74.0060));
        assert!((d - 5837.0).abs() < 15.0, "{d}");
        assert!(haversine_km((10.0, 10.0), (10.0, 10.0)) < 1e-9);
    }

    #[test]
    fn paris_then_new_york_an_hour_later_fires() {
        let v = vec![
            at(0, "192.0.2.15", "Paris", "FR", 48.8566, 2.3522),
            at(3600, "203.0.113.140", "New York", "US", 40.7128, -74.0060),
            at(4000, "203.0.113.140", "New York", "US", 40.7130, -74.0100),
        ];
        let recs = fixture(v);
        let f = run(&ImpossibleTravel, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        let kmh = fact(&f[0], "speed_kmh").and_then(|v| v.as_f64()).unwrap();
        assert!(kmh > 5000.0, "{kmh}");
        assert!(
            f[0].title.contains("Paris, FR") && f[0].title.contains("New York, US"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn a_real_flight_and_missing_coordinates_do_not_fire() {
        let v = vec![
            at(0, "192.0.2.15", "Paris", "FR", 48.8566, 2.3522),
            // Nine hours later in New York: about 650 km/h.
            at(
                9 * 3600,
                "203.0.113.140",
                "New York",
                "US",
                40.7128,
                -74.0060,
            ),
            SignIn {
                latitude: None,
                longitude: None,
                ..signin(9 * 3600 + 60, "buyer@contoso.com", "198.51.100.1", 0)
            },
            at(9 * 3600 + 120, "198.51.100.2", "", "", 0.0, 0.0),
        ];
        let recs = fixture(v);
        assert!(run(&ImpossibleTravel, &recs, &DetectionConfig::default()).is_empty());
        let mut cfg = DetectionConfig::default();
        cfg.impossible_travel.min_speed_kmh = 600.0;
        assert_eq!(run(&ImpossibleTravel, &recs, &cfg).len(), 1);
    }
}
