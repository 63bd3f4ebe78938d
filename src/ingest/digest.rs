//! SHA-256 of every input as read, optionally computed beside the reading
//! thread.
//!
//! Reading a CSV export is serial (one thread cuts rows while the pool maps
//! them), and on two cores that thread is what the ingest waits for;
//! hashing on it cost about a tenth of the wall time. So while a reader
//! holds [`offload_hashing`], the bytes it reads are queued in order, in
//! chunks, and hashed by a job on the worker pool whenever a thread is
//! free. SHA-256 is sequential: the hash state is locked for as long as a
//! chunk is taken off the queue and hashed, so chunks go in read order
//! whichever thread runs the job. Outside a pool of two or more threads,
//! and whenever the queue holds more than [`MAX_QUEUED`] bytes (the pool is
//! behind), the reading thread hashes itself, so memory stays bounded.
//!
//! JSON readers do not offload: their parsing already keeps the pool busy,
//! and there the copy into the queue and the colder cache made the ingest
//! 8% slower, where CSV gained 13%.

use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes read from all inputs so far in this process. The one piece of
/// global state: it lets a progress display watch every reader (files,
/// archive members, stdin, on any thread) without threading a callback
/// through the formats.
pub static BYTES_READ: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static OFFLOAD: Cell<bool> = const { Cell::new(false) };
}

/// While the guard lives, reads on this thread leave hashing to the pool.
pub(crate) struct Offload(bool);

pub(crate) fn offload_hashing() -> Offload {
    Offload(OFFLOAD.replace(true))
}

impl Drop for Offload {
    fn drop(&mut self) {
        OFFLOAD.set(self.0);
    }
}

/// Bytes gathered before they are queued as one chunk.
const CHUNK: usize = 1 << 18;
const MAX_QUEUED: usize = 1 << 24;
const SPARE_CHUNKS: usize = 8;

#[derive(Default)]
struct Queue {
    /// Bytes read but not yet queued (less than [`CHUNK`]).
    open: Vec<u8>,
    chunks: VecDeque<Vec<u8>>,
    queued: usize,
    /// A pool job has been spawned and has not yet found the queue empty.
    scheduled: bool,
    /// Hashed chunks kept for reuse.
    spare: Vec<Vec<u8>>,
    total: u64,
}

struct Shared {
    sha: Mutex<Sha256>,
    queue: Mutex<Queue>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while hashing leaves a hash that is merely incomplete; the
    // report still needs the rest of it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Hashes every queued chunk. `open` too when `all`: the input is done.
    fn drain(&self, all: bool) {
        let mut sha = lock(&self.sha);
        loop {
            let chunk = {
                let mut q = lock(&self.queue);
                match q.chunks.pop_front() {
                    Some(c) => {
                        q.queued -= c.len();
                        c
                    }
                    None if all && !q.open.is_empty() => std::mem::take(&mut q.open),
                    None => {
                        q.scheduled = false;
                        return;
                    }
                }
            };
            sha.update(&chunk);
            let mut q = lock(&self.queue);
            if q.spare.len() < SPARE_CHUNKS {
                let mut chunk = chunk;
                chunk.clear();
                q.spare.push(chunk);
            }
        }
    }
}

/// Counts and hashes every byte read through it, so the SHA-256 in the
/// report is of exactly what was analysed.
pub struct Hashing<R> {
    inner: R,
    shared: Arc<Shared>,
}

/// Wraps `inner`; the [`Digestor`] gives the hash of what was read.
pub fn hashing<R: Read>(inner: R) -> (Hashing<R>, Digestor) {
    let shared = Arc::new(Shared {
        sha: Mutex::new(Sha256::new()),
        queue: Mutex::new(Queue::default()),
    });
    (
        Hashing {
            inner,
            shared: shared.clone(),
        },
        Digestor(shared),
    )
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        BYTES_READ.fetch_add(n as u64, Ordering::Relaxed);
        let offload = OFFLOAD.get()
            && rayon::current_thread_index().is_some()
            && rayon::current_num_threads() > 1;
        let (spawn, behind) = {
            let mut q = lock(&self.shared.queue);
            q.total += n as u64;
            if !offload && q.chunks.is_empty() && q.open.is_empty() {
                // Nothing waits in the queue: hash in place, no copy. A
                // chunk a job already took is hashed under the lock taken
                // here, so it still goes first.
                drop(q);
                lock(&self.shared.sha).update(&buf[..n]);
                return Ok(n);
            }
            q.open.extend_from_slice(&buf[..n]);
            if q.open.len() < CHUNK && offload {
                return Ok(n);
            }
            let next = q.spare.pop().unwrap_or_default();
            let full = std::mem::replace(&mut q.open, next);
            q.queued += full.len();
            q.chunks.push_back(full);
            let behind = !offload || q.queued > MAX_QUEUED;
            let spawn = !behind && !q.scheduled;
            if spawn {
                q.scheduled = true;
            }
            (spawn, behind)
        };
        if behind {
            self.shared.drain(false);
        } else if spawn {
            let shared = self.shared.clone();
            rayon::spawn(move || shared.drain(false));
        }
        Ok(n)
    }
}

/// Handle to the hash of a stream being read.
#[derive(Clone)]
pub struct Digestor(Arc<Shared>);

impl Digestor {
    /// The hex SHA-256 and length of everything read so far.
    pub fn finish(&self) -> (String, u64) {
        self.0.drain(true);
        let sha = lock(&self.0.sha).clone();
        let total = lock(&self.0.queue).total;
        let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        (hex, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` through [`Hashing`] in reads of `step` bytes.
    fn hash_in_steps(data: &[u8], step: usize) -> (String, u64) {
        let _offload = offload_hashing();
        let (mut r, d) = hashing(data);
        let mut buf = vec![0; step];
        while r.read(&mut buf).unwrap() > 0 {}
        d.finish()
    }

    fn expected(data: &[u8]) -> String {
        Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn the_hash_is_of_the_bytes_in_read_order_on_any_pool() {
        // Enough chunks that the pool job, the reading thread and the
        // queue limit all take turns.
        let data: Vec<u8> = (0..(3 * MAX_QUEUED + 12_345) as u64)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let want = expected(&data);
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for step in [1000, 65_536, CHUNK + 7] {
                let got = pool.install(|| hash_in_steps(&data, step));
                assert_eq!(
                    got,
                    (want.clone(), data.len() as u64),
                    "{threads} threads, reads of {step}"
                );
            }
        }
        // Outside any pool, and for an input shorter than a chunk.
        assert_eq!(hash_in_steps(&data, 4096).0, want);
        assert_eq!(hash_in_steps(b"abc", 2), (expected(b"abc"), 3));
        assert_eq!(hash_in_steps(b"", 2), (expected(b""), 0));
        // Without the offload, on a pool.
        let plain = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let got = plain.install(|| {
            let (mut r, d) = hashing(&data[..]);
            std::io::copy(&mut r, &mut std::io::sink()).unwrap();
            d.finish()
        });
        assert_eq!(got, (want, data.len() as u64));
    }

    #[test]
    fn finish_part_way_covers_what_was_read() {
        let data = vec![7u8; CHUNK * 3];
        let (mut r, d) = hashing(&data[..]);
        let mut buf = vec![0; CHUNK + 100];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(d.finish(), (expected(&data[..n]), n as u64));
    }
}
