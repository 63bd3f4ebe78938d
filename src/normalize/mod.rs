//! Normalize: one de-duplicated, time-ordered set of sign-ins, and the
//! polars table built from it.
//!
//! The same sign-in seen twice (overlapping exports, or one event in two
//! formats) is kept once. The key is the sign-in's request id with its time
//! truncated to the second and its error code: formats carry different
//! time precision (Graph 100 ns, Log Analytics ms, the audit log s), and
//! one request id can carry several rows with different codes (an MFA
//! interrupt, then a success). Rows without a request id fall back to
//! (second, user, IP, code, app, type). Of duplicates, the copy from the
//! richest format wins, then the lowest input path and record number, so
//! the result never depends on file order.

pub mod table;

use crate::model::{AuthDetail, Id, SignIn, SignInType, StatusClass, Text};
use crate::trace::Stage;
use hashbrown::HashTable;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasher;

pub use table::to_dataframe;

/// The de-duplicated sign-ins, sorted by time (then request id, code,
/// user) so every later stage sees the same order.
#[derive(Debug, Default)]
pub struct Normalized {
    pub records: Vec<SignIn>,
    /// Duplicates dropped, per input index.
    pub duplicates_by_input: Vec<u64>,
}

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

/// Orders records by preference among duplicates.
fn preference(a: &SignIn, b: &SignIn, paths: &[String]) -> Ordering {
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

/// Final, deterministic order of the kept records. It is total over them:
/// two records equal in all of these would have the same de-duplication
/// key, and only one of them is kept.
pub fn output_order(a: &SignIn, b: &SignIn) -> Ordering {
    (
        a.time_us,
        &a.request_id,
        a.error_code,
        &a.user_principal_name,
        &a.ip,
        &a.app_id,
        a.sign_in_type.as_str(),
    )
        .cmp(&(
            b.time_us,
            &b.request_id,
            b.error_code,
            &b.user_principal_name,
            &b.ip,
            &b.app_id,
            b.sign_in_type.as_str(),
        ))
}

/// The first eight bytes of `s` as a number, zero-padded: when two
/// numbers differ, they order as the strings do (where they differ, the
/// shorter string has ended, so it is a prefix of the other, or has the
/// smaller byte); equal numbers say nothing.
fn prefix_key(s: &str) -> u64 {
    let mut head = [0u8; 8];
    let n = s.len().min(8);
    head[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_be_bytes(head)
}

/// De-duplicates `records`; `paths[i]` names input `i` (used only to break
/// ties between duplicate copies). AuthDetails rows fill in the MFA method
/// and result of the sign-in with the same request id where those are
/// empty.
pub fn normalize(
    mut records: Vec<SignIn>,
    auth_details: &[AuthDetail],
    paths: &[String],
) -> Normalized {
    records.par_iter_mut().for_each(|r| {
        // Graph and the portal write the placeholder "Other." on
        // successes; it is not a failure reason.
        if r.status == StatusClass::Success
            && matches!(r.failure_reason.as_str(), "Other." | "Other")
        {
            r.failure_reason = Text::default();
        }
    });
    // One read of each record gives its de-duplication hash and its sort
    // key: the time, then the first bytes of the request id (the next
    // field of `output_order`), which sit beside the id's interned hash
    // that the de-duplication key reads anyway.
    // foldhash rather than SipHash (4% of a CSV ingest, hashing 36-byte
    // ids); it is seeded per process, so crafted ids cannot aim collisions.
    let hasher = foldhash::fast::RandomState::default();
    let part = Stage::start("part: de-duplicate");
    let (hashes, sort_keys): (Vec<u64>, Vec<(i64, u64)>) = records
        .par_iter()
        .map(|r| {
            (
                hasher.hash_one(key(r)),
                (r.time_us, prefix_key(&r.request_id)),
            )
        })
        .unzip();
    let (keep, duplicates_by_input) = first_of_each(&records, &hashes, paths);
    drop(hashes);
    drop(part);
    let part = Stage::start("part: sort");
    // Sort the compact keys, then order each run of equal keys fully:
    // comparing whole records means a cache miss per comparison, and
    // exports with whole-second times put several sign-ins in a second.
    let mut timed: Vec<(i64, u64, u32)> = sort_keys
        .par_iter()
        .zip(&keep)
        .enumerate()
        .filter(|(_, (_, &k))| k)
        .map(|(i, (&(time, id), _))| (time, id, i as u32))
        .collect();
    drop(keep);
    drop(sort_keys);
    timed.par_sort_unstable();
    timed
        .par_chunk_by_mut(|a, b| (a.0, a.1) == (b.0, b.1))
        .filter(|run| run.len() > 1)
        .for_each(|run| {
            run.sort_unstable_by(|a, b| {
                output_order(&records[a.2 as usize], &records[b.2 as usize])
            });
        });
    let order: Vec<u32> = timed.into_iter().map(|(_, _, i)| i).collect();
    drop(part);
    let part = Stage::start("part: reorder");
    let mut kept = permute(records, &order);
    drop(part);
    let _part = Stage::start("part: auth details and lockouts");
    if !auth_details.is_empty() {
        join_auth_details(&mut kept, auth_details);
    }
    crate::model::lockout::settle(&mut kept);
    Normalized {
        records: kept,
        duplicates_by_input,
    }
}

/// Which records to keep (`keep[i]`), and the duplicates dropped per
/// input; `hashes[i]` is the hash of record i's de-duplication key.
///
/// One pass with a hash table rather than a sort: records are a few
/// hundred bytes, and grouping needs only equality. The tables hold record
/// indexes only (keys are recomputed from the records), 4 bytes a slot
/// instead of a copy of every key. Records are split into shards by hash,
/// so duplicates always meet in the same shard, and the shards run on the
/// pool: the serial loop was half of this stage. Which copy wins does not
/// depend on the split, since [`preference`] is a total order.
fn first_of_each(records: &[SignIn], hashes: &[u64], paths: &[String]) -> (Vec<bool>, Vec<u64>) {
    let mut shards: Vec<Vec<(u64, u32)>> = vec![Vec::new(); SHARDS];
    for (i, &h) in hashes.iter().enumerate() {
        // Middle bits: hashbrown places an entry by the low bits and tags
        // it with the top seven, and a shard's members share these.
        shards[(h >> SHARD_SHIFT) as usize % SHARDS].push((h, i as u32));
    }
    let kept: Vec<(Vec<u32>, Vec<u64>)> = shards
        .into_par_iter()
        .map(|members| {
            let mut dropped = vec![0u64; paths.len()];
            let mut drop_one = |r: &SignIn| {
                if let Some(d) = dropped.get_mut(r.source_file as usize) {
                    *d += 1;
                }
            };
            // A shard's members are scattered over the records: read a
            // record only when its hash meets another's (rarely, unless
            // it is a duplicate).
            let mut best: HashTable<u32> = HashTable::with_capacity(members.len());
            for &(h, i) in &members {
                let r = &records[i as usize];
                let same = |&j: &u32| key(&records[j as usize]) == key(r);
                match best.find_entry(h, same) {
                    Ok(mut o) => {
                        let kept = &records[*o.get() as usize];
                        if preference(r, kept, paths) == Ordering::Less {
                            drop_one(kept);
                            *o.get_mut() = i;
                        } else {
                            drop_one(r);
                        }
                    }
                    Err(_) => {
                        best.insert_unique(h, i, |&j| hashes[j as usize]);
                    }
                }
            }
            (best.into_iter().collect(), dropped)
        })
        .collect();
    let mut keep = vec![false; records.len()];
    let mut duplicates_by_input = vec![0u64; paths.len()];
    for (indexes, dropped) in kept {
        for i in indexes {
            keep[i as usize] = true;
        }
        for (total, d) in duplicates_by_input.iter_mut().zip(dropped) {
            *total += d;
        }
    }
    (keep, duplicates_by_input)
}

const SHARDS: usize = 32;
const SHARD_SHIFT: u32 = 40;

/// `records[order[0]], records[order[1]], ...`, reusing `records`' memory
/// so the largest allocation of a run is never held twice.
fn permute(mut records: Vec<SignIn>, order: &[u32]) -> Vec<SignIn> {
    // `at[k]` is where the record wanted at position k is now; `slot[j]`
    // is the position whose record sits at j. Each swap puts one record
    // in its final place.
    let mut at: Vec<u32> = order.to_vec();
    let mut slot: Vec<u32> = vec![u32::MAX; records.len()];
    for (k, &j) in order.iter().enumerate() {
        slot[j as usize] = k as u32;
    }
    for k in 0..order.len() {
        let j = at[k] as usize;
        if j != k {
            records.swap(k, j);
            // What was at k moved to j.
            let displaced = slot[k];
            if displaced != u32::MAX {
                at[displaced as usize] = j as u32;
            }
            slot[j] = displaced;
        }
        slot[k] = k as u32;
    }
    records.truncate(order.len());
    records
}

/// Takes the first non-password step per request (steps sorted so the
/// choice does not depend on file order).
fn join_auth_details(records: &mut [SignIn], details: &[AuthDetail]) {
    let mut sorted: Vec<&AuthDetail> = details.iter().collect();
    sorted.sort();
    // Looked up once per sign-in without MFA detail: hashed, and from
    // every thread. Which step wins is fixed by the sort above.
    let mut by_request: HashMap<&str, &AuthDetail, foldhash::fast::RandomState> =
        HashMap::default();
    for d in sorted {
        if d.method.is_empty()
            || d.method.eq_ignore_ascii_case("password")
            || d.method.eq_ignore_ascii_case("previously satisfied")
        {
            continue;
        }
        by_request.entry(d.request_id.as_str()).or_insert(d);
    }
    if by_request.is_empty() {
        return;
    }
    records.par_iter_mut().for_each(|r| {
        if !r.mfa_method.is_empty() {
            return;
        }
        if let Some(d) = by_request.get(r.request_id.as_str()) {
            r.mfa_method = Text::from(d.method.as_str());
            r.mfa_result = if d.result_detail.is_empty() {
                match d.succeeded {
                    Some(true) => "succeeded".into(),
                    Some(false) => "failed".into(),
                    None => Text::default(),
                }
            } else {
                Text::from(d.result_detail.as_str())
            };
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFormat;

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

    #[test]
    fn request_id_prefixes_order_as_the_ids_do() {
        // Short ids, ids with NUL bytes and ids that share their first
        // eight bytes: a prefix order that disagreed with the string
        // order would change the output order.
        let ids = [
            "",
            "\0",
            "a",
            "a\0",
            "a\0\0",
            "ab",
            "abcdefgh",
            "abcdefgh0",
            "abcdefgi",
            "b",
            "0000aaaa-1",
            "0000aaaa-0",
            "ffffffff",
            "\u{e9}",
        ];
        for a in ids {
            for b in ids {
                let (pa, pb) = (prefix_key(a), prefix_key(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
        // Sign-ins in one second sort by request id, whether their ids
        // differ in the first eight bytes or only after them.
        let recs = vec![
            rec("b-2", 2, 0, SourceFormat::GraphJson, 0),
            rec("abcdefgh-2", 1, 0, SourceFormat::GraphJson, 0),
            rec("abcdefgh-1", 1, 0, SourceFormat::GraphJson, 0),
            rec("a", 1, 0, SourceFormat::GraphJson, 0),
            rec("z", 0, 0, SourceFormat::GraphJson, 0),
        ];
        let n = normalize(recs, &[], &["a.json".to_string()]);
        let got: Vec<&str> = n.records.iter().map(|r| r.request_id.as_str()).collect();
        assert_eq!(got, ["z", "a", "abcdefgh-1", "abcdefgh-2", "b-2"]);
    }

    #[test]
    fn same_sign_in_in_two_formats_is_kept_once_richest_wins() {
        let paths = vec!["a.csv".to_string(), "b.json".to_string()];
        let recs = vec![
            rec("r1", 1_000_000, 0, SourceFormat::PurviewAudit, 0),
            rec("r1", 1_456_789, 0, SourceFormat::GraphJson, 1),
            rec("r1", 1_456_789, 50074, SourceFormat::GraphJson, 1),
            rec("r2", 9_000_000, 50126, SourceFormat::PortalCsv, 0),
        ];
        let n = normalize(recs.clone(), &[], &paths);
        assert_eq!(n.records.len(), 3);
        assert_eq!(n.duplicates_by_input, vec![1, 0]);
        assert!(n.records.iter().any(|r| r.request_id == "r1"
            && r.error_code == 0
            && r.source_format == Some(SourceFormat::GraphJson)));
        // Order of input does not matter.
        let mut rev = recs;
        rev.reverse();
        assert_eq!(normalize(rev, &[], &paths).records, n.records);
    }

    #[test]
    fn many_duplicates_across_shards_keep_the_preferred_copy() {
        // Thousands of sign-ins, each seen one to four times in different
        // formats and files: the sharded pass must keep exactly the copy a
        // plain search for the most preferred one keeps, and count the rest
        // against the files they came from.
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
                let f = next(4) as usize;
                let mut r = rec(
                    &format!("req-{i}"),
                    i * 1_000_000 + 7,
                    0,
                    formats[f],
                    next(4) as u32,
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
        kept.sort_by(output_order);
        let n = normalize(recs.clone(), &[], &paths);
        assert_eq!(n.records.len(), 5000);
        assert_eq!(n.duplicates_by_input, dropped);
        assert_eq!(n.records, kept);
    }

    #[test]
    fn permute_gathers_any_subset_in_any_order() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for len in [0usize, 1, 2, 3, 10, 257] {
            for _ in 0..20 {
                let recs: Vec<SignIn> = (0..len)
                    .map(|i| rec(&format!("r{i}"), i as i64, 0, SourceFormat::GraphJson, 0))
                    .collect();
                // A random subset (what de-duplication keeps) in random order.
                let mut order: Vec<u32> = (0..len as u32).filter(|_| next(4) != 0).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, next(i + 1));
                }
                let want: Vec<SignIn> = order.iter().map(|&i| recs[i as usize].clone()).collect();
                assert_eq!(permute(recs, &order), want, "len {len}, order {order:?}");
            }
        }
    }

    #[test]
    fn auth_details_fill_mfa() {
        let recs = vec![rec("r1", 1, 0, SourceFormat::PortalCsv, 0)];
        let d = vec![
            AuthDetail {
                request_id: "r1".into(),
                method: "Password".into(),
                succeeded: Some(true),
                result_detail: String::new(),
            },
            AuthDetail {
                request_id: "r1".into(),
                method: "Mobile app notification".into(),
                succeeded: Some(true),
                result_detail: "MFA completed in Azure AD".into(),
            },
        ];
        let n = normalize(recs, &d, &["x".into()]);
        assert_eq!(n.records[0].mfa_method, "Mobile app notification");
        assert_eq!(n.records[0].mfa_result, "MFA completed in Azure AD");
    }
}
