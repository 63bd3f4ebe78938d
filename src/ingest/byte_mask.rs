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
}
