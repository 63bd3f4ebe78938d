//! A progress line with throughput on standard error while inputs are read:
//! only on a terminal and never with `--quiet`.

use crate::ingest::source::BYTES_READ;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn start(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} reading {bytes} ({bytes_per_sec}) {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let start = BYTES_READ.load(Ordering::Relaxed);
        let watcher = bar.clone();
        std::thread::spawn(move || {
            while !watcher.is_finished() {
                watcher.set_position(BYTES_READ.load(Ordering::Relaxed) - start);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress(Some(bar))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
