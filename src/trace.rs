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
    cpu: Option<f64>,
}

impl Stage {
    pub fn start(name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Stage {
            name: name.into(),
            start: Instant::now(),
            cpu: VERBOSE
                .load(Ordering::Relaxed)
                .then(process_cpu_secs)
                .flatten(),
        }
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let (name, secs) = (&self.name, self.start.elapsed().as_secs_f64());
        // The process's CPU time over the stage beside its wall time: how
        // well a stage used the threads (a part that runs beside others
        // is charged theirs too).
        let cpu = match (self.cpu, process_cpu_secs()) {
            (Some(a), Some(b)) => format!(", {:.3} s CPU", b - a),
            _ => String::new(),
        };
        detail(|| match peak_memory_mib() {
            Some(mib) => format!("{name}: {secs:.3} s{cpu} (peak memory so far {mib} MiB)"),
            None => format!("{name}: {secs:.3} s{cpu}"),
        });
    }
}

/// User plus system CPU seconds of the whole process, where the OS tells
/// it cheaply (Unix).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn process_cpu_secs() -> Option<f64> {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given and nothing else.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) } == 0;
    // SAFETY: zero-initialised, and filled by the call when it succeeded.
    let u = unsafe { u.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    ok.then(|| secs(u.ru_utime) + secs(u.ru_stime))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn process_cpu_secs() -> Option<f64> {
    None
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
