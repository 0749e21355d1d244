//! What the kernel could not deliver, and what it counted over a run.
use std::sync::atomic::AtomicU64;

/// Events the kernel could not deliver, noticed by the stats poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// Lost since the previous report.
    pub count: u64,
    /// Lost since tracing started.
    pub total: u64,
    /// CLOCK_MONOTONIC when noticed.
    pub ktime_ns: u64,
}

/// What the kernel side counted over the whole run.
#[derive(Debug, Default, Clone, Copy)]
pub struct KernelStats {
    pub lost: u64,
    pub pending_full: u64,
    pub regs_unreadable: u64,
    pub summary_full: u64,
    /// `-p`: children not followed because the task set was full.
    pub tasks_full: u64,
}

/// What the reader sees of the ring buffer, for metrics: shared with whoever reports them.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Bytes waiting in the ring when the reader last woke (what it then drained).
    pub fill_bytes: AtomicU64,
    /// The largest such fill since start.
    pub peak_fill_bytes: AtomicU64,
    /// Records lost since start (ring buffer full).
    pub lost: AtomicU64,
}
