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
//! [`Unique`] takes each input's records as soon as the input is read, so
//! a run over overlapping exports holds each sign-in once plus the inputs
//! in flight, never every copy: eight downloads of the same week cost what
//! one does. An input first drops its own copies (`prepare`, on the pool,
//! a shard per thread); then the smaller of it and the sign-ins kept so
//! far is looked up in the larger one's tables (`add`), and a copy that
//! beats the one kept takes its place in memory.

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

/// The table is split by hash into shards, each small enough to stay in
/// cache and filled one after the other (and, for one input, each on its
/// own thread): one table of a million entries missed the cache on nearly
/// every insert, and adding took twice as long.
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

/// Where the table places a key with tag `t`.
fn slot_hash(t: u32) -> u64 {
    u64::from(t).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Where the table places an entry, for it to grow by.
fn placed(&(_, t): &Entry) -> u64 {
    slot_hash(t)
}

/// Sign-ins, each once, and the tables that find them by key. Records
/// are numbered by their place in `records`.
#[derive(Default)]
struct Set {
    records: Vec<SignIn>,
    tables: Vec<HashTable<Entry>>,
}

/// One input's sign-ins, each once, worked out on the pool before they
/// join the others.
pub struct Prepared {
    set: Set,
    /// Copies dropped within the input, whose index is `file`.
    dropped: u64,
    file: u32,
}

/// The sign-ins kept so far and the duplicates dropped per input.
///
/// The tables hold record numbers and tags, 8 bytes a slot; keys are
/// recomputed from the records when tags meet.
pub struct Unique {
    paths: Vec<String>,
    set: Set,
    dropped: Vec<u64>,
}

impl Unique {
    /// `paths[i]` names input `i` (used only to break ties between
    /// duplicate copies).
    pub fn new(paths: Vec<String>) -> Unique {
        Unique {
            dropped: vec![0; paths.len()],
            paths,
            set: Set::default(),
        }
    }

    /// The records kept, in no particular order, and the duplicates
    /// dropped per input.
    pub fn finish(self) -> (Vec<SignIn>, Vec<u64>) {
        (self.set.records, self.dropped)
    }
}

fn count_dropped(dropped: &mut [u64], r: &SignIn) {
    if let Some(d) = dropped.get_mut(r.source_file as usize) {
        *d += 1;
    }
}

/// Removes the records not `alive` and returns where each one left ends
/// up (`u32::MAX` for the removed).
fn close_up(records: &mut Vec<SignIn>, alive: &[bool]) -> Vec<u32> {
    let mut rank = vec![u32::MAX; records.len()];
    let mut kept = 0;
    for i in 0..records.len() {
        if alive[i] {
            rank[i] = kept as u32;
            if kept != i {
                records.swap(kept, i);
            }
            kept += 1;
        }
    }
    records.truncate(kept);
    rank
}

impl Collect for Unique {
    type Batch = Prepared;

    /// Keeps each sign-in of one input once. All of `records` come from
    /// one input, so which copy wins needs no path.
    fn prepare(mut records: Vec<SignIn>) -> Prepared {
        let file = records.first().map_or(0, |r| r.source_file);
        debug_assert!(records.iter().all(|r| r.source_file == file));
        // Record numbers are 4 bytes: four billion sign-ins would take
        // 1.5 TB of records, so a run runs out of memory long before.
        debug_assert!(records.len() <= u32::MAX as usize);
        let hashes: Vec<u64> = records
            .par_iter()
            .map(|r| HASHER.hash_one(key(r)))
            .collect();
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); SHARDS];
        for (i, &h) in hashes.iter().enumerate() {
            members[shard(h)].push(i as u32);
        }
        let built: Vec<(HashTable<Entry>, Vec<u32>)> = members
            .into_par_iter()
            .map(|members| {
                let mut table = HashTable::with_capacity(members.len());
                let mut dead = Vec::new();
                for i in members {
                    let t = tag(hashes[i as usize]);
                    let r = &records[i as usize];
                    let found = table.find_entry(slot_hash(t), |&(j, u)| {
                        u == t && key(&records[j as usize]) == key(r)
                    });
                    match found {
                        Err(_) => {
                            table.insert_unique(slot_hash(t), (i, t), placed);
                        }
                        Ok(mut e) => {
                            let j = e.get().0;
                            if preference(r, &records[j as usize], &[]) == Ordering::Less {
                                dead.push(j);
                                e.get_mut().0 = i;
                            } else {
                                dead.push(i);
                            }
                        }
                    }
                }
                (table, dead)
            })
            .collect();
        let dropped: usize = built.iter().map(|(_, d)| d.len()).sum();
        let mut tables: Vec<HashTable<Entry>> = Vec::with_capacity(SHARDS);
        if dropped == 0 {
            tables.extend(built.into_iter().map(|(t, _)| t));
        } else {
            let mut alive = vec![true; records.len()];
            for (_, dead) in &built {
                for &i in dead {
                    alive[i as usize] = false;
                }
            }
            let rank = close_up(&mut records, &alive);
            tables.extend(built.into_iter().map(|(mut t, _)| {
                for (j, _) in t.iter_mut() {
                    *j = rank[*j as usize];
                }
                t
            }));
        }
        Prepared {
            set: Set { records, tables },
            dropped: dropped as u64,
            file,
        }
    }

    /// Merges an input's sign-ins into the kept ones: the smaller set is
    /// looked up in the larger one's tables (so the largest input of a
    /// run is neither copied nor indexed twice), and of two copies the
    /// preferred one stays.
    fn add(&mut self, batch: Prepared) {
        let Prepared {
            set: mut incoming,
            dropped,
            file,
        } = batch;
        if let Some(d) = self.dropped.get_mut(file as usize) {
            *d += dropped;
        }
        if incoming.records.len() > self.set.records.len() {
            std::mem::swap(&mut self.set, &mut incoming);
        }
        if incoming.records.is_empty() {
            return;
        }
        // The larger set stays where it is; the smaller one joins it.
        let big = &mut self.set;
        let Set {
            records: mut small_records,
            tables: small_tables,
        } = incoming;
        let mut alive = vec![true; small_records.len()];
        for (table, entries) in big.tables.iter().zip(&small_tables) {
            for &(s, t) in entries {
                let r = &small_records[s as usize];
                let found = table.find(slot_hash(t), |&(j, u)| {
                    u == t && key(&big.records[j as usize]) == key(r)
                });
                let Some(&(j, _)) = found else {
                    continue;
                };
                let (j, s) = (j as usize, s as usize);
                if preference(&small_records[s], &big.records[j], &self.paths) == Ordering::Less {
                    std::mem::swap(&mut big.records[j], &mut small_records[s]);
                }
                // The copy that lost now sits in the smaller set.
                count_dropped(&mut self.dropped, &small_records[s]);
                alive[s] = false;
            }
        }
        let rank = close_up(&mut small_records, &alive);
        let base = big.records.len() as u32;
        for (table, entries) in big.tables.iter_mut().zip(&small_tables) {
            table.reserve(entries.len(), placed);
            for &(s, t) in entries {
                let r = rank[s as usize];
                if r != u32::MAX {
                    table.insert_unique(slot_hash(t), (base + r, t), placed);
                }
            }
        }
        big.records.append(&mut small_records);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::rec;
    use super::*;
    use crate::model::SourceFormat;
    use std::collections::HashMap;

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
        // All at once, as `normalize` takes them.
        let n = super::super::normalize(recs.clone(), &[], &paths);
        assert_eq!((n.records, n.duplicates_by_input), (kept, dropped));
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
        assert_eq!(u.set.records.len(), 1);
        let (kept, dropped) = u.finish();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].source_format, Some(SourceFormat::GraphJson));
        assert_eq!(dropped, vec![0, 2]);
    }
}
