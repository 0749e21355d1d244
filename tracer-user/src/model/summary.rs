//! Summary mode's data: per-syscall aggregates read from the kernel's per-CPU maps, interval
//! deltas and totals.
use std::collections::BTreeMap;

use tracer_common::summary::SummaryValue;

/// One syscall's aggregate, summed over CPUs (and targets): the kernel's counters plus the
/// failures by errno (a separate map in the kernel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Agg {
    /// `min_ns` is `u64::MAX` when no call was timed.
    pub counts: SummaryValue,
    pub errnos: BTreeMap<u32, u64>,
}

impl Agg {
    /// Adds one per-CPU (or per-target) part. A part with no timed call says nothing of the
    /// shortest: a per-CPU hash entry inserted by one CPU is zeroed on the others (the kernel
    /// copies the value to the inserting CPU's slot only), so their `min_ns` reads 0.
    pub fn add(&mut self, v: &SummaryValue) {
        let c = &mut self.counts;
        c.calls += v.calls;
        c.errors += v.errors;
        c.total_ns += v.total_ns;
        if v.timed > 0 {
            c.min_ns = c.min_ns.min(v.min_ns);
            c.max_ns = c.max_ns.max(v.max_ns);
        }
        c.timed += v.timed;
        for (h, x) in c.hist.iter_mut().zip(v.hist) {
            *h += x;
        }
    }

    /// What happened since `prev` (counts, times, histogram and errnos are differences;
    /// min and max stay those since the start: they cannot be differenced).
    pub fn since(&self, prev: &Agg) -> Agg {
        let mut d = self.clone();
        let (c, p) = (&mut d.counts, &prev.counts);
        c.calls -= p.calls.min(c.calls);
        c.errors -= p.errors.min(c.errors);
        c.total_ns -= p.total_ns.min(c.total_ns);
        c.timed -= p.timed.min(c.timed);
        for (h, x) in c.hist.iter_mut().zip(p.hist) {
            *h -= x.min(*h);
        }
        for (e, n) in &mut d.errnos {
            *n -= prev.errnos.get(e).copied().unwrap_or(0).min(*n);
        }
        d.errnos.retain(|_, n| *n > 0);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_slot_the_kernel_zeroed_does_not_make_the_shortest_zero() {
        let mut timed = SummaryValue::EMPTY;
        timed.calls = 2;
        timed.timed = 2;
        timed.total_ns = 9_000;
        timed.min_ns = 4_000;
        timed.max_ns = 5_000;
        let zeroed = SummaryValue {
            min_ns: 0,
            ..SummaryValue::EMPTY
        };
        let mut a = Agg::default();
        a.add(&zeroed);
        a.add(&timed);
        a.add(&zeroed);
        assert_eq!(
            (a.counts.min_ns, a.counts.max_ns, a.counts.calls),
            (4_000, 5_000, 2)
        );
    }
}

/// Aggregates by syscall number.
pub type Snapshot = BTreeMap<u32, Agg>;

/// `current - previous` for every syscall with calls in between.
pub fn delta(current: &Snapshot, previous: &Snapshot) -> Snapshot {
    let empty = Agg::default();
    current
        .iter()
        .map(|(nr, a)| (*nr, a.since(previous.get(nr).unwrap_or(&empty))))
        .filter(|(_, a)| a.counts.calls > 0)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Total time, largest first (strace -c's default).
    #[default]
    Time,
    /// Calls, most first.
    Calls,
    /// Errors, most first.
    Errors,
    /// Syscall name.
    Name,
    /// Shortest call, longest first.
    MinTime,
    /// Longest call, longest first.
    MaxTime,
    /// Average time per call, largest first.
    AvgTime,
    /// Syscall number order (strace's `nothing`).
    Nothing,
}

/// A column of the summary table, strace 6.1's `-U` (its `count.c` `CSC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `% time`.
    TimePercent,
    /// `seconds`: total time.
    TotalTime,
    /// `shortest`.
    MinTime,
    /// `longest`.
    MaxTime,
    /// `usecs/call`.
    AvgTime,
    Calls,
    Errors,
    /// `syscall`: always shown, last unless placed.
    Name,
}

impl Column {
    /// strace -c's columns.
    pub const DEFAULT: [Column; 6] = [
        Column::TimePercent,
        Column::TotalTime,
        Column::AvgTime,
        Column::Calls,
        Column::Errors,
        Column::Name,
    ];
}

/// One table: an interval's deltas, or the totals of the run.
#[derive(Debug, Clone)]
pub struct Report {
    pub start_ktime: u64,
    pub end_ktime: u64,
    /// The totals of the whole run (the last report).
    pub total: bool,
    pub rows: Snapshot,
}

/// What one followed target (a container's cgroup) called since the last reading of the
/// kernel's summary maps: the daemon's per-container syscall metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCount {
    /// The target's cgroup id (the kernel's summary key).
    pub target: u64,
    /// Its container, filled by the enrich stage.
    pub container: Option<std::sync::Arc<super::Container>>,
    pub nr: u32,
    /// Calls finished (or entered, for calls that never return) since the last reading.
    pub calls: u64,
    /// Of which failed, by errno.
    pub errnos: Vec<(u32, u64)>,
}

impl TargetCount {
    /// Not calls: the target's records the ring buffer had no room for (`calls` of them).
    pub fn is_lost(&self) -> bool {
        self.nr == tracer_common::summary::NR_LOST
    }
}
