//! `-v/--verbose`: how long each stage of a run took, on standard error.
//! Commands time their stages, and the report folder its parts, through
//! this one switch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// `-v/--verbose`, set once by `main` before any command runs. A flag
/// rather than a parameter because every stage of every command reports
/// through it, and it never changes during a run.
static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// With `--verbose`, one line on standard error (`msg` is only built then).
pub fn detail(msg: impl FnOnce() -> String) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("entrasift: {}", msg());
    }
}

/// Times one pipeline stage; with `--verbose` its duration is reported
/// when it ends, so a slow run shows where the time went.
pub struct Stage {
    name: std::borrow::Cow<'static, str>,
    start: Instant,
}

impl Stage {
    pub fn start(name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Stage {
            name: name.into(),
            start: Instant::now(),
        }
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let (name, secs) = (&self.name, self.start.elapsed().as_secs_f64());
        detail(|| match peak_memory_mib() {
            Some(mib) => format!("{name}: {secs:.3} s (peak memory so far {mib} MiB)"),
            None => format!("{name}: {secs:.3} s"),
        });
    }
}

/// The process's peak resident memory, where the OS tells it (Linux):
/// shows which stage a large input makes grow.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}
