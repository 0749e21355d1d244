//! Per-syscall aggregates kept in the kernel (summary mode): no record crosses the ring buffer.

/// Log2 latency buckets: bucket `b` holds durations in [2^(b-1), 2^b) ns, bucket 0 holds 0.
pub const HIST_BUCKETS: usize = 32;

/// Key of `SUMMARY`: the target (its cgroup v2 id, 0 in PID namespace mode) and the syscall.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SummaryKey {
    pub target: u64,
    pub nr: u32,
    pub _pad: u32,
}
const _: () = assert!(core::mem::size_of::<SummaryKey>() == 16);

/// The `nr` of a `COUNTS` key that counts a target's records the ring buffer had no room
/// for (no syscall has this number).
pub const NR_LOST: u32 = u32::MAX;

/// Per-CPU aggregate of one syscall of one target.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryValue {
    pub calls: u64,
    pub errors: u64,
    /// Sum of durations of the calls whose enter and exit were both seen.
    pub total_ns: u64,
    /// u64::MAX until a duration is recorded.
    pub min_ns: u64,
    pub max_ns: u64,
    /// Calls with a duration (the histogram's total).
    pub timed: u64,
    pub hist: [u64; HIST_BUCKETS],
}
const _: () = assert!(core::mem::size_of::<SummaryValue>() == 48 + 8 * HIST_BUCKETS);

impl SummaryValue {
    /// Nothing counted yet.
    pub const EMPTY: SummaryValue = SummaryValue {
        calls: 0,
        errors: 0,
        total_ns: 0,
        min_ns: u64::MAX,
        max_ns: 0,
        timed: 0,
        hist: [0; HIST_BUCKETS],
    };
}

impl Default for SummaryValue {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Key of `ERRNOS`: failures per errno.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ErrnoKey {
    pub target: u64,
    pub nr: u32,
    pub errno: u32,
}
const _: () = assert!(core::mem::size_of::<ErrnoKey>() == 16);

/// The histogram bucket of a duration: the number of significant bits, capped.
pub const fn bucket(ns: u64) -> usize {
    let bits = (64 - ns.leading_zeros()) as usize;
    if bits >= HIST_BUCKETS {
        HIST_BUCKETS - 1
    } else {
        bits
    }
}

/// Capacity of the summary maps (targets × syscalls seen).
pub const MAX_SUMMARY_ENTRIES: u32 = 16_384;
