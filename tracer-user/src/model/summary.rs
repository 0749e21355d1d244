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
    /// Adds one per-CPU (or per-target) part.
    pub fn add(&mut self, v: &SummaryValue) {
        let c = &mut self.counts;
        c.calls += v.calls;
        c.errors += v.errors;
        c.total_ns += v.total_ns;
        c.min_ns = c.min_ns.min(v.min_ns);
        c.max_ns = c.max_ns.max(v.max_ns);
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
