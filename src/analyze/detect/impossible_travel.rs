//! Impossible travel: one account signing in from places too far apart for the time between.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/impossible_travel.md` (the registry in `mod.rs` serves it).

use super::place::NetworkKey;
use super::registry::{Invalid, Settings};
use super::sql::{self, Query};
use super::util::Fast;
use super::util::{self, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, SignInType, StatusClass};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

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
    /// A network hub: a network (ASN, else /24 or /64) at one location
    /// that at least this many accounts sign in from on two or more days,
    /// most of them usually signing in `min_distance_km` or more away
    /// from it. Secure web gateways, VPN concentrators, virtual desktops
    /// and carrier hubs look like this: where Entra places them is not
    /// where their users are, so a sign-in there is placed where its
    /// account was around then. 0: every sign-in is taken where Entra
    /// placed it.
    pub hub_accounts: u32,
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
            hub_accounts: 5,
        }
    }
}

impl Settings for ImpossibleTravelConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[("hub_accounts", "no place is a hub")];

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
        // Great-circle distance between two coordinate pairs, in km.
        let km = |lat1: &str, lon1: &str, lat2: &str, lon2: &str| {
            let half_sin = |a: &str, b: &str| format!("sin((radians({a}) - radians({b})) / 2)");
            let (s1, s2) = (half_sin(lat2, lat1), half_sin(lon2, lon1));
            format!(
                "2 * {EARTH_RADIUS_KM:?} * asin(least(sqrt({s1} * {s1} + cos(radians({lat1})) * cos(radians({lat2})) * {s2} * {s2}), 1.0))"
            )
        };
        let candidates = format!(
            "SELECT {}, latitude, longitude, device_id, {} AS on_managed,\n    \
             {} AS nk\n  \
             FROM ev\n  \
             WHERE status = 'success' AND user_principal_name <> '' AND ip <> ''{interactive}\n    \
             AND abs(latitude) <= 90 AND abs(longitude) <= 180 AND NOT (latitude = 0 AND longitude = 0)",
            sql::member_cols_bare(),
            sql::ON_MANAGED,
            sql::network_key("asn", "ip")
        );
        let numbered = |from: &str| {
            format!(
                "SELECT c.*, ROW_NUMBER() OVER (PARTITION BY user_principal_name ORDER BY {}) AS pos\n  FROM {from} c",
                sql::ORDER
            )
        };
        let q = Query::new()
            .note("the speed test compares the time between sign-ins with distance / min_speed_kmh as an interval, rounded to the microsecond; analyze divides in floating point");
        let q = if c.hub_accounts == 0 {
            q.cte(
                "places",
                numbered(&format!(
                    "(SELECT x.*, latitude AS at_lat, longitude AS at_lon, 0 AS at_hub, 0 AS loose FROM ({candidates}) x)"
                )),
            )
        } else {
            // `hubs` and `positions` in `run`, said as sets: each account's
            // spots (network at a location) ranked by use; each spot used on
            // two days or more votes by the distance to the account's most
            // used other spot; a sign-in at a hub takes the place of the
            // account's last sign-in before it at a spot that is no hub and
            // was used on two days, else of the first such one after it.
            // A row of `x` at a hub `h`: the join condition.
            let at_hub = |x: &str| {
                format!(
                    "h.nk = {x}.nk AND h.latitude = {x}.latitude AND h.longitude = {x}.longitude"
                )
            };
            let by_use = "ROW_NUMBER() OVER (PARTITION BY user_principal_name ORDER BY n DESC, nk, latitude, longitude) AS r";
            q.cte("candidates", candidates)
                .cte(
                    "spots",
                    format!(
                        "SELECT user_principal_name, nk, latitude, longitude, COUNT(*) AS n,\n    \
                         COUNT(DISTINCT {}) AS days\n  \
                         FROM candidates WHERE nk IS NOT NULL\n  \
                         GROUP BY user_principal_name, nk, latitude, longitude",
                        sql::epoch_day("time")
                    ),
                )
                .cte("ranked", format!("SELECT s.*, {by_use}\n  FROM spots s"))
                .cte(
                    "votes",
                    format!(
                        "SELECT p.nk, p.latitude, p.longitude,\n    \
                         CASE WHEN {} >= {} THEN 1 ELSE 0 END AS far\n  \
                         FROM ranked p JOIN ranked u ON u.user_principal_name = p.user_principal_name\n    \
                         AND u.r = CASE WHEN p.r = 1 THEN 2 ELSE 1 END\n  \
                         WHERE p.days >= 2",
                        km("p.latitude", "p.longitude", "u.latitude", "u.longitude"),
                        sql::float(c.min_distance_km)
                    ),
                )
                .cte(
                    "hubs",
                    format!(
                        "SELECT nk, latitude, longitude FROM votes\n  \
                         GROUP BY nk, latitude, longitude\n  \
                         HAVING COUNT(*) >= {} AND 2 * SUM(far) > COUNT(*)",
                        c.hub_accounts
                    ),
                )
                .cte(
                    "marked",
                    numbered(&format!(
                        "(SELECT x.*,\n    \
                         CASE WHEN h.nk IS NOT NULL THEN 1 ELSE 0 END AS at_hub,\n    \
                         CASE WHEN h.nk IS NULL AND s.days >= 2 THEN 1 ELSE 0 END AS anchor_ok\n  \
                         FROM candidates x\n  \
                         LEFT JOIN hubs h ON {}\n  \
                         LEFT JOIN spots s ON s.user_principal_name = x.user_principal_name AND s.nk = x.nk\n    \
                         AND s.latitude = x.latitude AND s.longitude = x.longitude)",
                        at_hub("x")
                    )),
                )
                .cte(
                    "anchored",
                    "SELECT m.*, COALESCE(\n    \
                     MAX(CASE WHEN anchor_ok = 1 THEN pos END) OVER (PARTITION BY user_principal_name ORDER BY pos\n      \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),\n    \
                     MIN(CASE WHEN anchor_ok = 1 THEN pos END) OVER (PARTITION BY user_principal_name ORDER BY pos\n      \
                     ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)) AS anchor\n  \
                     FROM marked m",
                )
                .cte(
                    "places",
                    "SELECT a.*,\n    \
                     CASE WHEN a.at_hub = 1 AND b.pos IS NOT NULL THEN b.latitude ELSE a.latitude END AS at_lat,\n    \
                     CASE WHEN a.at_hub = 1 AND b.pos IS NOT NULL THEN b.longitude ELSE a.longitude END AS at_lon,\n    \
                     CASE WHEN a.at_hub = 1 AND b.pos IS NULL THEN 1 ELSE 0 END AS loose\n  \
                     FROM anchored a LEFT JOIN anchored b\n    \
                     ON b.user_principal_name = a.user_principal_name AND b.pos = a.anchor",
                )
        };
        let day = sql::epoch_day("time");
        // A spot or device used on `HABIT_DAYS` days and on most of the
        // account's days; `u` is the account's row of `account_days`.
        let habit = |x: &str| format!("{x}.days >= {HABIT_DAYS} AND 2 * {x}.days > u.days");
        q
            // `owner_at_both_ends` in `run`: a sign-in on a managed device,
            // or at a spot or on a device the account used on an earlier
            // day, or, on the account's first day, on most of its days.
            .cte(
                "account_days",
                format!(
                    "SELECT user_principal_name, MIN({day}) AS first_day, COUNT(DISTINCT {day}) AS days\n  \
                     FROM places GROUP BY user_principal_name"
                ),
            )
            .cte(
                "spot_days",
                format!(
                    "SELECT user_principal_name, nk, latitude, longitude, MIN({day}) AS first_day,\n    \
                     COUNT(DISTINCT {day}) AS days\n  \
                     FROM places WHERE nk IS NOT NULL\n  \
                     GROUP BY user_principal_name, nk, latitude, longitude"
                ),
            )
            .cte(
                "device_days",
                format!(
                    "SELECT user_principal_name, device_id, MIN({day}) AS first_day, COUNT(DISTINCT {day}) AS days\n  \
                     FROM places WHERE device_id <> ''\n  \
                     GROUP BY user_principal_name, device_id"
                ),
            )
            .cte(
                "known",
                format!(
                    "SELECT p.*,\n    \
                     CASE WHEN p.on_managed = 1\n      \
                     OR s.first_day < {pday} OR d.first_day < {pday}\n      \
                     OR ({pday} = u.first_day AND (({}) OR ({})))\n      \
                     THEN 1 ELSE 0 END AS known\n  \
                     FROM places p\n  \
                     JOIN account_days u ON u.user_principal_name = p.user_principal_name\n  \
                     LEFT JOIN spot_days s ON s.user_principal_name = p.user_principal_name AND s.nk = p.nk\n    \
                     AND s.latitude = p.latitude AND s.longitude = p.longitude\n  \
                     LEFT JOIN device_days d ON d.user_principal_name = p.user_principal_name AND d.device_id = p.device_id",
                    habit("s"),
                    habit("d"),
                    pday = sql::epoch_day("p.time"),
                ),
            )
            .cte(
                "trips",
                "SELECT p.*,\n    \
                 LAG(time) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_time,\n    \
                 LAG(ip) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_ip,\n    \
                 LAG(at_lat) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_lat,\n    \
                 LAG(at_lon) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_lon,\n    \
                 LAG(at_hub) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_hub,\n    \
                 LAG(loose) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_loose,\n    \
                 LAG(country) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_country,\n    \
                 LAG(device_id) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_device,\n    \
                 LAG(known) OVER (PARTITION BY user_principal_name ORDER BY pos) AS prev_known\n  \
                 FROM known p",
            )
            .cte(
                "legs",
                format!(
                    "SELECT t.*,\n    \
                     SUM(CASE WHEN prev_time >= time - {w} THEN 0 ELSE 1 END) OVER (PARTITION BY user_principal_name ORDER BY pos \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cluster,\n    \
                     {} AS km\n  \
                     FROM trips t",
                    km("prev_lat", "prev_lon", "at_lat", "at_lon")
                ),
            )
            .cte(
                "hops",
                format!(
                    "SELECT user_principal_name, cluster, pos,\n    \
                     CASE WHEN (device_id <> '' AND device_id = prev_device) OR (known = 1 AND prev_known = 1)\n      \
                     THEN 1 ELSE 0 END AS owner_ends\n  \
                     FROM legs\n  \
                     WHERE prev_time >= time - {w} AND prev_ip <> ip AND NOT (at_hub = 1 AND prev_hub = 1)\n    \
                     AND NOT ((loose = 1 OR prev_loose = 1) AND COALESCE(country, '') <> ''\n      \
                     AND COALESCE(country, '') = COALESCE(prev_country, '')) AND km >= {}\n    \
                     AND (time = prev_time OR time <= prev_time + INTERVAL '1' SECOND * (km / {} * 3600))",
                    sql::float(c.min_distance_km),
                    sql::float(c.min_speed_kmh)
                ),
            )
            // Every hop of the cluster between the owner's ends.
            .cte(
                "owners",
                "SELECT user_principal_name, cluster, MIN(owner_ends) AS owner_ends\n  \
                 FROM hops GROUP BY user_principal_name, cluster",
            )
            .cte(
                "hop_ends",
                "SELECT user_principal_name, cluster, pos FROM hops\n  \
                 UNION\n  \
                 SELECT user_principal_name, cluster, pos - 1 FROM hops",
            )
            .select(format!(
                "SELECT {}, MIN(p.time) AS first_seen, MAX(p.time) AS last_seen, COUNT(*) AS count,\n  \
                 MIN(d.owner_ends) AS owner_ends\n\
                 FROM hop_ends e JOIN places p ON p.user_principal_name = e.user_principal_name AND p.pos = e.pos\n  \
                 JOIN owners d ON d.user_principal_name = e.user_principal_name AND d.cluster = e.cluster\n\
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
            .fact("owner_at_both_ends", sql::json_bool("f.owner_ends = 1"))
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
        let accounts: Vec<Account> = groups
            .iter()
            .map(|(&user, events)| Account::of(recs, user, events))
            .collect();
        let hubs = hubs(&accounts, c);
        let mut out = Vec::new();
        for account in &accounts {
            let user = account.user;
            let events = positions(recs, account, &hubs);
            // A cluster (neighbours at most one window apart) yields at most
            // one finding, so stricter thresholds cannot split a finding.
            let mut hops: Vec<Hop> = Vec::new();
            for k in 1..=events.len() {
                let cluster_ends = k == events.len()
                    || recs[events[k].i].time_us - recs[events[k - 1].i].time_us > window;
                if k < events.len() && !cluster_ends {
                    if let Some(h) = hop(recs, events[k - 1], events[k], c) {
                        hops.push(h);
                    }
                }
                if cluster_ends && !hops.is_empty() {
                    let hops = std::mem::take(&mut hops);
                    let known = Known::of(recs, account);
                    let owner = known.owner_at_both_ends(recs, &hops);
                    out.push(util::finding(
                        ev,
                        draft(recs, c.window_minutes, user, hops, &known)
                            .fact("owner_at_both_ends", owner),
                    ));
                }
            }
        }
        out
    }
}

/// A network at one location: what a hub is, and what an account is
/// usually seen at. Coordinates as bits (of `x + 0.0`, so -0 is 0) to be
/// hashed; equal coordinates are the same location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Spot {
    net: NetworkKey,
    lat: u64,
    lon: u64,
}

impl Spot {
    fn of(r: &SignIn) -> Option<Spot> {
        let (lat, lon) = coords(r)?;
        Some(Spot {
            net: NetworkKey::of(r)?,
            lat: (lat + 0.0).to_bits(),
            lon: (lon + 0.0).to_bits(),
        })
    }

    fn coords(self) -> (f64, f64) {
        (f64::from_bits(self.lat), f64::from_bits(self.lon))
    }
}

/// The network hubs among the candidates (see `hub_accounts`).
///
/// Each account votes on each spot it signed in from on two or more UTC
/// days, by where it usually is otherwise: its most used other spot (most
/// sign-ins, then network text, latitude and longitude). A spot is a hub
/// when at least `hub_accounts` accounts vote on it and most find their
/// usual spot `min_distance_km` or more away. An office is where its
/// users live; a gateway's egress city is not. An attacker's server is
/// used by the accounts it has taken over, on a day or two: it takes
/// `hub_accounts` accounts, each on two days, to hide it.
fn hubs(accounts: &[Account], c: &ImpossibleTravelConfig) -> HashSet<Spot, Fast> {
    if c.hub_accounts == 0 {
        return HashSet::default();
    }
    // spot -> (voters, voters whose usual spot is far)
    let mut votes: HashMap<Spot, (u32, u32), Fast> = HashMap::default();
    for account in accounts {
        if account.uses.len() < 2 {
            continue;
        }
        let mut ranked: Vec<(Spot, Use, String)> = account
            .uses
            .iter()
            .map(|(s, u)| (*s, *u, s.net.to_string()))
            .collect();
        ranked.sort_by(|a, b| {
            let (ac, bc) = (a.0.coords(), b.0.coords());
            b.1.n
                .cmp(&a.1.n)
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| ac.0.total_cmp(&bc.0))
                .then_with(|| ac.1.total_cmp(&bc.1))
        });
        for (k, (spot, used, _)) in ranked.iter().enumerate() {
            if used.days < 2 {
                continue;
            }
            let usual = &ranked[usize::from(k == 0)].0;
            let far = haversine_km(spot.coords(), usual.coords()) >= c.min_distance_km;
            let v = votes.entry(*spot).or_default();
            v.0 += 1;
            v.1 += u32::from(far);
        }
    }
    votes
        .into_iter()
        .filter(|(_, (n, far))| *n >= c.hub_accounts && 2 * far > *n)
        .map(|(s, _)| s)
        .collect()
}

/// How much an account used a spot: sign-ins, distinct UTC days, and the
/// first of those days.
#[derive(Debug, Clone, Copy, Default)]
struct Use {
    n: u32,
    days: u32,
    first_day: i64,
}

/// One account's candidate sign-ins (in time order), the spot of each,
/// and how much it used each spot: worked out once, for the hub vote and
/// for placing the account's hub sign-ins.
struct Account<'a> {
    user: &'a str,
    events: &'a [usize],
    spots: Vec<Option<Spot>>,
    uses: HashMap<Spot, Use, Fast>,
}

impl<'a> Account<'a> {
    fn of(recs: &[SignIn], user: &'a str, events: &'a [usize]) -> Self {
        let spots: Vec<Option<Spot>> = events.iter().map(|&i| Spot::of(&recs[i])).collect();
        // spot -> (use, last day counted)
        let mut seen: HashMap<Spot, (Use, i64), Fast> = HashMap::default();
        for (s, &i) in spots.iter().zip(events) {
            let Some(s) = s else {
                continue;
            };
            let day = recs[i].time_us.div_euclid(util::DAY_US);
            let (used, last) = seen.entry(*s).or_insert((
                Use {
                    first_day: day,
                    ..Use::default()
                },
                i64::MIN,
            ));
            used.n += 1;
            if *last != day {
                used.days += 1;
                *last = day;
            }
        }
        Account {
            user,
            events,
            spots,
            uses: seen.into_iter().map(|(s, (u, _))| (s, u)).collect(),
        }
    }
}

/// A sign-in where the walk takes it to be: at its own coordinates, or,
/// at a hub, where its account was around then (`anchor`: the sign-in
/// whose place it took).
#[derive(Debug, Clone, Copy)]
struct Pos {
    i: usize,
    at: (f64, f64),
    anchor: Option<usize>,
    /// At a hub (whether or not placed elsewhere).
    hub: bool,
}

/// The account's sign-ins (in time order; all have coordinates)
/// as positions. One at a hub takes the place of the account's last
/// sign-in before it at a spot that is no hub and that the account used
/// on two days or more, else of its first such sign-in after it: the
/// person is where they last were, and an attacker's one visit never
/// stands in for them. An account without such a spot keeps its sign-ins
/// where they are: with nothing to place it by, a hub's location is the
/// best there is, and a takeover of such an account must still show.
fn positions(recs: &[SignIn], account: &Account, hubs: &HashSet<Spot, Fast>) -> Vec<Pos> {
    let (events, spots) = (account.events, &account.spots);
    let at_hub: Vec<bool> = spots
        .iter()
        .map(|s| s.is_some_and(|s| hubs.contains(&s)))
        .collect();
    let mut anchors: Vec<Option<usize>> = vec![None; events.len()];
    if at_hub.contains(&true) {
        // A spot that is no hub holds no hub sign-in, so its days are the
        // account's days there.
        let anchor = |k: usize| !at_hub[k] && spots[k].is_some_and(|s| account.uses[&s].days >= 2);
        let mut last = None;
        for k in 0..events.len() {
            if anchor(k) {
                last = Some(events[k]);
            }
            anchors[k] = last;
        }
        let mut next = None;
        for k in (0..events.len()).rev() {
            if anchor(k) {
                next = Some(events[k]);
            }
            anchors[k] = anchors[k].or(next);
        }
    }
    events
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| {
            let own = coords(&recs[i])?;
            let anchor = anchors[k].filter(|_| at_hub[k]);
            Some(Pos {
                i,
                at: anchor.and_then(|a| coords(&recs[a])).unwrap_or(own),
                anchor,
                hub: at_hub[k],
            })
        })
        .collect()
}

struct Hop {
    from: Pos,
    to: Pos,
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

fn hop(recs: &[SignIn], from: Pos, to: Pos, c: &ImpossibleTravelConfig) -> Option<Hop> {
    let (a, b) = (&recs[from.i], &recs[to.i]);
    let loose = |p: Pos| p.hub && p.anchor.is_none();
    if a.ip == b.ip
        || (from.hub && to.hub)
        || ((loose(from) || loose(to)) && !a.country.is_empty() && a.country == b.country)
    {
        // One address cannot be in two places; differing coordinates are
        // geolocation noise. Between two hubs (a gateway's egress cities)
        // nobody need have moved. A hub left at its own place says the
        // person is somewhere it serves, which for a gateway, a VPN or a
        // carrier is a country: only another country tells.
        return None;
    }
    let km = haversine_km(from.at, to.at);
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
    util::place_text(&r.city, &r.country, &r.ip)
}

/// Where a position is, in words: a sign-in at a hub names the place it
/// was taken for and the hub, or says it is a hub when it kept its own.
fn place_at(recs: &[SignIn], p: Pos) -> String {
    match p.anchor {
        None if p.hub => format!("{} (a network hub)", place(&recs[p.i])),
        None => place(&recs[p.i]),
        Some(a) => format!(
            "{} (where the account was then; signed in through a hub in {})",
            place(&recs[a]),
            place(&recs[p.i])
        ),
    }
}

/// One end of a hop for the facts; `known`: see [`Known::at`].
fn place_json(recs: &[SignIn], p: Pos, known: &Known) -> serde_json::Value {
    let r = &recs[p.i];
    let mut v = serde_json::json!({
        "ip": r.ip,
        "city": r.city,
        "country": r.country,
        "time": util::rfc3339(r.time_us),
        "known": known.at(r),
    });
    if !r.device_id.is_empty() {
        v["device"] = r.device_id.as_str().into();
    }
    if p.hub {
        v["hub"] = true.into();
    }
    if let Some(a) = p.anchor {
        v["taken_as"] = place(&recs[a]).into();
    }
    v
}

fn draft(recs: &[SignIn], window_minutes: u32, user: &str, hops: Vec<Hop>, known: &Known) -> Draft {
    // The fastest hop speaks for the finding; a same-second hop beats all.
    let fastest = hops
        .iter()
        .max_by(|x, y| {
            x.kmh
                .unwrap_or(f64::INFINITY)
                .total_cmp(&y.kmh.unwrap_or(f64::INFINITY))
        })
        .unwrap_or(&hops[0]);
    let (a, b) = (&recs[fastest.from.i], &recs[fastest.to.i]);
    let speed = match fastest.kmh {
        Some(v) => format!("{:.0} km/h", v),
        None => "at the same moment".to_string(),
    };
    let title = format!(
        "Impossible travel for {user}: {} to {}, {:.0} km in {} ({speed})",
        place_at(recs, fastest.from),
        place_at(recs, fastest.to),
        fastest.km,
        util::span_text(b.time_us - a.time_us)
    );
    let remediation = vec![
        format!("Ask the owner of {user} which of the two sign-ins ({} and {}) was theirs, and whether a VPN or remote desktop explains the other.", a.ip, b.ip),
        format!("If one was not theirs: revoke sessions and refresh tokens for {user}, reset the password, and review MFA methods and devices registered recently; token theft bypasses MFA, so look for a phishing mail shortly before."),
        "Add your VPN and proxy egress ranges to the allowlist so they stop producing these.".to_string(),
    ];
    let mut events: Vec<usize> = hops.iter().flat_map(|h| [h.from.i, h.to.i]).collect();
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
        .fact("from", place_json(recs, fastest.from, known))
        .fact("to", place_json(recs, fastest.to, known))
        .fact("impossible_hops", hops.len())
}

/// What an account had shown of itself before each day, for telling its
/// owner's ends of a hop from a second party's: worked out only for the
/// rare account with a finding.
struct Known<'a> {
    account: &'a Account<'a>,
    /// The days of each device the account used.
    devices: HashMap<&'a str, Days, Fast>,
    /// The account's days in the data.
    days: Days,
}

/// Distinct UTC days of sign-ins seen in time order: the first, and how
/// many.
#[derive(Debug, Clone, Copy)]
struct Days {
    first: i64,
    count: u32,
    last: i64,
}

impl Days {
    fn starting(day: i64) -> Self {
        Days {
            first: day,
            count: 1,
            last: day,
        }
    }

    fn add(&mut self, day: i64) {
        if self.last != day {
            self.count += 1;
            self.last = day;
        }
    }
}

/// Days of use that make a spot or a device the account's habit, when
/// they are also most of its days.
const HABIT_DAYS: u32 = 3;

impl<'a> Known<'a> {
    fn of(recs: &'a [SignIn], account: &'a Account<'a>) -> Self {
        let day_of = |i: usize| recs[i].time_us.div_euclid(util::DAY_US);
        let mut days = Days::starting(account.events.first().map_or(0, |&i| day_of(i)));
        let mut devices: HashMap<&str, Days, Fast> = HashMap::default();
        for &i in account.events {
            let (r, day) = (&recs[i], day_of(i));
            days.add(day);
            if !r.device_id.is_empty() {
                devices
                    .entry(r.device_id.as_str())
                    .and_modify(|d| d.add(day))
                    .or_insert(Days::starting(day));
            }
        }
        Known {
            account,
            devices,
            days,
        }
    }

    /// The sign-in is on a device the tenant manages (Intune compliant, or
    /// joined), or at a spot or on a device the account had signed in
    /// from on an earlier UTC day. Only earlier days count, so an
    /// attacker's first visit never vouches for itself. On the account's
    /// first day in the data there is no earlier day; there a spot or a
    /// device vouches when the account used it on [`HABIT_DAYS`] days or
    /// more and on most of its days: its home or its own phone, which an
    /// attacker's place becomes only by outlasting the owner.
    fn at(&self, r: &SignIn) -> bool {
        let day = r.time_us.div_euclid(util::DAY_US);
        let vouches = |first: i64, days: u32| {
            first < day
                || (day == self.days.first && days >= HABIT_DAYS && 2 * days > self.days.count)
        };
        r.on_managed_device()
            || Spot::of(r).is_some_and(|s| {
                let u = self.account.uses[&s];
                vouches(u.first_day, u.days)
            })
            || (!r.device_id.is_empty()
                && self
                    .devices
                    .get(r.device_id.as_str())
                    .is_some_and(|d| vouches(d.first, d.count)))
    }

    /// Whether each impossible hop's two sign-ins were both the owner's:
    /// made on one device id, or each [`Known::at`] a known end. A laptop
    /// behind a VPN abroad and the phone at home, or the home connection
    /// and the VPN the owner uses every day, pass; a second party signs in
    /// from a device and a place of its own, new to the account that day.
    fn owner_at_both_ends(&self, recs: &[SignIn], hops: &[Hop]) -> bool {
        hops.iter().all(|h| {
            let (a, b) = (&recs[h.from.i], &recs[h.to.i]);
            (!a.device_id.is_empty() && a.device_id == b.device_id) || (self.at(a) && self.at(b))
        })
    }
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

    const DAY: i64 = 86_400;
    const SEATTLE: (f64, f64) = (47.61, -122.33);
    const DALLAS: (f64, f64) = (32.78, -96.8);
    const ASHBURN: (f64, f64) = (39.04, -77.49);
    const MOSCOW: (f64, f64) = (55.75, 37.62);

    /// A successful sign-in of `user` from `ip` (on `asn`) placed at `at`.
    fn from(sec: i64, user: &str, ip: &str, asn: i64, city: &str, at: (f64, f64)) -> SignIn {
        SignIn {
            city: city.into(),
            country: if city == "Moscow" { "RU" } else { "US" }.into(),
            asn: Some(asn),
            latitude: Some(at.0),
            longitude: Some(at.1),
            ..signin(sec, user, ip, 0)
        }
    }

    /// Six people who live in Seattle and, on two days, sign in from home
    /// and then through a gateway whose egress Entra places in Dallas and
    /// in Ashburn; and six who work in a Seattle office.
    fn tenant() -> Vec<SignIn> {
        let mut v = Vec::new();
        for n in 0..6 {
            let (g, o) = (
                format!("remote{n}@contoso.com"),
                format!("office{n}@contoso.com"),
            );
            for day in 0..2 {
                let t = day * DAY + 9 * 3600 + n * 60;
                v.push(from(
                    t,
                    &g,
                    &format!("73.1.{n}.1"),
                    7922,
                    "Seattle",
                    SEATTLE,
                ));
                v.push(from(t + 1800, &g, "165.225.0.20", 53813, "Dallas", DALLAS));
                v.push(from(
                    t + 2400,
                    &g,
                    "165.225.9.20",
                    53813,
                    "Ashburn",
                    ASHBURN,
                ));
                v.push(from(
                    t,
                    &o,
                    &format!("73.2.{n}.1"),
                    7922,
                    "Seattle",
                    SEATTLE,
                ));
                v.push(from(
                    t + 1800,
                    &o,
                    "198.18.0.10",
                    3356,
                    "Seattle",
                    (47.6, -122.3),
                ));
            }
        }
        v
    }

    #[test]
    fn a_gateway_s_egress_is_not_where_its_users_are() {
        let recs = fixture(tenant());
        assert!(run(&ImpossibleTravel, &recs, &DetectionConfig::default()).is_empty());
        // Taken at face value, every remote worker travels.
        let mut cfg = DetectionConfig::default();
        cfg.impossible_travel.hub_accounts = 0;
        assert_eq!(run(&ImpossibleTravel, &recs, &cfg).len(), 6);
    }

    #[test]
    fn a_takeover_still_shows_through_a_gateway_an_office_or_hubs_alone() {
        let mut v = tenant();
        // Twenty minutes after a sign-in through the gateway: compared
        // from Seattle, where remote0 lives.
        v.push(from(
            DAY + 9 * 3600 + 3600,
            "remote0@contoso.com",
            "203.0.113.9",
            12389,
            "Moscow",
            MOSCOW,
        ));
        // Twenty minutes after the office: an office is where its people are.
        v.push(from(
            DAY + 9 * 3600 + 60 + 3000,
            "office1@contoso.com",
            "203.0.113.9",
            12389,
            "Moscow",
            MOSCOW,
        ));
        // An account only ever seen through the gateway keeps the hub's
        // place: moving between its egress cities is no trip, Moscow is.
        for day in 0..2 {
            let t = day * DAY + 10 * 3600;
            v.push(from(
                t,
                "gw-only@contoso.com",
                "165.225.0.20",
                53813,
                "Dallas",
                DALLAS,
            ));
            v.push(from(
                t + 600,
                "gw-only@contoso.com",
                "165.225.9.20",
                53813,
                "Ashburn",
                ASHBURN,
            ));
        }
        // Boston half an hour after the gateway's Ashburn egress: the
        // gateway says the account is somewhere in the US, so no trip.
        v.push(from(
            10 * 3600 + 2400,
            "gw-only@contoso.com",
            "73.9.9.9",
            7922,
            "Boston",
            (42.36, -71.06),
        ));
        v.push(from(
            DAY + 10 * 3600 + 1800,
            "gw-only@contoso.com",
            "203.0.113.9",
            12389,
            "Moscow",
            MOSCOW,
        ));
        let recs = fixture(v);
        let f = run(&ImpossibleTravel, &recs, &DetectionConfig::default());
        let titles: Vec<&str> = f.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(f.len(), 3, "{titles:#?}");
        let of = |user: &str| {
            f.iter()
                .find(|f| f.users == [user])
                .unwrap_or_else(|| panic!("{user}: {titles:#?}"))
        };
        let remote = of("remote0@contoso.com");
        assert!(
            remote.title.contains("Seattle, US (where the account was then; signed in through a hub in Ashburn, US) to Moscow, RU"),
            "{}",
            remote.title
        );
        let to = fact(remote, "from").unwrap();
        assert_eq!(
            (to["hub"].as_bool(), to["taken_as"].as_str()),
            (Some(true), Some("Seattle, US"))
        );
        assert!(of("office1@contoso.com")
            .title
            .contains("Seattle, US to Moscow, RU"));
        // Kept at its own place, and said to be a hub.
        let gw = of("gw-only@contoso.com");
        assert!(
            gw.title
                .contains("Ashburn, US (a network hub) to Moscow, RU"),
            "{}",
            gw.title
        );
        let from = fact(gw, "from").unwrap();
        assert_eq!(from["hub"].as_bool(), Some(true));
        assert!(from.get("taken_as").is_none());
        // Boston was no hop; Moscow is the only one.
        assert_eq!(
            fact(gw, "impossible_hops").and_then(|v| v.as_u64()),
            Some(1)
        );
    }

    #[test]
    fn an_attacker_s_one_visit_is_never_taken_for_home() {
        // remote0's only other place is a server it was taken over from,
        // once: the gateway sign-in after it keeps its own place.
        let mut v: Vec<SignIn> = tenant()
            .into_iter()
            .filter(|r| {
                !(r.user_principal_name == "remote0@contoso.com" && r.ip.starts_with("73."))
            })
            .collect();
        v.push(from(
            DAY + 9 * 3600 + 1000,
            "remote0@contoso.com",
            "203.0.113.9",
            12389,
            "Moscow",
            MOSCOW,
        ));
        let recs = fixture(v);
        let f = run(&ImpossibleTravel, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].title
                .contains("Moscow, RU to Dallas, US (a network hub)"),
            "{}",
            f[0].title
        );
    }
}
