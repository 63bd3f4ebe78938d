//! Each sign-in once, kept as the inputs are read.
//!
//! The same sign-in seen twice (overlapping exports, or one event in two
//! formats) is kept once. The key is the sign-in's request id with its time
//! truncated to the second and its error code: formats carry different
//! time precision (Graph 100 ns, Log Analytics ms, the audit log s), and
//! one request id can carry several rows with different codes (an MFA
//! interrupt, then a success). Rows without a request id fall back to
//! (second, user, IP, code, app, type). Of duplicates, the copy from the
//! richest format wins, then the lowest input path and record number, so
//! the result never depends on file order or on the order inputs finish.
//!
//! [`Unique`] takes each input's records as soon as the input is read and
//! drops its duplicates there, so a run over overlapping exports holds
//! each sign-in once plus the inputs in flight, never every copy: seven
//! daily downloads of the same rolling week cost what one does. A copy
//! that beats the one kept takes its place in memory.

use crate::ingest::Collect;
use crate::model::{Id, SignIn, SignInType, Text};
use hashbrown::HashTable;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::LazyLock;

/// What makes two rows the same sign-in (see the module comment). Text
/// fields compare by identity here: they are interned, so equal text is
/// the same pointer, and grouping needs no string comparison.
#[derive(PartialEq, Eq, Hash)]
enum Key {
    Request {
        id: Id,
        second: i64,
        code: i64,
    },
    Fallback {
        second: i64,
        user: Text,
        ip: Text,
        code: i64,
        app: Text,
        kind: SignInType,
    },
}

fn key(r: &SignIn) -> Key {
    let second = r.time_us.div_euclid(1_000_000);
    if r.request_id.is_empty() {
        Key::Fallback {
            second,
            user: r.user_principal_name,
            ip: r.ip,
            code: r.error_code,
            app: r.app_id,
            kind: r.sign_in_type,
        }
    } else {
        Key::Request {
            id: r.request_id,
            second,
            code: r.error_code,
        }
    }
}

/// foldhash rather than SipHash (4% of a CSV ingest, hashing 36-byte
/// ids); it is seeded per process, so crafted ids cannot aim collisions.
static HASHER: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);

/// Orders records by preference among duplicates: a total order, so the
/// copy kept is the same whatever order the copies arrive in.
pub(super) fn preference(a: &SignIn, b: &SignIn, paths: &[String]) -> Ordering {
    let rank = |s: &SignIn| {
        s.source_format
            .map(|f| f.richness_rank())
            .unwrap_or(u8::MAX)
    };
    let path = |s: &SignIn| {
        paths
            .get(s.source_file as usize)
            .map(String::as_str)
            .unwrap_or("")
    };
    (rank(a), path(a), a.source_record).cmp(&(rank(b), path(b), b.source_record))
}

/// One input's records with the hash of each one's key, worked out on
/// the pool before the records join the others.
pub struct Hashed {
    records: Vec<SignIn>,
    hashes: Vec<u64>,
    /// The records' indexes grouped by shard, and where each shard's
    /// group ends.
    by_shard: Vec<u32>,
    shard_ends: [usize; SHARDS],
}

/// The table is split by hash into shards that are filled one after the
/// other, each small enough to stay in cache: one table of a million
/// entries missed the cache on nearly every insert, and adding took twice
/// as long.
const SHARDS: usize = 32;

/// Bits 40 to 44 of a key's hash pick its shard; bits 0 to 31 are its tag.
fn shard(h: u64) -> usize {
    (h >> 40) as usize % SHARDS
}

/// A table entry: a record's number and its key's tag. Most entries a
/// lookup meets share none of its hash, and comparing tags spares reading
/// their records (a cache miss each); the table places entries by their
/// tag alone, so it grows without looking anything up.
type Entry = (u32, u32);

fn tag(h: u64) -> u32 {
    h as u32
}

fn placed(&(_, tag): &Entry) -> u64 {
    u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The sign-ins kept so far and the duplicates dropped per input.
///
/// The tables hold record numbers and tags, 8 bytes a slot; keys are
/// recomputed from the records when tags meet.
pub struct Unique {
    paths: Vec<String>,
    records: Vec<SignIn>,
    tables: Vec<HashTable<Entry>>,
    dropped: Vec<u64>,
}

impl Unique {
    /// `paths[i]` names input `i` (used only to break ties between
    /// duplicate copies).
    pub fn new(paths: Vec<String>) -> Unique {
        Unique {
            dropped: vec![0; paths.len()],
            paths,
            records: Vec::new(),
            tables: (0..SHARDS).map(|_| HashTable::new()).collect(),
        }
    }

    /// The records kept, in no particular order, and the duplicates
    /// dropped per input.
    pub fn finish(self) -> (Vec<SignIn>, Vec<u64>) {
        (self.records, self.dropped)
    }
}

fn count_dropped(dropped: &mut [u64], r: &SignIn) {
    if let Some(d) = dropped.get_mut(r.source_file as usize) {
        *d += 1;
    }
}

impl Collect for Unique {
    type Batch = Hashed;

    fn prepare(records: Vec<SignIn>) -> Hashed {
        let hashes: Vec<u64> = records
            .par_iter()
            .map(|r| HASHER.hash_one(key(r)))
            .collect();
        let mut shard_ends = [0; SHARDS];
        for &h in &hashes {
            shard_ends[shard(h)] += 1;
        }
        let mut next = [0; SHARDS];
        let mut end = 0;
        for (s, e) in shard_ends.iter_mut().enumerate() {
            next[s] = end;
            end += *e;
            *e = end;
        }
        let mut by_shard = vec![0u32; hashes.len()];
        for (i, &h) in hashes.iter().enumerate() {
            let s = shard(h);
            by_shard[next[s]] = i as u32;
            next[s] += 1;
        }
        Hashed {
            records,
            hashes,
            by_shard,
            shard_ends,
        }
    }

    fn add(&mut self, batch: Hashed) {
        let Hashed {
            records: mut incoming,
            hashes: mut incoming_hashes,
            by_shard,
            shard_ends,
        } = batch;
        let Unique {
            paths,
            records,
            tables,
            dropped,
        } = self;
        let base = records.len();
        // Record numbers are 4 bytes: four billion sign-ins would take
        // 1.5 TB of records, so a run runs out of memory long before.
        debug_assert!(base + incoming.len() <= u32::MAX as usize);
        // While the input is added, its record `i` is number `base + i`.
        let mut alive = vec![true; incoming.len()];
        let mut start = 0;
        for (table, &end) in tables.iter_mut().zip(&shard_ends) {
            table.reserve(end - start, placed);
            for &i in &by_shard[start..end] {
                let i = i as usize;
                let t = tag(incoming_hashes[i]);
                let at = |j: u32| match (j as usize).checked_sub(base) {
                    Some(i) => &incoming[i],
                    None => &records[j as usize],
                };
                // Keys are compared only when tags meet: reading the
                // record for every insert would miss the cache as often
                // as one big table did.
                let found = table.find_entry(placed(&(0, t)), |&(j, u)| {
                    u == t && key(at(j)) == key(&incoming[i])
                });
                let Ok(mut entry) = found else {
                    table.insert_unique(placed(&(0, t)), ((base + i) as u32, t), placed);
                    continue;
                };
                let j = entry.get().0 as usize;
                let kept = at(j as u32);
                if preference(&incoming[i], kept, paths) != Ordering::Less {
                    count_dropped(dropped, &incoming[i]);
                    alive[i] = false;
                } else if j >= base {
                    // It beats a copy from the same input.
                    count_dropped(dropped, kept);
                    alive[j - base] = false;
                    entry.get_mut().0 = (base + i) as u32;
                } else {
                    // It beats a copy kept from an earlier input and takes
                    // its place; the copy it replaces is the one dropped.
                    std::mem::swap(&mut records[j], &mut incoming[i]);
                    count_dropped(dropped, &incoming[i]);
                    alive[i] = false;
                }
            }
            start = end;
        }
        // Close up the input's dropped records; `rank[i]` is where record
        // `i` of the input ends up among the input's kept ones.
        let mut rank = vec![u32::MAX; incoming.len()];
        let mut kept = 0;
        for i in 0..incoming.len() {
            if alive[i] {
                rank[i] = kept as u32;
                if kept != i {
                    incoming.swap(kept, i);
                    incoming_hashes.swap(kept, i);
                }
                kept += 1;
            }
        }
        incoming.truncate(kept);
        incoming_hashes.truncate(kept);
        if kept <= base {
            for (i, &r) in rank.iter().enumerate() {
                if r != u32::MAX && r as usize != i {
                    let old = (base + i) as u32;
                    let h = incoming_hashes[r as usize];
                    let at = placed(&(0, tag(h)));
                    if let Some(slot) = tables[shard(h)].find_mut(at, |&(j, _)| j == old) {
                        slot.0 = base as u32 + r;
                    }
                }
            }
            records.append(&mut incoming);
        } else {
            // The input keeps more than all before it: those join its
            // vector rather than it theirs, so the largest vector of a run
            // is never copied. Everything is renumbered, the earlier
            // records after the input's.
            for (j, _) in tables.iter_mut().flat_map(HashTable::iter_mut) {
                *j = match (*j as usize).checked_sub(base) {
                    Some(i) => rank[i],
                    None => *j + kept as u32,
                };
            }
            std::mem::swap(records, &mut incoming);
            records.append(&mut incoming);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFormat;
    use std::collections::HashMap;

    fn rec(id: &str, t: i64, code: i64, fmt: SourceFormat, file: u32) -> SignIn {
        SignIn {
            request_id: id.into(),
            time_us: t,
            error_code: code,
            source_format: Some(fmt),
            source_file: file,
            ..Default::default()
        }
    }

    /// The records of `recs` added input by input in `order`, finished and
    /// sorted by (time, format, file, record).
    fn unique_in_order(
        recs: &[SignIn],
        paths: &[String],
        order: &[u32],
    ) -> (Vec<SignIn>, Vec<u64>) {
        let mut u = Unique::new(paths.to_vec());
        for &input in order {
            let mine: Vec<SignIn> = recs
                .iter()
                .filter(|r| r.source_file == input)
                .cloned()
                .collect();
            u.add(Unique::prepare(mine));
        }
        let (mut kept, dropped) = u.finish();
        kept.sort_by_key(|r| {
            (
                r.time_us,
                r.source_format.map(|f| f.richness_rank()),
                r.source_file,
                r.source_record,
            )
        });
        (kept, dropped)
    }

    #[test]
    fn the_preferred_copy_is_kept_whatever_order_the_inputs_arrive_in() {
        // Thousands of sign-ins, each seen one to four times in different
        // formats and files, some twice in one file: adding the inputs in
        // any order, or all at once, keeps exactly the copy a plain search
        // for the most preferred one keeps, and counts the rest against the
        // files they came from.
        let paths: Vec<String> = (0..4).map(|i| format!("export-{i}")).collect();
        let formats = [
            SourceFormat::PortalCsv,
            SourceFormat::GraphJson,
            SourceFormat::PurviewAudit,
            SourceFormat::AzureMonitor,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut recs = Vec::new();
        for i in 0..5000 {
            for c in 0..=next(4) {
                let mut r = rec(
                    &format!("req-{i}"),
                    i * 1_000_000 + 7,
                    0,
                    formats[next(4) as usize],
                    // Inputs of about 1, 2, 3 and 8 parts in 14: added in
                    // order, some keep more than every input before them
                    // and some fewer, which are added two different ways.
                    [0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3][next(14) as usize],
                );
                r.source_record = c * 10 + next(10);
                recs.push(r);
            }
        }
        let mut want: HashMap<i64, &SignIn> = HashMap::new();
        for r in &recs {
            let best = want.entry(r.time_us).or_insert(r);
            if preference(r, best, &paths) == Ordering::Less {
                *best = r;
            }
        }
        let mut dropped = vec![0u64; paths.len()];
        for r in &recs {
            if !std::ptr::eq(want[&r.time_us], r) {
                dropped[r.source_file as usize] += 1;
            }
        }
        let mut kept: Vec<SignIn> = want.into_values().cloned().collect();
        kept.sort_by_key(|r| r.time_us);
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1]] {
            let (got, got_dropped) = unique_in_order(&recs, &paths, &order);
            assert_eq!(got.len(), 5000, "{order:?}");
            assert_eq!(got_dropped, dropped, "{order:?}");
            assert_eq!(got, kept, "{order:?}");
        }
        let mut all = Unique::new(paths.clone());
        all.add(Unique::prepare(recs.clone()));
        let (mut got, got_dropped) = all.finish();
        got.sort_by_key(|r| r.time_us);
        assert_eq!((got, got_dropped), (kept, dropped));
    }

    #[test]
    fn an_input_of_nothing_but_duplicates_adds_nothing() {
        let paths = vec!["a".to_string(), "b".to_string()];
        let mut u = Unique::new(paths);
        u.add(Unique::prepare(vec![rec(
            "r1",
            1,
            0,
            SourceFormat::GraphJson,
            0,
        )]));
        u.add(Unique::prepare(vec![
            rec("r1", 1, 0, SourceFormat::PortalCsv, 1),
            rec("r1", 1, 0, SourceFormat::PortalCsv, 1),
        ]));
        assert_eq!(u.records.len(), 1);
        let (kept, dropped) = u.finish();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].source_format, Some(SourceFormat::GraphJson));
        assert_eq!(dropped, vec![0, 2]);
    }
}
