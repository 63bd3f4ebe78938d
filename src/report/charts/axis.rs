//! The time axis of a chart: how a span is cut into bars and labelled.

use super::{DAY_US, HOUR_US};
use crate::model::time::format_time;

/// How the time axis of a chart is cut into bars and labelled.
pub(super) struct TimeAxis {
    pub(super) start_us: i64,
    pub(super) bucket_us: i64,
    pub(super) buckets: i64,
    /// Bucket indexes that get a tick label.
    pub(super) ticks: Vec<i64>,
    /// Tick labels show the time of day (ticks less than a day apart).
    pub(super) tick_has_time: bool,
}

impl TimeAxis {
    pub(super) fn new(first_us: i64, last_us: i64, max_buckets: i64, max_ticks: i64) -> Self {
        let span = last_us.saturating_sub(first_us).max(0);
        let bucket_us = if span <= 10 * DAY_US {
            HOUR_US
        } else if span <= max_buckets * DAY_US {
            DAY_US
        } else {
            // Long or corrupt spans: whole days per bar, capped bar count.
            (span / max_buckets / DAY_US + 1) * DAY_US
        };
        Self::with_bucket(first_us, last_us, bucket_us, max_ticks)
    }

    pub(super) fn with_bucket(first_us: i64, last_us: i64, bucket_us: i64, max_ticks: i64) -> Self {
        let start_us = first_us.div_euclid(bucket_us) * bucket_us;
        let buckets = (last_us.div_euclid(bucket_us) * bucket_us - start_us) / bucket_us + 1;
        let span = buckets * bucket_us;
        let steps = [
            HOUR_US,
            2 * HOUR_US,
            3 * HOUR_US,
            6 * HOUR_US,
            12 * HOUR_US,
            DAY_US,
            2 * DAY_US,
            7 * DAY_US,
            14 * DAY_US,
            28 * DAY_US,
            91 * DAY_US,
            182 * DAY_US,
            364 * DAY_US,
        ];
        let tick_us = steps
            .iter()
            .copied()
            .find(|&s| s >= bucket_us && span / s <= max_ticks)
            .unwrap_or_else(|| (span / max_ticks.max(1) / DAY_US + 1) * DAY_US);
        let mut ticks = Vec::new();
        let mut t = start_us.div_euclid(tick_us) * tick_us;
        if t < start_us {
            t += tick_us;
        }
        let end = start_us + span;
        while t <= end {
            let idx = (t - start_us) / bucket_us;
            if ticks.last() != Some(&idx) {
                ticks.push(idx);
            }
            t += tick_us;
        }
        TimeAxis {
            start_us,
            bucket_us,
            buckets,
            ticks,
            tick_has_time: tick_us < DAY_US,
        }
    }

    pub(super) fn index(&self, t_us: i64) -> i64 {
        (t_us - self.start_us).div_euclid(self.bucket_us)
    }

    pub(super) fn tick_label(&self, idx: i64) -> String {
        let t = format_time(self.start_us + idx * self.bucket_us);
        if self.tick_has_time {
            // "2026-03-02T06:00:00Z" -> "03-02 06:00"
            match (t.get(5..10), t.get(11..16)) {
                (Some(day), Some(time)) => format!("{day} {time}"),
                _ => t,
            }
        } else {
            t.get(..10).map(str::to_string).unwrap_or(t)
        }
    }

    pub(super) fn bucket_name(&self) -> String {
        match self.bucket_us {
            HOUR_US => "per hour".into(),
            DAY_US => "per day".into(),
            b => format!("per {} days", b / DAY_US),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_axis_picks_hours_for_a_week_and_labels_midnights() {
        let start = 1_772_416_210_000_000; // 2026-03-02T01:50:10Z
        let axis = TimeAxis::new(start, start + 7 * DAY_US - HOUR_US, 400, 9);
        assert_eq!(axis.bucket_us, HOUR_US);
        assert_eq!(axis.buckets, 7 * 24);
        assert!(!axis.tick_has_time);
        assert_eq!(axis.tick_label(axis.ticks[0]), "2026-03-03");
        let long = TimeAxis::new(0, 3000 * DAY_US, 400, 9);
        assert!(long.buckets <= 400, "{}", long.buckets);
    }
}
