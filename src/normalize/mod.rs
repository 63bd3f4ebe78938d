//! Normalize: one de-duplicated, time-ordered set of sign-ins, and the
//! polars table built from it. `unique` keeps each sign-in once as the
//! inputs are read; this module puts them in order and fills in what one
//! record tells about another (MFA steps, the causes of lockouts).

pub mod table;
mod unique;

use crate::ingest::Collect;
use crate::model::{AuthDetail, SignIn, StatusClass, Text};
use crate::trace::Stage;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

pub use table::to_dataframe;
pub use unique::Unique;

/// The de-duplicated sign-ins, sorted by time (then request id, code,
/// user) so every later stage sees the same order.
#[derive(Debug, Default)]
pub struct Normalized {
    pub records: Vec<SignIn>,
    /// Duplicates dropped, per input index.
    pub duplicates_by_input: Vec<u64>,
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

/// De-duplicates `records`, then as [`normalize_unique`]; `paths[i]`
/// names input `i` (used only to break ties between duplicate copies).
pub fn normalize(
    records: Vec<SignIn>,
    auth_details: &[AuthDetail],
    paths: &[String],
) -> Normalized {
    let mut by_input: BTreeMap<u32, Vec<SignIn>> = BTreeMap::new();
    for r in records {
        by_input.entry(r.source_file).or_default().push(r);
    }
    let mut unique = Unique::new(paths.to_vec());
    for (_, records) in by_input {
        unique.add(Unique::prepare(records));
    }
    normalize_unique(unique, auth_details)
}

/// Puts the sign-ins `unique` kept in order. AuthDetails rows fill in the
/// MFA method and result of the sign-in with the same request id where
/// those are empty.
pub fn normalize_unique(unique: Unique, auth_details: &[AuthDetail]) -> Normalized {
    let (mut records, duplicates_by_input) = unique.finish();
    let part = Stage::start("part: sort");
    // Sort compact keys (the time, then the first bytes of the request id,
    // the next field of `output_order`), then order each run of equal keys
    // fully: comparing whole records means a cache miss per comparison,
    // and exports with whole-second times put several sign-ins in a second.
    let mut timed: Vec<(i64, u64, u32)> = records
        .par_iter_mut()
        .enumerate()
        .map(|(i, r)| {
            // Graph and the portal write the placeholder "Other." on
            // successes; it is not a failure reason.
            if r.status == StatusClass::Success
                && matches!(r.failure_reason.as_str(), "Other." | "Other")
            {
                r.failure_reason = Text::default();
            }
            (r.time_us, prefix_key(&r.request_id), i as u32)
        })
        .collect();
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

    /// A sign-in with only its de-duplication key, format and input set.
    pub(super) fn rec(id: &str, t: i64, code: i64, fmt: SourceFormat, file: u32) -> SignIn {
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
