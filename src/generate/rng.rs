//! Deterministic randomness for the generator: a SplitMix64 stream plus a
//! stable string hash.
//!
//! A crate would do, but the output must stay byte-identical for a seed
//! across dependency upgrades, so the algorithm lives here.

use std::fmt::Write as _;

/// SplitMix64 finaliser; also used to spread hash values.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stable 64-bit hash of a string (FNV-1a, then mixed). Writers use it to
/// derive per-record details (processing time, 7th fraction digit, port
/// numbers) from the record itself, so every format agrees without
/// carrying extra state.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// Hash of a string with a salt, for several independent derived values.
pub fn hash_salted(s: &str, salt: u64) -> u64 {
    mix(hash_str(s) ^ mix(salt.wrapping_add(0x9E37_79B9_7F4A_7C15)))
}

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix(seed ^ 0x005E_ED0F_E17A_51F7))
    }

    /// An independent stream, so one part of the generator can change how
    /// much it draws without shifting every other part.
    pub fn fork(&self, salt: u64) -> Rng {
        Rng(mix(self.0 ^ mix(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64) as i64
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// A random version-4 GUID in lowercase text form.
    pub fn guid(&mut self) -> String {
        guid_from(self.next_u64(), self.next_u64())
    }

    /// A request id shaped like Entra's: a version-4 GUID whose last byte is
    /// almost always `00` (the service numbers retries in that byte).
    pub fn request_id(&mut self) -> String {
        let hi = self.next_u64();
        let mut lo = self.next_u64() & !0xFF;
        if self.chance(0.06) {
            lo |= 1 + self.below(3);
        }
        guid_from(hi, lo)
    }
}

/// Formats two words as a version-4, RFC 4122 variant GUID.
pub fn guid_from(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    let mut s = String::with_capacity(36);
    let _ = write!(
        s,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    );
    s
}

/// A GUID that depends only on a text key (ids of policies, tenants, keys).
pub fn guid_for(key: &str) -> String {
    guid_from(hash_salted(key, 1), hash_salted(key, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_forks_differ() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut f1 = a.fork(1);
        let mut f2 = a.fork(2);
        assert_ne!(f1.next_u64(), f2.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(1);
        let mut seen = [false; 5];
        for _ in 0..500 {
            let v = r.below(5) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.range(4, 4), 4);
    }

    #[test]
    fn guids_are_version_4_and_request_ids_end_like_entra() {
        let mut r = Rng::new(3);
        for _ in 0..50 {
            let g = r.guid();
            assert_eq!(g.len(), 36);
            assert_eq!(&g[14..15], "4");
            assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"));
            let id = r.request_id();
            assert!(
                id.ends_with("00")
                    || id.ends_with("01")
                    || id.ends_with("02")
                    || id.ends_with("03")
            );
        }
        assert_eq!(guid_for("x"), guid_for("x"));
        assert_ne!(guid_for("x"), guid_for("y"));
    }
}
