//! Deterministic parallel helpers.
//!
//! The rule of the crate: parallelism comes only from rayon over *independent units* (rounds,
//! folds, trees, fixed-size row blocks), each drawing its randomness from its own position
//! (see [`crate::rng`]), and results are gathered **in index order**. Floating-point reductions
//! over units then run sequentially in that order, so the bits of every result are the same for
//! any number of threads. faer runs without its rayon feature, so its kernels are sequential.

use rayon::prelude::*;

/// Rows per block for row-parallel prediction. A constant, never derived from the thread
/// count, so any reduction over blocks has the same shape on every machine.
pub const ROW_BLOCK: usize = 4096;

/// `f(i)` for `i` in `0..n`, evaluated in parallel and returned in index order.
pub fn map_indexed<T: Send, F: Fn(usize) -> T + Sync + Send>(n: usize, f: F) -> Vec<T> {
    (0..n).into_par_iter().map(f).collect()
}

/// Like [`map_indexed`] for fallible work: the error of the lowest failing index is returned,
/// so the reported error does not depend on scheduling either.
pub fn try_map_indexed<T: Send, E: Send, F: Fn(usize) -> Result<T, E> + Sync + Send>(
    n: usize,
    f: F,
) -> Result<Vec<T>, E> {
    let results: Vec<Result<T, E>> = (0..n).into_par_iter().map(f).collect();
    results.into_iter().collect()
}

/// Calls `f(first_row, block)` on consecutive blocks of `out` of [`ROW_BLOCK`] rows, in
/// parallel. Each output element is written by exactly one call, so the result is
/// independent of the thread count.
pub fn for_each_row_block<F: Fn(usize, &mut [f64]) + Sync + Send>(out: &mut [f64], f: F) {
    for_each_block_of(out, ROW_BLOCK, f);
}

/// Like [`for_each_row_block`] with blocks of `rows` rows (at least 1), for callers whose best
/// block size depends on the shape of their data (not on the thread count).
pub fn for_each_block_of<F: Fn(usize, &mut [f64]) + Sync + Send>(out: &mut [f64], rows: usize, f: F) {
    let rows = rows.max(1);
    if out.len() <= rows {
        f(0, out);
        return;
    }
    out.par_chunks_mut(rows).enumerate().for_each(|(b, chunk)| f(b * rows, chunk));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_indexed_keeps_order() {
        let v = map_indexed(1000, |i| i * 2);
        assert!(v.iter().enumerate().all(|(i, &x)| x == 2 * i));
    }

    #[test]
    fn try_map_reports_lowest_error() {
        let r: Result<Vec<usize>, usize> = try_map_indexed(100, |i| if i % 10 == 7 { Err(i) } else { Ok(i) });
        assert_eq!(r, Err(7));
    }

    #[test]
    fn row_blocks_cover_every_row_once() {
        let mut out = vec![0.0; 3 * ROW_BLOCK + 5];
        for_each_row_block(&mut out, |start, block| {
            for (k, o) in block.iter_mut().enumerate() {
                *o += (start + k) as f64;
            }
        });
        assert!(out.iter().enumerate().all(|(i, &x)| x == i as f64));
        for rows in [0, 1, 7, 100, 1000] {
            let mut out = vec![0.0; 537];
            for_each_block_of(&mut out, rows, |start, block| {
                assert!(block.len() <= rows.max(1));
                for (k, o) in block.iter_mut().enumerate() {
                    *o += (start + k) as f64;
                }
            });
            assert!(out.iter().enumerate().all(|(i, &x)| x == i as f64), "blocks of {rows}");
        }
    }
}
