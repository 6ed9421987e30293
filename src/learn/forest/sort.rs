//! Sorting a node's `(rank << 32) | position` keys: a least-significant-digit radix sort on
//! the rank bits for large nodes, the standard library's unstable sort for small ones.
//!
//! Keys are filled in position order, so a *stable* sort on the rank alone yields the same
//! order as sorting the whole key. The radix sort uses only the bits of `rank - min_rank`
//! (`b` bits), in `ceil(b / 11)` passes of equal digit width: each pass is one histogram and
//! one scatter, `O(n)` work, against `O(n log n)` comparisons for a comparison sort.

/// Nodes smaller than this use the comparison sort.
const RADIX_MIN: usize = 192;
/// Widest digit (2^11 = 2048 counters, 16 KiB).
const MAX_DIGIT: u32 = 11;

/// Sorts `keys` ascending; ranks lie in `lo..=hi`; `tmp` is scratch of at least `keys.len()`.
pub fn sort_keys(keys: &mut [u64], tmp: &mut [u64], lo: u32, hi: u32) {
    let n = keys.len();
    if n < RADIX_MIN {
        keys.sort_unstable();
        return;
    }
    let bits = u32::BITS - (hi - lo).leading_zeros();
    if bits == 0 {
        return;
    }
    let passes = bits.div_ceil(MAX_DIGIT);
    let digit = bits.div_ceil(passes);
    let mask = (1u64 << digit) - 1;
    let lo = u64::from(lo);
    let tmp = &mut tmp[..n];
    let mut counts = [0usize; 1 << MAX_DIGIT];
    let (mut src, mut dst): (&mut [u64], &mut [u64]) = (keys, tmp);
    for pass in 0..passes {
        let shift = pass * digit;
        let counts = &mut counts[..1 << digit];
        counts.fill(0);
        for &k in src.iter() {
            counts[(((k >> 32) - lo) >> shift & mask) as usize] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let v = *c;
            *c = sum;
            sum += v;
        }
        for &k in src.iter() {
            let b = (((k >> 32) - lo) >> shift & mask) as usize;
            dst[counts[b]] = k;
            counts[b] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    if passes % 2 == 1 {
        // the result is in the scratch buffer
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn radix_equals_comparison_sort(ranks in prop::collection::vec(0u32..200_000, 0..2000), spread in 0u32..3) {
            let ranks: Vec<u32> = ranks.iter().map(|r| r >> (spread * 7)).collect();
            let mut keys: Vec<u64> = ranks.iter().enumerate().map(|(p, &r)| (u64::from(r) << 32) | p as u64).collect();
            let mut want = keys.clone();
            want.sort_unstable();
            let (lo, hi) = (ranks.iter().copied().min().unwrap_or(0), ranks.iter().copied().max().unwrap_or(0));
            let mut tmp = vec![0u64; keys.len()];
            sort_keys(&mut keys, &mut tmp, lo, hi);
            prop_assert_eq!(keys, want);
        }
    }
}
