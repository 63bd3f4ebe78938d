//! Read buffers kept from one input to the next.
//!
//! A folder of Azure Monitor blobs is hundreds of inputs of a few MB each.
//! When every input's framer and batches allocated their buffers afresh,
//! the kernel faulted in and zeroed several MiB per input (the buffers are
//! large enough for the allocator to map and unmap them each time): about
//! a fifth of all CPU time on 64 lean hourly blobs. Buffers handed back
//! here are reused whole, already initialised, by the next input.

use std::sync::Mutex;

/// At most this many buffers wait here: enough for the inputs a pool of
/// a few threads reads at once (a framer buffer and three batches each).
const KEPT: usize = 16;

struct Spare(Mutex<Vec<Vec<u8>>>);

impl Spare {
    fn take(&self) -> Vec<u8> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.pop().unwrap_or_default()
    }

    fn give(&self, buf: Vec<u8>) {
        if buf.is_empty() {
            return;
        }
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() < KEPT {
            kept.push(buf);
        }
    }

    fn release(&self) {
        let kept = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        drop(kept);
    }
}

static SPARE: Spare = Spare(Mutex::new(Vec::new()));

/// A buffer handed back before (its bytes are stale but initialised), or
/// an empty one.
pub(super) fn take() -> Vec<u8> {
    SPARE.take()
}

/// Keeps `buf` for the next input, unless enough are kept already.
pub(super) fn give(buf: Vec<u8>) {
    SPARE.give(buf)
}

/// Frees every kept buffer, once all inputs are read, so they do not add
/// to the memory held while the records are analysed.
pub(super) fn release() {
    SPARE.release()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_given_back_are_taken_again_whole_up_to_a_limit() {
        let spare = Spare(Mutex::new(Vec::new()));
        assert!(spare.take().is_empty());
        spare.give(Vec::new());
        assert!(spare.take().is_empty(), "an empty buffer is not kept");
        for i in 0..KEPT + 3 {
            spare.give(vec![i as u8; 100]);
        }
        let mut taken = Vec::new();
        loop {
            let b = spare.take();
            if b.is_empty() {
                break;
            }
            taken.push(b);
        }
        assert_eq!(taken.len(), KEPT);
        assert_eq!(taken[0], vec![KEPT as u8 - 1; 100]);
        spare.give(vec![1; 10]);
        spare.release();
        assert!(spare.take().is_empty());
    }
}
