//! Which bytes of a 64-byte block are among a few wanted ones, as a bit
//! mask: what the CSV and JSON framers need to skip everything else.

/// Bit `i` set when `block[i]` (at most 64 bytes) is one of `wanted`.
pub(super) fn mask64<const N: usize>(block: &[u8], wanted: [u8; N]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if block.len() == 64 {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86-64 itself (no runtime check needed),
        // and the four 16-byte loads stay inside the 64-byte block.
        unsafe {
            let mut mask = 0u64;
            for lane in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * lane) as *const __m128i);
                let hit = wanted.iter().fold(_mm_setzero_si128(), |acc, &b| {
                    _mm_or_si128(acc, _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)))
                });
                mask |= (_mm_movemask_epi8(hit) as u16 as u64) << (16 * lane);
            }
            return mask;
        }
    }
    block.iter().take(64).enumerate().fold(
        0,
        |m, (i, c)| {
            if wanted.contains(c) {
                m | 1 << i
            } else {
                m
            }
        },
    )
}

/// The bytes the JSON framer looks for in one 64-byte block, each kind as
/// a bit mask (bit `i` for byte `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JsonBytes {
    pub backslash: u64,
    pub quote: u64,
    pub newline: u64,
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
}

/// The widest vectors this CPU has for [`json_bytes`], found once per
/// input. With SSE2 alone a block is four 16-byte pieces, each compared
/// and folded into a mask per kind; AVX2 takes two pieces, and AVX-512
/// one, its compares giving the masks directly. The framer looks at every
/// byte of a JSON input: on rich records it was about a tenth of all CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lanes {
    Sse2,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Lanes {
    pub(super) fn detect() -> Lanes {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512bw") {
                return Lanes::Avx512;
            }
            if is_x86_feature_detected!("avx2") {
                return Lanes::Avx2;
            }
        }
        Lanes::Sse2
    }
}

/// [`JsonBytes`] of `block` (at most 64 bytes), with the vectors `lanes`
/// (from [`Lanes::detect`]).
pub(super) fn json_bytes(block: &[u8], lanes: Lanes) -> JsonBytes {
    #[cfg(target_arch = "x86_64")]
    if let Ok(block) = <&[u8; 64]>::try_from(block) {
        match lanes {
            // SAFETY: `Lanes::detect` chose these only when the CPU has them.
            Lanes::Avx512 => return unsafe { json_bytes_avx512(block) },
            Lanes::Avx2 => return unsafe { json_bytes_avx2(block) },
            Lanes::Sse2 => {}
        }
    }
    let _ = lanes;
    JsonBytes {
        backslash: mask64(block, [b'\\']),
        quote: mask64(block, [b'"']),
        newline: mask64(block, [b'\n']),
        open: mask64(block, [b'{', b'[']),
        close: mask64(block, [b'}', b']']),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn json_bytes_avx2(block: &[u8; 64]) -> JsonBytes {
    use std::arch::x86_64::*;
    // SAFETY: both 32-byte loads lie inside the 64-byte block.
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr() as *const __m256i),
            _mm256_loadu_si256(block.as_ptr().add(32) as *const __m256i),
        )
    };
    let eq = |v: __m256i, c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
    let bits = |l: __m256i, h: __m256i| {
        _mm256_movemask_epi8(l) as u32 as u64 | (_mm256_movemask_epi8(h) as u32 as u64) << 32
    };
    let one = |c: u8| bits(eq(lo, c), eq(hi, c));
    let two = |a: u8, b: u8| {
        bits(
            _mm256_or_si256(eq(lo, a), eq(lo, b)),
            _mm256_or_si256(eq(hi, a), eq(hi, b)),
        )
    };
    JsonBytes {
        backslash: one(b'\\'),
        quote: one(b'"'),
        newline: one(b'\n'),
        open: two(b'{', b'['),
        close: two(b'}', b']'),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
fn json_bytes_avx512(block: &[u8; 64]) -> JsonBytes {
    use std::arch::x86_64::*;
    // SAFETY: the 64-byte load is the block.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr() as *const __m512i) };
    let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
    JsonBytes {
        backslash: eq(b'\\'),
        quote: eq(b'"'),
        newline: eq(b'\n'),
        open: eq(b'{') | eq(b'['),
        close: eq(b'}') | eq(b']'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_and_the_short_path_agree() {
        let block: Vec<u8> = (0..64u8).map(|i| b"a,\"\n{x"[i as usize % 6]).collect();
        let wide = mask64(&block, [b',', b'"', b'\n']);
        let short = mask64(&block[..63], [b',', b'"', b'\n']) | (wide & 1 << 63);
        assert_eq!(wide, short);
        assert_eq!(wide.count_ones(), 33);
        assert_eq!(wide & 0b111111, 0b001110);
    }

    #[test]
    fn every_vector_width_finds_the_same_json_bytes() {
        let mut widths = vec![Lanes::Sse2];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                widths.push(Lanes::Avx2);
            }
            if is_x86_feature_detected!("avx512bw") {
                widths.push(Lanes::Avx512);
            }
        }
        // Random bytes, about a third of them wanted ones.
        let wanted = b"\\\"\n{[}]";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..2000 {
            let block: Vec<u8> = (0..64)
                .map(|i| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (state >> 33) as usize;
                    if r.is_multiple_of(3) {
                        wanted[r / 3 % wanted.len()]
                    } else {
                        ((r >> 8) as u8).wrapping_add((i as u8).wrapping_mul(round as u8))
                    }
                })
                .collect();
            let by_byte = |set: &[u8]| {
                block
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| set.contains(c))
                    .fold(0u64, |m, (i, _)| m | 1 << i)
            };
            let want = JsonBytes {
                backslash: by_byte(b"\\"),
                quote: by_byte(b"\""),
                newline: by_byte(b"\n"),
                open: by_byte(b"{["),
                close: by_byte(b"}]"),
            };
            for &lanes in &widths {
                assert_eq!(json_bytes(&block, lanes), want, "{lanes:?}");
                // A short last block takes the byte-wise path.
                let short = json_bytes(&block[..40], lanes);
                assert_eq!(short.quote, want.quote & ((1 << 40) - 1), "{lanes:?}");
            }
        }
    }
}
